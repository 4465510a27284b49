import { ValidationError } from '../errors/index.js';
import { definitionValidator, issuesOf, type PluginArtifact, type SchemaDefinitionName } from '../operations/index.js';

/**
 * Checks user-given plugin data (parameters of a link or provision, a manual source config) against the plugin's
 * schema. Refuses with every problem and its JSON pointer under `pointer`.
 */
export function validatePluginData(
  artifact: PluginArtifact,
  definition: SchemaDefinitionName,
  data: unknown,
  pointer: string,
): asserts data is Record<string, unknown> {
  const validate = definitionValidator(artifact, definition);
  if (validate(data)) return;
  const issues = issuesOf(validate, pointer);
  throw new ValidationError(
    `The ${definition.replace(/Definition$/, '')} data does not match plugin ${artifact.manifest.name}'s schema: ${issues.map((issue) => `${issue.pointer} ${issue.message}`).join('; ')}.`,
    issues,
    { action: `Fix the fields named; the schema is the plugin's ${definition}.` },
  );
}
