import type { Redis } from 'ioredis';
import { ConflictError, DvxError } from '../errors/index.js';
import { keys, objectKey } from './keys.js';
import { integerReply, RedisScript, stringsReply, unexpectedReply, type ScriptArg } from './lua/redis-script.js';
import type {
  PendingStep,
  PersistedState,
  RunDetail,
  RunRecord,
  RunStatus,
  StepAttempt,
  StepExecution,
  TransitionLogEntry,
} from './run-record.js';

/** What is recorded once about a step job; its attempts are stored beside it. */
export type StepMeta = Pick<StepExecution, 'stepId' | 'src' | 'jobId' | 'operationId' | 'seq' | 'startedAt'>;

/** How an attempt of a step ended, with the step's record (written unless the step has one already). */
export interface FinishedAttempt {
  meta: StepMeta;
  record: StepAttempt;
}

function attemptField(jobId: string, attempt: number): string {
  return `${jobId}#${attempt}`;
}

/** The error an interrupted attempt is shown with. */
const INTERRUPTED = new DvxError({
  code: 'STEP_INTERRUPTED',
  message: 'The engine running this attempt stopped before it ended (killed, crashed, or lost its lock on the step).',
}).toJSON();

/** Rebuilds step executions from the steps hash: `<jobId>` holds the step, `<jobId>#<n>` its attempts. */
function stepExecutions(fields: Record<string, string>): StepExecution[] {
  const metas = new Map<string, StepMeta>();
  const attempts = new Map<string, StepAttempt[]>();
  for (const [field, text] of Object.entries(fields)) {
    const hash = field.lastIndexOf('#');
    if (hash < 0) {
      metas.set(field, JSON.parse(text) as StepMeta);
      continue;
    }
    const jobId = field.slice(0, hash);
    attempts.set(jobId, [...(attempts.get(jobId) ?? []), JSON.parse(text) as StepAttempt]);
  }
  const executions: StepExecution[] = [];
  for (const [jobId, meta] of metas) {
    const list = (attempts.get(jobId) ?? []).sort((a, b) => a.attempt - b.attempt);
    // An attempt that never ended but has a later one was cut short by its engine stopping.
    for (const attempt of list.slice(0, -1))
      if (attempt.outcome === undefined) {
        attempt.outcome = 'interrupted';
        attempt.error = { ...INTERRUPTED };
      }
    const last = list[list.length - 1];
    const status: StepExecution['status'] =
      last?.outcome === 'succeeded' || last?.outcome === 'failed'
        ? last.outcome
        : last?.outcome === 'retrying'
          ? 'retrying'
          : 'running';
    const execution: StepExecution = { ...meta, status, attempts: list };
    if ((status === 'succeeded' || status === 'failed') && last?.endedAt) {
      execution.endedAt = last.endedAt;
      execution.durationMs = Date.parse(last.endedAt) - Date.parse(meta.startedAt);
    }
    executions.push(execution);
  }
  return executions.sort((a, b) => a.seq - b.seq || a.startedAt.localeCompare(b.startedAt));
}

const createRun = new RedisScript('create-run');
const persistRun = new RedisScript('persist-run');
const beginStepScript = new RedisScript('begin-step');
const releaseLockScript = new RedisScript('release-lock');
const indexRun = new RedisScript('index-run');
const listRuns = new RedisScript('list-runs');
const pruneRun = new RedisScript('prune-run');
const SCRIPTS = [createRun, persistRun, beginStepScript, releaseLockScript, indexRun, listRuns, pruneRun];

/** The statuses of runs that have ended: the only ones {@link RunStore.prune} deletes. */
const ENDED_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];

/** The version of the kind and status indexes: {@link keys.runIndexes} holds it once every run is in them. */
const RUN_INDEXES_VERSION = '1';
/** Runs indexed per round trip when indexing runs written before the indexes existed. */
const INDEX_BATCH = 500;

/** Options of {@link RunStore.prune}. */
export interface PruneOptions {
  /** Runs that ended before this time are deleted. */
  endedBefore: Date;
  /** Ids of runs to keep whatever their age (e.g. the last run of an object, which its record names). */
  keep?: ReadonlySet<string>;
  /** Runs read and deleted per round trip: one round never holds Redis for long. @defaultValue 500 */
  batchSize?: number;
}

/** What {@link RunStore.prune} did. */
export interface PruneReport {
  /** Runs deleted with their log, steps and index entries. */
  pruned: number;
  /** Runs old enough but kept: named in `keep`. */
  kept: number;
}

