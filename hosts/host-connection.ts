import type { Readable, Writable } from 'node:stream';
import type { HostKey } from './host-key.js';

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

/** Everything needed to reach one host: what an environment record holds. */
export interface HostSpec {
  /** Stable identity (an environment id); the pool keeps one connection per id. */
  id: string;
  address: HostAddress;
  credentials: HostCredentials;
  /**
   * The host key pinned when the environment was added: OpenSSH public key text (`ssh-ed25519 AAAA...`) or a
   * `SHA256:` fingerprint. A host presenting another key is refused with HOST_KEY_MISMATCH. Without a pin, the first
   * key seen is trusted for the life of the connection object (and a later change is refused).
   */
  pinnedHostKey?: string;
}

/**
 * Signs SSH authentication challenges with an environment's private key without handing the key out. Used to
 * forward an agent to another host (host-to-host copies).
 */
export interface KeySigner {
  /** SSH key type, e.g. `ssh-ed25519`. */
  readonly type: string;
  /** The public key in SSH wire format. */
  readonly publicKey: Buffer;
  /** Signs `data`; `hash` selects the RSA SHA-2 variant. Returns the signature blob in SSH format. */
  sign(data: Buffer, hash?: 'sha256' | 'sha512'): Buffer;
}

/** Options of one command execution. */
export interface ExecOptions {
  /** Bytes written to the command's standard input, then closed. @defaultValue nothing (stdin is closed at once) */
  stdin?: string | Buffer;
  /** Kill the command and fail with HOST_TIMEOUT after this long, queueing time included. @defaultValue no limit */
  timeoutMs?: number;
  /** Aborting kills the command and fails with RUN_CANCELLED (or the signal's DvxError reason). */
  signal?: AbortSignal;
  /**
   * Forward an SSH agent holding this key to the command (`SSH_AUTH_SOCK` is set on the host). The command then runs
   * on a dedicated connection that is closed when it ends. @defaultValue no agent
   */
  forwardAgent?: KeySigner;
}

/** What a finished command produced. Output is decoded as UTF-8. */
export interface ExecResult {
  /** The exit status; 128 + the signal number when a signal ended the command. */
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link HostConnection.spawn}. */
export interface SpawnOptions {
  /** Aborting kills the command. */
  signal?: AbortSignal;
  /** See {@link ExecOptions.forwardAgent}. */
  forwardAgent?: KeySigner;
}

/** A running command with its streams open, for protocols such as rsync's. */
export interface HostProcess {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /**
   * Resolves with the exit code once the command ends (128 + signal number if a signal ended it); rejects with a
   * HostError (HOST_CONNECTION_LOST) if the connection dropped first.
   */
  exit: Promise<number>;
  /** Kills the command (and its process group) on the host and closes its channel. */
  kill(): void;
}

/** The part of a {@link HostConnection} that running a script needs (`runBash`, `runExpect`). */
export interface CommandHost {
  readonly address: { readonly name: string };
  /** See {@link HostConnection.exec}. */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
}

/**
 * A connection to one host. The seam every host implementation (ssh2, and any future transport) fulfils;
 * `test/hosts/host-connection.conformance.ts` is the suite each must pass.
 */
export interface HostConnection extends CommandHost {
  readonly address: HostAddress;
  /**
   * Runs `command` (one line of bash) and collects its output. Never pass user data in `command`; a command holding a
   * single quote, backslash, "!" or line break fails with HOST_BAD_INPUT (see bash-bootstrap.ts).
   */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Starts `command` (as for {@link exec}) and hands back its streams. Never pass user data in `command`. */
  spawn(command: string, options?: SpawnOptions): Promise<HostProcess>;
  /** The key the host presented (and that was verified against the pin), connecting first if needed. */
  hostKey(): Promise<HostKey>;
  /** Signs with this host's private key on behalf of another host; `null` when the host uses a password. */
  keySigner(): KeySigner | null;
  /** Closes the underlying connection(s); commands still running fail. A later call connects again. */
  close(): Promise<void>;
}
