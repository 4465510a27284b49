import type { Command } from 'commander';
import { COMMAND_INDEX } from './command-index.js';

/** The program's top-level command `name`, created with its description from the command index if not there yet. */
export function commandGroup(program: Command, name: string): Command {
  const existing = program.commands.find((command) => command.name() === name);
  if (existing) return existing;
  const entry = COMMAND_INDEX.find((candidate) => candidate.name === name);
  if (!entry) throw new Error(`"${name}" is not in the CLI's command index (cli/command-index.ts): add it there.`);
  return program.command(name).description(entry.description);
}
