import type { Command } from 'commander';
import { withClient } from '../client-command.js';
import { commandGroup } from '../command-group.js';
import { formatTable, print } from '../output.js';

interface BookmarkView {
  id: string;
  name: string;
  snapshotId: string;
  ownerType: string;
  ownerId: string;
  ownerName: string | null;
  expiresAt: string | null;
  createdAt: string;
}

/** `dvx bookmark create|list|rm`. */
export function registerBookmarkCommands(program: Command): void {
  const bookmark = commandGroup(program, 'bookmark');

  bookmark
    .command('create <name>')
    .description('Name a snapshot; provision, rewind and refresh accept the name in place of the snapshot id')
    .requiredOption('--snapshot <id>', 'the snapshot')
    .option('--expires <when>', 'a duration (30m, 12h, 7d, 2w) or an ISO date; then the bookmark is removed')
    .action(
      withClient<{ snapshot: string; expires?: string }, [string]>(async ({ client, options }, name) => {
        const answer = await client.post<{ bookmark: BookmarkView }>('/bookmarks', {
          name,
          snapshot: options.snapshot,
          ...(options.expires ? { expires: options.expires } : {}),
        });
        print(
          options.json,
          answer,
          () =>
            `bookmarked snapshot ${answer.bookmark.snapshotId} as ${answer.bookmark.name}${answer.bookmark.expiresAt ? ` until ${answer.bookmark.expiresAt}` : ''}\n`,
        );
      }),
    );

  bookmark
    .command('list')
    .description('List bookmarks')
    .option('--of <dsource|vdb>', 'only of snapshots of this dSource or VDB')
    .action(
      withClient<{ of?: string }, []>(async ({ client, options }) => {
        const answer = await client.get<{ bookmarks: BookmarkView[] }>(
          `/bookmarks${options.of ? `?of=${encodeURIComponent(options.of)}` : ''}`,
        );
        print(options.json, answer, () =>
          formatTable(answer.bookmarks, [
            { header: 'name', value: (b) => b.name },
            { header: 'snapshot', value: (b) => b.snapshotId },
            { header: 'of', value: (b) => `${b.ownerType} ${b.ownerName ?? b.ownerId}` },
            { header: 'expires', value: (b) => b.expiresAt ?? 'never' },
            { header: 'created', value: (b) => b.createdAt },
          ]),
        );
      }),
    );

  bookmark
    .command('rm <name>')
    .description('Remove a bookmark (its snapshot stays)')
    .action(
      withClient<object, [string]>(async ({ client, options }, ref) => {
        const answer = await client.delete<{ deleted: BookmarkView }>(`/bookmarks/${encodeURIComponent(ref)}`);
        print(options.json, answer, () => `removed bookmark ${answer.deleted.name}\n`);
      }),
    );
}
