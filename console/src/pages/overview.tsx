import { call, get } from '../api.js';
import { ErrorMessage } from '../components/error-message.js';
import { bytes, Status, when } from '../components/status.js';
import { href } from '../router.js';
import type { Dsource, HealthReport, RunSummary, Vdb } from '../types.js';
import { useApi } from '../use-api.js';

function countBy<T>(items: T[], key: (item: T) => string): [string, number][] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts.entries()].sort();
}

/** The health report: its 503 (a dependency down) is an answer too. */
const health = () => call<HealthReport>('GET', '/health', undefined, undefined, [503]);

export function Overview() {
  const { data, error, reload } = useApi(
    async () => {
      const [report, running, failed, vdbs, dsources] = await Promise.all([
        health(),
        get<{ runs: RunSummary[] }>('/runs?status=running&limit=20'),
        get<{ runs: RunSummary[] }>('/runs?status=failed&limit=5'),
        get<{ vdbs: Vdb[] }>('/vdbs'),
        get<{ dsources: Dsource[] }>('/dsources'),
      ]);
      return { report, running: running.runs, failed: failed.runs, vdbs: vdbs.vdbs, dsources: dsources.dsources };
    },
    [],
    3000,
  );
  if (error && !data) return <ErrorMessage error={error} onRetry={() => void reload()} />;
  if (!data) return <p aria-busy="true">Loading…</p>;
  const storage = data.report.dependencies.storage;
  const details = storage?.details ?? {};
  const total = typeof details.totalBytes === 'number' ? details.totalBytes : 0;
  const free = typeof details.freeBytes === 'number' ? details.freeBytes : 0;
  const used = total ? Math.round(((total - free) / total) * 100) : 0;
  const alerts = [
    ...data.vdbs
      .filter((vdb) => vdb.status === 'FAILED' || (vdb.runtime && vdb.runtime.state !== 'ACTIVE'))
      .map((vdb) => ({
        key: vdb.id,
        text: `VDB ${vdb.name} is ${vdb.status === 'FAILED' ? 'FAILED' : (vdb.runtime?.state ?? '')}${vdb.runtime?.reason ? `: ${vdb.runtime.reason}` : ''}`,
        link: href('vdbs', vdb.id),
      })),
    ...data.failed.map((run) => ({
      key: run.id,
      text: `Run ${run.kind} failed: ${run.error?.message ?? ''}`,
      link: href('runs', run.id),
    })),
  ];
  return (
    <div class="overview">
      <h1>Overview</h1>
      {error && <ErrorMessage error={error} />}
      <section class="cards">
        <article class="card">
          <h2>Engine</h2>
          <p>
            <Status value={data.report.status} />
          </p>
          <ul class="plain">
            {Object.entries(data.report.dependencies).map(([name, dependency]) => (
              <li key={name}>
                {name} <Status value={dependency.status} />
                {dependency.error && <span class="muted"> {dependency.error}</span>}
              </li>
            ))}
          </ul>
        </article>
        <article class="card">
          <h2>Storage pool</h2>
          {total ? (
            <>
              <meter min={0} max={100} value={used} aria-label="Pool used (percent)" />
              <p>
                {bytes(total - free)} used of {bytes(total)} ({used}%), {bytes(free)} free
                {typeof details.floorBytes === 'number' &&
                  details.floorBytes > 0 &&
                  `, floor ${bytes(details.floorBytes)}`}
              </p>
            </>
          ) : (
            <p class="muted">No usage reported.</p>
          )}
          {storage?.action && <p class="error-action">What to do: {storage.action}</p>}
        </article>
        <article class="card">
          <h2>Objects</h2>
          <p>
            <a href={href('dsources')}>dSources</a>:{' '}
            {countBy(data.dsources, (d) => d.status).map(([status, n]) => (
              <span key={status}>
                {n} <Status value={status} />{' '}
              </span>
            ))}
            {data.dsources.length === 0 && 'none'}
          </p>
          <p>
            <a href={href('vdbs')}>VDBs</a>:{' '}
            {countBy(data.vdbs, (v) => v.status).map(([status, n]) => (
              <span key={status}>
                {n} <Status value={status} />{' '}
              </span>
            ))}
            {data.vdbs.length === 0 && 'none'}
          </p>
        </article>
      </section>
      <section>
        <h2>Alerts</h2>
        {alerts.length === 0 ? (
          <p class="muted">Nothing needs attention.</p>
        ) : (
          <ul class="alerts">
            {alerts.map((alert) => (
              <li key={alert.key}>
                <a href={alert.link}>{alert.text}</a>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section>
        <h2>Runs running</h2>
        <RunTable runs={data.running} empty="No run is running." />
      </section>
      <section>
        <h2>Runs failed recently</h2>
        <RunTable runs={data.failed} empty="No run has failed." />
        <p>
          <a href={href('runs')}>All runs</a>
        </p>
      </section>
    </div>
  );
}

export function RunTable({ runs, empty }: { runs: RunSummary[]; empty: string }) {
  if (runs.length === 0) return <p class="muted">{empty}</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Object</th>
            <th scope="col">Status</th>
            <th scope="col">Started</th>
            <th scope="col">By</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.id}>
              <td>
                <a href={href('runs', run.id)} title={run.id}>
                  {run.kind}
                </a>{' '}
                <span class="muted">…{run.id.slice(-6)}</span>
              </td>
              <td>
                {run.objectType === 'vdb' || run.objectType === 'dsource' ? (
                  <a href={href(`${run.objectType}s`, run.objectId)}>{run.objectType}</a>
                ) : (
                  run.objectType
                )}
              </td>
              <td>
                <Status value={run.status} />
              </td>
              <td>{when(run.createdAt)}</td>
              <td>{run.requestedBy}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
