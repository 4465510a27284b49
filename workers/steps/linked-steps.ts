import { PluginError } from '../../errors/index.js';
import type { DvxStepHandlers, StepContext } from '../step-handler.js';
import type { DsourceRecord } from '../../model/dsource.js';
import type { SyncDestination } from '../../operations/platform-services.js';
import { dsourceOperands, type DsourceOperands } from './dsource-operands.js';
import { resolveMountSpecification } from './mount-specification.js';
import { callPlugin } from './plugin-call.js';
import type { StepServices } from './step-services.js';

interface DsourceStep {
  dsourceId: string;
  snapshotParameters?: Record<string, unknown> | null;
}

/** Where a plugin's runSync in linked.preSnapshot copies to: the dSource's storage, or its staging mount on the staging host. */
function syncDestinationOf(services: StepServices, dsource: DsourceRecord): SyncDestination | undefined {
  if (dsource.pluginType === 'DIRECT')
    return dsource.currentTimeflowId ? services.storage.datasetPath(dsource.currentTimeflowId) : undefined;
  const mount = dsource.stagingMounts?.[0];
  return mount ? { environmentReference: mount.environmentId, path: mount.mountPath } : undefined;
}

/** The plugin's linked operations, called for a dSource. */
export function linkedSteps(services: StepServices) {
  const call = <Operation extends 'startStaging' | 'stopStaging' | 'preSnapshot' | 'postSnapshot'>(
    operation: Operation,
    operands: DsourceOperands,
    input: DsourceStep,
    context: StepContext,
  ) => {
    const args: Record<string, unknown> = {
      ...operands.source,
      repository: operands.repository,
      sourceConfig: operands.sourceConfig,
    };
    if (operation === 'preSnapshot' || operation === 'postSnapshot')
      args.snapshotParameters = input.snapshotParameters ?? null;
    const syncDestination = operation === 'preSnapshot' ? syncDestinationOf(services, operands.dsource) : undefined;
    return callPlugin(services, context, {
      pluginId: operands.dsource.pluginId,
      operation: `linked.${operation}` as const,
      args,
      ...(syncDestination ? { syncDestination } : {}),
    });
  };
  const returningNothing =
    (operation: 'startStaging' | 'stopStaging' | 'preSnapshot') => async (input: DsourceStep, context: StepContext) => {
      await call(operation, await dsourceOperands(services, input.dsourceId), input, context);
      return null;
    };
  return {
    'plugin.linked.mountSpecification': async (input, context) => {
      const operands = await dsourceOperands(services, input.dsourceId, { withMount: false });
      if (operands.dsource.pluginType === 'DIRECT') {
        throw new PluginError({
          code: 'PLUGIN_OPERATION_MISSING',
          message: 'Direct plugins have no linked mount specification.',
          details: { operation: 'linked.mountSpecification' },
        });
      }
      const specification = await callPlugin(services, context, {
        pluginId: operands.dsource.pluginId,
        operation: 'linked.mountSpecification',
        args: { ...operands.source, repository: operands.repository },
      });
      return resolveMountSpecification(services, specification, 'linked.mountSpecification');
    },
    'plugin.linked.startStaging': returningNothing('startStaging'),
    'plugin.linked.stopStaging': returningNothing('stopStaging'),
    'plugin.linked.preSnapshot': returningNothing('preSnapshot'),
    // Its output is the snapshot's metadata, as the plugin returned it.
    'plugin.linked.postSnapshot': async (input, context) =>
      call('postSnapshot', await dsourceOperands(services, input.dsourceId), input, context),
  } satisfies Partial<DvxStepHandlers>;
}