/** What a new run starts with. */
export interface NewRun {
  id: string;
  kind: string;
  machineVersion: number;
  status: RunStatus;
  state: PersistedState;
  pending: PendingStep[];
  objectType: string;
  objectId: string;
  locks: string[];
  requestedBy: string;
  log: TransitionLogEntry;
  error?: RunRecord['error'];
}

/** The next version of a run, written only if nobody else moved it since `expectedSeq`. */
export interface RunUpdate {
  expectedSeq: number;
  seq: number;
  status: RunStatus;
  state: PersistedState;
  pending: PendingStep[];
  log: TransitionLogEntry;
  error?: RunRecord['error'];
}

/** What {@link RunStore.beginStep} found. */
export type BeganStep = { status: 'ready'; run: RunRecord } | { status: 'stale' } | { status: 'ahead' };

/** Filters and page of {@link RunStore.list}; the filters are indexes in Redis, not checks on the client. */
export interface RunQuery {
  /** Only runs of this object (`<type>/<id>`). */
  objectKey?: string;
  kind?: string;
  status?: RunStatus;
  /** @defaultValue 50 */
  limit?: number;
  /** Matching runs to skip, newest first: the page's start. @defaultValue 0 */
  offset?: number;
}

const JSON_FIELDS = ['state', 'pending', 'locks', 'error'] as const;

/** The hash fields of a record as field, value, field, value... (JSON for the structured ones). */
function fieldPairs(record: Record<string, unknown>): string[] {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (value === undefined) continue;
    const scalar = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
    pairs.push(
      key,
      scalar && !(JSON_FIELDS as readonly string[]).includes(key) ? String(value) : JSON.stringify(value),
    );
  }
  return pairs;
}

function fromHash(hash: Record<string, string>): RunRecord | null {
  if (!hash.id) return null;
  const record: RunRecord = {
    id: hash.id,
    kind: hash.kind ?? '',
    machineVersion: Number(hash.machineVersion),
    status: hash.status as RunStatus,
    seq: Number(hash.seq),
    state: JSON.parse(hash.state ?? 'null') as PersistedState,
    pending: JSON.parse(hash.pending ?? '[]') as PendingStep[],
    objectType: hash.objectType ?? '',
    objectId: hash.objectId ?? '',
    locks: JSON.parse(hash.locks ?? '[]') as string[],
    requestedBy: hash.requestedBy ?? 'engine',
    createdAt: hash.createdAt ?? '',
    updatedAt: hash.updatedAt ?? '',
  };
  if (hash.endedAt) record.endedAt = hash.endedAt;
  if (hash.error) record.error = JSON.parse(hash.error) as RunRecord['error'];
  return record;
}

/** A reply of begin-step.lua: the run's hash as field, value... */
function hashReply(reply: string[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) hash[reply[i] ?? ''] = reply[i + 1] ?? '';
  return hash;
}

/** The ARGV slots of a finished attempt (count first, as persist-run.lua reads them). */
function finishedArgs(finished: FinishedAttempt | undefined): ScriptArg[] {
  if (!finished) return [0];
  return [
    1,
    finished.meta.jobId,
    JSON.stringify(finished.meta),
    finished.record.attempt,
    JSON.stringify(finished.record),
  ];
}

/** The ARGV slots of pending job ids (count first). */
function pendingArgs(pending: readonly PendingStep[]): ScriptArg[] {
  return [pending.length, ...pending.map((step) => step.jobId)];
}

/**
 * Runs in Redis. Every change of a run is one Lua script (model/lua/): creating a run takes its object locks
 * atomically, and persisting a transition is a compare-and-set on the run's sequence number that appends to the
 * transition log, keeps the run's pending job ids and its status indexes, and, when the run ends, releases its
 * locks, all at once. Runs are listed from indexes by kind, status and object, sorted by creation time.
 */
export class RunStore {
  /** Settles once every run is in the kind and status indexes (see {@link ensureIndexes}). */
  private indexed: Promise<void> | undefined;

  constructor(private readonly redis: Redis) {
    for (const script of SCRIPTS) script.define(redis);
  }

