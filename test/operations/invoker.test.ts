// The plugin invoker against real sshd hosts: plugins bundled with esbuild, run in child processes, their platform
// calls served by createPlatformServices over the engine's SSH pool and rsync.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DvxError } from '../../errors/index.js';
import { SshConnectionPool } from '../../hosts/index.js';
import {
  createPlatformServices,
  hasOperation,
  invokePlugin,
  type InvokeOptions,
  nodeRunnerLauncher,
  type PlatformServices,
  RunnerPool,
  type PluginArtifact,
  type RemoteConnection,
} from '../../operations/index.js';
import { startSshHosts, type TestSshHost, type TestSshHosts } from '../harness/ssh-hosts.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { waitFor } from '../harness/wait-for.js';
import { makeArtifact } from '../fixtures/plugins/make-artifact.js';
import { cachedCodePath } from '../../operations/invoker/index.js';
import { must } from '../harness/must.js';

let set: TestSshHosts;
let pool: SshConnectionPool;
let temp: { path: string; remove(): Promise<void> };
let kitchen: PluginArtifact;
let direct: PluginArtifact;
/** The warm pool the suite's second pass takes its processes from. */
let runners: RunnerPool | undefined;
const warmOption = () => (runners ? { runners } : {});
const hostsByReference = new Map<string, TestSshHost>();

function connectionOf(reference: string): RemoteConnection {
  const host = must(hostsByReference.get(reference), `the host of ${reference}`);
  return {
    environment: { name: host.name, reference, host: { hostname: host.address.host, scratchPath: '/tmp' } },
    user: { name: host.address.user, reference },
  };
}

function services(
  options: { syncDestination?: string; logger?: pino.Logger; pool?: SshConnectionPool } = {},
): PlatformServices {
  const own = options.pool ?? pool;
  return createPlatformServices({
    connect: async (reference) =>
      own.get(must(hostsByReference.get(reference), `the host of ${reference}`).spec({ id: reference })),
    ...(options.syncDestination ? { syncDestination: options.syncDestination } : {}),
    logger: options.logger ?? pino({ level: 'silent' }),
  });
}

const repository = { name: 'files', root: '/srv' };
const sourceConfig = { name: 'data', path: '/srv/data' };

function virtualSource(reference: string, parameters: Record<string, unknown> = {}) {
  const connection = connectionOf(reference);
  return {
    guid: 'vdb-1',
    connection,
    parameters: { mountLocation: '/mnt/vdb-1', ...parameters },
    mounts: [{ remoteEnvironment: connection.environment, mountPath: '/mnt/vdb-1', sharedPath: null }],
  };
}

function invoke(options: Partial<InvokeOptions> & Pick<InvokeOptions, 'operation' | 'args'>): Promise<unknown> {
  return invokePlugin({
    artifact: kitchen,
    operationId: 'op-1',
    services: services(),
    cacheDir: join(temp.path, 'cache'),
    timeoutMs: 30_000,
    ...warmOption(),
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<DvxError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the invocation to fail');
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DvxError);
  return error as DvxError;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  set = await startSshHosts(2);
  hostsByReference.set('env-a', must(set.hosts[0], 'host 0'));
  hostsByReference.set('env-b', must(set.hosts[1], 'host 1'));
  pool = new SshConnectionPool();
  temp = await makeTempDir('invoker');
  [kitchen, direct] = await Promise.all([
    makeArtifact({ entry: 'kitchen-plugin.ts' }),
    makeArtifact({ entry: 'direct-plugin.ts', pluginType: 'DIRECT' }),
  ]);
});

afterAll(async () => {
  await pool?.close();
  await set?.stopAll();
  await temp?.remove();
});

