// The workflow editor at /workflows/:id: header (name, Save, Run, Versions,
// Activate), palette, canvas, node panel. The definition is the source of
// truth (state + ref, immutable); React Flow's nodes and edges are derived
// from it incrementally (convert.ts) and only drags and selection live in
// React Flow's own state until they are committed.
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  Background, ControlButton, Controls, MiniMap, ReactFlow, ReactFlowProvider, applyEdgeChanges, applyNodeChanges, useReactFlow,
  type Connection, type EdgeChange, type NodeChange, type OnSelectionChangeParams,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import './editor.css';
import { api, ApiError, call, callWithResponse, type Problem, type Schemas } from '../api/client';
import { setLeaveGuard, setQuery, useBeforeUnload, useLocation } from '../app/router';
import { useSession } from '../app/session';
import { Dialog } from '../ui/Dialog';
import { ErrorBoundary } from '../ui/ErrorBoundary';
import { ErrorNote } from '../ui/ErrorNote';
import { Link } from '../ui/Link';
import { Spinner, Time, formatTime, relative } from '../ui/misc';
import { toast, toastError } from '../ui/toast';
import {
  autoLayout, edgeKey, fromApi, makeEdge, mergeForDiff, toApi, toFlowEdges, toFlowNodes, withPositions,
  type Decorations, type Definition, type FlowEdge, type FlowNode, type NodeType, type WfNode,
} from './convert';
import { copyNodes, parseClip, pasteNodes, uniqueId, uniqueName, type ClipDoc } from './clipboard';
import { CLIPBOARD_KEY, clearDraft, loadDraft, loadLastExecution, saveDraft, saveLastExecution, sameDefinition, type Draft } from './drafts';
import { nodeTypes } from './NodeView';
import { DRAG_MIME, Palette } from './Palette';
import { UndoStack } from './undo';
import { debounce } from './util';
import { diffDefinitions } from './diff';
import { useExecution } from './live';
import { RunDialog } from './RunDialog';
import { DataPanel } from './DataPanel';
import { VersionsPanel } from './VersionsPanel';
import { ConflictDialog } from './ConflictDialog';
import { ExecutionBar } from './ExecutionBar';
import { DiffLegend } from './DiffLegend';
import './runview.css';

// The node panel brings CodeMirror: loaded when a node is first opened, so
// the canvas itself draws sooner.
const NodePanel = lazy(() => import('./NodePanel').then((m) => ({ default: m.NodePanel })));

type Workflow = Schemas['Workflow'];
const VIEWER = 'Viewers cannot edit';
// React Flow's props as constants: a new object on every render would make
// its memoised parts render again on every frame of a drag.
const MULTI_KEYS = ['Shift', 'Meta', 'Control'];
const FIT_OPTIONS = { maxZoom: 1, padding: 0.2 };
const PRO_OPTIONS = { hideAttribution: true };
const EDGE_OPTIONS = { interactionWidth: 16 };

// The catalogue changes only with the server: fetched once per page load.
let typesPromise: Promise<NodeType[]> | null = null;
export function loadNodeTypes(): Promise<NodeType[]> {
  if (!typesPromise) typesPromise = call(api.GET('/api/node-types')).catch((e) => { typesPromise = null; throw e; });
  return typesPromise;
}

export default function Editor({ id }: { id: string }) {
  return (
    <ReactFlowProvider>
      <EditorLoader id={id} />
    </ReactFlowProvider>
  );
}

type Version = Schemas['WorkflowVersion'];
interface Loaded { wf: Workflow; types: NodeType[]; version: Version | null; diff: { a: Version; b: Version } | null }

function EditorLoader({ id }: { id: string }) {
  const { query } = useLocation();
  const versionParam = query.get('version');
  const diffParam = query.get('diff');
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [gen, setGen] = useState(0);
  // Opened on an execution (/executions/{id} sends here): the canvas shows
  // the version that ran, read-only, when it is not the current one. Only
  // on arrival: a run started in the editor keeps the canvas as it is.
  const arrivingExecution = useRef(query.get('execution'));

  useEffect(() => {
    let live = true;
    setError(null);
    const exec = arrivingExecution.current;
    if (exec && !versionParam && !diffParam) {
      arrivingExecution.current = null;
      Promise.all([
        call(api.GET('/api/executions/{id}', { params: { path: { id: exec } } })),
        call(api.GET('/api/workflows/{id}', { params: { path: { id } } })),
      ]).then(([x, wf]) => {
        if (live && x.version && !x.definition && x.version !== wf.version) setQuery({ version: String(x.version) });
        else if (live) setGen((g) => g + 1);
      }).catch(() => { if (live) setGen((g) => g + 1); });
      return () => { live = false; };
    }
    const v = versionParam && /^\d+$/.test(versionParam) ? Number(versionParam) : null;
    const dm = diffParam ? /^(\d+)\.\.(\d+)$/.exec(diffParam) : null;
    const getVersion = (n: number) => call(api.GET('/api/workflows/{id}/versions/{version}', { params: { path: { id, version: n } } }));
    Promise.all([
      call(api.GET('/api/workflows/{id}', { params: { path: { id } } })),
      loadNodeTypes(),
      v ? getVersion(v) : Promise.resolve(null),
      dm ? Promise.all([getVersion(Number(dm[1])), getVersion(Number(dm[2]))]) : Promise.resolve(null),
    ]).then(([wf, types, version, d]) => { if (live) setLoaded({ wf, types, version, diff: d ? { a: d[0], b: d[1] } : null }); })
      .catch((e) => { if (live) setError(e); });
    return () => { live = false; };
  }, [id, versionParam, diffParam, gen]);

  if (error) {
    return (
      <div className="page">
        <h1>Workflow</h1>
        <ErrorNote error={error} />
        <p><button onClick={() => setGen((g) => g + 1)}>Try again</button> <Link href="/workflows">Back to the workflows</Link></p>
      </div>
    );
  }
  if (!loaded) return <div className="center"><Spinner label="Loading the workflow" /></div>;
  // A new key when switching between the current workflow and a version:
  // the canvas starts afresh (its undo history belongs to one of them).
  const key = loaded.diff ? `d${loaded.diff.a.version}..${loaded.diff.b.version}` : loaded.version ? 'v' + loaded.version.version : 'current';
  return <EditorCanvas key={key} loaded={loaded} reload={() => setGen((g) => g + 1)} />;
}

