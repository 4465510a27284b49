import { useState } from 'preact/hooks';
import { get, post } from '../api.js';
import { ErrorMessage } from '../components/error-message.js';
import { duration, Status, when } from '../components/status.js';
import { href } from '../router.js';
import { storedToken } from '../session.js';
import { useCanAct } from '../session-context.js';
import type { RunDetail, RunSummary, StepExecution } from '../types.js';
import { useAction } from '../use-action.js';
import { useApi } from '../use-api.js';
import { RunTable } from './overview.js';

const STATUSES = ['running', 'succeeded', 'failed', 'cancelled'] as const;

export function RunList() {
  const [status, setStatus] = useState('');
  const [kind, setKind] = useState('');
  const { data, error, reload } = useApi(
    async () => {
      const query = new URLSearchParams({ limit: '50' });
      if (status) query.set('status', status);
      if (kind.trim()) query.set('kind', kind.trim());
      return (await get<{ runs: RunSummary[] }>(`/runs?${query.toString()}`)).runs;
    },
    [status, kind],
    2000,
  );
  return (
    <div>
      <h1>Runs</h1>
      <form class="filters" onSubmit={(event) => event.preventDefault()}>
        <label for="run-status">Status</label>
        <select id="run-status" value={status} onChange={(event) => setStatus(event.currentTarget.value)}>
          <option value="">any</option>
          {STATUSES.map((value) => (
            <option key={value} value={value}>
              {value}
            </option>
          ))}
        </select>
        <label for="run-kind">Kind</label>
        <input
          id="run-kind"
          placeholder="provision, rewind…"
          value={kind}
          onChange={(event) => setKind(event.currentTarget.value)}
        />
      </form>
      {error && <ErrorMessage error={error} onRetry={() => void reload()} />}
      {data ? <RunTable runs={data} empty="No run matches." /> : !error && <p aria-busy="true">Loading…</p>}
    </div>
  );
}

function StepRow({ step }: { step: StepExecution }) {
  const failures = step.attempts.filter((attempt) => attempt.error);
  return (
    <li class={`step step-${step.status}`}>
      <p>
        <strong>{step.stepId}</strong> <Status value={step.status} />{' '}
        <span class="muted">{duration(step.durationMs)}</span>
        {step.attempts.length > 1 && <span class="muted"> · {step.attempts.length} attempts</span>}
      </p>
      {(failures.length > 0 || step.attempts.length > 1) && (
        <ol class="attempts">
          {step.attempts.map((attempt) => (
            <li key={attempt.attempt}>
              attempt {attempt.attempt}: {attempt.outcome ?? 'running'} {duration(attempt.durationMs)}
              {attempt.error && (
                <div class="error">
                  <p class="error-message">
                    <strong>{attempt.error.message}</strong> <code class="error-code">{attempt.error.code}</code>
                  </p>
                  {attempt.error.action && <p class="error-action">What to do: {attempt.error.action}</p>}
                </div>
              )}
              {attempt.retryAt && <span class="muted"> next attempt {when(attempt.retryAt)}</span>}
            </li>
          ))}
        </ol>
      )}
    </li>
  );
}

/**
 * bull-board reads the token from a cookie scoped to its own path (api/auth.ts): set for this browser session just
 * before following the link, so the token goes in no URL.
 */
export function QueuesLink({ label = 'bull-board' }: { label?: string }) {
  return (
    <a
      href="/admin/queues"
      onClick={() => {
        const token = storedToken();
        if (token) document.cookie = `dvx_token=${encodeURIComponent(token)}; Path=/admin/queues; SameSite=Strict`;
      }}
    >
      {label}
    </a>
  );
}

export function RunPage({ id }: { id: string }) {
  const { data, error, reload } = useApi(
    async () => (await get<{ run: RunDetail & { currentSteps: string[] } }>(`/runs/${encodeURIComponent(id)}`)).run,
    [id],
    1000,
  );
  const canAct = useCanAct();
  const cancel = useAction(() => void reload());
  if (error && !data) return <ErrorMessage error={error} onRetry={() => void reload()} />;
  if (!data) return <p aria-busy="true">Loading…</p>;
  const objectPage =
    data.objectType === 'vdb' || data.objectType === 'dsource' ? href(`${data.objectType}s`, data.objectId) : null;
  return (
    <div class="run">
      <p class="crumbs">
        <a href={href('runs')}>Runs</a> /
      </p>
      <h1>
        {data.kind} <Status value={data.status} />
      </h1>
      <dl class="facts">
        <dt>Run</dt>
        <dd>
          <code>{data.id}</code>
        </dd>
        <dt>Object</dt>
        <dd>
          {objectPage ? (
            <a href={objectPage}>
              {data.objectType} {data.objectId}
            </a>
          ) : (
            `${data.objectType} ${data.objectId}`
          )}
        </dd>
        <dt>Requested by</dt>
        <dd>{data.requestedBy}</dd>
        <dt>Started</dt>
        <dd>{when(data.createdAt)}</dd>
        {data.endedAt && (
          <>
            <dt>Ended</dt>
            <dd>{when(data.endedAt)}</dd>
          </>
        )}
        <dt>Step jobs</dt>
        <dd>
          <QueuesLink />
        </dd>
      </dl>
      {data.error && (
        <div class="error" role="alert">
          <p class="error-message">
            <strong>{data.error.message}</strong> <code class="error-code">{data.error.code}</code>
          </p>
          {data.error.action && <p class="error-action">What to do: {data.error.action}</p>}
        </div>
      )}
      {canAct && data.status === 'running' && (
        <div class="actions">
          <button
            type="button"
            class="danger"
            disabled={cancel.busy}
            onClick={() =>
              void cancel.run(async () => (await post(`/runs/${encodeURIComponent(data.id)}/cancel`), undefined))
            }
          >
            Cancel run
          </button>
        </div>
      )}
      {cancel.view}
      <h2>Steps</h2>
      {data.status === 'running' && (
        <p aria-live="polite" class="muted">
          Running: {data.currentSteps.join(', ') || 'between steps'} (updated every second)
        </p>
      )}
      <ol class="steps">
        {data.steps.map((step) => (
          <StepRow key={step.jobId} step={step} />
        ))}
      </ol>
    </div>
  );
}
