// Provision time by phase (clone, attach, configure) for datasets of 100 MB, 1 GB and 10 GB of real files, next to a
// full `cp -a` of the same data measured in the same run; 1, 5 and 15 provisions at once; and the pool space that 20
// idle VDBs of a 1 GB dSource take. Real engine, real sshd hosts, a btrfs pool on a loop file, the dirtree plugin.
// DVX_BENCH_SIZES=100M,1G limits the sizes (the 10 GB case writes and ingests 10 GB).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DIRTREE_TOUR_PLUGIN } from '../cli/quickstart/tour-plugins.js';
import type { RunView } from '../cli/run-view.js';
import { parseSize } from '../storage/index.js';
import { startEngineFixture, type EngineFixture } from '../test/e2e/engine-fixture.js';
import { must } from '../test/harness/must.js';
import { finished, installPluginWithEnvironments, wallMs } from './lib/engine.js';
import { median, round } from './lib/stats.js';

const run = promisify(execFile);
const FILE_BYTES = 4 * 1024 * 1024;

async function writeDataset(dir: string, bytes: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  const block = randomBytes(FILE_BYTES);
  for (let i = 0; i * FILE_BYTES < bytes; i += 1) {
    // Each file differs (its first bytes carry its number) so nothing can be shared by accident.
    block.writeUInt32BE(i, 0);
    await writeFile(join(dir, `file-${String(i).padStart(6, '0')}.bin`), block);
  }
}

const stepMs = (view: RunView, stepId: string) => view.steps.find((step) => step.stepId === stepId)?.durationMs ?? null;

async function poolUsedBytes(engine: EngineFixture): Promise<number> {
  await run('btrfs', ['filesystem', 'sync', engine.storage.root]);
  return (await engine.storage.usage()).usedBytes;
}

export default async function provision() {
  const sizes = (process.env.DVX_BENCH_SIZES ?? '100M,1G,10G')
    .split(',')
    .map((size) => ({ label: size, bytes: parseSize(size) }));
  const engine = await startEngineFixture({ poolSizeBytes: 64 * 1024 ** 3, retryDeadlineMs: 600_000 });
  try {
    const environments = await installPluginWithEnvironments(engine, 'plugins/dirtree');
    const { repositories } = await engine.client.get<{ repositories: { id: string }[] }>(
      `/repositories?environment=${environments[0]}`,
    );
    const mnt = join(engine.dir, 'mnt');

    const bySize = [];
    const dsources: Record<string, string> = {};
    for (const size of sizes) {
      const source = join(must(engine.ssh.hosts[0], 'a host').home, 'data', size.label);
      await writeDataset(source, size.bytes);
      const { sourceConfig } = await engine.client.post<{ sourceConfig: { id: string } }>('/sourceconfigs', {
        repository: must(repositories[0], 'a repository').id,
        parameters: DIRTREE_TOUR_PLUGIN.sourceConfig(source, `data-${size.label}`),
      });
      const link = await finished(
        engine,
        await engine.client.post('/dsources', {
          name: `ds-${size.label}`,
          sourceConfig: sourceConfig.id,
          stagingEnvironment: environments[1],
          parameters: DIRTREE_TOUR_PLUGIN.linkParameters(join(mnt, `staging-${size.label}`)),
        }),
      );
      dsources[size.label] = link.objectId;
      const answer = await engine.client.post<{ run: { id: string } }>('/vdbs', {
        name: `vdb-${size.label}`,
        source: link.objectId,
        environment: environments[2],
        parameters: DIRTREE_TOUR_PLUGIN.vdbParameters(join(mnt, `vdb-${size.label}`)),
      });
      const view = await finished(engine, answer);
      const copyTarget = join(engine.storage.root, `cp-baseline-${size.label}`);
      const copyStart = performance.now();
      await run('cp', ['-a', '--reflink=never', source, copyTarget]);
      await run('sync', []);
      const copyMs = performance.now() - copyStart;
      await rm(copyTarget, { recursive: true, force: true });
      bySize.push({
        size: size.label,
        bytes: size.bytes,
        linkMs: wallMs(link),
        provisionMs: wallMs(view),
        phasesMs: {
          clone: stepMs(view, 'clone'),
          attach: stepMs(view, 'attach'),
          configure: stepMs(view, 'configure'),
          firstSnapshot: stepMs(view, 'snapshot'),
        },
        fullCopyMs: round(copyMs, 1),
        provisionVsCopy: round(wallMs(view) / copyMs, 3),
      });
    }

    const concurrencySource = dsources['1G'] ?? must(Object.values(dsources)[0], 'a dSource');
    const concurrency = [];
    for (const count of [1, 5, 15]) {
      const started = performance.now();
      const answers = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          engine.client.post<{ run: { id: string } }>('/vdbs', {
            name: `c${count}-${i}`,
            source: concurrencySource,
            environment: environments[2],
            parameters: DIRTREE_TOUR_PLUGIN.vdbParameters(join(mnt, `c${count}-${i}`)),
          }),
        ),
      );
      const views = await Promise.all(answers.map((answer) => finished(engine, answer)));
      concurrency.push({
        provisionsAtOnce: count,
        wallMs: round(performance.now() - started, 1),
        medianRunMs: median(views.map(wallMs)),
        maxRunMs: Math.max(...views.map(wallMs)),
      });
    }

    const before = await poolUsedBytes(engine);
    const twenty = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        engine.client.post<{ run: { id: string } }>('/vdbs', {
          name: `idle-${i}`,
          source: concurrencySource,
          environment: environments[2],
          parameters: DIRTREE_TOUR_PLUGIN.vdbParameters(join(mnt, `idle-${i}`)),
        }),
      ),
    );
    await Promise.all(twenty.map((answer) => finished(engine, answer)));
    const after = await poolUsedBytes(engine);
    const dsourceBytes = must(
      sizes.find((size) => dsources[size.label] === concurrencySource),
      'the dSource size',
    ).bytes;
    return {
      bySize,
      concurrency,
      space: {
        vdbs: 20,
        dsourceBytes,
        poolBytesAdded: after - before,
        fractionOfDsource: round((after - before) / dsourceBytes, 4),
        target: '< 0.05',
      },
    };
  } finally {
    await engine.stop();
  }
}
