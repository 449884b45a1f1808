// Where log-in and sign-up go afterwards: ?next=, when it is a page of this
// app. Anything else (another origin, "//host", "/\host" — which browsers
// read as "//host" — a scheme, the log-in pages themselves) goes to the
// workflows. `next` may also come in the hash (/login#next=…): what it
// carries then never reaches the server (an invitation link's token).
export function safeNext(q: URLSearchParams, origin: string = location.origin, hash = ''): string {
  const n = q.get('next') || new URLSearchParams(hash.replace(/^#/, '')).get('next') || '';
  if (!n.startsWith('/') || n.startsWith('//') || n.includes('\\')) return '/workflows';
  let u: URL;
  try { u = new URL(n, origin); } catch { return '/workflows'; }
  if (u.origin !== origin) return '/workflows';
  if (/^\/(login|signup)\/?$/.test(u.pathname)) return '/workflows';
  return u.pathname + u.search + u.hash;
}
