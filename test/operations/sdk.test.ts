// The SDK as plugin authors use it: definePlugin's checks, migration ids, implemented operations, and platform
// libraries refusing to run outside an operation.
import { describe, expect, it } from 'vitest';
import {
  compareMigrationIds,
  definePlugin,
  implementedOperations,
  isPlugin,
  logger,
  migrationIdsOf,
  runBash,
  currentOperationId,
  UserError,
  type RemoteConnection,
} from '../../operations/sdk/index.js';
import { makeArtifact } from '../fixtures/plugins/make-artifact.js';

const discovery = { repository: () => [], sourceConfig: () => [] };

describe('definePlugin', () => {
  it('returns a frozen plugin whose operations cannot be swapped', () => {
    const plugin = definePlugin({ discovery, virtual: { configure: () => ({}) } });
    expect(isPlugin(plugin)).toBe(true);
    expect(Object.isFrozen(plugin)).toBe(true);
    expect(Object.isFrozen(plugin.virtual)).toBe(true);
    expect(() => {
      (plugin.virtual as Record<string, unknown>).configure = () => null;
    }).toThrow(TypeError);
  });

  it('lists the operations a plugin implements, by their OperationName', () => {
    const plugin = definePlugin({
      discovery,
      linked: { postSnapshot: () => ({}), mountSpecification: () => ({ mounts: [] }) },
      virtual: { status: () => 'ACTIVE' as const },
    });
    expect(implementedOperations(plugin)).toEqual([
      'discovery.repository',
      'discovery.sourceConfig',
      'linked.postSnapshot',
      'linked.mountSpecification',
      'virtual.status',
    ]);
  });

  it('refuses an unknown operation name or a non-function, naming it', () => {
    expect(() => definePlugin({ discovery, virtual: { confgure: () => ({}) } } as never)).toThrow(
      /virtual\.confgure is not a plugin operation; virtual operations are configure, initialize/,
    );
    expect(() => definePlugin({ discovery, linked: { preSnapshot: 'run' } } as never)).toThrow(
      'definePlugin: linked.preSnapshot must be a function.',
    );
    expect(() => definePlugin({ discovery, vritual: {} } as never)).toThrow(/unknown group "vritual"/);
  });

  it('orders migration ids numerically and refuses bad or repeated ones with a clear message', () => {
    const plugin = definePlugin({
      discovery,
      upgrade: {
        repository: { '1.10': (old) => old, '1.9': (old) => old, '2': (old) => old },
        snapshot: { '1.2.1': (old) => old },
      },
    });
    expect(migrationIdsOf(plugin)).toEqual({
      repository: ['1.9', '1.10', '2'],
      sourceConfig: [],
      linkedSource: [],
      virtualSource: [],
      snapshot: ['1.2.1'],
    });
    expect(compareMigrationIds('1.2', '01.02.0')).toBe(0);
    expect(() => definePlugin({ discovery, upgrade: { repository: { 'v1.2': (old) => old } } })).toThrow(
      'definePlugin: upgrade.repository migration id "v1.2" must be numbers separated by dots, like "1.2".',
    );
    expect(() => definePlugin({ discovery, upgrade: { repository: { '0.0': (old) => old } } })).toThrow(
      /must not be all zeros/,
    );
    expect(() =>
      definePlugin({
        discovery,
        upgrade: { repository: { '1.2': (old) => old }, sourceConfig: { '1.2.0': (old) => old } },
      }),
    ).toThrow(
      'definePlugin: migration id "1.2.0" of upgrade.sourceConfig is the same as "1.2" of upgrade.repository; ids must be unique across all object types.',
    );
    expect(() => definePlugin({ discovery, upgrade: { database: { '1': (old: unknown) => old } } } as never)).toThrow(
      /upgrade\.database is not an object type/,
    );
  });

  it('gives a built artifact the operations and migration ids of its code', async () => {
    const artifact = await makeArtifact({ entry: 'direct-plugin.ts', pluginType: 'DIRECT' });
    expect(artifact.manifest.operations).toEqual([
      'discovery.repository',
      'discovery.sourceConfig',
      'linked.preSnapshot',
      'linked.postSnapshot',
      'virtual.configure',
      'virtual.reconfigure',
      'virtual.postSnapshot',
      'virtual.mountSpecification',
    ]);
    expect(artifact.manifest.migrationIds).toMatchObject({ repository: ['1.9', '1.10'], snapshot: ['2'] });
    // The SDK is bundled into the code: the artifact needs nothing else at run time.
    expect(artifact.code).not.toMatch(/from ["']dvx\/sdk["']/);
  });
});

describe('platform libraries', () => {
  const connection: RemoteConnection = {
    environment: { name: 'h', reference: 'env', host: { hostname: 'h', scratchPath: '/tmp' } },
    user: { name: 'root', reference: 'env' },
  };

  it('refuse to run outside a plugin operation, saying so', async () => {
    await expect(runBash(connection, 'true')).rejects.toThrow(
      'dvx/sdk: runBash works only inside a plugin operation run by the dvx engine',
    );
    expect(() => currentOperationId()).toThrow(/works only inside a plugin operation/);
    expect(() => logger.info('hello')).toThrow(/logger works only inside a plugin operation/);
  });
});

describe('UserError', () => {
  it('keeps message, action and output', () => {
    const error = new UserError('Disk full.', 'Free space on /data.', 'df: 100%');
    expect(error).toBeInstanceOf(Error);
    expect({ name: error.name, message: error.message, action: error.action, output: error.output }).toEqual({
      name: 'UserError',
      message: 'Disk full.',
      action: 'Free space on /data.',
      output: 'df: 100%',
    });
  });
});
