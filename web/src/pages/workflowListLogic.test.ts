import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/client';
import {
  DEFAULT_FILTERS, activationErrorText, exportFileName, filtersFromQuery, filtersToQuery, groupProblems, isFiltered,
  mergeTags, parseImportFile, parseTags, starterDefinition, webhookPaths, workflowListQuery,
} from './workflowListLogic';

const err = (status: number, code: string, message = 'server words', extra: Record<string, unknown> = {}) =>
  new ApiError(status, { error: { code, message, request_id: 'rid-1', ...extra } });

describe('filters and queries', () => {
  it('reads the address, ignoring unknown values', () => {
    expect(filtersFromQuery(new URLSearchParams('q=ord&tag=sales&active=active&sort=name&view=trash')))
      .toEqual({ q: 'ord', tag: 'sales', active: 'active', sort: 'name', trash: true });
    expect(filtersFromQuery(new URLSearchParams('active=maybe&sort=size&view=x'))).toEqual(DEFAULT_FILTERS);
  });
  it('writes only what differs from the defaults', () => {
    expect(filtersToQuery(DEFAULT_FILTERS)).toEqual({ q: null, tag: null, active: null, sort: null, view: null });
    expect(filtersToQuery({ q: 'a', tag: 't', active: 'inactive', sort: 'created', trash: true }))
      .toEqual({ q: 'a', tag: 't', active: 'inactive', sort: 'created', view: 'trash' });
  });
  it('round-trips through the address', () => {
    const f = { q: 'x y', tag: 'eu', active: 'active' as const, sort: 'name' as const, trash: false };
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(filtersToQuery(f))) if (v) u.set(k, v);
    expect(filtersFromQuery(u)).toEqual(f);
  });
  it('builds the API query', () => {
    expect(workflowListQuery(DEFAULT_FILTERS)).toEqual({ limit: 50 });
    expect(workflowListQuery({ q: '  ord ', tag: 'sales', active: 'inactive', sort: 'name', trash: true }, 'c1', 10))
      .toEqual({ q: 'ord', tag: 'sales', active: false, deleted: true, sort: 'name', cursor: 'c1', limit: 10 });
    expect(workflowListQuery({ ...DEFAULT_FILTERS, active: 'active' }).active).toBe(true);
  });
  it('knows when the list is filtered', () => {
    expect(isFiltered(DEFAULT_FILTERS)).toBe(false);
    expect(isFiltered({ ...DEFAULT_FILTERS, q: '  ' })).toBe(false);
    expect(isFiltered({ ...DEFAULT_FILTERS, sort: 'name', trash: true })).toBe(false);
    expect(isFiltered({ ...DEFAULT_FILTERS, tag: 'x' })).toBe(true);
  });
});

describe('tags', () => {
  it('splits, trims and drops repeats', () => {
    expect(parseTags(' sales, eu ,, sales,')).toEqual({ tags: ['sales', 'eu'] });
    expect(parseTags('')).toEqual({ tags: [] });
  });
  it('refuses long tags (bytes) and too many', () => {
    expect(parseTags('é'.repeat(26)).error).toMatch(/50 bytes/);
    expect(parseTags('é'.repeat(25)).error).toBeUndefined();
    expect(parseTags(Array.from({ length: 21 }, (_, i) => 't' + i).join(',')).error).toMatch(/At most 20/);
  });
  it('merges tags sorted, keeping the same array when nothing is new', () => {
    const known = ['a', 'c'];
    expect(mergeTags(known, [{ tags: ['c'] }, { tags: [] }])).toBe(known);
    expect(mergeTags(known, [{ tags: ['b', 'a'] }])).toEqual(['a', 'b', 'c']);
  });
});

describe('starter definition', () => {
  const manual = { id: 'trigger.manual', name: 'Manual', category: 'trigger' as const, description: '', trigger: true, inputs: [], outputs: ['main'],
    params: [{ name: 'x', type: 'string', required: true, expressions: false, default: 'd', description: '' }] };
  it('uses the manual trigger when the catalogue has it', () => {
    const d = starterDefinition([manual as never]);
    expect(d.nodes).toHaveLength(1);
    expect(d.nodes[0]).toMatchObject({ id: 'manual', type: 'trigger.manual', name: 'Manual', params: { x: 'd' }, position: [0, 0] });
  });
  it('is empty otherwise', () => {
    expect(starterDefinition([])).toEqual({ nodes: [], edges: [] });
    expect(starterDefinition(null)).toEqual({ nodes: [], edges: [] });
  });
});

