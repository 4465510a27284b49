import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { isDvxError, toDvxError } from '../errors/index.js';
import type { Logger } from '../log/logger.js';
import type { EnvironmentRecord } from '../model/environment.js';
import type { RuntimeStatus } from '../model/runtime-status.js';
import type { VdbRecord } from '../model/vdb.js';
import { hasOperation } from '../operations/index.js';
import type { RunDriver } from './run-driver.js';
import { QUEUE_PREFIX } from './step-job.js';
import { connectEnvironment } from './steps/environment-connection.js';
import { environmentMounts } from './steps/environment-mounts.js';
import { callPlugin, loadPluginArtifact } from './steps/plugin-call.js';
import type { StepServices } from './steps/step-services.js';
import { vdbOperands } from './steps/vdb-operands.js';

/** Options of {@link HealthMonitor}. */
export interface HealthMonitorOptions {
  /** How often every host and object is checked. @defaultValue 15 000 ms */
  intervalMs?: number;
  /** A host that does not answer a trivial command within this long is UNREACHABLE. @defaultValue 5 000 ms */
  probeTimeoutMs?: number;
  /** Bring back VDBs (and staged dSources) whose mounts vanished, e.g. after a host reboot. @defaultValue true */
  autoRecover?: boolean;
  /** After a failed recovery run, wait this long before trying again. @defaultValue 300 000 ms */
  recoveryBackoffMs?: number;
  /**
   * Objects (VDBs, dSources) checked at once in a round; 1 checks them one after the other. Each host connection
   * still opens at most its `maxChannels` commands at once and queues the rest. @defaultValue 64
   */
  concurrency?: number;
  /**
   * VDBs whose plugin is asked for their status (`virtual.status`, one plugin process each) in a round: first those
   * never asked or worked on by a run since, then those this monitor asked longest ago. The others are checked on their host (mounts) every round and keep
   * what their plugin said last, so with many VDBs a round stays short and each plugin status comes round in turn.
   * @defaultValue 16
   */
  statusChecksPerRound?: number;
}

export const HEALTH_MONITOR_DEFAULTS: Required<HealthMonitorOptions> = {
  intervalMs: 15_000,
  probeTimeoutMs: 5_000,
  autoRecover: true,
  recoveryBackoffMs: 300_000,
  concurrency: 64,
  statusChecksPerRound: 16,
};

/** Calls `check` on every item, at most `limit` at once; rejects with the first error once every call has settled. */
async function eachAtMost<T>(items: readonly T[], limit: number, check: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const lane = async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await check(item).catch((error: unknown) => errors.push(error));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (errors.length > 0) throw errors[0];
}

export const HEALTH_QUEUE = 'dvx-health';
const HEALTH_SCHEDULER = 'health-check';

/** What one check round found and did. */
export interface HealthReport {
  environments: Record<string, RuntimeStatus['state']>;
  vdbs: Record<string, RuntimeStatus['state']>;
  dsources: Record<string, RuntimeStatus['state']>;
  recoveries: { objectType: 'vdb' | 'dsource'; objectId: string; runId: string }[];
  /** The VDBs whose plugin was asked for their status this round (see `statusChecksPerRound`). */
  pluginStatuses: string[];
}

function nextStatus(
  previous: RuntimeStatus | undefined,
  state: RuntimeStatus['state'],
  reason: string | null,
): RuntimeStatus {
  const now = new Date().toISOString();
  return {
    state,
    reason,
    since: previous?.state === state ? previous.since : now,
    checkedAt: now,
    recoveryRunId: previous?.recoveryRunId ?? null,
  };
}

/** Whether a stored VDB reading is what its plugin's status said (INACTIVE for a reason of the plugin's). */
function pluginSaidInactive(runtime: RuntimeStatus | undefined): runtime is RuntimeStatus {
  return runtime?.state === 'INACTIVE' && !runtime.reason?.endsWith('is not mounted');
}

/** Whether a reading says something the stored one does not (when it was taken is no news). */
function changed(previous: RuntimeStatus | undefined, next: RuntimeStatus): boolean {
  return (
    previous?.state !== next.state ||
    previous.reason !== next.reason ||
    (previous.recoveryRunId ?? null) !== (next.recoveryRunId ?? null)
  );
}

/**
 * Polls host reachability and the status of dSources and VDBs on a BullMQ job scheduler (one check at a time across
 * engines), keeps each object's runtime status, and starts an enable run for objects that should be up but lost their
 * mounts (a host reboot): the monitor asks nobody.
 */
