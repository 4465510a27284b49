import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LIFECYCLES } from '../../machines/index.js';
import { drive } from '../machines/drive.js';
import { must } from '../harness/must.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = 'docs/plugin-authors.md';

const staged = { pluginType: 'STAGED' };
const direct = { pluginType: 'DIRECT' };
/** Each lifecycle as the doc shows it: a label, its kind and an input taking its usual path. */
const RUNS: [label: string, kind: string, input: Record<string, unknown>][] = [
  ['discover', 'discover', { runId: 'r1', environmentId: 'env1', pluginIds: ['p1'] }],
  ['link (staged)', 'link', { runId: 'r1', dsourceId: 'ds1', ...staged, snapshotParameters: { resync: true } }],
  ['link (direct)', 'link', { runId: 'r1', dsourceId: 'ds1', ...direct, snapshotParameters: { resync: true } }],
  ['sync (staged)', 'sync', { runId: 'r1', dsourceId: 'ds1', ...staged, snapshotParameters: null }],
  ['sync (direct)', 'sync', { runId: 'r1', dsourceId: 'ds1', ...direct, snapshotParameters: null }],
  ['dsource-enable (staged)', 'dsource-enable', { runId: 'r1', dsourceId: 'ds1', ...staged }],
  ['dsource-disable (staged)', 'dsource-disable', { runId: 'r1', dsourceId: 'ds1', ...staged }],
  ['dsource-delete (staged)', 'dsource-delete', { runId: 'r1', dsourceId: 'ds1', ...staged }],
  ['provision', 'provision', { runId: 'r1', vdbId: 'v1', snapshotId: 's1' }],
  ['vdb-start', 'vdb-start', { runId: 'r1', vdbId: 'v1' }],
  ['vdb-stop', 'vdb-stop', { runId: 'r1', vdbId: 'v1' }],
  ['vdb-enable', 'vdb-enable', { runId: 'r1', vdbId: 'v1' }],
  ['vdb-disable', 'vdb-disable', { runId: 'r1', vdbId: 'v1' }],
  ['vdb-snapshot', 'vdb-snapshot', { runId: 'r1', vdbId: 'v1', datasetId: 'tf-r0' }],
  ['vdb-rewind', 'vdb-rewind', { runId: 'r1', vdbId: 'v1', snapshotId: 's1', previousDatasetId: 'tf-r0' }],
  ['vdb-refresh', 'vdb-refresh', { runId: 'r1', vdbId: 'v1', snapshotId: 's1', previousDatasetId: 'tf-r0' }],
  ['vdb-delete', 'vdb-delete', { runId: 'r1', vdbId: 'v1' }],
];

/** A step as the doc names it: a plugin operation by its name, a user hook by its event, an engine step by its handler. */
function stepName(id: string, src: string): string {
  if (src.startsWith('plugin.')) return src.slice('plugin.'.length);
  if (src.startsWith('hook.')) return `${id.replace(/Hook$/, '')} hook`;
  return src;
}

/** The line of the doc's step table for a lifecycle, from its machine. */
function stepsLine(label: string, kind: string, input: Record<string, unknown>): string {
  const lifecycle = must(
    LIFECYCLES.find((candidate) => candidate.kind === kind),
    `the ${kind} lifecycle`,
  );
  const driven = drive(lifecycle.machine, input);
  expect(driven.outcome, label).toBe('succeeded');
  return `${label}: ${driven.ids.map((id, i) => stepName(id, must(driven.srcs[i], `the src of ${id}`))).join(' > ')}`;
}

describe(`${DOC}`, () => {
  it('lists the steps of every lifecycle, user hooks and plugin operations included, in the order the machines run them', async () => {
    const doc = await readFile(join(ROOT, DOC), 'utf8');
    const lines = RUNS.map(([label, kind, input]) => stepsLine(label, kind, input));
    expect(lines.filter((line) => !doc.includes(`\n${line}\n`))).toEqual([]);
    // Every lifecycle is there.
    expect(new Set(RUNS.map(([, kind]) => kind))).toEqual(new Set(LIFECYCLES.map((lifecycle) => lifecycle.kind)));
    // What a user relies on: the postRefresh hook runs after the snapshot taken after the refresh.
    const refresh = must(
      lines.find((line) => line.startsWith('vdb-refresh:')),
      'the vdb-refresh line',
    );
    expect(refresh.indexOf('postRefresh hook')).toBeGreaterThan(refresh.lastIndexOf('storage.snapshot'));
  });

  it('is linked from the README', async () => {
    expect(await readFile(join(ROOT, 'README.md'), 'utf8')).toContain(`(${DOC})`);
  });
});
