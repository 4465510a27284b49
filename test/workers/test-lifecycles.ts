import type { Redis } from 'ioredis';
import { DvxError } from '../../errors/index.js';
import { defineLifecycle, typedSteps } from '../../machines/index.js';
import type { HandlersOf } from '../../workers/step-handler.js';

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

/** What a test step takes: the run's input and the step's name (and, for c, what b returned). */
export interface TestStepInput extends ChainInput {
  name: string;
  previous?: TestStepOutput | null;
}

export interface TestStepOutput {
  name: string;
  at: number;
}

/** The step catalogue of the test lifecycles: machines and handlers are checked against it as dvx's are against DvxSteps. */
export type TestSteps = {
  'test.step': { input: TestStepInput; output: TestStepOutput };
  'test.undo': { input: TestStepInput; output: TestStepOutput };
};

const { step, output } = typedSteps<TestSteps>();
const b = step({
  id: 'b',
  src: 'test.step',
  input: (c: { input: ChainInput }) => ({ name: 'b', ...c.input }),
  undo: { id: 'unB', src: 'test.undo', input: (c) => ({ name: 'unB', ...c.input }) },
});

/** A three-step lifecycle whose middle step has an undo, for driver tests. */
export const chainLifecycle = defineLifecycle<ChainInput, TestSteps>({
  kind: 'test-chain',
  version: 1,
  description: 'a -> b (undo: unB) -> c; on failure: markFailed',
  steps: [
    step({ id: 'a', src: 'test.step', input: (c) => ({ name: 'a', ...c.input }) }),
    b,
    step({ id: 'c', src: 'test.step', input: (c) => ({ name: 'c', previous: output(b, c), ...c.input }) }),
  ],
  onFailure: [step({ id: 'markFailed', src: 'test.undo', input: (c) => ({ name: 'markFailed', ...c.input }) })],
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
export function testHandlers(redis: Redis): HandlersOf<TestSteps> {
  const run: HandlersOf<TestSteps>['test.step'] = async (input, context) => {
    await redis.rpush(
      CALLS_KEY,
      JSON.stringify({
        runId: context.runId,
        name: input.name,
        operationId: context.operationId,
        attempt: context.attempt,
      } satisfies StepCall),
    );
    if (input.stepMs) await new Promise((resolve) => setTimeout(resolve, input.stepMs));
    const flakyTimes = input.flaky?.[input.name] ?? 0;
    if (context.attempt <= flakyTimes)
      throw new DvxError({ code: 'HOST_UNREACHABLE', message: `${input.name} is flaky (attempt ${context.attempt})` });
    if (input.failAt?.includes(input.name))
      throw new DvxError({
        code: 'PLUGIN_USER_ERROR',
        message: `${input.name} failed`,
        action: 'fix it',
        output: 'details',
      });
    // An engine-side effect made idempotent by its operation id: counted once however often the step runs.
    await redis.sadd(`test:effects:${context.runId}`, `${input.name}@${context.operationId}`);
    return { name: input.name, at: context.attempt };
  };
  return {
    'test.step': run,
    'test.undo': run,
  };
}

export async function calls(redis: Redis, runId?: string): Promise<StepCall[]> {
  const all = (await redis.lrange(CALLS_KEY, 0, -1)).map((line) => JSON.parse(line) as StepCall);
  return runId ? all.filter((call) => call.runId === runId) : all;
}
