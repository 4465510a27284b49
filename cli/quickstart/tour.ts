import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DvxError } from '../../errors/index.js';
import { localMountPoints } from '../../storage/local-mounts.js';
import type { EngineClient } from '../engine-client.js';
import type { RunView } from '../run-view.js';
import { waitForRun } from '../wait-for-run.js';
import { treeDigest } from './tree-digest.js';

/** How the tour uses a plugin: its artifact and the parameters its schemas want. */
export interface TourPlugin {
  artifactPath: string;
  /** A source config for a directory on the source host. */
  sourceConfig(path: string, name: string): Record<string, unknown>;
  /** Link parameters; `stagingPath` is a free directory on the staging host. */
  linkParameters(stagingPath: string): Record<string, unknown>;
  /** VDB parameters; `mountPath` is where the VDB should appear on the target host. */
  vdbParameters(mountPath: string): Record<string, unknown>;
  /**
   * Where the plugin's copy of the source directory lies in a dSource snapshot or a VDB whose root is `root`: the
   * root itself, or, for a plugin that copies the directory itself into its mount (`rsync -r host:/data mount`, as the
   * vSDK tutorial's), `root/data`. @defaultValue the root
   */
  copiedInto?(root: string, sourceDir: string): string;
}

/**
 * How the tour reads and writes the files of a host (the source directory, the VDB's mount). The default is this
 * machine's filesystem, for hosts that share it; a host that shares nothing needs its own (over its shell).
 */
export interface TourFiles {
  /** {@link treeDigest} of a directory of the host. */
  digest(path: string): Promise<string>;
  writeFile(path: string, text: string): Promise<void>;
  appendFile(path: string, text: string): Promise<void>;
  /** Removes a file; missing is fine. */
  remove(path: string): Promise<void>;
  /** Whether something is mounted at `path` on the host. */
  isMounted(path: string): Promise<boolean>;
}

/** {@link TourFiles} of this machine's filesystem. */
export const LOCAL_TOUR_FILES: TourFiles = {
  digest: (path) => treeDigest(path),
  writeFile: (path, text) => writeFile(path, text),
  appendFile: (path, text) => appendFile(path, text),
  remove: (path) => rm(path, { force: true }),
  isMounted: async (path) => (await localMountPoints()).includes(path),
};

/** A host the tour adds as an environment. */
export interface TourHost {
  name: string;
  host: string;
  port: number;
  user: string;
  privateKey: string;
}

/** Options of {@link runTour}. */
export interface TourOptions {
  client: EngineClient;
  plugin: TourPlugin;
  hosts: { source: TourHost; staging: TourHost; target: TourHost };
  /** The dataset: a directory on the source host (which shares this machine's filesystem). */
  sourceDir: string;
  /** Scratch directory for staging and VDB mount paths. */
  workDir: string;
  /**
   * How the tour reaches the files of the source and target hosts. Given, `workDir` is a path on the staging and
   * target hosts and is not created here. @defaultValue {@link LOCAL_TOUR_FILES} for both, and `workDir` is created
   */
  files?: { source: TourFiles; target: TourFiles };
  /** Prefix of the names of everything the tour creates. */
  prefix: string;
  log?: (line: string) => void;
  /** Leave the dSource (and a fresh VDB) in place at the end instead of deleting everything. @defaultValue false */
  keep?: boolean;
  /** Follow runs' steps on this stream. @defaultValue none */
  progress?: NodeJS.WritableStream | null;
}

interface Snapshot {
  id: string;
  timeflowId: string;
  path: string;
  createdAt: string;
}

/** What the tour did, step by step. */
export interface TourReport {
  steps: { step: string; detail: string; ms: number }[];
  dsource: { id: string; name: string };
  vdb: { id: string; name: string; mountPath: string };
  runs: string[];
}

class TourError extends DvxError {}

function check(condition: boolean, message: string): void {
  if (!condition) throw new TourError({ code: 'INTERNAL', message: `Tour check failed: ${message}` });
}

