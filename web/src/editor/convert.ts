// Definition ⇄ React Flow. The workflow definition is the source of truth;
// React Flow nodes and edges are derived from it, reusing the previous
// objects for nodes that did not change (so a change to one node re-renders
// one node, not two hundred).
import dagre from '@dagrejs/dagre';
import type { Edge, Node } from '@xyflow/react';
import type { Schemas } from '../api/client';

// The generated types say `params: Record<string, never>` (an object of
// any keys) and make defaulted ports required; the editor's own shapes say
// what the server accepts: params of any JSON, ports left out meaning main.
export type WfNode = Omit<Schemas['WorkflowNode'], 'params'> & { params?: Record<string, unknown> };
export type WfEdge = Omit<Schemas['WorkflowEdge'], 'from_port' | 'to_port'> & { from_port?: string; to_port?: string };
export type Definition = Omit<Schemas['WorkflowDefinition'], 'nodes' | 'edges'> & { nodes: WfNode[]; edges?: WfEdge[] };

/** The API's definition type ⇄ the editor's (same JSON, looser types). */
export function fromApi(d: Schemas['WorkflowDefinition'] | null | undefined): Definition {
  return (d ?? { nodes: [], edges: [] }) as unknown as Definition;
}
export function toApi(d: Definition): Schemas['WorkflowDefinition'] {
  return d as unknown as Schemas['WorkflowDefinition'];
}
export type NodeType = Schemas['NodeType'];
export type NodeParam = Schemas['NodeParam'];

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'waiting';
export type DiffMark = 'added' | 'removed' | 'changed';

/** The identity of an edge: from, ports and to (no two edges share it). */
export function edgeKey(e: { from: string; from_port?: string | null; to: string; to_port?: string | null }): string {
  return `${e.from}:${e.from_port ?? 'main'}->${e.to}:${e.to_port ?? 'main'}`;
}

/** What a canvas node draws. Kept small: the node itself and its marks. */
export interface NodeData extends Record<string, unknown> {
  node: WfNode;
  type?: NodeType;
  status?: RunStatus;
  diff?: DiffMark;
  problems?: string[];
  readOnly?: boolean;
}
export interface EdgeData extends Record<string, unknown> {
  edge: WfEdge;
  count?: number;
  diff?: 'added' | 'removed';
}
export type FlowNode = Node<NodeData, 'wf'>;
export type FlowEdge = Edge<EdgeData>;

/** Per-node and per-edge decorations (run status, diff marks, problems). */
export interface Decorations {
  status?: Record<string, RunStatus>;
  nodeDiff?: Record<string, DiffMark>;
  edgeDiff?: Record<string, 'added' | 'removed'>;
  edgeCounts?: Record<string, number>;
  problems?: Record<string, string[]>;
  readOnly?: boolean;
}

export const NODE_W = 200;
export const NODE_H = 64;

/** Positions for every node, by dagre, left to right. */
export function layoutPositions(def: Definition, types?: Map<string, NodeType>): Map<string, [number, number]> {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 40, ranksep: 80, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of def.nodes) {
    const t = types?.get(n.type);
    const ports = Math.max(t?.outputs.length ?? 1, t?.inputs.length ?? 1);
    g.setNode(n.id, { width: NODE_W, height: Math.max(NODE_H, 22 + ports * 18) });
  }
  const ids = new Set(def.nodes.map((n) => n.id));
  for (const e of def.edges ?? []) if (ids.has(e.from) && ids.has(e.to) && e.from !== e.to) g.setEdge(e.from, e.to);
  dagre.layout(g);
  const out = new Map<string, [number, number]>();
  for (const n of def.nodes) {
    const p = g.node(n.id);
    out.set(n.id, [Math.round(p.x - p.width / 2), Math.round(p.y - p.height / 2)]);
  }
  return out;
}

/**
 * The definition with every node positioned: nodes that have a position keep
 * it; the others are laid out by dagre (placed below the positioned ones when
 * there are some). Nothing else changes; a definition that is fully
 * positioned comes back as the same object.
 */
export function withPositions(def: Definition, types?: Map<string, NodeType>): Definition {
  const missing = def.nodes.filter((n) => !validPos(n.position));
  if (missing.length === 0) return def;
  const laid = layoutPositions(def, types);
  let dy = 0;
  const placed = def.nodes.filter((n) => validPos(n.position));
  if (placed.length) {
    const maxY = Math.max(...placed.map((n) => n.position![1]));
    const minLaid = Math.min(...missing.map((n) => laid.get(n.id)![1]));
    dy = maxY + NODE_H + 60 - minLaid;
  }
  return {
    ...def,
    nodes: def.nodes.map((n) => (validPos(n.position) ? n : { ...n, position: [laid.get(n.id)![0], laid.get(n.id)![1] + dy] })),
  };
}

/** Every node laid out afresh (the Auto-layout button). */
export function autoLayout(def: Definition, types?: Map<string, NodeType>): Definition {
  const laid = layoutPositions(def, types);
  return { ...def, nodes: def.nodes.map((n) => ({ ...n, position: laid.get(n.id)! })) };
}

