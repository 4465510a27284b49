// The real `dvx plugin init` and `dvx plugin build` commands, as a user runs them (from the sources: bin/dvx.js runs
// the compiled dist/, which a test must not depend on being fresh). Each command loads the whole CLI through tsx,
// hence the long timeouts.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadArtifact } from '../../operations/toolchain/index.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { must } from '../harness/must.js';

const execFileAsync = promisify(execFile);
const repository = resolve('.');
let temp: { path: string; remove(): Promise<void> };

/** Runs `dvx ...args` in `cwd`; resolves with the exit code and output whatever the outcome. */
async function dvx(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const command = [
    process.execPath,
    ['--import', import.meta.resolve('tsx'), join(repository, 'test/toolchain/dvx-from-sources.ts'), ...args],
  ] as const;
  try {
    const { stdout, stderr } = await execFileAsync(command[0], command[1], { cwd });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeAll(async () => {
  temp = await makeTempDir('toolchain-cli');
});
afterAll(async () => temp?.remove());

describe('dvx plugin init / build', () => {
  it('creates a plugin, builds it from its own directory, and refuses a broken one with every error and a non-zero exit', async () => {
    const init = await dvx(temp.path, 'plugin', 'init', 'files', '--type', 'staged', '--name', 'Files');
    expect(init, init.stderr).toMatchObject({ code: 0 });
    expect(init.stdout).toMatch(/^created staged plugin Files \([0-9a-f-]{36}\) in /);

    const again = await dvx(temp.path, 'plugin', 'init', 'files', '--type', 'direct');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/error: .*files is not empty/);

    const build = await dvx(join(temp.path, 'files'), 'plugin', 'build');
    expect(build, build.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(build.stdout).toBe('built staged plugin Files 1.0.0 (build 1.0.0, 9 operations): build/artifact.json\n');
    expect((await loadArtifact(join(temp.path, 'files', 'build', 'artifact.json'))).manifest.name).toBe('Files');

    const config = join(temp.path, 'files', 'plugin.yml');
    await writeFile(
      config,
      (await readFile(config, 'utf8'))
        .replace('buildNumber: "1.0.0"', 'buildNumber: 1')
        .replace('pluginType: STAGED', 'pluginType: BOTH'),
    );
    const schema = join(temp.path, 'files', 'schema.json');
    const schemas = JSON.parse(await readFile(schema, 'utf8')) as Record<string, Record<string, unknown>>;
    delete must(schemas.repositoryDefinition, 'repositoryDefinition').identityFields;
    await writeFile(schema, JSON.stringify(schemas));
    const refused = await dvx(temp.path, 'plugin', 'build', 'files', '--out', 'elsewhere.json');
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('failed validation with 3 errors:');
    expect(refused.stderr).toContain(
      'plugin.yml#/buildNumber: must be a string, not number 1 (fix: set buildNumber to numbers separated by dots',
    );
    expect(refused.stderr).toContain(
      'plugin.yml#/pluginType: is "BOTH"; must be one of STAGED, DIRECT (fix: set pluginType to STAGED',
    );
    expect(refused.stderr).toContain(
      'schema.json#/repositoryDefinition/identityFields: is required (fix: set identityFields to the names of the properties',
    );
    expect(refused.stderr).toContain('code: VALIDATION_FAILED');
  }, 240_000);

  it('prints warnings for missing required operations and still writes the artifact where --out says', async () => {
    expect((await dvx(temp.path, 'plugin', 'init', 'sparse', '--type', 'DIRECT')).code).toBe(0);
    const source = join(temp.path, 'sparse', 'src', 'index.ts');
    await writeFile(source, (await readFile(source, 'utf8')).replace(/^\s*postSnapshot: .*\n/gm, ''));
    const build = await dvx(temp.path, 'plugin', 'build', 'sparse', '--out', 'sparse.json');
    expect(build, build.stderr).toMatchObject({ code: 0 });
    expect(build.stderr).toContain(
      'warning: src/index.ts: does not implement linked.postSnapshot, which a DIRECT plugin needs',
    );
    expect(build.stderr).toContain(
      'warning: src/index.ts: does not implement virtual.postSnapshot, which a DIRECT plugin needs',
    );
    expect(build.stdout).toContain('6 operations): sparse.json');
    expect((await loadArtifact(join(temp.path, 'sparse.json'))).manifest.operations).not.toContain(
      'virtual.postSnapshot',
    );
  }, 120_000);
});
