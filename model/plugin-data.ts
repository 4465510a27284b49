import type { PluginArtifact, SchemaDefinitionName } from '../schemas/plugin-artifact.js';
import { mapPasswordFields } from './schema-secrets.js';
import { SecretBox } from './secret-box.js';

/** Plugin data as the plugin sees it: password fields unsealed. */
export function openPluginData<T>(
  services: { secrets: SecretBox },
  artifact: PluginArtifact,
  definition: SchemaDefinitionName,
  data: T,
): T {
  return mapPasswordFields(data, artifact.schemas[definition], (value) =>
    SecretBox.isSealed(value) ? services.secrets.open(value) : value,
  ) as T;
}

/** Plugin data as it is stored: password fields sealed. */
export function sealPluginData<T>(
  services: { secrets: SecretBox },
  artifact: PluginArtifact,
  definition: SchemaDefinitionName,
  data: T,
): T {
  return mapPasswordFields(data, artifact.schemas[definition], (value) =>
    SecretBox.isSealed(value) ? value : services.secrets.seal(value),
  ) as T;
}
