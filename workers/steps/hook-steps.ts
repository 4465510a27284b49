import { DvxError, toDvxError } from '../../errors/index.js';
import { runBash } from '../../hosts/index.js';
import { hookIdOf } from '../../model/hook.js';
import type { HookEvent, HookOutcome, ObjectRef } from '../../machines/index.js';
import type { DvxStepHandlers, StepContext } from '../step-handler.js';
import { connectEnvironment } from './environment-connection.js';
import type { StepServices } from './step-services.js';

type HookStep = ObjectRef & { event: HookEvent };

/** How long a hook may run. */
const HOOK_TIMEOUT_MS = 30 * 60_000;

/** User hooks: bash on the object's host (a VDB's target, a dSource's staging or source host) with its details as variables. */
export function hookSteps(services: StepServices) {
  const { model } = services;

  const run = async (input: HookStep, context: StepContext): Promise<HookOutcome> => {
    const hook = await model.hooks.get(hookIdOf(input.objectId, input.event));
    if (!hook) return null;
    let environmentId: string;
    const variables: Record<string, string> = {
      DVX_HOOK_EVENT: input.event,
      DVX_OBJECT_TYPE: input.objectType,
      DVX_OBJECT_ID: input.objectId,
      DVX_RUN_ID: context.runId,
      DVX_OPERATION_ID: context.operationId,
    };
    if (input.objectType === 'vdb') {
      const vdb = await model.vdbs.require(input.objectId);
      environmentId = vdb.environmentId;
      Object.assign(variables, {
        DVX_OBJECT_NAME: vdb.name,
        DVX_PARENT_ID: vdb.parentId,
        DVX_MOUNT_PATH: vdb.mounts?.[0]?.mountPath ?? '',
        DVX_TIMEFLOW_ID: vdb.currentTimeflowId ?? '',
      });
    } else {
      const dsource = await model.dsources.require(input.objectId);
      environmentId = dsource.stagingEnvironmentId ?? dsource.sourceEnvironmentId;
      Object.assign(variables, {
        DVX_OBJECT_NAME: dsource.name,
        DVX_MOUNT_PATH: dsource.stagingMounts?.[0]?.mountPath ?? '',
        DVX_TIMEFLOW_ID: dsource.currentTimeflowId ?? '',
      });
    }
    const environment = await model.environments.require(environmentId);
    variables.DVX_ENVIRONMENT = environment.name;
    const result = await runBash(await connectEnvironment(services, environmentId), hook.script, {
      variables,
      timeoutMs: HOOK_TIMEOUT_MS,
      signal: context.signal,
    });
    if (result.exitCode !== 0) {
      throw new DvxError({
        code: 'HOOK_FAILED',
        message: `The ${input.event} hook of ${variables.DVX_OBJECT_NAME} exited with status ${result.exitCode} on ${environment.name}.`,
        action: `Fix the hook (dvx hook list ${variables.DVX_OBJECT_NAME}) or remove it, then try again.`,
        output: `${result.stdout}${result.stderr}`.slice(-8_000),
        details: { event: input.event, objectId: input.objectId, exitCode: result.exitCode },
      });
    }
    return { event: input.event, exitCode: 0 };
  };

  return {
    'hook.run': run,
    // A post-hook's failure is recorded on the object and in the step's output; the run still succeeds.
    'hook.report': async (input, context) => {
      try {
        return await run(input, context);
      } catch (error) {
        const failure = toDvxError(error);
        if (failure.retryable) throw failure;
        if (input.objectType === 'vdb')
          await model.vdbs.update(input.objectId, () => ({ lastError: failure.toJSON() }));
        else await model.dsources.update(input.objectId, () => ({ lastError: failure.toJSON() }));
        context.logger.warn(
          { event: input.event, objectId: input.objectId, err: failure.message },
          'post-hook failed; the run goes on',
        );
        return { event: input.event, failed: failure.toJSON() };
      }
    },
  } satisfies Partial<DvxStepHandlers>;
}
