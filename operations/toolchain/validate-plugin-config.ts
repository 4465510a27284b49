import { stat, readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { PLUGIN_CONFIG_SCHEMA, type PluginConfig } from '../../schemas/plugin-config.schema.js';
import type { PluginBuildIssue } from './plugin-build-error.js';
import { lazyValidator, schemaIssues } from './schema-issues.js';

/** The plugin config file of a plugin directory. */
export const PLUGIN_CONFIG_FILE = 'plugin.yml';

/** What {@link readPluginConfig} found: the config when it is valid, and every problem otherwise. */
export interface PluginConfigReading {
  config?: PluginConfig;
  issues: PluginBuildIssue[];
}

const configValidator = lazyValidator<PluginConfig>(PLUGIN_CONFIG_SCHEMA);

async function kindOf(path: string): Promise<'file' | 'directory' | 'missing'> {
  try {
    return (await stat(path)).isDirectory() ? 'directory' : 'file';
  } catch {
    return 'missing';
  }
}

const inside = (parent: string, child: string) => {
  const path = relative(parent, child);
  return path !== '' && !path.startsWith('..') && !isAbsolute(path);
};

/** Checks what the schema cannot: that srcDir and entryPoint exist where they must. */
async function checkPaths(dir: string, config: PluginConfig): Promise<PluginBuildIssue[]> {
  const issues: PluginBuildIssue[] = [];
  const srcDir = resolve(dir, config.srcDir);
  if (!inside(dir, srcDir)) {
    issues.push({
      file: PLUGIN_CONFIG_FILE,
      pointer: '/srcDir',
      message: `is ${JSON.stringify(config.srcDir)}, which is not a sub-directory of the plugin directory`,
      fix: 'set srcDir to a folder inside the plugin directory, e.g. src',
    });
  } else if ((await kindOf(srcDir)) !== 'directory') {
    issues.push({
      file: PLUGIN_CONFIG_FILE,
      pointer: '/srcDir',
      message: `is ${JSON.stringify(config.srcDir)}, which is not a directory`,
      fix: `create ${config.srcDir}/ or point srcDir at the folder of the plugin sources`,
    });
  }
  const entryPoint = resolve(dir, config.entryPoint);
  if (!inside(srcDir, entryPoint)) {
    issues.push({
      file: PLUGIN_CONFIG_FILE,
      pointer: '/entryPoint',
      message: `is ${JSON.stringify(config.entryPoint)}, which is not inside srcDir ${JSON.stringify(config.srcDir)}`,
      fix: `put the entry module in ${config.srcDir}/ and set entryPoint to its path relative to plugin.yml, e.g. ${join(config.srcDir, 'index.ts')}`,
    });
  } else if ((await kindOf(entryPoint)) !== 'file') {
    issues.push({
      file: PLUGIN_CONFIG_FILE,
      pointer: '/entryPoint',
      message: `is ${JSON.stringify(config.entryPoint)}, which does not exist`,
      fix: 'create that module (its default export is definePlugin(...)) or correct entryPoint',
    });
  }
  return issues;
}

/** Validates a parsed plugin config (the plugin.yml mapping) against the config schema and the plugin directory. */
async function validatePluginConfig(dir: string, data: unknown): Promise<PluginConfigReading> {
  const validate = configValidator();
  if (!validate(data))
    return {
      issues: schemaIssues(
        PLUGIN_CONFIG_FILE,
        PLUGIN_CONFIG_SCHEMA,
        data,
        validate.errors,
        'see the plugin config fields in a plugin made by `dvx plugin init`',
      ),
    };
  const config = data;
  const issues = await checkPaths(dir, config);
  return issues.length ? { issues } : { config, issues };
}

/** Reads and validates DIR/plugin.yml, collecting every problem (YAML syntax, schema, paths). */
export async function readPluginConfig(dir: string): Promise<PluginConfigReading> {
  let text: string;
  try {
    text = await readFile(join(dir, PLUGIN_CONFIG_FILE), 'utf8');
  } catch {
    return {
      issues: [
        {
          file: PLUGIN_CONFIG_FILE,
          pointer: '',
          message: `is missing from ${dir}`,
          fix: 'run the build in a plugin directory, or create one with `dvx plugin init DIR --type staged|direct`',
        },
      ],
    };
  }
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length) {
    return {
      issues: document.errors.map((error) => ({
        file: PLUGIN_CONFIG_FILE,
        pointer: '',
        ...(error.linePos ? { line: error.linePos[0].line, column: error.linePos[0].col } : {}),
        message: `is not valid YAML: ${(error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`,
        fix: 'correct the YAML syntax at that place',
      })),
    };
  }
  return validatePluginConfig(dir, document.toJS());
}
