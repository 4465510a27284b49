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
import type { EngineClient } from '../engine-client.js';
import { formatTable, print } from '../output.js';
import { formatError, type RunView } from '../run-view.js';
import { waitForRun } from '../wait-for-run.js';

interface PluginView {
  id: string;
  name: string;
  pluginType: string;
  externalVersion: string | null;
  buildNumber: string;
  operations?: string[];
}

interface Rediscovery {
  environment: { id: string; name: string };
  runId?: string;
  skipped?: { code: string; message: string; action: string };
}

interface UploadAnswer {
  plugin: PluginView;
  runs: { id: string }[];
  rediscoveries: Rediscovery[];
}

/** Each environment's rediscovery once it has ended, and whether all of them succeeded. */
async function rediscoveryOutcomes(client: EngineClient, rediscoveries: Rediscovery[]) {
  const outcomes = await Promise.all(
    rediscoveries.map(async (rediscovery) => ({
      ...rediscovery,
      ...(rediscovery.runId ? { run: await waitForRun(client, rediscovery.runId, { stream: null }) } : {}),
    })),
  );
  const ok = outcomes.every((outcome) => outcome.run?.status === 'succeeded');
  return { outcomes, ok };
}

function outcomeLines(outcome: Rediscovery & { run?: RunView }): string[] {
  const name = `environment ${outcome.environment.name}`;
  if (!outcome.run) {
    const skipped = outcome.skipped ?? { code: 'INTERNAL', message: 'no run was started', action: '' };
    return [`${name}: not rediscovered`, ...formatError(skipped).map((line) => `  ${line}`)];
  }
  if (outcome.run.status === 'succeeded') return [`${name}: rediscovered (run ${outcome.run.id})`];
  return [
    `${name}: rediscovery ${outcome.run.status.toUpperCase()} (run ${outcome.run.id}; see: dvx run show ${outcome.run.id})`,
    ...(outcome.run.error ? formatError(outcome.run.error).map((line) => `  ${line}`) : []),
  ];
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
  const plugin = commandGroup(program, 'plugin');

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
    .option(
      '--wait',
      "wait for every environment's rediscovery and report each; exit non-zero unless all of them succeeded",
    )
    .action(
      withClient<{ wait?: boolean }, [string]>(async ({ client, options }, path) => {
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
        const answer = await client.post<UploadAnswer>('/plugins', artifact);
        if (options.wait) {
          const { outcomes, ok } = await rediscoveryOutcomes(client, answer.rediscoveries);
          print(options.json, { ...answer, rediscoveries: outcomes }, () =>
            [
              `installed plugin ${answer.plugin.name} ${answer.plugin.externalVersion ?? ''} (${answer.plugin.id})`,
              ...outcomes.flatMap(outcomeLines),
              ...(ok
                ? []
                : ['some environments were not rediscovered: fix what is said above, then dvx env refresh ENV']),
              '',
            ].join('\n'),
          );
          if (!ok) process.exitCode = 1;
          return;
        }
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
