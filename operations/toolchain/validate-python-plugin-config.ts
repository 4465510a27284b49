import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { PYTHON_PLUGIN_CONFIG_SCHEMA, type PythonPluginConfig } from '../../schemas/python-plugin-config.schema.js';
import type { PluginBuildIssue } from './plugin-build-error.js';
import { lazyValidator, schemaIssues } from './schema-issues.js';

/** The plugin config file of a Python (vSDK) plugin directory. */
export const PYTHON_PLUGIN_CONFIG_FILE = 'plugin_config.yml';

/** What {@link readPythonPluginConfig} found: the config when it is valid, and every problem otherwise. */
export interface PythonPluginConfigReading {
  config?: PythonPluginConfig;
  issues: PluginBuildIssue[];
}

const configValidator = lazyValidator<PythonPluginConfig>(PYTHON_PLUGIN_CONFIG_SCHEMA);
const FILE = PYTHON_PLUGIN_CONFIG_FILE;

const isDirectory = (path: string) =>
  stat(path).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
const isFile = (path: string) =>
  stat(path).then(
    (stats) => stats.isFile(),
    () => false,
  );
const inside = (parent: string, child: string) => {
  const path = relative(parent, child);
  return path !== '' && !path.startsWith('..') && !isAbsolute(path);
};

/** Checks what the schema cannot: srcDir is a folder inside the plugin directory, the entry module is in it. */
async function checkPaths(dir: string, config: PythonPluginConfig): Promise<PluginBuildIssue[]> {
  const srcDir = resolve(dir, config.srcDir);
  if (!inside(dir, srcDir))
    return [
      {
        file: FILE,
        pointer: '/srcDir',
        message: `is ${JSON.stringify(config.srcDir)}, which is not a sub-directory of the plugin directory`,
        fix: 'set srcDir to the folder of the plugin sources inside the plugin directory, e.g. src',
      },
    ];
  if (!(await isDirectory(srcDir)))
    return [
      {
        file: FILE,
        pointer: '/srcDir',
        message: `is ${JSON.stringify(config.srcDir)}, which is not a directory`,
        fix: `create ${config.srcDir}/ or point srcDir at the folder of the plugin sources`,
      },
    ];
  const module = config.entryPoint.split(':')[0] ?? '';
  const path = join(srcDir, ...module.split('.'));
  if (
    !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(module) ||
    !((await isFile(`${path}.py`)) || (await isFile(join(path, '__init__.py'))))
  )
    return [
      {
        file: FILE,
        pointer: '/entryPoint',
        message: `names module ${JSON.stringify(module)}, which is not a module of srcDir ${JSON.stringify(config.srcDir)}`,
        fix: `set entryPoint to MODULE:ATTRIBUTE where ${config.srcDir}/MODULE.py defines the plugin (e.g. plugin_runner:plugin)`,
      },
    ];
  return [];
}

/** Reads and validates DIR/plugin_config.yml (YAML syntax, the vSDK keys with dvx's values, paths). */
export async function readPythonPluginConfig(dir: string): Promise<PythonPluginConfigReading> {
  let text: string;
  try {
    text = await readFile(join(dir, FILE), 'utf8');
  } catch {
    return { issues: [{ file: FILE, pointer: '', message: `is missing from ${dir}` }] };
  }
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length) {
    return {
      issues: document.errors.map((error) => ({
        file: FILE,
        pointer: '',
        ...(error.linePos ? { line: error.linePos[0].line, column: error.linePos[0].col } : {}),
        message: `is not valid YAML: ${(error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`,
        fix: 'correct the YAML syntax at that place',
      })),
    };
  }
  const data = document.toJS() as unknown;
  if (data && typeof data === 'object' && (data as { language?: unknown }).language === 'PYTHON27') {
    const line = lineOf(text, 'language');
    return {
      issues: [
        {
          file: FILE,
          pointer: '/language',
          ...(line ? { line } : {}),
          message:
            'is PYTHON27: dvx does not run Python 2.7 plugins (Python 2 is out of support since 2020, and dvx runs plugins with Python 3.11, as the vSDK 5 does; the Delphix engine refuses new Python 2.7 uploads too)',
          fix: 'port the plugin to Python 3 (print(), str and bytes, dict views, integer division; the vSDK 4.x/5.x upgrade notes list the changes), then set language: PYTHON311',
        },
      ],
    };
  }
  const validate = configValidator();
  if (!validate(data))
    return {
      issues: schemaIssues(
        FILE,
        PYTHON_PLUGIN_CONFIG_SCHEMA,
        data,
        validate.errors,
        'see the plugin config fields of the vSDK (plugin_config.yml)',
      ),
    };
  const issues = await checkPaths(dir, data);
  return issues.length ? { issues } : { config: data, issues };
}

function lineOf(text: string, key: string): number | undefined {
  const index = text.split('\n').findIndex((line) => new RegExp(`^${key}\\s*:`).test(line));
  return index < 0 ? undefined : index + 1;
}
