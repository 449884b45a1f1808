import { ApiError } from '../api/client';

/** An error shown where it happened, with the server's request id. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error as Error;
  const rid = error instanceof ApiError ? error.requestId : undefined;
  return (
    <div className="error-note" role="alert">
      {e.message || String(error)}
      {rid && <small className="reqid"> (request {rid})</small>}
    </div>
  );
}

/** The message for one form field, when the error names it. */
export function fieldError(error: unknown, field: string): string | undefined {
  return error instanceof ApiError && error.field === field ? error.message : undefined;
}
