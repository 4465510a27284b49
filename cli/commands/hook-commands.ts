import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ValidationError } from '../../errors/index.js';
import { withClient } from '../client-command.js';
import { commandGroup } from '../command-group.js';
import { formatTable, print } from '../output.js';

interface HookView {
  objectType: string;
  objectId: string;
  event: string;
  script: string;
  updatedAt: string;
}

const path = (ref: string, event: string) => `/hooks/${encodeURIComponent(ref)}/${encodeURIComponent(event)}`;

/** `dvx hook set|list|rm`: bash run on a dSource's or VDB's host around its lifecycles. */
export function registerHookCommands(program: Command): void {
  const hook = commandGroup(program, 'hook');
  hook
    .command('set <dsource|vdb> <event>')
    .description(
      'Set the script of a hook; it runs with DVX_OBJECT_NAME, DVX_MOUNT_PATH, DVX_RUN_ID... in its environment',
    )
    .option('--file <script.sh>', 'read the script from a file')
    .option('--script <text>', 'the script itself')
    .action(
      withClient<{ file?: string; script?: string }, [string, string]>(async ({ client, options }, ref, event) => {
        if (Boolean(options.file) === Boolean(options.script))
          throw new ValidationError(
            'Give exactly one of --file and --script.',
            [{ pointer: '/script', message: 'missing' }],
            { action: `For example: dvx hook set ${ref} ${event} --file hook.sh` },
          );
        let script = options.script;
        if (options.file) {
          try {
            script = await readFile(options.file, 'utf8');
          } catch (error) {
            throw new ValidationError(`Cannot read ${options.file}: ${(error as Error).message}.`, [
              { pointer: '/script', message: 'unreadable file' },
            ]);
          }
        }
        const answer = await client.request<{ hook: HookView }>('PUT', path(ref, event), { script });
        print(options.json, answer, () => `set the ${event} hook of ${ref}\n`);
      }),
    );
  hook
    .command('list <dsource|vdb>')
    .description('List the hooks of a dSource or VDB')
    .action(
      withClient<object, [string]>(async ({ client, options }, ref) => {
        const answer = await client.get<{ hooks: HookView[] }>(`/hooks?of=${encodeURIComponent(ref)}`);
        print(options.json, answer, () =>
          formatTable(answer.hooks, [
            { header: 'event', value: (h) => h.event },
            { header: 'updated', value: (h) => h.updatedAt },
            { header: 'script', value: (h) => (h.script.split('\n')[0] ?? '').slice(0, 60) },
          ]),
        );
      }),
    );
  hook
    .command('rm <dsource|vdb> <event>')
    .description('Remove a hook')
    .action(
      withClient<object, [string, string]>(async ({ client, options }, ref, event) => {
        const answer = await client.delete<{ deleted: HookView }>(path(ref, event));
        print(options.json, answer, () => `removed the ${event} hook of ${ref}\n`);
      }),
    );
}
