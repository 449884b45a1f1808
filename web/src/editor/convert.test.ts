import { describe, expect, it } from 'vitest';
import { autoLayout, edgeKey, fromFlow, makeEdge, mergeForDiff, outputPorts, toFlowEdges, toFlowNodes, withPositions, type Definition, type NodeType } from './convert';
import { copyNodes, parseClip, pasteNodes, uniqueId, uniqueName } from './clipboard';

const types = new Map<string, NodeType>([
  ['trigger.webhook', { id: 'trigger.webhook', name: 'Webhook', category: 'trigger', description: '', trigger: true, inputs: [], outputs: ['main'], params: [] }],
  ['data.set', { id: 'data.set', name: 'Set fields', category: 'data', description: '', trigger: false, inputs: ['main'], outputs: ['main'], params: [] }],
  ['flow.if', { id: 'flow.if', name: 'If', category: 'flow', description: '', trigger: false, inputs: ['main'], outputs: ['true', 'false'], params: [] }],
]);

const full: Definition = {
  nodes: [
    { id: 'hook', type: 'trigger.webhook', name: 'Hook', params: { path: 'add', mode: 'sync' }, position: [0, 0] },
    { id: 'sum', type: 'data.set', name: 'Sum', params: { fields: { total: '{{ $json.body.a + $json.body.b }}' } }, position: [260, 10],
      retry: { max: 3, backoff_ms: 500 }, timeout_ms: 2000, continue_on_fail: true, disabled: true, notes: 'adds\nthings' },
    { id: 'check', type: 'flow.if', name: 'Check', params: { condition: '{{ $json.total > 3 }}' }, position: [520, 0] },
  ],
  edges: [
    { from: 'hook', to: 'sum' },
    { from: 'sum', from_port: 'error', to: 'check', to_port: 'main' },
    { from: 'sum', to: 'check' },
  ],
  settings: { timezone: 'Europe/Berlin', timeout_ms: 1000 },
};

describe('edgeKey', () => {
  it('names ports, main by default', () => {
    expect(edgeKey({ from: 'a', to: 'b' })).toBe('a:main->b:main');
    expect(edgeKey({ from: 'a', from_port: 'true', to: 'b', to_port: 'loop' })).toBe('a:true->b:loop');
  });
});

describe('definition ⇄ flow', () => {
  it('round-trips every field of every node, edge and the settings', () => {
    const nodes = toFlowNodes(full, types);
    const edges = toFlowEdges(full);
    const back = fromFlow(full, nodes, edges);
    expect(back).toEqual(full);
    expect(JSON.stringify(back)).toBe(JSON.stringify(full));
    // unchanged nodes keep their objects
    back.nodes.forEach((n, i) => expect(n).toBe(full.nodes[i]));
  });

  it('maps positions and ports to React Flow', () => {
    const nodes = toFlowNodes(full, types);
    expect(nodes[1].position).toEqual({ x: 260, y: 10 });
    expect(nodes[1].data.node).toBe(full.nodes[1]);
    expect(nodes[1].data.type?.id).toBe('data.set');
    const edges = toFlowEdges(full);
    expect(edges[1]).toMatchObject({ id: 'sum:error->check:main', source: 'sum', target: 'check', sourceHandle: 'error', targetHandle: 'main' });
    expect(edges[0]).toMatchObject({ sourceHandle: 'main', targetHandle: 'main' });
  });

  it('takes a moved position back, rounded, and nothing else', () => {
    const nodes = toFlowNodes(full, types).map((n) => n.id === 'sum' ? { ...n, position: { x: 300.4, y: 99.6 } } : n);
    const back = fromFlow(full, nodes, toFlowEdges(full));
    expect(back.nodes[1]).toEqual({ ...full.nodes[1], position: [300, 100] });
    expect(back.nodes[0]).toBe(full.nodes[0]);
  });

  it('lays out nodes without positions with dagre, left to right', () => {
    const def: Definition = {
      nodes: [
        { id: 'a', type: 'trigger.webhook', params: { path: 'x' } },
        { id: 'b', type: 'data.set', name: 'B', notes: 'n' },
        { id: 'c', type: 'flow.if' },
      ],
      edges: [{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }],
    };
    const p = withPositions(def, types);
    const xs = p.nodes.map((n) => n.position![0]);
    expect(xs[0]).toBeLessThan(xs[1]);
    expect(xs[1]).toBeLessThan(xs[2]);
    expect(p.nodes[1]).toEqual({ ...def.nodes[1], position: p.nodes[1].position });
    const nodes = toFlowNodes(def, types);
    expect(nodes.map((n) => n.position.x)).toEqual(xs);
    // then the round trip gives the positioned definition
    expect(fromFlow(def, nodes, toFlowEdges(def))).toEqual(p);
  });

  it('keeps existing positions and places new nodes below them', () => {
    const def: Definition = { nodes: [{ id: 'a', type: 'data.set', position: [0, 500] }, { id: 'b', type: 'data.set' }], edges: [] };
    const p = withPositions(def, types);
    expect(p.nodes[0]).toBe(def.nodes[0]);
    expect(p.nodes[1].position![1]).toBeGreaterThan(500);
    expect(withPositions(full, types)).toBe(full);
  });

  it('auto-layout moves everything and keeps the rest', () => {
    const l = autoLayout(full, types);
    l.nodes.forEach((n, i) => { const { position, ...rest } = n; const { position: _p, ...orig } = full.nodes[i]; void _p; expect(rest).toEqual(orig); expect(position).toHaveLength(2); });
    expect(l.nodes[0].position![0]).toBeLessThan(l.nodes[2].position![0]);
  });

  it('reuses unchanged canvas nodes and carries selection and size over', () => {
    const first = toFlowNodes(full, types).map((n) => ({ ...n, selected: n.id === 'sum', measured: { width: 200, height: 60 } }));
    const changed = { ...full, nodes: full.nodes.map((n) => n.id === 'check' ? { ...n, name: 'Checked' } : n) };
    const second = toFlowNodes(changed, types, {}, first);
    expect(second[0]).toBe(first[0]);
    expect(second[1]).toBe(first[1]);
    expect(second[2]).not.toBe(first[2]);
    expect(second[2].measured).toEqual({ width: 200, height: 60 });
    const marked = toFlowNodes(changed, types, { status: { sum: 'running' }, nodeDiff: { hook: 'added' } }, second);
    expect(marked[1].data.status).toBe('running');
    expect(marked[1].selected).toBe(true);
    expect(marked[0].data.diff).toBe('added');
    expect(marked[2]).toBe(second[2]);
  });

  it('labels edges with item counts and diff marks', () => {
    const edges = toFlowEdges(full, { edgeCounts: { 'hook:main->sum:main': 2 }, edgeDiff: { 'sum:main->check:main': 'added' } });
    expect(edges[0].label).toBe('2 items');
    expect(edges[2].className).toBe('edge-added');
  });

  it('leaves main ports out of new edges', () => {
    expect(makeEdge('a', 'main', 'b', 'main')).toEqual({ from: 'a', to: 'b' });
    expect(makeEdge('a', 'true', 'b', 'loop')).toEqual({ from: 'a', from_port: 'true', to: 'b', to_port: 'loop' });
  });

  it('shows the error output with continue_on_fail, never on triggers', () => {
    expect(outputPorts(full.nodes[1], types.get('data.set'))).toEqual(['main', 'error']);
    expect(outputPorts({ ...full.nodes[0], continue_on_fail: true }, types.get('trigger.webhook'))).toEqual(['main']);
    expect(outputPorts(full.nodes[2], types.get('flow.if'))).toEqual(['true', 'false']);
  });
});

