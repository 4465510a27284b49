// Environments (hosts) with what discovery found on them: repositories and their source configs. Operators can
// refresh one (probe the host again and rediscover), following the run.
import { get, post } from '../api.js';
import { ErrorMessage } from '../components/error-message.js';
import { Status, when } from '../components/status.js';
import { href } from '../router.js';
import { useCanAct } from '../session-context.js';
import type { Environment, Repository, SourceConfig } from '../types.js';
import { useAction } from '../use-action.js';
import { useApi } from '../use-api.js';

interface Loaded {
  environments: Environment[];
  repositories: Repository[];
  sourceConfigs: SourceConfig[];
}

async function load(): Promise<Loaded> {
  const [environments, repositories, sourceConfigs] = await Promise.all([
    get<{ environments: Environment[] }>('/environments'),
    get<{ repositories: Repository[] }>('/repositories'),
    get<{ sourceConfigs: SourceConfig[] }>('/sourceconfigs'),
  ]);
  return { ...environments, ...repositories, ...sourceConfigs };
}

function EnvironmentCard({ environment, data, onEnd }: { environment: Environment; data: Loaded; onEnd: () => void }) {
  const canAct = useCanAct();
  const action = useAction(onEnd);
  const repositories = data.repositories.filter((repository) => repository.environmentId === environment.id);
  return (
    <article class="card" aria-label={`Environment ${environment.name}`}>
      <h2>
        {environment.name} <Status value={environment.status} />
      </h2>
      <dl class="facts">
        <dt>Address</dt>
        <dd>
          <code>
            {environment.address.user}@{environment.address.host}:{environment.address.port}
          </code>
        </dd>
        <dt>Host key</dt>
        <dd>
          <code>{environment.hostKey.fingerprint}</code>
        </dd>
        <dt>Mounts</dt>
        <dd>
          {environment.mountTransport ? (
            <>
              {environment.mountTransport.kind} <span class="muted">({environment.mountTransport.reason})</span>
            </>
          ) : (
            'not probed yet'
          )}
        </dd>
        <dt>Health</dt>
        <dd>{environment.runtime ? <Status value={environment.runtime.state} /> : 'not checked yet'}</dd>
        <dt>Last run</dt>
        <dd>
          {environment.lastRunId ? <a href={href('runs', environment.lastRunId)}>{environment.lastRunId}</a> : 'none'}
        </dd>
        <dt>Added</dt>
        <dd>{when(environment.createdAt)}</dd>
      </dl>
      {environment.lastError && <ErrorMessage error={environment.lastError} />}
      <h3>Repositories</h3>
      {repositories.length === 0 ? (
        <p class="muted">None found.</p>
      ) : (
        <ul>
          {repositories.map((repository) => {
            const configs = data.sourceConfigs.filter((config) => config.repositoryId === repository.id);
            return (
              <li key={repository.id}>
                {repository.name} <span class="muted">({repository.pluginId})</span>
                {configs.length > 0 && (
                  <ul>
                    {configs.map((config) => (
                      <li key={config.id}>
                        source config {config.name}{' '}
                        <span class="muted">{config.discovered ? 'discovered' : 'added by hand'}</span>
                      </li>
                    ))}
                  </ul>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {canAct && (
        <div class="actions">
          <button
            type="button"
            disabled={action.busy}
            onClick={() => void action.run(() => post(`/environments/${encodeURIComponent(environment.id)}/refresh`))}
          >
            Refresh {environment.name}
          </button>
        </div>
      )}
      {action.view}
    </article>
  );
}

export function EnvironmentList() {
  const { data, error, reload } = useApi(load, [], 5000);
  return (
    <div>
      <h1>Environments</h1>
      <p class="hint">
        Add one with <code>dvx env add NAME root@HOST[:PORT] --key FILE</code>.
      </p>
      {error && <ErrorMessage error={error} onRetry={() => void reload()} />}
      {data ? (
        data.environments.length === 0 ? (
          <p class="muted">No environment yet.</p>
        ) : (
          <section class="cards">
            {data.environments.map((environment) => (
              <EnvironmentCard key={environment.id} environment={environment} data={data} onEnd={() => void reload()} />
            ))}
          </section>
        )
      ) : (
        !error && <p aria-busy="true">Loading…</p>
      )}
    </div>
  );
}
