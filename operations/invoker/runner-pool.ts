import { silentLogger, type Logger } from '../../log/logger.js';
import type { RunnerLauncher } from './runner-launcher.js';
import { RunnerProcess } from './runner-process.js';

/** Options of the warm runner pool ({@link RunnerPool}). */
export interface WarmRunnerOptions {
  /**
   * Runners kept started per plugin code version, each with the plugin's code imported and waiting for one operation.
   * 0 keeps none: every operation starts its own process.
   * @defaultValue 2
   */
  size?: number;
  /**
   * A code version's idle runners are stopped after this long without a call running or starting; its next call
   * starts them again.
   * @defaultValue 300000 (5 minutes)
   */
  idleTimeoutMs?: number;
}

export const WARM_RUNNER_DEFAULTS = { size: 2, idleTimeoutMs: 300_000 } satisfies Required<WarmRunnerOptions>;

/** A plugin's code, as the pool knows it. */
export interface RunnerCode {
  launcher: RunnerLauncher;
  /** The code's module file (code-cache.ts): named by the code's hash, so another version is another path. */
  codePath: string;
  /** The plugin (its id): taking a runner for one version of it stops the idle runners of its other versions. */
  plugin: string;
}

/** An idle runner, as {@link RunnerPool.idle} lists it. */
export interface IdleRunner {
  pid: number;
  runtime: string;
  codePath: string;
  plugin: string;
  /** Whether it has imported the code (else it is still starting). */
  loaded: boolean;
}

/**
 * A call's replacement is started once its runner is gone (the fork then costs the call nothing), or after this long
 * if its operation is still running.
 */
const REFILL_DELAY_MS = 100;
/** How long {@link RunnerPool.close} waits for a killed runner to be reaped. */
const REAP_WAIT_MS = 5_000;
/** Idle runners that die at once are replaced this many times in a row, then only when a call takes one. */
const MAX_IDLE_DEATHS = 3;

