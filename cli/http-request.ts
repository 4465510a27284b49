import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';

/** What came back from an HTTP request: its status and its body as text. */
export interface HttpAnswer {
  status: number;
  text: string;
}

/**
 * One HTTP(S) request with node's own client. The CLI does not use `fetch`: loading undici, behind `fetch`, costs
 * more than the rest of a read command's start (see bench/cli).
 */
export async function sendHttpRequest(
  url: string,
  options: { method: string; headers: Record<string, string>; body?: string },
): Promise<HttpAnswer> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? (await import('node:https')).request : httpRequest;
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  const requestOptions: RequestOptions = {
    method: options.method,
    headers: { ...options.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
  };
  return new Promise((resolve, reject) => {
    const request = send(target, requestOptions, (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    request.on('error', reject);
    request.end(body);
  });
}
