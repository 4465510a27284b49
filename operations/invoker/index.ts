export { invokePlugin, INVOKE_DEFAULTS, type InvokeOptions } from './invoke-plugin.js';
export { hasDefault, hasOperation, OPERATION_DEFAULTS } from './operation-contract.js';
export { cachedCodePath, DEFAULT_CODE_CACHE_DIR } from './code-cache.js';
