import { ValidationError } from '../errors/index.js';
import { HOOK_EVENTS } from '../machines/lifecycle/hook-steps.js';
import { hookIdOf } from '../model/hook.js';
import { findDatasetObject, type DatasetObject } from './dataset-object.js';
import type { ServiceContext } from './service-context.js';
import { refuseIfLocked } from './start-run.js';

const VDB_EVENTS = new Set<string>(HOOK_EVENTS.filter((event) => event !== 'preSync' && event !== 'postSync'));
const DSOURCE_EVENTS = new Set<string>(['preSync', 'postSync']);

function checkEvent(object: DatasetObject, event: string): void {
  const allowed = object.type === 'vdb' ? VDB_EVENTS : DSOURCE_EVENTS;
  if (!allowed.has(event)) {
    throw new ValidationError(
      `${event} is not a hook of a ${object.type === 'vdb' ? 'VDB' : 'dSource'}.`,
      [{ pointer: '/event', message: `one of ${[...allowed].join(', ')}` }],
      { action: `Use one of: ${[...allowed].join(', ')}.` },
    );
  }
}

/** Sets (or replaces) the script of one hook of a dSource or VDB. */
export async function setHook(ctx: ServiceContext, ref: string, event: string, script: string) {
  const object = await findDatasetObject(ctx, ref);
  checkEvent(object, event);
  if (!script.trim())
    throw new ValidationError('The hook script is empty.', [{ pointer: '/script', message: 'empty' }], {
      action: 'Give a bash script, or remove the hook with `dvx hook rm`.',
    });
  await refuseIfLocked(ctx, object.type, object.id, `${object.type === 'vdb' ? 'VDB' : 'dSource'} ${object.name}`);
  const id = hookIdOf(object.id, event);
  const hook = (await ctx.model.hooks.get(id))
    ? await ctx.model.hooks.update(id, () => ({ script }))
    : await ctx.model.hooks.create({ id, objectType: object.type, objectId: object.id, event, script });
  return hook;
}

export async function listHooks(ctx: ServiceContext, ref: string) {
  const object = await findDatasetObject(ctx, ref);
  return ctx.model.hooks.listBy('objectId', object.id);
}

export async function removeHook(ctx: ServiceContext, ref: string, event: string) {
  const object = await findDatasetObject(ctx, ref);
  checkEvent(object, event);
  const hook = await ctx.model.hooks.require(hookIdOf(object.id, event));
  await ctx.model.hooks.delete(hook.id);
  return { deleted: hook };
}