function EditorCanvas({ loaded, reload }: { loaded: Loaded; reload: () => void }) {
  const { canEdit } = useSession();
  const { query } = useLocation();
  const rf = useReactFlow<FlowNode, FlowEdge>();
  const [wf, setWf] = useState<Workflow>(loaded.wf);
  const id = wf.id;
  const viewVersion = loaded.version;
  const diffView = loaded.diff;
  const trashed = !!loaded.wf.deleted_at;
  const readOnly = !canEdit || !!viewVersion || !!diffView || trashed;
  const roTitle = !canEdit ? VIEWER : viewVersion ? 'An old version is read-only' : diffView ? 'A comparison is read-only'
    : trashed ? 'The workflow is in the trash: restore it first' : undefined;

  const typeList = loaded.types;
  const types = useMemo(() => new Map(typeList.map((t) => [t.id, t])), [typeList]);

  // fetch the node panel's code once the canvas is up, before the first click
  useEffect(() => { const t = setTimeout(() => { import('./NodePanel').catch(() => { /* the click shows why */ }); }, 800); return () => clearTimeout(t); }, []);

  // ---- the definition, its history, and what was saved ----
  const initial = useMemo(() => withPositions(
    diffView ? mergeForDiff(fromApi(diffView.a.definition), fromApi(diffView.b.definition))
      : fromApi(viewVersion ? viewVersion.definition : loaded.wf.definition), types), [diffView, viewVersion, loaded.wf.definition, types]);
  const diffMarks = useMemo(() => (diffView ? diffDefinitions(diffView.a.definition, diffView.b.definition) : null), [diffView]);
  const [def, setDefState] = useState<Definition>(initial);
  const defRef = useRef(def);
  const [saved, setSaved] = useState<Definition>(initial);
  const [version, setVersion] = useState(loaded.wf.version);
  const versionRef = useRef(version);
  versionRef.current = version;
  const undoRef = useRef(new UndoStack<Definition>(initial, 100));
  const [, setHistoryTick] = useState(0);
  const dirty = useMemo(() => !readOnly && def !== saved && !sameDefinitionCheap(def, saved), [readOnly, def, saved]);

  const setDef = useCallback((d: Definition) => { defRef.current = d; setDefState(d); }, []);
  const commit = useCallback((next: Definition, key?: string) => {
    if (next === defRef.current) return;
    undoRef.current.push(next, key);
    setDef(next);
    setHistoryTick((t) => t + 1);
  }, [setDef]);

  // ---- problems from the last save ----
  const [problems, setProblems] = useState<Problem[]>([]);
  const problemsByNode = useMemo(() => {
    const m: Record<string, string[]> = {};
    for (const p of problems) if (p.node) (m[p.node] ??= []).push(p.field ? `${p.field}: ${p.message}` : p.message);
    return m;
  }, [problems]);
  const clearProblems = useCallback((nodeId: string) => {
    setProblems((ps) => (ps.some((p) => p.node === nodeId) ? ps.filter((p) => p.node !== nodeId) : ps));
  }, []);

  // ---- execution (live view) ----
  const executionParam = query.get('execution');
  const [lastExecutionId, setLastExecutionId] = useState<string | null>(() => executionParam || loadLastExecution(loaded.wf.id));
  const rememberExecution = useCallback((executionId: string) => {
    saveLastExecution(id, executionId);
    setLastExecutionId(executionId);
  }, [id]);
  useEffect(() => { if (executionParam) rememberExecution(executionParam); }, [executionParam, rememberExecution]);
  // the run shown on the canvas: statuses and item counts live, a node's
  // items in the data panel (read in full while the panel is open)
  const [dataOpen, setDataOpen] = useState(true);
  const apiDef = useMemo(() => toApi(def), [def]);
  const live = useExecution(executionParam, apiDef, { data: dataOpen });

  // an execution of another workflow (a hand-edited address) is not drawn
  // on this one's canvas
  const foreignRun = !!live.execution && live.execution.workflow_id !== id;
  const showRun = !!executionParam && !foreignRun;
  const deco: Decorations = useMemo(() => ({
    problems: problemsByNode,
    readOnly,
    status: showRun ? live.nodeStatus : undefined,
    edgeCounts: showRun ? live.edgeCounts : undefined,
    nodeDiff: diffMarks?.nodes,
    edgeDiff: diffMarks?.edges,
  }), [problemsByNode, readOnly, diffMarks, showRun, live.nodeStatus, live.edgeCounts]);

  // ---- React Flow state, derived incrementally ----
  const [nodes, setNodes] = useState<FlowNode[]>(() => toFlowNodes(initial, types, deco));
  const [edges, setEdges] = useState<FlowEdge[]>(() => toFlowEdges(initial, deco));
  const nodesRef = useRef(nodes);
  nodesRef.current = nodes;
  const pendingSelect = useRef<Set<string> | null>(null);

  useEffect(() => {
    setNodes((prev) => {
      let next = toFlowNodes(def, types, deco, prev);
      const sel = pendingSelect.current;
      if (sel) {
        pendingSelect.current = null;
        next = next.map((n) => (!!n.selected === sel.has(n.id) ? n : { ...n, selected: sel.has(n.id) }));
      }
      nodesRef.current = next;
      return next;
    });
    setEdges((prev) => toFlowEdges(def, deco, prev));
  }, [def, types, deco]);

  const onNodesChange = useCallback((changes: NodeChange<FlowNode>[]) => {
    // removals go through onDelete (one step for nodes and their edges)
    const cs = changes.filter((c) => c.type !== 'remove');
    if (!cs.length) return;
    const next = applyNodeChanges(cs, nodesRef.current);
    nodesRef.current = next;
    setNodes(next);
    const ended = cs.filter((c) => c.type === 'position' && c.dragging === false).map((c) => (c as { id: string }).id);
    if (ended.length) {
      const moved = new Map(next.filter((n) => ended.includes(n.id)).map((n) => [n.id, n.position]));
      const d = defRef.current;
      const nd = {
        ...d,
        nodes: d.nodes.map((n) => {
          const p = moved.get(n.id);
          if (!p) return n;
          const x = Math.round(p.x), y = Math.round(p.y);
          return n.position && n.position[0] === x && n.position[1] === y ? n : { ...n, position: [x, y] };
        }),
      };
      if (nd.nodes.some((n, i) => n !== d.nodes[i])) commit(nd, 'drag:' + [...moved.keys()].join(','));
      undoRef.current.seal();
    }
  }, [commit]);

  const onEdgesChange = useCallback((changes: EdgeChange<FlowEdge>[]) => {
    const cs = changes.filter((c) => c.type !== 'remove');
    if (cs.length) setEdges((es) => applyEdgeChanges(cs, es));
  }, []);

  const removeElements = useCallback((nodeIds: Set<string>, edgeIds: Set<string>) => {
    const d = defRef.current;
    if (!nodeIds.size && !edgeIds.size) return;
    commit({
      ...d,
      nodes: d.nodes.filter((n) => !nodeIds.has(n.id)),
      edges: (d.edges ?? []).filter((e) => !nodeIds.has(e.from) && !nodeIds.has(e.to) && !edgeIds.has(edgeKey(e))),
    });
  }, [commit]);

  const onDelete = useCallback(({ nodes: ns, edges: es }: { nodes: FlowNode[]; edges: FlowEdge[] }) => {
    if (readOnly) return;
    removeElements(new Set(ns.map((n) => n.id)), new Set(es.map((e) => e.id)));
  }, [readOnly, removeElements]);

  const onConnect = useCallback((c: Connection) => {
    if (readOnly || !c.source || !c.target) return;
    const e = makeEdge(c.source, c.sourceHandle, c.target, c.targetHandle);
    const d = defRef.current;
    const k = edgeKey(e);
    if ((d.edges ?? []).some((x) => edgeKey(x) === k)) return;
    commit({ ...d, edges: [...(d.edges ?? []), e] });
    clearProblems(c.source); clearProblems(c.target);
  }, [readOnly, commit, clearProblems]);

  const isValidConnection = useCallback((c: Connection | FlowEdge) => c.source !== c.target, []);

  // ---- selection ----
  const [selectedIds, setSelectedIds] = useState<string[]>([]);
  const onSelectionChange = useCallback(({ nodes: ns }: OnSelectionChangeParams<FlowNode, FlowEdge>) => {
    setSelectedIds((prev) => {
      const ids = ns.map((n) => n.id);
      return ids.length === prev.length && ids.every((x, i) => x === prev[i]) ? prev : ids;
    });
  }, []);
  const selectOnly = useCallback((ids: string[]) => { pendingSelect.current = new Set(ids); }, []);
  const selectedNode = selectedIds.length === 1 ? def.nodes.find((n) => n.id === selectedIds[0]) ?? null : null;
  // The panel narrows the canvas: keep the node it shows in view.
  const panelId = selectedNode?.id ?? null;
  const draggingRef = useRef(false);
  const onNodeDragStart = useCallback(() => { draggingRef.current = true; }, []);
  const onNodeDragStop = useCallback(() => { draggingRef.current = false; }, []);
  useEffect(() => {
    if (!panelId) return;
    const raf = requestAnimationFrame(() => {
      if (draggingRef.current) return; // never move the view under a drag
      const el = document.querySelector('.editor-canvas')?.getBoundingClientRect();
      const n = rf.getInternalNode(panelId);
      if (!el || !n) return;
      const { x, y, zoom } = rf.getViewport();
      const w = (n.measured.width ?? 200) * zoom, h = (n.measured.height ?? 60) * zoom;
      const sx = n.internals.positionAbsolute.x * zoom + x, sy = n.internals.positionAbsolute.y * zoom + y;
      // the smallest pan that brings it inside, with a margin
      const m = 24;
      const dx = sx + w > el.width - m ? el.width - m - (sx + w) : sx < m ? m - sx : 0;
      const dy = sy + h > el.height - m ? el.height - m - (sy + h) : sy < m ? m - sy : 0;
      if (dx || dy) rf.setViewport({ x: x + dx, y: y + dy, zoom });
    });
    return () => cancelAnimationFrame(raf);
  }, [panelId, rf]);

  // ---- adding nodes ----
  const addNode = useCallback((typeId: string, at?: { x: number; y: number }) => {
    if (readOnly) return;
    const t = types.get(typeId);
    if (!t) return;
    const d = defRef.current;
    const ids = new Set(d.nodes.map((n) => n.id));
    const names = new Set(d.nodes.map((n) => n.name).filter((x): x is string => !!x));
    let pos = at;
    if (!pos) {
      // next to the selected node, else in the middle of the view
      const sel = nodesRef.current.filter((n) => n.selected);
      if (sel.length === 1) pos = { x: sel[0].position.x + 260, y: sel[0].position.y };
      else {
        const el = document.querySelector('.editor-canvas');
        const r = el?.getBoundingClientRect();
        pos = r ? rf.screenToFlowPosition({ x: r.left + r.width / 2 - 100, y: r.top + r.height / 2 - 30 }) : { x: 0, y: 0 };
      }
      pos = freeSpot(pos, nodesRef.current);
    }
    const node: WfNode = {
      id: uniqueId(typeId.split('.').pop() || 'node', ids),
      type: typeId,
      name: uniqueName(t.name, names),
      position: [Math.round(pos.x), Math.round(pos.y)],
    };
    const sel = nodesRef.current.filter((n) => n.selected);
    const edgesNext = [...(d.edges ?? [])];
    // clicking a palette entry with one node selected connects it after that node
    if (!at && sel.length === 1 && !t.trigger) {
      const from = d.nodes.find((n) => n.id === sel[0].id);
      const ft = from && types.get(from.type);
      if (ft && ft.outputs.length > 0 && t.inputs.length > 0) edgesNext.push(makeEdge(sel[0].id, ft.outputs[0], node.id, t.inputs[0]));
    }
    selectOnly([node.id]);
    commit({ ...d, nodes: [...d.nodes, node], edges: edgesNext });
  }, [readOnly, types, rf, commit, selectOnly]);

  const onDragOver = useCallback((e: React.DragEvent) => {
    if (e.dataTransfer.types.includes(DRAG_MIME)) { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; }
  }, []);
  const onDrop = useCallback((e: React.DragEvent) => {
    const t = e.dataTransfer.getData(DRAG_MIME);
    if (!t) return;
    e.preventDefault();
    const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    addNode(t, { x: p.x - 100, y: p.y - 30 });
  }, [rf, addNode]);

  // ---- node panel edits ----
  const updateNode = useCallback((nodeId: string, fn: (n: WfNode) => WfNode, key?: string) => {
    if (readOnly) return;
    const d = defRef.current;
    const i = d.nodes.findIndex((n) => n.id === nodeId);
    if (i < 0) return;
    const n = fn(d.nodes[i]);
    if (n === d.nodes[i]) return;
    const ns = [...d.nodes];
    ns[i] = n;
    commit({ ...d, nodes: ns }, key ? `node:${nodeId}:${key}` : undefined);
    clearProblems(nodeId);
  }, [readOnly, commit, clearProblems]);
  const deleteNode = useCallback((nodeId: string) => removeElements(new Set([nodeId]), new Set()), [removeElements]);
  const closePanel = useCallback(() => { selectOnly([]); setNodes((ns) => ns.map((n) => (n.selected ? { ...n, selected: false } : n))); }, [selectOnly]);

  // ---- undo / redo / layout / select all ----
  const undo = useCallback(() => { const d = undoRef.current.undo(); if (d) { setDef(d); setHistoryTick((t) => t + 1); } }, [setDef]);
  const redo = useCallback(() => { const d = undoRef.current.redo(); if (d) { setDef(d); setHistoryTick((t) => t + 1); } }, [setDef]);
  const layout = useCallback(() => {
    if (readOnly) return;
    commit(autoLayout(defRef.current, types));
    setTimeout(() => rf.fitView({ duration: 200, maxZoom: 1 }), 50);
  }, [readOnly, commit, types, rf]);
  const selectAll = useCallback(() => {
    setNodes((ns) => ns.map((n) => (n.selected ? n : { ...n, selected: true })));
  }, []);
  const deleteSelected = useCallback(() => {
    if (readOnly) return;
    removeElements(new Set(nodesRef.current.filter((n) => n.selected).map((n) => n.id)), new Set(edges.filter((e) => e.selected).map((e) => e.id)));
  }, [readOnly, removeElements, edges]);

  // ---- copy / paste ----
  const copySelection = useCallback((): ClipDoc | null => {
    const ids = new Set(nodesRef.current.filter((n) => n.selected).map((n) => n.id));
    if (!ids.size) return null;
    const doc = copyNodes(defRef.current, ids);
    try { localStorage.setItem(CLIPBOARD_KEY, JSON.stringify(doc)); } catch { /* fallback only */ }
    return doc;
  }, []);
  const pasteText = useCallback((text: string | null) => {
    if (readOnly) return;
    // the system clipboard when it has something; our own copy when the
    // browser gave nothing (no clipboard access)
    const clip = text ? parseClip(text) : parseClip(localStorage.getItem(CLIPBOARD_KEY) || '');
    if (!clip || !clip.nodes.length) return;
    // nodes from elsewhere (another workflow, far away) land in the view
    let at: [number, number] | undefined;
    const r = document.querySelector('.editor-canvas')?.getBoundingClientRect();
    if (r) {
      const tl = rf.screenToFlowPosition({ x: r.left, y: r.top }), br = rf.screenToFlowPosition({ x: r.right, y: r.bottom });
      const inView = clip.nodes.some((n) => n.position && n.position[0] + 40 > tl.x && n.position[0] + 40 < br.x - 100 && n.position[1] + 40 > tl.y && n.position[1] + 40 < br.y - 40);
      if (!inView) { const c = rf.screenToFlowPosition({ x: r.left + r.width / 3, y: r.top + r.height / 3 }); at = [Math.round(c.x), Math.round(c.y)]; }
    }
    const { def: nd, ids } = pasteNodes(defRef.current, clip, at ? { at } : { offset: [40, 40] });
    selectOnly(ids);
    commit(nd);
    toast('ok', `Pasted ${ids.length} node${ids.length > 1 ? 's' : ''}`);
  }, [readOnly, commit, selectOnly, rf]);

  useEffect(() => {
    const editable = (t: EventTarget | null) => t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) || !!t.closest('.cm-editor'));
    const inDialog = (t: EventTarget | null) => t instanceof HTMLElement && !!t.closest('dialog');
    const onCopy = (e: ClipboardEvent) => {
      if (editable(e.target) || inDialog(e.target) || window.getSelection()?.toString()) return;
      const doc = copySelection();
      if (!doc) return;
      e.preventDefault();
      e.clipboardData?.setData('text/plain', JSON.stringify(doc, null, 2));
      toast('ok', `Copied ${doc.nodes.length} node${doc.nodes.length > 1 ? 's' : ''}`);
    };
    const onPaste = (e: ClipboardEvent) => {
      if (editable(e.target) || inDialog(e.target)) return;
      const text = e.clipboardData?.getData('text/plain') || null;
      if (text ? !parseClip(text) : !localStorage.getItem(CLIPBOARD_KEY)) return;
      e.preventDefault();
      pasteText(text);
    };
    document.addEventListener('copy', onCopy);
    document.addEventListener('paste', onPaste);
    return () => { document.removeEventListener('copy', onCopy); document.removeEventListener('paste', onPaste); };
  }, [copySelection, pasteText]);

  // ---- save ----
  const [saving, setSaving] = useState(false);
  const [conflict, setConflict] = useState<{ theirs: Workflow; mine: Definition; error: ApiError } | null>(null);
  const [messageOpen, setMessageOpen] = useState(false);
  const [message, setMessage] = useState('');
  const [saveError, setSaveError] = useState<ApiError | null>(null);

  const adopt = useCallback((w: Workflow, opts: { keepCanvas?: boolean } = {}) => {
    const d = withPositions(fromApi(w.definition), types);
    setWf(w);
    setVersion(w.version);
    setSaved(d);
    if (!opts.keepCanvas) {
      undoRef.current.reset(d);
      setDef(d);
      setHistoryTick((t) => t + 1);
    }
    return d;
  }, [types, setDef]);

  // One save at a time: a second Ctrl-S while the first PUT is in flight
  // would send the same If-Match and come back as a conflict with the
  // user's own save.
  const savingRef = useRef(false);
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;
  const save = useCallback(async (msg?: string, baseVersion?: number) => {
    // a viewer's save goes to the server all the same (the button is
    // disabled; forced, the API's 403 message is what the user sees)
    if (viewVersion || diffView) { toast('error', 'This view is read-only: go back to the current version to edit.'); return; }
    if (savingRef.current) return;
    const sent = defRef.current;
    savingRef.current = true;
    setSaving(true);
    try {
      const body: Schemas['WorkflowSaveRequest'] = { definition: toApi(sent) };
      if (msg && msg.trim()) body.message = msg.trim();
      const { data } = await callWithResponse(api.PUT('/api/workflows/{id}', {
        params: { path: { id }, header: { 'If-Match': `"${baseVersion ?? versionRef.current}"` } },
        body,
      }));
      const d = withPositions(fromApi(data.definition), types);
      setWf(data);
      setVersion(data.version);
      setProblems([]);
      setSaveError(null);
      setActivationError(null);
      if (defRef.current === sent) {
        // the server's copy (with generated webhook paths) becomes the canvas
        undoRef.current.push(d);
        setDef(d);
        setSaved(d);
      } else {
        setSaved(d);
      }
      clearDraft(id);
      toast('ok', `Saved version ${data.version}`);
      setMessage('');
      setMessageOpen(false);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'version_conflict' && e.details.current) {
        setConflict({ theirs: e.details.current as Workflow, mine: sent, error: e });
      } else if (e instanceof ApiError && e.code === 'invalid_definition' && e.problems?.length) {
        setProblems(e.problems);
        setSaveError(e);
        toast('error', `Not saved: ${e.problems.length} problem${e.problems.length > 1 ? 's' : ''} in the workflow (marked on the nodes).`, e.requestId);
      } else {
        setSaveError(e instanceof ApiError ? e : null);
        toastError(e, 'Saving');
      }
    } finally {
      savingRef.current = false;
      setSaving(false);
    }
  }, [viewVersion, diffView, id, types, setDef]);

  const onReloadTheirs = useCallback(() => {
    if (!conflict) return;
    adopt(conflict.theirs);
    clearDraft(id);
    setConflict(null);
    toast('info', `Loaded version ${conflict.theirs.version}; your changes were dropped.`);
  }, [conflict, adopt, id]);
  const onKeepMine = useCallback(() => {
    if (!conflict) return;
    const theirs = conflict.theirs;
    setConflict(null);
    setWf((w) => ({ ...w, ...theirs, definition: w.definition }));
    setVersion(theirs.version);
    save(message, theirs.version);
  }, [conflict, save, message]);

  // ---- drafts, leaving ----
  const [offer, setOffer] = useState<Draft | null>(() => {
    if (viewVersion || diffView) return null;
    const d = loadDraft(loaded.wf.id);
    return d && !sameDefinition(d.definition, fromApi(loaded.wf.definition)) && !sameDefinition(d.definition, initial) ? d : null;
  });
  const writeDraft = useMemo(() => debounce((d: Definition, v: number) => saveDraft(id, d, v), 400), [id]);
  useEffect(() => {
    if (readOnly || offer) return;
    if (dirty) writeDraft(def, versionRef.current);
    else { writeDraft.cancel(); clearDraft(id); }
  }, [def, dirty, readOnly, offer, writeDraft, id]);
  useEffect(() => () => writeDraft.flush(), [writeDraft]);
  const restoreDraft = useCallback(() => {
    if (!offer) return;
    const d = withPositions(offer.definition, types);
    setVersion(offer.base_version);
    commit(d);
    setOffer(null);
    if (offer.base_version !== wf.version) toast('info', `These changes were based on version ${offer.base_version}; the workflow is at version ${wf.version} now. Saving will ask how to resolve it.`);
  }, [offer, types, commit, wf.version]);
  const discardDraft = useCallback(() => { clearDraft(id); setOffer(null); }, [id]);

  useBeforeUnload(dirty);
  useEffect(() => {
    setLeaveGuard(dirty ? () => 'This workflow has unsaved changes. Leave without saving?' : null);
    return () => setLeaveGuard(null);
  }, [dirty]);

  // ---- keyboard ----
  useEffect(() => {
    // keys that act on the canvas's selection (Delete, Backspace, Ctrl-A):
    // only while the canvas has the focus, or nothing has. React Flow's own
    // delete key skipped inputs only, so Backspace after a click on a button
    // of the node panel (Expression, Fixed) deleted the node being edited.
    const onCanvas = (t: HTMLElement | null) => !t || t === document.body || !!t.closest('.editor-canvas');
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      if ((e.key === 'Delete' || e.key === 'Backspace') && !mod && !e.altKey) {
        const t = e.target as HTMLElement | null;
        if (e.defaultPrevented || readOnly || !onCanvas(t) || (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)))) return;
        e.preventDefault();
        deleteSelected();
        return;
      }
      if (e.key === 'Escape' && !mod) {
        const t = e.target as HTMLElement | null;
        if (t && (t.closest('dialog') || t.closest('.cm-editor') || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
        closePanel();
        return;
      }
      if (!mod) return;
      const t = e.target as HTMLElement | null;
      const inField = !!t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) || !!t.closest('.cm-editor'));
      if (t?.closest('dialog')) return;
      const k = e.key.toLowerCase();
      if (k === 's') {
        e.preventDefault();
        // every save is a new version: Ctrl-S out of habit on an unchanged
        // canvas makes none (the Save button still can, for a message)
        if (!dirtyRef.current && canEdit && !readOnly) toast('info', 'No changes to save');
        else save();
        return;
      }
      if (inField) return;
      if (k === 'z' && !e.shiftKey) { e.preventDefault(); undo(); }
      else if ((k === 'z' && e.shiftKey) || k === 'y') { e.preventDefault(); redo(); }
      else if (k === 'a' && onCanvas(t)) { e.preventDefault(); selectAll(); }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [readOnly, canEdit, save, undo, redo, selectAll, closePanel, deleteSelected]);

  // ---- header: name, activation ----
  const [name, setName] = useState(wf.name);
  useEffect(() => setName(wf.name), [wf.name]);
  const rename = useCallback(async () => {
    const n = name.trim();
    if (!n || n === wf.name) { setName(wf.name); return; }
    try {
      const w = await call(api.PATCH('/api/workflows/{id}', { params: { path: { id } }, body: { name: n } }));
      setWf((old) => ({ ...old, name: w.name, updated_at: w.updated_at }));
      toast('ok', 'Renamed');
    } catch (e) { setName(wf.name); toastError(e, 'Renaming'); }
  }, [name, wf.name, id]);

  const [activating, setActivating] = useState(false);
  const [activationError, setActivationError] = useState<{ text: string; requestId?: string } | null>(null);
  const toggleActive = useCallback(async () => {
    setActivating(true);
    setActivationError(null);
    try {
      const w = wf.active
        ? await call(api.POST('/api/workflows/{id}/deactivate', { params: { path: { id } } }))
        : await call(api.POST('/api/workflows/{id}/activate', { params: { path: { id } } }));
      setWf((old) => ({ ...old, active: w.active, active_version: w.active_version, updated_at: w.updated_at }));
      toast('ok', w.active ? `Active: version ${w.active_version}'s triggers are live` : 'Deactivated');
    } catch (e) {
      let text = e instanceof Error ? e.message : String(e);
      if (e instanceof ApiError && e.code === 'no_trigger') text = 'Nothing to activate: the saved workflow has no webhook, schedule or error trigger. Add one and save first.';
      else if (e instanceof ApiError && e.code === 'webhook_path_taken') text = `A webhook path of this workflow is already in use by another workflow (${e.message}). Change the path in the webhook node, save, and activate again.`;
      else if (e instanceof ApiError && e.code === 'deleted') text = 'The workflow is in the trash: restore it first.';
      setActivationError({ text, requestId: e instanceof ApiError ? e.requestId : undefined });
    } finally {
      setActivating(false);
    }
  }, [wf.active, id]);

  // ---- version view ----
  const restoreVersion = useCallback(async () => {
    if (!viewVersion) return;
    try {
      const w = await call(api.POST('/api/workflows/{id}/versions/{version}/restore', {
        params: { path: { id, version: viewVersion.version }, header: { 'If-Match': `"${wf.version}"` } },
      }));
      toast('ok', `Version ${viewVersion.version} restored as version ${w.version}`);
      setQuery({ version: null });
    } catch (e) { toastError(e, 'Restoring'); }
  }, [viewVersion, id, wf.version]);

  const [runOpen, setRunOpen] = useState(false);
  const [versionsOpen, setVersionsOpen] = useState(false);

  const panelNode = selectedNode;
  const panelProblems = useMemo(() => (panelNode ? problems.filter((p) => p.node === panelNode.id) : []), [problems, panelNode]);
  // problems of the workflow as a whole, or of a node the canvas cannot point at (nodes[3])
  const generalProblems = problems.filter((p) => !p.node || !def.nodes.some((n) => n.id === p.node));
  const big = nodes.length > 120;
  // The minimap repaints every node on every frame of a drag: on big
  // workflows it halves the frame rate, so it starts off there.
  const [miniMap, setMiniMap] = useState(() => initial.nodes.length <= 120);

  return (
    <div className="editor">
      <header className="editor-head">
        <Link href="/workflows" className="back" aria-label="Back to the workflows">←</Link>
        <input className="wf-name" aria-label="Workflow name" value={name} maxLength={200} readOnly={!canEdit} title={!canEdit ? VIEWER : 'Rename'}
          onChange={(e) => setName(e.target.value)} onBlur={rename}
          onKeyDown={(e) => { if (e.key === 'Enter') (e.target as HTMLInputElement).blur(); if (e.key === 'Escape') { setName(wf.name); (e.target as HTMLInputElement).blur(); } }} />
        <span className="badge" title="The current version">v{version}</span>
        {dirty && <span className="badge warn" aria-live="polite">Unsaved changes</span>}
        {wf.active && <span className="badge ok" title={`Version ${wf.active_version} is live`}>Active</span>}
        <span className="spacer" />
        <div className="row" role="group" aria-label="Edit">
          <button className="small" onClick={undo} disabled={readOnly || !undoRef.current.canUndo} title={roTitle ?? 'Undo (Ctrl-Z)'}>Undo</button>
          <button className="small" onClick={redo} disabled={readOnly || !undoRef.current.canRedo} title={roTitle ?? 'Redo (Ctrl-Shift-Z)'}>Redo</button>
          <button className="small" onClick={layout} disabled={readOnly || def.nodes.length === 0} title={roTitle ?? 'Lay the nodes out left to right'}>Auto-layout</button>
          <button className="small" onClick={deleteSelected} disabled={readOnly || (!selectedIds.length && !edges.some((e) => e.selected))} title={roTitle ?? 'Delete the selection (Delete)'}>Delete</button>
        </div>
        <button onClick={() => setVersionsOpen(true)} title="Version history">Versions</button>
        <button onClick={() => setRunOpen(true)} disabled={!canEdit} title={!canEdit ? VIEWER : 'Run the workflow'}>Run</button>
        <button onClick={toggleActive} disabled={!canEdit || activating || !!viewVersion || !!diffView} aria-pressed={wf.active}
          title={!canEdit ? VIEWER : wf.active ? 'Stop the triggers' : dirty ? 'Activates the saved version (save first to include your changes)' : 'Make the triggers live'}>
          {wf.active ? 'Deactivate' : 'Activate'}
        </button>
        <div className="save-group">
          <button className="primary" onClick={() => save()} disabled={readOnly || saving} title={roTitle ?? 'Save (Ctrl-S)'}>{saving ? 'Saving…' : 'Save'}</button>
          <button className="small ghost" onClick={() => setMessageOpen(true)} disabled={readOnly || saving} title={roTitle ?? 'Save with a message'} aria-label="Save with message">✎</button>
        </div>
      </header>

      {viewVersion && (
        <div className="banner info" role="status">
          <strong>Version {viewVersion.version} (read-only)</strong>
          {viewVersion.message && <span> — “{viewVersion.message}”</span>}
          <span className="muted"> saved <Time at={viewVersion.created_at} /></span>
          <span className="spacer" />
          <button className="small" onClick={() => setQuery({ version: null })}>Back to current</button>
          <button className="small primary" onClick={restoreVersion} disabled={!canEdit} title={!canEdit ? VIEWER : `Make version ${viewVersion.version} current again`}>Restore</button>
        </div>
      )}
      {diffView && (
        <div className="banner info" role="status">
          <strong>Comparing version {diffView.a.version} with version {diffView.b.version} (read-only)</strong>
          <DiffLegend summary={diffMarks?.summary} />
          <span className="spacer" />
          <button className="small" onClick={() => setQuery({ diff: null })}>Back to current</button>
        </div>
      )}
      {executionParam && !diffView && (
        <div className="banner run-banner">
          <ExecutionBar execution={live.execution} status={live.status} streaming={live.streaming} canEdit={canEdit}
            onRetried={(x) => { rememberExecution(x); setQuery({ execution: x }); }}
            onClose={() => setQuery({ execution: null })} />
          {!dataOpen && <button className="small" onClick={() => setDataOpen(true)}>Show run data</button>}
          {live.error != null && <ErrorNote error={live.error} />}
          {foreignRun && <ErrorNote error={new Error('This execution belongs to another workflow; it is not shown on this canvas.')} />}
        </div>
      )}
      {trashed && <div className="banner warn" role="status">This workflow is in the trash: restore it from the workflow list to edit or run it.</div>}
      {!canEdit && !viewVersion && !diffView && <div className="banner" role="status">You are a viewer: this workflow is read-only.</div>}
      {offer && (
        <div className="banner warn" role="alert">
          <span>You have unsaved changes from {relative(new Date(offer.saved_at))} ({formatTime(offer.saved_at)}).</span>
          <span className="spacer" />
          <button className="small primary" onClick={restoreDraft}>Restore</button>
          <button className="small" onClick={discardDraft}>Discard</button>
        </div>
      )}
      {activationError && (
        <div className="banner err" role="alert"><span>{activationError.text}{activationError.requestId && <span className="reqid">request {activationError.requestId}</span>}</span><span className="spacer" /><button className="icon" aria-label="Dismiss" onClick={() => setActivationError(null)}>×</button></div>
      )}
      {(generalProblems.length > 0 || (saveError && !problems.length)) && (
        <div className="banner err" role="alert">
          <div>
            {saveError && !problems.length && <div>Not saved: {saveError.message}{saveError.requestId && <span className="reqid">request {saveError.requestId}</span>}</div>}
            {generalProblems.map((p, i) => <div key={i}>{p.field && <code>{p.field}</code>} {p.message}</div>)}
          </div>
          <span className="spacer" /><button className="icon" aria-label="Dismiss" onClick={() => { setSaveError(null); setProblems((ps) => ps.filter((p) => p.node && defRef.current.nodes.some((n) => n.id === p.node))); }}>×</button>
        </div>
      )}

      <div className="editor-body">
        {/* the run data and the node panel side by side leave the palette no room */}
        {!readOnly && !(panelNode && ((executionParam && dataOpen) || versionsOpen)) && <Palette types={typeList} onAdd={addNode} />}
        <div className="editor-canvas" onDragOver={onDragOver} onDrop={onDrop}>
          <ReactFlow<FlowNode, FlowEdge>
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onConnect={onConnect}
            onDelete={onDelete}
            onSelectionChange={onSelectionChange}
            onNodeDragStart={onNodeDragStart}
            onNodeDragStop={onNodeDragStop}
            isValidConnection={isValidConnection}
            nodesDraggable={!readOnly}
            nodesConnectable={!readOnly}
            elementsSelectable
            selectNodesOnDrag={false}
            deleteKeyCode={null}
            multiSelectionKeyCode={MULTI_KEYS}
            selectionKeyCode="Shift"
            fitView={initial.nodes.length > 0}
            fitViewOptions={FIT_OPTIONS}
            minZoom={0.1}
            maxZoom={2}
            onlyRenderVisibleElements={big}
            proOptions={PRO_OPTIONS}
            defaultEdgeOptions={EDGE_OPTIONS}
            aria-label="Workflow canvas"
          >
            <Background gap={20} />
            <Controls showInteractive={false}>
              <ControlButton onClick={() => setMiniMap((m) => !m)} aria-label={miniMap ? 'Hide the minimap' : 'Show the minimap'} title={miniMap ? 'Hide the minimap' : 'Show the minimap'} aria-pressed={miniMap}>
                <svg viewBox="0 0 24 24" width="12" height="12" aria-hidden fill="none" stroke="currentColor" strokeWidth="2.5"><rect x="3" y="5" width="18" height="14" rx="1" /><rect x="12" y="11" width="6" height="5" fill="currentColor" stroke="none" /></svg>
              </ControlButton>
            </Controls>
            {miniMap && <MiniMap pannable zoomable nodeStrokeWidth={0} nodeBorderRadius={3} nodeClassName={miniClass} />}
          </ReactFlow>
          {def.nodes.length === 0 && (
            <div className="canvas-empty">
              {readOnly ? <p>This workflow has no nodes.</p> : <p>Drag a trigger from the palette (a Webhook, for example), then the steps after it, and connect them by dragging from a node's right handle to the next node's left one.</p>}
            </div>
          )}
        </div>
        {panelNode && (
          // a panel that fails (or whose code no longer loads) must not take
          // the canvas and its unsaved changes with it
          <ErrorBoundary resetKey={panelNode.id} what="The node panel" asideClass="node-panel">
            <Suspense fallback={<aside className="node-panel" aria-busy="true"><div className="center"><Spinner label="Loading the node panel" /></div></aside>}>
              <NodePanel node={panelNode} type={types.get(panelNode.type)} readOnly={readOnly} problems={panelProblems}
                onUpdate={updateNode} onClose={closePanel} onDelete={deleteNode} lastExecutionId={lastExecutionId} />
            </Suspense>
          </ErrorBoundary>
        )}
        {showRun && panelNode && dataOpen && (
          <aside className="data-dock" aria-label={`Data of ${panelNode.name || panelNode.id}`}>
            <header><h2>Run data · {panelNode.name || panelNode.id}</h2><button className="icon" aria-label="Hide the run data" onClick={() => setDataOpen(false)}>×</button></header>
            <DataPanel execution={live.execution} nodeId={panelNode.id} nodeName={panelNode.name} status={live.nodeStatus[panelNode.id]} />
          </aside>
        )}
        {versionsOpen && (
          <div className="versions-dock">
          <VersionsPanel workflowId={id} currentVersion={version} openVersion={viewVersion?.version ?? null} dirty={dirty}
          onOpen={(v) => { setVersionsOpen(false); setQuery({ version: String(v), diff: null, execution: null }); }}
          onDiff={(a, b) => { setVersionsOpen(false); setQuery({ diff: `${a}..${b}`, version: null, execution: null }); }}
          onRestored={(w) => { setVersionsOpen(false); if (viewVersion || diffView) { setQuery({ version: null, diff: null }); reload(); } else { adopt(w); clearDraft(id); } }}
          onClose={() => setVersionsOpen(false)} />
          </div>
        )}
      </div>

      <Dialog title="Save with a message" open={messageOpen} onClose={() => setMessageOpen(false)}
        footer={<><button onClick={() => setMessageOpen(false)}>Cancel</button><button className="primary" disabled={saving} onClick={() => save(message)}>Save</button></>}>
        <label className="field">
          <span className="label">What changed</span>
          <textarea rows={3} maxLength={500} value={message} onChange={(e) => setMessage(e.target.value)} autoFocus />
          <small className="hint">Shown in the version history (at most 500 characters).</small>
        </label>
      </Dialog>

      {conflict && (
        <ConflictDialog open mine={toApi(conflict.mine)} base={toApi(saved)} baseVersion={version} theirs={conflict.theirs}
          onReloadTheirs={onReloadTheirs} onKeepMine={onKeepMine} onClose={() => setConflict(null)} busy={saving} />
      )}

      <RunDialog open={runOpen} onClose={() => setRunOpen(false)} workflowId={id} definition={apiDef} dirty={dirty}
        nodeTypes={typeList} onStarted={(x) => { setRunOpen(false); rememberExecution(x); setDataOpen(true); setQuery({ execution: x }); }}
        onProblems={(ps) => setProblems(ps)} />
    </div>
  );
}

