// withSecretFile (dvx/sdk) in a plugin operation run by the invoker against a real sshd host: the file is private,
// holds the secret, goes away after the callback returns or throws, and the secret shows on no command line or log.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshConnectionPool } from '../../hosts/index.js';
import { createPlatformServices, invokePlugin, type PluginArtifact } from '../../operations/index.js';
import { startSshHosts, type TestSshHost, type TestSshHosts } from '../harness/ssh-hosts.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { makeArtifact, TEST_SCHEMAS } from '../fixtures/plugins/make-artifact.js';
import { must } from '../harness/must.js';

let set: TestSshHosts;
let host: TestSshHost;
let pool: SshConnectionPool;
let temp: { path: string; remove(): Promise<void> };
let plugin: PluginArtifact;

beforeAll(async () => {
  set = await startSshHosts(1);
  host = must(set.hosts[0], 'host 0');
  pool = new SshConnectionPool();
  temp = await makeTempDir('secret-file');
  plugin = await makeArtifact({
    entry: 'secret-file-plugin.ts',
    schemas: {
      ...TEST_SCHEMAS,
      // A plain string, not format password: nothing redacts it, so a leak into a log would show.
      virtualSourceDefinition: {
        type: 'object',
        additionalProperties: false,
        required: ['mountLocation', 'secret'],
        properties: {
          mountLocation: { type: 'string', format: 'unixpath' },
          secret: { type: 'string' },
          fail: { type: 'boolean' },
          directory: { type: 'string' },
        },
      },
    },
  });
});
afterAll(async () => {
  await pool?.close();
  await set?.stopAll();
  await temp?.remove();
});

/** Every command line on this machine (the sshd host is local) that holds `needle`, sampled until `stop()`. */
function watchCommandLines(needle: string): { stop(): string[] } {
  const found = new Set<string>();
  let watching = true;
  const sample = () => {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const args = readFileSync(`/proc/${entry}/cmdline`, 'latin1');
        if (args.includes(needle)) found.add(args.replaceAll('\0', ' '));
      } catch {
        // Gone already.
      }
    }
    if (watching) setImmediate(sample);
  };
  sample();
  return {
    stop() {
      watching = false;
      return [...found];
    },
  };
}

interface Seen {
  path?: string;
  stat?: string;
  contentsMatch?: boolean;
  thrown?: string;
}

async function configure(parameters: Record<string, unknown>): Promise<{ seen: Seen; log: string }> {
  const lines: string[] = [];
  const logger = pino(
    { level: 'trace' },
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString('utf8'));
        callback();
      },
    }),
  );
  const reference = 'env-secret';
  const connection = {
    environment: { name: host.name, reference, host: { hostname: host.address.host, scratchPath: '/tmp' } },
    user: { name: host.address.user, reference },
  };
  const output = (await invokePlugin({
    artifact: plugin,
    operation: 'virtual.configure',
    operationId: 'op-secret',
    args: {
      virtualSource: {
        guid: 'vdb-secret',
        connection,
        parameters: { mountLocation: '/mnt/vdb-secret', ...parameters },
        mounts: [{ remoteEnvironment: connection.environment, mountPath: '/mnt/vdb-secret', sharedPath: null }],
      },
      repository: { name: 'files', root: '/srv' },
      snapshot: {},
    },
    services: createPlatformServices({ connect: async () => pool.get(host.spec({ id: reference })), logger }),
    logger,
    cacheDir: join(temp.path, 'cache'),
    timeoutMs: 60_000,
  })) as { name: string };
  return { seen: JSON.parse(output.name) as Seen, log: lines.join('') };
}

const SECRET = `pw-${'q'.repeat(12)}'"$(touch /tmp/pwned) \\ ;\nsecond line ✓`;

describe('withSecretFile', () => {
  it('gives the callback a 0600 file of the login user holding the secret, removes it after, and shows the secret nowhere', async () => {
    const watch = watchCommandLines('qqqqqqqqqqqq');
    const { seen, log } = await configure({ secret: SECRET });
    const commandLines = watch.stop();
    expect(seen.thrown).toBeUndefined();
    expect(seen.stat).toBe(`600 ${host.address.user}`);
    expect(seen.contentsMatch).toBe(true);
    const path = must(seen.path, 'the path the callback got');
    expect(path).toMatch(/^\/tmp\/dvx-secret\.\w{10}$/);
    expect(existsSync(path)).toBe(false);
    expect(existsSync('/tmp/pwned')).toBe(false);
    expect(commandLines).toEqual([]);
    expect(log).toContain('handing the secret file to a command');
    expect(log).not.toContain('qqqqqqqqqqqq');
    expect(await readFile(host.logFile, 'utf8')).not.toContain('qqqqqqqqqqqq');
  });

  it('removes the file when the callback throws, and rethrows what it threw', async () => {
    const { seen, log } = await configure({ secret: SECRET, fail: true });
    expect(seen.thrown).toBe('the callback failed on purpose');
    expect(seen.stat).toBe(`600 ${host.address.user}`);
    expect(existsSync(must(seen.path, 'the path the callback got'))).toBe(false);
    expect(log).not.toContain('qqqqqqqqqqqq');
  });

  it('creates the file in the directory asked for', async () => {
    const directory = join(temp.path, 'private');
    await mkdir(directory, { mode: 0o700 });
    const { seen } = await configure({ secret: 'in a chosen directory', directory });
    expect(must(seen.path, 'the path the callback got').startsWith(`${directory}/dvx-secret.`)).toBe(true);
    expect(seen.contentsMatch).toBe(true);
    expect(existsSync(must(seen.path, 'the path'))).toBe(false);
  });
});
