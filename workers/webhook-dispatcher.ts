import { createHmac } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { silentLogger, type Logger } from '../log/logger.js';
import type { DvxModel } from '../model/dvx-model.js';
import type { StoredEvent } from '../model/event-log.js';
import { newId } from '../model/ids.js';
import { QUEUE_PREFIX } from '../model/keys.js';
import type { SecretBox } from '../model/secret-box.js';
import type { WebhookDelivery } from '../model/webhook.js';

/** The queue webhook deliveries are sent from: one job per delivery, its id the delivery's. */
export const WEBHOOK_QUEUE = 'dvx-webhooks';

/** The signature header: `sha256=<hex HMAC-SHA256 of the raw body with the subscription's secret>`. */
export const SIGNATURE_HEADER = 'x-dvx-signature';

/** Options of {@link WebhookDispatcher}. */
export interface WebhookDispatcherOptions {
  model: DvxModel;
  secrets: SecretBox;
  /** For adding jobs. */
  queueClient: Redis;
  /** A dedicated connection for the worker (blocking commands). */
  workerClient: Redis;
  logger?: Logger;
  /** Attempts per delivery. @defaultValue 8 */
  attempts?: number;
  /** First retry delay; each next one doubles (BullMQ exponential backoff). @defaultValue 1000 */
  backoffMs?: number;
  /** How long an attempt waits for the receiver's answer. @defaultValue 10000 */
  timeoutMs?: number;
}

/** A delivery job: the delivery and its chain (to move the chain on should the delivery's record be gone). */
interface DeliveryJob {
  deliveryId: string;
  subscriptionId: string;
  objectType: string;
  objectId: string;
}

/** `sha256=<hex>`: the signature of a body with a secret, as receivers check it. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Sends events to webhook subscriptions: for each event the subscriptions that want it get a delivery, chained
 * after the unsettled deliveries of the same subscription and object (so each object's events arrive in order);
 * the head of a chain is a BullMQ job, retried with exponential backoff, and settling it (a 2xx answer, or the last
 * attempt failing) sends the next.
 */
export class WebhookDispatcher {
  private readonly queue: Queue<DeliveryJob>;
  private readonly worker: Worker<DeliveryJob>;
  private readonly logger: Logger;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.logger = options.logger ?? silentLogger;
    this.attempts = options.attempts ?? 8;
    this.backoffMs = options.backoffMs ?? 1_000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.queue = new Queue(WEBHOOK_QUEUE, { connection: options.queueClient, prefix: QUEUE_PREFIX });
    this.queue.on('error', (error) => this.logger.warn({ err: error.message }, 'webhook queue problem'));
    this.worker = new Worker(WEBHOOK_QUEUE, (job) => this.send(job), {
      connection: options.workerClient,
      prefix: QUEUE_PREFIX,
      concurrency: 16,
    });
    this.worker.on('error', (error) => this.logger.warn({ err: error.message }, 'webhook worker problem'));
  }

  /** Queues the event for every subscription that wants it. */
  async dispatch(event: StoredEvent): Promise<void> {
    const now = new Date().toISOString();
    for (const webhook of await this.options.model.webhooks.list()) {
      if (!webhook.events.includes(event.type)) continue;
      if (webhook.objectId && webhook.objectId !== event.objectId) continue;
      const delivery: WebhookDelivery = {
        id: newId('dlv'),
        subscriptionId: webhook.id,
        eventId: event.id,
        eventType: event.type,
        objectType: event.objectType,
        objectId: event.objectId,
        status: 'pending',
        attempts: 0,
        lastStatus: null,
        lastError: null,
        createdAt: now,
        updatedAt: now,
        event,
      };
      const head = await this.options.model.webhookDeliveries.add(delivery);
      if (head) await this.enqueue({ ...delivery, deliveryId: head });
    }
  }

  private async enqueue(chain: DeliveryJob): Promise<void> {
    const { deliveryId, subscriptionId, objectType, objectId } = chain;
    // The job id is the delivery's: adding the head of a chain twice sends it once.
    await this.queue.add(
      'deliver',
      { deliveryId, subscriptionId, objectType, objectId },
      {
        jobId: deliveryId,
        attempts: this.attempts,
        backoff: { type: 'exponential', delay: this.backoffMs },
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 1000 },
      },
    );
  }

  private async send(job: Job<DeliveryJob>): Promise<void> {
    const { model, secrets } = this.options;
    const delivery = await model.webhookDeliveries.get(job.data.deliveryId);
    const webhook = await model.webhooks.get(job.data.subscriptionId);
    if (!webhook) return; // removed with its deliveries
    if (!delivery || delivery.status !== 'pending') {
      // Trimmed away (a subscription's oldest deliveries go past its cap) or settled: the chain moves on.
      const head = await model.webhookDeliveries.settle({ ...job.data, id: job.data.deliveryId });
      if (head) await this.enqueue({ ...job.data, deliveryId: head });
      return;
    }
    const body = JSON.stringify(delivery.event);
    let error: string | null = null;
    let status: number | null = null;
    try {
      const answer = await fetch(webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'dvx-webhook',
          'x-dvx-event': delivery.eventType,
          'x-dvx-delivery': delivery.id,
          [SIGNATURE_HEADER]: signature(secrets.open(webhook.secret), body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = answer.status;
      await answer.body?.cancel();
      if (status < 200 || status >= 300) error = `the receiver answered HTTP ${status}`;
    } catch (caught) {
      const cause = (caught as { cause?: { message?: string } }).cause?.message;
      error = `could not reach ${new URL(webhook.url).host}: ${cause ?? (caught as Error).message}`;
    }
    const attempts = job.attemptsMade + 1;
    const last = attempts >= (job.opts.attempts ?? 1);
    const settled = error === null || last;
    const next: WebhookDelivery = {
      ...delivery,
      attempts,
      lastStatus: status,
      lastError: error,
      updatedAt: new Date().toISOString(),
      status: error === null ? 'delivered' : last ? 'failed' : 'pending',
    };
    await model.webhookDeliveries.put(next);
    if (settled) {
      const head = await model.webhookDeliveries.settle(next);
      if (head) await this.enqueue({ ...job.data, deliveryId: head });
    }
    if (error !== null) {
      this.logger.warn(
        { deliveryId: delivery.id, webhookId: webhook.id, attempts, err: error },
        'webhook delivery failed',
      );
      throw new Error(error);
    }
  }

  async close(): Promise<void> {
    await this.worker.close();
    await this.queue.close();
  }
}
