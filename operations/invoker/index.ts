export { invokePlugin, INVOKE_DEFAULTS, type InvokeOptions } from './invoke-plugin.js';
export { hasDefault, hasOperation, OPERATION_DEFAULTS } from './operation-contract.js';
export { cachedCodePath, DEFAULT_CODE_CACHE_DIR } from './code-cache.js';
export {
  RunnerPool,
  WARM_RUNNER_DEFAULTS,
  type IdleRunner,
  type RunnerCode,
  type WarmRunnerOptions,
} from './runner-pool.js';
export { nodeRunnerLauncher, pythonRunnerLauncher, RUNNER_LAUNCHERS, type RunnerLauncher } from './runner-launcher.js';
