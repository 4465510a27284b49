import type { SshConnectionPool } from '../hosts/index.js';
import type { Logger } from '../log/logger.js';
import type { DvxModel } from '../model/dvx-model.js';
import type { SecretBox } from '../model/secret-box.js';
import type { RunDriver } from '../workers/run-driver.js';
import type { PoolSpace, StorageBackend } from '../storage/index.js';

/** What every service function works with: built once per process, whole, by the composition root (cli/engine-runtime.ts). */
export interface ServiceContext {
  model: DvxModel;
  driver: RunDriver;
  secrets: SecretBox;
  logger: Logger;
  /** The engine's storage (snapshot deletion happens in the request). */
  storage: StorageBackend;
  /** The pool's free space against its floor: asked before a request that makes a snapshot or clone starts its run. */
  space: PoolSpace;
  /** The engine's host connections, to look at a host while a request is answered (a new mount path). */
  hosts?: SshConnectionPool;
}

/** Who asked for something, for the transition log (and the audit log). */
export interface Actor {
  /** Token name, or `engine` for the engine itself. */
  name: string;
}
