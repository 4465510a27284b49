import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { ADMIN_TOKEN_FILE } from '../../cli/engine-client.js';
import { waitForRun } from '../../cli/wait-for-run.js';
import type { DvxError } from '../../errors/index.js';
import type { EngineFixture } from './engine-fixture.js';
import { must } from '../harness/must.js';

const execFileAsync = promisify(execFile);

/** The `dvx` command from source (tsx) against the fixture's engine. */
export async function dvx(
  engine: EngineFixture,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const token = (await readFile(join(engine.runtime.dataDir, ADMIN_TOKEN_FILE), 'utf8')).trim();
  const script = `const m = await import('./cli/main.ts'); await m.main(${JSON.stringify(['node', 'dvx', '--engine', engine.runtime.url, '--token', token, ...args])});`;
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: process.cwd() },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

export async function succeeded(engine: EngineFixture, answer: { run: { id: string } }) {
  const run = await waitForRun(engine.client, answer.run.id, { stream: null });
  expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
  return run;
}

export async function refused(promise: Promise<unknown>): Promise<DvxError> {
  try {
    await promise;
  } catch (error) {
    return error as DvxError;
  }
  throw new Error('expected the request to be refused');
}

/** Plugin, three environments, a source directory (holding a.txt) and a linked dSource named `name`. */
export async function setUpDsource(
  engine: EngineFixture,
  name: string,
  linkParameters: Record<string, unknown> = {},
): Promise<{ dsourceId: string; environments: string[]; sourceDir: string }> {
  const artifact = JSON.parse(await readFile(await engine.build('test/e2e/fixture-plugin'), 'utf8')) as unknown;
  await engine.client.post('/plugins', artifact);
  const environments: string[] = [];
  for (const index of [0, 1, 2]) {
    const host = engine.tourHost(index);
    const answer = await engine.client.post<{ environment: { id: string }; run: { id: string } }>('/environments', {
      name: host.name,
      host: host.host,
      port: host.port,
      user: host.user,
      privateKey: host.privateKey,
    });
    await succeeded(engine, answer);
    environments.push(answer.environment.id);
  }
  const sourceDir = join(must(engine.ssh.hosts[0], 'engine.ssh.hosts[0]').home, name);
  await mkdir(sourceDir, { recursive: true });
  await writeFile(join(sourceDir, 'a.txt'), 'a\n');
  const { repositories } = await engine.client.get<{ repositories: { id: string }[] }>(
    `/repositories?environment=${environments[0]}`,
  );
  const { sourceConfig } = await engine.client.post<{ sourceConfig: { id: string } }>('/sourceconfigs', {
    repository: must(repositories[0], 'repositories[0]').id,
    parameters: { name, path: sourceDir },
  });
  const link = await engine.client.post<{ dsource: { id: string }; run: { id: string } }>('/dsources', {
    name,
    sourceConfig: sourceConfig.id,
    stagingEnvironment: environments[1],
    parameters: { mountLocation: join(engine.dir, 'mnt', `${name}-staging`), ...linkParameters },
  });
  await succeeded(engine, link);
  return { dsourceId: link.dsource.id, environments, sourceDir };
}

export interface SnapshotView {
  id: string;
  createdAt: string;
  timeflowId: string;
}

export async function snapshotsOf(engine: EngineFixture, ref: string): Promise<SnapshotView[]> {
  return (await engine.client.get<{ snapshots: SnapshotView[] }>(`/snapshots?of=${encodeURIComponent(ref)}`)).snapshots;
}
