import { describe, expect, it } from 'vitest';
import { CLIPBOARD_KEY, DRAFT_MAX_AGE_MS, forgetLocalData, pruneDrafts } from './drafts';

function memStore(init: Record<string, string>) {
  const m = new Map(Object.entries(init));
  return {
    get length() { return m.size; },
    key: (i: number) => [...m.keys()][i] ?? null,
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => { m.set(k, v); },
    removeItem: (k: string) => { m.delete(k); },
    keys: () => [...m.keys()].sort(),
  };
}
const draft = (at: number) => JSON.stringify({ definition: { nodes: [] }, base_version: 1, saved_at: new Date(at).toISOString() });

describe('drafts', () => {
  const now = Date.parse('2026-12-02T12:00:00Z');
  it('prunes drafts older than the limit and unreadable ones, nothing else', () => {
    const s = memStore({
      'glyphic.draft.fresh': draft(now - 1000),
      'glyphic.draft.old': draft(now - DRAFT_MAX_AGE_MS - 1000),
      'glyphic.draft.broken': '{not json',
      'glyphic.draft.nodate': JSON.stringify({ definition: { nodes: [] }, base_version: 1 }),
      'glyphic.prefs': '{}',
      'other.app': 'x',
    });
    expect(pruneDrafts(s, now)).toBe(3);
    expect(s.keys()).toEqual(['glyphic.draft.fresh', 'glyphic.prefs', 'other.app']);
  });
  it('forgets drafts, last executions and the clipboard at log-out, and keeps the prefs', () => {
    const s = memStore({
      'glyphic.draft.a': draft(now), 'glyphic.draft.b': draft(now),
      'glyphic.lastExecution.a': 'x', [CLIPBOARD_KEY]: '{"glyphic":"nodes","nodes":[]}',
      'glyphic.prefs': '{"theme":"dark"}',
    });
    forgetLocalData(s);
    expect(s.keys()).toEqual(['glyphic.prefs']);
  });
});
