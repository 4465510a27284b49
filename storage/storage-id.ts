import { StorageError } from '../errors/index.js';

const STORAGE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Refuses an id that is not a plain name (no path separators, no leading dot), so no path can escape the pool. */
export function checkStorageId(id: string, what: 'dataset' | 'snapshot'): string {
  if (typeof id !== 'string' || !STORAGE_ID.test(id) || id.includes('..')) {
    throw new StorageError({ code: 'STORAGE_FAILED', retryable: false, message: `"${String(id)}" is not a valid ${what} id.`, action: 'Use letters, digits, ".", "_" and "-" only, starting with a letter or digit.' });
  }
  return id;
}
