import { ValidationError } from '../errors/index.js';

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `20G`, `512M`, `1T`, `1048576` (binary units) to bytes; anything else is a clear error. */
export function parseSize(value: string, option = '--size'): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(value.trim());
  const unit = match ? UNITS[(match[2] ?? '').toUpperCase()] : undefined;
  const bytes = match && unit !== undefined ? Math.floor(Number(match[1]) * unit) : NaN;
  if (!match || !Number.isFinite(bytes) || bytes <= 0) {
    throw new ValidationError(
      `${option} "${value}" is not a size.`,
      [{ pointer: '/size', message: 'expected a number with an optional K, M, G or T' }],
      { action: 'Give for example 20G or 512M.' },
    );
  }
  return bytes;
}
