import type { EngineClient } from './engine-client.js';
import { progressLines, type RunView } from './run-view.js';

/** Options of {@link waitForRun}. */
export interface WaitOptions {
  /** How often the run is read. @defaultValue 300 */
  intervalMs?: number;
  /** Where progress lines go; nothing is printed when null. @defaultValue standard error */
  stream?: NodeJS.WritableStream | null;
}

/** Follows a run until it ends, printing each step as it starts, retries and ends. Resolves with the final run. */
export async function waitForRun(client: EngineClient, runId: string, options: WaitOptions = {}): Promise<RunView> {
  const stream = options.stream === undefined ? process.stderr : options.stream;
  let previous: RunView | null = null;
  for (;;) {
    const { run } = await client.get<{ run: RunView }>(`/runs/${runId}`);
    if (stream) for (const line of progressLines(previous, run)) stream.write(`${line}\n`);
    if (run.status !== 'running') return run;
    previous = run;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 300));
  }
}

/** Exit code for a finished run: 0 when it succeeded. */
export function exitCodeOf(run: RunView): number {
  return run.status === 'succeeded' ? 0 : 1;
}
