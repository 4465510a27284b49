import {
  MIGRATION_OBJECT_TYPES,
  OPERATION_NAMES,
  type MigrationObjectType,
  type OperationName,
} from '../plugin-artifact.js';
import type {
  DirectSource,
  MountSpecification,
  RemoteConnection,
  StagedSource,
  Status,
  UnmountedStagedSource,
  UnmountedVirtualSource,
  VirtualSource,
} from './platform-objects.js';
import type { PluginType } from '../../schemas/plugin-type.js';

type Awaitable<T> = T | Promise<T>;

/**
 * The types of a plugin's six schema definitions (as `dvx plugin build` generates them from schema.json). Pass them as
 * the type argument of {@link definePlugin} so that every operation gets typed arguments.
 */
export interface PluginDefinitions {
  repository: object;
  sourceConfig: object;
  linkedSource: object;
  virtualSource: object;
  snapshot: object;
  snapshotParameters: object;
}

type LinkedArgs<D extends PluginDefinitions, S> = S & { repository: D['repository']; sourceConfig: D['sourceConfig'] };
type SnapshotArgs<D extends PluginDefinitions, S> = LinkedArgs<D, S> & {
  /** null for a sync started by a policy; the user's parameters (possibly `{}`) for a sync started by hand. */
  snapshotParameters: D['snapshotParameters'] | null;
};

/** Linked operations; `S` is `{ stagedSource }` or `{ directSource }`. */
export interface LinkedOperations<D extends PluginDefinitions, S> {
  preSnapshot?(args: SnapshotArgs<D, S>): Awaitable<void>;
  postSnapshot?(args: SnapshotArgs<D, S>): Awaitable<D['snapshot']>;
  startStaging?(args: LinkedArgs<D, S>): Awaitable<void>;
  stopStaging?(args: LinkedArgs<D, S>): Awaitable<void>;
  status?(args: LinkedArgs<D, S>): Awaitable<Status>;
  worker?(args: LinkedArgs<D, S>): Awaitable<void>;
  sourceSize?(args: LinkedArgs<D, S>): Awaitable<number>;
}

/** Linked operations of a staged plugin. */
export interface StagedLinkedOperations<D extends PluginDefinitions> extends LinkedOperations<
  D,
  { stagedSource: StagedSource<D['linkedSource']> }
> {
  /** Where the staging storage is mounted: exactly one mount, no `sharedPath`. */
  mountSpecification?(args: {
    stagedSource: UnmountedStagedSource<D['linkedSource']>;
    repository: D['repository'];
  }): Awaitable<MountSpecification>;
}

/** Linked operations of a direct plugin (no mount specification: the engine copies with `runSync`). */
export type DirectLinkedOperations<D extends PluginDefinitions> = LinkedOperations<
  D,
  { directSource: DirectSource<D['linkedSource']> }
>;

type VirtualArgs<D extends PluginDefinitions> = {
  virtualSource: VirtualSource<D['virtualSource']>;
  repository: D['repository'];
  sourceConfig: D['sourceConfig'];
};

/** Virtual (VDB) operations. */
export interface VirtualOperations<D extends PluginDefinitions> {
  configure?(args: {
    virtualSource: VirtualSource<D['virtualSource']>;
    snapshot: D['snapshot'];
    repository: D['repository'];
  }): Awaitable<D['sourceConfig']>;
  initialize?(args: {
    virtualSource: VirtualSource<D['virtualSource']>;
    repository: D['repository'];
  }): Awaitable<D['sourceConfig']>;
  reconfigure?(args: VirtualArgs<D> & { snapshot: D['snapshot'] }): Awaitable<D['sourceConfig']>;
  unconfigure?(args: VirtualArgs<D>): Awaitable<void>;
  cleanup?(args: VirtualArgs<D>): Awaitable<void>;
  start?(args: VirtualArgs<D>): Awaitable<void>;
  stop?(args: VirtualArgs<D>): Awaitable<void>;
  preSnapshot?(args: VirtualArgs<D>): Awaitable<void>;
  postSnapshot?(args: VirtualArgs<D>): Awaitable<D['snapshot']>;
  status?(args: VirtualArgs<D>): Awaitable<Status>;
  sourceSize?(args: VirtualArgs<D>): Awaitable<number>;
  mountSpecification?(args: {
    virtualSource: UnmountedVirtualSource<D['virtualSource']>;
    repository: D['repository'];
  }): Awaitable<MountSpecification>;
}

