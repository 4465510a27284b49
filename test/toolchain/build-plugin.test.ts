// `dvx plugin init` then `dvx plugin build`: the scaffolds build cleanly and their artifacts run through the real
// invoker against a real sshd host; warnings for missing operations, file:line errors from the type check, bundling
// and loading; the e2e fixture plugin and the shipped plugins build.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../errors/index.js';
import { SshConnectionPool } from '../../hosts/index.js';
import {
  createPlatformServices,
  invokePlugin,
  type PlatformServices,
  type RemoteConnection,
} from '../../operations/index.js';
import {
  buildPlugin,
  GENERATED_TYPES_FILE,
  initPlugin,
  loadArtifact,
  PluginBuildError,
} from '../../operations/toolchain/index.js';
import { startSshHosts, type TestSshHosts } from '../harness/ssh-hosts.js';
import { must } from '../harness/must.js';
import { objectContaining, stringContaining, stringMatching } from '../harness/matchers.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { buildFailure, copyPlugin, editSource, scaffold } from './plugin-fixtures.js';

let temp: { path: string; remove(): Promise<void> };
let hosts: TestSshHosts;
let pool: SshConnectionPool;
const scaffolds: Record<'STAGED' | 'DIRECT', string> = { STAGED: '', DIRECT: '' };

beforeAll(async () => {
  temp = await makeTempDir('toolchain-build');
  hosts = await startSshHosts(1);
  pool = new SshConnectionPool();
  scaffolds.STAGED = await scaffold(join(temp.path, 'staged-files'), 'STAGED');
  scaffolds.DIRECT = await scaffold(join(temp.path, 'direct-files'), 'DIRECT', 'Direct files');
});
afterAll(async () => {
  await pool?.close();
  await hosts?.stopAll();
  await temp?.remove();
});

function connection(): RemoteConnection {
  const host = must(hosts.hosts[0], 'a host');
  return {
    environment: { name: host.name, reference: 'env-1', host: { hostname: host.address.host, scratchPath: '/tmp' } },
    user: { name: host.address.user, reference: 'env-1' },
  };
}

function services(syncDestination?: string): PlatformServices {
  return createPlatformServices({
    connect: async () => pool.get(must(hosts.hosts[0], 'a host').spec({ id: 'env-1' })),
    ...(syncDestination ? { syncDestination } : {}),
    logger: pino({ level: 'silent' }),
  });
}

async function sourceTree(): Promise<string> {
  const source = join(temp.path, `source-${Math.random().toString(36).slice(2)}`);
  await mkdir(join(source, 'sub'), { recursive: true });
  await writeFile(join(source, 'a.txt'), 'alpha');
  await writeFile(join(source, 'sub', 'b.txt'), 'beta');
  return source;
}

