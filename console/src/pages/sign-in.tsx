import { useState } from 'preact/hooks';
import { asApiError, call, type ApiError } from '../api.js';
import { ErrorMessage } from '../components/error-message.js';
import type { Caller } from '../session-context.js';

/** The token form. The token is checked with /whoami before it is kept for the tab. */
export function SignIn(props: { notice: ApiError | null; onSignedIn: (token: string, caller: Caller) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { token: caller } = await call<{ token: Caller }>('GET', '/whoami', undefined, token.trim());
      props.onSignedIn(token.trim(), caller);
    } catch (caught) {
      setError(asApiError(caught));
    } finally {
      setBusy(false);
    }
  };
  const shown = error ?? props.notice;
  return (
    <main class="sign-in">
      <h1>dvx console</h1>
      <form onSubmit={(event) => void submit(event)}>
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          required
          value={token}
          onInput={(event) => setToken(event.currentTarget.value)}
        />
        <p class="hint">
          The admin token is in <code>&lt;data dir&gt;/admin.token</code>; <code>dvx token create --role viewer</code>{' '}
          makes one that only looks. It is kept for this tab only.
        </p>
        <button type="submit" disabled={busy || !token.trim()}>
          Sign in
        </button>
      </form>
      {shown && <ErrorMessage error={shown} />}
    </main>
  );
}
