import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ValidationError } from '../../errors/index.js';
import { reportStarted, waitOption, withClient } from '../client-command.js';
import { commandGroup } from '../command-group.js';
import { formatTable, print } from '../output.js';

interface EnvironmentView {
  id: string;
  name: string;
  address: { host: string; port: number; user: string };
  status: string;
  hostKey: { fingerprint: string };
  facts: { os: string; rsyncVersion: string | null; canMount: boolean } | null;
  mountTransport?: { kind: string; reason: string } | null;
}

const TRANSPORTS = ['bind', 'sshfs'];

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Parses USER@HOST[:PORT]. */
export function parseTarget(value: string): { user: string; host: string; port?: number } {
  const [, user, host, port] = /^([^@\s]+)@([^:\s]+|\[[^\]]+\])(?::(\d+))?$/.exec(value) ?? [];
  if (user === undefined || host === undefined)
    throw new ValidationError(
      `"${value}" is not USER@HOST[:PORT].`,
      [{ pointer: '/host', message: 'expected USER@HOST[:PORT]' }],
      { action: 'For example: dvx env add source-1 root@10.0.0.5:22 --key ~/.ssh/id_ed25519' },
    );
  return { user, host: host.replace(/^\[|\]$/g, ''), ...(port ? { port: Number(port) } : {}) };
}

/** `dvx env add|list|show|refresh|rm`: the hosts dvx works on. */
export function registerEnvCommands(program: Command): void {
  const env = commandGroup(program, 'env');

  waitOption(
    env
      .command('add <name> <user@host[:port]>')
      .description('Add a host: pin its SSH key, probe it and discover its repositories and source configs')
      .option('--key <file>', 'private key file to log in with')
      .option('--passphrase-stdin', 'read the key passphrase from standard input')
      .option('--password-stdin', 'log in with a password read from standard input')
      .option(
        '--host-key <fingerprint>',
        'expected host key fingerprint (SHA256:...); default: pin the key the host presents now',
      )
      .option('--scratch-path <dir>', 'directory on the host for plugin scratch files')
      .option(
        '--transport <kind>',
        'how engine storage is mounted there: bind or sshfs (default: bind when the host sees the engine storage, sshfs otherwise)',
      ),
  ).action(
    withClient<
      {
        key?: string;
        passphraseStdin?: boolean;
        passwordStdin?: boolean;
        hostKey?: string;
        scratchPath?: string;
        transport?: string;
        wait?: boolean;
      },
      [string, string]
    >(async (call, name, target) => {
      const { options } = call;
      const address = parseTarget(target);
      if (options.transport !== undefined && !TRANSPORTS.includes(options.transport)) {
        throw new ValidationError(
          `--transport ${options.transport} is not a mount transport.`,
          [{ pointer: '/transport', message: `one of ${TRANSPORTS.join(', ')}` }],
          { action: 'Give --transport bind (the host shares the engine storage) or --transport sshfs.' },
        );
      }
      if (Boolean(options.key) === Boolean(options.passwordStdin)) {
        throw new ValidationError(
          'Give exactly one of --key FILE and --password-stdin.',
          [{ pointer: '/privateKey', message: 'exactly one of key and password' }],
          { action: 'For example: dvx env add source-1 root@10.0.0.5 --key ~/.ssh/id_ed25519' },
        );
      }
      let privateKey: string | undefined;
      if (options.key) {
        try {
          privateKey = await readFile(options.key, 'utf8');
        } catch (error) {
          throw new ValidationError(
            `Cannot read the key file ${options.key}: ${(error as Error).message}.`,
            [{ pointer: '/privateKey', message: 'unreadable' }],
            { action: 'Give the path of a readable private key file.' },
          );
        }
      }
      const secret = options.passwordStdin || options.passphraseStdin ? await readStdin() : undefined;
      const body = {
        name,
        ...address,
        ...(privateKey ? { privateKey } : {}),
        ...(options.passwordStdin ? { password: secret } : {}),
        ...(options.passphraseStdin ? { passphrase: secret } : {}),
        ...(options.hostKey ? { hostKeyFingerprint: options.hostKey } : {}),
        ...(options.scratchPath ? { scratchPath: options.scratchPath } : {}),
        ...(options.transport ? { transport: options.transport } : {}),
      };
      await reportStarted(call, await call.client.post('/environments', body));
    }),
  );

  env
    .command('list')
    .description('List environments')
    .action(
      withClient<object, []>(async ({ client, options }) => {
        const answer = await client.get<{ environments: EnvironmentView[] }>('/environments');
        print(options.json, answer, () =>
          formatTable(answer.environments, [
            { header: 'name', value: (e) => e.name },
            { header: 'id', value: (e) => e.id },
            { header: 'address', value: (e) => `${e.address.user}@${e.address.host}:${e.address.port}` },
            { header: 'status', value: (e) => e.status },
            { header: 'os', value: (e) => e.facts?.os ?? null },
            { header: 'transport', value: (e) => e.mountTransport?.kind ?? null },
            { header: 'host key', value: (e) => e.hostKey.fingerprint },
          ]),
        );
      }),
    );

  env
    .command('show <env>')
    .description('Show one environment with what probing found')
    .action(
      withClient<object, [string]>(async ({ client, options }, ref) => {
        const answer = await client.get<{ environment: EnvironmentView }>(`/environments/${encodeURIComponent(ref)}`);
        const { mountTransport } = answer.environment;
        print(
          options.json,
          answer,
          () =>
            `${JSON.stringify(answer.environment, null, 2)}\n${mountTransport ? `mounts: ${mountTransport.kind} (${mountTransport.reason})\n` : ''}`,
        );
      }),
    );

  waitOption(
    env.command('refresh <env>').description('Probe the host again and rediscover; what is found again keeps its id'),
  ).action(
    withClient<{ wait?: boolean }, [string]>(async (call, ref) =>
      reportStarted(call, await call.client.post(`/environments/${encodeURIComponent(ref)}/refresh`)),
    ),
  );

  env
    .command('rm <env>')
    .description('Remove an environment that no dSource or VDB uses')
    .action(
      withClient<object, [string]>(async ({ client, options }, ref) => {
        const answer = await client.delete<{ deleted: EnvironmentView }>(`/environments/${encodeURIComponent(ref)}`);
        print(options.json, answer, () => `removed environment ${answer.deleted.name}\n`);
      }),
    );
}
