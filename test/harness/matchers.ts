import { expect } from 'vitest';

// vitest types its asymmetric matchers as `any`, which the no-unsafe-* lint rules then flag wherever one stands for
// a field; these give each the type of the value it stands for.

/** `expect.stringContaining`, as the string it matches. */
export function stringContaining(text: string): string {
  return expect.stringContaining(text) as string;
}

/** `expect.stringMatching`, as the string it matches. */
export function stringMatching(pattern: string | RegExp): string {
  return expect.stringMatching(pattern) as string;
}

/** `expect.objectContaining`, as the object it matches. */
export function objectContaining<T extends Record<string, unknown>>(shape: T): T {
  return expect.objectContaining<Record<string, unknown>>(shape) as T;
}
