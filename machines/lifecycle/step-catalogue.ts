import type { HookEvent } from './hook-steps.js';
import type { StepError } from './types.js';

/*
 * The catalogue of dvx's steps: for each handler name (`src`), the input its machines must build and the output its
 * handler returns. Machines (through `step()`) and handlers (workers/steps) are both checked against it. Types only:
 * machines stay pure. Values are JSON: they are persisted in the run's context and carried in job data.
 */

/** Plugin data as runs carry it: JSON whose password fields are sealed (workers/steps/plugin-call.ts). */
export type SealedData = Record<string, unknown>;

/** What probing a host found (hosts/probe-host.ts HostFacts, as JSON). */
export interface HostFacts {
  os: string;
  kernel: string;
  user: string;
  uid: number;
  home: string;
  bashVersion: string;
  rsyncVersion: string | null;
  expectAvailable: boolean;
  canMount: boolean;
  scratchPath: string;
}

/** Repositories found per plugin (sealed). */
export type RepositoriesFound = Record<string, SealedData[]>;
/** Source configs found per plugin, per repository (index into that plugin's repositories; sealed). */
export type SourceConfigsFound = Record<string, Array<{ repository: number; sourceConfigs: SealedData[] }>>;

interface Tally {
  added: number;
  kept: number;
  removed: number;
}

/** What reconciling discovery did to the records. */
export interface DiscoverySummary {
  repositories: Tally;
  sourceConfigs: Tally;
}

/** One mount of engine storage on a host, its environment checked to exist (model ResolvedMount). */
export interface Mount {
  environmentId: string;
  mountPath: string;
  sharedPath?: string;
}

/** A plugin's mount specification, resolved once per run by its mountSpecification step and passed to the steps that mount. */
export interface MountSpecification {
  mounts: Mount[];
  ownership: { uid: number; gid: number } | null;
}

/** The object a hook or a failure record is about. */
export interface ObjectRef {
  objectType: 'dsource' | 'vdb';
  objectId: string;
}

/** Whether a VDB runs, as its plugin (and its mounts) say. */
export type VdbStatus = 'ACTIVE' | 'INACTIVE';

type Dsource = { dsourceId: string };
type Vdb = { vdbId: string };
type SnapshotParameters = { snapshotParameters: Record<string, unknown> | null };
type Hook = ObjectRef & { event: HookEvent };

/** What a hook step returns: null when the object has no hook for the event. */
export type HookOutcome = { event: HookEvent; exitCode: number } | { event: HookEvent; failed: StepError } | null;

/** A step definition. */
type Step<In extends object, Out> = { input: In; output: Out };

