/**
 * An error for the user to act on: dvx shows its message, action and output as the plugin wrote them, and fails the
 * step at once (no retry). Any other error a plugin throws is reported as a plugin fault, with its stack.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    /** What the user can do about it. */
    readonly action?: string,
    /** Output that explains it (a command's stderr, say). */
    readonly output?: string,
  ) {
    super(message);
  }
}
