// A lifecycle request (a VDB snapshot) through the request queue against the same through REST, alternating, same
// engine, same VDB, same run: the time until the run exists (the request accepted and its run started) and until
// the producer knows the outcome (queue: job.waitUntilFinished; REST: the 202, then the run read until it ended,
// every 50 ms). Real engine, real sshd hosts, a btrfs pool on a loop file, the dirtree plugin.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { DIRTREE_TOUR_PLUGIN } from '../cli/quickstart/tour-plugins.js';
import type { RunView } from '../cli/run-view.js';
import { waitForRun } from '../cli/wait-for-run.js';
import { REQUEST_QUEUE, requestJob, type RequestJobData, type RequestJobResult } from '../model/request-queue.js';
import { startEngineFixture } from '../test/e2e/engine-fixture.js';
import { must } from '../test/harness/must.js';
import { loadAverage } from './lib/cpu-time.js';
import { finished, installPluginWithEnvironments } from './lib/engine.js';
import { round, summarize } from './lib/stats.js';

const ROUNDS = Number(process.env.DVX_BENCH_ROUNDS ?? 20);
const WARMUP = 3;

export default async function queue() {
  const engine = await startEngineFixture();
  const producer = new Redis(engine.redis.url, { maxRetriesPerRequest: null });
  const eventsClient = new Redis(engine.redis.url, { maxRetriesPerRequest: null });
  const requests = new Queue<RequestJobData, RequestJobResult>(REQUEST_QUEUE.name, {
    connection: producer,
    prefix: REQUEST_QUEUE.prefix,
  });
  const queueEvents = new QueueEvents(REQUEST_QUEUE.name, { connection: eventsClient, prefix: REQUEST_QUEUE.prefix });
  try {
    await queueEvents.waitUntilReady();
    const environments = await installPluginWithEnvironments(engine, 'plugins/dirtree');
    const { repositories } = await engine.client.get<{ repositories: { id: string }[] }>(
      `/repositories?environment=${environments[0]}`,
    );
    const source = join(must(engine.ssh.hosts[0], 'a host').home, 'data', 'queue');
    await mkdir(source, { recursive: true });
    await writeFile(join(source, 'a.txt'), 'a\n');
    const mnt = join(engine.dir, 'mnt');
    const { sourceConfig } = await engine.client.post<{ sourceConfig: { id: string } }>('/sourceconfigs', {
      repository: must(repositories[0], 'a repository').id,
      parameters: DIRTREE_TOUR_PLUGIN.sourceConfig(source, 'queue'),
    });
    const link = await finished(
      engine,
      await engine.client.post('/dsources', {
        name: 'ds-queue',
        sourceConfig: sourceConfig.id,
        stagingEnvironment: environments[1],
        parameters: DIRTREE_TOUR_PLUGIN.linkParameters(join(mnt, 'staging-queue')),
      }),
    );
    const vdb = await finished(
      engine,
      await engine.client.post('/vdbs', {
        name: 'vdb-queue',
        source: link.objectId,
        environment: environments[2],
        parameters: DIRTREE_TOUR_PLUGIN.vdbParameters(join(mnt, 'vdb-queue')),
      }),
    );
    const token = (await engine.client.post<{ secret: string }>('/tokens', { role: 'operator', name: 'bench' })).secret;
    const run = async (runId: string) => (await engine.client.get<{ run: RunView }>(`/runs/${runId}`)).run;

    async function viaRest() {
      const start = Date.now();
      const answer = await engine.client.post<{ run: { id: string } }>(`/vdbs/${vdb.objectId}/snapshot`);
      const view = await waitForRun(engine.client, answer.run.id, { stream: null, intervalMs: 50 });
      if (view.status !== 'succeeded') throw new Error(`REST snapshot ${view.status}`);
      return { startedMs: Date.parse(view.createdAt) - start, outcomeMs: Date.now() - start };
    }
    async function viaQueue(i: number) {
      const jobId = `bench-${i}`;
      const start = Date.now();
      const data = await requestJob(producer, token, {
        jobId,
        operation: 'vdb.snapshot',
        params: { ref: 'vdb-queue' },
      });
      const job = await requests.add('vdb.snapshot', data, { jobId });
      const result = await job.waitUntilFinished(queueEvents, 120_000);
      const outcomeMs = Date.now() - start;
      if (result.status !== 'succeeded') throw new Error(`queued snapshot ${result.status}`);
      return { startedMs: Date.parse((await run(result.runId)).createdAt) - start, outcomeMs };
    }

    const rest = { startedMs: [] as number[], outcomeMs: [] as number[] };
    const queued = { startedMs: [] as number[], outcomeMs: [] as number[] };
    const ratios: number[] = [];
    const loads: number[] = [];
    for (let i = 0; i < WARMUP + ROUNDS; i += 1) {
      // Alternating which goes first, so drift on the shared machine hits both alike.
      const [a, b] =
        i % 2 === 0 ? [await viaRest(), await viaQueue(i)] : [await viaQueue(i), await viaRest()].reverse();
      if (i < WARMUP) continue;
      const [r, q] = [must(a, 'rest'), must(b, 'queue')];
      rest.startedMs.push(r.startedMs);
      rest.outcomeMs.push(r.outcomeMs);
      queued.startedMs.push(q.startedMs);
      queued.outcomeMs.push(q.outcomeMs);
      ratios.push(q.outcomeMs / r.outcomeMs);
      loads.push(loadAverage());
    }
    const queuedSummary = { startedMs: summarize(queued.startedMs), outcomeMs: summarize(queued.outcomeMs) };
    const restSummary = { startedMs: summarize(rest.startedMs), outcomeMs: summarize(rest.outcomeMs) };
    return {
      request: 'vdb snapshot (dirtree), one VDB, requests one at a time',
      rounds: ROUNDS,
      rest: restSummary,
      queue: queuedSummary,
      outcomeRatioMedianOfRounds: round(must(summarize(ratios).p50, 'ratio'), 3),
      loadAverage: { min: Math.min(...loads), max: Math.max(...loads) },
    };
  } finally {
    await queueEvents.close();
    await requests.close();
    producer.disconnect();
    eventsClient.disconnect();
    await engine.stop();
  }
}
