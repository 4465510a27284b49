import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { must } from './must.js';

/** A dvx engine running in a child process, so that a test can kill it. */
export interface EngineProcess {
  readonly pid: number;
  /** The reconciliation report it printed when ready. */
  readonly startup: Record<string, number>;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful stop), and wait until it is gone. */
  stop(): Promise<number | null>;
  output(): string;
}

const FIXTURE = fileURLToPath(new URL('../fixtures/test-engine.ts', import.meta.url));

/** Starts test/fixtures/test-engine.ts (or another entry) with tsx and waits for its "ready" line. */
export async function startEngineProcess(env: Record<string, string>, entry = FIXTURE): Promise<EngineProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const startup = await new Promise<Record<string, number>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`engine did not start in 60 s:\n${output}`)), 60_000);
    must(child.stdout, 'child.stdout').on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /^ready (.*)$/m.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(JSON.parse(must(match[1], 'match[1]')) as Record<string, number>);
      }
    });
    must(child.stderr, 'child.stderr').on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`engine exited with ${code} before it was ready:\n${output}`));
    });
  });
  return {
    pid: must(child.pid, 'child.pid'),
    startup,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    output: () => output,
  };
}
