import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import { output, step } from './lifecycle/dvx-steps.js';
import type { RunInput } from './lifecycle/shared-steps.js';
import type { DvxSteps } from './lifecycle/step-catalogue.js';
import type { LifecycleContext } from './lifecycle/types.js';

export interface DiscoverInput extends RunInput {
  environmentId: string;
  /** Plugins whose discovery runs on the environment. */
  pluginIds: string[];
}

type C = LifecycleContext<DiscoverInput>;

const probe = step({ id: 'probe', src: 'host.probe', input: (c: C) => ({ environmentId: c.input.environmentId }) });
const repositories = step({
  id: 'repositories',
  src: 'plugin.discovery.repository',
  input: (c: C) => ({ environmentId: c.input.environmentId, pluginIds: c.input.pluginIds }),
});
const sourceConfigs = step({
  id: 'sourceConfigs',
  src: 'plugin.discovery.sourceConfig',
  input: (c: C) => ({
    environmentId: c.input.environmentId,
    pluginIds: c.input.pluginIds,
    repositories: output(repositories, c),
  }),
});

/** Add or refresh an environment: probe the host, discover repositories and source configs, reconcile by identity. */
export const discoverLifecycle = defineLifecycle<DiscoverInput, DvxSteps>({
  kind: 'discover',
  version: 1,
  description:
    'probe host -> discovery.repository -> discovery.sourceConfig per repository -> reconcile by identity fields',
  steps: [
    probe,
    repositories,
    sourceConfigs,
    step({
      id: 'reconcile',
      src: 'model.reconcileDiscovery',
      input: (c: C) => ({
        environmentId: c.input.environmentId,
        probe: output(probe, c),
        repositories: output(repositories, c),
        sourceConfigs: output(sourceConfigs, c),
      }),
    }),
  ],
  onFailure: [
    step({
      id: 'recordFailure',
      src: 'model.recordEnvironmentFailure',
      input: (c: C) => ({ environmentId: c.input.environmentId, error: c.error }),
    }),
  ],
});