export class HealthMonitor {
  readonly #options: Required<HealthMonitorOptions>;
  #queue: Queue | null = null;
  #worker: Worker | null = null;
  #workerClient: Redis | null = null;
  /**
   * When this monitor last asked each VDB's plugin for its status (ms), and the VDB's last run then: the rotation of
   * {@link HealthMonitorOptions.statusChecksPerRound}.
   */
  readonly #statusAsked = new Map<string, { at: number; lastRunId: string | null }>();

  constructor(
    private readonly services: StepServices,
    private readonly driver: RunDriver,
    private readonly logger: Logger,
    options: HealthMonitorOptions = {},
  ) {
    this.#options = { ...HEALTH_MONITOR_DEFAULTS, ...options };
  }

  async start(connection: Redis): Promise<void> {
    this.#queue = new Queue(HEALTH_QUEUE, { connection, prefix: QUEUE_PREFIX });
    await this.#queue.upsertJobScheduler(
      HEALTH_SCHEDULER,
      { every: this.#options.intervalMs },
      { name: HEALTH_SCHEDULER, opts: { removeOnComplete: 10, removeOnFail: 50 } },
    );
    // A worker blocks its connection, so it gets its own; BullMQ leaves a connection it was given open, so stop() closes it.
    this.#workerClient = connection.duplicate();
    this.#worker = new Worker(HEALTH_QUEUE, async () => this.check(), {
      connection: this.#workerClient,
      prefix: QUEUE_PREFIX,
      concurrency: 1,
    });
    this.#worker.on('error', (error) => this.logger.warn({ err: error.message }, 'health monitor worker error'));
  }

  async stop(): Promise<void> {
    await this.#worker?.close();
    await this.#queue?.close();
    await this.#workerClient?.quit().catch(() => this.#workerClient?.disconnect());
  }

  async #reachable(environmentId: string): Promise<string | null> {
    try {
      const connection = await connectEnvironment(this.services, environmentId);
      const result = await connection.exec('true', { timeoutMs: this.#options.probeTimeoutMs });
      return result.exitCode === 0 ? null : `a trivial command exited with ${result.exitCode}`;
    } catch (error) {
      return toDvxError(error).message;
    }
  }

  /**
   * What is attached on each reachable environment among the mount paths of a round, one command per environment:
   * the set of attached paths, or why the host could not say.
   */
  async #attachedByEnvironment(
    mounts: readonly { environmentId: string; mountPath: string }[],
    unreachable: ReadonlyMap<string, string>,
  ): Promise<Map<string, Set<string> | string>> {
    const paths = new Map<string, Set<string>>();
    for (const mount of mounts) {
      if (unreachable.has(mount.environmentId)) continue;
      const set = paths.get(mount.environmentId) ?? new Set<string>();
      set.add(mount.mountPath);
      paths.set(mount.environmentId, set);
    }
    const attached = new Map<string, Set<string> | string>();
    await Promise.all(
      [...paths].map(async ([environmentId, mountPaths]) => {
        try {
          const { connection, transport } = await environmentMounts(this.services, environmentId);
          attached.set(environmentId, await transport.attachedAmong({ connection, mountPaths: [...mountPaths] }));
        } catch (error) {
          attached.set(environmentId, toDvxError(error).message);
        }
      }),
    );
    return attached;
  }

  async #mountsMissing(
    mounts: { environmentId: string; mountPath: string }[] | null,
    attached: ReadonlyMap<string, Set<string> | string>,
  ): Promise<string | null> {
    for (const mount of mounts ?? []) {
      const listed = attached.get(mount.environmentId);
      if (typeof listed === 'string') return listed;
      if (listed) {
        if (!listed.has(mount.mountPath)) return `${mount.mountPath} is not mounted`;
        continue;
      }
      const { connection, transport } = await environmentMounts(this.services, mount.environmentId);
      if (!(await transport.isAttached({ connection, mountPath: mount.mountPath })))
        return `${mount.mountPath} is not mounted`;
    }
    return null;
  }

  async #recover(
    objectType: 'vdb' | 'dsource',
    objectId: string,
    status: RuntimeStatus,
    input: Record<string, unknown>,
    kind: string,
  ): Promise<string | null> {
    if (!this.#options.autoRecover) return null;
    if (status.recoveryRunId) {
      const last = await this.services.model.runs.get(status.recoveryRunId);
      if (last?.status === 'running') return null;
      if (
        last?.status === 'failed' &&
        Date.now() - new Date(last.endedAt ?? last.updatedAt).getTime() < this.#options.recoveryBackoffMs
      )
        return null;
    }
    try {
      const run = await this.driver.start(kind, input, { objectType, objectId, requestedBy: 'health-monitor' });
      this.logger.info({ objectType, objectId, runId: run.id, kind }, 'recovering an object whose mounts vanished');
      return run.id;
    } catch (error) {
      if (isDvxError(error) && error.code === 'OBJECT_LOCKED') return null;
      throw error;
    }
  }

  /** One round: every environment, then every enabled VDB and staged dSource, {@link HealthMonitorOptions.concurrency} at once. */
  async check(): Promise<HealthReport> {
    const { model } = this.services;
    const report: HealthReport = { environments: {}, vdbs: {}, dsources: {}, recoveries: [], pluginStatuses: [] };
    const unreachable = new Map<string, string>();
    for (const environment of await model.environments.list()) {
      const problem = await this.#reachable(environment.id);
      if (problem) unreachable.set(environment.id, problem);
      const runtime = nextStatus(environment.runtime, problem ? 'UNREACHABLE' : 'ACTIVE', problem);
      // An environment that was ACTIVE is UNREACHABLE while its host does not answer, and ACTIVE again when it does;
      // DISCOVERING and FAILED are a discover run's to set.
      const statusOf = (current: EnvironmentRecord['status']) =>
        current === 'ACTIVE' || current === 'UNREACHABLE' ? (problem ? 'UNREACHABLE' : 'ACTIVE') : current;
      if (changed(environment.runtime, runtime) || statusOf(environment.status) !== environment.status)
        await model.environments.update(environment.id, (current) => ({ runtime, status: statusOf(current.status) }));
      report.environments[environment.id] = runtime.state;
    }

    const vdbs = (await model.vdbs.list()).filter((vdb) => vdb.status === 'READY' && vdb.enabled);
    const dsources = (await model.dsources.list()).filter((dsource) => dsource.status === 'ACTIVE' && dsource.enabled);
    // Every mount of the round asked in one command per host, not one per mount.
    const attached = await this.#attachedByEnvironment(
      [
        ...vdbs.flatMap((vdb) => vdb.mounts ?? []),
        ...dsources.flatMap((dsource) => (dsource.pluginType === 'STAGED' ? (dsource.stagingMounts ?? []) : [])),
      ],
      unreachable,
    );
    // The plugins asked this round: of the VDBs on reachable hosts, first those a run worked on since their plugin was
    // last asked (or never asked), then those asked longest ago.
    const askedAt = (vdb: VdbRecord) => {
      const asked = this.#statusAsked.get(vdb.id);
      return asked && asked.lastRunId === vdb.lastRunId ? asked.at : 0;
    };
    const askPlugin = new Set(
      vdbs
        .filter((vdb) => !unreachable.has(vdb.environmentId))
        .sort((a, b) => askedAt(a) - askedAt(b))
        .slice(0, this.#options.statusChecksPerRound)
        .map((vdb) => vdb.id),
    );
    const current = new Set(vdbs.map((vdb) => vdb.id));
    for (const id of this.#statusAsked.keys()) if (!current.has(id)) this.#statusAsked.delete(id);
    await eachAtMost(vdbs, this.#options.concurrency, async (vdb) => {
      // While a run works on the VDB, what the host says is in flux: its end records whether the database runs.
      const busy = (await model.runs.lockHolder(`vdb/${vdb.id}`)) !== null;
      const hostProblem = unreachable.get(vdb.environmentId);
      let state: RuntimeStatus['state'] = 'ACTIVE';
      let reason: string | null = null;
      /** Whether the database runs, as far as the host told: unknown while it cannot be asked. */
      let running: boolean | null = null;
      if (hostProblem) [state, reason] = ['UNREACHABLE', hostProblem];
      else {
        reason = await this.#mountsMissing(vdb.mounts, attached).catch((error: unknown) => toDvxError(error).message);
        if (reason) {
          state = 'INACTIVE';
          // No database runs without its storage.
          if (reason.endsWith('is not mounted')) running = false;
        } else {
          const artifact = await loadPluginArtifact(this.services, vdb.pluginId);
          if (hasOperation(artifact, 'virtual.status') && !askPlugin.has(vdb.id)) {
            // Not its turn: what its plugin said last stands (ACTIVE as far as the host tells, before it is asked).
            if (pluginSaidInactive(vdb.runtime)) [state, reason] = [vdb.runtime.state, vdb.runtime.reason];
          } else if (hasOperation(artifact, 'virtual.status')) {
            this.#statusAsked.set(vdb.id, { at: Date.now(), lastRunId: vdb.lastRunId });
            report.pluginStatuses.push(vdb.id);
            const said = await this.#pluginStatus(vdb.id).catch(
              (error: unknown) => `status failed: ${toDvxError(error).message}`,
            );
            // A plugin without a stop operation has nothing on the host that a stop ends (its VDB is its storage):
            // there `vdb stop` is what the record says, and an ACTIVE status does not undo it.
            if (said === 'ACTIVE' && hasOperation(artifact, 'virtual.stop')) running = true;
            else if (said === 'INACTIVE') running = false;
            if (said !== 'ACTIVE')
              [state, reason] = ['INACTIVE', said === 'INACTIVE' ? 'the plugin reports it inactive' : said];
          }
        }
      }
      if (busy) running = null;
      let runtime = nextStatus(vdb.runtime, state, reason);
      const mountsGone = state === 'INACTIVE' && reason?.endsWith('is not mounted');
      if (mountsGone && !busy) {
        const runId = await this.#recover('vdb', vdb.id, runtime, { vdbId: vdb.id }, 'vdb-enable');
        if (runId) {
          runtime = { ...runtime, recoveryRunId: runId };
          report.recoveries.push({ objectType: 'vdb', objectId: vdb.id, runId });
        }
      }
      if (changed(vdb.runtime, runtime) || (running !== null && running !== vdb.running))
        await model.vdbs.update(vdb.id, (current) => ({
          runtime,
          // A run that ended since this round read the VDB recorded what it did; that is newer than this reading.
          ...(running !== null && current.lastRunId === vdb.lastRunId ? { running } : {}),
        }));
      report.vdbs[vdb.id] = runtime.state;
    });

    await eachAtMost(dsources, this.#options.concurrency, async (dsource) => {
      const environmentId = dsource.stagingEnvironmentId ?? dsource.sourceEnvironmentId;
      const hostProblem = unreachable.get(environmentId);
      let state: RuntimeStatus['state'] = 'ACTIVE';
      let reason: string | null = hostProblem ?? null;
      if (hostProblem) state = 'UNREACHABLE';
      else if (dsource.pluginType === 'STAGED') {
        reason = await this.#mountsMissing(dsource.stagingMounts, attached).catch(
          (error: unknown) => toDvxError(error).message,
        );
        if (reason) state = 'INACTIVE';
      }
      let runtime = nextStatus(dsource.runtime, state, reason);
      if (
        state === 'INACTIVE' &&
        reason?.endsWith('is not mounted') &&
        !(await model.runs.lockHolder(`dsource/${dsource.id}`))
      ) {
        const runId = await this.#recover(
          'dsource',
          dsource.id,
          runtime,
          { dsourceId: dsource.id, pluginType: dsource.pluginType },
          'dsource-enable',
        );
        if (runId) {
          runtime = { ...runtime, recoveryRunId: runId };
          report.recoveries.push({ objectType: 'dsource', objectId: dsource.id, runId });
        }
      }
      if (changed(dsource.runtime, runtime)) await model.dsources.update(dsource.id, () => ({ runtime }));
      report.dsources[dsource.id] = runtime.state;
    });
    return report;
  }

  async #pluginStatus(vdbId: string): Promise<string> {
    const operands = await vdbOperands(this.services, vdbId);
    if (!operands.sourceConfig) return 'INACTIVE';
    const controller = new AbortController();
    const output = await callPlugin(
      this.services,
      {
        runId: 'health',
        stepId: 'status',
        src: 'plugin.virtual.status',
        operationId: `health-${vdbId}-${Date.now()}`,
        attempt: 1,
        signal: controller.signal,
        logger: this.logger,
      },
      {
        pluginId: operands.vdb.pluginId,
        operation: 'virtual.status',
        args: {
          virtualSource: operands.virtualSource,
          repository: operands.repository,
          sourceConfig: operands.sourceConfig,
        },
      },
    );
    return String(output);
  }
}