describe('clipboard', () => {
  it('copies the selection with its inner edges and pastes with new ids, names and offsets', () => {
    const clip = copyNodes(full, new Set(['sum', 'check']));
    expect(clip.edges).toHaveLength(2);
    const text = JSON.stringify(clip);
    const parsed = parseClip(text)!;
    const { def, ids } = pasteNodes(full, parsed);
    expect(ids).toEqual(['sum1', 'check1']);
    expect(def.nodes).toHaveLength(5);
    expect(def.nodes[3]).toMatchObject({ id: 'sum1', name: 'Sum 2', position: [300, 50], retry: { max: 3, backoff_ms: 500 } });
    expect(def.edges!.slice(3).map(edgeKey)).toEqual(['sum1:error->check1:main', 'sum1:main->check1:main']);
    // the copy is deep: editing it leaves the original alone
    (def.nodes[3].params!.fields as Record<string, string>).total = 'x';
    expect((full.nodes[1].params!.fields as Record<string, string>).total).toContain('$json');
  });

  it('drops a pasted webhook path, pastes at a point, refuses foreign text', () => {
    const { def } = pasteNodes({ nodes: [], edges: [] }, copyNodes(full, new Set(['hook'])), { at: [100, 100] });
    expect(def.nodes[0]).toMatchObject({ id: 'hook', params: { mode: 'sync' }, position: [100, 100] });
    expect(def.nodes[0].params).not.toHaveProperty('path');
    expect(parseClip('hello')).toBeNull();
    expect(parseClip('{"nodes":[]}')).toBeNull();
  });

  it('makes unique ids and names', () => {
    expect(uniqueId('set', new Set(['set', 'set1']))).toBe('set2');
    expect(uniqueId('a.b c', new Set())).toBe('a_b_c');
    expect(uniqueName('Set fields', new Set(['Set fields']))).toBe('Set fields 2');
    expect(uniqueName('Set fields 2', new Set(['Set fields 2', 'Set fields 3']))).toBe('Set fields 4');
  });
});

describe('mergeForDiff', () => {
  it('keeps b and adds what only a has', () => {
    const a: Definition = { nodes: [{ id: 'x', type: 'data.set', position: [0, 0] }, { id: 'gone', type: 'data.set', position: [5, 5] }], edges: [{ from: 'x', to: 'gone' }] };
    const b: Definition = { nodes: [{ id: 'x', type: 'data.set', name: 'X', position: [1, 1] }, { id: 'new', type: 'flow.if' }], edges: [{ from: 'x', to: 'new' }] };
    const m = mergeForDiff(a, b);
    expect(m.nodes.map((n) => n.id)).toEqual(['x', 'new', 'gone']);
    expect(m.nodes[0]).toBe(b.nodes[0]);
    expect(m.edges!.map(edgeKey)).toEqual(['x:main->new:main', 'x:main->gone:main']);
  });
});
