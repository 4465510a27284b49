import { rmSync } from 'node:fs';
import { SftpServer } from '../../storage/index.js';
import { freePort } from './free-port.js';
import { killPids } from './ssh-processes.js';
import { makeTempDir } from './temp-dir.js';

/** The engine machine's SFTP server of the sshfs transport, in a temp dir, for one test file. */
export interface TestSftpServer {
  readonly server: SftpServer;
  /** What the server was made with, to make another instance of it (an engine restarted) elsewhere. */
  readonly options: { dir: string; port: number; listenAddresses: string[] };
  /** Stops its sshd and every session, and removes its directory. */
  remove(): Promise<void>;
}

const live = new Map<string, SftpServer>();
let hooked = false;
const others = new Set<SftpServer>();

function installExitHook(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const [dir, server] of live) {
      const pid = server.pid();
      if (pid !== undefined) killPids([pid], 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
    for (const server of others) {
      const pid = server.pid();
      if (pid !== undefined) killPids([pid], 'SIGKILL');
    }
  });
}

/** Kills the sshd of `server` (an engine's, say) if this test process exits before {@link SftpServer.stop}. */
export function stopOnExit(server: SftpServer): void {
  installExitHook();
  others.add(server);
}

/**
 * Starts an SFTP server listening on `listenAddresses` (the root side of isolated hosts' links) on a free port. The
 * server is a daemon by design (mounts outlive the engine): an exiting test process kills it and removes its directory.
 */
export async function startTestSftpServer(listenAddresses: string[]): Promise<TestSftpServer> {
  installExitHook();
  const temp = await makeTempDir('sftp-server');
  const options = { dir: `${temp.path}/sftp`, port: await freePort(), listenAddresses };
  const server = new SftpServer(options);
  live.set(temp.path, server);
  try {
    await server.start();
  } catch (error) {
    live.delete(temp.path);
    await temp.remove();
    throw error;
  }
  return {
    server,
    options,
    async remove() {
      await server.stop({ sessions: true });
      live.delete(temp.path);
      await temp.remove();
    },
  };
}
