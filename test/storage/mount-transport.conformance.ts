import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDvxError, type DvxError } from '../../errors/index.js';
import { runBash, type HostConnection } from '../../hosts/index.js';
import type { MountTransport } from '../../storage/index.js';
import { waitFor } from '../harness/wait-for.js';

/** What a conformance run needs: a transport, a connection to a host that can mount, and places to mount. */
export interface MountTransportFixture {
  transport: MountTransport;
  connection: HostConnection;
  /** A fresh engine-local directory (a dataset) to expose. */
  makeSource(): Promise<string>;
  /** A fresh path on the host, not yet mounted (it may not exist). */
  mountPath(): string;
  cleanup(): Promise<void>;
}

async function rejection(promise: Promise<unknown>): Promise<DvxError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isDvxError(error)) throw new Error(`expected a DvxError, got ${String(error)}`);
  return error;
}

/**
 * The contract every MountTransport fulfils. Run it from a `*.test.ts` file with a factory for a real host. What is
 * mounted is checked on the host, through the connection (its mount table, its processes); what reached the dataset
 * on the engine side. So the same suite runs against a host that shares the engine's filesystem and one that shares
 * nothing with it.
 */
export function describeMountTransportConformance(name: string, factory: () => Promise<MountTransportFixture>): void {
  describe(`MountTransport conformance: ${name}`, () => {
    let fixture: MountTransportFixture;
    let transport: MountTransport;
    let connection: HostConnection;
    const attached: string[] = [];
    const holders: number[] = [];
    beforeAll(async () => {
      fixture = await factory();
      transport = fixture.transport;
      connection = fixture.connection;
    });
    afterAll(async () => {
      if (connection) {
        for (const pid of holders)
          await runBash(connection, 'kill -9 "$PID" 2>/dev/null', { variables: { PID: String(pid) } });
        // Lazily, and never deleting through a mount a failed test left behind.
        for (const mountPath of attached.reverse())
          await runBash(connection, 'while findmnt --mountpoint "$P" >/dev/null; do umount -l -- "$P" || break; done', {
            variables: { P: mountPath },
          });
      }
      await fixture?.cleanup();
    });

    const countMounts = async (mountPath: string) =>
      Number((await onHost('findmnt -n -o TARGET --mountpoint "$P" | wc -l', { P: mountPath })).stdout.trim());
    const onHost = async (script: string, variables: Record<string, string>) =>
      runBash(connection, script, { variables, check: true });
    const isAlive = async (pid: number) =>
      (await runBash(connection, 'kill -0 "$PID"', { variables: { PID: String(pid) } })).exitCode === 0;

    async function attachNew(options: { ownership?: { uid: number; gid: number }; readOnly?: boolean } = {}) {
      const sourcePath = await fixture.makeSource();
      await writeFile(join(sourcePath, 'hello.txt'), 'hello from the engine\n');
      const mountPath = fixture.mountPath();
      attached.push(mountPath);
      await transport.attach({ connection, sourcePath, mountPath, ...options });
      return { sourcePath, mountPath };
    }

    it('attaches a dataset at the mount path, where the host sees its files, and writes reach the dataset', async () => {
      const { sourcePath, mountPath } = await attachNew();
      expect(await transport.isAttached({ connection, mountPath })).toBe(true);
      expect((await onHost('cat "$P/hello.txt"', { P: mountPath })).stdout).toBe('hello from the engine\n');
      await onHost('echo "written on the host" > "$P/from-host.txt"', { P: mountPath });
      expect(await readFile(join(sourcePath, 'from-host.txt'), 'utf8')).toBe('written on the host\n');
    });

    it('treats attaching the same dataset at the same path again as a no-op', async () => {
      const { sourcePath, mountPath } = await attachNew();
      await transport.attach({ connection, sourcePath, mountPath });
      await transport.attach({ connection, sourcePath, mountPath });
      expect(await countMounts(mountPath)).toBe(1);
    });

    it('refuses (MOUNT_FAILED) to attach over something else mounted at the path, naming it', async () => {
      const { mountPath } = await attachNew();
      const other = await fixture.makeSource();
      const error = await rejection(transport.attach({ connection, sourcePath: other, mountPath }));
      expect(error.code).toBe('MOUNT_FAILED');
      expect(error.message).toContain(mountPath);
      expect(String(error.details?.mounted)).not.toBe('');
      expect(await countMounts(mountPath)).toBe(1);
      expect((await onHost('cat "$P/hello.txt"', { P: mountPath })).stdout).toBe('hello from the engine\n');
    });

    it('gives the mounted root the requested owner, also when a retry finds it attached but not yet owned', async () => {
      const { sourcePath, mountPath } = await attachNew({ ownership: { uid: 4321, gid: 4322 } });
      expect((await onHost('stat -c %u:%g "$P"', { P: mountPath })).stdout.trim()).toBe('4321:4322');
      expect((await stat(sourcePath)).uid).toBe(4321);
      execFileSync('chown', ['0:0', sourcePath]);
      await transport.attach({ connection, sourcePath, mountPath, ownership: { uid: 4321, gid: 4322 } });
      expect((await stat(sourcePath)).gid).toBe(4322);
      expect(await countMounts(mountPath)).toBe(1);
    });

    it('attaches read-only when asked: the host cannot write through the mount', async () => {
      const { sourcePath, mountPath } = await attachNew({ readOnly: true, ownership: { uid: 1234, gid: 1234 } });
      const write = await runBash(connection, 'echo x > "$P/new.txt"', { variables: { P: mountPath } });
      expect(write.exitCode).not.toBe(0);
      expect(write.stderr).toMatch(/read-only/i);
      expect(existsSync(join(sourcePath, 'new.txt'))).toBe(false);
      expect((await stat(sourcePath)).uid).toBe(1234);
      await transport.attach({
        connection,
        sourcePath,
        mountPath,
        readOnly: true,
        ownership: { uid: 1234, gid: 1234 },
      });
      expect(await countMounts(mountPath)).toBe(1);
    });

    it('detaches, leaving the dataset intact; a second detach, or one of a path never mounted, is a no-op', async () => {
      const { sourcePath, mountPath } = await attachNew();
      await transport.detach({ connection, mountPath });
      expect(await transport.isAttached({ connection, mountPath })).toBe(false);
      expect(await countMounts(mountPath)).toBe(0);
      await transport.detach({ connection, mountPath });
      await transport.detach({ connection, mountPath: fixture.mountPath() });
      expect(await readFile(join(sourcePath, 'hello.txt'), 'utf8')).toBe('hello from the engine\n');
      // It can be attached again.
      await transport.attach({ connection, sourcePath, mountPath });
      expect(await transport.isAttached({ connection, mountPath })).toBe(true);
    });

    const existsOnHost = async (path: string) =>
      (await runBash(connection, '[ -e "$P" ]', { variables: { P: path } })).exitCode === 0;

    it('says whether it made the mount directory; detach removes one it made when asked, once unmounted', async () => {
      const sourcePath = await fixture.makeSource();
      const mountPath = fixture.mountPath();
      attached.push(mountPath);
      expect(await existsOnHost(mountPath)).toBe(false);
      expect(await transport.attach({ connection, sourcePath, mountPath })).toEqual({ createdDirectory: true });
      // A repeated attach finds it attached: it cannot tell who made the directory.
      expect(await transport.attach({ connection, sourcePath, mountPath })).toEqual({ createdDirectory: null });
      await transport.detach({ connection, mountPath, removeDirectory: true });
      expect(await countMounts(mountPath)).toBe(0);
      expect(await existsOnHost(mountPath)).toBe(false);
      expect(existsSync(sourcePath)).toBe(true);
      // Repeated (the directory gone), it is a no-op.
      await transport.detach({ connection, mountPath, removeDirectory: true });
    });

    it('leaves a mount directory that was there before, and never removes one holding files', async () => {
      const sourcePath = await fixture.makeSource();
      const mountPath = fixture.mountPath();
      attached.push(mountPath);
      await onHost('mkdir -p -- "$P"', { P: mountPath });
      expect(await transport.attach({ connection, sourcePath, mountPath })).toEqual({ createdDirectory: false });
      await transport.detach({ connection, mountPath });
      expect(await existsOnHost(mountPath)).toBe(true);
      // Even if asked, a directory with something in it stays, with what it holds.
      await onHost('echo mine > "$P/mine.txt"', { P: mountPath });
      await transport.detach({ connection, mountPath, removeDirectory: true });
      expect((await onHost('cat "$P/mine.txt"', { P: mountPath })).stdout).toBe('mine\n');
    });

    it('says in one call which of many paths are attached, as isAttached says of each', async () => {
      const first = await attachNew();
      const second = await attachNew();
      const detached = await attachNew();
      await transport.detach({ connection, mountPath: detached.mountPath });
      const neverMounted = fixture.mountPath();
      await onHost('mkdir -p -- "$P"', { P: neverMounted });
      const missing = join(fixture.mountPath(), 'does not exist');
      const paths = [
        first.mountPath,
        neverMounted,
        second.mountPath,
        detached.mountPath,
        missing,
        `${first.mountPath}/`,
      ];
      const attached = await transport.attachedAmong({ connection, mountPaths: paths });
      expect([...attached].sort()).toEqual([first.mountPath, `${first.mountPath}/`, second.mountPath].sort());
      for (const mountPath of paths.slice(0, 4))
        expect(await transport.isAttached({ connection, mountPath })).toBe(attached.has(mountPath));
      expect(await transport.attachedAmong({ connection, mountPaths: [] })).toEqual(new Set());
    });

    it('refuses (MOUNT_BUSY) to detach while a process works inside the mount, naming it, and detaches once it is gone', async () => {
      const { mountPath } = await attachNew();
      await onHost('mkdir -p "$P/work"', { P: mountPath });
      const started = await onHost('cd "$P/work" && { setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $!; }', {
        P: mountPath,
      });
      const pid = Number(started.stdout.trim());
      holders.push(pid);
      expect(await isAlive(pid)).toBe(true);

      const error = await rejection(transport.detach({ connection, mountPath }));
      expect(error.code).toBe('MOUNT_BUSY');
      expect(error.retryable).toBe(true);
      expect(error.message).toContain(`pid ${pid}`);
      expect(error.message).toContain('sleep 300');
      expect(error.details?.holders).toEqual(expect.arrayContaining([{ pid, command: 'sleep 300' }]));
      expect(await transport.isAttached({ connection, mountPath })).toBe(true);

      await onHost('kill "$PID"', { PID: String(pid) });
      await waitFor('the holder to exit', async () => !(await isAlive(pid)));
      await transport.detach({ connection, mountPath });
      expect(await transport.isAttached({ connection, mountPath })).toBe(false);
    });
  });
}