describe('files', () => {
  it('names export files safely', () => {
    expect(exportFileName('Orders')).toBe('Orders.glyphic.json');
    expect(exportFileName('a/b\\c:d*e?"f<g>h|')).toBe('a_b_c_d_e_f_g_h_.glyphic.json');
    expect(exportFileName(' ..hidden. ')).toBe('hidden.glyphic.json');
    expect(exportFileName('///')).toBe('_.glyphic.json');
    expect(exportFileName('')).toBe('workflow.glyphic.json');
  });
  it('parses an import file or says why not', () => {
    expect(parseImportFile('{').error).toMatch(/not JSON/);
    expect(parseImportFile('[1]').error).toMatch(/JSON object/);
    expect(parseImportFile('{"format":"n8n"}').error).toMatch(/glyphic.workflow/);
    expect(parseImportFile('{"format":"glyphic.workflow","format_version":1,"name":"x","definition":{"nodes":[]}}').doc?.name).toBe('x');
    // an n8n export goes to the server as it is, which converts it
    const n8n = parseImportFile('{"name":"From n8n","nodes":[{"name":"A","type":"n8n-nodes-base.noOp"}],"connections":{}}');
    expect(n8n.error).toBeUndefined();
    expect(n8n.doc?.name).toBe('From n8n');
    expect(parseImportFile('{"nodes":[],"connections":{}}').doc?.name).toBe('Imported from n8n');
  });
});

describe('problems', () => {
  it('groups per node with names, the workflow first', () => {
    const g = groupProblems([
      { node: 'a', field: 'params.url', message: 'missing' },
      { node: '', field: 'edges[0].to', message: 'no such node' },
      { node: 'a', field: 'name', message: 'taken' },
      { node: 'nodes[3]', field: 'id', message: 'bad id' },
      { node: 'zz', field: 'edges[0].to', message: 'edge to unknown node' },
    ], { nodes: [{ id: 'a', name: 'Fetch' }] });
    expect(g.map((x) => x.label)).toEqual(['The workflow', 'Node "Fetch" (a)', 'Node nodes[3]', 'Node zz (not in the file)']);
    expect(g[1].items).toEqual([{ field: 'params.url', message: 'missing' }, { field: 'name', message: 'taken' }]);
  });
});

describe('activation errors in words', () => {
  it('names the taken webhook path', () => {
    expect(activationErrorText(err(409, 'webhook_path_taken'), ['orders/new']))
      .toBe('Another workflow already uses the webhook path "orders/new" — change the path in the trigger node.');
    expect(activationErrorText(err(409, 'webhook_path_taken'), ['a', 'b'])).toMatch(/one of the webhook paths "a", "b"/);
    expect(activationErrorText(err(409, 'webhook_path_taken'))).toMatch(/its webhook path — change the path/);
  });
  it('explains a missing trigger and the trash', () => {
    expect(activationErrorText(err(400, 'no_trigger'))).toMatch(/add a webhook or schedule trigger first/);
    expect(activationErrorText(err(409, 'deleted'))).toMatch(/restore it first/);
  });
  it('keeps the server message otherwise', () => {
    expect(activationErrorText(err(500, 'internal', 'database down'))).toBe('database down');
    expect(activationErrorText(new Error('x'))).toBe('x');
  });
  it('finds enabled webhook paths', () => {
    expect(webhookPaths({ nodes: [
      { id: 'a', type: 'trigger.webhook', params: { path: 'p1' } as never },
      { id: 'b', type: 'trigger.webhook', disabled: true, params: { path: 'p2' } as never },
      { id: 'c', type: 'trigger.webhook' },
      { id: 'd', type: 'http.request', params: { path: 'x' } as never },
    ] })).toEqual(['p1']);
  });
});
