import { ConflictError } from '../errors/index.js';
import { objectKey } from '../model/keys.js';
import { newRunId } from '../model/ids.js';
import { summarize, type RunSummary } from './runs.js';
import type { Actor, ServiceContext } from './service-context.js';

/** Starts a lifecycle run on an object; refused with OBJECT_LOCKED (naming the holder) if another run holds it. */
export async function startRun(
  ctx: ServiceContext,
  kind: string,
  object: { type: string; id: string },
  input: Record<string, unknown>,
  actor: Actor,
  runId = newRunId(),
): Promise<RunSummary> {
  const run = await ctx.driver.start(
    kind,
    { ...input, runId },
    { objectType: object.type, objectId: object.id, requestedBy: actor.name, runId },
  );
  return summarize(run);
}

/** Refuses a synchronous change to an object while a run holds it, naming the run (as a lifecycle request would be). */
export async function refuseIfLocked(ctx: ServiceContext, type: string, id: string, what: string): Promise<void> {
  const holder = await ctx.model.runs.lockHolder(objectKey(type, id));
  if (!holder) return;
  throw new ConflictError({
    code: 'OBJECT_LOCKED',
    message: `${what} is busy: run ${holder} holds it.`,
    action: `Wait for it to end (dvx run watch ${holder}) and try again.`,
    details: { runId: holder },
  });
}
