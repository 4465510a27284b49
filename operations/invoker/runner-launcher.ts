import { fork, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PluginArtifact } from '../plugin-artifact.js';
import { runnerScript } from './runner-script.js';

/**
 * Starts runner processes of one runtime: the seam between the invoker (pool, IPC, deadlines, errors) and the
 * language a plugin is written in. A runner for another language (Python) implements this and speaks the protocol of
 * ipc-messages.ts over the same channel (Node's IPC: one JSON message per line on the file descriptor named by
 * `NODE_CHANNEL_FD`); the pool, the deadlines and the error mapping stay as they are.
 */
export interface RunnerLauncher {
  /** Names the runtime (`node`); part of the key of a warm pool, next to the code's path. */
  readonly runtime: string;
  /**
   * Starts one runner for the plugin code at `codePath`, in a process group of its own (so that killing the group
   * kills whatever the plugin started), with `env` as its whole environment, stdout and stderr piped and an IPC
   * channel (stdio index 3).
   */
  launch(codePath: string, env: NodeJS.ProcessEnv): Promise<ChildProcess>;
}

/** Runs TypeScript plugins (bundled to one ES module by `dvx plugin build`) in Node. */
export const nodeRunnerLauncher: RunnerLauncher = {
  runtime: 'node',
  async launch(codePath, env) {
    return fork(await runnerScript(), [codePath], {
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
      env,
    });
  },
};

/** The Python runner (operations/python/dvx_runner.py, copied to dist/ beside the compiled engine). */
const PYTHON_RUNNER = fileURLToPath(new URL('../python/dvx_runner.py', import.meta.url));

/**
 * Runs Python plugins (vSDK, `dlpx.virtualization`) with `python3 -I -u` (isolated: no PYTHON* variables, no user site
 * packages; unbuffered, so that what a plugin prints reaches its log as it prints it): the runner speaks the protocol over Node's IPC channel, whose descriptor Node names in NODE_CHANNEL_FD.
 */
export const pythonRunnerLauncher: RunnerLauncher = {
  runtime: 'python',
  launch(codePath, env) {
    return Promise.resolve(
      spawn('python3', ['-I', '-u', PYTHON_RUNNER, codePath], {
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        serialization: 'json',
        detached: true,
        env,
      }),
    );
  },
};

/** The launcher of each plugin language: a language added to the manifest's schema needs one here. */
export const RUNNER_LAUNCHERS: Record<PluginArtifact['manifest']['language'], RunnerLauncher> = {
  TYPESCRIPT: nodeRunnerLauncher,
  PYTHON311: pythonRunnerLauncher,
  PYTHON38: pythonRunnerLauncher,
};

/** The environment of runner processes: enough to run them, nothing of the engine's (keys, tokens, Redis URLs). */
export function runnerEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SYSTEMROOT'])
    if (process.env[name] !== undefined) env[name] = process.env[name];
  return env;
}
