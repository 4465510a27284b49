/** What is shown of a failure: an ApiError, or an error a record or a run carries. */
export interface ShownError {
  message: string;
  code: string;
  action?: string | undefined;
}

/** An API or network failure: what happened and what to do, never a blank page. */
export function ErrorMessage({ error, onRetry }: { error: ShownError; onRetry?: () => void }) {
  return (
    <div class="error" role="alert">
      <p class="error-message">
        <strong>{error.message}</strong> <code class="error-code">{error.code}</code>
      </p>
      {error.action && <p class="error-action">What to do: {error.action}</p>}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
