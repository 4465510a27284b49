import type { CommandHost, ExecResult } from './host-connection.js';
import { runScript, type RunScriptOptions } from './run-script.js';

/** Options of {@link runBash}. */
export interface RunBashOptions extends RunScriptOptions {
  /** Run the script in a login shell, which sources /etc/profile and ~/.bash_profile (or ~/.profile) first. @defaultValue false */
  loginShell?: boolean;
}

/**
 * Runs a bash script on the host as the connection's user, from that user's home directory, and returns its exit
 * code and output (UTF-8). The script travels over stdin and `variables` become environment variables, so neither is
 * ever parsed as shell text: a value full of quotes, `$(...)` or newlines arrives byte for byte. The script's own
 * stdin is /dev/null.
 *
 * Each value must fit in one environment variable (128 KiB on Linux). With `loginShell`, the profile runs after the
 * variables are set and may override those it sets itself (such as PATH).
 */
export function runBash(connection: CommandHost, script: string, options: RunBashOptions = {}): Promise<ExecResult> {
  const { loginShell, ...rest } = options;
  return runScript(connection, loginShell ? 'bash-login' : 'bash', script, rest);
}
