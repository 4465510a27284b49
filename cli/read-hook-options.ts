import { readFile } from 'node:fs/promises';
import { ValidationError } from '../errors/index.js';

/** `--hook event=file` options as a map of event to script text. */
export async function readHookOptions(values: string[] | undefined): Promise<Record<string, string> | undefined> {
  if (!values?.length) return undefined;
  const hooks: Record<string, string> = {};
  for (const value of values) {
    const [event, file] = value.split(/=(.*)/s, 2);
    if (!event || !file)
      throw new ValidationError(
        `--hook "${value}" is not EVENT=FILE.`,
        [{ pointer: '/hooks', message: 'expected EVENT=FILE' }],
        { action: 'For example: --hook configureClone=setup.sh' },
      );
    try {
      hooks[event] = await readFile(file, 'utf8');
    } catch (error) {
      throw new ValidationError(`Cannot read ${file}: ${(error as Error).message}.`, [
        { pointer: `/hooks/${event}`, message: 'unreadable file' },
      ]);
    }
  }
  return hooks;
}
