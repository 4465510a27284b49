// What each operation takes and returns, and the checks the invoker makes on both sides of the plugin.
import { PluginError } from '../../errors/index.js';
import type { OperationName, PluginArtifact, SchemaDefinitionName } from '../plugin-artifact.js';
import { definitionValidator, issuesOf } from '../schemas-of.js';

/**
 * What the engine assumes when a plugin leaves out an optional operation (as the vSDK does): `status` is ACTIVE; the
 * other optional operations do nothing and return undefined (`sourceSize`: size unknown). Required operations
 * (discovery.*, linked.postSnapshot, linked.mountSpecification, virtual.configure, virtual.reconfigure,
 * virtual.postSnapshot, virtual.mountSpecification) and `virtual.initialize` (empty VDBs exist only where implemented)
 * have no default: calling them on a plugin without them fails with PLUGIN_OPERATION_MISSING.
 */
export const OPERATION_DEFAULTS: Partial<Record<OperationName, 'ACTIVE' | undefined>> = {
  'linked.status': 'ACTIVE',
  'virtual.status': 'ACTIVE',
  'linked.preSnapshot': undefined,
  'linked.startStaging': undefined,
  'linked.stopStaging': undefined,
  'linked.worker': undefined,
  'linked.sourceSize': undefined,
  'virtual.unconfigure': undefined,
  'virtual.cleanup': undefined,
  'virtual.start': undefined,
  'virtual.stop': undefined,
  'virtual.preSnapshot': undefined,
  'virtual.sourceSize': undefined,
};

/** Whether the plugin implements an operation (per its manifest). See {@link OPERATION_DEFAULTS} for what is assumed when not. */
export function hasOperation(artifact: PluginArtifact, operation: OperationName): boolean {
  return artifact.manifest.operations.includes(operation);
}

/** Whether the engine has a default for an operation the plugin leaves out. */
export function hasDefault(operation: OperationName): boolean {
  return Object.hasOwn(OPERATION_DEFAULTS, operation);
}

type Issue = { pointer: string; message: string };

/** The argument names of each operation; `source` stands for stagedSource or directSource, by plugin type. */
function argumentNames(operation: OperationName): string[] {
  const [group, name] = operation.split('.') as [string, string];
  if (group === 'discovery') return name === 'repository' ? ['sourceConnection'] : ['sourceConnection', 'repository'];
  if (group === 'linked') {
    if (name === 'mountSpecification') return ['source', 'repository'];
    if (name === 'preSnapshot' || name === 'postSnapshot')
      return ['source', 'repository', 'sourceConfig', 'snapshotParameters'];
    return ['source', 'repository', 'sourceConfig'];
  }
  if (name === 'configure') return ['virtualSource', 'snapshot', 'repository'];
  if (name === 'initialize' || name === 'mountSpecification') return ['virtualSource', 'repository'];
  if (name === 'reconfigure') return ['virtualSource', 'repository', 'sourceConfig', 'snapshot'];
  return ['virtualSource', 'repository', 'sourceConfig'];
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

function invalidInput(operation: OperationName, argument: string, what: string, issues: Issue[]): PluginError {
  return new PluginError({
    code: 'PLUGIN_INVALID_INPUT',
    message: `${operation}: argument ${argument} ${what}: ${issues.map((issue) => `${issue.pointer} ${issue.message}`).join('; ')}.`,
    action:
      'Fix the stored object (or its parameters) so that it matches the plugin schema, or upgrade the plugin with a migration.',
    details: { operation, argument, issues },
  });
}

/**
 * The arguments as the plugin gets them (`snapshotParameters` undefined becomes null). Refuses a missing argument or
 * one that does not match the plugin's schemas, naming the argument and the JSON pointer of each problem.
 */
export function checkInputs(
  artifact: PluginArtifact,
  operation: OperationName,
  args: Record<string, unknown>,
): Record<string, unknown> {
  if (!args || typeof args !== 'object')
    throw invalidInput(operation, '(all)', 'is missing', [
      { pointer: '/', message: 'must be an object of named arguments' },
    ]);
  const checked = { ...args };
  const source = artifact.manifest.pluginType === 'DIRECT' ? 'directSource' : 'stagedSource';
  for (const name of argumentNames(operation).map((name) => (name === 'source' ? source : name))) {
    if (name === 'snapshotParameters' && checked[name] === undefined) checked[name] = null;
    const value = checked[name];
    if (value === undefined || (value === null && name !== 'snapshotParameters'))
      throw invalidInput(operation, name, 'is missing', [
        { pointer: `/${name}`, message: `is required by a ${artifact.manifest.pluginType} plugin's ${operation}` },
      ]);
  }
  for (const [path, definition, nullable] of ARGUMENT_SCHEMAS) {
    let value: unknown = checked;
    for (const key of path)
      value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    if (value === undefined || (nullable && value === null)) continue;
    const validate = definitionValidator(artifact, definition);
    if (validate(value)) continue;
    throw invalidInput(
      operation,
      path.join('.'),
      `does not match the plugin's ${definition}`,
      issuesOf(validate, `/${path.join('/')}`),
    );
  }
  return checked;
}

function invalidOutput(operation: OperationName, what: string, issues: Issue[]): PluginError {
  return new PluginError({
    code: 'PLUGIN_INVALID_OUTPUT',
    message: `${operation} returned ${what} where ${issues.map((issue) => `${issue.pointer} ${issue.message}`).join('; ')}.`,
    action: 'Fix the plugin so that it returns what its schema says, rebuild it and upload it again.',
    details: { operation, issues },
  });
}

function checkDefinition(
  artifact: PluginArtifact,
  operation: OperationName,
  definition: SchemaDefinitionName,
  what: string,
  value: unknown,
  prefix = '',
): void {
  const validate = definitionValidator(artifact, definition);
  if (!validate(value)) throw invalidOutput(operation, what, issuesOf(validate, prefix));
}

function checkMountSpecification(operation: OperationName, value: unknown, environments: ReadonlySet<string>): unknown {
  const staged = operation === 'linked.mountSpecification';
  const spec = value as { mounts?: unknown; ownershipSpecification?: unknown } | null;
  const issues: Issue[] = [];
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) {
    issues.push({ pointer: '/', message: 'must be an object with mounts' });
  } else if (!Array.isArray(spec.mounts) || spec.mounts.length === 0) {
    issues.push({ pointer: '/mounts', message: 'must list at least one mount' });
  } else {
    if (staged && spec.mounts.length !== 1)
      issues.push({
        pointer: '/mounts',
        message: `must hold exactly one mount for a staged source, not ${spec.mounts.length}`,
      });
    spec.mounts.forEach(
      (
        mount: { remoteEnvironment?: { reference?: unknown }; mountPath?: unknown; sharedPath?: unknown } | null,
        index,
      ) => {
        const reference = mount?.remoteEnvironment?.reference;
        if (typeof reference !== 'string')
          issues.push({
            pointer: `/mounts/${index}/remoteEnvironment`,
            message: 'must be a RemoteEnvironment the plugin was given',
          });
        else if (!environments.has(reference))
          issues.push({
            pointer: `/mounts/${index}/remoteEnvironment`,
            message: `is environment ${JSON.stringify(reference)}, which this operation was not given`,
          });
        if (typeof mount?.mountPath !== 'string' || !mount.mountPath.startsWith('/'))
          issues.push({ pointer: `/mounts/${index}/mountPath`, message: 'must be an absolute path' });
        if (staged && mount?.sharedPath !== undefined && mount.sharedPath !== null)
          issues.push({ pointer: `/mounts/${index}/sharedPath`, message: 'is not supported for linked sources' });
        else if (mount?.sharedPath !== undefined && mount.sharedPath !== null && typeof mount.sharedPath !== 'string')
          issues.push({ pointer: `/mounts/${index}/sharedPath`, message: 'must be a string or null' });
      },
    );
    const ownership = spec.ownershipSpecification as { uid?: unknown; gid?: unknown } | null | undefined;
    if (ownership !== undefined && ownership !== null) {
      if (typeof ownership !== 'object' || !Number.isInteger(ownership.uid) || (ownership.uid as number) < 0)
        issues.push({ pointer: '/ownershipSpecification/uid', message: 'must be a non-negative integer' });
      if (typeof ownership !== 'object' || !Number.isInteger(ownership.gid) || (ownership.gid as number) < 0)
        issues.push({ pointer: '/ownershipSpecification/gid', message: 'must be a non-negative integer' });
    }
  }
  if (issues.length) throw invalidOutput(operation, 'a mount specification', issues);
  const { mounts, ownershipSpecification } = spec as {
    mounts: Array<Record<string, unknown>>;
    ownershipSpecification?: unknown;
  };
  return {
    mounts: mounts.map((mount) => ({ ...mount, sharedPath: mount.sharedPath ?? null })),
    ownershipSpecification: ownershipSpecification ?? null,
  };
}

