import type { Command } from 'commander';
import { EngineClient, type ClientOptions } from './engine-client.js';
import type { RunView } from './run-view.js';
import { exitCodeOf, waitForRun } from './wait-for-run.js';

/** The client and global options of the command being run. */
export interface ClientCall<O> {
  client: EngineClient;
  options: O & ClientOptions;
}

/** Wraps an action of a command that talks to the engine: connects with the global options first. */
export function withClient<O, A extends unknown[]>(action: (call: ClientCall<O>, ...args: A) => Promise<void>) {
  return async function (this: Command, ...args: unknown[]): Promise<void> {
    const options = this.optsWithGlobals() as O & ClientOptions;
    const client = await EngineClient.connect(options);
    await action({ client, options }, ...(args.slice(0, -2) as A));
  };
}

/** Adds `--wait` to a lifecycle command. */
export function waitOption(command: Command): Command {
  return command.option('--wait', 'follow the run until it ends, showing its steps; exit non-zero if it fails');
}

/**
 * Reports a started run: with --wait, follows it and sets the exit code; otherwise prints its id
 * (or the JSON answer with --json).
 */
export async function reportStarted(
  call: ClientCall<{ wait?: boolean }>,
  answer: { run: { id: string; kind: string } } & Record<string, unknown>,
): Promise<void> {
  const { client, options } = call;
  if (!options.wait) {
    process.stdout.write(
      options.json
        ? `${JSON.stringify(answer, null, 2)}\n`
        : `started ${answer.run.kind} run ${answer.run.id}  (follow it: dvx run watch ${answer.run.id})\n`,
    );
    return;
  }
  if (!options.json) process.stderr.write(`${answer.run.kind} run ${answer.run.id}\n`);
  const run: RunView = await waitForRun(client, answer.run.id, { stream: options.json ? null : process.stderr });
  if (options.json) process.stdout.write(`${JSON.stringify({ ...answer, run }, null, 2)}\n`);
  process.exitCode = exitCodeOf(run);
}
