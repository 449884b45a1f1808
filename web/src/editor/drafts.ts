// Unsaved canvases in localStorage, per workflow, with the version they
// started from, so a reload (or a crash) offers them back. Drafts older
// than DRAFT_MAX_AGE_MS are dropped (workflows deleted or never opened
// again would otherwise keep theirs for ever), and an explicit log-out
// forgets every draft, the node clipboard and the last executions (the
// next person at this browser must not find them).
import type { Definition } from './convert';

export interface Draft { definition: Definition; base_version: number; saved_at: string }

const DRAFT_PREFIX = 'glyphic.draft.';
const LAST_EXEC_PREFIX = 'glyphic.lastExecution.';
export const CLIPBOARD_KEY = 'glyphic.clipboard';
export const DRAFT_MAX_AGE_MS = 30 * 24 * 3600 * 1000;

const key = (id: string) => DRAFT_PREFIX + id;
const lastExecKey = (id: string) => LAST_EXEC_PREFIX + id;

type Store = Pick<Storage, 'getItem' | 'setItem' | 'removeItem' | 'key' | 'length'>;
const store = (): Store => localStorage;

export function loadDraft(id: string): Draft | null {
  try {
    const d = JSON.parse(localStorage.getItem(key(id)) || 'null');
    if (d && d.definition && Array.isArray(d.definition.nodes) && typeof d.base_version === 'number') return d as Draft;
  } catch { /* a broken draft is no draft */ }
  return null;
}

let pruned = false;
export function saveDraft(id: string, definition: Definition, base_version: number) {
  try {
    if (!pruned) { pruned = true; pruneDrafts(store(), Date.now()); }
    localStorage.setItem(key(id), JSON.stringify({ definition, base_version, saved_at: new Date().toISOString() }));
  } catch { /* storage full or off: drafts are a convenience */ }
}
export function clearDraft(id: string) {
  try { localStorage.removeItem(key(id)); } catch { /* ignore */ }
}

function keysWith(s: Store, prefixes: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i++) {
    const k = s.key(i);
    if (k && prefixes.some((p) => k.startsWith(p))) out.push(k);
  }
  return out;
}

/** Removes drafts saved more than maxAge ago (or unreadable); returns how many. */
export function pruneDrafts(s: Store, now: number, maxAge = DRAFT_MAX_AGE_MS): number {
  let n = 0;
  for (const k of keysWith(s, [DRAFT_PREFIX])) {
    let at = NaN;
    try { at = Date.parse(JSON.parse(s.getItem(k) || 'null')?.saved_at); } catch { /* unreadable */ }
    if (!(now - at <= maxAge)) { s.removeItem(k); n++; }
  }
  return n;
}

/** At log-out: every draft, the node clipboard and the last executions. */
export function forgetLocalData(s: Store = store()) {
  try {
    for (const k of keysWith(s, [DRAFT_PREFIX, LAST_EXEC_PREFIX])) s.removeItem(k);
    s.removeItem(CLIPBOARD_KEY);
  } catch { /* storage off */ }
}

export function loadLastExecution(workflowId: string): string | null {
  try { return localStorage.getItem(lastExecKey(workflowId)); } catch { return null; }
}
export function saveLastExecution(workflowId: string, executionId: string) {
  try { localStorage.setItem(lastExecKey(workflowId), executionId); } catch { /* ignore */ }
}

/** Same graph? (drafts equal to the saved version are not offered). */
export function sameDefinition(a: Definition, b: Definition): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
