import { describe, expect, it } from 'vitest';
import { definitionValidator } from '../../operations/schemas-of.js';
import type { PluginArtifact } from '../../operations/plugin-artifact.js';
import { TEST_SCHEMAS } from '../fixtures/plugins/make-artifact.js';

function artifactWith(virtualSource: Record<string, unknown>): PluginArtifact {
  return {
    schemas: { ...TEST_SCHEMAS, virtualSourceDefinition: virtualSource },
    codeSha256: 'same-code',
  } as unknown as PluginArtifact;
}

describe('definitionValidator', () => {
  it("validates against each build's own schema, even when two builds share their code", () => {
    const loose = artifactWith({ type: 'object', properties: { port: { type: 'integer' } } });
    const strict = artifactWith({ type: 'object', required: ['port'], properties: { port: { type: 'integer' } } });
    expect(definitionValidator(loose, 'virtualSourceDefinition')({})).toBe(true);
    // A re-uploaded plugin whose schema now requires port must not be checked with the old validator.
    expect(definitionValidator(strict, 'virtualSourceDefinition')({})).toBe(false);
    expect(definitionValidator(strict, 'virtualSourceDefinition')({ port: 5432 })).toBe(true);
  });

  it('compiles a schema once, however often its artifact is read again', () => {
    const schema = { type: 'object', properties: { name: { type: 'string' } } };
    expect(definitionValidator(artifactWith(schema), 'virtualSourceDefinition')).toBe(
      definitionValidator(artifactWith(structuredClone(schema)), 'virtualSourceDefinition'),
    );
  });
});
