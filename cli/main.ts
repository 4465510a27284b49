import { Command } from 'commander';
import { COMMAND_INDEX, type CommandEntry } from './command-index.js';
import { commandGroup } from './command-group.js';
import { DEFAULT_DATA_DIR } from './data-dir.js';
import { envOption } from './env-option.js';
import { packageVersion } from './package-info.js';
import { reportCliError } from './report-cli-error.js';

export type { RegisterCommand } from './command-index.js';

/** Global options that take a value: the word after one is not a command name. */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['--data-dir', '--engine', '--token']);

/** The top-level command `argv` (`node dvx ...`) runs, or undefined when it names none (help, version, a typo). */
export function commandNamed(argv: readonly string[]): CommandEntry | undefined {
  const words = argv.slice(2);
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i] ?? '';
    if (word === '--') return undefined;
    if (GLOBAL_OPTIONS_WITH_VALUE.has(word)) {
      i += 1;
      continue;
    }
    if (word.startsWith('-')) continue;
    // `dvx help vdb` is `dvx vdb --help`
    const name = word === 'help' ? words[i + 1] : word;
    return COMMAND_INDEX.find((entry) => entry.name === name);
  }
  return undefined;
}

/**
 * The program with every top-level command listed, and the verbs of the commands in `load` (all of them unless
 * given): a run loads only the module of the command it runs.
 */
export async function buildProgram(load: readonly CommandEntry[] = COMMAND_INDEX): Promise<Command> {
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
  for (const entry of COMMAND_INDEX) commandGroup(program, entry.name);
  const registers = new Set(await Promise.all(load.map((entry) => entry.load())));
  for (const register of registers) register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    const command = commandNamed(argv);
    // Naming no command (`dvx --help`, `dvx --version`, a typo) needs only the command index.
    await (await buildProgram(command ? [command] : [])).parseAsync(argv);
  } catch (error) {
    process.exitCode = reportCliError(error);
  }
}
