import { StorageError } from '../errors/index.js';

const STORAGE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/**
 * Refuses an id that is not a plain name: letters, digits, ".", "_" and "-", starting with a letter or digit, at most
 * 200 characters. No "/" and no leading dot, so an id can never name a path outside its folder (or a temp entry).
 */
export function checkStorageId(id: string, what: 'dataset' | 'snapshot' | 'dataset or snapshot'): string {
  if (typeof id !== 'string' || !STORAGE_ID.test(id)) {
    throw new StorageError({
      code: 'STORAGE_FAILED',
      retryable: false,
      message: `${JSON.stringify(String(id))} is not a valid ${what} id.`,
      action: 'Use letters, digits, ".", "_" and "-" only, starting with a letter or digit (at most 200 characters).',
      details: { id: String(id), expected: STORAGE_ID.source },
    });
  }
  return id;
}
