import { get } from '../api.js';
import { ErrorMessage } from '../components/error-message.js';
import { Status, when } from '../components/status.js';
import { href } from '../router.js';
import type { Dsource, RunSummary, Vdb } from '../types.js';
import { useApi } from '../use-api.js';

type Dataset = (Dsource | Vdb) & { lastRun?: RunSummary };

/** The last run of each object, read once for the page (the list answers say only its id). */
async function withLastRuns<T extends Dsource | Vdb>(items: T[]): Promise<(T & { lastRun?: RunSummary })[]> {
  return Promise.all(
    items.map(async (item) => {
      if (!item.lastRunId) return item;
      try {
        return { ...item, lastRun: (await get<{ run: RunSummary }>(`/runs/${item.lastRunId}`)).run };
      } catch {
        return item;
      }
    }),
  );
}

function DatasetTable({ items, kind }: { items: Dataset[]; kind: 'vdbs' | 'dsources' }) {
  if (items.length === 0)
    return (
      <p class="muted">
        {kind === 'vdbs'
          ? 'No VDB yet: open a dSource and provision one from a snapshot of its timeline.'
          : 'No dSource yet: link one with dvx dsource link.'}
      </p>
    );
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Status</th>
            <th scope="col">Health</th>
            <th scope="col">Enabled</th>
            <th scope="col">Last run</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={item.id}>
              <td>
                <a href={href(kind, item.id)}>{item.name}</a>
              </td>
              <td>
                <Status value={item.status} />
              </td>
              <td>{item.runtime ? <Status value={item.runtime.state} /> : <span class="muted">not checked</span>}</td>
              <td>{item.enabled ? 'yes' : 'no'}</td>
              <td>
                {item.lastRun ? (
                  <>
                    <a href={href('runs', item.lastRun.id)}>{item.lastRun.kind}</a>{' '}
                    <Status value={item.lastRun.status} /> <span class="muted">{when(item.lastRun.createdAt)}</span>
                  </>
                ) : (
                  <span class="muted">none</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function VdbList() {
  const { data, error, reload } = useApi(
    async () => withLastRuns((await get<{ vdbs: Vdb[] }>('/vdbs')).vdbs),
    [],
    3000,
  );
  return (
    <div>
      <h1>VDBs</h1>
      {error && <ErrorMessage error={error} onRetry={() => void reload()} />}
      {data ? <DatasetTable items={data} kind="vdbs" /> : !error && <p aria-busy="true">Loading…</p>}
    </div>
  );
}

export function DsourceList() {
  const { data, error, reload } = useApi(
    async () => withLastRuns((await get<{ dsources: Dsource[] }>('/dsources')).dsources),
    [],
    3000,
  );
  return (
    <div>
      <h1>dSources</h1>
      {error && <ErrorMessage error={error} onRetry={() => void reload()} />}
      {data ? <DatasetTable items={data} kind="dsources" /> : !error && <p aria-busy="true">Loading…</p>}
    </div>
  );
}
