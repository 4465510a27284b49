import type { ChildProcess } from 'node:child_process';
import type { ChildMessage, ParentMessage } from './ipc-messages.js';
import { runnerEnvironment, type RunnerLauncher } from './runner-launcher.js';

/** The tail of a runner's stderr kept for a PLUGIN_CRASHED error. */
const STDERR_TAIL = 8_000;
/** What a runner writes to stdout before it is given an operation is kept up to this, for that operation's log. */
const EARLY_STDOUT = 64 * 1024;
/** Messages (log lines) a runner sends before it is given an operation are kept up to this many. */
const EARLY_MESSAGES = 1_000;

/** Whoever a runner is handed to: the one operation it runs. */
export interface RunnerListener {
  /** A message of the runner (all but `ready` and `loaded`), including those it sent before it was handed over. */
  message(message: ChildMessage): void;
  /** Text the runner wrote to stdout, including what it wrote before it was handed over. */
  stdout(text: string): void;
  /** The process exited (or could not be started): after every message it sent. */
  exit(code: number | null, signal: NodeJS.Signals | null): void;
  /** The process could not be started or signalled. */
  error(error: Error): void;
}

/**
 * One runner process, from its start until it is reaped: started ahead of a call (by the pool) or for it, then handed
 * to one operation ({@link attach}), which drives it and kills it. Until then, what it sends and writes is kept for
 * that operation, so a warm runner's log lines and failures at import time are reported as a cold one's would be.
 */
export class RunnerProcess {
  /** Resolves once the process has exited (or could not be started). */
  readonly exited: Promise<void>;
  /** Resolves true once the runner has imported the plugin's code (or failed to: that is the operation's to report), false if it exited first. */
  readonly loaded: Promise<boolean>;
  readonly #child: ChildProcess;
  #ready = false;
  #isLoaded = false;
  #whenReady: (() => void)[] = [];
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  #stderr = '';
  #early: ({ message: ChildMessage } | { stdout: string } | { error: Error })[] = [];
  #earlyStdout = 0;
  #listener: RunnerListener | undefined;

  /** Starts a runner for the code at `codePath` with `launcher`. */
  static async start(launcher: RunnerLauncher, codePath: string): Promise<RunnerProcess> {
    return new RunnerProcess(await launcher.launch(codePath, runnerEnvironment()));
  }

  constructor(child: ChildProcess) {
    this.#child = child;
    let loaded: (value: boolean) => void = () => undefined;
    this.loaded = new Promise((resolve) => (loaded = resolve));
    this.exited = new Promise((resolve) => {
      const exited = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.#exit) return;
        this.#exit = { code, signal };
        loaded(false);
        resolve();
        this.#listener?.exit(code, signal);
      };
      child.once('exit', exited);
      child.on('error', (error) => {
        if (this.#listener) this.#listener.error(error);
        else this.#early.push({ error });
        // A process that never started has no exit to wait for.
        if (child.pid === undefined) exited(null, null);
      });
    });
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') {
        this.#ready = true;
        for (const callback of this.#whenReady.splice(0)) callback();
      } else if (message.type === 'loaded') {
        this.#isLoaded = true;
        loaded(true);
      } else if (this.#listener) this.#listener.message(message);
      else if (this.#early.length < EARLY_MESSAGES || message.type !== 'log') this.#early.push({ message });
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (this.#listener) this.#listener.stdout(text);
      else if (this.#earlyStdout < EARLY_STDOUT) {
        this.#earlyStdout += text.length;
        this.#early.push({ stdout: text });
      }
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Whether it has imported the plugin's code and waits for an operation. */
  get isLoaded(): boolean {
    return this.#isLoaded && this.alive;
  }

  /** Whether the process runs and its channel is open (as far as this process has heard). */
  get alive(): boolean {
    const child = this.#child;
    return this.#exit === undefined && child.exitCode === null && child.signalCode === null && child.connected;
  }

  /** The tail of what it wrote to stderr. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Hands the runner to the operation that will drive it; what it sent before is delivered first. Once. */
  attach(listener: RunnerListener): void {
    if (this.#listener) throw new Error('A runner process runs one operation only.');
    this.#listener = listener;
    for (const early of this.#early.splice(0)) {
      if ('message' in early) listener.message(early.message);
      else if ('stdout' in early) listener.stdout(early.stdout);
      else listener.error(early.error);
    }
    if (this.#exit) listener.exit(this.#exit.code, this.#exit.signal);
  }

  /** Calls `callback` once the runner listens for messages (at once if it does). */
  whenReady(callback: () => void): void {
    if (this.#ready) callback();
    else this.#whenReady.push(callback);
  }

  /** Sends a message, if the channel is still open; a message that cannot be sent is dropped. */
  send(message: ParentMessage): void {
    if (this.#child.connected) this.#child.send(message, () => undefined);
  }

  /** Kills the process group, unless the process is gone already. */
  kill(): void {
    const child = this.#child;
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }

  /** Stops listening to its output (once it is gone). */
  release(): void {
    this.#child.stdout?.destroy();
    this.#child.stderr?.destroy();
  }
}
