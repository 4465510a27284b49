import { readFile } from 'node:fs/promises';
import { ValidationError } from '../../errors/index.js';
import { checkArtifact } from '../check-artifact.js';
import type { PluginArtifact } from '../plugin-artifact.js';
import { formatBuildIssue } from './plugin-build-error.js';

const REBUILD = 'build the plugin again with `dvx plugin build`';

/**
 * Reads a built plugin artifact (DIR/build/artifact.json) and checks it as the engine does on upload, refusing with a
 * ValidationError that names each problem as `file#pointer: message`.
 */
export async function loadArtifact(path: string): Promise<PluginArtifact> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ValidationError(
      `Cannot read the plugin artifact ${path}: ${(error as Error).message}.`,
      [{ pointer: '', message: 'is not a readable JSON file' }],
      { action: 'Build the plugin with `dvx plugin build DIR` and use DIR/build/artifact.json.' },
    );
  }
  try {
    return checkArtifact(data);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const issues = error.issues.map((issue) => ({
      file: path,
      pointer: issue.pointer,
      message: issue.message,
      fix: REBUILD,
    }));
    throw new ValidationError(
      `${path} is not a valid plugin artifact:\n${issues.map((issue) => `  ${formatBuildIssue(issue)}`).join('\n')}`,
      issues,
      { action: 'Build the plugin again with `dvx plugin build` and use DIR/build/artifact.json.' },
    );
  }
}
