import type { Redis } from 'ioredis';
import { ConflictError, DvxError } from '../errors/index.js';
import { keys } from './keys.js';
import type { PendingStep, PersistedState, RunDetail, RunRecord, RunStatus, StepAttempt, StepExecution, TransitionLogEntry } from './run-record.js';

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
    const last = list[list.length - 1];
    const status: StepExecution['status'] = last?.outcome === 'succeeded' || last?.outcome === 'failed' ? last.outcome : last?.outcome === 'retrying' ? 'retrying' : 'running';
    const execution: StepExecution = { ...meta, status, attempts: list };
    if ((status === 'succeeded' || status === 'failed') && last?.endedAt) {
      execution.endedAt = last.endedAt;
      execution.durationMs = Date.parse(last.endedAt) - Date.parse(meta.startedAt);
    }
    executions.push(execution);
  }
  return executions.sort((a, b) => a.seq - b.seq || a.startedAt.localeCompare(b.startedAt));
}

const CREATE_RUN = `
for i = 6, #KEYS do
  local holder = redis.call('GET', KEYS[i])
  if holder then return {'LOCKED', KEYS[i], holder} end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return {'EXISTS'} end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
redis.call('RPUSH', KEYS[5], ARGV[3])
if ARGV[4] == 'running' then
  redis.call('SADD', KEYS[3], ARGV[1])
  for i = 6, #KEYS do redis.call('SET', KEYS[i], ARGV[1]) end
end
return {'OK'}
`;

const PERSIST_RUN = `
if redis.call('HGET', KEYS[1], 'seq') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 9))
redis.call('RPUSH', KEYS[2], ARGV[2])
if ARGV[5] ~= '' then
  redis.call('HSETNX', KEYS[4], ARGV[7], ARGV[8])
  redis.call('HSET', KEYS[4], ARGV[5], ARGV[6])
end
if ARGV[3] ~= 'running' then
  redis.call('SREM', KEYS[3], ARGV[4])
  for i = 5, #KEYS do
    if redis.call('GET', KEYS[i]) == ARGV[4] then redis.call('DEL', KEYS[i]) end
  end
end
return 1
`;

/**
 * A worker takes up a step: if the run is running and waits for this job, record the step (once) and the start
 * of this attempt, and return the run (ARGV[6] = '1') so that delivering the result needs no second read.
 * 'AHEAD' when the transition that started the job is not written yet (the job was enqueued alongside it).
 */
const BEGIN_STEP = `
local status = redis.call('HGET', KEYS[1], 'status')
local pending = redis.call('HGET', KEYS[1], 'pending')
if status ~= 'running' or not pending or not string.find(pending, '"jobId":"' .. ARGV[1] .. '"', 1, true) then
  if status == 'running' and tonumber(redis.call('HGET', KEYS[1], 'seq')) < tonumber(ARGV[5]) then return 'AHEAD' end
  return false
end
redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1] .. '#' .. ARGV[3], ARGV[4])
if ARGV[6] == '1' then return redis.call('HGETALL', KEYS[1]) end
return 'OK'
`;

/** Releases a lock only if the given run still holds it. */
const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type Scripted = Redis & {
  dvxCreateRun(...args: (string | number)[]): Promise<string[]>;
  dvxPersistRun(...args: (string | number)[]): Promise<number>;
  dvxBeginStep(runKey: string, stepsKey: string, jobId: string, meta: string, attempt: number, start: string, seq: number, returnRun: '0' | '1'): Promise<string[] | string | null>;
  dvxReleaseLock(key: string, runId: string): Promise<number>;
};

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

/** Filters of {@link RunStore.list}. */
export interface RunQuery {
  objectKey?: string;
  kind?: string;
  status?: RunStatus;
  /** @defaultValue 50 */
  limit?: number;
}

const JSON_FIELDS = ['state', 'pending', 'locks', 'error'] as const;

