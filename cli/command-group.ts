import type { Command } from 'commander';

/** The program's subcommand `name`, created with `description` if no module has added it yet. */
export function commandGroup(program: Command, name: string, description: string): Command {
  return program.commands.find((command) => command.name() === name) ?? program.command(name).description(description);
}
