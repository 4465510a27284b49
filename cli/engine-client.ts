import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DvxError, isDvxError } from '../errors/index.js';
import type { FreeSpaceFloor } from '../storage/index.js';
import { resolveDataDir } from './data-dir.js';
import { sendHttpRequest, type HttpAnswer } from './http-request.js';

/** What `dvx engine start` writes to `<dataDir>/engine.json` so that local commands find it. */
export interface EngineInfo {
  url: string;
  pid: number;
  startedAt: string;
  /** The engine's free-space floor (what `dvx storage status` measures against while the engine runs). */
  storageFloor?: FreeSpaceFloor;
}

export const ENGINE_INFO_FILE = 'engine.json';
export const ADMIN_TOKEN_FILE = 'admin.token';

/** How long a read is tried again while the engine's Redis is unavailable. */
const READ_RETRY_MS = 3_000;

/** Global options every client command accepts. */
export interface ClientOptions {
  dataDir?: string;
  engine?: string;
  token?: string;
  json?: boolean;
}

/** A thin client of the engine's REST API; errors come back as the engine's typed errors. */
/** What the data dir's engine wrote to engine.json, or null when there is none (or it is unreadable). */
export async function readEngineInfo(dataDir: string): Promise<EngineInfo | null> {
  try {
    return JSON.parse(await readFile(join(dataDir, ENGINE_INFO_FILE), 'utf8')) as EngineInfo;
  } catch {
    return null;
  }
}

export class EngineClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** From `--engine/--token`, `DVX_ENGINE_URL/DVX_TOKEN`, or the local engine's files in the data dir. */
  static async connect(options: ClientOptions, env: NodeJS.ProcessEnv = process.env): Promise<EngineClient> {
    const dataDir = resolveDataDir(options.dataDir, env);
    let url = options.engine ?? env.DVX_ENGINE_URL;
    if (!url) {
      url = (await readEngineInfo(dataDir))?.url;
      if (!url) {
        throw new DvxError({
          code: 'ENGINE_UNREACHABLE',
          message: `No engine is known in ${dataDir}.`,
          action: 'Start one with `dvx engine start` (same --data-dir), or give --engine URL (or DVX_ENGINE_URL).',
        });
      }
    }
    let token = options.token ?? env.DVX_TOKEN;
    if (!token) {
      try {
        token = (await readFile(join(dataDir, ADMIN_TOKEN_FILE), 'utf8')).trim();
      } catch {
        throw new DvxError({
          code: 'UNAUTHORIZED',
          message: `No API token given and none found in ${join(dataDir, ADMIN_TOKEN_FILE)}.`,
          action: "Give --token (or DVX_TOKEN), or run as a user who can read the engine's data directory.",
        });
      }
    }
    return new EngineClient(url.replace(/\/$/, ''), token);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let answer: HttpAnswer;
    try {
      answer = await sendHttpRequest(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new DvxError({
        code: 'ENGINE_UNREACHABLE',
        message: `The engine at ${this.baseUrl} did not answer: ${error instanceof Error ? error.message : String(error)}.`,
        action: 'Check that `dvx engine start` is running, or give the right --engine URL.',
      });
    }
    const parsed = answer.text ? (JSON.parse(answer.text) as unknown) : {};
    if (answer.status < 200 || answer.status >= 300)
      throw DvxError.fromJSON(
        (parsed as { error?: unknown }).error ?? { code: 'INTERNAL', message: `HTTP ${answer.status}` },
      );
    return parsed as T;
  }

  /**
   * A read, tried again for a few seconds while the engine answers REDIS_UNAVAILABLE: an engine restarting its
   * embedded Redis is back within a second or two, and a `--wait` should outlast that. Writes are never retried.
   */
  async get<T>(path: string): Promise<T> {
    const deadline = Date.now() + READ_RETRY_MS;
    for (;;) {
      try {
        return await this.request<T>('GET', path);
      } catch (error) {
        if (!(isDvxError(error) && error.code === 'REDIS_UNAVAILABLE') || Date.now() >= deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }
  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }
  delete<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('DELETE', path, body);
  }
}
