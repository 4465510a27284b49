import type { Redis } from 'ioredis';
import { keys } from './keys.js';

/** Event types on the stream. */
export const EVENT_TYPES = [
  'run.started',
  'run.succeeded',
  'run.failed',
  'run.cancelled',
  'step.failed',
  'vdb.status',
  'dsource.status',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const isEventType = (value: string): value is EventType => (EVENT_TYPES as readonly string[]).includes(value);

/** An error as events carry it: no details, outputs or stacks (those can hold host output), only what to show. */
export interface EventError {
  code: string;
  message: string;
  action?: string;
}

/**
 * One event. Ids, states and error summaries only: never parameters, outputs or secrets. Run events name the run
 * and the object it acts on; status events the object, its name, and its status before (`null` when created) and
 * after (`DELETED` when its record is removed).
 */
export interface DvxEvent {
  type: EventType;
  /** ISO 8601 time the engine emitted it. */
  at: string;
  objectType: string;
  objectId: string;
  runId?: string;
  /** Run kind (`vdb-provision`...). */
  kind?: string;
  /** Who asked for the run. */
  requestedBy?: string;
  /** step.failed: the step. */
  stepId?: string;
  /** Object status events: the object's name. */
  name?: string;
  from?: string | null;
  to?: string;
  error?: EventError;
}

/** An event read back with its stream id (`<ms>-<seq>`), the position to read after. */
export interface StoredEvent extends DvxEvent {
  id: string;
}

/** Options of {@link EventLog}. */
export interface EventLogOptions {
  /** About how many events the stream keeps (`XADD MAXLEN ~`): older ones are trimmed. @defaultValue 100000 */
  maxLength?: number;
}

export const DEFAULT_EVENT_LOG_LENGTH = 100_000;

/** The `dvx:events` stream: `XADD dvx:events MAXLEN ~ <cap> * type <type> event <json>`. */
export class EventLog {
  private readonly maxLength: number;

  constructor(
    private readonly redis: Redis,
    options: EventLogOptions = {},
  ) {
    this.maxLength = options.maxLength ?? DEFAULT_EVENT_LOG_LENGTH;
  }

  /** Appends an event; returns its stream id. */
  async append(event: DvxEvent): Promise<string> {
    const id = await this.redis.xadd(
      keys.events(),
      'MAXLEN',
      '~',
      String(this.maxLength),
      '*',
      'type',
      event.type,
      'event',
      JSON.stringify(event),
    );
    return id ?? '';
  }

  /** Up to `limit` events after the stream id `after` (from the oldest kept when absent), oldest first. */
  async read(options: { after?: string; limit?: number } = {}): Promise<StoredEvent[]> {
    const start = options.after ? `(${options.after}` : '-';
    const entries = await this.redis.xrange(keys.events(), start, '+', 'COUNT', options.limit ?? 100);
    return entries.flatMap(([id, fields]) => {
      const index = fields.indexOf('event');
      const text = index >= 0 ? fields[index + 1] : undefined;
      return text ? [{ ...(JSON.parse(text) as DvxEvent), id }] : [];
    });
  }
}
