import { isSecretKey, REDACTED, redactSecrets } from '../../log/redact.js';
import type { PluginArtifact, SchemaDefinitionName } from '../plugin-artifact.js';

/** Shorter values are not replaced in text: too likely to match innocent words. */
const MIN_SECRET_LENGTH = 4;

type Schema = {
  format?: unknown;
  properties?: Record<string, Schema>;
  items?: Schema | Schema[];
  additionalProperties?: unknown;
};

function collect(value: unknown, schema: Schema | undefined, key: string | undefined, into: Set<string>): void {
  if (typeof value === 'string') {
    if ((schema?.format === 'password' || (key !== undefined && isSecretKey(key))) && value.length >= MIN_SECRET_LENGTH)
      into.add(value);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) =>
      collect(item, Array.isArray(schema?.items) ? schema.items[index] : schema?.items, key, into),
    );
    return;
  }
  if (!value || typeof value !== 'object') return;
  for (const [name, item] of Object.entries(value)) {
    const additional =
      schema?.additionalProperties && typeof schema.additionalProperties === 'object'
        ? (schema.additionalProperties as Schema)
        : undefined;
    collect(item, schema?.properties?.[name] ?? additional, name, into);
  }
}

const ARGUMENT_DEFINITIONS: Record<string, SchemaDefinitionName> = {
  repository: 'repositoryDefinition',
  sourceConfig: 'sourceConfigDefinition',
  snapshot: 'snapshotDefinition',
  snapshotParameters: 'snapshotParametersDefinition',
};
const SOURCE_DEFINITIONS: Record<string, SchemaDefinitionName> = {
  stagedSource: 'linkedSourceDefinition',
  directSource: 'linkedSourceDefinition',
  virtualSource: 'virtualSourceDefinition',
};

/**
 * Keeps the secrets an operation handles out of what the engine logs or reports: values of password fields (by the
 * plugin's schemas) and of secret-named properties in its arguments, and credentials handed to the plugin.
 */
export class SecretScrubber {
  private readonly secrets = new Set<string>();

  constructor(artifact: PluginArtifact, args: Record<string, unknown>) {
    for (const [name, value] of Object.entries(args)) {
      const definition = ARGUMENT_DEFINITIONS[name];
      const source = SOURCE_DEFINITIONS[name];
      if (definition) collect(value, artifact.schemas[definition] as Schema, name, this.secrets);
      else if (source && value && typeof value === 'object') {
        const { parameters, ...rest } = value as Record<string, unknown>;
        collect(parameters, artifact.schemas[source] as Schema, 'parameters', this.secrets);
        collect(rest, undefined, name, this.secrets);
      } else collect(value, undefined, name, this.secrets);
    }
  }

  /** Remembers more secrets (credentials the plugin retrieved). */
  add(value: unknown): void {
    collect(value, undefined, undefined, this.secrets);
  }

  /** `text` with every known secret replaced. */
  text(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  }

  /** A copy of `value` with secret-named properties and every known secret in strings replaced. */
  value<T>(value: T): T {
    const redacted = redactSecrets(value);
    const walk = (item: unknown): unknown => {
      if (typeof item === 'string') return this.text(item);
      if (Array.isArray(item)) return item.map(walk);
      if (item && typeof item === 'object')
        return Object.fromEntries(Object.entries(item).map(([key, entry]) => [key, walk(entry)]));
      return item;
    };
    return walk(redacted) as T;
  }
}