interface Slot {
  key: string;
  code: RunnerCode;
  idle: RunnerProcess[];
  /** Runners being started for the slot. */
  launches: Set<Promise<void>>;
  /** Calls running in runners taken from the slot. */
  busy: number;
  idleDeaths: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Warm runner processes: per plugin code version, `size` runners started ahead, each having imported the code and
 * waiting for one operation. A call takes one (and the pool starts a replacement in the background); the call's
 * invoker kills it when the operation is over, so no process ever runs two operations and nothing one leaves in
 * memory (globals, module state, secrets) reaches another. The vSDK promises plugins nothing about the lifetime of
 * their process, so one process per operation is what plugins may expect and the safe reading of that page.
 *
 * Runners are keyed by runtime and code path (the code's hash): a new version of a plugin never gets a runner of the
 * old one, whose idle runners are stopped. A runner that dies while idle is dropped and replaced, never handed out.
 * {@link close} stops every idle runner and waits for it to be reaped.
 */
export class RunnerPool {
  readonly #size: number;
  readonly #idleTimeoutMs: number;
  readonly #logger: Logger;
  readonly #slots = new Map<string, Slot>();
  /** Runners killed by the pool and not yet reaped. */
  readonly #stopping = new Set<Promise<void>>();
  #closed = false;

  constructor(options: WarmRunnerOptions & { logger?: Logger } = {}) {
    this.#size = Math.max(0, Math.floor(options.size ?? WARM_RUNNER_DEFAULTS.size));
    this.#idleTimeoutMs = options.idleTimeoutMs ?? WARM_RUNNER_DEFAULTS.idleTimeoutMs;
    this.#logger = options.logger ?? silentLogger;
  }

  /**
   * A runner for `code`, to run one operation and be killed: an idle one that has imported the code if there is one,
   * else one still importing it, else one started now. The pool starts its replacement in the background once the
   * runner is gone (or {@link REFILL_DELAY_MS} after, if the operation runs longer).
   */
  async take(code: RunnerCode): Promise<RunnerProcess> {
    if (this.#closed || this.#size === 0) return RunnerProcess.start(code.launcher, code.codePath);
    const slot = this.#slot(code);
    // No idle timeout while a call runs: it counts from the end of the last one.
    clearTimeout(slot.timer);
    slot.busy += 1;
    slot.idleDeaths = 0;
    const runner = this.#pick(slot) ?? (await RunnerProcess.start(code.launcher, code.codePath));
    const timer = setTimeout(() => this.#refill(slot), REFILL_DELAY_MS).unref();
    void runner.exited.then(() => {
      clearTimeout(timer);
      slot.busy -= 1;
      if (slot.busy === 0 && this.#active(slot)) this.#touch(slot);
      setImmediate(() => this.#refill(slot));
    });
    return runner;
  }

  /** Starts `code`'s runners ahead of its first call; resolves once they have imported it. */
  async warm(code: RunnerCode): Promise<void> {
    if (this.#closed || this.#size === 0) return;
    const slot = this.#slot(code);
    this.#refill(slot);
    await Promise.all(slot.launches);
    await Promise.all(slot.idle.map((runner) => runner.loaded));
    if (slot.busy === 0 && this.#active(slot)) this.#touch(slot);
  }

  /** The idle runners, by code version. */
  idle(): IdleRunner[] {
    return [...this.#slots.values()].flatMap((slot) =>
      slot.idle.flatMap((runner) =>
        runner.pid === undefined || !runner.alive
          ? []
          : [
              {
                pid: runner.pid,
                runtime: slot.code.launcher.runtime,
                codePath: slot.code.codePath,
                plugin: slot.code.plugin,
                loaded: runner.isLoaded,
              },
            ],
      ),
    );
  }

  /** Stops every idle runner and waits until each is reaped; later calls start their own process. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#slots.size > 0) {
      const slots = [...this.#slots.values()];
      for (const slot of slots) this.#drop(slot);
      await Promise.all(slots.flatMap((slot) => [...slot.launches]));
    }
    await Promise.race([
      Promise.all(this.#stopping),
      new Promise((resolve) => setTimeout(resolve, REAP_WAIT_MS).unref()),
    ]);
  }

  /** The slot of `code`, created on first use; the slots of the plugin's other versions are dropped. */
  #slot(code: RunnerCode): Slot {
    const key = `${code.launcher.runtime}\0${code.codePath}`;
    let slot = this.#slots.get(key);
    if (!slot) {
      for (const other of this.#slots.values()) if (other.code.plugin === code.plugin) this.#drop(other);
      slot = { key, code, idle: [], launches: new Set(), busy: 0, idleDeaths: 0, timer: undefined };
      this.#slots.set(key, slot);
    }
    return slot;
  }

  /** Restarts the slot's idle timeout. */
  #touch(slot: Slot): void {
    clearTimeout(slot.timer);
    slot.timer = setTimeout(() => this.#drop(slot), this.#idleTimeoutMs).unref();
  }

  /** Takes the best idle runner out of the slot: loaded before still starting; dead ones are discarded. */
  #pick(slot: Slot): RunnerProcess | undefined {
    const index = slot.idle.findIndex((runner) => runner.isLoaded);
    const picked = index >= 0 ? index : slot.idle.findIndex((runner) => runner.alive);
    if (picked < 0) return undefined;
    const [runner] = slot.idle.splice(picked, 1);
    return runner;
  }

  #active(slot: Slot): boolean {
    return !this.#closed && this.#slots.get(slot.key) === slot;
  }

  /** Starts runners until the slot has `size` idle or starting. */
  #refill(slot: Slot): void {
    while (this.#active(slot) && slot.idle.length + slot.launches.size < this.#size) {
      const launch: Promise<void> = RunnerProcess.start(slot.code.launcher, slot.code.codePath).then(
        (runner) => {
          slot.launches.delete(launch);
          if (!this.#active(slot)) return this.#stop(runner);
          slot.idle.push(runner);
          void runner.exited.then(() => this.#exitedIdle(slot, runner));
        },
        (error: unknown) => {
          slot.launches.delete(launch);
          this.#logger.warn({ err: String(error), codePath: slot.code.codePath }, 'a warm plugin runner did not start');
        },
      );
      slot.launches.add(launch);
    }
  }

  /** A runner of the slot exited: if it was idle, it died there; it is forgotten and replaced. */
  #exitedIdle(slot: Slot, runner: RunnerProcess): void {
    const index = slot.idle.indexOf(runner);
    if (index < 0) return;
    slot.idle.splice(index, 1);
    runner.release();
    if (!this.#active(slot)) return;
    slot.idleDeaths += 1;
    this.#logger.warn(
      { pid: runner.pid, codePath: slot.code.codePath, stderr: runner.stderr.slice(-2_000) },
      'a warm plugin runner exited while idle',
    );
    if (slot.idleDeaths <= MAX_IDLE_DEATHS) this.#refill(slot);
  }

  /** Forgets the slot and stops its idle runners; those still starting are stopped once started. */
  #drop(slot: Slot): void {
    clearTimeout(slot.timer);
    if (this.#slots.get(slot.key) === slot) this.#slots.delete(slot.key);
    for (const runner of slot.idle.splice(0)) void this.#stop(runner);
  }

  #stop(runner: RunnerProcess): Promise<void> {
    runner.kill();
    const stopped = runner.exited.then(() => {
      runner.release();
      this.#stopping.delete(stopped);
    });
    this.#stopping.add(stopped);
    return stopped;
  }
}
