// `dvx plugin upload --wait` against a real engine: each environment's rediscovery reported, a failed one makes the
// command exit non-zero, and the plugin's code is cached in the engine's data dir.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngineFixture, type EngineFixture } from './engine-fixture.js';
import { dvx, succeeded } from './fixture-setup.js';
import { must } from '../harness/must.js';

let engine: EngineFixture;
let artifactPath: string;
const names: string[] = [];

beforeAll(async () => {
  engine = await startEngineFixture({ hosts: 2, retryDeadlineMs: 4_000 });
  artifactPath = await engine.build('test/e2e/fixture-plugin');
  await engine.client.post('/plugins', JSON.parse(await readFile(artifactPath, 'utf8')));
  for (const index of [0, 1]) {
    const host = engine.tourHost(index);
    const answer = await engine.client.post<{ environment: { id: string }; run: { id: string } }>('/environments', {
      name: host.name,
      host: host.host,
      port: host.port,
      user: host.user,
      privateKey: host.privateKey,
    });
    await succeeded(engine, answer);
    names.push(host.name);
  }
}, 240_000);

afterAll(async () => engine?.stop(), 120_000);

describe('dvx plugin upload --wait', () => {
  it("reports every environment's rediscovery and caches the code in the data dir", async () => {
    const upload = await dvx(engine, 'plugin', 'upload', '--wait', artifactPath);
    expect(upload, upload.stderr).toMatchObject({ code: 0 });
    for (const name of names) expect(upload.stdout).toMatch(new RegExp(`environment ${name}: rediscovered \\(run `));
    const { code } = JSON.parse(await readFile(artifactPath, 'utf8')) as { code: string };
    const codeSha256 = createHash('sha256').update(code).digest('hex');
    expect(await readdir(join(engine.runtime.dataDir, 'plugin-cache'))).toEqual([`${codeSha256}.mjs`]);
  }, 120_000);

  it('exits non-zero and says which environment failed and why when a rediscovery fails', async () => {
    await must(engine.ssh.hosts[1], 'ssh.hosts[1]').stop();
    try {
      const upload = await dvx(engine, 'plugin', 'upload', '--wait', artifactPath);
      expect(upload.code, upload.stdout + upload.stderr).toBe(1);
      expect(upload.stdout).toMatch(new RegExp(`environment ${names[0]}: rediscovered \\(run `));
      expect(upload.stdout).toMatch(new RegExp(`environment ${names[1]}: rediscovery FAILED \\(run `));
      expect(upload.stdout).toMatch(/error \([A-Z_]+\): /);

      const json = await dvx(engine, '--json', 'plugin', 'upload', '--wait', artifactPath);
      expect(json.code).toBe(1);
      const answer = JSON.parse(json.stdout) as {
        rediscoveries: { environment: { name: string }; run: { status: string } }[];
      };
      expect(answer.rediscoveries.map((outcome) => [outcome.environment.name, outcome.run.status]).sort()).toEqual([
        [names[0], 'succeeded'],
        [names[1], 'failed'],
      ]);
    } finally {
      await must(engine.ssh.hosts[1], 'ssh.hosts[1]').start();
    }
  }, 180_000);
});
