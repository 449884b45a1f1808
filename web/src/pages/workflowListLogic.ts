// The workflow list's pure logic: filters ⇄ address and API query, tags,
// the starter definition, file names, and API errors put in words. No
// React here, so it is unit-tested (workflowListLogic.test.ts).
import { ApiError, type Problem, type Schemas } from '../api/client';

export type ActiveFilter = 'all' | 'active' | 'inactive';
export type SortKey = 'updated' | 'created' | 'name';

export interface WorkflowFilters {
  q: string;
  tag: string;
  active: ActiveFilter;
  sort: SortKey;
  trash: boolean;
}

export const DEFAULT_FILTERS: WorkflowFilters = { q: '', tag: '', active: 'all', sort: 'updated', trash: false };
export const PAGE_SIZE = 50;

/** The filters an address says (?q=&tag=&active=&sort=&view=trash); anything unknown is the default. */
export function filtersFromQuery(query: URLSearchParams): WorkflowFilters {
  const active = query.get('active');
  const sort = query.get('sort');
  return {
    q: (query.get('q') ?? '').slice(0, 200),
    tag: (query.get('tag') ?? '').slice(0, 50),
    active: active === 'active' || active === 'inactive' ? active : 'all',
    sort: sort === 'created' || sort === 'name' ? sort : 'updated',
    trash: query.get('view') === 'trash',
  };
}

/** The address's query parameters for the filters (null: leave out), for setQuery. */
export function filtersToQuery(f: WorkflowFilters): Record<string, string | null> {
  return {
    q: f.q || null,
    tag: f.tag || null,
    active: f.active === 'all' ? null : f.active,
    sort: f.sort === 'updated' ? null : f.sort,
    view: f.trash ? 'trash' : null,
  };
}

export interface WorkflowListQuery {
  q?: string; tag?: string; active?: boolean; deleted?: boolean;
  sort?: SortKey; limit?: number; cursor?: string;
}

/** GET /api/workflows's query for the filters and a page cursor. */
export function workflowListQuery(f: WorkflowFilters, cursor?: string | null, limit = PAGE_SIZE): WorkflowListQuery {
  const out: WorkflowListQuery = { limit };
  const q = f.q.trim();
  if (q) out.q = q;
  if (f.tag) out.tag = f.tag;
  if (f.active !== 'all') out.active = f.active === 'active';
  if (f.trash) out.deleted = true;
  if (f.sort !== 'updated') out.sort = f.sort;
  if (cursor) out.cursor = cursor;
  return out;
}

/** Whether any filter narrows the list (for the empty state's words). */
export function isFiltered(f: WorkflowFilters): boolean {
  return f.q.trim() !== '' || f.tag !== '' || f.active !== 'all';
}

const utf8 = new TextEncoder();

/** "sales, eu ,, sales" → {tags: ['sales', 'eu']}, or an error in words. */
export function parseTags(text: string): { tags: string[]; error?: string } {
  const tags: string[] = [];
  for (const raw of text.split(',')) {
    const t = raw.trim();
    if (!t || tags.includes(t)) continue;
    if (utf8.encode(t).length > 50) return { tags, error: `The tag "${t.slice(0, 20)}…" is longer than 50 bytes.` };
    tags.push(t);
  }
  if (tags.length > 20) return { tags, error: `At most 20 tags (there are ${tags.length}).` };
  return { tags };
}

/** A list's tags, merged into the known ones (sorted, no repeats). */
export function mergeTags(known: string[], items: { tags?: string[] }[]): string[] {
  const s = new Set(known);
  for (const it of items) for (const t of it.tags ?? []) s.add(t);
  if (s.size === known.length) return known;
  return [...s].sort((a, b) => a.localeCompare(b));
}

type NodeType = Schemas['NodeType'];
type Definition = Schemas['WorkflowDefinition'];

/** A new workflow's first definition: one manual trigger when the catalogue has one. */
export function starterDefinition(types: NodeType[] | null | undefined): Definition {
  const manual = types?.find((t) => t.id === 'trigger.manual');
  if (!manual) return { nodes: [], edges: [] };
  const params: Record<string, unknown> = {};
  for (const p of manual.params ?? []) {
    if (p.required && p.default !== null && p.default !== undefined) params[p.name] = p.default;
  }
  return {
    nodes: [{ id: 'manual', type: 'trigger.manual', name: manual.name || 'Manual trigger', params: params as Record<string, never>, position: [0, 0] }],
    edges: [],
  };
}