  /** Creates a run and takes its locks; refuses with OBJECT_LOCKED naming the run that holds one. */
  async create(run: NewRun): Promise<RunRecord> {
    const created = new Date();
    const now = created.toISOString();
    const fields = {
      id: run.id,
      kind: run.kind,
      machineVersion: run.machineVersion,
      status: run.status,
      seq: 1,
      state: run.state,
      pending: run.pending,
      objectType: run.objectType,
      objectId: run.objectId,
      locks: run.locks,
      requestedBy: run.requestedBy,
      createdAt: now,
      updatedAt: now,
      endedAt: run.status === 'running' ? undefined : now,
      error: run.error,
    };
    const reply = stringsReply(
      createRun,
      await createRun.run(
        this.redis,
        [
          keys.run(run.id),
          keys.runs(),
          keys.activeRuns(),
          keys.objectRuns(objectKey(run.objectType, run.objectId)),
          keys.runLog(run.id),
          keys.runPending(run.id),
          keys.runsByKind(run.kind),
          keys.runsByStatus(run.status),
          keys.runsByKindAndStatus(run.kind, run.status),
          ...run.locks.map((lock) => keys.lock(lock)),
        ],
        [
          run.id,
          created.getTime(),
          JSON.stringify(run.log),
          run.status,
          ...pendingArgs(run.pending),
          ...fieldPairs(fields),
        ],
      ),
    );
    const [outcome, lockKey, holder] = reply;
    if (outcome === 'LOCKED' && lockKey !== undefined && holder !== undefined) {
      const lock = lockKey.slice(keys.lock('').length);
      throw new ConflictError({
        code: 'OBJECT_LOCKED',
        message: `${lock} is busy: run ${holder} holds it.`,
        action: `Wait for run ${holder} to finish (dvx run watch ${holder}) or cancel it (dvx run cancel ${holder}), then try again.`,
        details: { object: lock, runId: holder },
      });
    }
    if (outcome === 'EXISTS') throw new ConflictError({ message: `Run ${run.id} already exists.` });
    if (outcome !== 'OK') throw unexpectedReply(createRun, reply);
    const stored = await this.get(run.id);
    if (!stored)
      throw new DvxError({
        code: 'INTERNAL',
        message: `Run ${run.id} vanished right after it was created.`,
        retryable: true,
      });
    return stored;
  }

  /**
   * Writes a transition if the run is still at `expectedSeq` (and still has `run.status`); false when someone
   * else moved it first. `finished`, when given, is the step attempt whose result this transition applies,
   * written with it.
   */
  async persist(run: RunRecord, update: RunUpdate, finished?: FinishedAttempt): Promise<boolean> {
    const now = new Date().toISOString();
    const ended = update.status !== 'running';
    const fields = {
      seq: update.seq,
      status: update.status,
      state: update.state,
      pending: update.pending,
      updatedAt: now,
      endedAt: ended ? now : undefined,
      error: update.error,
    };
    const applied = integerReply(
      persistRun,
      await persistRun.run(
        this.redis,
        [
          keys.run(run.id),
          keys.runLog(run.id),
          keys.activeRuns(),
          keys.runSteps(run.id),
          keys.runPending(run.id),
          keys.runs(),
          keys.runsByStatus(run.status),
          keys.runsByKindAndStatus(run.kind, run.status),
          keys.runsByStatus(update.status),
          keys.runsByKindAndStatus(run.kind, update.status),
          ...run.locks.map((lock) => keys.lock(lock)),
        ],
        [
          String(update.expectedSeq),
          run.status,
          update.status,
          run.id,
          JSON.stringify(update.log),
          ...finishedArgs(finished),
          ...pendingArgs(update.pending),
          ...fieldPairs(fields),
        ],
      ),
    );
    return applied === 1;
  }

  async get(runId: string): Promise<RunRecord | null> {
    return fromHash(await this.redis.hgetall(keys.run(runId)));
  }

  async detail(runId: string): Promise<RunDetail | null> {
    const [hash, log, steps] = await Promise.all([
      this.redis.hgetall(keys.run(runId)),
      this.redis.lrange(keys.runLog(runId), 0, -1),
      this.redis.hgetall(keys.runSteps(runId)),
    ]);
    const record = fromHash(hash);
    if (!record) return null;
    const executions = stepExecutions(steps);
    return { ...record, log: log.map((line) => JSON.parse(line) as TransitionLogEntry), steps: executions };
  }

  async activeRunIds(): Promise<string[]> {
    return this.redis.smembers(keys.activeRuns());
  }

