import { Command } from 'commander';
import { createRequire } from 'node:module';
import { reportCliError } from './report-cli-error.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** Each command module adds its verbs to the program. */
export type RegisterCommand = (program: Command) => void;

const COMMANDS: RegisterCommand[] = [];

export function buildProgram(): Command {
  const program = new Command('dvx')
    .description('Data-virtualization engine: thin writable copies of datasets, in seconds.')
    .version(version)
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