/** The first place at or below `p` where a new node overlaps no other. */
function freeSpot(p: { x: number; y: number }, nodes: FlowNode[]): { x: number; y: number } {
  const W = 200, H = 70, gap = 16;
  const hits = (q: { x: number; y: number }) => nodes.some((n) => {
    const w = n.measured?.width ?? W, h = n.measured?.height ?? H;
    return q.x < n.position.x + w + gap && q.x + W + gap > n.position.x && q.y < n.position.y + h + gap && q.y + H + gap > n.position.y;
  });
  for (let col = 0; col < 6; col++) {
    for (let row = 0; row < 8; row++) {
      const q = { x: p.x + col * 240, y: p.y + row * 90 };
      if (!hits(q)) return q;
    }
  }
  return p;
}

function miniClass(n: FlowNode): string {
  const d = n.data;
  return ['mini', 'cat-' + (d.type?.category ?? 'unknown'), d.status ? 'st-' + d.status : '', d.diff ? 'diff-' + d.diff : ''].filter(Boolean).join(' ');
}

/** Cheap structural check for the "dirty" flag: identity first, then JSON. */
function sameDefinitionCheap(a: Definition, b: Definition): boolean {
  if (a === b) return true;
  if (a.nodes.length !== b.nodes.length || (a.edges?.length ?? 0) !== (b.edges?.length ?? 0)) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