  /** Newest first (runs created in the same millisecond: highest id first), one page of `limit` from `offset`. */
  async list(query: RunQuery = {}): Promise<RunRecord[]> {
    const limit = query.limit ?? 50;
    const offset = query.offset ?? 0;
    if (limit <= 0) return [];
    await this.ensureIndexes();
    const filter =
      query.kind !== undefined && query.status !== undefined
        ? keys.runsByKindAndStatus(query.kind, query.status)
        : query.kind !== undefined
          ? keys.runsByKind(query.kind)
          : query.status !== undefined
            ? keys.runsByStatus(query.status)
            : undefined;
    const objectIndex = query.objectKey !== undefined ? keys.objectRuns(query.objectKey) : undefined;
    const ids =
      objectIndex !== undefined && filter !== undefined
        ? stringsReply(listRuns, await listRuns.run(this.redis, [objectIndex, filter], [offset, limit]))
        : await this.redis.zrevrange(objectIndex ?? filter ?? keys.runs(), offset, offset + limit - 1);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.run(id));
    const found: RunRecord[] = [];
    for (const [error, hash] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      const record = fromHash(hash as Record<string, string>);
      if (record) found.push(record);
    }
    return found;
  }

  /**
   * Puts every run written before the kind and status indexes existed into them, once per Redis: idempotent, safe
   * beside engines writing runs (each run is indexed by a script that checks its kind and status have not moved),
   * and marked done in {@link keys.runIndexes}. {@link list} calls it; engines may call it at start.
   */
  async ensureIndexes(): Promise<void> {
    this.indexed ??= this.buildIndexes().catch((error: unknown) => {
      this.indexed = undefined;
      throw error;
    });
    return this.indexed;
  }

  private async buildIndexes(): Promise<void> {
    if ((await this.redis.get(keys.runIndexes())) === RUN_INDEXES_VERSION) return;
    // Ascending: runs created meanwhile land after the page being read, never shifting it.
    for (let start = 0; ; start += INDEX_BATCH) {
      const ids = await this.redis.zrange(keys.runs(), String(start), String(start + INDEX_BATCH - 1));
      if (ids.length === 0) break;
      let left = ids;
      for (let round = 0; left.length > 0; round += 1) {
        if (round >= 50)
          throw new DvxError({
            code: 'CONFLICT',
            message: `Runs ${left.join(', ')} kept changing while they were being indexed; try again.`,
            retryable: true,
          });
        left = await this.indexBatch(left);
      }
    }
    await this.redis.set(keys.runIndexes(), RUN_INDEXES_VERSION);
  }

  /** Indexes runs by the kind and status read just before; returns those that moved in between, to read again. */
  private async indexBatch(ids: string[]): Promise<string[]> {
    const read = this.redis.pipeline();
    for (const id of ids) read.hmget(keys.run(id), 'kind', 'status');
    const seen = ((await read.exec()) ?? []).map(([error, fields]) => {
      if (error) throw error;
      return fields as (string | null)[];
    });
    const write = this.redis.pipeline();
    const written: string[] = [];
    ids.forEach((id, i) => {
      const [kind, status] = seen[i] ?? [];
      if (kind === null || kind === undefined || status === null || status === undefined) return;
      indexRun.queue(
        write,
        [
          keys.run(id),
          keys.runs(),
          keys.runsByKind(kind),
          keys.runsByStatus(status),
          keys.runsByKindAndStatus(kind, status),
        ],
        [id, kind, status],
      );
      written.push(id);
    });
    if (written.length === 0) return [];
    const replies = (await write.exec()) ?? [];
    return written.filter((_, i) => {
      const [error, reply] = replies[i] ?? [];
      if (error) throw error;
      return integerReply(indexRun, reply) === 0;
    });
  }

  /**
   * Deletes every ended run (succeeded, failed or cancelled) that ended before `endedBefore`, but those in `keep`:
   * its hash, transition log, step executions, pending job ids and its entry in every index, one run per script
   * (model/lua/prune-run.lua) and `batchSize` runs per round trip. A running run is never deleted, nor one that
   * moved or ended after the cutoff while it was being read. Idempotent; safe beside engines writing runs.
   */
  async prune(options: PruneOptions): Promise<PruneReport> {
    const batchSize = options.batchSize ?? 500;
    const cutoff = options.endedBefore;
    const report: PruneReport = { pruned: 0, kept: 0 };
    await this.ensureIndexes();
    for (const status of ENDED_STATUSES) {
      const index = keys.runsByStatus(status);
      // A run that ended before the cutoff was created before it: its score (creation time) bounds the range.
      // Deleted runs leave the index, so the next page starts after those this pass left in it.
      for (let left = 0; ;) {
        const ids = await this.redis.zrangebyscore(index, '-inf', `(${cutoff.getTime()}`, 'LIMIT', left, batchSize);
        if (ids.length === 0) break;
        const candidates = ids.filter((id) => !options.keep?.has(id));
        report.kept += ids.length - candidates.length;
        left += ids.length - candidates.length;
        if (candidates.length === 0) continue;
        const read = this.redis.pipeline();
        for (const id of candidates) read.hmget(keys.run(id), 'kind', 'objectType', 'objectId');
        const seen = ((await read.exec()) ?? []).map(([error, fields]) => {
          if (error) throw error;
          return fields as (string | null)[];
        });
        const write = this.redis.pipeline();
        candidates.forEach((id, i) => {
          const [kind, objectType, objectId] = seen[i] ?? [];
          pruneRun.queue(
            write,
            [
              keys.run(id),
              keys.runLog(id),
              keys.runSteps(id),
              keys.runPending(id),
              keys.runs(),
              keys.activeRuns(),
              keys.objectRuns(objectKey(objectType ?? '', objectId ?? '')),
              keys.runsByKind(kind ?? ''),
              index,
              keys.runsByKindAndStatus(kind ?? '', status),
            ],
            [id, kind ?? '', status, cutoff.toISOString()],
          );
        });
        for (const [error, reply] of (await write.exec()) ?? []) {
          if (error) throw error;
          const outcome = integerReply(pruneRun, reply);
          if (outcome === 1) report.pruned += 1;
          // Not deleted and still in the index (it ended after the cutoff): the next page starts after it.
          else if (outcome === 0) left += 1;
        }
      }
    }
    return report;
  }

  /**
   * Takes up a step job: `stale` when its run has ended or no longer waits for it (the job is a leftover),
   * `ahead` when the transition that started it is not written yet; otherwise records the step and the start of
   * this attempt, and returns the run.
   */
  async beginStep(runId: string, jobId: string, meta: StepMeta, attempt: StepAttempt): Promise<BeganStep> {
    const reply = await this.runBeginStep(runId, jobId, meta, attempt, 'run');
    if (reply === null) return { status: 'stale' };
    if (reply === 'AHEAD') return { status: 'ahead' };
    const run = fromHash(hashReply(stringsReply(beginStepScript, reply)));
    return run ? { status: 'ready', run } : { status: 'stale' };
  }

  /**
   * Records the step and the start of an attempt, as {@link beginStep} does, for a worker that already knows the
   * run waits for the job. Sent on the connection that later writes the step's result, so it lands first. Records
   * nothing when the run does not wait for the job after all: `stale` or `ahead` as in {@link beginStep}.
   */
  async recordStepStart(
    runId: string,
    jobId: string,
    meta: StepMeta,
    attempt: StepAttempt,
  ): Promise<'recorded' | 'stale' | 'ahead'> {
    const reply = await this.runBeginStep(runId, jobId, meta, attempt, 'ack');
    if (reply === 'OK') return 'recorded';
    if (reply === 'AHEAD') return 'ahead';
    if (reply === null) return 'stale';
    throw unexpectedReply(beginStepScript, reply);
  }

  private runBeginStep(
    runId: string,
    jobId: string,
    meta: StepMeta,
    attempt: StepAttempt,
    answer: 'run' | 'ack',
  ): Promise<unknown> {
    return beginStepScript.run(
      this.redis,
      [keys.run(runId), keys.runSteps(runId), keys.runPending(runId)],
      [jobId, JSON.stringify(meta), attempt.attempt, JSON.stringify(attempt), meta.seq, answer],
    );
  }

  /** Records how an attempt ended (when no transition is written with it: retries, stale results). */
  async recordAttempt(runId: string, finished: FinishedAttempt): Promise<void> {
    const { meta, record } = finished;
    await this.redis
      .multi()
      .hsetnx(keys.runSteps(runId), meta.jobId, JSON.stringify(meta))
      .hset(keys.runSteps(runId), attemptField(meta.jobId, record.attempt), JSON.stringify(record))
      .exec();
  }

  /** The run holding the lock on an object (`<type>/<id>`), if any. */
  async lockHolder(object: string): Promise<string | null> {
    return this.redis.get(keys.lock(object));
  }

  /** Lock keys (object keys) with the run that holds each. */
  async locks(): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', keys.lockPattern(), 'COUNT', 500);
      cursor = next;
      if (batch.length === 0) continue;
      const holders = await this.redis.mget(...batch);
      batch.forEach((key, i) => {
        const holder = holders[i];
        if (holder) found.set(key.slice(keys.lock('').length), holder);
      });
    } while (cursor !== '0');
    return found;
  }

  /** Drops a lock left by a run that is not running any more. */
  async releaseLock(object: string, runId: string): Promise<boolean> {
    return integerReply(releaseLockScript, await releaseLockScript.run(this.redis, [keys.lock(object)], [runId])) === 1;
  }

  /** Removes an id from the active set when its run has ended or vanished. */
  async forgetActive(runId: string): Promise<void> {
    await this.redis.srem(keys.activeRuns(), runId);
  }
}

export function assertRunning(run: RunRecord): void {
  if (run.status !== 'running')
    throw new DvxError({ code: 'CONFLICT', message: `Run ${run.id} has already ${run.status}.` });
}
