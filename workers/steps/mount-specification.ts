import { PluginError } from '../../errors/index.js';
import type { MountSpecification } from '../../machines/index.js';
import type { ResolvedMount } from '../../model/dsource.js';
import { remoteEnvironmentOf } from './plugin-call.js';
import type { StepServices } from './step-services.js';

/** What a plugin's mountSpecification returns (SDK MountSpecification, as JSON). */
export interface PluginMountSpecification {
  mounts: Array<{ remoteEnvironment: { reference: string }; mountPath: string; sharedPath?: string | null }>;
  ownershipSpecification?: { uid: number; gid: number } | null;
}

/**
 * A plugin's mount specification as the engine takes it: the environments its mounts name checked to exist. The
 * mountSpecification steps resolve it once per run; the steps that mount take what they return.
 */
export async function resolveMountSpecification(
  services: StepServices,
  specification: PluginMountSpecification,
  operation: string,
): Promise<MountSpecification> {
  const mounts: ResolvedMount[] = [];
  for (const [index, mount] of specification.mounts.entries()) {
    const reference = mount.remoteEnvironment?.reference;
    if (!reference || !(await services.model.environments.get(reference))) {
      throw new PluginError({
        code: 'PLUGIN_INVALID_OUTPUT',
        message: `${operation} returned a mount (/mounts/${index}) on an unknown environment "${String(reference)}".`,
        action: 'Return the remoteEnvironment of a connection the plugin was given.',
        details: { operation, pointer: `/mounts/${index}/remoteEnvironment` },
      });
    }
    mounts.push({
      environmentId: reference,
      mountPath: mount.mountPath,
      ...(mount.sharedPath ? { sharedPath: mount.sharedPath } : {}),
    });
  }
  return { mounts, ownership: specification.ownershipSpecification ?? null };
}

/** The SDK Mount objects handed to plugins for resolved mounts. */
export async function sdkMounts(services: StepServices, mounts: ResolvedMount[] | null) {
  return Promise.all(
    (mounts ?? []).map(async (mount) => ({
      remoteEnvironment: remoteEnvironmentOf(await services.model.environments.require(mount.environmentId)),
      mountPath: mount.mountPath,
      sharedPath: mount.sharedPath ?? null,
    })),
  );
}
