import { constants as osConstants } from 'node:os';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Client, ClientChannel } from 'ssh2';
import {
  DvxError,
  HostError,
  isChannelOpenRefused,
  isNotConnected,
  startDeadline,
  toDvxError,
} from '../errors/index.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { abortReason, asError } from './as-error.js';
import { ChannelLimiter, type ReleaseSlot } from './channel-limiter.js';
import type {
  ExecOptions,
  ExecResult,
  HostAddress,
  HostConnection,
  HostProcess,
  HostSpec,
  KeySigner,
  SpawnOptions,
} from './host-connection.js';
import { parsePinnedHostKey, type HostKey, type ParsedPin } from './host-key.js';
import { keySignerFor } from './key-signer.js';
import { hostCommandLine } from './bash-bootstrap.js';
import { killProcessGroupScript, PidReportFilter } from './remote-pid.js';
import { SigningAgent } from './signing-agent.js';
import { openSshClient, parseCredentials, type ParsedCredentials } from './ssh-client.js';

/** Options of an {@link SshHostConnection} (and of every connection of an `SshConnectionPool`). */
export interface SshConnectionOptions {
  /** How long the TCP connect plus SSH handshake and authentication may take. @defaultValue 20 000 ms */
  readyTimeoutMs?: number;
  /** Interval of SSH keepalive requests on an open connection; 0 disables them. @defaultValue 15 000 ms */
  keepaliveIntervalMs?: number;
  /** Unanswered keepalives after which the connection counts as dropped. @defaultValue 3 */
  keepaliveCountMax?: number;
  /**
   * Channels (commands) open at once on the connection; more wait in a FIFO queue. Stay below the host's sshd
   * `MaxSessions` (10 by default). @defaultValue 8
   */
  maxChannels?: number;
  /** Close the connection after this long without any command; the next command reconnects. 0 keeps it open. @defaultValue 300 000 ms */
  idleTimeoutMs?: number;
  /** @defaultValue silentLogger */
  logger?: Logger;
}

export const SSH_CONNECTION_DEFAULTS: Required<SshConnectionOptions> = {
  readyTimeoutMs: 20_000,
  keepaliveIntervalMs: 15_000,
  keepaliveCountMax: 3,
  maxChannels: 8,
  idleTimeoutMs: 300_000,
  logger: silentLogger,
};

/** Counters of one connection, for tests and metrics. */
export interface SshConnectionStats {
  /** SSH connections opened (handshake and authentication completed) since creation. */
  connectionsMade: number;
  /** Whether an SSH connection is open now. */
  connected: boolean;
  /** Channels open now. */
  activeChannels: number;
  /** Commands waiting for a channel. */
  queuedCommands: number;
  /** The most channels ever open at once. */
  peakChannels: number;
}

interface LiveClient {
  client: Client;
  hostKey: HostKey;
  closed: boolean;
  /** The first error the client reported, if any: explains why channels closed. */
  error?: unknown;
}

interface OpenedChannel {
  channel: ClientChannel;
  /** Set when the exit status (or signal) arrives. */
  exitCode: number | undefined;
}

interface StartedChannel {
  channel: ClientChannel;
  /** The command's stderr, without the pid report. */
  stderr: Readable;
  exit: Promise<number>;
  kill(): void;
}

const SIGNALS = osConstants.signals as Record<string, number | undefined>;

function lostError(host: string, cause?: unknown): DvxError {
  return toDvxError(
    cause ?? Object.assign(new Error('The connection closed before the command finished'), { level: 'client-socket' }),
    {
      host,
      doing: 'run a command',
    },
  );
}

/** Kills process group `pid` from another channel, outside the channel bound (it is short and must not queue). */
function killRemote(client: Client, pid: number, host: string): void {
  try {
    client.exec(hostCommandLine(killProcessGroupScript(pid), host, { reportPid: false }), (error, channel) => {
      if (error) return;
      channel.on('error', () => undefined);
      channel.resume();
      channel.stderr.resume();
      channel.end();
    });
  } catch {
    // Not connected any more: nothing left to kill from here.
  }
}

/** Ends an ssh2 client and waits until its socket is closed. */
function endClient(client: Client): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2_000);
    timer.unref();
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    client.end();
  });
}

