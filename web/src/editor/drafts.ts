// Unsaved canvases in localStorage, per workflow, with the version they
// started from, so a reload (or a crash) offers them back.
import type { Definition } from './convert';

export interface Draft { definition: Definition; base_version: number; saved_at: string }

const key = (id: string) => 'glyphic.draft.' + id;
const lastExecKey = (id: string) => 'glyphic.lastExecution.' + id;

export function loadDraft(id: string): Draft | null {
  try {
    const d = JSON.parse(localStorage.getItem(key(id)) || 'null');
    if (d && d.definition && Array.isArray(d.definition.nodes) && typeof d.base_version === 'number') return d as Draft;
  } catch { /* a broken draft is no draft */ }
  return null;
}
export function saveDraft(id: string, definition: Definition, base_version: number) {
  try {
    localStorage.setItem(key(id), JSON.stringify({ definition, base_version, saved_at: new Date().toISOString() }));
  } catch { /* storage full or off: drafts are a convenience */ }
}
export function clearDraft(id: string) {
  try { localStorage.removeItem(key(id)); } catch { /* ignore */ }
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
