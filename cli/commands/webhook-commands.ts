import type { Command } from 'commander';
import { withClient } from '../client-command.js';
import { commandGroup } from '../command-group.js';
import { formatTable, print } from '../output.js';

interface WebhookView {
  id: string;
  url: string;
  events: string[];
  objectId: string | null;
  createdAt: string;
}

interface DeliveryView {
  id: string;
  eventId: string;
  eventType: string;
  objectId: string;
  status: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  updatedAt: string;
}

/** `dvx webhook add|list|rm|deliveries`: events POSTed to a URL, signed with HMAC-SHA256. */
export function registerWebhookCommands(program: Command): void {
  const webhook = commandGroup(program, 'webhook');
  webhook
    .command('add <url>')
    .description(
      'Send events to a URL (POST, JSON, X-Dvx-Signature: sha256=HMAC of the body); without --secret one is made and printed once',
    )
    .requiredOption(
      '--events <types>',
      'comma-separated: run.started,run.succeeded,run.failed,run.cancelled,step.failed,vdb.status,dsource.status',
    )
    .option('--object <dsource|vdb>', 'only the events of this dSource or VDB')
    .option('--secret <key>', 'the signing key (16 characters or more)')
    .action(
      withClient<{ events: string; object?: string; secret?: string }, [string]>(async ({ client, options }, url) => {
        const answer = await client.post<{ webhook: WebhookView; secret?: string }>('/webhooks', {
          url,
          events: options.events
            .split(',')
            .map((event) => event.trim())
            .filter(Boolean),
          ...(options.object ? { object: options.object } : {}),
          ...(options.secret ? { secret: options.secret } : {}),
        });
        print(options.json, answer, () =>
          answer.secret
            ? `${answer.secret}\n`
            : `added webhook ${answer.webhook.id} for ${answer.webhook.events.join(', ')}\n`,
        );
        if (answer.secret && !options.json)
          process.stderr.write(`added webhook ${answer.webhook.id}; the signing secret above is not shown again\n`);
      }),
    );
  webhook
    .command('list')
    .description('List webhook subscriptions (never their secrets)')
    .action(
      withClient<object, []>(async ({ client, options }) => {
        const answer = await client.get<{ webhooks: WebhookView[] }>('/webhooks');
        print(options.json, answer, () =>
          formatTable(answer.webhooks, [
            { header: 'id', value: (w) => w.id },
            { header: 'url', value: (w) => w.url },
            { header: 'events', value: (w) => w.events.join(',') },
            { header: 'object', value: (w) => w.objectId ?? '*' },
          ]),
        );
      }),
    );
  webhook
    .command('rm <id>')
    .description('Remove a webhook subscription and its deliveries')
    .action(
      withClient<object, [string]>(async ({ client, options }, id) => {
        const answer = await client.delete<{ deleted: WebhookView }>(`/webhooks/${encodeURIComponent(id)}`);
        print(options.json, answer, () => `removed webhook ${id}\n`);
      }),
    );
  webhook
    .command('deliveries <id>')
    .description('Deliveries of a webhook, newest first: status, attempts, last answer or error')
    .option('--limit <n>', 'how many', '50')
    .action(
      withClient<{ limit: string }, [string]>(async ({ client, options }, id) => {
        const answer = await client.get<{ deliveries: DeliveryView[] }>(
          `/webhooks/${encodeURIComponent(id)}/deliveries?limit=${encodeURIComponent(options.limit)}`,
        );
        print(options.json, answer, () =>
          formatTable(answer.deliveries, [
            { header: 'delivery', value: (d) => d.id },
            { header: 'event', value: (d) => `${d.eventType} ${d.eventId}` },
            { header: 'object', value: (d) => d.objectId },
            { header: 'status', value: (d) => d.status },
            { header: 'attempts', value: (d) => String(d.attempts) },
            { header: 'last', value: (d) => d.lastError ?? (d.lastStatus === null ? '' : `HTTP ${d.lastStatus}`) },
          ]),
        );
      }),
    );
}
