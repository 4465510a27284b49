import { PluginError } from '../../errors/index.js';
import type { OperationName, PluginArtifact, SchemaDefinitionName } from '../plugin-artifact.js';
import { definitionValidator, issuesOf } from '../schemas-of.js';

/** What the engine assumes when a plugin leaves out an optional operation (as the vSDK does). */
export const OPERATION_DEFAULTS: Partial<Record<OperationName, unknown>> = {
  'linked.status': 'ACTIVE',
  'virtual.status': 'ACTIVE',
  'linked.preSnapshot': null,
  'linked.startStaging': null,
  'linked.stopStaging': null,
  'linked.worker': null,
  'virtual.unconfigure': null,
  'virtual.cleanup': null,
  'virtual.start': null,
  'virtual.stop': null,
  'virtual.preSnapshot': null,
};

/** Whether the plugin implements an operation. */
export function hasOperation(artifact: PluginArtifact, operation: OperationName): boolean {
  return artifact.manifest.operations.includes(operation);
}

/** Plugin-defined arguments and the schema each must match. */
const ARGUMENT_SCHEMAS: Array<[path: string[], definition: SchemaDefinitionName, nullable?: boolean]> = [
  [['repository'], 'repositoryDefinition'],
  [['sourceConfig'], 'sourceConfigDefinition'],
  [['snapshot'], 'snapshotDefinition'],
  [['snapshotParameters'], 'snapshotParametersDefinition', true],
  [['stagedSource', 'parameters'], 'linkedSourceDefinition'],
  [['directSource', 'parameters'], 'linkedSourceDefinition'],
  [['virtualSource', 'parameters'], 'virtualSourceDefinition'],
];

/** Refuses arguments that do not match the plugin's schemas, naming the argument and field. */
export function checkInputs(artifact: PluginArtifact, operation: OperationName, args: Record<string, unknown>): void {
  for (const [path, definition, nullable] of ARGUMENT_SCHEMAS) {
    let value: unknown = args;
    for (const key of path) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    if (value === undefined || (nullable && value === null)) continue;
    const validate = definitionValidator(artifact, definition);
    if (validate(value)) continue;
    const issues = issuesOf(validate);
    throw new PluginError({
      code: 'PLUGIN_INVALID_INPUT',
      message: `${operation}: argument ${path.join('.')} does not match the plugin's ${definition}: ${issues.map((issue) => `${issue.pointer} ${issue.message}`).join('; ')}.`,
      action: 'Fix the stored object (or its parameters) so that it matches the schema, or upgrade the plugin with a migration.',
      details: { operation, argument: path.join('.'), issues },
    });
  }
}

function invalidOutput(operation: string, what: string, issues: { pointer: string; message: string }[]): PluginError {
  return new PluginError({
    code: 'PLUGIN_INVALID_OUTPUT',
    message: `${operation} returned ${what} where ${issues.map((issue) => `${issue.pointer} ${issue.message}`).join('; ')}.`,
    action: "Fix the plugin so that it returns what its schema says, rebuild it and upload it again.",
    details: { operation, issues },
  });
}

function checkDefinition(artifact: PluginArtifact, operation: string, definition: SchemaDefinitionName, what: string, value: unknown, prefix = ''): void {
  const validate = definitionValidator(artifact, definition);
  if (!validate(value)) throw invalidOutput(operation, what, issuesOf(validate, prefix));
}

function checkMountSpecification(operation: OperationName, value: unknown, staged: boolean): void {
  const spec = value as { mounts?: unknown; ownershipSpecification?: unknown } | null;
  const issues: { pointer: string; message: string }[] = [];
  if (!spec || typeof spec !== 'object') issues.push({ pointer: '/', message: 'must be an object with mounts' });
  else if (!Array.isArray(spec.mounts) || spec.mounts.length === 0) issues.push({ pointer: '/mounts', message: 'must list at least one mount' });
  else {
    if (staged && spec.mounts.length !== 1) issues.push({ pointer: '/mounts', message: 'must hold exactly one mount for a staged source' });
    spec.mounts.forEach((mount: { remoteEnvironment?: { reference?: unknown }; mountPath?: unknown; sharedPath?: unknown }, index) => {
      if (!mount?.remoteEnvironment || typeof mount.remoteEnvironment.reference !== 'string') issues.push({ pointer: `/mounts/${index}/remoteEnvironment`, message: 'must be a RemoteEnvironment the plugin was given' });
      if (typeof mount?.mountPath !== 'string' || !mount.mountPath.startsWith('/')) issues.push({ pointer: `/mounts/${index}/mountPath`, message: 'must be an absolute path' });
      if (staged && mount?.sharedPath) issues.push({ pointer: `/mounts/${index}/sharedPath`, message: 'is not supported for linked sources' });
    });
    const ownership = spec.ownershipSpecification as { uid?: unknown; gid?: unknown } | null | undefined;
    if (ownership && (!Number.isInteger(ownership.uid) || !Number.isInteger(ownership.gid))) issues.push({ pointer: '/ownershipSpecification', message: 'must have integer uid and gid' });
  }
  if (issues.length) throw invalidOutput(operation, 'a mount specification', issues);
}

/** Refuses an output that does not match what the operation must return. */
export function checkOutput(artifact: PluginArtifact, operation: OperationName, value: unknown): void {
  switch (operation) {
    case 'discovery.repository':
    case 'discovery.sourceConfig': {
      const definition = operation === 'discovery.repository' ? 'repositoryDefinition' : 'sourceConfigDefinition';
      if (!Array.isArray(value)) throw invalidOutput(operation, 'something other than a list', [{ pointer: '/', message: 'must be an array' }]);
      value.forEach((item, index) => checkDefinition(artifact, operation, definition, operation === 'discovery.repository' ? 'a repository' : 'a source config', item, `/${index}`));
      return;
    }
    case 'linked.postSnapshot':
    case 'virtual.postSnapshot':
      return checkDefinition(artifact, operation, 'snapshotDefinition', 'a snapshot', value);
    case 'virtual.configure':
    case 'virtual.initialize':
    case 'virtual.reconfigure':
      return checkDefinition(artifact, operation, 'sourceConfigDefinition', 'a source config', value);
    case 'linked.mountSpecification':
    case 'virtual.mountSpecification':
      return checkMountSpecification(operation, value, operation === 'linked.mountSpecification');
    case 'linked.status':
    case 'virtual.status':
      if (value !== 'ACTIVE' && value !== 'INACTIVE') throw invalidOutput(operation, `${JSON.stringify(value)}`, [{ pointer: '/', message: 'must be "ACTIVE" or "INACTIVE"' }]);
      return;
    case 'linked.sourceSize':
    case 'virtual.sourceSize':
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw invalidOutput(operation, `${JSON.stringify(value)}`, [{ pointer: '/', message: 'must be a number of bytes' }]);
      return;
    default:
      return;
  }
}
