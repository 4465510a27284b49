import type { Command } from 'commander';
import { reportStarted, waitOption, withClient } from '../client-command.js';
import { commandGroup } from '../command-group.js';
import { formatTable, print } from '../output.js';
import { parseParameters } from '../parse-parameters.js';
import { readHookOptions } from '../read-hook-options.js';

interface VdbView {
  id: string;
  name: string;
  parentType: string;
  parentId: string;
  environmentId: string;
  status: string;
  enabled: boolean;
  running: boolean;
  currentTimeflowId: string | null;
  mounts: { mountPath: string }[] | null;
  lastError: { message: string } | null;
  runtime?: { state: string; reason: string | null };
}

const path = (ref: string, action = '') => `/vdbs/${encodeURIComponent(ref)}${action}`;

/** `dvx vdb provision|start|stop|enable|disable|snapshot|rewind|refresh|rm|list|show`. */
export function registerVdbCommands(program: Command): void {
  const vdb = commandGroup(program, 'vdb');

  waitOption(
    vdb
      .command('provision <name>')
      .description('Provision a VDB from a snapshot of a dSource or VDB onto a target environment')
      .requiredOption('--from <dsource|vdb>', 'what to provision from')
      .requiredOption('--env <env>', 'target environment')
      .option('--snapshot <id>', 'snapshot of the source (default: its newest)')
      .option('--repo <repository>', 'repository on the target (default: the only one for the plugin)')
      .option('--parameters <json|@file>', 'the virtual source parameters (virtualSourceDefinition) as JSON')
      .option('--hook <event=file...>', 'hook scripts to set with the VDB, e.g. configureClone=setup.sh'),
  ).action(
    withClient<
      {
        from: string;
        env: string;
        snapshot?: string;
        repo?: string;
        parameters?: string;
        hook?: string[];
        wait?: boolean;
      },
      [string]
    >(async (call, name) => {
      const { options } = call;
      const parameters = parseParameters(options.parameters);
      const hooks = await readHookOptions(options.hook);
      await reportStarted(
        call,
        await call.client.post('/vdbs', {
          name,
          source: options.from,
          environment: options.env,
          ...(options.snapshot ? { snapshot: options.snapshot } : {}),
          ...(options.repo ? { repository: options.repo } : {}),
          ...(parameters ? { parameters } : {}),
          ...(hooks ? { hooks } : {}),
        }),
      );
    }),
  );

  for (const [action, description] of [
    ['start', 'Start the VDB (mounting its storage if needed)'],
    ['stop', 'Stop the VDB; its storage stays mounted'],
    ['enable', 'Enable: mount its storage again and reconfigure it'],
    ['disable', 'Disable: unconfigure it and unmount its storage'],
    ['snapshot', 'Take a snapshot of the VDB'],
  ] as const) {
    waitOption(vdb.command(`${action} <vdb>`).description(description)).action(
      withClient<{ wait?: boolean }, [string]>(async (call, ref) =>
        reportStarted(call, await call.client.post(path(ref, `/${action}`))),
      ),
    );
  }
  waitOption(
    vdb
      .command('rewind <vdb>')
      .description('Rewind to one of its snapshots, on a new timeflow (the current one stays)')
      .requiredOption('--snapshot <id>', 'a snapshot of this VDB'),
  ).action(
    withClient<{ snapshot: string; wait?: boolean }, [string]>(async (call, ref) =>
      reportStarted(call, await call.client.post(path(ref, '/rewind'), { snapshot: call.options.snapshot })),
    ),
  );
  waitOption(
    vdb
      .command('refresh <vdb>')
      .description('Refresh from a snapshot of its parent, on a new timeflow')
      .option('--snapshot <id>', 'a snapshot of the parent (default: its newest)'),
  ).action(
    withClient<{ snapshot?: string; wait?: boolean }, [string]>(async (call, ref) =>
      reportStarted(
        call,
        await call.client.post(path(ref, '/refresh'), call.options.snapshot ? { snapshot: call.options.snapshot } : {}),
      ),
    ),
  );
  waitOption(
    vdb.command('rm <vdb>').description('Delete a VDB nothing depends on: unconfigure, unmount, destroy its storage'),
  ).action(
    withClient<{ wait?: boolean }, [string]>(async (call, ref) =>
      reportStarted(call, await call.client.delete(path(ref))),
    ),
  );

  vdb
    .command('list')
    .description('List VDBs')
    .action(
      withClient<object, []>(async ({ client, options }) => {
        const answer = await client.get<{ vdbs: VdbView[] }>('/vdbs');
        print(options.json, answer, () =>
          formatTable(answer.vdbs, [
            { header: 'name', value: (v) => v.name },
            { header: 'id', value: (v) => v.id },
            { header: 'from', value: (v) => `${v.parentType}/${v.parentId}` },
            { header: 'status', value: (v) => v.status },
            { header: 'enabled', value: (v) => v.enabled },
            { header: 'running', value: (v) => v.running },
            { header: 'health', value: (v) => v.runtime?.state ?? null },
            { header: 'mount', value: (v) => v.mounts?.map((m) => m.mountPath).join(',') ?? null },
            { header: 'last error', value: (v) => v.lastError?.message ?? null },
          ]),
        );
      }),
    );
  vdb
    .command('show <vdb>')
    .description('Show one VDB')
    .action(
      withClient<object, [string]>(async ({ client, options }, ref) => {
        const answer = await client.get<{ vdb: VdbView }>(path(ref));
        print(options.json, answer, () => `${JSON.stringify(answer.vdb, null, 2)}\n`);
      }),
    );
}
