import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { NotFoundError } from '../errors/index.js';
import type { PluginArtifact } from '../schemas/plugin-artifact.js';
import type { BookmarkRecord } from './bookmark.js';
import type { DsourceRecord } from './dsource.js';
import type { EnvironmentRecord } from './environment.js';
import type { HookRecord } from './hook.js';
import { KEY_PREFIX } from './keys.js';
import type { PluginRecord } from './plugin-record.js';
import type { PolicyRecord } from './policy.js';
import { PolicySlots } from './policy-slots.js';
import { RecordStore, type StatusChange } from './record-store.js';
import type { RepositoryRecord } from './repository.js';
import { RunStore } from './run-store.js';
import type { SnapshotRecord } from './snapshot.js';
import type { SourceConfigRecord } from './source-config.js';
import type { TimeflowRecord } from './timeflow.js';
import type { VdbRecord } from './vdb.js';
import { WebhookDeliveries, type WebhookRecord } from './webhook.js';

/** Events of {@link DvxModel}, emitted in the process that wrote the change. */
export interface ModelEvents {
  /** A VDB's or dSource's status changed (or it was created or deleted). */
  statusChanged: [objectType: 'vdb' | 'dsource', change: StatusChange<VdbRecord | DsourceRecord>];
}

/** Every record store of dvx on one Redis client. */
export class DvxModel {
  readonly events = new EventEmitter<ModelEvents>();
  readonly environments: RecordStore<EnvironmentRecord>;
  readonly plugins: RecordStore<PluginRecord>;
  readonly repositories: RecordStore<RepositoryRecord>;
  readonly sourceConfigs: RecordStore<SourceConfigRecord>;
  readonly dsources: RecordStore<DsourceRecord>;
  readonly vdbs: RecordStore<VdbRecord>;
  readonly timeflows: RecordStore<TimeflowRecord>;
  readonly snapshots: RecordStore<SnapshotRecord>;
  readonly hooks: RecordStore<HookRecord>;
  readonly policies: RecordStore<PolicyRecord>;
  readonly bookmarks: RecordStore<BookmarkRecord>;
  /** Webhook subscriptions and their deliveries. */
  readonly webhooks: RecordStore<WebhookRecord>;
  readonly webhookDeliveries: WebhookDeliveries;
  /** Which policy holds each (object, policy type): one of each type per object. */
  readonly policySlots: PolicySlots;
  readonly runs: RunStore;

  constructor(readonly redis: Redis) {
    this.environments = new RecordStore(redis, { kind: 'environment', nameField: 'name' });
    this.plugins = new RecordStore(redis, { kind: 'plugin', nameField: 'name' });
    this.repositories = new RecordStore(redis, { kind: 'repository', indexes: ['environmentId', 'pluginId'] });
    this.sourceConfigs = new RecordStore(redis, {
      kind: 'sourceconfig',
      label: 'source config',
      indexes: ['environmentId', 'repositoryId'],
    });
    this.dsources = new RecordStore(redis, {
      kind: 'dsource',
      label: 'dSource',
      nameField: 'name',
      indexes: ['sourceConfigId', 'pluginId'],
      onStatusChange: (change) => this.events.emit('statusChanged', 'dsource', change),
    });
    this.vdbs = new RecordStore(redis, {
      kind: 'vdb',
      label: 'VDB',
      nameField: 'name',
      indexes: ['parentId', 'environmentId', 'pluginId'],
      onStatusChange: (change) => this.events.emit('statusChanged', 'vdb', change),
    });
    this.timeflows = new RecordStore(redis, { kind: 'timeflow', indexes: ['ownerId', 'parentSnapshotId'] });
    this.snapshots = new RecordStore(redis, { kind: 'snapshot', indexes: ['ownerId', 'timeflowId'] });
    this.hooks = new RecordStore(redis, { kind: 'hook', indexes: ['objectId'] });
    this.policies = new RecordStore(redis, { kind: 'policy', nameField: 'name', indexes: ['type'] });
    this.bookmarks = new RecordStore(redis, {
      kind: 'bookmark',
      nameField: 'name',
      indexes: ['snapshotId', 'ownerId'],
    });
    this.webhooks = new RecordStore(redis, { kind: 'webhook' });
    this.webhookDeliveries = new WebhookDeliveries(redis);
    this.policySlots = new PolicySlots(redis);
    this.runs = new RunStore(redis);
  }

  /** The stored artifact of a plugin; a NotFoundError when there is none. */
  async pluginArtifact(pluginId: string): Promise<PluginArtifact> {
    const artifact = await this.findPluginArtifact(pluginId);
    if (!artifact)
      throw new NotFoundError('plugin artifact', pluginId, 'Upload the plugin again with `dvx plugin upload`.');
    return artifact;
  }

  /** The stored artifact of a plugin, or null. */
  async findPluginArtifact(pluginId: string): Promise<PluginArtifact | null> {
    const text = await this.redis.get(`${KEY_PREFIX}:plugin-artifact:${pluginId}`);
    // Only putPluginArtifact writes this key, with an artifact that checkArtifact accepted on upload.
    return text ? (JSON.parse(text) as PluginArtifact) : null;
  }

  async putPluginArtifact(pluginId: string, artifact: PluginArtifact): Promise<void> {
    await this.redis.set(`${KEY_PREFIX}:plugin-artifact:${pluginId}`, JSON.stringify(artifact));
  }

  async deletePluginArtifact(pluginId: string): Promise<void> {
    await this.redis.del(`${KEY_PREFIX}:plugin-artifact:${pluginId}`);
  }
}
