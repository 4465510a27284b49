import { cancellationError, PluginError } from '../../errors/index.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import type { OperationName, PluginArtifact } from '../plugin-artifact.js';
import type { PlatformServices } from '../platform-services.js';
import { cachedCodePath } from './code-cache.js';
import { checkInputs, hasDefault, hasOperation, OPERATION_DEFAULTS } from './operation-contract.js';
import { PluginProcess } from './plugin-process.js';
import { RUNNER_LAUNCHERS, type RunnerLauncher } from './runner-launcher.js';
import type { RunnerPool } from './runner-pool.js';
import { RunnerProcess } from './runner-process.js';
import { SecretScrubber } from './secret-scrubber.js';

/** Options of {@link invokePlugin}. */
export interface InvokeOptions {
  artifact: PluginArtifact;
  operation: OperationName;
  /** Named arguments, as the SDK passes them (`virtualSource`, `repository`, ...). */
  args: Record<string, unknown>;
  /** The same on every retry of a step, so that the plugin can make its effects idempotent (`currentOperationId()`). */
  operationId: string;
  /** What the plugin's platform library calls do. */
  services: PlatformServices;
  /** Kill the operation after this long. @defaultValue {@link INVOKE_DEFAULTS}.timeoutMs (10 minutes) */
  timeoutMs?: number;
  /** Aborting kills the plugin process and fails with RUN_CANCELLED (or the signal's DvxError reason). */
  signal?: AbortSignal;
  /** @defaultValue silentLogger */
  logger?: Logger;
  /** Where the plugin's code is cached as a module file. @defaultValue `<os.tmpdir()>/dvx-plugin-cache` */
  cacheDir?: string;
  /** Warm runner processes to take the operation's process from. @defaultValue none: a process is started for the call */
  runners?: RunnerPool;
  /** Starts the operation's process. @defaultValue the launcher of the plugin's language ({@link RUNNER_LAUNCHERS}) */
  launcher?: RunnerLauncher;
}

export const INVOKE_DEFAULTS = { timeoutMs: 600_000 };

/** Every `reference` in the arguments: the environments and users the plugin may reach. */
function referencesIn(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) referencesIn(item, into);
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'reference' && typeof item === 'string') into.add(item);
      else referencesIn(item, into);
    }
  }
  return into;
}

/**
 * Runs one plugin operation in a child process of its own (a warm one from `runners`, else one started for it): inputs checked against the plugin's schemas, platform library calls
 * served by `services`, the output checked, and a typed error for every way it can fail (PLUGIN_USER_ERROR,
 * PLUGIN_FAULT, PLUGIN_TIMEOUT, PLUGIN_CRASHED, PLUGIN_INVALID_INPUT, PLUGIN_INVALID_OUTPUT, PLUGIN_OPERATION_MISSING,
 * RUN_CANCELLED, or the code of a platform call's error the plugin let escape). A plugin that throws, hangs, exits
 * or returns garbage never takes the engine down, and its process (group) is gone when this settles.
 *
 * An optional operation the plugin does not implement is not run: its default is returned (see OPERATION_DEFAULTS).
 */
export async function invokePlugin(options: InvokeOptions): Promise<unknown> {
  const { artifact, operation, services } = options;
  const logger = (options.logger ?? silentLogger).child({
    plugin: artifact.manifest.name,
    operation,
    operationId: options.operationId,
  });
  if (!hasOperation(artifact, operation)) {
    if (hasDefault(operation)) return OPERATION_DEFAULTS[operation];
    throw new PluginError({
      code: 'PLUGIN_OPERATION_MISSING',
      message: `Plugin ${artifact.manifest.name} does not implement ${operation}, which this run needs.`,
      action: 'Implement it in the plugin, rebuild and upload it again.',
      details: { operation },
    });
  }
  const args = checkInputs(artifact, operation, options.args);
  const references = referencesIn(args);
  const scrub = new SecretScrubber(artifact, args);
  const codePath = await cachedCodePath(artifact, options.cacheDir);
  if (options.signal?.aborted) throw cancellationError(options.signal.reason, operation, { operation });
  const launcher = options.launcher ?? RUNNER_LAUNCHERS[artifact.manifest.language];
  const runners = options.runners;
  return new PluginProcess({
    artifact,
    operation,
    args,
    operationId: options.operationId,
    runner: runners
      ? () => runners.take({ launcher, codePath, plugin: artifact.manifest.id })
      : () => RunnerProcess.start(launcher, codePath),
    fallback: runners ? () => RunnerProcess.start(launcher, codePath) : undefined,
    services,
    references,
    scrub,
    logger,
    timeoutMs: options.timeoutMs ?? INVOKE_DEFAULTS.timeoutMs,
    signal: options.signal,
  }).run();
}