/** "Orders / EU: v2" → "Orders _ EU_ v2.glyphic.json": a name every file system takes. */
export function exportFileName(name: string): string {
  const base = name
    .replace(/[\u0000-\u001f\u007f/\\:*?"<>|]+/g, '_')
    .replace(/^[\s.]+|[\s.]+$/g, '')
    .slice(0, 120);
  return (base || 'workflow') + '.glyphic.json';
}

/** An import file's text as a document, or an error in words. */
export function parseImportFile(text: string): { doc?: Schemas['ExportDocument']; error?: string } {
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) {
    return { error: 'The file is not JSON: ' + (e as Error).message };
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return { error: 'The file is not a Glyphic workflow export (a JSON object was expected).' };
  const o = v as Record<string, unknown>;
  // an n8n workflow export (nodes + connections): the server converts it
  if (Array.isArray(o.nodes) && o.connections && typeof o.connections === 'object' && !('edges' in o)) {
    const name = typeof o.name === 'string' && o.name ? o.name : 'Imported from n8n';
    return { doc: { ...o, name } as unknown as Schemas['ExportDocument'] };
  }
  if (o.format !== 'glyphic.workflow') {
    return { error: 'The file is not a Glyphic workflow export: its "format" is not "glyphic.workflow". Export a workflow from this list to get one.' };
  }
  return { doc: o as unknown as Schemas['ExportDocument'] };
}

export interface ProblemGroup { node: string; label: string; items: { field: string; message: string }[] }

/**
 * invalid_definition problems grouped by node, labelled with the node's
 * name where the definition gives it; the workflow's own problems ("" node)
 * first.
 */
export function groupProblems(problems: Problem[], definition?: { nodes?: { id?: string; name?: string }[] } | null): ProblemGroup[] {
  const names = new Map<string, string>();
  for (const n of definition?.nodes ?? []) if (n && typeof n.id === 'string') names.set(n.id, typeof n.name === 'string' ? n.name : '');
  const groups = new Map<string, ProblemGroup>();
  for (const p of problems) {
    const node = p.node ?? '';
    let g = groups.get(node);
    if (!g) {
      const name = names.get(node);
      const label = node === '' ? 'The workflow'
        : name ? `Node "${name}" (${node})`
        : names.has(node) || /^nodes\[\d+\]$/.test(node) ? `Node ${node}` : `Node ${node} (not in the file)`;
      g = { node, label, items: [] };
      groups.set(node, g);
    }
    g.items.push({ field: p.field ?? '', message: p.message });
  }
  return [...groups.values()].sort((a, b) => (a.node === '' ? -1 : b.node === '' ? 1 : 0));
}

/** The enabled webhook trigger nodes' paths of a definition. */
export function webhookPaths(definition: Definition | null | undefined): string[] {
  const out: string[] = [];
  for (const n of definition?.nodes ?? []) {
    if (n.type !== 'trigger.webhook' || n.disabled) continue;
    const p = (n.params as Record<string, unknown> | undefined)?.path;
    if (typeof p === 'string' && p) out.push(p);
  }
  return out;
}

/**
 * Activation and deactivation errors in words. `paths`: the workflow's
 * webhook paths (the 409 does not say which one is taken).
 */
export function activationErrorText(e: unknown, paths: string[] = []): string {
  if (!(e instanceof ApiError)) return e instanceof Error ? e.message : String(e);
  switch (e.code) {
    case 'webhook_path_taken': {
      const quoted = paths.map((p) => `"${p}"`);
      const which = quoted.length === 1 ? `the webhook path ${quoted[0]}`
        : quoted.length > 1 ? `one of the webhook paths ${quoted.join(', ')}` : 'its webhook path';
      return `Another workflow already uses ${which} — change the path in the trigger node.`;
    }
    case 'no_trigger':
      return 'This workflow cannot be activated yet: add a webhook or schedule trigger first.';
    case 'deleted':
      return 'The workflow is in the trash: restore it first.';
    case 'forbidden':
      return `You may not change this workflow: ${e.message}.`;
    default:
      return e.message;
  }
}
