// A dSource or a VDB: its facts, its timeline picture and, for operators, its actions, each following its run.
import { useState } from 'preact/hooks';
import type { TimeflowRecord } from '../../../model/timeflow.js';
import { del, get, post } from '../api.js';
import { ConfirmButton } from '../components/confirm-button.js';
import { ErrorMessage } from '../components/error-message.js';
import { Status, when } from '../components/status.js';
import { Timeline } from '../components/timeline.js';
import { go, href } from '../router.js';
import { useCanAct } from '../session-context.js';
import type { Bookmark, Dsource, Environment, Snapshot, Vdb } from '../types.js';
import { useAction } from '../use-action.js';
import { useApi } from '../use-api.js';

type Kind = 'vdbs' | 'dsources';

interface Loaded {
  object: Vdb | Dsource;
  snapshots: Snapshot[];
  timeflows: TimeflowRecord[];
  bookmarks: Bookmark[];
  /** VDBs provisioned from this object's snapshots. */
  children: Vdb[];
}

async function load(kind: Kind, id: string): Promise<Loaded> {
  const path = `/${kind}/${encodeURIComponent(id)}`;
  const of = encodeURIComponent(id);
  const [object, snapshots, timeflows, bookmarks, vdbs] = await Promise.all([
    get<{ vdb?: Vdb; dsource?: Dsource }>(path),
    get<{ snapshots: Snapshot[] }>(`${path}/snapshots`),
    get<{ timeflows: TimeflowRecord[] }>(`/timeflows?of=${of}`),
    get<{ bookmarks: Bookmark[] }>(`/bookmarks?of=${of}`),
    get<{ vdbs: Vdb[] }>('/vdbs'),
  ]);
  const record = object.vdb ?? object.dsource;
  if (!record) throw new Error(`The engine's answer for ${path} holds no object.`);
  return {
    object: record,
    snapshots: snapshots.snapshots,
    timeflows: timeflows.timeflows,
    bookmarks: bookmarks.bookmarks,
    children: vdbs.vdbs.filter((vdb) => vdb.parentId === record.id),
  };
}