/** Channel opens refused by the host (sshd MaxSessions) retried before giving up; ~1.3 s in all. */
const CHANNEL_OPEN_RETRIES = 8;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * One host reached over ssh2: connects lazily, reuses one SSH connection for every command, sends keepalives,
 * reconnects on the next use after a drop, and bounds concurrent channels. Host keys are verified on every connect.
 * Commands run in bash, which the login user's shell (of any family: sh, bash, zsh, csh, fish) execs; each first
 * reports its pid so that a timeout or abort can kill it (see bash-bootstrap.ts and remote-pid.ts).
 */
export class SshHostConnection implements HostConnection {
  readonly id: string;
  readonly address: HostAddress;
  readonly #spec: HostSpec;
  readonly #options: Required<SshConnectionOptions>;
  readonly #limiter: ChannelLimiter;
  readonly #log: Logger;
  #credentials: ParsedCredentials | undefined;
  #trusted: ParsedPin | undefined;
  #current: LiveClient | undefined;
  #connecting: Promise<LiveClient> | undefined;
  #connectionsMade = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  #disposed = false;
  readonly #dedicated = new Set<Client>();

  constructor(spec: HostSpec, options: SshConnectionOptions = {}) {
    this.#spec = spec;
    this.id = spec.id;
    this.address = spec.address;
    this.#options = { ...SSH_CONNECTION_DEFAULTS, ...options };
    this.#limiter = new ChannelLimiter(this.#options.maxChannels);
    this.#log = this.#options.logger.child({ host: spec.address.name });
  }

  get stats(): SshConnectionStats {
    return {
      connectionsMade: this.#connectionsMade,
      connected: this.#current !== undefined && !this.#current.closed,
      activeChannels: this.#limiter.active,
      queuedCommands: this.#limiter.queued,
      peakChannels: this.#limiter.peak,
    };
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const { signal, cleanup } = this.#commandSignal(options);
    try {
      const started = await this.#start(command, signal, options.forwardAgent);
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      started.channel.on('data', (chunk: Buffer) => stdout.push(chunk));
      started.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      started.channel.on('error', () => undefined);
      started.channel.end(options.stdin ?? '');
      const exitCode = await started.exit;
      // The channel closes once stdout ends; stderr may still be in the filter.
      await finished(started.stderr).catch(() => undefined);
      return {
        exitCode,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      };
    } finally {
      cleanup();
    }
  }

  async spawn(command: string, options: SpawnOptions = {}): Promise<HostProcess> {
    const { signal, cleanup } = this.#commandSignal(options);
    let started: StartedChannel;
    try {
      started = await this.#start(command, signal, options.forwardAgent);
    } catch (error) {
      cleanup();
      throw error;
    }
    const { channel } = started;
    const exit = started.exit.finally(cleanup);
    exit.catch(() => undefined);
    return { stdin: channel, stdout: channel, stderr: started.stderr, exit, kill: () => started.kill() };
  }

