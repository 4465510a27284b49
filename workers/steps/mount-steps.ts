import { DvxError, StorageError } from '../../errors/index.js';
import { mountPathIssue } from '../../schemas/unix-path.js';
import type { ResolvedMount } from '../../model/dsource.js';
import type { DvxStepHandlers } from '../step-handler.js';
import { environmentMounts } from './environment-mounts.js';
import type { StepServices } from './step-services.js';

/**
 * Mount and unmount engine storage on hosts, at the paths the plugin asked for (the run's mountSpecification step
 * resolved them), or without one at the paths recorded on the object. Idempotent like the transport.
 */
export function mountSteps(services: StepServices) {
  const { model, storage } = services;

  const attach = async (datasetId: string, mounts: ResolvedMount[], ownership: { uid: number; gid: number } | null) => {
    // Every path is checked before anything is mounted (the transport checks on the host that it holds no files).
    for (const [index, mount] of mounts.entries()) {
      const issue = mountPathIssue(mount.mountPath);
      if (issue)
        throw new StorageError({
          code: 'MOUNT_FAILED',
          message: `The mount path ${JSON.stringify(mount.mountPath)} the plugin gave (/mounts/${index}/mountPath) ${issue}.`,
          action:
            "Give the plugin's mount path parameter an absolute path of a new or empty directory, not a system one.",
          details: { pointer: `/mounts/${index}/mountPath`, mountPath: mount.mountPath },
        });
    }
    for (const mount of mounts) {
      const { connection, transport } = await environmentMounts(services, mount.environmentId);
      const base = storage.datasetPath(datasetId);
      const sourcePath = mount.sharedPath ? `${base}/${mount.sharedPath.replace(/^\/+/, '')}` : base;
      await transport.attach({ connection, sourcePath, mountPath: mount.mountPath, ownership });
    }
  };

  const detach = async (mounts: ResolvedMount[]) => {
    for (const mount of [...mounts].reverse()) {
      const { connection, transport } = await environmentMounts(services, mount.environmentId);
      await transport.detach({ connection, mountPath: mount.mountPath });
    }
  };

  const noDataset = (what: string): never => {
    throw new DvxError({
      code: 'CONFLICT',
      message: `${what} has no storage to mount.`,
      action: 'Delete it and create it again.',
    });
  };

  return {
    'mount.attachStaging': async (input) => {
      const dsource = await model.dsources.require(input.dsourceId);
      const resolved = input.mountSpecification ?? {
        mounts: dsource.stagingMounts ?? [],
        ownership: dsource.ownership,
      };
      await attach(
        dsource.currentTimeflowId ?? noDataset(`dSource ${dsource.name}`),
        resolved.mounts,
        resolved.ownership,
      );
      await model.dsources.update(dsource.id, () => ({
        stagingMounts: resolved.mounts,
        ownership: resolved.ownership,
      }));
      return { mounts: resolved.mounts };
    },

    'mount.detachStaging': async (input) => {
      const dsource = await model.dsources.get(input.dsourceId);
      if (dsource?.stagingMounts) await detach(dsource.stagingMounts);
      return null;
    },

    'mount.attachVdb': async (input) => {
      const vdb = await model.vdbs.require(input.vdbId);
      const resolved = input.mountSpecification ?? { mounts: vdb.mounts ?? [], ownership: vdb.ownership };
      await attach(
        input.datasetId ?? vdb.currentTimeflowId ?? noDataset(`VDB ${vdb.name}`),
        resolved.mounts,
        resolved.ownership,
      );
      await model.vdbs.update(vdb.id, () => ({ mounts: resolved.mounts, ownership: resolved.ownership }));
      return { mounts: resolved.mounts };
    },

    'mount.detachVdb': async (input) => {
      const vdb = await model.vdbs.get(input.vdbId);
      await detach(input.mountSpecification?.mounts ?? vdb?.mounts ?? []);
      return null;
    },
  } satisfies Partial<DvxStepHandlers>;
}
