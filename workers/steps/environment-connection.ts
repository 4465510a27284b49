import type { HostConnection, HostCredentials, HostSpec } from '../../hosts/index.js';
import type { EnvironmentRecord } from '../../model/environment.js';
import type { SecretBox } from '../../model/secret-box.js';
import type { StepServices } from './step-services.js';

/** Unseals an environment's credentials (they are sealed field by field at rest). */
export function openCredentials(credentials: EnvironmentRecord['credentials'], secrets: SecretBox): HostCredentials {
  const open = (value: string | undefined) => (value === undefined ? undefined : secrets.open(value));
  const opened: HostCredentials = {};
  const privateKey = open(credentials.privateKey);
  const passphrase = open(credentials.passphrase);
  const password = open(credentials.password);
  if (privateKey !== undefined) opened.privateKey = privateKey;
  if (passphrase !== undefined) opened.passphrase = passphrase;
  if (password !== undefined) opened.password = password;
  return opened;
}

/** How the connection pool reaches an environment, pinned to the host key recorded when it was added. */
export function hostSpecOf(environment: EnvironmentRecord, secrets: SecretBox): HostSpec {
  return {
    id: environment.id,
    address: { name: environment.name, ...environment.address },
    credentials: openCredentials(environment.credentials, secrets),
    pinnedHostKey: environment.hostKey.key,
  };
}

/** The pooled connection of an environment. */
export async function connectEnvironment(services: StepServices, environmentId: string): Promise<HostConnection> {
  const environment = await services.model.environments.require(environmentId);
  return services.hosts.get(hostSpecOf(environment, services.secrets));
}