/** `value`, or a failed tour check naming what is missing. */
function found<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new TourError({ code: 'INTERNAL', message: `Tour check failed: no ${what}` });
  return value;
}

/**
 * The tour: link a directory tree, sync, provision a VDB, write to it, snapshot, rewind, refresh, rewind across
 * timeflows, stop/start, disable/enable, delete. Every step goes through the engine's API, as a user's would, and
 * every claim is checked on the files themselves.
 */
export async function runTour(options: TourOptions): Promise<TourReport> {
  const { client, plugin, hosts, prefix } = options;
  const log = options.log ?? (() => undefined);
  const report: TourReport = {
    steps: [],
    dsource: { id: '', name: '' },
    vdb: { id: '', name: '', mountPath: '' },
    runs: [],
  };
  const step = async <T>(
    name: string,
    action: () => Promise<T>,
    describe: (value: T) => string = () => '',
  ): Promise<T> => {
    const started = Date.now();
    const value = await action();
    const entry = { step: name, detail: describe(value), ms: Date.now() - started };
    report.steps.push(entry);
    log(`${name.padEnd(34)} ${String(entry.ms).padStart(6)} ms  ${entry.detail}`);
    return value;
  };
  const finished = async (answer: { run: { id: string } }): Promise<RunView> => {
    report.runs.push(answer.run.id);
    const run = await waitForRun(client, answer.run.id, { stream: options.progress ?? null });
    if (run.status !== 'succeeded') {
      throw new TourError({
        code: 'INTERNAL',
        message: `Run ${run.id} (${run.kind}) ${run.status}: ${run.error?.message ?? ''}`,
        ...(run.error?.action ? { action: run.error.action } : {}),
        details: { runId: run.id },
      });
    }
    return run;
  };
  const source = options.files?.source ?? LOCAL_TOUR_FILES;
  const target = options.files?.target ?? LOCAL_TOUR_FILES;
  const mounted = (path: string) => target.isMounted(path);
  const vdbMount = join(options.workDir, `${prefix}-vdb`);
  const stagingPath = join(options.workDir, `${prefix}-staging`);
  if (!options.files) await mkdir(options.workDir, { recursive: true });

  const pluginId = await step(
    'upload plugin',
    async () => {
      const artifact = JSON.parse(await readFile(plugin.artifactPath, 'utf8')) as unknown;
      const answer = await client.post<{ plugin: { id: string; name: string }; runs: { id: string }[] }>(
        '/plugins',
        artifact,
      );
      for (const run of answer.runs) await waitForRun(client, run.id, { stream: null });
      return answer.plugin.id;
    },
    (id) => id,
  );

  const environments: Record<'source' | 'staging' | 'target', string> = { source: '', staging: '', target: '' };
  for (const role of ['source', 'staging', 'target'] as const) {
    const host = hosts[role];
    environments[role] = await step(
      `add environment ${host.name}`,
      async () => {
        const existing = await client.get<{ environments: { id: string; name: string }[] }>('/environments');
        const found = existing.environments.find((environment) => environment.name === host.name);
        if (found) {
          await finished(await client.post(`/environments/${found.id}/refresh`));
          return found.id;
        }
        const answer = await client.post<{ environment: { id: string }; run: { id: string } }>('/environments', {
          name: host.name,
          host: host.host,
          port: host.port,
          user: host.user,
          privateKey: host.privateKey,
        });
        await finished(answer);
        return answer.environment.id;
      },
      (id) => `${host.user}@${host.host}:${host.port} (${id})`,
    );
  }

  const sourceConfig = await step(
    'add source config',
    async () => {
      const repositories = (
        await client.get<{ repositories: { id: string; pluginId: string }[] }>(
          `/repositories?environment=${environments.source}`,
        )
      ).repositories.filter((repository) => repository.pluginId === pluginId);
      check(repositories.length > 0, 'discovery found no repository of the plugin on the source host');
      const parameters = plugin.sourceConfig(options.sourceDir, `${prefix}-data`);
      const { sourceConfigs } = await client.get<{
        sourceConfigs: { id: string; repositoryId: string; parameters: Record<string, unknown> }[];
      }>(`/sourceconfigs?environment=${environments.source}`);
      const same = sourceConfigs.find(
        (config) =>
          repositories.some((repository) => repository.id === config.repositoryId) &&
          JSON.stringify(config.parameters) === JSON.stringify(parameters),
      );
      if (same) return same.id;
      return (
        await client.post<{ sourceConfig: { id: string } }>('/sourceconfigs', {
          repository: found(repositories[0], 'repository').id,
          parameters,
        })
      ).sourceConfig.id;
    },
    (id) => id,
  );

  const dsourceName = `${prefix}-dsource`;
  /** The copy of the source directory under a snapshot's or the VDB's root. */
  const data = (root: string) => (plugin.copiedInto ? plugin.copiedInto(root, options.sourceDir) : root);
  const initialDigest = await source.digest(options.sourceDir);
  const dsource = await step(
    'link (initial resync)',
    async () => {
      const answer = await client.post<{ dsource: { id: string }; run: { id: string } }>('/dsources', {
        name: dsourceName,
        sourceConfig,
        stagingEnvironment: environments.staging,
        parameters: plugin.linkParameters(stagingPath),
      });
      await finished(answer);
      return answer.dsource;
    },
    (value) => value.id,
  );
  report.dsource = { id: dsource.id, name: dsourceName };
  const snapshotsOf = async (ref: string) =>
    (await client.get<{ snapshots: Snapshot[] }>(`/snapshots?of=${encodeURIComponent(ref)}`)).snapshots;
  const lastSnapshotOf = async (ref: string) => found((await snapshotsOf(ref)).at(-1), `snapshot of ${ref}`);
  const firstSnapshot = await lastSnapshotOf(dsource.id);
  check(
    (await treeDigest(data(firstSnapshot.path))) === initialDigest,
    'the first dSource snapshot differs from the source',
  );

  await source.writeFile(join(options.sourceDir, `changed-${prefix}.txt`), `changed at ${new Date().toISOString()}\n`);
  const syncedDigest = await source.digest(options.sourceDir);
  const synced = await step(
    'change the source, sync',
    async () => {
      await finished(await client.post(`/dsources/${dsource.id}/sync`, { resync: false }));
      return await lastSnapshotOf(dsource.id);
    },
    (snapshot) => `snapshot ${snapshot.id}`,
  );
  check((await treeDigest(data(synced.path))) === syncedDigest, 'the synced snapshot differs from the changed source');
  check((await treeDigest(data(firstSnapshot.path))) === initialDigest, 'syncing changed an earlier snapshot');

  const vdbName = `${prefix}-vdb`;
  const vdb = await step(
    'provision VDB from latest snapshot',
    async () => {
      const answer = await client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
        name: vdbName,
        source: dsource.id,
        environment: environments.target,
        parameters: plugin.vdbParameters(vdbMount),
      });
      await finished(answer);
      return answer.vdb;
    },
    (value) => `${value.id} at ${vdbMount}`,
  );
  report.vdb = { id: vdb.id, name: vdbName, mountPath: vdbMount };
  await step(
    'VDB files equal the snapshot',
    async () => {
      check(await mounted(vdbMount), `${vdbMount} is not mounted`);
      const digest = await target.digest(data(vdbMount));
      check(digest === syncedDigest, 'VDB contents differ from the source at the snapshot');
      return digest;
    },
    (digest) => `sha256 ${digest.slice(0, 16)}`,
  );

  await step('write in the VDB; dSource untouched', async () => {
    await target.writeFile(join(data(vdbMount), 'written-in-vdb.txt'), 'hello from the VDB\n');
    check((await treeDigest(data(synced.path))) === syncedDigest, 'a write in the VDB changed the dSource snapshot');
    check((await source.digest(options.sourceDir)) === syncedDigest, 'a write in the VDB changed the source');
  });

  const vdbSnapshot = await step(
    'VDB snapshot',
    async () => {
      await finished(await client.post(`/vdbs/${vdb.id}/snapshot`));
      return await lastSnapshotOf(vdb.id);
    },
    (snapshot) => snapshot.id,
  );
  const snapshotDigest = await target.digest(data(vdbMount));

  await step(
    'more writes, rewind to the snapshot',
    async () => {
      await target.appendFile(join(data(vdbMount), 'written-in-vdb.txt'), 'a later change\n');
      await target.remove(join(data(vdbMount), `changed-${prefix}.txt`));
      check((await target.digest(data(vdbMount))) !== snapshotDigest, 'the writes did not change the VDB');
      await finished(await client.post(`/vdbs/${vdb.id}/rewind`, { snapshot: vdbSnapshot.id }));
      check((await target.digest(data(vdbMount))) === snapshotDigest, 'rewind did not restore the snapshot contents');
    },
    () => `restored ${vdbSnapshot.id}`,
  );
  const beforeRefresh = await lastSnapshotOf(vdb.id);

  await source.writeFile(join(options.sourceDir, `newer-${prefix}.txt`), 'newer data\n');
  const newerDigest = await source.digest(options.sourceDir);
  await step('sync again, refresh the VDB', async () => {
    await finished(await client.post(`/dsources/${dsource.id}/sync`, {}));
    await finished(await client.post(`/vdbs/${vdb.id}/refresh`, {}));
    check((await target.digest(data(vdbMount))) === newerDigest, 'refresh did not bring the newer source contents');
  });

  await step(
    'rewind across timeflows (undo refresh)',
    async () => {
      await finished(await client.post(`/vdbs/${vdb.id}/rewind`, { snapshot: beforeRefresh.id }));
      check(
        (await target.digest(data(vdbMount))) === snapshotDigest,
        'rewinding to the pre-refresh snapshot did not undo the refresh',
      );
    },
    () => `back to ${beforeRefresh.id}`,
  );

  await step('stop / start', async () => {
    await finished(await client.post(`/vdbs/${vdb.id}/stop`));
    check(
      !(await client.get<{ vdb: { running: boolean } }>(`/vdbs/${vdb.id}`)).vdb.running,
      'the VDB still runs after stop',
    );
    await finished(await client.post(`/vdbs/${vdb.id}/start`));
    check(
      (await client.get<{ vdb: { running: boolean } }>(`/vdbs/${vdb.id}`)).vdb.running,
      'the VDB does not run after start',
    );
  });

  await step(
    'disable / enable',
    async () => {
      await finished(await client.post(`/vdbs/${vdb.id}/disable`));
      check(!(await mounted(vdbMount)), 'the VDB is still mounted after disable');
      check(
        !(await client.get<{ vdb: { enabled: boolean } }>(`/vdbs/${vdb.id}`)).vdb.enabled,
        'the VDB is still enabled',
      );
      await finished(await client.post(`/vdbs/${vdb.id}/enable`));
      check(await mounted(vdbMount), 'the VDB is not mounted again after enable');
      check((await target.digest(data(vdbMount))) === snapshotDigest, 'enable changed the VDB contents');
    },
    () => 'unmounted, then mounted again',
  );

  if (options.keep) return report;

  await step(
    'delete the VDB',
    async () => {
      const timeflows = new Set((await snapshotsOf(vdb.id)).map((snapshot) => snapshot.timeflowId));
      await finished(await client.delete(`/vdbs/${vdb.id}`));
      check(!(await mounted(vdbMount)), 'the VDB is still mounted after delete');
      const left = await client
        .get<{ snapshots: Snapshot[] }>('/snapshots')
        .then((answer) => answer.snapshots.filter((snapshot) => timeflows.has(snapshot.timeflowId)));
      check(
        left.length === 0,
        `snapshots of the deleted VDB remain: ${left.map((snapshot) => snapshot.id).join(', ')}`,
      );
      return timeflows.size;
    },
    (count) => `no mount, clone or record left (${count} timeflows destroyed)`,
  );
  return report;
}
