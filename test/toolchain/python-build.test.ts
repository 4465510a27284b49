// `dvx plugin build` of a Python (vSDK) plugin directory as its authors have it: plugin_config.yml, schema.json and
// srcDir; the operations and migrations read by importing the entry point under dvx's dlpx.virtualization; PYTHON27,
// import errors and wrong argument names refused with the file, the pointer or line, and a fix.
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PythonCode } from '../../operations/plugin-artifact.js';
import { buildPlugin, PluginBuildError } from '../../operations/toolchain/index.js';
import { makeTempDir } from '../harness/temp-dir.js';

let temp: { path: string; remove(): Promise<void> };
let count = 0;
/** The line of code appended to plugin_runner.py by {@link appendCode} (after one blank line). */
let appended: number;
/** The line of `language:` in plugin_config.yml. */
let languageLine: number;

beforeAll(async () => {
  temp = await makeTempDir('python-build');
  appended = (await readFile('plugins/python-dirtree/src/plugin_runner.py', 'utf8')).split('\n').length + 1;
  languageLine =
    (await readFile('plugins/python-dirtree/plugin_config.yml', 'utf8'))
      .split('\n')
      .findIndex((line) => line.startsWith('language:')) + 1;
});
afterAll(async () => temp?.remove());

/** A copy of plugins/python-dirtree, changed by `change`. */
async function plugin(change: (dir: string) => Promise<void> = async () => undefined): Promise<string> {
  const dir = join(temp.path, `plugin-${++count}`);
  await cp('plugins/python-dirtree', dir, { recursive: true, filter: (path) => !path.includes('/build') });
  await change(dir);
  return dir;
}

const editConfig = async (dir: string, edit: (text: string) => string) =>
  writeFile(join(dir, 'plugin_config.yml'), edit(await readFile(join(dir, 'plugin_config.yml'), 'utf8')));
const appendCode = async (dir: string, code: string) =>
  writeFile(
    join(dir, 'src', 'plugin_runner.py'),
    `${await readFile(join(dir, 'src', 'plugin_runner.py'), 'utf8')}\n${code}`,
  );

async function failure(dir: string): Promise<PluginBuildError> {
  const error = await buildPlugin({ dir, out: join(dir, 'out.json') }).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(PluginBuildError);
  return error as PluginBuildError;
}

