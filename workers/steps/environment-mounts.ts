import { StorageError } from '../../errors/index.js';
import type { HostConnection } from '../../hosts/index.js';
import type { MountTransport } from '../../storage/index.js';
import { connectEnvironment } from './environment-connection.js';
import type { StepServices } from './step-services.js';

/**
 * The pooled connection of an environment and the transport that mounts engine storage on it: the one its probe chose
 * (`bind` for an environment probed before transports were chosen).
 */
export async function environmentMounts(
  services: StepServices,
  environmentId: string,
): Promise<{ connection: HostConnection; transport: MountTransport }> {
  const environment = await services.model.environments.require(environmentId);
  const connection = await connectEnvironment(services, environmentId);
  if (environment.mountTransport?.kind !== 'sshfs') return { connection, transport: services.mounts };
  if (!services.sshfs) {
    throw new StorageError({
      code: 'MOUNT_FAILED',
      message: `Environment ${environment.name} mounts engine storage with sshfs, which this engine was started without.`,
      action:
        'Start the engine with its sshfs transport (dvx engine start does), or add the host with --transport bind.',
      details: { environmentId },
    });
  }
  return { connection, transport: services.sshfs };
}
