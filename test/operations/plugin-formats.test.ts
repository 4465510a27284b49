// The formats the SDK documents are checked: `unixpath` (an absolute, normalised path of printable characters) and
// `reference` (a non-empty printable id); each failure says what is wrong, at the field's pointer.
import { describe, expect, it } from 'vitest';
import { definitionValidator, issuesOf } from '../../operations/schemas-of.js';
import type { PluginArtifact } from '../../operations/plugin-artifact.js';
import { TEST_SCHEMAS } from '../fixtures/plugins/make-artifact.js';

const artifact = {
  schemas: {
    ...TEST_SCHEMAS,
    virtualSourceDefinition: {
      type: 'object',
      properties: {
        path: { type: 'string', format: 'unixpath' },
        host: { type: 'string', format: 'reference', referenceType: 'UnixHostEnvironment' },
        secret: { type: 'string', format: 'password' },
        bytes: { type: 'integer' },
      },
    },
  },
  codeSha256: 'formats',
} as unknown as PluginArtifact;

const check = (data: Record<string, unknown>) => {
  const validate = definitionValidator(artifact, 'virtualSourceDefinition');
  return validate(data) ? [] : issuesOf(validate, '/parameters');
};

describe('plugin formats', () => {
  it('unixpath: absolute, normalised paths pass', () => {
    for (const path of ['/', '/srv/data', "/tmp/quote's $(x) 1", '/a/b.c/d-e_f', '/home/zoë'])
      expect(check({ path }), path).toEqual([]);
  });

  it('unixpath: anything else is refused, saying why', () => {
    for (const [path, message] of [
      ['', /non-empty/],
      ['relative/path', /must be an absolute path/],
      ['~/data', /must be an absolute path/],
      ['/a/./b', /must be a normalised path/],
      ['/a/../b', /must be a normalised path .*"\/b"/],
      ['//a', /must be a normalised path/],
      ['/a/', /must be a normalised path/],
      ['/a\nb', /holds U\+000A/],
      ['/a\u0000b', /holds U\+0000/],
      ['/a\u202eb', /holds U\+202E/],
      [`/${'x'.repeat(5000)}`, /at most 4096 bytes/],
    ] as const)
      expect(check({ path }), JSON.stringify(path)).toEqual([
        { pointer: '/parameters/path', message: expect.stringMatching(message) as string },
      ]);
  });

  it('a newline in a path is named at the path, not as an unrelated error elsewhere', () => {
    expect(check({ path: '/data\n', bytes: 12 })).toEqual([
      { pointer: '/parameters/path', message: expect.stringMatching(/control characters/) as string },
    ]);
  });

  it('reference: a non-empty printable id; password: any string', () => {
    expect(check({ host: 'env-1', secret: '\n\u202e anything' })).toEqual([]);
    expect(check({ host: '' })).toEqual([{ pointer: '/parameters/host', message: 'must be a non-empty reference' }]);
    expect(check({ host: 'env\u001b[1' })[0]?.pointer).toBe('/parameters/host');
  });
});
