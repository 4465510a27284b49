// Python (vSDK) plugins run by the invoker: one `python3 -I` process per operation speaking the runner protocol over
// Node's IPC channel, platform calls served against a real sshd host exactly as for TypeScript plugins (references
// check, timeouts, process-group kill, errors), cold and from the warm pool.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DvxError } from '../../errors/index.js';
import { SshConnectionPool } from '../../hosts/index.js';
import { createPlatformServices, invokePlugin, RunnerPool, type PluginArtifact } from '../../operations/index.js';
import { makePythonArtifact } from '../fixtures/plugins/make-artifact.js';
import { must } from '../harness/must.js';
import { startSshHosts, type TestSshHost, type TestSshHosts } from '../harness/ssh-hosts.js';
import { isAlive } from '../harness/ssh-processes.js';
import { makeTempDir } from '../harness/temp-dir.js';

let set: TestSshHosts;
let host: TestSshHost;
let pool: SshConnectionPool;
let temp: { path: string; remove(): Promise<void> };
let kitchen: PluginArtifact;
let broken: PluginArtifact;
let importCall: PluginArtifact;
const runnerPools: RunnerPool[] = [];

beforeAll(async () => {
  set = await startSshHosts(1);
  host = must(set.hosts[0], 'host 0');
  pool = new SshConnectionPool();
  temp = await makeTempDir('python-runner');
  kitchen = await makePythonArtifact({
    srcDir: 'python-kitchen/src',
    operations: [
      'discovery.repository',
      'virtual.configure',
      'virtual.mountSpecification',
      'virtual.status',
      'linked.postSnapshot',
    ],
  });
  broken = await makePythonArtifact({ srcDir: 'python-broken/src', operations: ['virtual.configure'] });
  importCall = await makePythonArtifact({ srcDir: 'python-import-call/src', operations: ['virtual.configure'] });
});
afterAll(async () => {
  for (const runners of runnerPools) await runners.close();
  await pool?.close();
  await set?.stopAll();
  await temp?.remove();
});

const reference = 'env-py';
const connection = () => ({
  environment: { name: host.name, reference, host: { hostname: host.address.host, scratchPath: '/tmp' } },
  user: { name: host.address.user, reference: 'user-py' },
});
const virtualSource = (parameters: Record<string, unknown> = {}) => ({
  guid: 'vdb-py',
  connection: connection(),
  parameters: { mountLocation: '/mnt/vdb-py', ...parameters },
  mounts: [{ remoteEnvironment: connection().environment, mountPath: '/mnt/vdb-py', sharedPath: null }],
});

interface Call {
  operation: Parameters<typeof invokePlugin>[0]['operation'];
  args: Record<string, unknown>;
  artifact?: PluginArtifact;
  timeoutMs?: number;
  runners?: RunnerPool;
}

async function invoke(call: Call): Promise<{ output: unknown; log: string }> {
  const lines: string[] = [];
  const logger = pino(
    { level: 'trace' },
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString('utf8'));
        callback();
      },
    }),
  );
  const connect = async () => pool.get(host.spec({ id: reference }));
  try {
    const output = await invokePlugin({
      artifact: call.artifact ?? kitchen,
      operation: call.operation,
      operationId: 'op-py',
      args: call.args,
      services: createPlatformServices({ connect, logger }),
      logger,
      cacheDir: join(temp.path, 'cache'),
      timeoutMs: call.timeoutMs ?? 60_000,
      runners: call.runners,
    });
    return { output, log: lines.join('') };
  } catch (error) {
    Object.assign(error as object, { log: lines.join('') });
    throw error;
  }
}

async function failure(call: Call): Promise<DvxError & { log: string }> {
  const error = await invoke(call).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(DvxError);
  return error as DvxError & { log: string };
}

const configureArgs = (parameters: Record<string, unknown> = {}) => ({
  virtualSource: virtualSource(parameters),
  repository: { name: 'files', root: '/srv' },
  snapshot: { files: 3 },
});