/** The hash fields of a record as field, value, field, value... (JSON for the structured ones). */
function fieldPairs(record: Record<string, unknown>): string[] {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (value === undefined) continue;
    pairs.push(key, (JSON_FIELDS as readonly string[]).includes(key) ? JSON.stringify(value) : String(value));
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

/**
 * Runs in Redis. Every change of a run is one Lua script: creating a run takes its object locks atomically,
 * and persisting a transition is a compare-and-set on the run's sequence number that appends to the
 * transition log and, when the run ends, releases its locks, all at once.
 */
export class RunStore {
  private readonly redis: Scripted;

  constructor(redis: Redis) {
    this.redis = redis as Scripted;
    // Without numberOfKeys, the first argument of each call is the number of keys (lock lists vary in length).
    if (!('dvxCreateRun' in redis)) {
      redis.defineCommand('dvxCreateRun', { lua: CREATE_RUN });
      redis.defineCommand('dvxPersistRun', { lua: PERSIST_RUN });
      redis.defineCommand('dvxReleaseLock', { numberOfKeys: 1, lua: RELEASE_LOCK });
      redis.defineCommand('dvxBeginStep', { numberOfKeys: 2, lua: BEGIN_STEP });
    }
  }

  /** Creates a run and takes its locks; refuses with OBJECT_LOCKED naming the run that holds one. */
  async create(run: NewRun): Promise<RunRecord> {
    const now = new Date().toISOString();
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
    const lockKeys = run.locks.map((lock) => keys.lock(lock));
    const objectKey = `${run.objectType}/${run.objectId}`;
    const reply = await this.redis.dvxCreateRun(
      5 + lockKeys.length,
      keys.run(run.id), keys.runs(), keys.activeRuns(), keys.objectRuns(objectKey), keys.runLog(run.id), ...lockKeys,
      run.id, Date.now(), JSON.stringify(run.log), run.status, ...fieldPairs(fields),
    );
    if (reply[0] === 'LOCKED') {
      const lock = reply[1]!.slice(keys.lock('').length);
      const holder = reply[2]!;
      throw new ConflictError({
        code: 'OBJECT_LOCKED',
        message: `${lock} is busy: run ${holder} holds it.`,
        action: `Wait for run ${holder} to finish (dvx run watch ${holder}) or cancel it (dvx run cancel ${holder}), then try again.`,
        details: { object: lock, runId: holder },
      });
    }
    if (reply[0] === 'EXISTS') throw new ConflictError({ message: `Run ${run.id} already exists.` });
    return (await this.get(run.id))!;
  }

  /**
   * Writes a transition if the run is still at `expectedSeq`; false when someone else moved it first.
   * `finished`, when given, is the step attempt whose result this transition applies, written with it.
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
    const lockKeys = run.locks.map((lock) => keys.lock(lock));
    const applied = await this.redis.dvxPersistRun(
      4 + lockKeys.length,
      keys.run(run.id), keys.runLog(run.id), keys.activeRuns(), keys.runSteps(run.id), ...lockKeys,
      String(update.expectedSeq), JSON.stringify(update.log), update.status, run.id,
      finished ? attemptField(finished.meta.jobId, finished.record.attempt) : '', finished ? JSON.stringify(finished.record) : '',
      finished ? finished.meta.jobId : '', finished ? JSON.stringify(finished.meta) : '',
      ...fieldPairs(fields),
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

  /** Newest first. */
  async list(query: RunQuery = {}): Promise<RunRecord[]> {
    const limit = query.limit ?? 50;
    const index = query.objectKey ? keys.objectRuns(query.objectKey) : keys.runs();
    const found: RunRecord[] = [];
    const page = Math.max(limit * 2, 100);
    for (let start = 0; found.length < limit; start += page) {
      const ids = await this.redis.zrevrange(index, start, start + page - 1);
      if (ids.length === 0) break;
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.hgetall(keys.run(id));
      const replies = (await pipeline.exec()) ?? [];
      for (const [error, hash] of replies) {
        if (error) throw error;
        const record = fromHash(hash as Record<string, string>);
        if (!record) continue;
        if (query.kind && record.kind !== query.kind) continue;
        if (query.status && record.status !== query.status) continue;
        found.push(record);
        if (found.length >= limit) break;
      }
    }
    return found;
  }

  /**
   * Takes up a step job: `stale` when its run has ended or no longer waits for it (the job is a leftover),
   * `ahead` when the transition that started it is not written yet; otherwise records the step and the start of
   * this attempt, and returns the run.
   */
  async beginStep(runId: string, jobId: string, meta: StepMeta, attempt: StepAttempt): Promise<BeganStep> {
    const reply = await this.redis.dvxBeginStep(keys.run(runId), keys.runSteps(runId), jobId, JSON.stringify(meta), attempt.attempt, JSON.stringify(attempt), meta.seq, '1');
    if (!reply) return { status: 'stale' };
    if (reply === 'AHEAD') return { status: 'ahead' };
    const hash: Record<string, string> = {};
    for (let i = 0; i + 1 < reply.length; i += 2) hash[reply[i]!] = reply[i + 1]!;
    const run = fromHash(hash);
    return run ? { status: 'ready', run } : { status: 'stale' };
  }

  /**
   * Records the step and the start of an attempt, as {@link beginStep} does, for a worker that already knows the
   * run waits for the job. Sent on the connection that later writes the step's result, so it lands first. Records
   * nothing when the run does not wait for the job after all: `stale` or `ahead` as in {@link beginStep}.
   */
  async recordStepStart(runId: string, jobId: string, meta: StepMeta, attempt: StepAttempt): Promise<'recorded' | 'stale' | 'ahead'> {
    const reply = await this.redis.dvxBeginStep(keys.run(runId), keys.runSteps(runId), jobId, JSON.stringify(meta), attempt.attempt, JSON.stringify(attempt), meta.seq, '0');
    return reply === 'OK' ? 'recorded' : reply === 'AHEAD' ? 'ahead' : 'stale';
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
    return (await this.redis.dvxReleaseLock(keys.lock(object), runId)) === 1;
  }

  /** Removes an id from the active set when its run has ended or vanished. */
  async forgetActive(runId: string): Promise<void> {
    await this.redis.srem(keys.activeRuns(), runId);
  }
}

export function assertRunning(run: RunRecord): void {
  if (run.status !== 'running') throw new DvxError({ code: 'CONFLICT', message: `Run ${run.id} has already ${run.status}.` });
}
