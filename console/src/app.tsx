import { useEffect, useState } from 'preact/hooks';
import { call, onUnauthorized, type ApiError } from './api.js';
import { ErrorMessage } from './components/error-message.js';
import { DatasetPage } from './pages/dataset-page.js';
import { EnvironmentList } from './pages/environments.js';
import { DsourceList, VdbList } from './pages/lists.js';
import { Overview } from './pages/overview.js';
import { QueuesLink, RunList, RunPage } from './pages/runs.js';
import { SignIn } from './pages/sign-in.js';
import { TokenList } from './pages/tokens.js';
import { href, useRoute } from './router.js';
import { CallerContext, type Caller } from './session-context.js';
import { forgetToken, storedToken, storeToken } from './session.js';
import { asApiError } from './api.js';

function Page({ route, role }: { route: string[]; role: Caller['role'] }) {
  const [section, id] = route;
  if (section === 'tokens' && role === 'admin') return <TokenList />;
  if (section === 'vdbs' && id) return <DatasetPage kind="vdbs" id={id} />;
  if (section === 'dsources' && id) return <DatasetPage kind="dsources" id={id} />;
  if (section === 'vdbs') return <VdbList />;
  if (section === 'dsources') return <DsourceList />;
  if (section === 'runs' && id) return <RunPage id={id} />;
  if (section === 'runs') return <RunList />;
  if (section === 'environments') return <EnvironmentList />;
  return <Overview />;
}

const SECTIONS = [
  ['', 'Overview'],
  ['environments', 'Environments'],
  ['dsources', 'dSources'],
  ['vdbs', 'VDBs'],
  ['runs', 'Runs'],
] as const;

export function App() {
  const route = useRoute();
  const [caller, setCaller] = useState<Caller | null>(null);
  const [checking, setChecking] = useState(() => storedToken() !== null);
  const [notice, setNotice] = useState<ApiError | null>(null);
  const [startError, setStartError] = useState<ApiError | null>(null);

  const signOut = (why: ApiError | null) => {
    forgetToken();
    setCaller(null);
    setNotice(why);
  };
  useEffect(() => onUnauthorized((error) => signOut(error)), []);
  const checkStored = async () => {
    const token = storedToken();
    if (!token) return;
    setChecking(true);
    setStartError(null);
    try {
      setCaller((await call<{ token: Caller }>('GET', '/whoami', undefined, token)).token);
    } catch (caught) {
      // A 401 has signed out already (onUnauthorized); anything else (engine down) keeps the token to try again.
      if (asApiError(caught).status !== 401) setStartError(asApiError(caught));
    } finally {
      setChecking(false);
    }
  };
  useEffect(() => void checkStored(), []);

  if (startError) return <ErrorMessage error={startError} onRetry={() => void checkStored()} />;
  if (checking) return <p aria-busy="true">Checking your token…</p>;
  if (!caller)
    return (
      <SignIn
        notice={notice}
        onSignedIn={(token, who) => {
          storeToken(token);
          setNotice(null);
          setCaller(who);
        }}
      />
    );
  const current = route[0] ?? '';
  return (
    <CallerContext.Provider value={caller}>
      <header class="top">
        <a class="brand" href={href()}>
          dvx
        </a>
        <nav aria-label="Sections">
          {SECTIONS.map(([section, label]) => (
            <a
              key={section}
              href={section ? href(section) : href()}
              aria-current={current === section ? 'page' : undefined}
            >
              {label}
            </a>
          ))}
          {caller.role === 'admin' && (
            <a href={href('tokens')} aria-current={current === 'tokens' ? 'page' : undefined}>
              Tokens
            </a>
          )}
          <QueuesLink label="Queues" />
        </nav>
        <div class="who">
          <span>
            {caller.name} <span class="role">{caller.role}</span>
          </span>
          <button type="button" onClick={() => signOut(null)}>
            Sign out
          </button>
        </div>
      </header>
      <main>
        <Page route={route} role={caller.role} />
      </main>
    </CallerContext.Provider>
  );
}
