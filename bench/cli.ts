// Wall time of `dvx` commands as people and scripts run them (a new node process each time, the compiled CLI in
// dist/): `dvx --help`, and two read commands against a running engine with a dSource and three VDBs, against the
// baseline of `node -e 0` (the cost of starting node at all), in interleaved rounds of the same run.
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ADMIN_TOKEN_FILE } from '../cli/engine-client.js';
import { DIRTREE_TOUR_PLUGIN } from '../cli/quickstart/tour-plugins.js';
import { startEngineFixture } from '../test/e2e/engine-fixture.js';
import { must } from '../test/harness/must.js';
import { loadAverage } from './lib/cpu-time.js';
import { finished, installPluginWithEnvironments } from './lib/engine.js';
import { round, summarize } from './lib/stats.js';

const ROUNDS = 30;
const WARMUP_ROUNDS = 3;

/** Milliseconds from spawning `node ARGS` to its exit; throws unless it exits 0. */
function timeNode(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const elapsed = performance.now() - start;
      if (code === 0) resolve(elapsed);
      else reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr}`));
    });
  });
}

export default async function cli() {
  const engine = await startEngineFixture();
  try {
    const environments = await installPluginWithEnvironments(engine, 'plugins/dirtree');
    const { repositories } = await engine.client.get<{ repositories: { id: string }[] }>(
      `/repositories?environment=${environments[0]}`,
    );
    const source = join(must(engine.ssh.hosts[0], 'a host').home, 'data', 'cli-bench');
    await mkdir(source, { recursive: true });
    await writeFile(join(source, 'a.txt'), 'hello\n');
    const { sourceConfig } = await engine.client.post<{ sourceConfig: { id: string } }>('/sourceconfigs', {
      repository: must(repositories[0], 'a repository').id,
      parameters: DIRTREE_TOUR_PLUGIN.sourceConfig(source, 'cli-bench'),
    });
    const mnt = join(engine.dir, 'mnt');
    const link = await finished(
      engine,
      await engine.client.post('/dsources', {
        name: 'ds-cli',
        sourceConfig: sourceConfig.id,
        stagingEnvironment: environments[1],
        parameters: DIRTREE_TOUR_PLUGIN.linkParameters(join(mnt, 'staging')),
      }),
    );
    let lastRun = link.id;
    for (const index of [1, 2, 3]) {
      const view = await finished(
        engine,
        await engine.client.post('/vdbs', {
          name: `vdb-cli-${index}`,
          source: link.objectId,
          environment: environments[2],
          parameters: DIRTREE_TOUR_PLUGIN.vdbParameters(join(mnt, `vdb-${index}`)),
        }),
      );
      lastRun = view.id;
    }

    const token = (await readFile(join(engine.runtime.dataDir, ADMIN_TOKEN_FILE), 'utf8')).trim();
    const env = { PATH: process.env.PATH ?? '', DVX_ENGINE_URL: engine.runtime.url, DVX_TOKEN: token };
    const dvx = join(import.meta.dirname, '..', 'bin', 'dvx.js');
    const cases: Record<string, string[]> = {
      nodeBaseline: ['-e', '0'],
      help: [dvx, '--help'],
      vdbList: [dvx, 'vdb', 'list'],
      runShow: [dvx, 'run', 'show', lastRun],
    };
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
    const loads: number[] = [];
    for (let i = -WARMUP_ROUNDS; i < ROUNDS; i += 1) {
      for (const [name, args] of Object.entries(cases)) {
        const ms = await timeNode(args, env);
        if (i >= 0) must(samples[name], name).push(ms);
      }
      if (i >= 0) loads.push(loadAverage());
    }
    const summary = Object.fromEntries(Object.entries(samples).map(([name, list]) => [name, summarize(list)]));
    const p50 = (name: string) => must(summary[name], name).p50;
    return {
      description: `wall time from spawn to exit of the compiled CLI (bin/dvx.js), ${ROUNDS} interleaved rounds after ${WARMUP_ROUNDS} warm-up rounds, against a running engine (1 dSource, 3 VDBs); baseline: node -e 0 in the same rounds`,
      loadAverage: { min: Math.min(...loads), max: Math.max(...loads) },
      ms: summary,
      overBaselineP50Ms: {
        help: round(p50('help') - p50('nodeBaseline')),
        vdbList: round(p50('vdbList') - p50('nodeBaseline')),
        runShow: round(p50('runShow') - p50('nodeBaseline')),
      },
      target: 'read commands (vdb list, run show) at most 150 ms p50, --help at most 100 ms p50',
      targetMet: p50('help') <= 100 && p50('vdbList') <= 150 && p50('runShow') <= 150,
    };
  } finally {
    await engine.stop();
  }
}