  async hostKey(): Promise<HostKey> {
    return (await this.#live()).hostKey;
  }

  keySigner(): KeySigner | null {
    const credentials = (this.#credentials ??= parseCredentials(this.#spec));
    return credentials.kind === 'key' ? keySignerFor(credentials.key) : null;
  }

  async close(): Promise<void> {
    const live = this.#current ?? (await this.#connecting?.catch(() => undefined));
    await Promise.all([...(live && !live.closed ? [live.client] : []), ...this.#dedicated].map(endClient));
  }

  /** Closes for good: later commands fail. Used by the pool. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    await this.close();
  }

  /** One signal for the caller's signal and the timeout, whose reason is already the DvxError to throw. */
  #commandSignal(options: { timeoutMs?: number; signal?: AbortSignal }): { signal: AbortSignal; cleanup: () => void } {
    const name = this.address.name;
    const deadline = startDeadline({
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      timeoutError: (timeoutMs) =>
        new HostError({
          code: 'HOST_TIMEOUT',
          host: name,
          message: `A command on ${name} did not finish within ${timeoutMs} ms and was killed.`,
          action: 'Raise the timeout, or find out why the command hangs on the host.',
          details: { timeoutMs },
        }),
      what: `A command on ${name}`,
      details: { host: name },
    });
    return { signal: deadline.signal, cleanup: () => deadline.dispose() };
  }

  /** Opens a session channel running `command`; the returned exit settles when the channel closes. */
  async #start(command: string, signal: AbortSignal, forwardAgent: KeySigner | undefined): Promise<StartedChannel> {
    if (signal.aborted) throw signal.reason;
    const commandLine = hostCommandLine(command, this.address.name);
    if (forwardAgent) return this.#startDedicated(commandLine, signal, forwardAgent);
    const release = await this.#limiter.acquire(signal);
    clearTimeout(this.#idleTimer);
    try {
      let live = await this.#whileNotAborted(this.#live(), signal);
      let channel: OpenedChannel | undefined;
      for (let attempt = 0; channel === undefined; attempt += 1) {
        try {
          channel = await this.#openChannel(live.client, commandLine);
        } catch (error) {
          if (live.closed || isNotConnected(error)) {
            // The connection died while idle and we had not noticed yet: the command never started, so one retry on
            // a fresh connection is safe.
            if (attempt > 0) throw error;
            this.#forget(live);
            live = await this.#whileNotAborted(this.#live(), signal);
          } else if (isChannelOpenRefused(error) && attempt < CHANNEL_OPEN_RETRIES) {
            // sshd frees a closed session only after it has read what follows the close, so a channel opened right
            // after another closed can briefly exceed MaxSessions. The command never started: wait a little, retry.
            await this.#whileNotAborted(delay(5 * 2 ** attempt), signal);
          } else {
            throw error;
          }
        }
      }
      return this.#watch(channel, live, signal, release);
    } catch (error) {
      this.#releaseSlot(release);
      throw signal.aborted ? signal.reason : toDvxError(error, { host: this.address.name, doing: 'start a command' });
    }
  }

  async #startDedicated(commandLine: string, signal: AbortSignal, signer: KeySigner): Promise<StartedChannel> {
    const credentials = (this.#credentials ??= parseCredentials(this.#spec));
    const connecting = openSshClient(this.#spec, credentials, {
      settings: this.#settings(),
      trusted: this.#trust(),
      agent: new SigningAgent(signer),
    });
    // Given up on while connecting: end the connection once it is made.
    connecting.then(
      (late) => signal.aborted && late.client.end(),
      () => undefined,
    );
    const opened = await this.#whileNotAborted(connecting, signal);
    this.#connectionsMade += 1;
    const live: LiveClient = { client: opened.client, hostKey: opened.hostKey, closed: false };
    this.#dedicated.add(live.client);
    this.#track(live);
    try {
      const channel = await this.#openChannel(live.client, commandLine);
      return this.#watch(channel, live, signal, () => live.client.end());
    } catch (error) {
      live.client.end();
      throw signal.aborted ? signal.reason : toDvxError(error, { host: this.address.name, doing: 'start a command' });
    }
  }

  /**
   * Opens a session channel. Listeners go on inside ssh2's callback: a fast command's exit status can arrive in the
   * same packet burst as the exec reply, before any promise continuation would run.
   */
  #openChannel(client: Client, commandLine: string): Promise<OpenedChannel> {
    return new Promise<OpenedChannel>((resolve, reject) => {
      try {
        client.exec(commandLine, (error, channel) => {
          if (error) {
            reject(error);
            return;
          }
          const opened: OpenedChannel = { channel, exitCode: undefined };
          channel.on('exit', (code: number | null, signalName?: string) => {
            const name = signalName?.startsWith('SIG') ? signalName : `SIG${signalName ?? ''}`;
            opened.exitCode = code ?? 128 + (SIGNALS[name] ?? 0);
          });
          channel.on('error', () => undefined);
          channel.stderr.on('error', () => undefined);
          resolve(opened);
        });
      } catch (error) {
        reject(asError(error));
      }
    });
  }

  #watch(opened: OpenedChannel, live: LiveClient, signal: AbortSignal, release: ReleaseSlot): StartedChannel {
    const { channel } = opened;
    let remotePid: number | undefined;
    let closed = false;
    let killed = false;
    let killFallback: NodeJS.Timeout | undefined;
    const finishKill = () => {
      clearTimeout(killFallback);
      if (remotePid !== undefined && !live.closed) killRemote(live.client, remotePid, this.address.name);
      try {
        channel.close();
      } catch {
        // Already closing.
      }
    };
    const kill = () => {
      if (closed || killed) return;
      killed = true;
      // Honoured by OpenSSH for non-root logins only, and sent by ssh2 only while the channel's stdin is open.
      try {
        channel.signal('KILL');
      } catch {
        // The connection is gone.
      }
      if (remotePid !== undefined) finishKill();
      // The command has not reported its pid yet (it does so first thing): kill it as soon as it does. Closing the
      // channel alone would not stop it, as sshd lets the command run on.
      else killFallback = setTimeout(finishKill, 5_000);
    };
    const stderr = channel.stderr.pipe(
      new PidReportFilter((pid) => {
        remotePid = pid;
        if (killed && !closed) finishKill();
      }),
    );
    const onAbort = () => kill();
    signal.addEventListener('abort', onAbort, { once: true });
    const exit = new Promise<number>((resolve, reject) => {
      channel.once('close', () => {
        closed = true;
        clearTimeout(killFallback);
        signal.removeEventListener('abort', onAbort);
        this.#releaseSlot(release);
        if (signal.aborted) reject(abortReason(signal));
        else if (opened.exitCode !== undefined) resolve(opened.exitCode);
        // We closed the channel before the exit status came: report what a kill looks like.
        else if (killed) resolve(128 + (SIGNALS.SIGKILL ?? 9));
        else {
          if (live.closed || live.error !== undefined) this.#forget(live);
          reject(lostError(this.address.name, live.error));
        }
      });
    });
    return { channel, stderr, exit, kill };
  }

