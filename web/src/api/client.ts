// The API client. Paths, bodies and answers are typed from the server's own
// OpenAPI description (src/api/schema.d.ts is generated from
// fcgi/openapi.json at build time), so the editor and the server cannot
// drift apart without the build failing.
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];

/** One API error as the server answers it, with the request id to quote. */
export class ApiError extends Error {
  status: number;
  code: string;
  field?: string;
  requestId?: string;
  problems?: Problem[];
  details: Record<string, unknown>;
  constructor(status: number, body: unknown, requestId?: string | null) {
    const e = (body && typeof body === 'object' && 'error' in body ? (body as { error: Record<string, unknown> }).error : null) || {};
    const code = typeof e.code === 'string' ? e.code : status === 0 ? 'network' : 'http_' + status;
    const message = typeof e.message === 'string' ? e.message
      : status === 0 ? 'The server could not be reached.' : `The server answered ${status}.`;
    super(message);
    this.status = status;
    this.code = code;
    this.field = typeof e.field === 'string' ? e.field : undefined;
    this.requestId = (typeof e.request_id === 'string' ? e.request_id : undefined) ?? requestId ?? undefined;
    this.problems = Array.isArray(e.problems) ? (e.problems as Problem[]) : undefined;
    this.details = e;
  }
}

export interface Problem { node?: string | null; field?: string | null; message: string }

let csrfToken: string | null = null;
/** The session's CSRF token, from log-in, sign-up or GET /api/me. */
export function setCsrf(token: string | null | undefined) { csrfToken = token ?? null; }

type UnauthorizedHandler = () => void;
let onUnauthorized: UnauthorizedHandler = () => {};
/** Called when any request (but the session probe) answers 401. */
export function setUnauthorizedHandler(fn: UnauthorizedHandler) { onUnauthorized = fn; }

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const middleware: Middleware = {
  onRequest({ request }) {
    if (MUTATING.has(request.method) && csrfToken) request.headers.set('X-CSRF-Token', csrfToken);
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && !request.url.endsWith('/api/me') && !request.url.includes('/api/auth/')) onUnauthorized();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(middleware);

/**
 * Unwraps an openapi-fetch answer: the data, or throws ApiError. A network
 * failure becomes ApiError with status 0.
 */
export async function call<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let r: { data?: T; error?: unknown; response: Response };
  try {
    r = await p;
  } catch (e) {
    throw new ApiError(0, { error: { code: 'network', message: 'The server could not be reached: ' + String((e as Error).message ?? e) } });
  }
  if (!r.response.ok) throw new ApiError(r.response.status, r.error, r.response.headers.get('X-Request-Id'));
  return r.data as T;
}

/** Same as call, also giving the response (for ETag and Location). */
export async function callWithResponse<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<{ data: T; response: Response }> {
  const r = await p.catch((e) => {
    throw new ApiError(0, { error: { code: 'network', message: 'The server could not be reached: ' + String((e as Error).message ?? e) } });
  });
  if (!r.response.ok) throw new ApiError(r.response.status, r.error, r.response.headers.get('X-Request-Id'));
  return { data: r.data as T, response: r.response };
}

/** Text for a caught error, for toasts and inline notes. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
