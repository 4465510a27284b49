import type { SshConnectionPool } from '../../hosts/index.js';
import type { Logger } from '../../log/logger.js';
import type { DvxModel } from '../../model/dvx-model.js';
import type { SecretBox } from '../../model/secret-box.js';
import type { RunnerPool, WarmRunnerOptions } from '../../operations/index.js';
import type { MountTransport, PoolSpace, StorageBackend } from '../../storage/index.js';

/** Options of plugin operation calls made by steps. */
export interface PluginCallOptions {
  /** Kill a plugin operation that runs longer than this. @defaultValue 600000 (10 minutes) */
  timeoutMs?: number;
  /** Where built plugin code is cached on the engine host. @defaultValue the invoker's default */
  cacheDir?: string;
  /**
   * Warm runner processes: per plugin code version, processes started ahead that have imported the plugin's code,
   * each running one operation. `false`: every plugin operation starts its own process.
   * @defaultValue on, with WARM_RUNNER_DEFAULTS (2 per code version, stopped after 5 minutes without a call)
   */
  warmRunners?: WarmRunnerOptions | false;
}

/** Everything the engine's step handlers work with: the I/O seams behind the lifecycles. */
export interface StepServices {
  model: DvxModel;
  secrets: SecretBox;
  storage: StorageBackend;
  /**
   * The pool's free space against its floor: asked again by the step that makes a snapshot, clone or dataset.
   * @defaultValue `storage` with the default floor (5% of the pool)
   */
  space?: PoolSpace;
  /** Mounts on environments whose probe chose `bind` (and on those probed before transports were chosen). */
  mounts: MountTransport;
  /** Mounts on environments whose probe chose `sshfs`. @defaultValue none: such environments cannot mount */
  sshfs?: MountTransport;
  hosts: SshConnectionPool;
  logger: Logger;
  plugins?: PluginCallOptions;
  /** The warm runners plugin calls take their process from. @defaultValue none: every call starts its own process */
  runners?: RunnerPool;
}