function validPos(p: unknown): p is [number, number] {
  return Array.isArray(p) && p.length === 2 && Number.isFinite(p[0]) && Number.isFinite(p[1]);
}

function sameList(a?: string[], b?: string[]) {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  return a.every((x, i) => x === b[i]);
}

/**
 * React Flow nodes for a definition. `prev` (the current canvas nodes) is
 * reused: a node whose definition object and marks did not change keeps its
 * object, so its memoised component does not render again; `selected` and
 * `measured` are carried over.
 */
export function toFlowNodes(def: Definition, types: Map<string, NodeType>, deco: Decorations = {}, prev: FlowNode[] = []): FlowNode[] {
  const before = new Map(prev.map((n) => [n.id, n]));
  const laid = def.nodes.some((n) => !validPos(n.position)) ? withPositions(def, types) : def;
  return laid.nodes.map((node) => {
    const p = before.get(node.id);
    const status = deco.status?.[node.id];
    const diff = deco.nodeDiff?.[node.id];
    const problems = deco.problems?.[node.id];
    const type = types.get(node.type);
    const readOnly = !!deco.readOnly;
    const position = { x: node.position![0], y: node.position![1] };
    if (p && p.data.node === node && p.data.type === type && p.data.status === status && p.data.diff === diff &&
        sameList(p.data.problems, problems) && p.data.readOnly === readOnly && p.position.x === position.x && p.position.y === position.y) {
      return p;
    }
    const data: NodeData = { node, type, status, diff, problems, readOnly };
    if (p) return { ...p, position, data, draggable: !readOnly, connectable: !readOnly, deletable: !readOnly };
    return { id: node.id, type: 'wf', position, data, draggable: !readOnly, connectable: !readOnly, deletable: !readOnly };
  });
}

/** React Flow edges for a definition; handles are the ports. */
export function toFlowEdges(def: Definition, deco: Decorations = {}, prev: FlowEdge[] = []): FlowEdge[] {
  const before = new Map(prev.map((e) => [e.id, e]));
  return (def.edges ?? []).map((edge) => {
    const id = edgeKey(edge);
    const count = deco.edgeCounts?.[id];
    const diff = deco.edgeDiff?.[id];
    const p = before.get(id);
    if (p && p.data?.edge === edge && p.data.count === count && p.data.diff === diff && p.deletable === !deco.readOnly) return p;
    const e: FlowEdge = {
      id, source: edge.from, target: edge.to,
      sourceHandle: edge.from_port ?? 'main', targetHandle: edge.to_port ?? 'main',
      data: { edge, count, diff },
      deletable: !deco.readOnly,
      className: diff ? 'edge-' + diff : undefined,
      label: count !== undefined ? `${count} item${count === 1 ? '' : 's'}` : undefined,
      animated: false,
    };
    if (p?.selected) e.selected = true;
    return e;
  });
}

/**
 * The definition for canvas nodes and edges: every field of a node is kept
 * (params, retry, timeout_ms, continue_on_fail, disabled, notes, name); the
 * position is the canvas's, rounded. Edges keep their objects (so a port
 * left out stays left out).
 */
export function fromFlow(base: Definition, nodes: FlowNode[], edges: FlowEdge[]): Definition {
  const out: Definition = {
    ...base,
    nodes: nodes.map((n) => {
      const x = Math.round(n.position.x), y = Math.round(n.position.y);
      const node = n.data.node;
      if (node.position && node.position[0] === x && node.position[1] === y) return node;
      return { ...node, position: [x, y] };
    }),
    edges: edges.map((e) => e.data?.edge ?? makeEdge(e.source, e.sourceHandle, e.target, e.targetHandle)),
  };
  return out;
}

/** A definition edge; ports named main are left out (their default). */
export function makeEdge(from: string, fromPort: string | null | undefined, to: string, toPort: string | null | undefined): WfEdge {
  const e: WfEdge = { from, to };
  if (fromPort && fromPort !== 'main') e.from_port = fromPort;
  if (toPort && toPort !== 'main') e.to_port = toPort;
  return e;
}

/** The output ports a node shows: its type's, plus error with continue_on_fail. */
export function outputPorts(node: WfNode, type?: NodeType): string[] {
  const outs = type ? [...type.outputs] : ['main'];
  if (node.continue_on_fail && type && !type.trigger) outs.push('error');
  return outs;
}
export function inputPorts(type?: NodeType): string[] {
  return type ? type.inputs : ['main'];
}

/**
 * One canvas for the diff of two versions: every node and edge of `b`, plus
 * those only in `a` (drawn as removed, where they were in `a`).
 */
export function mergeForDiff(a: Definition, b: Definition): Definition {
  const inB = new Set(b.nodes.map((n) => n.id));
  const edgesB = new Set((b.edges ?? []).map(edgeKey));
  return {
    ...b,
    nodes: [...b.nodes, ...a.nodes.filter((n) => !inB.has(n.id))],
    edges: [...(b.edges ?? []), ...(a.edges ?? []).filter((e) => !edgesB.has(edgeKey(e)))],
  };
}
