import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isDvxError, type DvxError } from '../../errors/index.js';
import { runBash, runSync, SshConnectionPool, type HostConnection } from '../../hosts/index.js';
import { startSshHosts, type TestSshHost, type TestSshHosts } from '../harness/ssh-hosts.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { waitFor } from '../harness/wait-for.js';
import { must } from '../harness/must.js';

async function rejection(promise: Promise<unknown>): Promise<DvxError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isDvxError(error)) throw new Error(`expected a DvxError, got ${String(error)}`);
  return error;
}

/** A tree as a flat map: relative path -> "dir", "file <sha256>" or "link <target>". */
async function manifest(root: string, rel = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(join(root, rel))).sort()) {
    const path = rel ? `${rel}/${name}` : name;
    const stat = await lstat(join(root, path));
    if (stat.isSymbolicLink()) out[path] = `link ${await readlink(join(root, path))}`;
    else if (stat.isDirectory()) Object.assign(out, { [path]: 'dir' }, await manifest(root, path));
    else
      out[path] = `file ${createHash('sha256')
        .update(await readFile(join(root, path)))
        .digest('hex')}`;
  }
  return out;
}

/** `tree` without `prefix` and what lies under it. */
function without(tree: Record<string, string>, ...prefixes: string[]): Record<string, string> {
  return Object.fromEntries(
    Object.entries(tree).filter(
      ([path]) => !prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`)),
    ),
  );
}

/** `tree`'s entries moved under `prefix`. */
function under(prefix: string, tree: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tree).map(([path, value]) => [`${prefix}/${path}`, value]));
}

// A source tree with every case: plain and odd file names, binary data, an excluded directory, a symlinked directory
// and file to follow, a symlink to keep, a dangling symlink to keep.
const MAKE_SOURCE = String.raw`
set -e
rm -rf "$ROOT" && mkdir -p "$ROOT/src/sub/deeper" "$ROOT/src/excluded/inner" "$ROOT/target-dir/nested"
cd "$ROOT"
echo alpha > src/a.txt
printf 'odd name\n' > "src/sp ace & 'quote'.txt"
head -c 300000 /dev/urandom > src/sub/blob.bin
echo deep > src/sub/deeper/d.txt
echo secret > src/excluded/inner/x.txt
echo kept-out > src/sub/skip.log
echo t > target-dir/t.txt
echo n > target-dir/nested/n.txt
echo f > file-target.txt
ln -s ../target-dir src/followed-dir
ln -s ../target-dir src/kept-dir
ln -s ../file-target.txt src/followed-file
ln -s nowhere src/dangling
`;

let set: TestSshHosts;
let source: TestSshHost;
let target: TestSshHost;
let pool: SshConnectionPool;
let from: HostConnection;
let to: HostConnection;
let root: string;
let sourceTree: Record<string, string>;

beforeAll(async () => {
  set = await startSshHosts(2);
  [source, target] = set.hosts as [TestSshHost, TestSshHost];
  pool = new SshConnectionPool();
  from = pool.get(source.spec());
  to = pool.get(target.spec());
  root = join(source.home, 'data');
  await runBash(from, MAKE_SOURCE, { variables: { ROOT: root }, check: true });
  sourceTree = await manifest(join(root, 'src'));
});
afterAll(async () => {
  await pool?.close();
  await set?.stopAll();
});

/** What the destination must hold after a sync of src with the standard options, besides what it protects. */
async function expectedTree(): Promise<Record<string, string>> {
  const followedDir = await manifest(join(root, 'target-dir'));
  return {
    ...without(sourceTree, 'excluded', 'sub/skip.log', 'followed-dir', 'followed-file'),
    'followed-dir': 'dir',
    ...under('followed-dir', followedDir),
    'followed-file': `file ${createHash('sha256').update('f\n').digest('hex')}`,
  };
}

const STANDARD = { excludePaths: ['excluded', '/sub/skip.log'], symLinksToFollow: ['followed-dir', 'followed-file/'] };

// runSync's temporary files go to os.tmpdir(): this file gets a private one, so that the leftover checks below see
// only this file's runs, not those of suites running beside it.
const sharedTmpdir = process.env.TMPDIR;
let privateTmpdir: string | undefined;
beforeAll(async () => {
  privateTmpdir = await mkdtemp(join(tmpdir(), 'dvx-run-sync-test-'));
  process.env.TMPDIR = privateTmpdir;
});
afterAll(async () => {
  if (sharedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = sharedTmpdir;
  if (privateTmpdir) await rm(privateTmpdir, { recursive: true, force: true });
});

/**
 * Waits until no temporary file of a copy is left but those in `before`. Suites running beside this file copy host to
 * host too, and their files come and go in the same /tmp: one of this file's copies that leaks one never clears.
 */
async function expectNoLeftovers(before: string[] = []): Promise<void> {
  await waitFor(
    'the temporary files of the copies to be removed',
    async () => (await rsyncLeftovers()).every((name) => before.includes(name)),
    15_000,
  );
}

async function rsyncLeftovers(): Promise<string[]> {
  // The bridge's socket dir is the engine's (this process's tmpdir); the known_hosts and entry-list files are the
  // destination host's, and the test hosts share the machine's /tmp.
  const engineSide = (await readdir(tmpdir())).filter((name) => name.startsWith('dvx-rsh-'));
  const hostSide = (await readdir(sharedTmpdir ?? '/tmp')).filter(
    (name) => name.startsWith('dvx-known-hosts.') || name.startsWith('dvx-sync-entries.'),
  );
  return [...engineSide, ...hostSide];
}

describe('runSync from a host into an engine path', () => {
  let engine: { path: string; remove(): Promise<void> };
  let destination: string;
  beforeEach(async () => {
    engine = await makeTempDir('sync-engine');
    destination = join(engine.path, 'copy');
  });
  afterEach(async () => {
    await engine.remove();
  });

  it('mirrors the tree: excludes left out, listed symlinks followed, other symlinks kept, extraneous files deleted', async () => {
    // Already in the destination: a stale file (deleted) and something under an excluded path (left alone).
    await mkdir(join(destination, 'excluded'), { recursive: true });
    await writeFile(join(destination, 'stale.txt'), 'old');
    await writeFile(join(destination, 'excluded', 'local.txt'), 'mine');

    const stats = await runSync({
      from: { connection: from, path: join(root, 'src') },
      to: { path: destination },
      ...STANDARD,
    });

    expect(await manifest(destination)).toEqual({
      ...(await expectedTree()),
      excluded: 'dir',
      'excluded/local.txt': `file ${createHash('sha256').update('mine').digest('hex')}`,
    });
    expect(stats.filesTransferred).toBe(7);
    expect(stats.filesDeleted).toBe(1);
    expect(stats.transferredFileSize).toBeGreaterThan(300_000);
    await expectNoLeftovers();
  });

  it('transfers only what changed on the next run', async () => {
    await runSync({ from: { connection: from, path: join(root, 'src') }, to: { path: destination }, ...STANDARD });
    const again = await runSync({
      from: { connection: from, path: join(root, 'src') },
      to: { path: destination },
      ...STANDARD,
    });
    expect(again.filesTransferred).toBe(0);
    expect(again.files).toBeGreaterThan(0);
    expect(await manifest(destination)).toEqual(await expectedTree());
  });

  it('keeps extraneous files when deleteExtraneous is false', async () => {
    await mkdir(destination, { recursive: true });
    await writeFile(join(destination, 'stale.txt'), 'old');
    await runSync({
      from: { connection: from, path: join(root, 'src') },
      to: { path: destination },
      ...STANDARD,
      deleteExtraneous: false,
    });
    expect(await manifest(destination)).toEqual({
      ...(await expectedTree()),
      'stale.txt': `file ${createHash('sha256').update('old').digest('hex')}`,
    });
  });

  it('copies every symlink as a link when none is to be followed', async () => {
    await runSync({ from: { connection: from, path: join(root, 'src') }, to: { path: destination } });
    expect(await manifest(destination)).toEqual(sourceTree);
  });

  it('fails with HOST_COMMAND_FAILED when the source directory does not exist', async () => {
    const error = await rejection(
      runSync({ from: { connection: from, path: join(root, 'missing') }, to: { path: destination } }),
    );
    expect(error.code).toBe('HOST_COMMAND_FAILED');
    expect(error.output).toMatch(/No such file or directory/);
    await expectNoLeftovers();
  });

  it('refuses relative paths and paths escaping the source root with HOST_BAD_INPUT', async () => {
    expect(
      (await rejection(runSync({ from: { connection: from, path: 'data/src' }, to: { path: destination } }))).code,
    ).toBe('HOST_BAD_INPUT');
    expect(
      (await rejection(runSync({ from: { connection: from, path: join(root, 'src') }, to: { path: 'relative' } })))
        .code,
    ).toBe('HOST_BAD_INPUT');
    expect(
      (
        await rejection(
          runSync({
            from: { connection: from, path: join(root, 'src') },
            to: { path: destination },
            excludePaths: ['../x'],
          }),
        )
      ).code,
    ).toBe('HOST_BAD_INPUT');
    expect(
      (
        await rejection(
          runSync({
            from: { connection: from, path: join(root, 'src') },
            to: { path: destination },
            symLinksToFollow: ['dangling'],
          }),
        )
      ).code,
    ).toBe('HOST_BAD_INPUT');
  });

  it('stops with a HOST_TIMEOUT when timeoutMs passes', async () => {
    const error = await rejection(
      runSync({ from: { connection: from, path: join(root, 'src') }, to: { path: destination }, timeoutMs: 1 }),
    );
    expect(error.code).toBe('HOST_TIMEOUT');
  });
});

describe('runSync from a host into a path on another host', () => {
  it('mirrors the tree the same way, rsync running on the destination with a forwarded agent', async () => {
    const destination = join(target.home, 'copy');
    await runBash(to, 'mkdir -p "$D/excluded" && echo old > "$D/stale.txt" && echo mine > "$D/excluded/local.txt"', {
      variables: { D: destination },
      check: true,
    });
    const before = await rsyncLeftovers();

    const stats = await runSync({
      from: { connection: from, path: join(root, 'src') },
      to: { connection: to, path: destination },
      ...STANDARD,
    });

    expect(await manifest(destination)).toEqual({
      ...(await expectedTree()),
      excluded: 'dir',
      'excluded/local.txt': `file ${createHash('sha256').update('mine\n').digest('hex')}`,
    });
    expect(stats.filesTransferred).toBe(7);
    expect(stats.filesDeleted).toBe(1);
    // The temporary known_hosts file is gone, and the source saw a login from the destination.
    await expectNoLeftovers(before);
    const again = await runSync({
      from: { connection: from, path: join(root, 'src') },
      to: { connection: to, path: destination },
      ...STANDARD,
    });
    expect(again.filesTransferred).toBe(0);
  });

  it('refuses a source that authenticates with a password: host-to-host needs its key', async () => {
    const passwordSource = new SshConnectionPool().get(
      source.spec({ id: 'password-source', credentials: { password: 'irrelevant' } }),
    );
    const error = await rejection(
      runSync({
        from: { connection: passwordSource, path: join(root, 'src') },
        to: { connection: to, path: join(target.home, 'never') },
      }),
    );
    expect(error.code).toBe('HOST_BAD_INPUT');
    expect(error.message).toMatch(/key authentication/);
    await passwordSource.close();
  });
});

describe('runSync with keepDestinationRoot', () => {
  const rootOf = async (path: string) => {
    const info = await lstat(path);
    return { owner: `${info.uid}:${info.gid}`, mode: (info.mode & 0o7777).toString(8) };
  };
  const prepare = (connection: HostConnection, path: string) =>
    runBash(
      connection,
      String.raw`
      set -e
      mkdir -p "$D/excluded" "$D/sub/gone-dir" "$D/a.txt"
      echo old > "$D/stale.txt"; echo mine > "$D/excluded/local.txt"; echo x > "$D/a.txt/was-a-dir"
      chown 4321:4322 "$D"; chmod 0750 "$D"
      `,
      { variables: { D: path }, check: true },
    );

  for (const where of ['an engine path', 'a path on another host'] as const) {
    it(`mirrors the tree into ${where} and leaves the destination directory's owner and mode alone`, async () => {
      const engine = await makeTempDir('sync-keep-root');
      try {
        const destination = where === 'an engine path' ? join(engine.path, 'copy') : join(target.home, 'keep-root');
        await prepare(to, destination);
        const before = await rsyncLeftovers();
        const toSpec = where === 'an engine path' ? { path: destination } : { connection: to, path: destination };
        const stats = await runSync({
          from: { connection: from, path: join(root, 'src') },
          to: toSpec,
          ...STANDARD,
          keepDestinationRoot: true,
        });
        expect(await manifest(destination)).toEqual({
          ...(await expectedTree()),
          excluded: 'dir',
          'excluded/local.txt': `file ${createHash('sha256').update('mine\n').digest('hex')}`,
        });
        expect(await rootOf(destination)).toEqual({ owner: '4321:4322', mode: '750' });
        // stale.txt and the directory a.txt was; the files under it are not counted apart.
        expect(stats.filesDeleted).toBeGreaterThanOrEqual(2);
        expect(stats.filesTransferred).toBe(7);
        const again = await runSync({
          from: { connection: from, path: join(root, 'src') },
          to: toSpec,
          ...STANDARD,
          keepDestinationRoot: true,
        });
        expect(again.filesTransferred).toBe(0);
        expect(again.filesDeleted).toBe(0);
        expect(await rootOf(destination)).toEqual({ owner: '4321:4322', mode: '750' });
        await expectNoLeftovers(before);
      } finally {
        await engine.remove();
        await runBash(to, 'rm -rf -- "$D"', { variables: { D: join(target.home, 'keep-root') } });
      }
    });
  }

  it('copies an empty source directory (deleting what the destination holds) and a source path with wildcards', async () => {
    const engine = await makeTempDir('sync-keep-root');
    try {
      const odd = join(root, 'odd [1] *?');
      await runBash(from, 'rm -rf -- "$S" && mkdir -p "$S/empty" && echo z > "$S/.hidden" && echo y > "$S/[y]"', {
        variables: { S: odd },
        check: true,
      });
      const destination = join(engine.path, 'copy');
      await prepare(to, destination);
      await runSync({
        from: { connection: from, path: join(odd, 'empty') },
        to: { path: destination },
        keepDestinationRoot: true,
      });
      expect(await manifest(destination)).toEqual({});
      expect(await rootOf(destination)).toEqual({ owner: '4321:4322', mode: '750' });

      await runSync({ from: { connection: from, path: odd }, to: { path: destination }, keepDestinationRoot: true });
      expect(Object.keys(await manifest(destination))).toEqual(['.hidden', '[y]', 'empty']);
      expect(await rootOf(destination)).toEqual({ owner: '4321:4322', mode: '750' });
    } finally {
      await engine.remove();
    }
  });

  it('fails with HOST_COMMAND_FAILED when the source directory does not exist, deleting or not', async () => {
    const engine = await makeTempDir('sync-keep-root');
    try {
      for (const deleteExtraneous of [true, false]) {
        const error = await rejection(
          runSync({
            from: { connection: from, path: join(root, 'missing') },
            to: { path: join(engine.path, 'copy') },
            keepDestinationRoot: true,
            deleteExtraneous,
          }),
        );
        expect(error.code).toBe('HOST_COMMAND_FAILED');
        expect(error.output).toMatch(/No such file or directory/);
      }
    } finally {
      await engine.remove();
    }
  });
});

describe('runSync from a host without rsync', () => {
  let bare: TestSshHosts;
  let emptyBin: { path: string; remove(): Promise<void> };
  beforeAll(async () => {
    emptyBin = await makeTempDir('empty-bin');
    await mkdir(join(emptyBin.path, 'bin'));
    bare = await startSshHosts(1, { sessionPath: join(emptyBin.path, 'bin') });
  });
  afterAll(async () => {
    await bare?.stopAll();
    await emptyBin?.remove();
  });

  it('fails with HOST_CAPABILITY_MISSING saying to install rsync on the source', async () => {
    const host = must(bare.hosts[0], 'host 0');
    const engine = await makeTempDir('sync-engine');
    try {
      const error = await rejection(
        runSync({
          from: { connection: pool.get(host.spec()), path: host.home },
          to: { path: join(engine.path, 'copy') },
        }),
      );
      expect(error.code).toBe('HOST_CAPABILITY_MISSING');
      expect(error.message).toContain(host.name);
      expect(error.action).toMatch(/Install rsync/);
    } finally {
      await engine.remove();
    }
  });
});
