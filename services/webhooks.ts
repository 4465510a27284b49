import { randomBytes } from 'node:crypto';
import { NotFoundError, ValidationError } from '../errors/index.js';
import { EVENT_TYPES, isEventType, type EventType } from '../model/event-log.js';
import { newId } from '../model/ids.js';
import type { WebhookDelivery, WebhookRecord } from '../model/webhook.js';
import { findDatasetObject } from './dataset-object.js';
import type { Actor, ServiceContext } from './service-context.js';

/** A subscription as the API shows it: everything but its secret. */
export type WebhookView = Omit<WebhookRecord, 'secret'>;

/** What `dvx webhook add` / POST /webhooks asks for. */
export interface WebhookRequest {
  url: string;
  events: string[];
  /** A dSource or VDB (id or name): only its events. */
  object?: string;
  /** The signing key; one is made (and shown once) when absent. */
  secret?: string;
}

export function presentWebhook(record: WebhookRecord): WebhookView {
  const { secret: _secret, ...view } = record;
  return view;
}

function checkUrl(url: string): void {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || parsed.username || parsed.password)
    throw new ValidationError(`"${url}" is not an http(s) URL without credentials.`, [
      { pointer: '/url', message: 'an http:// or https:// URL, no user or password in it' },
    ]);
}

/**
 * Subscribes a URL to events. The secret signs every body (HMAC-SHA256, header X-Dvx-Signature); it is stored sealed
 * and never shown again, except a generated one, in this answer only.
 */
export async function addWebhook(
  ctx: ServiceContext,
  request: WebhookRequest,
  actor: Actor,
): Promise<{ webhook: WebhookView; secret?: string }> {
  checkUrl(request.url);
  const unknown = request.events.filter((event) => !isEventType(event));
  if (request.events.length === 0 || unknown.length > 0)
    throw new ValidationError(
      request.events.length === 0 ? 'Give at least one event type.' : `Unknown event types: ${unknown.join(', ')}.`,
      [{ pointer: '/events', message: `each one of ${EVENT_TYPES.join(', ')}` }],
      { action: `Use event types among: ${EVENT_TYPES.join(', ')}.` },
    );
  const objectId = request.object ? (await findDatasetObject(ctx, request.object)).id : null;
  const secret = request.secret ?? randomBytes(32).toString('base64url');
  const record = await ctx.model.webhooks.create({
    id: newId('whk'),
    url: request.url,
    events: [...new Set(request.events as EventType[])],
    objectId,
    secret: ctx.secrets.seal(secret),
    createdBy: actor.name,
  });
  return { webhook: presentWebhook(record), ...(request.secret ? {} : { secret }) };
}

export async function listWebhooks(ctx: ServiceContext): Promise<WebhookView[]> {
  return (await ctx.model.webhooks.list()).map(presentWebhook);
}

/** Removes a subscription and its deliveries; deliveries not sent yet are dropped. */
export async function removeWebhook(ctx: ServiceContext, id: string): Promise<{ deleted: WebhookView }> {
  const record = await ctx.model.webhooks.get(id);
  if (!record)
    throw new NotFoundError('webhook', id, 'List webhooks with `dvx webhook list` and use one of their ids.');
  await ctx.model.webhooks.delete(id);
  await ctx.model.webhookDeliveries.removeAll(id);
  return { deleted: presentWebhook(record) };
}

/** A subscription's deliveries, newest first, with status, attempts and the last error. */
export async function listWebhookDeliveries(
  ctx: ServiceContext,
  id: string,
  limit = 100,
): Promise<{ deliveries: WebhookDelivery[] }> {
  if (!(await ctx.model.webhooks.get(id)))
    throw new NotFoundError('webhook', id, 'List webhooks with `dvx webhook list` and use one of their ids.');
  return { deliveries: await ctx.model.webhookDeliveries.list(id, limit) };
}