/** Discovery operations. */
export interface DiscoveryOperations<D extends PluginDefinitions> {
  repository(args: { sourceConnection: RemoteConnection }): Awaitable<D['repository'][]>;
  sourceConfig(args: {
    sourceConnection: RemoteConnection;
    repository: D['repository'];
  }): Awaitable<D['sourceConfig'][]>;
}

/** A data migration: the stored object before, the object after (raw schema field names). */
export type Migration = (old: Record<string, unknown>) => Record<string, unknown>;

/** Migrations per object type, keyed by migration id (`1`, `1.1`, `2.0.3`...), applied in numeric id order. */
export type UpgradeOperations = Partial<Record<MigrationObjectType, Record<string, Migration>>>;

/** Every operation a plugin may implement, with the vSDK's argument names in camelCase. */
export interface PluginSpecOf<D extends PluginDefinitions, L> {
  discovery: DiscoveryOperations<D>;
  /** Staged plugins get `stagedSource`, direct ones `directSource`. */
  linked?: L;
  virtual?: VirtualOperations<D>;
  upgrade?: UpgradeOperations;
}

/** A staged plugin: linked operations get `stagedSource`. */
export type StagedPluginSpec<D extends PluginDefinitions = PluginDefinitions> = PluginSpecOf<
  D,
  StagedLinkedOperations<D>
>;
/** A direct plugin: linked operations get `directSource`. */
export type DirectPluginSpec<D extends PluginDefinitions = PluginDefinitions> = PluginSpecOf<
  D,
  DirectLinkedOperations<D>
>;
/** Either kind of plugin. */
export type PluginSpec<D extends PluginDefinitions = PluginDefinitions> = StagedPluginSpec<D> | DirectPluginSpec<D>;

const PLUGIN = Symbol.for('dvx.plugin');

/** A defined plugin: what a plugin module exports as its default. Frozen. */
export type Plugin<D extends PluginDefinitions = PluginDefinitions> = PluginSpec<D> & { readonly [PLUGIN]: true };

const MIGRATION_ID = /^\d+(\.\d+)*$/;
const GROUPS = ['discovery', 'linked', 'virtual'] as const;
const KNOWN_OPERATIONS = new Set<string>(OPERATION_NAMES);

function normalisedMigrationId(id: string): number[] {
  const numbers = id.split('.').map(Number);
  while (numbers.length > 1 && numbers.at(-1) === 0) numbers.pop();
  return numbers;
}

