// `dvx plugin build` refuses bad plugin.yml and schema.json files, naming the file, the JSON pointer and a fix.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlugin, type PluginBuildIssue } from '../../operations/toolchain/index.js';
import { must } from '../harness/must.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { buildFailure, copyPlugin, editConfig, editSchema, propertiesOf, scaffold } from './plugin-fixtures.js';

let temp: { path: string; remove(): Promise<void> };
let base: string;
let count = 0;

beforeAll(async () => {
  temp = await makeTempDir('toolchain-bad');
  base = await scaffold(join(temp.path, 'base'), 'STAGED');
});
afterAll(async () => temp?.remove());

type Expected = { file: string; pointer: string; message: string; line?: number };
type Case = [title: string, change: (dir: string) => Promise<void>, expected: Expected];

const CASES: Case[] = [
  [
    'buildNumber written as a YAML number',
    (dir) => editConfig(dir, (c) => void (c.buildNumber = 1.5)),
    { file: 'plugin.yml', pointer: '/buildNumber', message: 'must be a string, not number 1.5' },
  ],
  [
    'buildNumber all zeros',
    (dir) => editConfig(dir, (c) => void (c.buildNumber = '0.0.0')),
    { file: 'plugin.yml', pointer: '/buildNumber', message: 'is "0.0.0", which is not in the expected form' },
  ],
  [
    'buildNumber with letters',
    (dir) => editConfig(dir, (c) => void (c.buildNumber = '1.0-beta')),
    { file: 'plugin.yml', pointer: '/buildNumber', message: 'is "1.0-beta", which is not in the expected form' },
  ],
  [
    'a Windows host type',
    (dir) => editConfig(dir, (c) => void (c.hostTypes = ['WINDOWS'])),
    { file: 'plugin.yml', pointer: '/hostTypes/0', message: 'is "WINDOWS"; must be one of UNIX' },
  ],
  [
    'two host types',
    (dir) => editConfig(dir, (c) => void (c.hostTypes = ['UNIX', 'UNIX'])),
    { file: 'plugin.yml', pointer: '/hostTypes', message: 'must NOT have more than 1 items' },
  ],
  [
    'an unknown plugin type',
    (dir) => editConfig(dir, (c) => void (c.pluginType = 'HYBRID')),
    { file: 'plugin.yml', pointer: '/pluginType', message: 'is "HYBRID"; must be one of STAGED, DIRECT' },
  ],
  [
    'the vSDK language',
    (dir) => editConfig(dir, (c) => void (c.language = 'PYTHON311')),
    { file: 'plugin.yml', pointer: '/language', message: 'is "PYTHON311"; must be "TYPESCRIPT"' },
  ],
  [
    'no id',
    (dir) => editConfig(dir, (c) => void delete c.id),
    { file: 'plugin.yml', pointer: '/id', message: 'is required' },
  ],
  [
    'an id that is neither a UUID nor a reverse-DNS name',
    (dir) => editConfig(dir, (c) => void (c.id = 'My Plugin')),
    { file: 'plugin.yml', pointer: '/id', message: 'is "My Plugin", which is not in the expected form' },
  ],
  [
    'a field of an old vSDK (version)',
    (dir) => editConfig(dir, (c) => void (c.version = '1.0')),
    { file: 'plugin.yml', pointer: '/version', message: 'is not a known field' },
  ],
  [
    'srcDir outside the plugin',
    (dir) => editConfig(dir, (c) => void (c.srcDir = '../elsewhere')),
    {
      file: 'plugin.yml',
      pointer: '/srcDir',
      message: 'is "../elsewhere", which is not a sub-directory of the plugin directory',
    },
  ],
  [
    'an entry point that does not exist',
    (dir) => editConfig(dir, (c) => void (c.entryPoint = 'src/main.ts')),
    { file: 'plugin.yml', pointer: '/entryPoint', message: 'is "src/main.ts", which does not exist' },
  ],
  [
    'a vSDK module:symbol entry point',
    (dir) => editConfig(dir, (c) => void (c.entryPoint = 'plugin_runner:plugin')),
    {
      file: 'plugin.yml',
      pointer: '/entryPoint',
      message: 'is "plugin_runner:plugin", which is not in the expected form',
    },
  ],
  [
    'luaName without minimumLuaVersion',
    (dir) => editConfig(dir, (c) => void (c.luaName = 'old-toolkit')),
    { file: 'plugin.yml', pointer: '/minimumLuaVersion', message: 'must be set together with luaName' },
  ],
  [
    'YAML that does not parse',
    (dir) => writeFile(join(dir, 'plugin.yml'), 'id: x\nname: [unclosed\n'),
    { file: 'plugin.yml', pointer: '', message: 'is not valid YAML', line: 3 },
  ],
  [
    'an empty plugin.yml',
    (dir) => writeFile(join(dir, 'plugin.yml'), ''),
    { file: 'plugin.yml', pointer: '', message: 'must be an object' },
  ],
  [
    'no plugin.yml at all',
    (dir) => rm(join(dir, 'plugin.yml')),
    { file: 'plugin.yml', pointer: '', message: 'is missing from' },
  ],
  [
    'no schema file where plugin.yml says',
    (dir) => editConfig(dir, (c) => void (c.schemaFile = 'schemas/plugin.json')),
    { file: 'schemas/plugin.json', pointer: '', message: 'is missing from' },
  ],
  [
    'a repository definition without identityFields',
    (dir) => editSchema(dir, (s) => void delete must(s.repositoryDefinition, 'repositoryDefinition').identityFields),
    { file: 'schema.json', pointer: '/repositoryDefinition/identityFields', message: 'is required' },
  ],
  [
    'a source config definition without nameField',
    (dir) => editSchema(dir, (s) => void delete must(s.sourceConfigDefinition, 'sourceConfigDefinition').nameField),
    { file: 'schema.json', pointer: '/sourceConfigDefinition/nameField', message: 'is required' },
  ],
  [
    'identityFields naming no property',
    (dir) =>
      editSchema(dir, (s) => void (must(s.repositoryDefinition, 'repositoryDefinition').identityFields = ['rootDir'])),
    {
      file: 'schema.json',
      pointer: '/repositoryDefinition/identityFields/0',
      message: 'is "rootDir", which is not a property of repositoryDefinition',
    },
  ],
  [
    'nameField naming no property',
    (dir) =>
      editSchema(dir, (s) => void (must(s.sourceConfigDefinition, 'sourceConfigDefinition').nameField = 'title')),
    {
      file: 'schema.json',
      pointer: '/sourceConfigDefinition/nameField',
      message: 'is "title", which is not a property of sourceConfigDefinition',
    },
  ],
  [
    'nameField naming a non-string property',
    (dir) => editSchema(dir, (s) => void (must(propertiesOf(s.repositoryDefinition).name, 'name').type = 'integer')),
    {
      file: 'schema.json',
      pointer: '/repositoryDefinition/properties/name/type',
      message: 'the nameField property must be a string',
    },
  ],
  [
    'empty identityFields',
    (dir) => editSchema(dir, (s) => void (must(s.repositoryDefinition, 'repositoryDefinition').identityFields = [])),
    {
      file: 'schema.json',
      pointer: '/repositoryDefinition/identityFields',
      message: 'must NOT have fewer than 1 items',
    },
  ],
  [
    'identityFields on the linked source definition',
    (dir) =>
      editSchema(
        dir,
        (s) => void (must(s.linkedSourceDefinition, 'linkedSourceDefinition').identityFields = ['mountLocation']),
      ),
    { file: 'schema.json', pointer: '/linkedSourceDefinition/identityFields', message: 'is not allowed here' },
  ],
  [
    'nameField on the snapshot definition',
    (dir) => editSchema(dir, (s) => void (must(s.snapshotDefinition, 'snapshotDefinition').nameField = 'takenAt')),
    { file: 'schema.json', pointer: '/snapshotDefinition/nameField', message: 'is not allowed here' },
  ],
  [
    'a missing definition',
    (dir) => editSchema(dir, (s) => void delete s.snapshotParametersDefinition),
    { file: 'schema.json', pointer: '/snapshotParametersDefinition', message: 'is required' },
  ],
  [
    'an extra top-level definition',
    (dir) => editSchema(dir, (s) => void (s.virtualToPhysicalDefinition = { type: 'object' })),
    { file: 'schema.json', pointer: '/virtualToPhysicalDefinition', message: 'is not a known field' },
  ],
  [
    'a definition that is not an object schema',
    (dir) => editSchema(dir, (s) => void (must(s.snapshotDefinition, 'snapshotDefinition').type = 'array')),
    { file: 'schema.json', pointer: '/snapshotDefinition/type', message: 'is "array"; must be "object"' },
  ],
  [
    'a type draft-07 does not know',
    (dir) =>
      editSchema(dir, (s) => void (must(propertiesOf(s.snapshotParametersDefinition).resync, 'resync').type = 'bool')),
    {
      file: 'schema.json',
      pointer: '/snapshotParametersDefinition/properties/resync/type',
      message: 'is "bool"; must be one of array, boolean, integer, null, number, object, string',
    },
  ],
  [
    'an unknown format',
    (dir) =>
      editSchema(
        dir,
        (s) => void (must(propertiesOf(s.virtualSourceDefinition).mountLocation, 'mountLocation').format = 'unixpth'),
      ),
    {
      file: 'schema.json',
      pointer: '/virtualSourceDefinition/properties/mountLocation/format',
      message: 'is "unixpth", which is not a known format',
    },
  ],
  [
    'a password format on a number',
    (dir) =>
      editSchema(
        dir,
        (s) => void (propertiesOf(s.linkedSourceDefinition).port = { type: 'integer', format: 'password' }),
      ),
    {
      file: 'schema.json',
      pointer: '/linkedSourceDefinition/properties/port/type',
      message: 'format password applies to strings',
    },
  ],
  [
    'a reference without referenceType',
    (dir) =>
      editSchema(
        dir,
        (s) => void (propertiesOf(s.linkedSourceDefinition).environment = { type: 'string', format: 'reference' }),
      ),
    {
      file: 'schema.json',
      pointer: '/linkedSourceDefinition/properties/environment/referenceType',
      message: 'is required with format reference',
    },
  ],
  [
    'a recordSizeInKB that is not an integer',
    (dir) => editSchema(dir, (s) => void (propertiesOf(s.linkedSourceDefinition).recordSizeInKB = { type: 'string' })),
    {
      file: 'schema.json',
      pointer: '/linkedSourceDefinition/properties/recordSizeInKB/type',
      message: 'is "string"; must be "integer"',
    },
  ],
  [
    'a $ref that goes nowhere',
    (dir) => editSchema(dir, (s) => void (propertiesOf(s.snapshotDefinition).takenAt = { $ref: '#/definitions/time' })),
    { file: 'schema.json', pointer: '/snapshotDefinition', message: 'cannot be compiled' },
  ],
  [
    'JSON that does not parse',
    (dir) => writeFile(join(dir, 'schema.json'), '{\n  "repositoryDefinition": {,\n}\n'),
    { file: 'schema.json', pointer: '', message: 'is not valid JSON', line: 2 },
  ],
];