// Every guarantee holds alike for a process started for the call and for a warm one the pool started ahead.
describe.each([
  { path: 'a process started for the call', warm: false },
  { path: 'a warm runner from the pool', warm: true },
])('invokePlugin, $path', ({ warm }) => {
  beforeAll(async () => {
    if (!warm) return;
    const pool = new RunnerPool();
    runners = pool;
    const cacheDir = join(temp.path, 'cache');
    await Promise.all(
      [kitchen, direct].map(async (artifact) =>
        pool.warm({
          launcher: nodeRunnerLauncher,
          codePath: await cachedCodePath(artifact, cacheDir),
          plugin: artifact.manifest.id,
        }),
      ),
    );
    expect(pool.idle().filter((runner) => runner.loaded)).toHaveLength(4);
  });

  afterAll(async () => {
    await runners?.close();
    runners = undefined;
  });

  it('runs an operation in a child process and returns its typed result (runBash on a real host)', async () => {
    const repositories = await invoke({
      operation: 'discovery.repository',
      args: { sourceConnection: connectionOf('env-a') },
    });
    expect(repositories).toEqual([{ name: `answer 42 on ${must(set.hosts[0], 'host 0').name}`, root: '/srv' }]);
  });

  it('gives the plugin the operation id, the same on every attempt', async () => {
    for (const attempt of [1, 2]) {
      const configs = await invoke({
        operation: 'discovery.sourceConfig',
        operationId: 'run-7:step-3',
        args: { sourceConnection: connectionOf('env-a'), repository },
      });
      expect(configs, `attempt ${attempt}`).toEqual([{ name: 'run-7:step-3', path: '/srv' }]);
    }
  });

  it('passes runBash variables full of quotes, $(...) and newlines as data', async () => {
    const marker = join(temp.path, 'pwned');
    const note = `it's "quoted" $(touch ${marker}) \`touch ${marker}\` $HOME\nsecond line\\n; rm -rf /nothing`;
    const config = await invoke({
      operation: 'virtual.configure',
      args: { virtualSource: virtualSource('env-a', { note }), snapshot: {}, repository },
    });
    expect(config).toEqual({ name: note, path: '/mnt/vdb-1' });
    expect(existsSync(marker)).toBe(false);
  });

  it('copies a source directory into the sync destination with runSync (direct plugin, linked.preSnapshot)', async () => {
    const source = join(temp.path, 'source');
    await mkdir(join(source, 'sub'), { recursive: true });
    await writeFile(join(source, 'a.txt'), 'alpha');
    await writeFile(join(source, 'sub', 'b.txt'), 'beta');
    await writeFile(join(source, 'skip.txt'), 'excluded');
    const destination = join(temp.path, 'dsource');
    const connection = connectionOf('env-a');
    const args = {
      directSource: { guid: 'ds-1', connection, parameters: { mountLocation: '/unused' } },
      repository,
      sourceConfig: { name: 'src', path: source },
      snapshotParameters: { resync: true },
    };
    await expect(
      invoke({
        artifact: direct,
        operation: 'linked.preSnapshot',
        args,
        operationId: 'sync-1',
        services: services({ syncDestination: destination }),
      }),
    ).resolves.toBeUndefined();
    expect((await readdir(destination)).sort()).toEqual(['a.txt', 'sub']);
    expect(await readFile(join(destination, 'sub', 'b.txt'), 'utf8')).toBe('beta');
    const snapshot = await invoke({
      artifact: direct,
      operation: 'linked.postSnapshot',
      args: { ...args, snapshotParameters: null },
      operationId: 'sync-1b',
    });
    expect(snapshot).toEqual({ files: 3 });
  });

  it('refuses runSync where the operation has no sync destination, clearly', async () => {
    const error = await failure(
      invoke({
        operation: 'virtual.unconfigure',
        args: { virtualSource: virtualSource('env-a'), repository, sourceConfig },
      }),
    );
    expect(error.code).toBe('PLUGIN_FAULT');
    expect(error.message).toMatch(/runSync works only in linked\.preSnapshot/);
  });

  it('reports a UserError as PLUGIN_USER_ERROR with its message, action and output', async () => {
    const error = await failure(
      invoke({
        operation: 'virtual.configure',
        args: { virtualSource: virtualSource('env-a', { failConfigure: true }), snapshot: {}, repository },
      }),
    );
    expect(error.toJSON()).toMatchObject({
      code: 'PLUGIN_USER_ERROR',
      retryable: false,
      message: 'The database name is taken.',
      action: 'Pick another name and provision again.',
      output: 'psql: database "x" already exists',
      details: { operation: 'virtual.configure' },
    });
  });

  it('reports any other throw as PLUGIN_FAULT with its message and stack', async () => {
    const error = await failure(
      invoke({ operation: 'virtual.start', args: { virtualSource: virtualSource('env-a'), repository, sourceConfig } }),
    );
    expect(error.code).toBe('PLUGIN_FAULT');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe('virtual.start threw Error: boom from start');
    expect(String(error.details?.stack)).toMatch(/Error: boom from start\n\s+at /);
  });

  it('kills a plugin that hangs (and what it started) and fails with PLUGIN_TIMEOUT', async () => {
    const pidFile = join(temp.path, `hang-timeout-${warm}.json`);
    const error = await failure(
      invoke({
        operation: 'virtual.stop',
        timeoutMs: 3_000,
        args: { virtualSource: virtualSource('env-a', { pidFile }), repository, sourceConfig },
      }),
    );
    expect(error.code).toBe('PLUGIN_TIMEOUT');
    expect(error.details).toMatchObject({ operation: 'virtual.stop', timeoutMs: 3_000 });
    const { pid, grandchild } = JSON.parse(await readFile(pidFile, 'utf8')) as { pid: number; grandchild: number };
    expect(alive(pid)).toBe(false);
    await waitFor('the grandchild to be gone', () => !alive(grandchild), 5_000);
  });

  it('kills the host commands of a plugin that times out, on the host', async () => {
    const pidFile = join(temp.path, 'remote-hang.pid');
    const error = await failure(
      invoke({
        operation: 'virtual.stop',
        timeoutMs: 3_000,
        args: { virtualSource: virtualSource('env-a', { pidFile, note: 'remote-hang' }), repository, sourceConfig },
      }),
    );
    expect(error.code).toBe('PLUGIN_TIMEOUT');
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    expect(pid).toBeGreaterThan(1);
    try {
      await waitFor('the command on the host to be killed', () => !alive(pid), 10_000);
    } finally {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('kills the plugin when the signal aborts and fails with RUN_CANCELLED', async () => {
    const pidFile = join(temp.path, `hang-abort-${warm}.json`);
    const controller = new AbortController();
    const pending = failure(
      invoke({
        operation: 'virtual.stop',
        signal: controller.signal,
        args: { virtualSource: virtualSource('env-a', { pidFile }), repository, sourceConfig },
      }),
    );
    const { pid } = await waitFor('the plugin to start', async () =>
      existsSync(pidFile) ? (JSON.parse(await readFile(pidFile, 'utf8')) as { pid: number }) : null,
    );
    expect(alive(pid)).toBe(true);
    controller.abort();
    const error = await pending;
    expect(error.code).toBe('RUN_CANCELLED');
    expect(alive(pid)).toBe(false);
  });

  it('reports a plugin process that exits without answering as PLUGIN_CRASHED', async () => {
    const error = await failure(
      invoke({
        operation: 'virtual.cleanup',
        args: { virtualSource: virtualSource('env-a'), repository, sourceConfig },
      }),
    );
    expect(error.code).toBe('PLUGIN_CRASHED');
    expect(error.details).toMatchObject({ operation: 'virtual.cleanup', exitCode: 3 });
  });

  it('refuses output that does not match the schema, naming the field', async () => {
    const reconfigure = await failure(
      invoke({
        operation: 'virtual.reconfigure',
        args: { virtualSource: virtualSource('env-a'), repository, sourceConfig, snapshot: {} },
      }),
    );
    expect(reconfigure.code).toBe('PLUGIN_INVALID_OUTPUT');
    expect(reconfigure.message).toBe('virtual.reconfigure returned a source config where /path is required.');
    expect(reconfigure.details).toMatchObject({ issues: [{ pointer: '/path', message: 'is required' }] });

    const mounts = await failure(
      invoke({
        operation: 'virtual.mountSpecification',
        args: { virtualSource: virtualSource('env-a', { note: 'no-mounts' }), repository },
      }),
    );
    expect(mounts.code).toBe('PLUGIN_INVALID_OUTPUT');
    expect(mounts.message).toBe(
      'virtual.mountSpecification returned a mount specification where /mounts must list at least one mount.',
    );

    const size = await failure(
      invoke({
        operation: 'virtual.sourceSize',
        args: { virtualSource: virtualSource('env-a'), repository, sourceConfig },
      }),
    );
    expect(size.message).toBe('virtual.sourceSize returned "big" where / must be a number of bytes.');
  });

  it('returns a valid mount specification with defaults filled in', async () => {
    const { mounts: _mounts, ...unmounted } = virtualSource('env-a');
    const spec = await invoke({
      operation: 'virtual.mountSpecification',
      args: { virtualSource: unmounted, repository },
    });
    expect(spec).toEqual({
      mounts: [{ remoteEnvironment: connectionOf('env-a').environment, mountPath: '/mnt/vdb-1', sharedPath: null }],
      ownershipSpecification: { uid: 0, gid: 0 },
    });
  });

  it('refuses input that does not match the schema without starting the plugin, naming argument and pointer', async () => {
    const bad = virtualSource('env-a', { mountLocation: 42 });
    const error = await failure(
      invoke({ operation: 'virtual.start', args: { virtualSource: bad, repository, sourceConfig } }),
    );
    expect(error.code).toBe('PLUGIN_INVALID_INPUT');
    expect(error.details).toMatchObject({
      argument: 'virtualSource.parameters',
      issues: [{ pointer: '/virtualSource/parameters/mountLocation', message: 'must be string' }],
    });
    expect(error.message).toContain('/virtualSource/parameters/mountLocation must be string');

    const missing = await failure(
      invoke({ operation: 'virtual.configure', args: { virtualSource: virtualSource('env-a'), repository } }),
    );
    expect(missing.code).toBe('PLUGIN_INVALID_INPUT');
    expect(missing.details).toMatchObject({ argument: 'snapshot' });

    const extra = await failure(
      invoke({
        operation: 'discovery.sourceConfig',
        args: { sourceConnection: connectionOf('env-a'), repository: { ...repository, color: 'blue' } },
      }),
    );
    expect(extra.details).toMatchObject({
      argument: 'repository',
      issues: [{ pointer: '/repository/color', message: 'is not allowed' }],
    });
  });

  it('gives the plugin a failed checked command as a typed error with exit code, stdout and stderr', async () => {
    const caught = await failure(
      invoke({
        operation: 'virtual.preSnapshot',
        args: { virtualSource: virtualSource('env-a'), repository, sourceConfig },
      }),
    );
    expect(caught.code).toBe('PLUGIN_USER_ERROR');
    expect(caught.message).toBe('caught HOST_COMMAND_FAILED retryable=false exit=7');
    expect(caught.output).toBe('out\n|err\n');

    const escaped = await failure(
      invoke({
        operation: 'virtual.postSnapshot',
        args: { virtualSource: virtualSource('env-a'), repository, sourceConfig },
      }),
    );
    expect(escaped.code).toBe('HOST_COMMAND_FAILED');
    expect(escaped.output).toContain('failing');
    expect(escaped.details).toMatchObject({ exitCode: 5, operation: 'virtual.postSnapshot' });
  });

  it('returns a host outage during a platform call as a retryable HOST_UNREACHABLE, not a plugin fault', async () => {
    const own = new SshConnectionPool();
    const host = must(hostsByReference.get('env-b'), 'the host of env-b');
    await host.stop();
    try {
      const error = await failure(
        invoke({
          operation: 'virtual.status',
          services: services({ pool: own }),
          args: { virtualSource: virtualSource('env-b'), repository, sourceConfig },
        }),
      );
      expect(error.code).toBe('HOST_UNREACHABLE');
      expect(error.retryable).toBe(true);
      expect(error.details).toMatchObject({ operation: 'virtual.status' });
    } finally {
      await host.start();
      await own.close();
    }
    await expect(
      invoke({
        operation: 'virtual.status',
        args: { virtualSource: virtualSource('env-b'), repository, sourceConfig },
      }),
    ).resolves.toBe('ACTIVE');
  });

  it('refuses platform calls to environments the operation was not given', async () => {
    const connection = connectionOf('env-a');
    const stagedSource = {
      guid: 'ds-3',
      sourceConnection: connection,
      stagedConnection: connection,
      parameters: { mountLocation: '/mnt/ds-3' },
      mount: { remoteEnvironment: connection.environment, mountPath: '/mnt/ds-3', sharedPath: null },
    };
    const error = await failure(
      invoke({ operation: 'linked.startStaging', args: { stagedSource, repository, sourceConfig } }),
    );
    expect(error.code).toBe('PLUGIN_FAULT');
    expect(error.message).toBe('runBash: "env-not-given" is not an environment or user this operation was given.');
  });

  it('uses the defaults of optional operations a plugin leaves out, and refuses missing required ones', async () => {
    const args = { virtualSource: virtualSource('env-a'), repository, sourceConfig };
    const common = {
      artifact: direct,
      operationId: 'op-d',
      services: services(),
      cacheDir: join(temp.path, 'cache'),
      ...warmOption(),
    };
    expect(hasOperation(direct, 'virtual.status')).toBe(false);
    await expect(invokePlugin({ ...common, operation: 'virtual.status', args })).resolves.toBe('ACTIVE');
    await expect(invokePlugin({ ...common, operation: 'virtual.unconfigure', args })).resolves.toBeUndefined();
    await expect(invokePlugin({ ...common, operation: 'virtual.sourceSize', args })).resolves.toBeUndefined();
    const missing = await failure(
      invokePlugin({
        ...common,
        operation: 'virtual.initialize',
        args: { virtualSource: args.virtualSource, repository },
      }),
    );
    expect(missing.code).toBe('PLUGIN_OPERATION_MISSING');
    expect(missing.message).toContain('virtual.initialize');
  });

  it('logs what the plugin logs with secrets redacted', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString('utf8'));
        callback();
      },
    });
    const logger = pino({ level: 'debug' }, stream);
    const connection = connectionOf('env-a');
    const stagedSource = {
      guid: 'ds-2',
      sourceConnection: connection,
      stagedConnection: connection,
      parameters: { mountLocation: '/mnt/ds-2', secret: 's3cr3t-value' },
      mount: { remoteEnvironment: connection.environment, mountPath: '/mnt/ds-2', sharedPath: null },
    };
    await invoke({
      operation: 'linked.preSnapshot',
      services: services({ logger }),
      args: { stagedSource, repository, sourceConfig, snapshotParameters: null },
    });
    const text = lines.join('');
    expect(text).toContain('using secret [redacted] (resync: policy)');
    expect(text).toContain('"source":"plugin"');
    for (const secret of ['s3cr3t-value', 'hunter2-field', 'tok-nested']) expect(text).not.toContain(secret);
  });

  it('survives many failing plugins without leaking processes', async () => {
    const args = { virtualSource: virtualSource('env-a'), repository, sourceConfig };
    const results = await Promise.allSettled([
      invoke({ operation: 'virtual.start', args }),
      invoke({ operation: 'virtual.cleanup', args }),
      invoke({ operation: 'virtual.stop', args, timeoutMs: 1_500 }),
      invoke({ operation: 'virtual.status', args }),
    ]);
    expect(
      results.map((result) => (result.status === 'fulfilled' ? result.value : (result.reason as DvxError).code)),
    ).toEqual(['PLUGIN_FAULT', 'PLUGIN_CRASHED', 'PLUGIN_TIMEOUT', 'ACTIVE']);
    const { stdout } = await promisify(execFile)('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)]).catch(
      (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
    );
    // The pool's idle runners wait for calls to come; every process that ran one of these is gone.
    const idle = new Set((runners?.idle() ?? []).map((runner) => String(runner.pid)));
    const leftover = stdout.split('\n').filter((line) => !idle.has(line.trim().split(/\s+/)[0] ?? ''));
    expect(leftover.join('\n')).not.toContain('plugin-runner');
  });
});
