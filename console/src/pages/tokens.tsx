// API tokens (admins only; the nav shows this page to admins alone): list, create (the secret shown once), revoke.
import { useState } from 'preact/hooks';
import { asApiError, del, get, post, type ApiError } from '../api.js';
import { ConfirmButton } from '../components/confirm-button.js';
import { ErrorMessage } from '../components/error-message.js';
import { when } from '../components/status.js';
import type { Role } from '../types.js';
import { useApi } from '../use-api.js';

interface TokenView {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
}

export function TokenList() {
  const { data, error, reload } = useApi(async () => (await get<{ tokens: TokenView[] }>('/tokens')).tokens, []);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const attempt = async (send: () => Promise<void>) => {
    setFailure(null);
    try {
      await send();
      await reload();
    } catch (caught) {
      setFailure(asApiError(caught));
    }
  };
  return (
    <div>
      <h1>API tokens</h1>
      {error && <ErrorMessage error={error} onRetry={() => void reload()} />}
      {failure && <ErrorMessage error={failure} />}
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void attempt(async () => {
            const answer = await post<{ token: TokenView; secret: string }>('/tokens', { role, name });
            setCreated({ name: answer.token.name, secret: answer.secret });
            setName('');
          });
        }}
      >
        <label for="token-name">Token name</label>
        <input id="token-name" required value={name} onInput={(event) => setName(event.currentTarget.value)} />
        <label for="token-role">Role</label>
        <select id="token-role" value={role} onChange={(event) => setRole(event.currentTarget.value as Role)}>
          <option value="viewer">viewer (reads)</option>
          <option value="operator">operator (runs lifecycles)</option>
          <option value="admin">admin (also manages tokens)</option>
        </select>
        <button type="submit">Create token</button>
      </form>
      {created && (
        <div class="created" role="status">
          <p>
            Token <strong>{created.name}</strong>, shown this once (copy it now):
          </p>
          <code class="secret">{created.secret}</code>
        </div>
      )}
      {data && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="muted">Revoke</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.map((token) => (
                <tr key={token.id}>
                  <td>{token.name}</td>
                  <td>{token.role}</td>
                  <td>{when(token.createdAt)}</td>
                  <td>
                    <ConfirmButton
                      label="Revoke"
                      question={`Revoke ${token.name}? It stops working at once.`}
                      onConfirm={() =>
                        void attempt(async () => {
                          await del(`/tokens/${encodeURIComponent(token.id)}`);
                        })
                      }
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
