import type { DirectSource, MountSpecification, RemoteConnection, StagedSource, Status, VirtualSource } from './platform-objects.js';

type Awaitable<T> = T | Promise<T>;

/** The six schema definitions of a plugin, as generated types. */
export interface PluginDefinitions {
  repository: Record<string, unknown>;
  sourceConfig: Record<string, unknown>;
  linkedSource: Record<string, unknown>;
  virtualSource: Record<string, unknown>;
  snapshot: Record<string, unknown>;
  snapshotParameters: Record<string, unknown>;
}

type Linked<D extends PluginDefinitions, S> = {
  preSnapshot?(args: S & { repository: D['repository']; sourceConfig: D['sourceConfig']; snapshotParameters: D['snapshotParameters'] | null }): Awaitable<void>;
  postSnapshot?(args: S & { repository: D['repository']; sourceConfig: D['sourceConfig']; snapshotParameters: D['snapshotParameters'] | null }): Awaitable<D['snapshot']>;
  startStaging?(args: S & { repository: D['repository']; sourceConfig: D['sourceConfig'] }): Awaitable<void>;
  stopStaging?(args: S & { repository: D['repository']; sourceConfig: D['sourceConfig'] }): Awaitable<void>;
  status?(args: S & { repository: D['repository']; sourceConfig: D['sourceConfig'] }): Awaitable<Status>;
  worker?(args: S & { repository: D['repository']; sourceConfig: D['sourceConfig'] }): Awaitable<void>;
  sourceSize?(args: S & { repository: D['repository']; sourceConfig: D['sourceConfig'] }): Awaitable<number>;
  mountSpecification?(args: { stagedSource: Omit<StagedSource<D['linkedSource']>, 'mount'>; repository: D['repository'] }): Awaitable<MountSpecification>;
};

/** Every operation a plugin may implement, with the vSDK's argument names in camelCase. */
export interface PluginSpecOf<D extends PluginDefinitions, L> {
  discovery: {
    repository(args: { sourceConnection: RemoteConnection }): Awaitable<D['repository'][]>;
    sourceConfig(args: { sourceConnection: RemoteConnection; repository: D['repository'] }): Awaitable<D['sourceConfig'][]>;
  };
  /** Staged plugins get `stagedSource`, direct ones `directSource`. */
  linked?: L;
  virtual?: {
    configure?(args: { virtualSource: VirtualSource<D['virtualSource']>; snapshot: D['snapshot']; repository: D['repository'] }): Awaitable<D['sourceConfig']>;
    initialize?(args: { virtualSource: VirtualSource<D['virtualSource']>; repository: D['repository'] }): Awaitable<D['sourceConfig']>;
    reconfigure?(args: { virtualSource: VirtualSource<D['virtualSource']>; repository: D['repository']; sourceConfig: D['sourceConfig']; snapshot: D['snapshot'] }): Awaitable<D['sourceConfig']>;
    unconfigure?(args: VirtualArgs<D>): Awaitable<void>;
    cleanup?(args: VirtualArgs<D>): Awaitable<void>;
    start?(args: VirtualArgs<D>): Awaitable<void>;
    stop?(args: VirtualArgs<D>): Awaitable<void>;
    preSnapshot?(args: VirtualArgs<D>): Awaitable<void>;
    postSnapshot?(args: VirtualArgs<D>): Awaitable<D['snapshot']>;
    status?(args: VirtualArgs<D>): Awaitable<Status>;
    sourceSize?(args: VirtualArgs<D>): Awaitable<number>;
    mountSpecification?(args: { virtualSource: Omit<VirtualSource<D['virtualSource']>, 'mounts'>; repository: D['repository'] }): Awaitable<MountSpecification>;
  };
  /** Data migrations per object type, keyed by migration id (`1`, `1.1`, `2.0.3`...), applied in id order. */
  upgrade?: Partial<Record<'repository' | 'sourceConfig' | 'linkedSource' | 'virtualSource' | 'snapshot', Record<string, (old: Record<string, unknown>) => Record<string, unknown>>>>;
}