  #releaseSlot(release: ReleaseSlot): void {
    release();
    const idle = this.#current;
    if (this.#limiter.active > 0 || this.#options.idleTimeoutMs <= 0 || !idle) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#limiter.active === 0 && this.#current === idle) void endClient(idle.client);
    }, this.#options.idleTimeoutMs);
    this.#idleTimer.unref();
  }

  /** Rejects with the signal's reason as soon as it aborts; the work itself carries on and is cleaned up by others. */
  #whileNotAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
    if (signal.aborted) {
      work.catch(() => undefined);
      return Promise.reject(abortReason(signal));
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(abortReason(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  #settings() {
    const { readyTimeoutMs, keepaliveIntervalMs, keepaliveCountMax } = this.#options;
    return { readyTimeoutMs, keepaliveIntervalMs, keepaliveCountMax };
  }

  #trust(): ParsedPin | undefined {
    if (this.#trusted === undefined && this.#spec.pinnedHostKey !== undefined) {
      this.#trusted = parsePinnedHostKey(this.#spec.pinnedHostKey, this.address.name);
    }
    return this.#trusted;
  }

  #live(): Promise<LiveClient> {
    if (this.#disposed) {
      return Promise.reject(
        new DvxError({ code: 'INTERNAL', message: `The SSH connection pool holding ${this.address.name} is closed.` }),
      );
    }
    const current = this.#current;
    if (current && !current.closed) return Promise.resolve(current);
    if (!this.#connecting) {
      this.#connecting = this.#connect().finally(() => {
        this.#connecting = undefined;
      });
      // A connection attempt whose every waiter gave up (aborted, or aborted before it could wait) must not end the
      // process with an unhandled rejection when it fails: waiters get the failure through their own handlers.
      this.#connecting.catch(() => undefined);
    }
    return this.#connecting;
  }

  async #connect(): Promise<LiveClient> {
    const credentials = (this.#credentials ??= parseCredentials(this.#spec));
    const trusted = this.#trust();
    this.#log.debug('connecting');
    const opened = await openSshClient(this.#spec, credentials, { settings: this.#settings(), trusted });
    this.#connectionsMade += 1;
    // Without a pin, the first key seen is trusted for the life of this object: a later change is refused.
    this.#trusted ??= {
      fingerprint: opened.hostKey.fingerprint,
      type: opened.hostKey.key.split(' ', 1)[0] ?? opened.hostKey.key,
    };
    const live: LiveClient = { client: opened.client, hostKey: opened.hostKey, closed: false };
    this.#track(live);
    if (this.#disposed) {
      opened.client.end();
      throw new DvxError({
        code: 'INTERNAL',
        message: `The SSH connection pool holding ${this.address.name} is closed.`,
      });
    }
    this.#current = live;
    this.#log.debug({ fingerprint: opened.hostKey.fingerprint }, 'connected');
    return live;
  }

  #track(live: LiveClient): void {
    live.client.on('error', (error: Error) => {
      live.error ??= error;
      this.#log.warn({ err: error.message }, 'ssh connection error');
    });
    const onGone = () => {
      this.#dedicated.delete(live.client);
      if (live.closed) return;
      this.#forget(live);
      this.#log.debug('disconnected');
    };
    live.client.on('end', onGone);
    live.client.on('close', onGone);
  }

  /** Stops using `live` (ending it, should its socket still be open). */
  #forget(live: LiveClient): void {
    if (!live.closed) {
      live.closed = true;
      live.client.end();
    }
    if (this.#current === live) this.#current = undefined;
  }
}
