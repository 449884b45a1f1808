// What changed between two workflow definitions: for the visual diff of two
// versions (nodes and edges coloured on the canvas) and for the conflict
// dialog (your changes / their changes against the common base).
import { edgeKey } from './convert';
import type { Schemas } from '../api/client';

export type Definition = Schemas['WorkflowDefinition'];
export type WfNode = Schemas['WorkflowNode'];

/** An edge as far as its identity goes (the ports default to main). */
export interface EdgeLike { from: string; from_port?: string | null; to: string; to_port?: string | null }

/** The key of an edge (one definition of it, in convert.ts). */
export { edgeKey };

export type NodeChange = 'added' | 'removed' | 'changed';
export type EdgeChange = 'added' | 'removed';

export interface DiffSummary {
  /** node ids, in the order of the definition they come from */
  added: string[];
  removed: string[];
  /** nodes present on both sides with a different field (position ignored) */
  changed: { id: string; fields: string[] }[];
  /** nodes whose only difference is their position (not coloured) */
  moved: string[];
  edgesAdded: number;
  edgesRemoved: number;
  /** settings (timeout_ms, error_workflow_id, timezone) that differ */
  settings: string[];
}

export interface DefinitionDiff {
  nodes: Record<string, NodeChange>;
  edges: Record<string, EdgeChange>;
  summary: DiffSummary;
}

/** The node fields compared, in the order they are reported. */
export const NODE_FIELDS = ['type', 'name', 'params', 'retry', 'timeout_ms', 'continue_on_fail', 'disabled', 'notes'] as const;

/**
 * Deep equality of JSON values. Object key order does not matter; absent,
 * undefined and null are the same (the API treats a null param as absent).
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a == null || b == null) return a == null && b == null;
  if (typeof a !== typeof b) return false;
  if (typeof a !== 'object') return Number.isNaN(a) && Number.isNaN(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  const ao = a as Record<string, unknown>, bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!jsonEqual(ao[k], bo[k])) return false;
  return true;
}

/** Values that mean "not set": retry {} and params {} count as absent, false flags and "" notes too. */
function norm(field: string, v: unknown): unknown {
  if (v == null) return null;
  if ((field === 'continue_on_fail' || field === 'disabled') && v === false) return null;
  if (field === 'notes' && v === '') return null;
  if ((field === 'params' || field === 'retry') && typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0) return null;
  return v;
}

/** The fields of a node (position ignored) that differ between a and b. */
export function changedFields(a: WfNode, b: WfNode): string[] {
  const ar = a as unknown as Record<string, unknown>, br = b as unknown as Record<string, unknown>;
  const out: string[] = [];
  for (const f of NODE_FIELDS) if (!jsonEqual(norm(f, ar[f]), norm(f, br[f]))) out.push(f);
  // a field this list does not know yet (a newer API) still counts as a change
  const known = new Set<string>([...NODE_FIELDS, 'id', 'position']);
  for (const k of new Set([...Object.keys(ar), ...Object.keys(br)])) {
    if (!known.has(k) && !jsonEqual(ar[k], br[k])) out.push(k);
  }
  return out;
}

function samePosition(a: WfNode, b: WfNode): boolean {
  return jsonEqual(a.position ?? null, b.position ?? null);
}

/**
 * The difference from a (old) to b (new). Nodes are matched by id; a node
 * whose only difference is its position is not "changed" (it is listed in
 * summary.moved). Edges are matched by edgeKey.
 */
export function diffDefinitions(a: Definition | null | undefined, b: Definition | null | undefined): DefinitionDiff {
  const an = new Map((a?.nodes ?? []).map((n) => [n.id, n]));
  const bn = new Map((b?.nodes ?? []).map((n) => [n.id, n]));
  const nodes: Record<string, NodeChange> = {};
  const summary: DiffSummary = { added: [], removed: [], changed: [], moved: [], edgesAdded: 0, edgesRemoved: 0, settings: [] };
  for (const [id, old] of an) {
    const now = bn.get(id);
    if (!now) {
      nodes[id] = 'removed';
      summary.removed.push(id);
      continue;
    }
    const fields = changedFields(old, now);
    if (fields.length) {
      nodes[id] = 'changed';
      summary.changed.push({ id, fields });
    } else if (!samePosition(old, now)) {
      summary.moved.push(id);
    }
  }
  for (const id of bn.keys()) {
    if (!an.has(id)) {
      nodes[id] = 'added';
      summary.added.push(id);
    }
  }
  const ae = new Set((a?.edges ?? []).map(edgeKey));
  const be = new Set((b?.edges ?? []).map(edgeKey));
  const edges: Record<string, EdgeChange> = {};
  for (const k of ae) if (!be.has(k)) { edges[k] = 'removed'; summary.edgesRemoved++; }
  for (const k of be) if (!ae.has(k)) { edges[k] = 'added'; summary.edgesAdded++; }
  const as = (a?.settings ?? {}) as Record<string, unknown>, bs = (b?.settings ?? {}) as Record<string, unknown>;
  for (const k of new Set([...Object.keys(as), ...Object.keys(bs)])) if (!jsonEqual(as[k], bs[k])) summary.settings.push(k);
  summary.settings.sort();
  return { nodes, edges, summary };
}

/** True when the diff holds no change worth reporting (moves aside). */
export function isEmptyDiff(d: DefinitionDiff): boolean {
  const s = d.summary;
  return !s.added.length && !s.removed.length && !s.changed.length && !s.edgesAdded && !s.edgesRemoved && !s.settings.length;
}

/** Human words for a changed node's fields, e.g. "parameters, retry". */
export function fieldWords(fields: string[]): string {
  const words: Record<string, string> = {
    type: 'type', name: 'name', params: 'parameters', retry: 'retry', timeout_ms: 'timeout',
    continue_on_fail: 'continue on fail', disabled: 'enabled/disabled', notes: 'notes',
  };
  return fields.map((f) => words[f] ?? f).join(', ');
}

/**
 * A node's display name, looked up in the given definitions (the last one
 * that has the node wins), else its id: a removed node is only in the old
 * definition, an added one only in the new.
 */
export function nodeLabel(id: string, ...defs: (Definition | null | undefined)[]): string {
  for (let i = defs.length - 1; i >= 0; i--) {
    const n = defs[i]?.nodes.find((x) => x.id === id);
    if (n) return n.name || id;
  }
  return id;
}
