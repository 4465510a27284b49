import { Option } from 'commander';

/** What {@link envOption} needs to know about an option whose default an environment variable can set. */
export interface EnvOptionSpec {
  /** Commander flags, e.g. `--listen <host:port>`. */
  flags: string;
  description: string;
  /** The environment variable that sets the default, e.g. `DVX_LISTEN`. */
  variable: string;
  /** The default when the variable is unset or empty; none when the option has no value of its own then. */
  builtIn?: string;
  /** How help names the built-in default when there is no value (e.g. "the embedded Redis"). */
  builtInText?: string;
  /**
   * How help shows the variable's value: `value` as it is, `set` only that it is set (for a token), or a function
   * (to hide a password in a URL).
   * @defaultValue 'value'
   */
  show?: 'value' | 'set' | ((value: string) => string);
}

/**
 * An option whose default is the environment variable's value when it is set, else the built-in one, and whose help
 * shows the default in effect and where it comes from: `(default: "0.0.0.0:7433", from $DVX_LISTEN)` or
 * `(default: "127.0.0.1:7433"; $DVX_LISTEN sets another)`.
 */
export function envOption(spec: EnvOptionSpec, env: NodeJS.ProcessEnv = process.env): Option {
  const value = env[spec.variable] || undefined;
  if (value !== undefined) {
    const show = spec.show ?? 'value';
    const shown = show === 'set' ? 'set' : show === 'value' ? JSON.stringify(value) : show(value);
    return new Option(spec.flags, spec.description).default(
      value,
      show === 'set' ? `from $${spec.variable}, which is set` : `${shown}, from $${spec.variable}`,
    );
  }
  if (spec.builtIn !== undefined)
    return new Option(spec.flags, spec.description).default(
      spec.builtIn,
      `${JSON.stringify(spec.builtIn)}; $${spec.variable} sets another`,
    );
  // Commander prints no default for an undefined value: the text goes into the description.
  return new Option(
    spec.flags,
    `${spec.description} (default: ${spec.builtInText ?? 'none'}; $${spec.variable} sets another)`,
  );
}