/**
 * Refuses an output that does not match what the operation must return, naming the field (JSON pointer) and the
 * problem; returns the output as the engine takes it (undefined for operations that return nothing, mount
 * specifications with `sharedPath` and `ownershipSpecification` filled in). `environments` are the environment
 * references the operation was given, the only ones a mount specification may name.
 */
export function checkOutput(
  artifact: PluginArtifact,
  operation: OperationName,
  value: unknown,
  environments: ReadonlySet<string>,
): unknown {
  switch (operation) {
    case 'discovery.repository':
    case 'discovery.sourceConfig': {
      const repositories = operation === 'discovery.repository';
      if (!Array.isArray(value))
        throw invalidOutput(operation, `${describe(value)}, not a list,`, [
          { pointer: '/', message: 'must be an array' },
        ]);
      value.forEach((item, index) =>
        checkDefinition(
          artifact,
          operation,
          repositories ? 'repositoryDefinition' : 'sourceConfigDefinition',
          repositories ? 'a repository' : 'a source config',
          item,
          `/${index}`,
        ),
      );
      return value;
    }
    case 'linked.postSnapshot':
    case 'virtual.postSnapshot':
      checkDefinition(artifact, operation, 'snapshotDefinition', 'a snapshot', value);
      return value;
    case 'virtual.configure':
    case 'virtual.initialize':
    case 'virtual.reconfigure':
      checkDefinition(artifact, operation, 'sourceConfigDefinition', 'a source config', value);
      return value;
    case 'linked.mountSpecification':
    case 'virtual.mountSpecification':
      return checkMountSpecification(operation, value, environments);
    case 'linked.status':
    case 'virtual.status':
      if (value !== 'ACTIVE' && value !== 'INACTIVE')
        throw invalidOutput(operation, describe(value), [{ pointer: '/', message: 'must be "ACTIVE" or "INACTIVE"' }]);
      return value;
    case 'linked.sourceSize':
    case 'virtual.sourceSize':
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
        throw invalidOutput(operation, describe(value), [{ pointer: '/', message: 'must be a number of bytes' }]);
      return value;
    default:
      // Operations that return nothing: whatever the function returned (e.g. an arrow function's last runBash) is dropped.
      return undefined;
  }
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
