import type { Command } from 'commander';
import { withClient } from '../client-command.js';
import { commandGroup } from '../command-group.js';
import { print } from '../output.js';
import { formatSnapshots, type SnapshotView } from './snapshot-table.js';

/** `dvx snapshot list|rm`. */
export function registerSnapshotCommands(program: Command): void {
  const snapshot = commandGroup(program, 'snapshot');
  snapshot
    .command('list')
    .description('List snapshots, oldest first')
    .option('--of <dsource|vdb>', 'only of this dSource or VDB')
    .action(
      withClient<{ of?: string }, []>(async ({ client, options }) => {
        const answer = await client.get<{ snapshots: SnapshotView[] }>(
          `/snapshots${options.of ? `?of=${encodeURIComponent(options.of)}` : ''}`,
        );
        print(options.json, answer, () => formatSnapshots(answer.snapshots));
      }),
    );
  snapshot
    .command('rm <id>')
    .description('Delete a snapshot that no VDB or timeflow was cloned from')
    .action(
      withClient<object, [string]>(async ({ client, options }, id) => {
        const answer = await client.delete<{ deleted: SnapshotView }>(`/snapshots/${encodeURIComponent(id)}`);
        print(options.json, answer, () => `deleted snapshot ${answer.deleted.id}\n`);
      }),
    );
}
