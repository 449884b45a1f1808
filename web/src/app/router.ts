// A small history router: the app has a handful of pages, so a table of
// patterns is clearer than a routing library (and smaller).
import { useEffect, useSyncExternalStore } from 'react';

type Guard = () => string | null;
let leaveGuard: Guard | null = null;

/** While set, navigating away asks first (unsaved changes). */
export function setLeaveGuard(g: Guard | null) { leaveGuard = g; }

const listeners = new Set<() => void>();
// Each history entry of the app carries its index ({i}), so a Back or
// Forward the user takes back (unsaved changes: "stay") can be undone with
// history.go: popstate itself cannot be cancelled.
let shown = location.pathname + location.search + location.hash;
let idx = typeof history.state?.i === 'number' ? history.state.i : 0;
let restoring = false;
if (typeof history.state?.i !== 'number') history.replaceState({ i: idx }, '');
function emit() { shown = location.pathname + location.search + location.hash; listeners.forEach((l) => l()); }
window.addEventListener('popstate', (e: PopStateEvent) => {
  const ni = typeof e.state?.i === 'number' ? e.state.i : 0;
  if (restoring) { restoring = false; idx = ni; return; }
  const to = location.pathname + location.search + location.hash;
  if (to !== shown && leaveGuard && ni !== idx && !confirmLeave()) {
    restoring = true;
    history.go(idx - ni);
    return;
  }
  idx = ni;
  emit();
});

/** Asks the leave guard, if any: true when the user may leave. */
export function confirmLeave(): boolean {
  const msg = leaveGuard?.();
  return !msg || window.confirm(msg);
}

export function navigate(to: string, opts: { replace?: boolean; force?: boolean } = {}) {
  if (!opts.force && !confirmLeave()) return;
  if (opts.replace) history.replaceState({ i: idx }, '', to);
  else history.pushState({ i: ++idx }, '', to);
  emit();
}

function snapshot() { return location.pathname + location.search + location.hash; }

export function useLocation(): { path: string; query: URLSearchParams; hash: string } {
  const s = useSyncExternalStore((cb) => { listeners.add(cb); return () => listeners.delete(cb); }, snapshot);
  const u = new URL(s, location.origin);
  return { path: u.pathname, query: u.searchParams, hash: u.hash };
}

/** Matches "/workflows/:id" against a path; returns the params or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const a = pattern.split('/'), b = path.replace(/\/+$/, '').split('/');
  if (a.length !== b.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith(':')) out[a[i].slice(1)] = decodeURIComponent(b[i]);
    else if (a[i] !== b[i]) return null;
  }
  return out;
}

/** Rewrites the query string without a new history entry. */
export function setQuery(params: Record<string, string | null | undefined>) {
  const u = new URL(location.href);
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === '') u.searchParams.delete(k);
    else u.searchParams.set(k, v);
  }
  history.replaceState({ i: idx }, '', u.pathname + u.search + u.hash);
  emit();
}

/** The browser's own "leave site?" prompt while `dirty`. */
export function useBeforeUnload(dirty: boolean) {
  useEffect(() => {
    if (!dirty) return;
    const h = (e: BeforeUnloadEvent) => { e.preventDefault(); e.returnValue = ''; };
    window.addEventListener('beforeunload', h);
    return () => window.removeEventListener('beforeunload', h);
  }, [dirty]);
}

/** A link that routes in the page. */
export function linkClick(e: React.MouseEvent<HTMLAnchorElement>) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const href = e.currentTarget.getAttribute('href');
  if (!href || !href.startsWith('/')) return;
  e.preventDefault();
  navigate(href);
}