describe.each([false, true])('Python plugins (warm runners: %s)', (warm) => {
  const runners = () => {
    if (!warm) return undefined;
    const runnerPool = new RunnerPool({ size: 1 });
    runnerPools.push(runnerPool);
    return runnerPool;
  };

  it('runs an operation: keyword arguments, run_bash on the host, srcDir as the working directory, its result', async () => {
    const { output, log } = await invoke({ operation: 'virtual.configure', args: configureArgs(), runners: runners() });
    const { name, path } = output as { name: string; path: string };
    expect(path).toBe('/mnt/vdb-py');
    expect(JSON.parse(name)).toEqual({
      exit_code: 4,
      stdout: expect.stringMatching(/^hello world\|\//) as unknown,
      cwd: true,
      resource: 'a resource file',
      describe: `vdb-py on ${host.address.host}`,
      snapshot: { files: 3 },
    });
    // PlatformHandler records and what the plugin printed at import reach the operation's log
    expect(log).toMatch(/configuring vdb-py/);
    expect(log).toMatch(/imported/);
    expect(log).toMatch(/printed in configure/);
  });

  it('returns the platform objects and definitions as the engine takes them', async () => {
    const args = { virtualSource: virtualSource(), repository: { name: 'files', root: '/srv' } };
    const { output: spec } = await invoke({ operation: 'virtual.mountSpecification', args, runners: runners() });
    expect(spec).toEqual({
      mounts: [{ remoteEnvironment: connection().environment, mountPath: '/mnt/vdb-py', sharedPath: null }],
      ownershipSpecification: null,
    });
    const { output: status } = await invoke({
      operation: 'virtual.status',
      args: { ...args, sourceConfig: { name: 'x', path: '/x' } },
    });
    expect(status).toBe('INACTIVE');
    const { output: repositories } = await invoke({
      operation: 'discovery.repository',
      args: { sourceConnection: connection() },
    });
    expect(repositories).toEqual([{ name: 'files', root: expect.stringMatching(/^\//) as unknown }]);
  });

  it('passes null snapshot parameters as None', async () => {
    const stagedSource = {
      guid: 'ds-py',
      sourceConnection: connection(),
      stagedConnection: connection(),
      parameters: { mountLocation: '/mnt/ds' },
      mount: { remoteEnvironment: connection().environment, mountPath: '/mnt/ds', sharedPath: null },
    };
    const args = { stagedSource, repository: { name: 'f', root: '/srv' }, sourceConfig: { name: 'x', path: '/x' } };
    const policy = await invoke({ operation: 'linked.postSnapshot', args: { ...args, snapshotParameters: null } });
    expect(policy.output).toEqual({ takenAt: 'null' });
    const manual = await invoke({
      operation: 'linked.postSnapshot',
      args: { ...args, snapshotParameters: { resync: true } },
    });
    expect(manual.output).toEqual({ takenAt: 'true' });
  });

  it('fails with PLUGIN_USER_ERROR for a UserError, with its action and output', async () => {
    const error = await failure({
      operation: 'virtual.configure',
      args: configureArgs({ note: 'user-error' }),
      runners: runners(),
    });
    expect(error.code).toBe('PLUGIN_USER_ERROR');
    expect(error.message).toBe('The note says no.');
    expect(error.toJSON()).toMatchObject({ action: 'Change the note.', output: 'details here' });
  });

  it('fails with PLUGIN_FAULT for an exception, with its Python stack; check=True raises PluginScriptError', async () => {
    const bug = await failure({ operation: 'virtual.configure', args: configureArgs({ note: 'raise' }) });
    expect(bug.code).toBe('PLUGIN_FAULT');
    expect(bug.message).toMatch(/threw ValueError: a bug in the plugin/);
    expect(String(bug.details?.stack)).toMatch(/plugin_runner\.py", line \d+, in configure/);
    const script = await failure({ operation: 'virtual.configure', args: configureArgs({ note: 'check' }) });
    expect(script.code).toBe('PLUGIN_FAULT');
    expect(script.message).toMatch(
      /PluginScriptError: The script failed with exit code 3\. stdout : out\n and {2}stderr : err/,
    );
  });

  it('reports an import error with the plugin file and line', async () => {
    const error = await failure({
      operation: 'virtual.configure',
      args: configureArgs(),
      artifact: broken,
      runners: runners(),
    });
    expect(error.code).toBe('PLUGIN_FAULT');
    expect(error.message).toMatch(
      /Importing the plugin failed at plugin_runner\.py line 7: NameError: name 'undefined_name'/,
    );
  });

  it('refuses platform calls at import, naming the line', async () => {
    const error = await failure({ operation: 'virtual.configure', args: configureArgs(), artifact: importCall });
    expect(error.code).toBe('PLUGIN_FAULT');
    expect(error.message).toMatch(
      /Importing the plugin failed at plugin_runner\.py line 7: PluginRuntimeError: runBash was called while the plugin was imported/,
    );
  });

  it('refuses a platform call on a host the operation was not given (the references check): a LibraryError', async () => {
    const error = await failure({ operation: 'virtual.configure', args: configureArgs({ note: 'other-host' }) });
    expect(error.code).toBe('PLUGIN_FAULT');
    expect(error.message).toMatch(/"env-other" is not an environment or user this operation was given/);
    expect(error.details).toMatchObject({ raisedIn: 'platform call' });
    const { output } = await invoke({
      operation: 'virtual.configure',
      args: configureArgs({ note: 'catch-other-host' }),
    });
    expect(output).toEqual({ name: 'caught PLUGIN_FAULT', path: '/' });
  });

  it("holds the vSDK's 4 MiB limit of operation outputs", async () => {
    const fits = 4 * 1024 * 1024 - 64;
    const { output } = await invoke({ operation: 'virtual.configure', args: configureArgs({ note: `big:${fits}` }) });
    expect((output as { name: string }).name).toHaveLength(fits);
    const error = await failure({ operation: 'virtual.configure', args: configureArgs({ note: `big:${fits + 128}` }) });
    expect(error.code).toBe('PLUGIN_FAULT');
    expect(error.message).toMatch(/over the 4 MiB the Virtualization SDK allows/);
  });

  it('kills a plugin that hangs, and what it started, with PLUGIN_TIMEOUT', async () => {
    const pidFile = join(temp.path, `hang-${warm}.json`);
    const error = await failure({
      operation: 'virtual.configure',
      args: configureArgs({ note: 'sleep', pidFile }),
      timeoutMs: 3_000,
      runners: runners(),
    });
    expect(error.code).toBe('PLUGIN_TIMEOUT');
    const { pid, grandchild } = JSON.parse(await readFile(pidFile, 'utf8')) as { pid: number; grandchild: number };
    expect(isAlive(pid)).toBe(false);
    const deadline = Date.now() + 5_000;
    while (isAlive(grandchild) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(isAlive(grandchild)).toBe(false);
  });
});
