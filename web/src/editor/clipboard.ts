// Copy and paste of nodes as definition JSON:
// {"glyphic":"nodes","nodes":[…],"edges":[…]} — the same shape in every
// workflow, so nodes travel between workflows (and tabs).
import type { Definition, WfEdge, WfNode } from './convert';

export interface ClipDoc { glyphic: 'nodes'; nodes: WfNode[]; edges: WfEdge[] }

/** The selected nodes and the edges between them. */
export function copyNodes(def: Definition, ids: Set<string>): ClipDoc {
  return {
    glyphic: 'nodes',
    nodes: def.nodes.filter((n) => ids.has(n.id)),
    edges: (def.edges ?? []).filter((e) => ids.has(e.from) && ids.has(e.to)),
  };
}

export function parseClip(text: string): ClipDoc | null {
  try {
    const v = JSON.parse(text);
    if (v && v.glyphic === 'nodes' && Array.isArray(v.nodes)) {
      const nodes = (v.nodes as unknown[]).filter((n): n is WfNode => !!n && typeof n === 'object' && typeof (n as WfNode).id === 'string' && typeof (n as WfNode).type === 'string');
      const edges = Array.isArray(v.edges) ? (v.edges as unknown[]).filter((e): e is WfEdge => !!e && typeof e === 'object' && typeof (e as WfEdge).from === 'string' && typeof (e as WfEdge).to === 'string') : [];
      return { glyphic: 'nodes', nodes, edges };
    }
  } catch { /* not ours */ }
  return null;
}

/** A node id not in `taken`: base, base1, base2, … */
export function uniqueId(base: string, taken: Set<string>): string {
  const clean = base.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 56) || 'node';
  if (!taken.has(clean)) return clean;
  for (let i = 1; ; i++) if (!taken.has(clean + i)) return clean + i;
}

/** A node name not in `taken`: "Name", "Name 2", "Name 3", … */
export function uniqueName(base: string, taken: Set<string>): string {
  const b = base.slice(0, 90) || 'Node';
  if (!taken.has(b)) return b;
  const m = /^(.*) (\d+)$/.exec(b);
  const stem = m ? m[1] : b;
  for (let i = m ? Number(m[2]) + 1 : 2; ; i++) if (!taken.has(`${stem} ${i}`)) return `${stem} ${i}`;
}

/**
 * The definition with the clipboard's nodes added: new ids and names where
 * they clash, positions offset by `offset` (or moved so the group's top-left
 * corner is at `at`), edges re-pointed. Returns the new ids too (to select).
 */
export function pasteNodes(def: Definition, clip: ClipDoc, opts: { offset?: [number, number]; at?: [number, number] } = {}): { def: Definition; ids: string[] } {
  const ids = new Set(def.nodes.map((n) => n.id));
  const names = new Set(def.nodes.map((n) => n.name).filter((x): x is string => !!x));
  const map = new Map<string, string>();
  const xs = clip.nodes.map((n) => n.position?.[0] ?? 0), ys = clip.nodes.map((n) => n.position?.[1] ?? 0);
  const minX = xs.length ? Math.min(...xs) : 0, minY = ys.length ? Math.min(...ys) : 0;
  const [dx, dy] = opts.at ? [opts.at[0] - minX, opts.at[1] - minY] : opts.offset ?? [40, 40];
  const added: WfNode[] = clip.nodes.map((n) => {
    const id = uniqueId(n.id, ids);
    ids.add(id);
    map.set(n.id, id);
    const copy: WfNode = { ...structuredClone(n), id };
    if (n.name) { copy.name = uniqueName(n.name, names); names.add(copy.name); }
    copy.position = [Math.round((n.position?.[0] ?? 0) + dx), Math.round((n.position?.[1] ?? 0) + dy)];
    // A pasted webhook must not claim the original's path.
    if (n.type === 'trigger.webhook' && copy.params && 'path' in copy.params) {
      const p = { ...copy.params }; delete p.path; copy.params = p;
    }
    return copy;
  });
  const edges: WfEdge[] = clip.edges
    .filter((e) => map.has(e.from) && map.has(e.to))
    .map((e) => ({ ...e, from: map.get(e.from)!, to: map.get(e.to)! }));
  return { def: { ...def, nodes: [...def.nodes, ...added], edges: [...(def.edges ?? []), ...edges] }, ids: added.map((n) => n.id) };
}
