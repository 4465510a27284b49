import type { Readable, Writable } from 'node:stream';

/** Where a host is and who dvx logs in as. */
export interface HostAddress {
  /** Name used in logs and errors (an environment name). */
  name: string;
  /** DNS name or IP address. */
  host: string;
  /** SSH port. @defaultValue 22 */
  port: number;
  /** Login user. */
  user: string;
}

/** How dvx authenticates to a host. Exactly one of `privateKey` or `password`. */
export interface HostCredentials {
  /** PEM/OpenSSH private key text. */
  privateKey?: string;
  /** Passphrase of `privateKey`. */
  passphrase?: string;
  /** Password, for password authentication. */
  password?: string;
}

/** Options of one command execution. */
export interface ExecOptions {
  /** Bytes written to the command's standard input, then closed. */
  stdin?: string | Buffer;
  /** Kill the command and fail with HOST_TIMEOUT after this long. @defaultValue no limit */
  timeoutMs?: number;
  /** Aborting kills the command. */
  signal?: AbortSignal;
}

/** What a finished command produced. */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A running command with its streams open, for protocols such as rsync's. */
export interface HostProcess {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Resolves with the exit code once the command ends. */
  exit: Promise<number>;
  kill(): void;
}

/**
 * A connection to one host. The seam every host implementation (ssh2, and any future transport) fulfils;
 * `test/hosts/host-connection.conformance.ts` is the suite each must pass.
 */
export interface HostConnection {
  readonly address: HostAddress;
  /** Runs `command` through the login user's shell and collects its output. Never pass user data in `command`. */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Starts `command` and hands back its streams. */
  spawn(command: string, options?: { signal?: AbortSignal }): Promise<HostProcess>;
  /** Closes the underlying connection(s). */
  close(): Promise<void>;
}
