import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ValidationError } from '../../errors/index.js';
import {
  buildPlugin,
  formatBuildIssue,
  initPlugin,
  parsePluginType,
  type PluginType,
} from '../../operations/toolchain/index.js';
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

/** A path relative to the current directory when it is below it, absolute otherwise. */
function shortPath(path: string): string {
  const below = relative(process.cwd(), path);
  return below && !below.startsWith('..') ? below : path;
}

function pluginTypeOf(value: string): PluginType {
  const type = parsePluginType(value);
  if (!type)
    throw new InvalidArgumentError(
      'use staged (ingestion through a staging mount) or direct (the engine copies with runSync).',
    );
  return type;
}

/** `dvx plugin init|build|upload|list`: write and build plugins, and the plugins installed on the engine. */
export function registerPluginCommands(program: Command): void {
  const plugin = commandGroup(program, 'plugin', 'Build plugins and install them on the engine');

  plugin
    .command('init <dir>')
    .description(
      'Create a new plugin in DIR (new or empty): plugin.yml, schema.json and src/index.ts, a working plugin that copies a directory tree',
    )
    .addOption(
      new Option(
        '--type <type>',
        'staged (ingestion through a staging mount) or direct (the engine copies with runSync)',
      )
        .argParser(pluginTypeOf)
        .makeOptionMandatory(),
    )
    .option('--name <name>', "the plugin's display name (default: the directory's name)")
    .action(async function (this: Command, dir: string) {
      const options = this.optsWithGlobals<{ type: PluginType; name?: string; json?: boolean }>();
      const result = await initPlugin({
        dir,
        type: options.type,
        ...(options.name !== undefined ? { name: options.name } : {}),
      });
      print(
        options.json,
        result,
        () =>
          `created ${result.type.toLowerCase()} plugin ${result.name} (${result.id}) in ${result.dir}:\n${result.files.map((file) => `  ${file}`).join('\n')}\nbuild it: dvx plugin build ${dir}\n`,
      );
    });

  plugin
    .command('build [dir]')
    .description(
      'Validate plugin.yml and schema.json, generate the definition types, type-check, bundle, and write the artifact (default DIR/build/artifact.json)',
    )
    .option('--out <file>', 'where to write the artifact (default: DIR/build/artifact.json)')
    .action(async function (this: Command, dir: string | undefined) {
      const options = this.optsWithGlobals<{ out?: string; json?: boolean }>();
      const result = await buildPlugin({
        dir: dir ?? process.cwd(),
        ...(options.out !== undefined ? { out: options.out } : {}),
      });
      for (const warning of result.warnings) process.stderr.write(`warning: ${formatBuildIssue(warning)}\n`);
      const { manifest } = result.artifact;
      const summary = {
        artifactPath: result.artifactPath,
        manifest,
        codeSha256: result.artifact.codeSha256,
        warnings: result.warnings,
      };
      print(
        options.json,
        summary,
        () =>
          `built ${manifest.pluginType.toLowerCase()} plugin ${manifest.name} ${manifest.externalVersion} (build ${manifest.buildNumber}, ${manifest.operations.length} operations): ${shortPath(result.artifactPath)}\n`,
      );
    });

  plugin
    .command('upload <artifact>')
    .description(
      'Install a built plugin (build/artifact.json from `dvx plugin build`), then rediscover environments with it',
    )
    .action(
      withClient<object, [string]>(async ({ client, options }, path) => {
        let artifact: unknown;
        try {
          artifact = JSON.parse(await readFile(path, 'utf8'));
        } catch (error) {
          throw new ValidationError(
            `Cannot read the artifact ${path}: ${(error as Error).message}.`,
            [{ pointer: '', message: 'not a readable JSON file' }],
            { action: 'Build the plugin with `dvx plugin build DIR` and upload DIR/build/artifact.json.' },
          );
        }
        const answer = await client.post<{ plugin: PluginView; runs: { id: string }[] }>('/plugins', artifact);
        print(
          options.json,
          answer,
          () =>
            `installed plugin ${answer.plugin.name} ${answer.plugin.externalVersion ?? ''} (${answer.plugin.id}); rediscovering ${answer.runs.length} environment(s)\n`,
        );
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
