import type { Command } from 'commander';
import { withClient } from '../client-command.js';
import { commandGroup } from '../command-group.js';
import { formatTable, print } from '../output.js';
import { parseParameters } from '../parse-parameters.js';

interface RepositoryView {
  id: string;
  name: string;
  environmentId: string;
  pluginId: string;
}
interface SourceConfigView extends RepositoryView {
  repositoryId: string;
  discovered: boolean;
  parameters: Record<string, unknown>;
}

/** `dvx repo list` and `dvx sourceconfig list|add`: what discovery found, and datasets added by hand. */
export function registerSourceConfigCommands(program: Command): void {
  commandGroup(program, 'repo')
    .command('list')
    .description('List repositories')
    .option('--env <env>', 'only on this environment')
    .action(
      withClient<{ env?: string }, []>(async ({ client, options }) => {
        const answer = await client.get<{ repositories: RepositoryView[] }>(
          `/repositories${options.env ? `?environment=${encodeURIComponent(options.env)}` : ''}`,
        );
        print(options.json, answer, () =>
          formatTable(answer.repositories, [
            { header: 'name', value: (r) => r.name },
            { header: 'id', value: (r) => r.id },
            { header: 'environment', value: (r) => r.environmentId },
            { header: 'plugin', value: (r) => r.pluginId },
          ]),
        );
      }),
    );

  const sourceconfig = commandGroup(program, 'sourceconfig');
  sourceconfig
    .command('list')
    .description('List source configs')
    .option('--env <env>', 'only on this environment')
    .option('--repo <repository>', 'only of this repository')
    .action(
      withClient<{ env?: string; repo?: string }, []>(async ({ client, options }) => {
        const query = new URLSearchParams();
        if (options.env) query.set('environment', options.env);
        if (options.repo) query.set('repository', options.repo);
        const answer = await client.get<{ sourceConfigs: SourceConfigView[] }>(
          `/sourceconfigs${query.size ? `?${query.toString()}` : ''}`,
        );
        print(options.json, answer, () =>
          formatTable(answer.sourceConfigs, [
            { header: 'name', value: (c) => c.name },
            { header: 'id', value: (c) => c.id },
            { header: 'repository', value: (c) => c.repositoryId },
            { header: 'discovered', value: (c) => c.discovered },
            { header: 'parameters', value: (c) => c.parameters },
          ]),
        );
      }),
    );

  sourceconfig
    .command('add <repository>')
    .description("Add a source config by hand; its parameters are checked against the plugin's schema")
    .requiredOption('--parameters <json|@file>', 'the source config (sourceConfigDefinition) as JSON')
    .action(
      withClient<{ parameters: string }, [string]>(async ({ client, options }, repository) => {
        const answer = await client.post<{ sourceConfig: SourceConfigView }>('/sourceconfigs', {
          repository,
          parameters: parseParameters(options.parameters),
        });
        print(
          options.json,
          answer,
          () => `added source config ${answer.sourceConfig.name} (${answer.sourceConfig.id})\n`,
        );
      }),
    );
}
