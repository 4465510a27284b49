import { DvxError, type DvxErrorOptions } from './dvx-error.js';
import type { ErrorCode } from './error-code.js';

export type PluginErrorCode = Extract<ErrorCode, `PLUGIN_${string}`>;

/** A failure of a plugin or of the plugin toolchain. `details.operation` names the plugin operation. */
export class PluginError extends DvxError {
  declare readonly code: PluginErrorCode;
  constructor(options: DvxErrorOptions & { code: PluginErrorCode }) {
    super(options);
  }
}
