import { readFileSync } from 'node:fs';
import { ValidationError } from '../errors/index.js';

/**
 * Plugin parameters from `--parameters JSON` or `--parameters @FILE`: an object, or a clear error saying what is
 * wrong with it.
 */
export function parseParameters(
  value: string | undefined,
  option = '--parameters',
): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = readFileSync(value.slice(1), 'utf8');
    } catch (error) {
      throw new ValidationError(
        `${option}: cannot read ${value.slice(1)}: ${(error as Error).message}.`,
        [{ pointer: '/parameters', message: 'unreadable file' }],
        { action: 'Give a readable JSON file after @.' },
      );
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(
      `${option} is not valid JSON: ${(error as Error).message}.`,
      [{ pointer: '/parameters', message: 'invalid JSON' }],
      { action: `Give a JSON object, e.g. ${option} '{"mountLocation":"/mnt/vdb1"}', or ${option} @params.json.` },
    );
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ValidationError(
      `${option} must be a JSON object.`,
      [{ pointer: '/parameters', message: 'not an object' }],
      { action: `Give a JSON object, e.g. ${option} '{"mountLocation":"/mnt/vdb1"}'.` },
    );
  }
  return parsed as Record<string, unknown>;
}