export function DatasetPage({ kind, id }: { kind: Kind; id: string }) {
  const { data, error, reload } = useApi(() => load(kind, id), [kind, id], 5000);
  const [selected, setSelected] = useState<string | null>(null);
  const canAct = useCanAct();
  const action = useAction(() => void reload());
  const removal = useAction((status) => {
    if (status === 'succeeded') go(kind);
  });
  if (error && !data) return <ErrorMessage error={error} onRetry={() => void reload()} />;
  if (!data) return <p aria-busy="true">Loading…</p>;
  const { object } = data;
  const isVdb = kind === 'vdbs';
  const vdb = isVdb ? (object as Vdb) : null;
  const base = `/${kind}/${encodeURIComponent(object.id)}`;
  const snapshot = data.snapshots.find((candidate) => candidate.id === selected) ?? null;
  const ready = object.status === 'READY' || object.status === 'ACTIVE';
  const disabled = action.busy || !ready;
  return (
    <div class="dataset">
      <p class="crumbs">
        <a href={href(kind)}>{isVdb ? 'VDBs' : 'dSources'}</a> /
      </p>
      <h1>
        {object.name} <Status value={object.status} />
      </h1>
      {error && <ErrorMessage error={error} />}
      <dl class="facts">
        <dt>Id</dt>
        <dd>
          <code>{object.id}</code>
        </dd>
        <dt>Health</dt>
        <dd>
          {object.runtime ? <Status value={object.runtime.state} /> : 'not checked yet'}
          {object.runtime?.reason && <span class="muted"> {object.runtime.reason}</span>}
        </dd>
        <dt>Enabled</dt>
        <dd>{object.enabled ? 'yes' : 'no'}</dd>
        {vdb && (
          <>
            <dt>Running</dt>
            <dd>{vdb.running ? 'yes' : 'no'}</dd>
            <dt>Provisioned from</dt>
            <dd>
              <a href={href(`${vdb.parentType}s`, vdb.parentId)}>{vdb.parentType}</a>, snapshot{' '}
              <code>{vdb.provisionedFromSnapshotId}</code>
            </dd>
          </>
        )}
        <dt>Last run</dt>
        <dd>{object.lastRunId ? <a href={href('runs', object.lastRunId)}>{object.lastRunId}</a> : 'none'}</dd>
        <dt>Created</dt>
        <dd>{when(object.createdAt)}</dd>
      </dl>
      {object.lastError && (
        <div class="error" role="status">
          <p class="error-message">
            Last error: <strong>{object.lastError.message}</strong>
          </p>
          {object.lastError.action && <p class="error-action">What to do: {object.lastError.action}</p>}
        </div>
      )}
      {canAct && (
        <div class="actions" role="toolbar" aria-label="Actions">
          {vdb ? (
            <>
              <button type="button" disabled={disabled} onClick={() => void action.run(() => post(`${base}/snapshot`))}>
                Snapshot
              </button>
              <button type="button" disabled={disabled} onClick={() => void action.run(() => post(`${base}/refresh`))}>
                Refresh from parent
              </button>
              <button type="button" disabled={disabled} onClick={() => void action.run(() => post(`${base}/start`))}>
                Start
              </button>
              <button type="button" disabled={disabled} onClick={() => void action.run(() => post(`${base}/stop`))}>
                Stop
              </button>
              <button
                type="button"
                disabled={disabled}
                onClick={() => void action.run(() => post(`${base}/${object.enabled ? 'disable' : 'enable'}`))}
              >
                {object.enabled ? 'Disable' : 'Enable'}
              </button>
            </>
          ) : (
            <>
              <button type="button" disabled={disabled} onClick={() => void action.run(() => post(`${base}/sync`))}>
                Sync
              </button>
              <button
                type="button"
                disabled={disabled}
                onClick={() => void action.run(() => post(`${base}/${object.enabled ? 'disable' : 'enable'}`))}
              >
                {object.enabled ? 'Disable' : 'Enable'}
              </button>
            </>
          )}
          <ConfirmButton
            label="Delete"
            question={`Delete ${object.name} and all its snapshots? Its data is gone for good.`}
            disabled={action.busy || removal.busy || object.status === 'DELETING'}
            onConfirm={() => void removal.run(() => del<{ run?: { id: string } }>(base))}
          />
        </div>
      )}
      {action.view}
      {removal.view}
      <h2>Timeline</h2>
      {data.snapshots.length === 0 && data.timeflows.length === 0 ? (
        <p class="muted">No snapshot yet.</p>
      ) : (
        <Timeline
          snapshots={data.snapshots}
          timeflows={data.timeflows}
          currentTimeflowId={object.currentTimeflowId}
          selected={selected}
          onSelect={(picked) => setSelected(picked.id)}
          bookmarks={data.bookmarks}
          provisioned={data.children.map((child) => ({
            id: child.id,
            name: child.name,
            snapshotId: child.provisionedFromSnapshotId,
          }))}
          {...(vdb
            ? { origin: `provisioned from ${vdb.parentType} snapshot ${vdb.provisionedFromSnapshotId.slice(-8)}` }
            : {})}
        />
      )}
      <p class="hint">Pick a snapshot in the picture (click, or Tab then Enter) to see it and act on it.</p>
      {snapshot && (
        <section class="picked" aria-label="Picked snapshot">
          <h3>Snapshot {snapshot.id}</h3>
          <p>
            Taken {when(snapshot.createdAt)}, on timeflow <code>{snapshot.timeflowId}</code>
            {snapshot.timeflowId === object.currentTimeflowId ? ' (current)' : ''}. Run{' '}
            <a href={href('runs', snapshot.runId)}>{snapshot.runId}</a>.
          </p>
          <PickedDetails snapshot={snapshot} data={data} />
          {canAct && <BookmarkForm snapshot={snapshot.id} onDone={() => void reload()} />}
          {canAct && vdb && (
            <ConfirmButton
              label="Rewind"
              question={`Rewind ${object.name} to this snapshot? What was written since is set aside on the old timeflow.`}
              disabled={disabled}
              onConfirm={() => void action.run(() => post(`${base}/rewind`, { snapshot: snapshot.id }))}
            />
          )}
          {canAct && !vdb && <ProvisionForm source={object.id} snapshot={snapshot.id} />}
        </section>
      )}
    </div>
  );
}

