import { createHash } from 'node:crypto';
import { ValidationError } from '../errors/index.js';
import { OPERATION_NAMES, SCHEMA_DEFINITIONS, type PluginArtifact } from './plugin-artifact.js';

/** Checks that an uploaded body is a dvx plugin artifact, naming what is wrong. */
export function checkArtifact(body: unknown): PluginArtifact {
  const issues: { pointer: string; message: string }[] = [];
  const artifact = body as Partial<PluginArtifact> | null;
  if (!artifact || typeof artifact !== 'object')
    throw new ValidationError(
      'The body is not a plugin artifact.',
      [{ pointer: '', message: 'expected the JSON object `dvx plugin build` writes' }],
      { action: 'Upload build/artifact.json of a built plugin.' },
    );
  if (artifact.formatVersion !== 1) issues.push({ pointer: '/formatVersion', message: 'must be 1' });
  const manifest = artifact.manifest;
  if (!manifest || typeof manifest !== 'object') issues.push({ pointer: '/manifest', message: 'is missing' });
  else {
    for (const field of ['id', 'name', 'buildNumber', 'externalVersion'] as const)
      if (typeof manifest[field] !== 'string' || !manifest[field])
        issues.push({ pointer: `/manifest/${field}`, message: 'must be a non-empty string' });
    if (manifest.pluginType !== 'STAGED' && manifest.pluginType !== 'DIRECT')
      issues.push({ pointer: '/manifest/pluginType', message: 'must be STAGED or DIRECT' });
    if (
      !Array.isArray(manifest.operations) ||
      manifest.operations.some((op) => !(OPERATION_NAMES as readonly string[]).includes(op))
    )
      issues.push({ pointer: '/manifest/operations', message: 'must list known operation names' });
  }
  for (const definition of SCHEMA_DEFINITIONS) {
    if (!artifact.schemas || typeof artifact.schemas[definition] !== 'object')
      issues.push({ pointer: `/schemas/${definition}`, message: 'is missing' });
  }
  if (typeof artifact.code !== 'string' || !artifact.code) issues.push({ pointer: '/code', message: 'is missing' });
  else if (createHash('sha256').update(artifact.code).digest('hex') !== artifact.codeSha256)
    issues.push({
      pointer: '/codeSha256',
      message: 'does not match the code: the artifact was changed after it was built',
    });
  if (issues.length) {
    throw new ValidationError(
      `This is not a valid plugin artifact: ${issues.map((issue) => `${issue.pointer} ${issue.message}`).join('; ')}.`,
      issues,
      { action: 'Build the plugin again with `dvx plugin build` and upload build/artifact.json.' },
    );
  }
  return artifact as PluginArtifact;
}
