import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ValidationError } from '../../errors/index.js';
import { withClient } from '../client-command.js';
import { commandGroup } from '../command-group.js';
import { formatTable, print } from '../output.js';

interface PluginView {
  id: string;
  name: string;
  pluginType: string;
  externalVersion: string | null;
  buildNumber: string;
  operations?: string[];
}

/** `dvx plugin upload|list`: plugins installed on the engine. */
export function registerPluginCommands(program: Command): void {
  const plugin = commandGroup(program, 'plugin', 'Build plugins and install them on the engine');

  plugin
    .command('upload <artifact>')
    .description('Install a built plugin (build/artifact.json from `dvx plugin build`), then rediscover environments with it')
    .action(
      withClient<object, [string]>(async ({ client, options }, path) => {
        let artifact: unknown;
        try {
          artifact = JSON.parse(await readFile(path, 'utf8'));
        } catch (error) {
          throw new ValidationError(`Cannot read the artifact ${path}: ${(error as Error).message}.`, [{ pointer: '', message: 'not a readable JSON file' }], { action: 'Build the plugin with `dvx plugin build DIR` and upload DIR/build/artifact.json.' });
        }
        const answer = await client.post<{ plugin: PluginView; runs: { id: string }[] }>('/plugins', artifact);
        print(options.json, answer, () => `installed plugin ${answer.plugin.name} ${answer.plugin.externalVersion ?? ''} (${answer.plugin.id}); rediscovering ${answer.runs.length} environment(s)\n`);
      }),
    );

  plugin
    .command('list')
    .description('List installed plugins')
    .action(
      withClient<object, []>(async ({ client, options }) => {
        const answer = await client.get<{ plugins: PluginView[] }>('/plugins');
        print(options.json, answer, () =>
          formatTable(answer.plugins, [
            { header: 'name', value: (p) => p.name },
            { header: 'id', value: (p) => p.id },
            { header: 'type', value: (p) => p.pluginType },
            { header: 'version', value: (p) => p.externalVersion },
            { header: 'build', value: (p) => p.buildNumber },
          ]),
        );
      }),
    );
}
