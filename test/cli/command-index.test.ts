import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_INDEX } from '../../cli/command-index.js';
import { buildProgram, commandNamed } from '../../cli/main.js';
import { must } from '../harness/must.js';

const argv = (...words: string[]) => ['node', 'dvx', ...words];

describe('the CLI command index', () => {
  it('finds the command a command line runs, past global options and their values', () => {
    expect(commandNamed(argv('vdb', 'list'))?.name).toBe('vdb');
    expect(commandNamed(argv('--json', '--data-dir', 'run', 'run', 'show', 'x'))?.name).toBe('run');
    expect(commandNamed(argv('--engine=http://h:1', '--token', 'vdb', 'env', 'list'))?.name).toBe('env');
    expect(commandNamed(argv('help', 'policy'))?.name).toBe('policy');
    expect(commandNamed(argv('--help'))).toBeUndefined();
    expect(commandNamed(argv('vdbx', 'list'))).toBeUndefined();
    expect(commandNamed(argv())).toBeUndefined();
  });

  it("lists every command in the top-level help without loading any command's module", async () => {
    const program = await buildProgram([]);
    expect(program.commands.map((command) => command.name())).toEqual(COMMAND_INDEX.map((entry) => entry.name));
    for (const command of program.commands) expect(command.commands).toHaveLength(0);
  });

  it.each(COMMAND_INDEX.map((entry) => [entry.name, entry] as const))(
    'loads the verbs of %s from its module, which adds no command the index does not list',
    async (_name, entry) => {
      const program = await buildProgram([entry]);
      const command = must(
        program.commands.find((candidate) => candidate.name() === entry.name),
        entry.name,
      );
      // A group gets subcommands; a leaf command (quickstart, audit) gets its options.
      expect(command.commands.length + command.options.length).toBeGreaterThan(0);
      expect(program.commands).toHaveLength(COMMAND_INDEX.length);
    },
  );

  it('refuses a module that adds a top-level command missing from the index', async () => {
    const { commandGroup } = await import('../../cli/command-group.js');
    expect(() => commandGroup(new Command('dvx'), 'nosuch')).toThrow(/cli\/command-index\.ts/);
  });
});
