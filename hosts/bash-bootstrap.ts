import { HostError } from '../errors/index.js';
import { PID_REPORT } from './remote-pid.js';

/** What runs the script once the bootstrap has set the variables. */
export type ScriptInterpreter = 'bash' | 'bash-login' | 'expect';

/** Printed on stderr by the bootstrap when the interpreter is missing on the host. */
export const MISSING_INTERPRETER_MARKER = 'dvx-bootstrap: interpreter not found:';

/** Exit status of the bootstrap when it fails before the script starts (bad protocol, missing interpreter). */
export const BOOTSTRAP_FAILED_EXIT = 125;

const INTERPRETERS: Record<ScriptInterpreter, { probe: string; run: string }> = {
  bash: { probe: '/bin/bash', run: 'exec /bin/bash --noprofile --norc /dev/fd/3' },
  'bash-login': { probe: '/bin/bash', run: 'exec /bin/bash -l /dev/fd/3' },
  expect: { probe: 'expect', run: 'exec expect -f /dev/fd/3' },
};

/*
 * Every command reaches the host as `exec /bin/bash --noprofile --norc -c '<PID_REPORT>; <command>'`: the login shell,
 * whatever its family (sh, bash, zsh, csh, tcsh, fish), sees the word exec, a path, two options and one single-quoted
 * string, which all of them read the same way as long as the string holds no single quote, backslash (fish), "!"
 * (csh history) or line break (csh). The bash it execs keeps the session leader's pid, reports it (remote-pid.ts) and
 * runs the command.
 */
const UNSAFE_IN_COMMAND_LINE = /['\\!\r\n\0]/;

/** Options of {@link hostCommandLine}. */
export interface HostCommandLineOptions {
  /** Start with the pid report that lets the connection kill the command. @defaultValue true */
  reportPid?: boolean;
}

/**
 * The command line sent to the host for `command` (bash text of one line). Throws HOST_BAD_INPUT when `command` holds
 * a character that some login shell would read inside single quotes (`'`, backslash, `!`, a line break, NUL).
 */
export function hostCommandLine(command: string, host: string, options: HostCommandLineOptions = {}): string {
  if (UNSAFE_IN_COMMAND_LINE.test(command)) {
    throw new HostError({
      code: 'HOST_BAD_INPUT',
      host,
      message: `A command for ${host} holds a single quote, backslash, "!" or line break, which a csh or fish login shell would misread.`,
      action: 'Pass data as script variables (runBash) instead of command text.',
    });
  }
  return `exec /bin/bash --noprofile --norc -c '${options.reportPid === false ? '' : `${PID_REPORT}; `}${command}'`;
}

/*
 * The bootstrap of runBash and runExpect is fixed text: no user data is ever pasted into it. It reads NUL-terminated
 * NAME=VALUE entries from stdin up to an empty entry, exports each, goes to $HOME, and hands the rest of stdin (the
 * script) to the interpreter as a file on fd 3, with stdin itself replaced by /dev/null. `read -d ""` reads a pipe
 * byte by byte, so the script starts exactly after the empty entry. It is one line of bash without the characters
 * hostCommandLine refuses.
 */
function bootstrap(interpreter: ScriptInterpreter): string {
  const { probe, run } = INTERPRETERS[interpreter];
  return [
    `command -v ${probe} >/dev/null 2>&1 || { echo "${MISSING_INTERPRETER_MARKER} ${probe}" >&2; exit ${BOOTSTRAP_FAILED_EXIT}; }`,
    `while :; do IFS= read -r -d "" __dvx_kv || exit ${BOOTSTRAP_FAILED_EXIT}; [ -z "$__dvx_kv" ] && break; export -- "$__dvx_kv" || exit ${BOOTSTRAP_FAILED_EXIT}; done`,
    'unset __dvx_kv',
    'cd -- "$HOME" 2>/dev/null || cd /',
    `${run} 3<&0 </dev/null`,
  ].join('; ');
}

/** The bash command of the bootstrap for `interpreter`, for `HostConnection.exec`. Constant per interpreter. */
export function bootstrapCommand(interpreter: ScriptInterpreter): string {
  return bootstrap(interpreter);
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Half of a surrogate pair on its own: UTF-8 cannot carry it, so it would not arrive byte for byte. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Variables bash refuses to set (read-only), and the bootstrap's own. */
const RESERVED = new Set(['BASHOPTS', 'BASH_VERSINFO', 'EUID', 'PPID', 'SHELLOPTS', 'UID']);

function badInput(host: string, message: string, action: string, pointer: string): HostError {
  return new HostError({ code: 'HOST_BAD_INPUT', host, message, action, details: { pointer } });
}

/**
 * The bytes sent to the bootstrap's stdin: `NAME=VALUE\0` per variable, an empty entry, then the script.
 * Throws HOST_BAD_INPUT for an invalid or reserved name, a NUL byte, or text that is not well-formed Unicode.
 */
export function bootstrapInput(script: string, variables: Record<string, string>, host: string): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(variables)) {
    if (!NAME.test(name)) {
      throw badInput(
        host,
        `Variable name "${name}" is not a valid environment variable name.`,
        'Use letters, digits and underscores, not starting with a digit.',
        `/variables/${name}`,
      );
    }
    if (RESERVED.has(name) || name.startsWith('__dvx_')) {
      throw badInput(host, `Variable name "${name}" is reserved.`, 'Rename the variable.', `/variables/${name}`);
    }
    if (typeof value !== 'string') {
      throw badInput(
        host,
        `Variable "${name}" is not a string.`,
        'Pass every variable value as a string.',
        `/variables/${name}`,
      );
    }
    if (value.includes('\0') || LONE_SURROGATE.test(value)) {
      throw badInput(
        host,
        `Variable "${name}" contains a NUL byte or malformed Unicode, which an environment variable cannot hold.`,
        'Encode binary data (base64, hex) before passing it.',
        `/variables/${name}`,
      );
    }
    parts.push(Buffer.from(`${name}=${value}\0`, 'utf8'));
  }
  if (script.includes('\0') || LONE_SURROGATE.test(script)) {
    throw badInput(
      host,
      'The script contains a NUL byte or malformed Unicode.',
      'Remove NUL bytes from the script; pass binary data in variables, encoded.',
      '/script',
    );
  }
  parts.push(Buffer.from('\0'), Buffer.from(script, 'utf8'));
  return Buffer.concat(parts);
}
