import type { Command } from 'commander';
import { reportStarted, waitOption, withClient } from '../client-command.js';
import { commandGroup } from '../command-group.js';
import { formatTable, print } from '../output.js';
import { parseParameters } from '../parse-parameters.js';
import { formatSnapshots, type SnapshotView } from './snapshot-table.js';

interface DsourceView {
  id: string;
  name: string;
  pluginType: string;
  status: string;
  enabled: boolean;
  currentTimeflowId: string | null;
  lastRunId: string | null;
  lastError: { message: string } | null;
  runtime?: { state: string; reason: string | null };
}

const path = (ref: string, action = '') => `/dsources/${encodeURIComponent(ref)}${action}`;

/** `dvx dsource link|sync|enable|disable|rm|list|show|snapshots`. */
export function registerDsourceCommands(program: Command): void {
  const dsource = commandGroup(program, 'dsource');

  waitOption(
    dsource
      .command('link <name> <sourceconfig>')
      .description('Link a source config: create the dSource and ingest it (initial resync)')
      .option(
        '--staging <env>',
        'staged plugins: environment where staging storage is mounted (default: the source environment)',
      )
      .option('--parameters <json|@file>', 'the linked source parameters (linkedSourceDefinition) as JSON'),
  ).action(
    withClient<{ staging?: string; parameters?: string; wait?: boolean }, [string, string]>(
      async (call, name, sourceConfig) => {
        const parameters = parseParameters(call.options.parameters);
        await reportStarted(
          call,
          await call.client.post('/dsources', {
            name,
            sourceConfig,
            ...(call.options.staging ? { stagingEnvironment: call.options.staging } : {}),
            ...(parameters ? { parameters } : {}),
          }),
        );
      },
    ),
  );

  waitOption(
    dsource
      .command('sync <dsource>')
      .description('Sync now: ingest changes and take a snapshot')
      .option('--resync', 'ingest everything again instead of changes'),
  ).action(
    withClient<{ resync?: boolean; wait?: boolean }, [string]>(async (call, ref) =>
      reportStarted(call, await call.client.post(path(ref, '/sync'), { resync: Boolean(call.options.resync) })),
    ),
  );
  for (const [action, description] of [
    ['enable', 'Enable: mount staging storage and start staging'],
    ['disable', 'Disable: stop staging and unmount its storage'],
  ] as const) {
    waitOption(dsource.command(`${action} <dsource>`).description(description)).action(
      withClient<{ wait?: boolean }, [string]>(async (call, ref) =>
        reportStarted(call, await call.client.post(path(ref, `/${action}`))),
      ),
    );
  }
  waitOption(
    dsource.command('rm <dsource>').description('Delete a dSource no VDB depends on, with its storage and snapshots'),
  ).action(
    withClient<{ wait?: boolean }, [string]>(async (call, ref) =>
      reportStarted(call, await call.client.delete(path(ref))),
    ),
  );

  dsource
    .command('list')
    .description('List dSources')
    .action(
      withClient<object, []>(async ({ client, options }) => {
        const answer = await client.get<{ dsources: DsourceView[] }>('/dsources');
        print(options.json, answer, () =>
          formatTable(answer.dsources, [
            { header: 'name', value: (d) => d.name },
            { header: 'id', value: (d) => d.id },
            { header: 'type', value: (d) => d.pluginType },
            { header: 'status', value: (d) => d.status },
            { header: 'enabled', value: (d) => d.enabled },
            { header: 'health', value: (d) => d.runtime?.state ?? null },
            { header: 'last run', value: (d) => d.lastRunId },
            { header: 'last error', value: (d) => d.lastError?.message ?? null },
          ]),
        );
      }),
    );
  dsource
    .command('show <dsource>')
    .description('Show one dSource')
    .action(
      withClient<object, [string]>(async ({ client, options }, ref) => {
        const answer = await client.get<{ dsource: DsourceView }>(path(ref));
        print(options.json, answer, () => `${JSON.stringify(answer.dsource, null, 2)}\n`);
      }),
    );
  dsource
    .command('snapshots <dsource>')
    .description("List a dSource's snapshots, oldest first")
    .action(
      withClient<object, [string]>(async ({ client, options }, ref) => {
        const answer = await client.get<{ snapshots: SnapshotView[] }>(path(ref, '/snapshots'));
        print(options.json, answer, () => formatSnapshots(answer.snapshots));
      }),
    );
}
