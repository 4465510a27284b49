import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { parse } from 'yaml';
import { implementedOperations, migrationIdsOf } from '../../operations/sdk/index.js';

export async function bundleForTest(dir: string, out: string): Promise<string> {
  const config = parse(await readFile(join(dir, 'plugin.yml'), 'utf8'));
  const schemas = JSON.parse(await readFile(join(dir, 'schema.json'), 'utf8'));
  const result = await build({ entryPoints: [join(dir, config.entryPoint)], bundle: true, format: 'esm', platform: 'node', write: false, alias: { 'dvx/sdk': resolve('operations/sdk/index.ts') } });
  const code = result.outputFiles[0]!.text;
  const module = await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
  const artifact = { formatVersion: 1, manifest: { ...config, hostTypes: config.hostTypes, operations: implementedOperations(module.default), migrationIds: migrationIdsOf(module.default) }, schemas, code, codeSha256: createHash('sha256').update(code).digest('hex'), builtAt: new Date().toISOString() };
  await writeFile(out, JSON.stringify(artifact));
  return out;
}