/** Migration ids compared as numbers, trailing zeros ignored (`1.2` = `01.02` = `1.2.0`). */
export function compareMigrationIds(a: string, b: string): number {
  const [x, y] = [normalisedMigrationId(a), normalisedMigrationId(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i += 1) {
    const difference = (x[i] ?? 0) - (y[i] ?? 0);
    if (difference) return difference;
  }
  return 0;
}

function checkSpec(spec: PluginSpec): void {
  if (!spec || typeof spec !== 'object')
    throw new TypeError('definePlugin: expected an object with discovery, linked, virtual and upgrade.');
  for (const key of Object.keys(spec)) {
    if (![...GROUPS, 'upgrade'].includes(key))
      throw new TypeError(`definePlugin: unknown group "${key}"; a plugin has discovery, linked, virtual and upgrade.`);
  }
  for (const group of GROUPS) {
    const operations = spec[group] as Record<string, unknown> | undefined;
    if (operations === undefined) continue;
    if (!operations || typeof operations !== 'object')
      throw new TypeError(`definePlugin: ${group} must be an object of operations.`);
    for (const [name, operation] of Object.entries(operations)) {
      if (!KNOWN_OPERATIONS.has(`${group}.${name}`)) {
        const known = OPERATION_NAMES.filter((known) => known.startsWith(`${group}.`)).map((known) =>
          known.slice(group.length + 1),
        );
        throw new TypeError(
          `definePlugin: ${group}.${name} is not a plugin operation; ${group} operations are ${known.join(', ')}.`,
        );
      }
      if (typeof operation !== 'function') throw new TypeError(`definePlugin: ${group}.${name} must be a function.`);
    }
  }
  const upgrade = (spec.upgrade ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const seen = new Map<string, string>();
  for (const [type, migrations] of Object.entries(upgrade)) {
    if (!(MIGRATION_OBJECT_TYPES as readonly string[]).includes(type))
      throw new TypeError(
        `definePlugin: upgrade.${type} is not an object type; migrations apply to ${MIGRATION_OBJECT_TYPES.join(', ')}.`,
      );
    for (const [id, migration] of Object.entries(migrations ?? {})) {
      if (!MIGRATION_ID.test(id))
        throw new TypeError(
          `definePlugin: upgrade.${type} migration id "${id}" must be numbers separated by dots, like "1.2".`,
        );
      if (/^[0.]+$/.test(id))
        throw new TypeError(`definePlugin: upgrade.${type} migration id "${id}" must not be all zeros.`);
      if (typeof migration !== 'function')
        throw new TypeError(`definePlugin: upgrade.${type}["${id}"] must be a function.`);
      const key = normalisedMigrationId(id).join('.');
      const previous = seen.get(key);
      if (previous)
        throw new TypeError(
          `definePlugin: migration id "${id}" of upgrade.${type} is the same as ${previous}; ids must be unique across all object types.`,
        );
      seen.set(key, `"${id}" of upgrade.${type}`);
    }
  }
}

/** How a plugin ingests: through a staging mount (`stagedSource`) or copied by the engine (`directSource`). */
export type PluginKind = PluginType;

/** The spec of a plugin of kind `K`. */
export type PluginSpecFor<D extends PluginDefinitions, K extends PluginKind> = K extends 'DIRECT'
  ? DirectPluginSpec<D>
  : StagedPluginSpec<D>;

/**
 * Defines a plugin. Checks its shape at once, so a mistake (an unknown operation name, a bad migration id) shows when
 * the plugin is built, not when it runs. Type arguments give every operation typed arguments: the plugin's definition
 * types, and its kind (as in plugin.yml's pluginType) when it is a direct plugin:
 * `definePlugin<{ repository: Repository; sourceConfig: SourceConfig; ... }>({ ... })` for a staged plugin,
 * `definePlugin<Definitions, 'DIRECT'>({ ... })` for a direct one (linked operations then get `directSource`).
 */
export function definePlugin<D extends PluginDefinitions = PluginDefinitions, K extends PluginKind = 'STAGED'>(
  spec: PluginSpecFor<D, K>,
): Plugin<D> {
  checkSpec(spec);
  const frozen: Record<string | symbol, unknown> = { [PLUGIN]: true };
  const entries: [string, unknown][] = Object.entries(spec);
  for (const [key, value] of entries) {
    frozen[key] =
      key === 'upgrade'
        ? Object.freeze(
            Object.fromEntries(
              Object.entries(value ?? {}).map(([type, migrations]) => [
                type,
                Object.freeze({ ...(migrations as object) }),
              ]),
            ),
          )
        : Object.freeze({ ...(value as object) });
  }
  // Plugin<D> is the spec's type plus the brand written above; the copy made field by field cannot carry that type.
  return Object.freeze(frozen) as unknown as Plugin<D>;
}

/** Whether a value is what {@link definePlugin} returns. */
export function isPlugin(value: unknown): value is Plugin {
  return Boolean(value && typeof value === 'object' && (value as Record<symbol, unknown>)[PLUGIN] === true);
}

/** The operations a plugin implements, in the order of {@link OPERATION_NAMES}. */
/** What reading a plugin's operations and migrations needs: its groups and upgrade sections, by name. */
export interface PluginSections {
  discovery?: object;
  linked?: object;
  virtual?: object;
  upgrade?: Partial<Record<MigrationObjectType, object>>;
}

export function implementedOperations(plugin: PluginSections): OperationName[] {
  return OPERATION_NAMES.filter((name) => {
    const [group, operation] = name.split('.') as [(typeof GROUPS)[number], string];
    return typeof (plugin[group] as Record<string, unknown> | undefined)?.[operation] === 'function';
  });
}

/** Migration ids per object type, in the order they apply. */
export function migrationIdsOf(plugin: PluginSections): Record<MigrationObjectType, string[]> {
  const ids = {} as Record<MigrationObjectType, string[]>;
  for (const type of MIGRATION_OBJECT_TYPES)
    ids[type] = Object.keys(plugin.upgrade?.[type] ?? {}).sort(compareMigrationIds);
  return ids;
}
