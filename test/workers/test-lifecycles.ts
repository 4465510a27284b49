import type { Redis } from 'ioredis';
import { DvxError } from '../../errors/index.js';
import { defineLifecycle } from '../../machines/index.js';
import type { StepContext, StepHandlers } from '../../workers/step-handler.js';

export interface ChainInput {
  runId: string;
  objectId: string;
  /** Step ids that fail permanently. */
  failAt?: string[];
  /** Step ids that fail with a retryable error this many times before succeeding. */
  flaky?: Record<string, number>;
  /** Milliseconds each step takes. */
  stepMs?: number;
}

/** A three-step lifecycle whose middle step has an undo, for driver tests. */
export const chainLifecycle = defineLifecycle<ChainInput>({
  kind: 'test-chain',
  version: 1,
  description: 'a -> b (undo: unB) -> c; on failure: markFailed',
  steps: [
    { id: 'a', src: 'test.step', input: (c) => ({ name: 'a', ...c.input }) },
    { id: 'b', src: 'test.step', input: (c) => ({ name: 'b', ...c.input }), undo: { id: 'unB', src: 'test.undo', input: (c) => ({ name: 'unB', ...c.input }) } },
    { id: 'c', src: 'test.step', input: (c) => ({ name: 'c', previous: c.results.b ?? null, ...c.input }) },
  ],
  onFailure: [{ id: 'markFailed', src: 'test.undo', input: (c) => ({ name: 'markFailed', ...c.input }) }],
});

/** A record of every step attempt, kept in Redis so that engines in other processes can be observed. */
export const CALLS_KEY = 'test:calls';

export interface StepCall {
  runId: string;
  name: string;
  operationId: string;
  attempt: number;
}

/** Handlers for the test lifecycles. Every attempt is recorded; effects are counted per operation id. */
export function testHandlers(redis: Redis): StepHandlers {
  const step = async (input: ChainInput & { name: string }, context: StepContext) => {
    await redis.rpush(CALLS_KEY, JSON.stringify({ runId: context.runId, name: input.name, operationId: context.operationId, attempt: context.attempt } satisfies StepCall));
    if (input.stepMs) await new Promise((resolve) => setTimeout(resolve, input.stepMs));
    const flakyTimes = input.flaky?.[input.name] ?? 0;
    if (context.attempt <= flakyTimes) throw new DvxError({ code: 'HOST_UNREACHABLE', message: `${input.name} is flaky (attempt ${context.attempt})` });
    if (input.failAt?.includes(input.name)) throw new DvxError({ code: 'PLUGIN_USER_ERROR', message: `${input.name} failed`, action: 'fix it', output: 'details' });
    // An engine-side effect made idempotent by its operation id: counted once however often the step runs.
    await redis.sadd(`test:effects:${context.runId}`, `${input.name}@${context.operationId}`);
    return { name: input.name, at: context.attempt };
  };
  return {
    'test.step': step as never,
    'test.undo': step as never,
  };
}

export async function calls(redis: Redis, runId?: string): Promise<StepCall[]> {
  const all = (await redis.lrange(CALLS_KEY, 0, -1)).map((line) => JSON.parse(line) as StepCall);
  return runId ? all.filter((call) => call.runId === runId) : all;
}
