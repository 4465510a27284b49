import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ValidateFunction } from 'ajv';
import { ValidationError } from '../../errors/index.js';
import { PLUGIN_ARTIFACT_SCHEMA } from '../../schemas/plugin-artifact.schema.js';
import { OPERATION_NAMES, type PluginArtifact } from '../plugin-artifact.js';
import { createPluginAjv } from '../schemas-of.js';
import { formatBuildIssue, type PluginBuildIssue } from './plugin-build-error.js';
import { schemaIssues } from './schema-issues.js';

let compiled: ValidateFunction | undefined;
const artifactValidator = () => (compiled ??= createPluginAjv().compile(PLUGIN_ARTIFACT_SCHEMA));

/** Checks that parsed JSON is a plugin artifact, naming each problem (JSON pointer) of `file`. */
export function checkArtifactShape(file: string, data: unknown): PluginBuildIssue[] {
  const validate = artifactValidator();
  if (!validate(data)) return schemaIssues(file, PLUGIN_ARTIFACT_SCHEMA, data, validate.errors);
  const artifact = data as PluginArtifact;
  const issues: PluginBuildIssue[] = [];
  artifact.manifest.operations.forEach((operation, index) => {
    if (!(OPERATION_NAMES as readonly string[]).includes(operation)) issues.push({ file, pointer: `/manifest/operations/${index}`, message: `is ${JSON.stringify(operation)}, which is not a plugin operation`, fix: 'build the plugin again with `dvx plugin build`' });
  });
  if (createHash('sha256').update(artifact.code).digest('hex') !== artifact.codeSha256) issues.push({ file, pointer: '/codeSha256', message: 'does not match the code: the artifact was changed after it was built', fix: 'build the plugin again with `dvx plugin build`' });
  return issues;
}

/** Reads a built plugin artifact (DIR/build/artifact.json), refusing with a ValidationError if it is not one. */
export async function loadArtifact(path: string): Promise<PluginArtifact> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ValidationError(`Cannot read the plugin artifact ${path}: ${(error as Error).message}.`, [{ pointer: '', message: 'is not a readable JSON file' }], { action: 'Build the plugin with `dvx plugin build DIR` and use DIR/build/artifact.json.' });
  }
  const issues = checkArtifactShape(path, data);
  if (issues.length) {
    throw new ValidationError(`${path} is not a valid plugin artifact:\n${issues.map((issue) => `  ${formatBuildIssue(issue)}`).join('\n')}`, issues, { action: 'Build the plugin again with `dvx plugin build` and use DIR/build/artifact.json.' });
  }
  return data as PluginArtifact;
}
