import type { Command } from 'commander';
import { commandGroup } from '../command-group.js';
import { ValidationError } from '../../errors/index.js';
import type { RunSummary } from '../../services/runs.js';
import { withClient } from '../client-command.js';
import { formatTable, print } from '../output.js';
import { formatRun, type RunView } from '../run-view.js';
import { exitCodeOf, waitForRun } from '../wait-for-run.js';

const STATUSES = ['running', 'succeeded', 'failed', 'cancelled'];

/** `dvx run list|show|watch|cancel`: what operators read. */
export function registerRunCommands(program: Command): void {
  const run = commandGroup(program, 'run');

  run
    .command('list')
    .description('List runs, newest first')
    .option('--object <id>', 'only runs on this object (dSource, VDB, environment id)')
    .option('--kind <kind>', 'only runs of this kind (provision, sync, ...)')
    .option('--status <status>', `only runs with this status (${STATUSES.join(', ')})`)
    .option('--limit <n>', 'at most this many', '50')
    .action(
      withClient<{ object?: string; kind?: string; status?: string; limit: string }, []>(
        async ({ client, options }) => {
          if (options.status && !STATUSES.includes(options.status)) {
            throw new ValidationError(
              `Unknown status "${options.status}".`,
              [{ pointer: '/status', message: 'unknown status' }],
              { action: `Use one of: ${STATUSES.join(', ')}.` },
            );
          }
          const limit = Number(options.limit);
          if (!Number.isInteger(limit) || limit < 1)
            throw new ValidationError(`--limit must be a positive whole number, not "${options.limit}".`, [
              { pointer: '/limit', message: 'not a positive integer' },
            ]);
          const query = new URLSearchParams({ limit: String(limit) });
          if (options.object) query.set('objectId', options.object);
          if (options.kind) query.set('kind', options.kind);
          if (options.status) query.set('status', options.status);
          const answer = await client.get<{ runs: RunSummary[] }>(`/runs?${query.toString()}`);
          print(options.json, answer, () =>
            formatTable(answer.runs, [
              { header: 'id', value: (r) => r.id },
              { header: 'kind', value: (r) => r.kind },
              { header: 'object', value: (r) => `${r.objectType}/${r.objectId}` },
              { header: 'status', value: (r) => r.status },
              { header: 'step', value: (r) => r.currentSteps.join(',') || null },
              { header: 'created', value: (r) => r.createdAt },
              { header: 'error', value: (r) => r.error?.message ?? null },
            ]),
          );
        },
      ),
    );

  run
    .command('show <id>')
    .description('Show a run with its timeline: steps, attempts, durations, operation ids, errors')
    .action(
      withClient<object, [string]>(async ({ client, options }, id) => {
        const answer = await client.get<{ run: RunView }>(`/runs/${encodeURIComponent(id)}`);
        print(options.json, answer, () => formatRun(answer.run));
      }),
    );

  run
    .command('watch <id>')
    .description('Follow a run until it ends; exit non-zero if it does not succeed')
    .action(
      withClient<object, [string]>(async ({ client, options }, id) => {
        const final = await waitForRun(client, id, { stream: options.json ? null : process.stdout });
        if (options.json) process.stdout.write(`${JSON.stringify({ run: final }, null, 2)}\n`);
        process.exitCode = exitCodeOf(final);
      }),
    );

  run
    .command('cancel <id>')
    .description('Cancel a run: it undoes what it did at the next step boundary and ends cancelled')
    .option('--wait', 'follow the run until it has ended')
    .action(
      withClient<{ wait?: boolean }, [string]>(async ({ client, options }, id) => {
        const answer = await client.post<{ run: RunSummary }>(`/runs/${encodeURIComponent(id)}/cancel`);
        if (!options.wait) {
          print(options.json, answer, () => `cancelling run ${id}\n`);
          return;
        }
        const final = await waitForRun(client, id, { stream: options.json ? null : process.stderr });
        print(options.json, { run: final }, () => `run ${id} ${final.status}\n`);
      }),
    );
}
