import type { Command } from 'commander';
import { HOOK_EVENTS } from '../machines/lifecycle/hook-events.js';

/** Adds a command module's verbs to the program (under the groups {@link commandGroup} made). */
export type RegisterCommand = (program: Command) => void;

/** A top-level command: its name and description, and the module that holds its verbs, loaded only when it runs. */
export interface CommandEntry {
  name: string;
  description: string;
  load: () => Promise<RegisterCommand>;
}

/**
 * Every top-level command. The CLI loads only the module of the command it runs (a module may pull in the engine,
 * BullMQ or ssh2: hundreds of milliseconds), so `dvx --help` and the read commands start fast; the help lists the
 * commands from here.
 */
export const COMMAND_INDEX: readonly CommandEntry[] = [
  {
    name: 'engine',
    description: 'Run and manage the dvx engine',
    load: async () => (await import('./commands/engine-start.js')).registerEngineStart,
  },
  {
    name: 'quickstart',
    description:
      'Start the engine in the background with three local sshd hosts, run the dirtree tour, and leave it all up',
    load: async () => (await import('./commands/quickstart.js')).registerQuickstart,
  },
  {
    name: 'env',
    description: 'Environments: the hosts dvx reaches over SSH',
    load: async () => (await import('./commands/env-commands.js')).registerEnvCommands,
  },
  {
    name: 'plugin',
    description: 'Build plugins and install them on the engine',
    load: async () => (await import('./commands/plugin-commands.js')).registerPluginCommands,
  },
  {
    name: 'repo',
    description: 'Repositories found on environments',
    load: async () => (await import('./commands/sourceconfig-commands.js')).registerSourceConfigCommands,
  },
  {
    name: 'sourceconfig',
    description: 'Source configs: datasets on repositories',
    load: async () => (await import('./commands/sourceconfig-commands.js')).registerSourceConfigCommands,
  },
  {
    name: 'dsource',
    description: 'dSources: linked, synced copies of source datasets',
    load: async () => (await import('./commands/dsource-commands.js')).registerDsourceCommands,
  },
  {
    name: 'vdb',
    description: 'VDBs: writable thin copies on target environments',
    load: async () => (await import('./commands/vdb-commands.js')).registerVdbCommands,
  },
  {
    name: 'snapshot',
    description: 'Snapshots of dSources and VDBs',
    load: async () => (await import('./commands/snapshot-commands.js')).registerSnapshotCommands,
  },
  {
    name: 'hook',
    description: `User hooks: bash on the object's host (${HOOK_EVENTS.join(', ')})`,
    load: async () => (await import('./commands/hook-commands.js')).registerHookCommands,
  },
  {
    name: 'policy',
    description: 'Policies: scheduled SnapSync, VDB snapshot and refresh, and snapshot retention',
    load: async () => (await import('./commands/policy-commands.js')).registerPolicyCommands,
  },
  {
    name: 'bookmark',
    description: 'Bookmarks: named snapshots, protected from retention and deletion',
    load: async () => (await import('./commands/bookmark-commands.js')).registerBookmarkCommands,
  },
  {
    name: 'run',
    description: 'Inspect and cancel lifecycle runs',
    load: async () => (await import('./commands/run-commands.js')).registerRunCommands,
  },
  {
    name: 'webhook',
    description: 'Webhooks: run and object events POSTed to a URL, HMAC-signed, retried, in order per object',
    load: async () => (await import('./commands/webhook-commands.js')).registerWebhookCommands,
  },
  {
    name: 'token',
    description: 'Manage API tokens (needs an admin token)',
    load: async () => (await import('./commands/token-commands.js')).registerTokenCommands,
  },
  {
    name: 'audit',
    description: 'Show the audit log of mutating API requests, allowed or refused, newest first (needs an admin token)',
    load: async () => (await import('./commands/audit-commands.js')).registerAuditCommands,
  },
  {
    name: 'storage',
    description: "The engine's storage pool (local to this machine)",
    load: async () => (await import('./commands/storage-commands.js')).registerStorageCommands,
  },
];