describe('dvx plugin init', () => {
  it('writes plugin.yml with a fresh UUID, the six definitions, the source, the generated types and a tsconfig', async () => {
    const dir = scaffolds.DIRECT;
    expect((await readdir(dir)).sort()).toEqual(['.gitignore', 'plugin.yml', 'schema.json', 'src', 'tsconfig.json']);
    const config = await readFile(join(dir, 'plugin.yml'), 'utf8');
    expect(config).toMatch(/^id: [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/m);
    expect(config).toMatch(/^name: "Direct files"$/m);
    expect(config).toMatch(/^pluginType: DIRECT$/m);
    expect(config).toMatch(/^language: TYPESCRIPT$/m);
    const schema = JSON.parse(await readFile(join(dir, 'schema.json'), 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    expect(Object.keys(schema).sort()).toEqual([
      'linkedSourceDefinition',
      'repositoryDefinition',
      'snapshotDefinition',
      'snapshotParametersDefinition',
      'sourceConfigDefinition',
      'virtualSourceDefinition',
    ]);
    expect(schema.repositoryDefinition).toMatchObject({ identityFields: ['root'], nameField: 'name' });
    expect(schema.sourceConfigDefinition).toMatchObject({ identityFields: ['path'], nameField: 'name' });
    expect(await readFile(join(dir, 'src', GENERATED_TYPES_FILE), 'utf8')).toMatch(/export interface Definitions \{/);
    expect(await readFile(join(dir, 'src', 'index.ts'), 'utf8')).toMatch(/definePlugin<Definitions, 'DIRECT'>/);
    const other = await initPlugin({ dir: join(temp.path, 'another'), type: 'direct' });
    expect(other.id).not.toBe(must(config.match(/^id: (.*)$/m), 'an id line')[1]);
    expect(other.name).toBe('another');
  });

  it('refuses a directory that is not empty, and changes nothing in it', async () => {
    const dir = join(temp.path, 'taken');
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'mine');
    const error = await initPlugin({ dir, type: 'STAGED' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toMatch(/is not empty \(it holds notes\.txt\)/);
    expect((error as ValidationError).issues).toEqual([{ pointer: '/dir', message: 'is not empty' }]);
    expect(await readdir(dir)).toEqual(['notes.txt']);
  });
});

describe('dvx plugin build of the scaffolds', () => {
  it('builds the staged scaffold with no warnings; its artifact loads and runs discovery, mount and sync operations on a real host', async () => {
    const dir = scaffolds.STAGED;
    const built = await buildPlugin({ dir });
    expect(built.warnings).toEqual([]);
    expect(built.artifactPath).toBe(join(dir, 'build', 'artifact.json'));
    const artifact = await loadArtifact(built.artifactPath);
    expect(artifact).toEqual(built.artifact);
    expect(artifact.manifest).toMatchObject({
      name: 'staged-files',
      pluginType: 'STAGED',
      hostTypes: ['UNIX'],
      language: 'TYPESCRIPT',
      buildNumber: '1.0.0',
    });
    expect(artifact.manifest.operations).toEqual([
      'discovery.repository',
      'discovery.sourceConfig',
      'linked.preSnapshot',
      'linked.postSnapshot',
      'linked.mountSpecification',
      'virtual.configure',
      'virtual.reconfigure',
      'virtual.postSnapshot',
      'virtual.mountSpecification',
    ]);
    expect(artifact.code).not.toMatch(/from ["']dvx\/sdk["']/);

    const common = { artifact, services: services(), cacheDir: join(temp.path, 'cache'), timeoutMs: 30_000 };
    const sourceConnection = connection();
    expect(
      await invokePlugin({
        ...common,
        operation: 'discovery.repository',
        operationId: 'op-1',
        args: { sourceConnection },
      }),
    ).toEqual([{ name: `directories on ${must(hosts.hosts[0], 'a host').name}`, root: '/' }]);
    const source = await sourceTree();
    const staging = join(temp.path, 'staging-mount');
    await mkdir(staging);
    const stagedSource = {
      guid: 'ds-1',
      sourceConnection,
      stagedConnection: sourceConnection,
      parameters: { mountLocation: staging },
      mount: { remoteEnvironment: sourceConnection.environment, mountPath: staging, sharedPath: null },
    };
    const repository = { name: 'files', root: '/' };
    const sourceConfig = { name: 'data', path: source };
    expect(
      await invokePlugin({
        ...common,
        operation: 'linked.mountSpecification',
        operationId: 'op-2',
        args: { stagedSource, repository },
      }),
    ).toEqual({
      mounts: [{ remoteEnvironment: sourceConnection.environment, mountPath: staging, sharedPath: null }],
      ownershipSpecification: null,
    });
    await invokePlugin({
      ...common,
      operation: 'linked.preSnapshot',
      operationId: 'op-3',
      args: { stagedSource, repository, sourceConfig, snapshotParameters: { resync: true } },
    });
    expect((await readdir(staging)).sort()).toEqual(['a.txt', 'sub']);
    expect(await readFile(join(staging, 'sub', 'b.txt'), 'utf8')).toBe('beta');
    const snapshot = (await invokePlugin({
      ...common,
      operation: 'linked.postSnapshot',
      operationId: 'op-4',
      args: { stagedSource, repository, sourceConfig, snapshotParameters: null },
    })) as { takenAt: string };
    expect(Number.isNaN(Date.parse(snapshot.takenAt))).toBe(false);
    const virtualSource = {
      guid: 'vdb-1',
      connection: sourceConnection,
      parameters: { mountLocation: '/mnt/vdb-1' },
      mounts: [{ remoteEnvironment: sourceConnection.environment, mountPath: '/mnt/vdb-1', sharedPath: null }],
    };
    expect(
      await invokePlugin({
        ...common,
        operation: 'virtual.configure',
        operationId: 'op-5',
        args: { virtualSource, snapshot, repository },
      }),
    ).toEqual({ name: 'vdb-1', path: '/mnt/vdb-1' });
  });

  it('builds the direct scaffold with no warnings; its preSnapshot copies the source with runSync', async () => {
    const dir = scaffolds.DIRECT;
    const out = join(temp.path, 'direct-artifact.json');
    const built = await buildPlugin({ dir, out });
    expect(built.warnings).toEqual([]);
    expect(built.artifactPath).toBe(out);
    const artifact = await loadArtifact(out);
    expect(artifact.manifest).toMatchObject({ name: 'Direct files', pluginType: 'DIRECT' });
    expect(artifact.manifest.operations).not.toContain('linked.mountSpecification');
    const source = await sourceTree();
    const destination = join(temp.path, 'direct-dsource');
    const directSource = { guid: 'ds-2', connection: connection(), parameters: { excludePaths: ['sub'] } };
    await invokePlugin({
      artifact,
      services: services(destination),
      cacheDir: join(temp.path, 'cache'),
      timeoutMs: 30_000,
      operation: 'linked.preSnapshot',
      operationId: 'op-6',
      args: {
        directSource,
        repository: { name: 'files', root: '/' },
        sourceConfig: { name: 'data', path: source },
        snapshotParameters: null,
      },
    });
    expect(await readdir(destination)).toEqual(['a.txt']);
  });
});

describe('dvx plugin build findings', () => {
  it('warns, and still builds, when a required operation is missing', async () => {
    const dir = await copyPlugin(scaffolds.STAGED, join(temp.path, 'no-reconfigure'));
    await editSource(dir, (text) => text.replace(/^\s*reconfigure: .*\n/m, ''));
    const built = await buildPlugin({ dir });
    expect(built.artifact.manifest.operations).not.toContain('virtual.reconfigure');
    expect(built.warnings).toEqual([
      objectContaining({
        file: 'src/index.ts',
        message: stringContaining('does not implement virtual.reconfigure, which a STAGED plugin needs'),
      }),
    ]);
    expect(existsSync(built.artifactPath)).toBe(true);
  });

  it('refuses a type error, naming file:line', async () => {
    const dir = await copyPlugin(scaffolds.STAGED, join(temp.path, 'type-error'));
    await rm(join(dir, 'build'), { recursive: true, force: true });
    await editSource(dir, (text) =>
      text.replace(
        'configure: ({ virtualSource }) => ({ name: virtualSource.guid, path: virtualSource.parameters.mountLocation }),',
        'configure: ({ virtualSource }) => ({ name: virtualSource.guid, path: virtualSource.parameters.mountPoint }),',
      ),
    );
    const source = await readFile(join(dir, 'src', 'index.ts'), 'utf8');
    const line = source.split('\n').findIndex((text) => text.includes('mountPoint')) + 1;
    expect(line).toBeGreaterThan(0);
    const error = await buildFailure(dir);
    expect(error.issues).toEqual([
      objectContaining({
        file: 'src/index.ts',
        line,
        message: stringMatching(/Property 'mountPoint' does not exist on type 'VirtualSourceDefinition'.*TS2339/),
      }),
    ]);
    expect(error.message).toContain(`src/index.ts:${line}:`);
    expect(existsSync(join(dir, 'build', 'artifact.json'))).toBe(false);
  });

  it('refuses an import that does not resolve, naming file:line', async () => {
    const dir = await copyPlugin(scaffolds.STAGED, join(temp.path, 'bad-import'));
    await editSource(
      dir,
      (text) =>
        `import { helper } from './helpers.js';\n${text.replace('sourceConfig: () => [],', 'sourceConfig: () => helper(),')}`,
    );
    const error = await buildPlugin({ dir, skipTypeCheck: true }).catch(
      (caught: unknown) => caught as PluginBuildError,
    );
    expect(error).toBeInstanceOf(PluginBuildError);
    expect((error as PluginBuildError).issues).toEqual([
      objectContaining({
        file: 'src/index.ts',
        line: 1,
        message: stringContaining('Could not resolve "./helpers.js"'),
      }),
    ]);
  });

  it('refuses a module whose default export is not a plugin', async () => {
    const dir = await copyPlugin(scaffolds.STAGED, join(temp.path, 'not-a-plugin'));
    await editSource(dir, (text) =>
      text.replace('export default definePlugin<Definitions>(', 'export const plugin = definePlugin<Definitions>('),
    );
    const error = await buildFailure(dir);
    expect(error.issues).toEqual([
      objectContaining({
        file: 'src/index.ts',
        message: 'is not a plugin: there is no default export',
        fix: stringContaining('export default definePlugin'),
      }),
    ]);
  });

  it('refuses a plugin that definePlugin rejects when it loads (a bad migration id), with its message', async () => {
    const dir = await copyPlugin(scaffolds.STAGED, join(temp.path, 'bad-migration'));
    await editSource(dir, (text) =>
      text.replace(/\n\}\);\n$/, "\n  upgrade: { repository: { 'one': (old) => old } },\n});\n"),
    );
    const error = await buildFailure(dir);
    expect(error.issues).toEqual([
      objectContaining({
        file: 'src/index.ts',
        message: stringContaining('migration id "one" must be numbers separated by dots'),
      }),
    ]);
  });

  it('records migration ids in order', async () => {
    const dir = await copyPlugin(scaffolds.DIRECT, join(temp.path, 'migrations'));
    await editSource(dir, (text) =>
      text.replace(
        /\n\}\);\n$/,
        "\n  upgrade: { repository: { '2': (old) => old, '1.10': (old) => old, '1.2': (old) => old }, snapshot: { '3': (old) => old } },\n});\n",
      ),
    );
    const built = await buildPlugin({ dir });
    expect(built.artifact.manifest.migrationIds).toEqual({
      repository: ['1.2', '1.10', '2'],
      sourceConfig: [],
      linkedSource: [],
      virtualSource: [],
      snapshot: ['3'],
    });
  });

  it('loadArtifact refuses an artifact changed after the build', async () => {
    const built = await buildPlugin({ dir: scaffolds.DIRECT, out: join(temp.path, 'tampered.json') });
    await writeFile(
      built.artifactPath,
      JSON.stringify({ ...built.artifact, code: `${built.artifact.code}\n// changed` }),
    );
    await expect(loadArtifact(built.artifactPath)).rejects.toThrow(/#\/codeSha256: does not match the code/);
  });
});

describe('plugins in this repository build', () => {
  it('builds the e2e fixture plugin (without writing generated types into it, when asked)', async () => {
    const dir = await copyPlugin(resolve('test/e2e/fixture-plugin'), join(temp.path, 'fixture-plugin'));
    const built = await buildPlugin({ dir, writeTypes: false });
    expect(built.warnings).toEqual([]);
    expect(existsSync(join(dir, 'src', 'generated'))).toBe(false);
    expect(built.artifact.manifest).toMatchObject({
      id: '9d1f0c9e-5a43-4c8e-9f5e-3f2b1e0a7c11',
      name: 'e2e-fixture',
      pluginType: 'STAGED',
    });
    expect(built.artifact.manifest.operations).toContain('virtual.status');
  });

  // Built from a copy, so that the test leaves no generated files or artifacts in the repository.
  it.each(['plugins/dirtree', 'plugins/dirsync'])('builds %s with no warnings', async (plugin) => {
    const dir = await copyPlugin(resolve(plugin), join(temp.path, plugin.replace('/', '-')));
    const built = await buildPlugin({ dir });
    expect(built.warnings).toEqual([]);
    expect(built.artifact.manifest.operations.length).toBeGreaterThan(0);
  });
});
