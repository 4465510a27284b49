import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import { isStaged, type PluginType, type RunInput } from './lifecycle/shared-steps.js';

export interface DsourceInput extends RunInput {
  dsourceId: string;
  pluginType: PluginType;
}

/** Enable a dSource: (staged) mount its storage on the staging host and start staging. */
export const dsourceEnableLifecycle = defineLifecycle<DsourceInput>({
  kind: 'dsource-enable',
  version: 1,
  description: 'staged: mountSpecification -> attach -> startStaging; direct: no plugin operations',
  steps: [
    { id: 'mountSpec', src: 'plugin.linked.mountSpecification', when: isStaged, input: (c) => ({ dsourceId: c.input.dsourceId }) },
    {
      id: 'attach',
      src: 'mount.attachStaging',
      when: isStaged,
      input: (c) => ({ dsourceId: c.input.dsourceId, mountSpecification: c.results.mountSpec ?? null }),
      undo: { id: 'detach', src: 'mount.detachStaging', input: (c) => ({ dsourceId: c.input.dsourceId }) },
    },
    { id: 'startStaging', src: 'plugin.linked.startStaging', when: isStaged, input: (c) => ({ dsourceId: c.input.dsourceId }) },
    { id: 'markEnabled', src: 'model.setDsourceEnabled', input: (c) => ({ dsourceId: c.input.dsourceId, enabled: true }) },
  ],
  onFailure: [{ id: 'recordFailure', src: 'model.recordDsourceFailure', input: (c) => ({ dsourceId: c.input.dsourceId, error: c.error, runId: c.input.runId }) }],
});