/** A picked snapshot's bookmarks and the VDBs provisioned from it. */
function PickedDetails({ snapshot, data }: { snapshot: Snapshot; data: Loaded }) {
  const bookmarks = data.bookmarks.filter((bookmark) => bookmark.snapshotId === snapshot.id);
  const children = data.children.filter((child) => child.provisionedFromSnapshotId === snapshot.id);
  return (
    <>
      {bookmarks.length > 0 && (
        <p>
          Bookmarked:{' '}
          {bookmarks.map((bookmark) => (
            <span key={bookmark.id} class="status status-plain">
              {bookmark.name}
              {bookmark.expiresAt ? ` (until ${when(bookmark.expiresAt)})` : ''}
            </span>
          ))}
        </p>
      )}
      {children.length > 0 && (
        <p>
          VDBs provisioned from it:{' '}
          {children.map((child) => (
            <a key={child.id} href={href('vdbs', child.id)}>
              {child.name}{' '}
            </a>
          ))}
        </p>
      )}
    </>
  );
}

/** Names a snapshot (a bookmark protects it from retention and deletion). */
function BookmarkForm({ snapshot, onDone }: { snapshot: string; onDone: () => void }) {
  const [name, setName] = useState('');
  const action = useAction(() => {
    setName('');
    onDone();
  });
  return (
    <form
      class="inline-form"
      onSubmit={(event) => {
        event.preventDefault();
        void action.run(async () => {
          await post('/bookmarks', { name, snapshot });
          return undefined;
        });
      }}
    >
      <label for="bookmark-name">Bookmark name</label>
      <input id="bookmark-name" required value={name} onInput={(event) => setName(event.currentTarget.value)} />
      <button type="submit" disabled={action.busy || !name.trim()}>
        Bookmark
      </button>
      {action.view}
    </form>
  );
}

/** Provision a VDB from a dSource's snapshot; on success the page of the new VDB follows its run. */
function ProvisionForm({ source, snapshot }: { source: string; snapshot: string }) {
  const environments = useApi(() => get<{ environments: Environment[] }>('/environments'), []);
  const [name, setName] = useState('');
  const [environment, setEnvironment] = useState('');
  const [parameters, setParameters] = useState('{\n  "mountLocation": ""\n}');
  const [parseError, setParseError] = useState<string | null>(null);
  const action = useAction(() => undefined);
  const submit = (event: Event) => {
    event.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(parameters);
    } catch (caught) {
      setParseError(`The parameters are not JSON: ${(caught as Error).message}`);
      return;
    }
    setParseError(null);
    void action.run(async () => {
      const answer = await post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
        name,
        source,
        snapshot,
        environment: environment || environments.data?.environments[0]?.id,
        parameters: parsed,
      });
      // Its run's page follows it live and links to the new VDB.
      go('runs', answer.run.id);
      return undefined;
    });
  };
  return (
    <form class="provision" onSubmit={submit}>
      <h3>Provision a VDB from this snapshot</h3>
      <label for="vdb-name">VDB name</label>
      <input id="vdb-name" required value={name} onInput={(event) => setName(event.currentTarget.value)} />
      <label for="vdb-environment">Target environment</label>
      <select id="vdb-environment" value={environment} onChange={(event) => setEnvironment(event.currentTarget.value)}>
        {(environments.data?.environments ?? []).map((env) => (
          <option key={env.id} value={env.id}>
            {env.name} ({env.address.host}:{env.address.port})
          </option>
        ))}
      </select>
      <label for="vdb-parameters">Parameters (JSON, the plugin's virtual source schema)</label>
      <textarea
        id="vdb-parameters"
        rows={4}
        value={parameters}
        onInput={(event) => setParameters(event.currentTarget.value)}
      />
      {parseError && (
        <p class="error" role="alert">
          {parseError}
        </p>
      )}
      <button type="submit" disabled={action.busy}>
        Provision
      </button>
      {action.view}
    </form>
  );
}
