import { useEffect, useState } from 'preact/hooks';
import { asApiError, get, type ApiError } from '../api.js';
import { href } from '../router.js';
import type { RunSummary } from '../types.js';
import { ErrorMessage } from './error-message.js';
import { Status } from './status.js';

/** The run an action started, followed until it ends; `onEnd` then reloads the page's data. */
export function RunFollower({ runId, onEnd }: { runId: string; onEnd: (status: string) => void }) {
  const [run, setRun] = useState<RunSummary | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const { run: current } = await get<{ run: RunSummary }>(`/runs/${encodeURIComponent(runId)}`);
        if (stopped) return;
        setRun(current);
        setError(undefined);
        if (current.status !== 'running') {
          onEnd(current.status);
          return;
        }
      } catch (caught) {
        if (stopped) return;
        setError(asApiError(caught));
      }
      timer = setTimeout(() => void poll(), 500);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [runId]);
  return (
    <div class="follower" aria-live="polite">
      <p>
        Run <a href={href('runs', runId)}>{runId}</a> {run ? run.kind : ''}: <Status value={run?.status ?? 'running'} />
        {run?.status === 'running' && run.currentSteps.length > 0 && <span> ({run.currentSteps.join(', ')})</span>}
      </p>
      {run?.error && (
        <div class="error" role="alert">
          <p class="error-message">
            <strong>{run.error.message}</strong> <code class="error-code">{run.error.code}</code>
          </p>
          {run.error.action && <p class="error-action">What to do: {run.error.action}</p>}
        </div>
      )}
      {error && <ErrorMessage error={error} />}
    </div>
  );
}
