// The dlpx.virtualization package Python plugins import (operations/python): its unit tests (test/python, Python's
// unittest, the standard library only) run here so that the test suite runs them.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

describe('dlpx.virtualization (Python)', () => {
  it('passes its unit tests under python3', () => {
    const run = spawnSync(
      'python3',
      [
        '-I',
        '-B',
        '-m',
        'unittest',
        'discover',
        '--start-directory',
        'test/python',
        '--top-level-directory',
        'test/python',
      ],
      { cwd: root, encoding: 'utf8', timeout: 60_000 },
    );
    const output = `${run.stdout}${run.stderr}`;
    expect(run.error).toBeUndefined();
    expect(output, output).toMatch(/\nOK\n/);
    expect(run.status, output).toBe(0);
    const ran = Number(/Ran (\d+) tests?/.exec(output)?.[1] ?? 0);
    expect(ran, output).toBeGreaterThanOrEqual(41);
  });
});
