import type { OperationName } from '../plugin-artifact.js';
import type { PluginType } from '../../schemas/plugin-type.js';

/**
 * The operations the vSDK requires of each plugin type (`REQUIRED_METHODS_BY_PLUGIN_TYPE`). A missing one is a build
 * warning, not an error: the engine operation that needs it then fails at run time.
 */
export const REQUIRED_OPERATIONS: Record<PluginType, readonly OperationName[]> = {
  DIRECT: [
    'discovery.repository',
    'discovery.sourceConfig',
    'linked.postSnapshot',
    'virtual.configure',
    'virtual.reconfigure',
    'virtual.postSnapshot',
    'virtual.mountSpecification',
  ],
  STAGED: [
    'discovery.repository',
    'discovery.sourceConfig',
    'linked.postSnapshot',
    'linked.mountSpecification',
    'virtual.configure',
    'virtual.reconfigure',
    'virtual.postSnapshot',
    'virtual.mountSpecification',
  ],
};

/** Operations a plugin of that type has but the engine never calls. */
export const UNUSED_OPERATIONS: Record<PluginType, readonly OperationName[]> = {
  DIRECT: ['linked.mountSpecification', 'linked.startStaging', 'linked.stopStaging', 'linked.worker'],
  STAGED: [],
};
