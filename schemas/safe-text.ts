import { ValidationError } from '../errors/index.js';

/**
 * Characters no name may hold: C0 and C1 controls and DEL (a newline or escape sequence in a name rewrites terminal
 * output and logs) and the bidirectional marks, embeddings, overrides and isolates (they make a name read as another).
 */
export const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

/** What is wrong with `value`, or null when it holds no {@link UNSAFE_TEXT} character. */
export function unsafeTextIssue(value: string): string | null {
  const found = UNSAFE_TEXT.exec(value)?.[0];
  if (found === undefined) return null;
  const code = `U+${(found.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  return `holds ${code}: control characters and bidirectional overrides are not allowed`;
}

/** Refuses (ValidationError naming `pointer`) a name holding a control character or a bidirectional override. */
export function checkSafeText(value: string, pointer: string, what: string): void {
  const issue = unsafeTextIssue(value);
  if (issue)
    throw new ValidationError(
      `${what} ${JSON.stringify(value)} is not allowed: it ${issue}.`,
      [{ pointer, message: issue }],
      {
        action: `Choose a ${what.toLowerCase()} of printable characters only.`,
      },
    );
}
