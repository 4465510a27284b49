// Calls to the engine's REST API with the tab's token. Every failure becomes an ApiError with what to do, as the
// API's own errors are ({ error: { code, message, action } }); a network failure is ENGINE_UNREACHABLE.
import { storedToken } from './session.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly action?: string,
  ) {
    super(message);
  }
}

/** Listeners told when the API refuses the tab's token (401): the app signs out and says why. */
const unauthorizedListeners = new Set<(error: ApiError) => void>();

export function onUnauthorized(listener: (error: ApiError) => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

interface ErrorBody {
  error?: { code?: string; message?: string; action?: string };
}

export async function call<T>(
  method: string,
  path: string,
  body?: unknown,
  token = storedToken(),
  /** Error statuses whose body is the answer all the same (/health's 503). */
  accept: number[] = [],
): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new ApiError(
      0,
      'ENGINE_UNREACHABLE',
      `The dvx engine at ${location.origin} does not answer.`,
      'Check that it runs (dvx engine start, or dvx quickstart), then try again.',
    );
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: a proxy's page, for instance; said below.
  }
  if (!response.ok && !accept.includes(response.status)) {
    const error = (parsed as ErrorBody | undefined)?.error;
    const failure = new ApiError(
      response.status,
      error?.code ?? `HTTP_${response.status}`,
      error?.message ?? `The engine answered ${response.status} ${response.statusText}.`,
      error?.action ?? 'Try again; if it persists, look at the engine log.',
    );
    if (response.status === 401) for (const listener of unauthorizedListeners) listener(failure);
    throw failure;
  }
  return parsed as T;
}

export const get = <T>(path: string) => call<T>('GET', path);
export const post = <T>(path: string, body: unknown = {}) => call<T>('POST', path, body);
export const del = <T>(path: string) => call<T>('DELETE', path);

export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(0, 'CONSOLE_ERROR', error instanceof Error ? error.message : String(error), 'Reload the page.');
}
