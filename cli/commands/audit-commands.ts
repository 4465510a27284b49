import type { Command } from 'commander';
import { commandGroup } from '../command-group.js';
import { ValidationError } from '../../errors/index.js';
import type { AuditEntry } from '../../model/audit-log.js';
import { withClient } from '../client-command.js';
import { formatTable, print } from '../output.js';

/** `dvx audit`: who changed what, and what came of it (needs an admin token). */
export function registerAuditCommands(program: Command): void {
  commandGroup(program, 'audit')
    .option('--limit <n>', 'at most this many entries', '50')
    .option('--actor <token>', 'only requests by this token id or token name')
    .option('--since <time>', 'only requests at or after this ISO 8601 time')
    .action(
      withClient<{ limit: string; actor?: string; since?: string }, []>(async ({ client, options }) => {
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1)
          throw new ValidationError(`--limit must be a positive whole number, not "${options.limit}".`, [
            { pointer: '/limit', message: 'not a positive integer' },
          ]);
        const query = new URLSearchParams({ limit: String(limit) });
        if (options.actor) query.set('actor', options.actor);
        if (options.since) query.set('since', options.since);
        const answer = await client.get<{ entries: AuditEntry[] }>(`/audit?${query.toString()}`);
        print(options.json, answer, () =>
          formatTable(answer.entries, [
            { header: 'time', value: (e) => e.at },
            {
              header: 'actor',
              value: (e) => (e.actor.tokenId ? `${e.actor.name} (${e.actor.role})` : `anonymous ${e.actor.ip}`),
            },
            { header: 'request', value: (e) => `${e.method} ${e.route}` },
            { header: 'objects', value: (e) => Object.values(e.params).join(' ') || null },
            { header: 'run', value: (e) => e.runId },
            { header: 'status', value: (e) => e.status },
            { header: 'error', value: (e) => e.errorCode },
          ]),
        );
      }),
    );
}
