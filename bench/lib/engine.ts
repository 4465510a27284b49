// What the engine benchmarks share: waiting for a run that must succeed, and installing a plugin with the three
// tour environments (source, staging, target) it runs on.
import { readFile } from 'node:fs/promises';
import type { RunView } from '../../cli/run-view.js';
import { waitForRun } from '../../cli/wait-for-run.js';
import type { EngineFixture } from '../../test/e2e/engine-fixture.js';
import { must } from '../../test/harness/must.js';

/** Waits for the run of an answer; throws unless it succeeded. */
export async function finished(engine: EngineFixture, answer: { run: { id: string } }): Promise<RunView> {
  const view = await waitForRun(engine.client, answer.run.id, { stream: null });
  if (view.status !== 'succeeded')
    throw new Error(`run ${view.id} (${view.kind}) ${view.status}: ${view.error?.message} ${view.error?.output ?? ''}`);
  return view;
}

/** From the request to the end of the run. */
export const wallMs = (view: RunView) =>
  new Date(must(view.endedAt, 'view.endedAt')).getTime() - new Date(view.createdAt).getTime();

/** Builds and uploads the plugin of `dir`, then adds the fixture's tour hosts 0, 1 and 2 as environments (their ids, in that order). */
export async function installPluginWithEnvironments(engine: EngineFixture, dir: string): Promise<string[]> {
  const artifact = JSON.parse(await readFile(await engine.build(dir), 'utf8')) as unknown;
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
    await finished(engine, answer);
    environments.push(answer.environment.id);
  }
  return environments;
}
