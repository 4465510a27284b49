import { Command } from 'commander';
import { registerEngineStart } from './commands/engine-start.js';
import { packageVersion } from './package-info.js';
import { reportCliError } from './report-cli-error.js';

/** Each command module adds its verbs to the program. */
export type RegisterCommand = (program: Command) => void;

const COMMANDS: RegisterCommand[] = [registerEngineStart];

export function buildProgram(): Command {
  const program = new Command('dvx')
    .description('Data-virtualization engine: thin writable copies of datasets, in seconds.')
    .version(packageVersion())
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
