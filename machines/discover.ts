import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import type { RunInput } from './lifecycle/shared-steps.js';

export interface DiscoverInput extends RunInput {
  environmentId: string;
  /** Plugins whose discovery runs on the environment. */
  pluginIds: string[];
}

/** Add or refresh an environment: probe the host, discover repositories and source configs, reconcile by identity. */
export const discoverLifecycle = defineLifecycle<DiscoverInput>({
  kind: 'discover',
  version: 1,
  description: 'probe host -> discovery.repository -> discovery.sourceConfig per repository -> reconcile by identity fields',
  steps: [
    { id: 'probe', src: 'host.probe', input: (c) => ({ environmentId: c.input.environmentId }) },
    { id: 'repositories', src: 'plugin.discovery.repository', input: (c) => ({ environmentId: c.input.environmentId, pluginIds: c.input.pluginIds }) },
    {
      id: 'sourceConfigs',
      src: 'plugin.discovery.sourceConfig',
      input: (c) => ({ environmentId: c.input.environmentId, pluginIds: c.input.pluginIds, repositories: c.results.repositories ?? null }),
    },
    {
      id: 'reconcile',
      src: 'model.reconcileDiscovery',
      input: (c) => ({
        environmentId: c.input.environmentId,
        probe: c.results.probe ?? null,
        repositories: c.results.repositories ?? null,
        sourceConfigs: c.results.sourceConfigs ?? null,
      }),
    },
  ],
  onFailure: [{ id: 'recordFailure', src: 'model.recordEnvironmentFailure', input: (c) => ({ environmentId: c.input.environmentId, error: c.error }) }],
});
