// An action of a page (snapshot, rewind, delete...): sends it, then follows the run it started until it ends. A
// refusal (a viewer forcing an action, a locked object, a full pool) is shown with what to do.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { asApiError, type ApiError } from './api.js';
import { ErrorMessage } from './components/error-message.js';
import { RunFollower } from './components/run-follower.js';

export interface Action {
  busy: boolean;
  run: (send: () => Promise<{ run?: { id: string } } | undefined>) => Promise<void>;
  view: JSX.Element;
}

/** `onEnd` gets the status of the run the action started, or nothing when it started none. */
export function useAction(onEnd: (status?: string) => void): Action {
  const [runId, setRunId] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [sending, setSending] = useState(false);
  const [following, setFollowing] = useState(false);
  const run = async (send: () => Promise<{ run?: { id: string } } | undefined>) => {
    setError(null);
    setSending(true);
    try {
      const answer = await send();
      if (answer?.run) {
        setRunId(answer.run.id);
        setFollowing(true);
      } else onEnd();
    } catch (caught) {
      setError(asApiError(caught));
    } finally {
      setSending(false);
    }
  };
  const view = (
    <div class="action-result">
      {error && <ErrorMessage error={error} />}
      {runId && (
        <RunFollower
          key={runId}
          runId={runId}
          onEnd={(status) => {
            setFollowing(false);
            onEnd(status);
          }}
        />
      )}
    </div>
  );
  return { busy: sending || following, run, view };
}
