import { PluginError } from '../../errors/index.js';
import type { StepContext, StepHandlers } from '../step-handler.js';
import type { DsourceRecord } from '../../model/dsource.js';
import type { SyncDestination } from '../../operations/platform-services.js';
import { dsourceOperands } from './dsource-operands.js';
import { callPlugin } from './plugin-call.js';
import type { StepServices } from './step-services.js';

interface DsourceStep {
  dsourceId: string;
  snapshotParameters?: Record<string, unknown> | null;
}

/** Where a plugin's runSync in linked.preSnapshot copies to: the dSource's storage, or its staging mount on the staging host. */
function syncDestinationOf(services: StepServices, dsource: DsourceRecord): SyncDestination | undefined {
  if (dsource.pluginType === 'DIRECT') return dsource.currentTimeflowId ? services.storage.datasetPath(dsource.currentTimeflowId) : undefined;
  const mount = dsource.stagingMounts?.[0];
  return mount ? { environmentReference: mount.environmentId, path: mount.mountPath } : undefined;
}

/** The plugin's linked operations, called for a dSource. */
export function linkedSteps(services: StepServices): StepHandlers {
  const call = async (operation: 'startStaging' | 'stopStaging' | 'status' | 'preSnapshot' | 'postSnapshot' | 'mountSpecification', input: DsourceStep, context: StepContext) => {
    const operands = await dsourceOperands(services, input.dsourceId, { withMount: operation !== 'mountSpecification' });
    const args: Record<string, unknown> = { ...operands.source, repository: operands.repository };
    if (operation !== 'mountSpecification') args.sourceConfig = operands.sourceConfig;
    if (operation === 'preSnapshot' || operation === 'postSnapshot') args.snapshotParameters = input.snapshotParameters ?? null;
    const direct = operands.dsource.pluginType === 'DIRECT';
    if (operation === 'mountSpecification' && direct) {
      throw new PluginError({ code: 'PLUGIN_OPERATION_MISSING', message: 'Direct plugins have no linked mount specification.', details: { operation: 'linked.mountSpecification' } });
    }
    const syncDestination = operation === 'preSnapshot' ? syncDestinationOf(services, operands.dsource) : undefined;
    return callPlugin(services, context, { pluginId: operands.dsource.pluginId, operation: `linked.${operation}`, args, ...(syncDestination ? { syncDestination } : {}) });
  };
  return {
    'plugin.linked.mountSpecification': ((input: DsourceStep, context: StepContext) => call('mountSpecification', input, context)) as never,
    'plugin.linked.startStaging': ((input: DsourceStep, context: StepContext) => call('startStaging', input, context).then(() => null)) as never,
    'plugin.linked.stopStaging': ((input: DsourceStep, context: StepContext) => call('stopStaging', input, context).then(() => null)) as never,
    'plugin.linked.preSnapshot': ((input: DsourceStep, context: StepContext) => call('preSnapshot', input, context).then(() => null)) as never,
    'plugin.linked.postSnapshot': ((input: DsourceStep, context: StepContext) => call('postSnapshot', input, context)) as never,
  };
}
