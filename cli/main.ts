import { Command } from 'commander';
import { registerEngineStart } from './commands/engine-start.js';
import { registerAuditCommands } from './commands/audit-commands.js';
import { registerBookmarkCommands } from './commands/bookmark-commands.js';
import { registerDsourceCommands } from './commands/dsource-commands.js';
import { registerEnvCommands } from './commands/env-commands.js';
import { registerHookCommands } from './commands/hook-commands.js';
import { registerPluginCommands } from './commands/plugin-commands.js';
import { registerPolicyCommands } from './commands/policy-commands.js';
import { registerQuickstart } from './commands/quickstart.js';
import { registerRunCommands } from './commands/run-commands.js';
import { registerSnapshotCommands } from './commands/snapshot-commands.js';
import { registerSourceConfigCommands } from './commands/sourceconfig-commands.js';
import { registerStorageCommands } from './commands/storage-commands.js';
import { registerTokenCommands } from './commands/token-commands.js';
import { registerVdbCommands } from './commands/vdb-commands.js';
import { packageVersion } from './package-info.js';
import { reportCliError } from './report-cli-error.js';

/** Each command module adds its verbs to the program. */
export type RegisterCommand = (program: Command) => void;

const COMMANDS: RegisterCommand[] = [
  registerEngineStart,
  registerQuickstart,
  registerEnvCommands,
  registerPluginCommands,
  registerSourceConfigCommands,
  registerDsourceCommands,
  registerVdbCommands,
  registerSnapshotCommands,
  registerHookCommands,
  registerPolicyCommands,
  registerBookmarkCommands,
  registerRunCommands,
  registerTokenCommands,
  registerAuditCommands,
  registerStorageCommands,
];

export function buildProgram(): Command {
  const program = new Command('dvx')
    .description('Data-virtualization engine: thin writable copies of datasets, in seconds.')
    .version(packageVersion())
    .option('--data-dir <dir>', 'engine data directory (default: $DVX_DATA_DIR or ./.dvx)')
    .option('--engine <url>', 'engine API URL (default: $DVX_ENGINE_URL or the local engine of the data dir)')
    .option('--token <token>', "API token (default: $DVX_TOKEN or the data dir's admin token)")
    .option('--json', 'print JSON instead of text')
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(text) });
  for (const register of COMMANDS) register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    process.exitCode = reportCliError(error);
  }
}
