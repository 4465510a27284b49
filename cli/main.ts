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
import { DEFAULT_DATA_DIR } from './data-dir.js';
import { envOption } from './env-option.js';
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
    .addOption(
      envOption({
        flags: '--data-dir <dir>',
        description: 'engine data directory',
        variable: 'DVX_DATA_DIR',
        builtInText: `./${DEFAULT_DATA_DIR}`,
      }),
    )
    .addOption(
      envOption({
        flags: '--engine <url>',
        description: 'engine API URL',
        variable: 'DVX_ENGINE_URL',
        builtInText: "the data dir's engine (its engine.json)",
      }),
    )
    .addOption(
      envOption({
        flags: '--token <token>',
        description: 'API token',
        variable: 'DVX_TOKEN',
        builtInText: "the data dir's admin token",
        show: 'set',
      }),
    )
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
