import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DvxError } from '../../errors/index.js';
import { runBash, type HostConnection } from '../../hosts/index.js';
import type { EnvironmentMountTransport, EnvironmentRecord } from '../../model/environment.js';
import type { StepServices } from './step-services.js';

/**
 * Chooses how engine storage is mounted on an environment's host: `bind` when the host sees the engine's storage (a
 * marker file the engine writes under the storage root is found at the same path with the same content, or is there
 * but not readable by the login user), `sshfs`
 * otherwise; the environment's `--transport` override wins. A host that lacks what the chosen transport needs fails
 * here (HOST_CAPABILITY_MISSING naming the package), when it is added, not at its first mount.
 */
export async function chooseMountTransport(
  services: StepServices,
  environment: EnvironmentRecord,
  connection: HostConnection,
): Promise<EnvironmentMountTransport> {
  const dir = join(services.storage.root, '.dvx-probe');
  const marker = join(dir, environment.id);
  const token = randomBytes(16).toString('hex');
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await writeFile(marker, token);
  let seen: boolean;
  try {
    const read = await runBash(connection, 'cat -- "$MARKER"', { variables: { MARKER: marker } });
    // A login user that may not read it (the pool is root's) still shows that the path is there.
    seen = (read.exitCode === 0 && read.stdout === token) || /Permission denied/.test(read.stderr);
  } finally {
    await rm(marker, { force: true });
  }
  const where = `the engine's storage (${services.storage.root})`;
  const finding = seen
    ? `the host sees ${where}: a marker file written there is found at the same path`
    : `the host does not see ${where}: a marker file written there is not found at that path`;
  const override = environment.transportOverride;
  const kind = override ?? (seen ? 'bind' : 'sshfs');
  if (kind === 'sshfs') {
    if (!services.sshfs) {
      throw new DvxError({
        code: 'CONFIG_INVALID',
        message: `${environment.name} needs the sshfs transport (${finding}), which this engine was started without.`,
        action:
          'Start the engine with its sshfs transport (dvx engine start does), or add the host with --transport bind.',
      });
    }
    await services.sshfs.checkHost?.(connection);
  }
  return { kind, reason: override ? `asked for with --transport ${override}; ${finding}` : finding };
}