describe('dvx plugin build of a Python (vSDK) plugin', () => {
  it('builds plugins/python-dirtree unchanged: the operations it implements, srcDir as it is', async () => {
    const dir = await plugin();
    await mkdir(join(dir, 'src', 'templates'));
    await writeFile(join(dir, 'src', 'templates', 'note.txt'), 'a resource\n');
    const { artifact, warnings } = await buildPlugin({ dir, out: join(dir, 'out.json') });
    expect(warnings).toEqual([]);
    expect(artifact.manifest).toMatchObject({
      id: '5c6a4f7e-2b8d-4d3e-9f1a-7e0b2c4d6a81',
      name: 'python-dirtree',
      language: 'PYTHON311',
      pluginType: 'STAGED',
      buildNumber: '1.0.0',
    });
    expect([...artifact.manifest.operations].sort()).toEqual(
      [
        'discovery.repository',
        'discovery.sourceConfig',
        'linked.mountSpecification',
        'linked.postSnapshot',
        'linked.preSnapshot',
        'virtual.configure',
        'virtual.mountSpecification',
        'virtual.postSnapshot',
        'virtual.reconfigure',
      ].sort(),
    );
    const code = JSON.parse(artifact.code) as PythonCode;
    expect(code).toMatchObject({ format: 'dvx-python/1', entryPoint: 'plugin_runner:plugin', pluginType: 'STAGED' });
    expect(Object.keys(code.files).sort()).toEqual(['plugin_runner.py', 'templates/note.txt']);
    expect(Buffer.from(code.files['plugin_runner.py'] ?? '', 'base64').toString('utf8')).toBe(
      await readFile('plugins/python-dirtree/src/plugin_runner.py', 'utf8'),
    );
    expect(artifact.schemas.linkedSourceDefinition).toMatchObject({
      required: ['sourceAddress', 'username', 'mountLocation'],
    });
  });

  it('records the upgrade migrations by object type, in id order', async () => {
    const dir = await plugin((dir) =>
      appendCode(
        dir,
        [
          '@plugin.upgrade.repository("2021.10.1")',
          'def later(old_repository):',
          '    return old_repository',
          '',
          '@plugin.upgrade.repository("2021.2")',
          'def earlier(old_repository):',
          '    return old_repository',
          '',
          '@plugin.upgrade.snapshot("2021.5")',
          'def snap(old_snapshot):',
          '    return old_snapshot',
          '',
        ].join('\n'),
      ),
    );
    const { artifact } = await buildPlugin({ dir, out: join(dir, 'out.json') });
    expect(artifact.manifest.migrationIds).toEqual({
      repository: ['2021.2', '2021.10.1'],
      sourceConfig: [],
      linkedSource: [],
      virtualSource: [],
      snapshot: ['2021.5'],
    });
  });

  it('takes a vSDK 5.1 plugin: virtualToPhysicalDefinition and source_to_physical, kept but never run', async () => {
    const dir = await plugin(async (dir) => {
      const schema = JSON.parse(await readFile(join(dir, 'schema.json'), 'utf8')) as Record<string, unknown>;
      schema.virtualToPhysicalDefinition = {
        type: 'object',
        properties: { targetDirectory: { type: 'string', format: 'unixpath' } },
      };
      await writeFile(join(dir, 'schema.json'), JSON.stringify(schema));
      await appendCode(
        dir,
        [
          'from generated.definitions import VirtualToPhysicalDefinition',
          '',
          '@plugin.virtual.source_to_physical()',
          'def export(virtual_source, repository, source_config, physical_source):',
          '    return VirtualToPhysicalDefinition(target_directory="/x")',
          '',
        ].join('\n'),
      );
    });
    const { artifact, warnings } = await buildPlugin({ dir, out: join(dir, 'out.json') });
    expect(warnings).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/implements virtual.source_to_physical\(\), which dvx never runs/) as unknown,
      }),
    ]);
    expect(artifact.manifest.operations).toHaveLength(9);
    expect((artifact.schemas as Record<string, unknown>).virtualToPhysicalDefinition).toBeDefined();
  });

  it('refuses PYTHON27, saying why and what to do', async () => {
    const error = await failure(
      await plugin((dir) => editConfig(dir, (text) => text.replace('PYTHON311', 'PYTHON27'))),
    );
    expect(error.issues).toEqual([
      expect.objectContaining({
        file: 'plugin_config.yml',
        pointer: '/language',
        line: languageLine,
        message: expect.stringMatching(/^is PYTHON27: dvx does not run Python 2\.7 plugins/) as unknown,
        fix: expect.stringMatching(/port the plugin to Python 3.*set language: PYTHON311/) as unknown,
      }),
    ]);
  });

  it('refuses a bad plugin_config.yml with the pointer and a fix', async () => {
    const entry = await failure(
      await plugin((dir) => editConfig(dir, (text) => text.replace('plugin_runner:plugin', 'src/plugin_runner.py'))),
    );
    expect(entry.issues).toEqual([
      expect.objectContaining({
        file: 'plugin_config.yml',
        pointer: '/entryPoint',
        fix: expect.stringMatching(/MODULE:ATTRIBUTE/) as unknown,
      }),
    ]);
    const module = await failure(
      await plugin((dir) => editConfig(dir, (text) => text.replace('plugin_runner:plugin', 'runner:plugin'))),
    );
    expect(module.issues[0]).toMatchObject({
      pointer: '/entryPoint',
      message: expect.stringMatching(/names module "runner", which is not a module of srcDir "src"/) as unknown,
    });
    const windows = await failure(
      await plugin((dir) => editConfig(dir, (text) => text.replace('- UNIX', '- WINDOWS'))),
    );
    expect(windows.issues[0]).toMatchObject({ file: 'plugin_config.yml', pointer: '/hostTypes/0' });
  });

  it('reports an import error with the plugin file and line', async () => {
    const error = await failure(await plugin((dir) => appendCode(dir, 'import not_a_module_anywhere\n')));
    expect(error.issues).toEqual([
      expect.objectContaining({
        file: 'src/plugin_runner.py',
        line: appended,
        message: expect.stringMatching(
          /importing plugin_runner:plugin failed: ModuleNotFoundError: No module named 'not_a_module_anywhere'/,
        ) as unknown,
      }),
    ]);
    const syntax = await failure(await plugin((dir) => appendCode(dir, 'def broken(:\n')));
    expect(syntax.issues[0]).toMatchObject({
      file: 'src/plugin_runner.py',
      line: appended,
      message: expect.stringMatching(/SyntaxError/) as unknown,
    });
    const twice = await failure(
      await plugin((dir) =>
        appendCode(dir, '@plugin.virtual.configure()\ndef again(virtual_source, snapshot, repository):\n    pass\n'),
      ),
    );
    expect(twice.issues[0]).toMatchObject({
      line: appended,
      message: expect.stringMatching(
        /OperationAlreadyDefinedError: An implementation for the virtual.configure\(\) operation has already been defined/,
      ) as unknown,
    });
  });

  it('refuses operations whose arguments are not named as the vSDK passes them, with the line', async () => {
    const error = await failure(
      await plugin((dir) =>
        appendCode(dir, '@plugin.virtual.stop()\ndef stop(source, repository, config):\n    pass\n'),
      ),
    );
    expect(error.issues).toEqual([
      expect.objectContaining({
        file: 'src/plugin_runner.py',
        line: appended,
        message: expect.stringMatching(/must declare \(virtual_source, repository, source_config\)/) as unknown,
      }),
    ]);
  });
});
