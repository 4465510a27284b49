import { ValidationError } from '../errors/index.js';
import { fetchHostKey } from '../hosts/index.js';
import { refuseIfDependents, type Dependent } from '../model/dependencies.js';
import type { EnvironmentRecord, MountTransportKind } from '../model/environment.js';
import { newId } from '../model/ids.js';
import { present } from './present.js';
import type { RunSummary } from './runs.js';
import type { Actor, ServiceContext } from './service-context.js';
import { refuseIfLocked, startRun } from './start-run.js';

/** What `dvx env add` / POST /environments takes. */
export interface AddEnvironmentRequest {
  name: string;
  host: string;
  /** @defaultValue 22 */
  port?: number;
  user: string;
  /** Exactly one of privateKey and password. */
  privateKey?: string;
  passphrase?: string;
  password?: string;
  /** The host key fingerprint (`SHA256:...`) the host must present; when absent the key it presents now is pinned. */
  hostKeyFingerprint?: string;
  /** Directory on the host for plugin scratch files. @defaultValue what probing suggests */
  scratchPath?: string;
  /**
   * How engine storage is mounted on the host. @defaultValue chosen by the probe: `bind` when the host sees the
   * engine's storage (a marker file written there is found at the same path), `sshfs` otherwise
   */
  transport?: MountTransportKind;
}

export const ENVIRONMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** An environment as the API shows it: credentials never leave the engine. */
export function presentEnvironment(environment: EnvironmentRecord) {
  const { credentials, ...rest } = environment;
  return present({ ...rest, credentials: { type: credentials.password ? 'password' : 'privateKey' } });
}

async function installedPluginIds(ctx: ServiceContext): Promise<string[]> {
  return (await ctx.model.plugins.list()).map((plugin) => plugin.id);
}

/** Adds a host: pins its key, then a discover run probes it and runs every plugin's discovery. */
export async function addEnvironment(
  ctx: ServiceContext,
  request: AddEnvironmentRequest,
  actor: Actor,
): Promise<{ environment: ReturnType<typeof presentEnvironment>; run: RunSummary }> {
  if (!ENVIRONMENT_NAME.test(request.name)) {
    throw new ValidationError(
      `Environment name "${request.name}" is not allowed.`,
      [{ pointer: '/name', message: 'letters, digits, ".", "_" and "-", starting with a letter or digit, at most 63' }],
      { action: 'Choose a name like "source-1".' },
    );
  }
  if (Boolean(request.privateKey) === Boolean(request.password)) {
    throw new ValidationError(
      'Give exactly one of a private key and a password.',
      [
        {
          pointer: request.privateKey ? '/password' : '/privateKey',
          message: 'exactly one of privateKey and password is required',
        },
      ],
      { action: 'Pass --key FILE or --password-stdin.' },
    );
  }
  const existing = await ctx.model.environments.byName(request.name);
  if (existing)
    throw new ValidationError(
      `An environment named "${request.name}" already exists (${existing.id}).`,
      [{ pointer: '/name', message: 'already taken' }],
      { action: 'Choose another name, or `dvx env refresh` the existing one.' },
    );
  const address = { host: request.host, port: request.port ?? 22, user: request.user };
  // Trust on first use unless the caller said which key to expect; from now on the connection pool refuses any other key.
  const hostKey = await fetchHostKey({ name: request.name, host: address.host, port: address.port });
  if (request.hostKeyFingerprint && request.hostKeyFingerprint !== hostKey.fingerprint) {
    throw new ValidationError(
      `${request.name} (${address.host}:${address.port}) presented host key ${hostKey.fingerprint}, not ${request.hostKeyFingerprint}.`,
      [{ pointer: '/hostKeyFingerprint', message: 'does not match the key the host presents' }],
      { action: 'Check that you reach the right host; if its key changed on purpose, give the new fingerprint.' },
    );
  }
  const credentials: EnvironmentRecord['credentials'] = {};
  if (request.privateKey) credentials.privateKey = ctx.secrets.seal(request.privateKey);
  if (request.passphrase) credentials.passphrase = ctx.secrets.seal(request.passphrase);
  if (request.password) credentials.password = ctx.secrets.seal(request.password);
  const environment = await ctx.model.environments.create({
    id: newId('env'),
    name: request.name,
    address,
    credentials,
    hostKey: { key: hostKey.key, fingerprint: hostKey.fingerprint },
    hostType: 'UNIX',
    facts: null,
    scratchPath: request.scratchPath ?? '',
    transportOverride: request.transport ?? null,
    mountTransport: null,
    status: 'DISCOVERING',
    lastRunId: null,
    lastError: null,
  });
  const run = await startRun(
    ctx,
    'discover',
    { type: 'environment', id: environment.id },
    { environmentId: environment.id, pluginIds: await installedPluginIds(ctx) },
    actor,
  );
  await ctx.model.environments.update(environment.id, () => ({ lastRunId: run.id }));
  return { environment: presentEnvironment(environment), run };
}

export async function listEnvironments(ctx: ServiceContext) {
  return (await ctx.model.environments.list()).map(presentEnvironment);
}

export async function showEnvironment(ctx: ServiceContext, ref: string) {
  return presentEnvironment(await ctx.model.environments.requireFind(ref));
}

/** Probes the host again and re-runs discovery; what is found again keeps its id. */
export async function refreshEnvironment(ctx: ServiceContext, ref: string, actor: Actor) {
  const environment = await ctx.model.environments.requireFind(ref);
  const run = await startRun(
    ctx,
    'discover',
    { type: 'environment', id: environment.id },
    { environmentId: environment.id, pluginIds: await installedPluginIds(ctx) },
    actor,
  );
  return { environment: presentEnvironment(environment), run };
}

/** Removes an environment no dSource or VDB uses, with its repositories and source configs. */
export async function removeEnvironment(ctx: ServiceContext, ref: string) {
  const { model } = ctx;
  const environment = await model.environments.requireFind(ref);
  await refuseIfLocked(ctx, 'environment', environment.id, `Environment ${environment.name}`);
  const dependents: Dependent[] = [];
  for (const dsource of await model.dsources.list()) {
    if (dsource.sourceEnvironmentId === environment.id || dsource.stagingEnvironmentId === environment.id)
      dependents.push({ type: 'dsource', id: dsource.id, name: dsource.name });
  }
  for (const vdb of await model.vdbs.listBy('environmentId', environment.id))
    dependents.push({ type: 'vdb', id: vdb.id, name: vdb.name });
  refuseIfDependents(`Environment ${environment.name}`, dependents, 'Delete those dSources and VDBs first.');
  for (const config of await model.sourceConfigs.listBy('environmentId', environment.id))
    await model.sourceConfigs.delete(config.id);
  for (const repository of await model.repositories.listBy('environmentId', environment.id))
    await model.repositories.delete(repository.id);
  await model.environments.delete(environment.id);
  return { deleted: presentEnvironment(environment) };
}
