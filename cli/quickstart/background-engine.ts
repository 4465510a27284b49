import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DvxError } from '../../errors/index.js';
import { readEngineInfo, type EngineInfo } from '../engine-client.js';
import { packageRoot } from '../package-info.js';

async function healthy(dataDir: string): Promise<EngineInfo | null> {
  try {
    const info = await readEngineInfo(dataDir);
    if (!info) return null;
    process.kill(info.pid, 0);
    const response = await fetch(`${info.url}/health`);
    return response.ok ? info : null;
  } catch {
    return null;
  }
}

/** Options of {@link ensureBackgroundEngine}. */
export interface BackgroundEngineOptions {
  /** `--listen` of the engine it starts (HOST:PORT). @defaultValue the engine's own: `DVX_LISTEN` or 127.0.0.1:7433 */
  listen?: string;
  /** How long to wait for a started engine to answer /health. @defaultValue 120000 */
  timeoutMs?: number;
}

/** The data dir's engine: the running one, or one started in the background (logging to `<dataDir>/engine.log`). */
export async function ensureBackgroundEngine(
  dataDir: string,
  options: BackgroundEngineOptions = {},
): Promise<{ info: EngineInfo; started: boolean; logFile: string }> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const logFile = join(dataDir, 'engine.log');
  const running = await healthy(dataDir);
  if (running) return { info: running, started: false, logFile };
  await mkdir(dataDir, { recursive: true });
  const out = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [
      join(packageRoot(), 'bin', 'dvx.js'),
      '--data-dir',
      dataDir,
      'engine',
      'start',
      ...(options.listen !== undefined ? ['--listen', options.listen] : []),
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
  child.unref();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const info = await healthy(dataDir);
    if (info) return { info, started: true, logFile };
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new DvxError({
    code: 'ENGINE_UNREACHABLE',
    message: `The engine did not come up; see ${logFile}.`,
    action: `Read ${logFile}, fix what it says, and run again.`,
  });
}

/** Stops the data dir's engine with SIGTERM (a graceful stop) and waits for it to exit; returns its pid, or null if none ran. */
export async function stopBackgroundEngine(dataDir: string, timeoutMs = 60_000): Promise<number | null> {
  const pid = (await readEngineInfo(dataDir))?.pid;
  if (!pid) return null;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return null;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return pid;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new DvxError({
    code: 'ENGINE_UNREACHABLE',
    message: `The engine (pid ${pid}) did not stop within ${timeoutMs / 1000} s.`,
    action: `Look at ${join(dataDir, 'engine.log')}; kill -9 ${pid} stops it at once (runs carry on at the next start).`,
  });
}
