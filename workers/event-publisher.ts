import type { SerializedError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { DvxModel } from '../model/dvx-model.js';
import type { DvxEvent, EventError, EventLog, StoredEvent } from '../model/event-log.js';
import type { RunRecord } from '../model/run-record.js';
import type { RunDriver } from './run-driver.js';

/** Options of {@link EventPublisher}. */
export interface EventPublisherOptions {
  driver: RunDriver;
  model: DvxModel;
  log: EventLog;
  logger?: Logger;
}

function errorSummary(error: SerializedError | undefined): EventError | undefined {
  if (!error) return undefined;
  return {
    code: String(error.code),
    message: String(error.message),
    ...(error.action ? { action: error.action } : {}),
  };
}

function runEvent(type: DvxEvent['type'], run: RunRecord, extra: Partial<DvxEvent> = {}): DvxEvent {
  return {
    type,
    at: new Date().toISOString(),
    objectType: run.objectType,
    objectId: run.objectId,
    runId: run.id,
    kind: run.kind,
    requestedBy: run.requestedBy,
    ...extra,
  };
}

/**
 * Puts what the engine already knows on the event stream: runs started and ended and failed steps (from the run
 * driver), VDB and dSource status changes (from the model), each in the process that wrote it, so once. Appends go
 * out in the order things happened, one after the other, and listeners ({@link onEvent}: webhooks) hear each event
 * with its stream id in that order. A failed append is logged, never fails the run.
 */
export class EventPublisher {
  private readonly logger: Logger;
  private tail: Promise<void> = Promise.resolve();
  private readonly listeners: ((event: StoredEvent) => Promise<void>)[] = [];
  private readonly detach: () => void;

  constructor(private readonly options: EventPublisherOptions) {
    this.logger = options.logger ?? silentLogger;
    const { driver, model } = options;
    const started = (run: RunRecord) => this.publish(runEvent('run.started', run));
    const ended = (_runId: string, _kind: string, status: string, run: RunRecord) => {
      const type = status === 'succeeded' ? 'run.succeeded' : status === 'cancelled' ? 'run.cancelled' : 'run.failed';
      const error = errorSummary(run.error);
      this.publish(runEvent(type, run, error ? { error } : {}));
    };
    const stepEnded = (
      _runId: string,
      _kind: string,
      stepId: string,
      outcome: 'done' | 'error',
      _durationMs: number | undefined,
      run: RunRecord,
      error: SerializedError | undefined,
    ) => {
      if (outcome !== 'error') return;
      const summary = errorSummary(error);
      this.publish(runEvent('step.failed', run, { stepId, ...(summary ? { error: summary } : {}) }));
    };
    const statusChanged: Parameters<typeof model.events.on<'statusChanged'>>[1] = (objectType, change) =>
      this.publish({
        type: objectType === 'vdb' ? 'vdb.status' : 'dsource.status',
        at: new Date().toISOString(),
        objectType,
        objectId: change.record.id,
        name: change.record.name,
        from: change.from,
        to: change.to,
        ...(change.record.lastRunId ? { runId: change.record.lastRunId } : {}),
      });
    driver.events.on('started', started);
    driver.events.on('ended', ended);
    driver.events.on('stepEnded', stepEnded);
    model.events.on('statusChanged', statusChanged);
    this.detach = () => {
      driver.events.off('started', started);
      driver.events.off('ended', ended);
      driver.events.off('stepEnded', stepEnded);
      model.events.off('statusChanged', statusChanged);
    };
  }

  /** Calls `listener` with every event appended from now on, in stream order. */
  onEvent(listener: (event: StoredEvent) => Promise<void>): void {
    this.listeners.push(listener);
  }

  private publish(event: DvxEvent): void {
    this.tail = this.tail.then(async () => {
      let id: string;
      try {
        id = await this.options.log.append(event);
      } catch (error) {
        this.logger.warn({ err: (error as Error).message, type: event.type }, 'could not append an event');
        return;
      }
      for (const listener of this.listeners) {
        await listener({ ...event, id }).catch((error: unknown) =>
          this.logger.warn({ err: (error as Error).message, eventId: id }, 'an event listener failed'),
        );
      }
    });
  }

  /** Stops listening and waits for the events already emitted to be appended and heard. */
  async close(): Promise<void> {
    this.detach();
    await this.tail;
  }
}