/** A staged plugin: linked operations get `stagedSource`. */
export type StagedPluginSpec<D extends PluginDefinitions = PluginDefinitions> = PluginSpecOf<D, Linked<D, { stagedSource: StagedSource<D['linkedSource']> }>>;
/** A direct plugin: linked operations get `directSource` (and there is no linked mount specification). */
export type DirectPluginSpec<D extends PluginDefinitions = PluginDefinitions> = PluginSpecOf<D, Omit<Linked<D, { directSource: DirectSource<D['linkedSource']> }>, 'mountSpecification'>>;
/** Either kind of plugin. */
export type PluginSpec<D extends PluginDefinitions = PluginDefinitions> = StagedPluginSpec<D> | DirectPluginSpec<D>;

type VirtualArgs<D extends PluginDefinitions> = { virtualSource: VirtualSource<D['virtualSource']>; repository: D['repository']; sourceConfig: D['sourceConfig'] };

const PLUGIN = Symbol.for('dvx.plugin');

/** A defined plugin: what a plugin module exports as its default. */
export type Plugin<D extends PluginDefinitions = PluginDefinitions> = PluginSpec<D> & { readonly [PLUGIN]: true };

const MIGRATION_ID = /^\d+(\.\d+)*$/;

/** Migration ids compared as numbers, trailing zeros ignored (`1.2` = `01.02` = `1.2.0`). */
export function compareMigrationIds(a: string, b: string): number {
  const parts = (id: string) => {
    const numbers = id.split('.').map(Number);
    while (numbers.length > 1 && numbers.at(-1) === 0) numbers.pop();
    return numbers;
  };
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i += 1) {
    const difference = (x[i] ?? 0) - (y[i] ?? 0);
    if (difference) return difference;
  }
  return 0;
}

/** Defines a plugin. Checks its shape at once, so a mistake shows when the plugin is built, not when it runs. */
export function definePlugin<D extends PluginDefinitions = PluginDefinitions>(spec: StagedPluginSpec<D>): Plugin<D>;
export function definePlugin<D extends PluginDefinitions = PluginDefinitions>(spec: DirectPluginSpec<D>): Plugin<D>;
export function definePlugin<D extends PluginDefinitions = PluginDefinitions>(spec: PluginSpec<D>): Plugin<D> {
  for (const [group, operations] of Object.entries({ discovery: spec.discovery, linked: spec.linked, virtual: spec.virtual })) {
    for (const [name, operation] of Object.entries(operations ?? {})) {
      if (typeof operation !== 'function') throw new TypeError(`definePlugin: ${group}.${name} must be a function.`);
    }
  }
  for (const [type, migrations] of Object.entries(spec.upgrade ?? {})) {
    const ids = Object.keys(migrations ?? {});
    for (const id of ids) {
      if (!MIGRATION_ID.test(id) || /^[0.]+$/.test(id)) throw new TypeError(`definePlugin: upgrade.${type} migration id "${id}" must be numbers separated by dots (like "1.2"), not all zero.`);
    }
    const sorted = [...ids].sort(compareMigrationIds);
    for (let i = 1; i < sorted.length; i += 1) {
      if (compareMigrationIds(sorted[i - 1]!, sorted[i]!) === 0) throw new TypeError(`definePlugin: upgrade.${type} has migration ids "${sorted[i - 1]}" and "${sorted[i]}", which are the same.`);
    }
  }
  return Object.freeze({ ...spec, [PLUGIN]: true as const }) as Plugin<D>;
}

export function isPlugin(value: unknown): value is Plugin {
  return Boolean(value && typeof value === 'object' && (value as Record<symbol, unknown>)[PLUGIN]);
}

/** The operations a plugin implements, as `group.name`. */
export function implementedOperations(plugin: PluginSpec): string[] {
  const names: string[] = [];
  for (const group of ['discovery', 'linked', 'virtual'] as const) {
    for (const [name, operation] of Object.entries(plugin[group] ?? {})) if (typeof operation === 'function') names.push(`${group}.${name}`);
  }
  return names;
}

/** Migration ids per object type, in the order they apply. */
export function migrationIdsOf(plugin: PluginSpec): Record<'repository' | 'sourceConfig' | 'linkedSource' | 'virtualSource' | 'snapshot', string[]> {
  const ids = (type: keyof NonNullable<StagedPluginSpec['upgrade']>) => Object.keys(plugin.upgrade?.[type] ?? {}).sort(compareMigrationIds);
  return { repository: ids('repository'), sourceConfig: ids('sourceConfig'), linkedSource: ids('linkedSource'), virtualSource: ids('virtualSource'), snapshot: ids('snapshot') };
}