describe('dvx plugin build refuses a bad plugin', () => {
  it.each(CASES)('%s', async (_title, change, expected) => {
    const dir = await copyPlugin(base, join(temp.path, `case-${(count += 1)}`));
    await change(dir);
    const error = await buildFailure(dir);
    expect(error.code).toBe('VALIDATION_FAILED');
    const issue = error.issues.find(
      (candidate) =>
        candidate.file === expected.file &&
        candidate.pointer === expected.pointer &&
        candidate.message.includes(expected.message),
    );
    expect(issue, `expected ${JSON.stringify(expected)} among ${JSON.stringify(error.issues, null, 2)}`).toBeDefined();
    if (expected.line !== undefined) expect(issue?.line).toBe(expected.line);
    expect(issue?.fix, 'every error says what would fix it').toBeTruthy();
    // The message the CLI prints names the file, the pointer (or line) and the problem.
    const where =
      expected.line !== undefined
        ? `${expected.file}:${expected.line}`
        : expected.pointer
          ? `${expected.file}#${expected.pointer}`
          : `${expected.file}: `;
    expect(error.message).toContain(`${where}`);
    expect(error.message).toContain(expected.message);
  });

  it('reports every problem of plugin.yml and schema.json at once, not just the first', async () => {
    const dir = await copyPlugin(base, join(temp.path, 'many'));
    await editConfig(dir, (c) => {
      c.buildNumber = '0';
      c.pluginType = 'staged';
    });
    await editSchema(dir, (s) => {
      delete must(s.repositoryDefinition, 'repositoryDefinition').nameField;
      must(s.virtualSourceDefinition, 'virtualSourceDefinition').identityFields = ['mountLocation'];
    });
    const error = await buildFailure(dir);
    const where = (issue: PluginBuildIssue) => `${issue.file}#${issue.pointer}`;
    expect(error.issues.map(where).sort()).toEqual([
      'plugin.yml#/buildNumber',
      'plugin.yml#/pluginType',
      'schema.json#/repositoryDefinition/nameField',
      'schema.json#/virtualSourceDefinition/identityFields',
    ]);
    expect(error.message).toMatch(/failed validation with 4 errors/);
  });

  it('accepts what the vSDK allows: a reference type in either spelling, dxFormProperties, ordering, a UUID or reverse-DNS id', async () => {
    const dir = await copyPlugin(base, join(temp.path, 'allowed'));
    await editConfig(dir, (c) => void (c.id = 'com.example.files'));
    await editSchema(dir, (s) => {
      propertiesOf(s.linkedSourceDefinition).environment = {
        type: 'string',
        format: 'reference',
        referenceType: 'UnixHostEnvironment',
      };
      propertiesOf(s.linkedSourceDefinition).user = {
        type: 'string',
        format: 'reference',
        referenceType: 'HOST_USER',
        matches: 'environment',
      };
      propertiesOf(s.linkedSourceDefinition).recordSizeInKB = { type: 'integer' };
      propertiesOf(s.linkedSourceDefinition).notes = {
        type: 'string',
        prettyName: 'Notes',
        dxFormProperties: { rows: 4 },
      };
      must(s.linkedSourceDefinition, 'linkedSourceDefinition').ordering = ['mountLocation', 'environment', 'user'];
    });
    const built = await buildPlugin({ dir, out: join(dir, 'out.json') });
    expect(built.artifact.manifest.id).toBe('com.example.files');
    expect(built.artifact.schemas.linkedSourceDefinition).toMatchObject({
      ordering: ['mountLocation', 'environment', 'user'],
    });
  });
});
