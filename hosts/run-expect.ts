import type { CommandHost, ExecResult } from './host-connection.js';
import { runScript, type RunScriptOptions } from './run-script.js';

/** Options of {@link runExpect}. */
export type RunExpectOptions = RunScriptOptions;

/**
 * Runs a Tcl/Expect script on the host, the same way as `runBash`: the script over stdin, `variables` as environment
 * variables (`$env(NAME)` in Tcl). Fails with HOST_CAPABILITY_MISSING when `expect` is not installed on the host.
 */
export function runExpect(
  connection: CommandHost,
  script: string,
  options: RunExpectOptions = {},
): Promise<ExecResult> {
  return runScript(connection, 'expect', script, options);
}
