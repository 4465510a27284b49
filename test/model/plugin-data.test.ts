import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../errors/index.js';
import { DvxModel } from '../../model/dvx-model.js';
import { openPluginData, sealPluginData } from '../../model/plugin-data.js';
import { identityOf, nameOf, stableId } from '../../model/plugin-identity.js';
import { SecretBox } from '../../model/secret-box.js';
import type { PluginArtifact } from '../../schemas/plugin-artifact.js';
import { TEST_SCHEMAS } from '../fixtures/plugins/make-artifact.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';

let redis: TestRedis;
let client: Redis;
let model: DvxModel;

beforeAll(async () => {
  redis = await startRedisServer();
  client = redis.client();
  model = new DvxModel(client);
});
afterAll(async () => redis.remove());
beforeEach(async () => client.flushall());

const artifact: PluginArtifact = {
  formatVersion: 1,
  manifest: {
    id: 'p-test',
    name: 'test',
    externalVersion: '1',
    buildNumber: '1',
    pluginType: 'DIRECT',
    hostTypes: ['UNIX'],
    language: 'TYPESCRIPT',
    defaultLocale: 'en-us',
    rootSquashEnabled: true,
    operations: [],
    migrationIds: { repository: [], sourceConfig: [], linkedSource: [], virtualSource: [], snapshot: [] },
  },
  schemas: TEST_SCHEMAS,
  code: 'export default {};',
  codeSha256: '0',
  builtAt: '2026-01-01T00:00:00.000Z',
};

describe('plugin artifacts in the model', () => {
  it('returns the stored artifact, and a not-found error with what to do when there is none', async () => {
    await model.putPluginArtifact('p-test', artifact);
    expect((await model.pluginArtifact('p-test')).manifest.name).toBe('test');
    const error = await model.pluginArtifact('p-gone').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({
      code: 'NOT_FOUND',
      message: 'No plugin artifact with id "p-gone".',
      action: 'Upload the plugin again with `dvx plugin upload`.',
    });
    expect(await model.findPluginArtifact('p-gone')).toBeNull();
  });
});

describe('plugin data at rest', () => {
  it('seals password fields for storage and opens them for the plugin, leaving the rest as it is', () => {
    const secrets = SecretBox.random();
    const data = { path: '/data', secret: 'hunter2' };
    const sealed = sealPluginData({ secrets }, artifact, 'linkedSourceDefinition', data);
    expect(sealed.path).toBe('/data');
    expect(SecretBox.isSealed(sealed.secret)).toBe(true);
    expect(sealPluginData({ secrets }, artifact, 'linkedSourceDefinition', sealed)).toEqual(sealed);
    expect(openPluginData({ secrets }, artifact, 'linkedSourceDefinition', sealed)).toEqual(data);
  });

  it('names records by their identity fields, so that re-discovery finds the same ids', () => {
    const schema = TEST_SCHEMAS.sourceConfigDefinition;
    const identity = identityOf(schema, { name: 'a', path: '/x' });
    expect(identityOf(schema, { name: 'renamed', path: '/x' })).toBe(identity);
    expect(stableId('sc', 'repo-1', identity)).toBe(stableId('sc', 'repo-1', identity));
    expect(stableId('sc', 'repo-1', identity)).not.toBe(stableId('sc', 'repo-2', identity));
    expect(nameOf(schema, { name: 'a', path: '/x' }, 'fallback')).toBe('a');
    expect(nameOf(schema, { path: '/x' }, 'fallback')).toBe('fallback');
  });
});