/** Every step of dvx's lifecycles. */
export type DvxSteps = {
  // discovery
  'host.probe': Step<{ environmentId: string }, HostFacts>;
  'plugin.discovery.repository': Step<{ environmentId: string; pluginIds: string[] }, RepositoriesFound>;
  'plugin.discovery.sourceConfig': Step<
    { environmentId: string; pluginIds: string[]; repositories: RepositoriesFound | null },
    SourceConfigsFound
  >;
  'model.reconcileDiscovery': Step<
    {
      environmentId: string;
      probe: HostFacts | null;
      repositories: RepositoriesFound | null;
      sourceConfigs: SourceConfigsFound | null;
    },
    DiscoverySummary
  >;
  'model.recordEnvironmentFailure': Step<{ environmentId: string; error: StepError | null }, null>;

  // linked plugin operations
  'plugin.linked.mountSpecification': Step<Dsource, MountSpecification>;
  'plugin.linked.startStaging': Step<Dsource, null>;
  'plugin.linked.stopStaging': Step<Dsource, null>;
  'plugin.linked.preSnapshot': Step<Dsource & SnapshotParameters, null>;
  /** Returns the snapshot's metadata. */
  'plugin.linked.postSnapshot': Step<Dsource & SnapshotParameters, SealedData>;

  // virtual plugin operations
  'plugin.virtual.mountSpecification': Step<Vdb, MountSpecification>;
  /** Returns the VDB's source config (sealed). */
  'plugin.virtual.configure': Step<
    Vdb & { snapshotId: string; mountSpecification: MountSpecification | null },
    SealedData
  >;
  /** `snapshotId` null: the snapshot the VDB's current timeflow was cloned from. Returns the source config (sealed). */
  'plugin.virtual.reconfigure': Step<Vdb & { snapshotId: string | null }, SealedData>;
  /** `sourceConfig`: one from an earlier step of the run, for runs where the VDB record has none yet. */
  'plugin.virtual.unconfigure': Step<Vdb & { sourceConfig: SealedData | null }, null>;
  'plugin.virtual.cleanup': Step<Vdb, null>;
  'plugin.virtual.start': Step<Vdb, null>;
  'plugin.virtual.stop': Step<Vdb, null>;
  'plugin.virtual.preSnapshot': Step<Vdb, null>;
  /** Returns the snapshot's metadata (sealed). */
  'plugin.virtual.postSnapshot': Step<Vdb, SealedData>;
  'plugin.virtual.status': Step<Vdb, VdbStatus>;

  // engine storage
  'storage.createDsourceDataset': Step<Dsource & { datasetId: string }, { datasetId: string }>;
  'storage.destroyDsourceStorage': Step<Dsource, null>;
  'storage.destroyVdbStorage': Step<Vdb, null>;
  'storage.snapshotDsource': Step<Dsource & { snapshotId: string }, { snapshotId: string; datasetId: string | null }>;
  'storage.snapshot': Step<{ datasetId: string; snapshotId: string }, { snapshotId: string; datasetId: string }>;
  'storage.destroySnapshot': Step<{ snapshotId: string }, null>;
  'storage.clone': Step<{ snapshotId: string; datasetId: string }, { datasetId: string }>;
  'storage.destroyDataset': Step<{ datasetId: string }, null>;

  // mounts; a null mount specification means the mounts recorded on the object
  'mount.attachStaging': Step<Dsource & { mountSpecification: MountSpecification | null }, { mounts: Mount[] }>;
  'mount.detachStaging': Step<Dsource, null>;
  /** `datasetId` null: the VDB's current dataset. */
  'mount.attachVdb': Step<
    Vdb & { datasetId: string | null; mountSpecification: MountSpecification | null },
    { mounts: Mount[] }
  >;
  'mount.detachVdb': Step<Vdb & { mountSpecification: MountSpecification | null }, null>;

  // records
  'model.recordDsourceSnapshot': Step<
    Dsource & { snapshotId: string; metadata: SealedData | null; runId: string },
    { snapshotId: string }
  >;
  'model.markDsourceLinked': Step<Dsource, null>;
  'model.setDsourceEnabled': Step<Dsource & { enabled: boolean }, null>;
  'model.deleteDsource': Step<Dsource, null>;
  'model.activateVdb': Step<
    Vdb & { datasetId: string; snapshotId: string; sourceConfig: SealedData | null; runId: string },
    null
  >;
  'model.switchVdbTimeflow': Step<
    Vdb & {
      datasetId: string;
      snapshotId: string;
      sourceConfig: SealedData | null;
      creationType: 'ROLLBACK' | 'REFRESH';
      runId: string;
    },
    null
  >;
  'model.recordVdbSnapshot': Step<
    Vdb & { snapshotId: string; datasetId: string; metadata: SealedData | null; runId: string },
    { snapshotId: string }
  >;
  'model.setVdbRunning': Step<Vdb & { running: boolean }, null>;
  /** `sourceConfig`: a new source config (sealed) to record, e.g. what reconfigure returned. */
  'model.setVdbEnabled': Step<Vdb & { enabled: boolean; sourceConfig: SealedData | null }, null>;
  'model.deleteVdb': Step<Vdb, null>;
  /**
   * Records a run's failure on its dSource or VDB. `markFailed`: the object is left FAILED and disabled (a link or
   * provision that failed: the object never worked); otherwise it keeps its state and only carries the error.
   */
  'model.recordFailure': Step<ObjectRef & { error: StepError | null; runId: string; markFailed: boolean }, null>;

  // user hooks
  'hook.run': Step<Hook, HookOutcome>;
  'hook.report': Step<Hook, HookOutcome>;
};
