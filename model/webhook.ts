import type { Redis } from 'ioredis';
import type { EventType, StoredEvent } from './event-log.js';
import { keys } from './keys.js';
import type { StoredRecord } from './record-store.js';

/** A webhook subscription: events of some types (and optionally one object) POSTed to a URL, signed. */
export interface WebhookRecord extends StoredRecord {
  url: string;
  events: EventType[];
  /** Only events of this dSource or VDB; all objects when null. */
  objectId: string | null;
  /** The HMAC-SHA256 key of the signatures, sealed with the engine's secret key; never returned by the API. */
  secret: string;
  createdBy: string;
}

/** What became of one event sent to one subscription. */
export interface WebhookDelivery {
  id: string;
  subscriptionId: string;
  eventId: string;
  eventType: EventType;
  objectType: string;
  objectId: string;
  /** pending: not sent yet or being retried; delivered: a 2xx answer; failed: every attempt failed. */
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  /** The last attempt's HTTP status, when it got an answer. */
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  /** The event as sent (ids and states only, as on the stream). */
  event: StoredEvent;
}

/** Options of {@link WebhookDeliveries}. */
export interface WebhookDeliveriesOptions {
  /** Deliveries kept per subscription (older ones are removed). @defaultValue 1000 */
  keep?: number;
}

/**
 * Deliveries of webhook events: one JSON record each, a list per subscription by time, and per subscription and
 * object a chain of the unsettled ones in event order: only the head of a chain is sent, so a receiver sees the
 * events of one object in order, retries included.
 */
export class WebhookDeliveries {
  private readonly keep: number;

  constructor(
    private readonly redis: Redis,
    options: WebhookDeliveriesOptions = {},
  ) {
    this.keep = options.keep ?? 1000;
  }

  /** Stores a new delivery at the end of its chain; returns the chain's head (the delivery to send now). */
  async add(delivery: WebhookDelivery): Promise<string | null> {
    const chain = keys.webhookChain(delivery.subscriptionId, `${delivery.objectType}/${delivery.objectId}`);
    const list = keys.webhookDeliveries(delivery.subscriptionId);
    const replies = await this.redis
      .multi()
      .set(keys.webhookDelivery(delivery.id), JSON.stringify(delivery))
      .zadd(list, Date.parse(delivery.createdAt), delivery.id)
      .rpush(chain, delivery.id)
      .lindex(chain, 0)
      .zrange(list, '0', String(-this.keep - 1))
      .exec();
    const old = (replies?.[4]?.[1] as string[] | undefined) ?? [];
    if (old.length > 0)
      await this.redis
        .multi()
        .zrem(list, ...old)
        .del(...old.map((id) => keys.webhookDelivery(id)))
        .exec();
    return (replies?.[3]?.[1] as string | null | undefined) ?? null;
  }

  async get(id: string): Promise<WebhookDelivery | null> {
    const text = await this.redis.get(keys.webhookDelivery(id));
    return text ? (JSON.parse(text) as WebhookDelivery) : null;
  }

  async put(delivery: WebhookDelivery): Promise<void> {
    await this.redis.set(keys.webhookDelivery(delivery.id), JSON.stringify(delivery));
  }

  /**
   * Takes a settled delivery off its chain (also one whose record was trimmed away meanwhile); returns the new head
   * (the next delivery to send), if any.
   */
  async settle(
    delivery: Pick<WebhookDelivery, 'id' | 'subscriptionId' | 'objectType' | 'objectId'>,
  ): Promise<string | null> {
    const chain = keys.webhookChain(delivery.subscriptionId, `${delivery.objectType}/${delivery.objectId}`);
    const replies = await this.redis.multi().lrem(chain, 1, delivery.id).lindex(chain, 0).exec();
    return (replies?.[1]?.[1] as string | null | undefined) ?? null;
  }

  /** The newest deliveries of a subscription first. */
  async list(subscriptionId: string, limit = 100): Promise<WebhookDelivery[]> {
    const ids = await this.redis.zrevrange(keys.webhookDeliveries(subscriptionId), 0, limit - 1);
    if (ids.length === 0) return [];
    const texts = await this.redis.mget(...ids.map((id) => keys.webhookDelivery(id)));
    return texts.flatMap((text) => (text ? [JSON.parse(text) as WebhookDelivery] : []));
  }

  /** Removes every delivery of a subscription (when it is removed). */
  async removeAll(subscriptionId: string): Promise<void> {
    const deliveries = await this.list(subscriptionId, this.keep);
    const pipeline = this.redis.multi().del(keys.webhookDeliveries(subscriptionId));
    for (const delivery of deliveries) {
      pipeline.del(keys.webhookDelivery(delivery.id));
      pipeline.del(keys.webhookChain(subscriptionId, `${delivery.objectType}/${delivery.objectId}`));
    }
    await pipeline.exec();
  }
}
