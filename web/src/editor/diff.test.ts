import { describe, expect, it } from 'vitest';
import { changedFields, diffDefinitions, edgeKey, fieldWords, isEmptyDiff, jsonEqual, nodeLabel, type Definition } from './diff';

const base: Definition = {
  nodes: [
    { id: 'hook', type: 'trigger.webhook', name: 'Hook', params: { path: 'add' } as never, position: [0, 0] },
    { id: 'sum', type: 'data.set', name: 'Sum', params: { values: { total: '{{ $json.body.a + $json.body.b }}' } } as never, position: [200, 0] },
    { id: 'respond', type: 'flow.respond', name: 'Respond', position: [400, 0] },
  ],
  edges: [
    { from: 'hook', from_port: 'main', to: 'sum', to_port: 'main' },
    { from: 'sum', to: 'respond' } as never,
  ],
};

function clone<T>(x: T): T { return JSON.parse(JSON.stringify(x)); }

describe('edgeKey', () => {
  it('defaults the ports to main', () => {
    expect(edgeKey({ from: 'a', to: 'b' })).toBe('a:main->b:main');
    expect(edgeKey({ from: 'if', from_port: 'false', to: 'b', to_port: 'loop' })).toBe('if:false->b:loop');
    expect(edgeKey({ from: 'a', from_port: null, to: 'b', to_port: null })).toBe('a:main->b:main');
  });
});

describe('jsonEqual', () => {
  it('compares deeply, ignoring key order, null same as absent', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: null })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: '1' })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual([], {})).toBe(false);
    expect(jsonEqual(null, undefined)).toBe(true);
    expect(jsonEqual(0, null)).toBe(false);
  });
});

describe('diffDefinitions', () => {
  it('finds nothing between equal definitions, and ignores moves', () => {
    const b = clone(base);
    b.nodes[1].position = [250, 40];
    const d = diffDefinitions(base, b);
    expect(d.nodes).toEqual({});
    expect(d.edges).toEqual({});
    expect(d.summary.moved).toEqual(['sum']);
    expect(isEmptyDiff(d)).toBe(true);
  });

  it('marks added, removed and changed nodes and edges', () => {
    const b = clone(base);
    b.nodes = b.nodes.filter((n) => n.id !== 'respond');
    (b.nodes[1].params as Record<string, unknown>).values = { total: '{{ $json.body.a * 2 }}' };
    b.nodes[1].retry = { max: 3 };
    b.nodes.push({ id: 'log', type: 'data.set', name: 'Log' });
    b.edges = [b.edges![0], { from: 'sum', from_port: 'main', to: 'log', to_port: 'main' }];
    const d = diffDefinitions(base, b);
    expect(d.nodes).toEqual({ respond: 'removed', sum: 'changed', log: 'added' });
    expect(d.edges).toEqual({ 'sum:main->respond:main': 'removed', 'sum:main->log:main': 'added' });
    expect(d.summary.added).toEqual(['log']);
    expect(d.summary.removed).toEqual(['respond']);
    expect(d.summary.changed).toEqual([{ id: 'sum', fields: ['params', 'retry'] }]);
    expect(d.summary.edgesAdded).toBe(1);
    expect(d.summary.edgesRemoved).toBe(1);
    expect(isEmptyDiff(d)).toBe(false);
  });

  it('compares every node field', () => {
    const n = base.nodes[1];
    const cases: [Partial<typeof n>, string][] = [
      [{ type: 'data.code' }, 'type'], [{ name: 'Total' }, 'name'], [{ timeout_ms: 5000 }, 'timeout_ms'],
      [{ continue_on_fail: true }, 'continue_on_fail'], [{ disabled: true }, 'disabled'], [{ notes: 'hi' }, 'notes'],
      [{ retry: { max: 2, backoff_ms: 10 } }, 'retry'],
    ];
    for (const [change, field] of cases) expect(changedFields(n, { ...n, ...change })).toEqual([field]);
  });

  it('treats unset and default-looking values as the same', () => {
    const n = { id: 'x', type: 't' };
    expect(changedFields(n, { ...n, disabled: false, continue_on_fail: false, notes: '', params: {} as never, retry: {} })).toEqual([]);
  });

  it('reports fields it does not know', () => {
    const n = { id: 'x', type: 't' };
    expect(changedFields(n, { ...n, color: 'red' } as never)).toEqual(['color']);
  });

  it('sees an edge whose port changed as one removed and one added', () => {
    const b = clone(base);
    b.edges![0].from_port = 'error';
    const d = diffDefinitions(base, b);
    expect(d.edges).toEqual({ 'hook:main->sum:main': 'removed', 'hook:error->sum:main': 'added' });
  });

  it('handles missing definitions and edges', () => {
    expect(diffDefinitions(null, base).summary.added).toEqual(['hook', 'sum', 'respond']);
    expect(diffDefinitions(base, { nodes: [] }).summary.removed).toEqual(['hook', 'sum', 'respond']);
    expect(diffDefinitions(base, { nodes: [] }).summary.edgesRemoved).toBe(2);
  });

  it('lists changed settings', () => {
    const b = clone(base);
    b.settings = { timezone: 'Europe/Berlin' };
    expect(diffDefinitions(base, b).summary.settings).toEqual(['timezone']);
  });

  it('names nodes from either side', () => {
    const b = clone(base);
    b.nodes = [{ id: 'new', type: 'x', name: 'Brand new' }];
    expect(nodeLabel('respond', base, b)).toBe('Respond');
    expect(nodeLabel('new', base, b)).toBe('Brand new');
    expect(nodeLabel('ghost', base, b)).toBe('ghost');
    expect(fieldWords(['params', 'timeout_ms'])).toBe('parameters, timeout');
  });
});
