// Watching an execution: the execution as GET /api/executions/{id} gives
// it, then its live progress from GET /api/executions/{id}/events (served
// by glyphic-events as server-sent events):
//
//   event: step.started  data {run_index, node_id, attempt}            (no id)
//   id: <seq>
//   event: step          data {seq, node_id, run_index, attempt, status, error,
//                              started_at, finished_at, items}        items: {port: count} | null
//   event: execution     data {id, status, error}                    (last; the stream ends)
//
// The stream also ends without an execution event (after
// executions.events_max_seconds, or when glyphic-events restarts); the
// browser's EventSource then reconnects by itself, sending Last-Event-ID
// (the seq of the last step it saw) so only later steps come. A stream
// that cannot start (401, 404, 429, 503) closes the EventSource for good:
// then the hook polls GET /api/executions/{id} until the execution ends.
//
// The pure part (folding steps and events into node statuses and edge
// counts) is exported for tests; useExecution is the React side.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError, call, type Schemas } from '../api/client';
import { edgeKey, type Definition } from './diff';

export type Execution = Schemas['Execution'];
export type ExecutionStatus = Schemas['ExecutionStatus'];
export type ExecutionError = Schemas['ExecutionError'];
export type NodeRunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'waiting';

/** A recorded step as the event stream sends it: item counts, not items. */
export interface StepEvent {
  seq: number;
  node_id: string;
  run_index: number;
  attempt: number;
  status: 'succeeded' | 'failed' | 'waiting';
  error: ExecutionError;
  started_at: string;
  finished_at: string;
  /** items per output port; null for a failed attempt (or one with no output) */
  items: Record<string, number> | null;
}
export interface StartedEvent { run_index: number; node_id: string; attempt: number }
export interface ExecutionEvent { id: string; status: ExecutionStatus; error: ExecutionError }

export type LiveEvent =
  | { type: 'step.started'; data: StartedEvent }
  | { type: 'step'; data: StepEvent }
  | { type: 'execution'; data: ExecutionEvent };

/** What is known of an execution's progress. Treat as immutable. */
export interface LiveState {
  /** null until the execution was read */
  status: ExecutionStatus | null;
  error: ExecutionError;
  /** recorded steps, in seq order, each seq once */
  steps: StepEvent[];
  /** the highest seq seen (what Last-Event-ID would say) */
  lastSeq: number;
  /** attempts announced as started whose step is not recorded yet */
  started: StartedEvent[];
}

export const emptyLive: LiveState = { status: null, error: null, steps: [], lastSeq: 0, started: [] };

const FINAL = new Set<ExecutionStatus>(['succeeded', 'failed', 'canceled']);
/** succeeded, failed and canceled: the execution will not change any more. */
export function isFinal(status: ExecutionStatus | null | undefined): boolean {
  return !!status && FINAL.has(status);
}

/** A step of GET /api/executions/{id} in the stream's shape. */
export function stepEventOf(s: Schemas['ExecutionStep']): StepEvent {
  let items: Record<string, number> | null = null;
  if (s.output && typeof s.output === 'object') {
    for (const [port, v] of Object.entries(s.output)) {
      if (Array.isArray(v)) (items ??= {})[port] = v.length;
    }
  }
  return {
    seq: s.seq, node_id: s.node_id, run_index: s.run_index, attempt: s.attempt, status: s.status,
    error: s.error ?? null, started_at: s.started_at, finished_at: s.finished_at, items,
  };
}

/** The state an execution read in full gives (steps sorted by seq). */
export function liveFromExecution(e: Pick<Execution, 'status' | 'error' | 'steps'>): LiveState {
  const steps = [...(e.steps ?? [])].sort((a, b) => a.seq - b.seq).map(stepEventOf);
  return { status: e.status, error: e.error ?? null, steps, lastSeq: steps.length ? steps[steps.length - 1].seq : 0, started: [] };
}

function after(a: { run_index: number; attempt: number }, b: { run_index: number; attempt: number }): boolean {
  return a.run_index > b.run_index || (a.run_index === b.run_index && a.attempt > b.attempt);
}

/** The state after one event. Repeated events (a replay after reconnecting) change nothing. */
export function applyEvent(s: LiveState, ev: LiveEvent): LiveState {
  switch (ev.type) {
    case 'step.started': {
      const d = ev.data;
      if (isFinal(s.status)) return s;
      const recorded = s.steps.some((x) => x.run_index === d.run_index && x.attempt >= d.attempt);
      const known = s.started.some((x) => x.run_index === d.run_index && x.attempt === d.attempt);
      const status = s.status === 'queued' || s.status === null || s.status === 'waiting' ? 'running' : s.status;
      if (recorded || known) return status === s.status ? s : { ...s, status };
      return { ...s, status, started: [...s.started, { run_index: d.run_index, node_id: d.node_id, attempt: d.attempt }] };
    }
    case 'step': {
      const d = ev.data;
      if (s.steps.some((x) => x.seq === d.seq)) return s;
      const step: StepEvent = { ...d, error: d.error ?? null, items: d.items ?? null };
      const steps = d.seq > s.lastSeq ? [...s.steps, step] : [...s.steps, step].sort((a, b) => a.seq - b.seq);
      const started = s.started.filter((x) => !(x.run_index === d.run_index && x.attempt <= d.attempt));
      // a step says the execution runs (or, for a waiting step, is parked);
      // a final status stays (a replay after the end changes nothing)
      let status = s.status;
      if (!isFinal(status)) status = d.status === 'waiting' ? 'waiting' : 'running';
      return { ...s, status, steps, started, lastSeq: Math.max(s.lastSeq, d.seq) };
    }
    case 'execution':
      return { ...s, status: ev.data.status, error: ev.data.error ?? null, started: [] };
  }
}

/** Folds a list of events (for tests and replays). */
export function foldEvents(events: LiveEvent[], from: LiveState = emptyLive): LiveState {
  return events.reduce(applyEvent, from);
}

/**
 * Each node's run status. While the execution is not finished, nodes of
 * the definition not reached yet are 'queued'; an attempt that started and
 * is not recorded is 'running'; otherwise the node's latest step (highest
 * activation, then attempt) gives succeeded, failed or waiting. Once the
 * execution is finished, nodes it never reached have no entry. A failed
 * attempt of a node whose retries are not used up, while the execution is
 * parked (waiting), is 'waiting' (a long retry backoff).
 */
export function nodeStatuses(s: LiveState, definition?: Definition | null): Record<string, NodeRunStatus> {
  const out: Record<string, NodeRunStatus> = {};
  const final = isFinal(s.status);
  if (!final && s.status !== null) for (const n of definition?.nodes ?? []) out[n.id] = 'queued';
  const latest = new Map<string, StepEvent>();
  for (const st of s.steps) {
    const cur = latest.get(st.node_id);
    if (!cur || !after(cur, st)) latest.set(st.node_id, st);
  }
  for (const [id, st] of latest) {
    out[id] = st.status;
    if (s.status === 'waiting' && st.status === 'failed') {
      const n = definition?.nodes.find((x) => x.id === id);
      if ((n?.retry?.max ?? 0) > st.attempt) out[id] = 'waiting';
    }
  }
  if (!final) {
    for (const x of s.started) {
      const cur = latest.get(x.node_id);
      if (!cur || after(x, cur)) out[x.node_id] = 'running';
    }
  }
  return out;
}

/**
 * Items each node put on each output port: over its activations, the
 * latest attempt's counts, summed.
 */
export function portCounts(s: LiveState): Record<string, Record<string, number>> {
  const latest = new Map<string, StepEvent>(); // node_id \u0000 run_index -> latest attempt
  for (const st of s.steps) {
    const k = st.node_id + '\u0000' + st.run_index;
    const cur = latest.get(k);
    if (!cur || st.attempt >= cur.attempt) latest.set(k, st);
  }
  const out: Record<string, Record<string, number>> = {};
  for (const st of latest.values()) {
    if (!st.items) continue;
    const ports = (out[st.node_id] ??= {});
    for (const [port, n] of Object.entries(st.items)) ports[port] = (ports[port] ?? 0) + (typeof n === 'number' ? n : 0);
  }
  return out;
}

/**
 * Item counts per edge (by edgeKey): what the edge's from node put on its
 * from_port. Edges from a node that has produced no output yet have no
 * entry; a port that produced nothing while others did counts 0.
 */
export function edgeCounts(s: LiveState, definition?: Definition | null): Record<string, number> {
  const counts = portCounts(s);
  const out: Record<string, number> = {};
  for (const e of definition?.edges ?? []) {
    const ports = counts[e.from];
    if (!ports) continue;
    out[edgeKey(e)] = ports[e.from_port ?? 'main'] ?? 0;
  }
  return out;
}

/** Parses one SSE message's data; null when it is not the JSON expected. */
export function parseEvent(type: string, data: string): LiveEvent | null {
  let d: unknown;
  try {
    d = JSON.parse(data);
  } catch {
    return null;
  }
  if (!d || typeof d !== 'object') return null;
  const o = d as Record<string, unknown>;
  if (type === 'step.started' && typeof o.node_id === 'string' && typeof o.run_index === 'number' && typeof o.attempt === 'number') {
    return { type, data: o as unknown as StartedEvent };
  }
  if (type === 'step' && typeof o.seq === 'number' && typeof o.node_id === 'string') return { type, data: o as unknown as StepEvent };
  if (type === 'execution' && typeof o.status === 'string') return { type, data: o as unknown as ExecutionEvent };
  return null;
}

/* ---- the hook ---- */

export interface LiveExecution {
  /** the execution as last read in full (steps with their items); null before the first read */
  execution: Execution | null;
  /** the definition that ran (the one given, else the execution's own, else its version's) */
  definition: Definition | null;
  nodeStatus: Record<string, NodeRunStatus>;
  edgeCounts: Record<string, number>;
  /** the execution status as last known (the stream's, which can be ahead of execution.status) */
  status: ExecutionStatus | null;
  /** finished, and read in full once more */
  done: boolean;
  /** the last error (an ApiError when the API answered one); the hook keeps trying where it can */
  error: unknown;
  /** true while progress comes from the event stream, false when polling or idle */
  streaming: boolean;
  /** reads the execution in full again (e.g. to show a running execution's data) */
  refresh: () => void;
}

const POLL_MS = 2000;

interface HookState {
  id: string | null;
  execution: Execution | null;
  live: LiveState;
  versionDefinition: Definition | null;
  done: boolean;
  error: unknown;
  streaming: boolean;
}

const idle: HookState = { id: null, execution: null, live: emptyLive, versionDefinition: null, done: false, error: null, streaming: false };

/** Reading the execution in full again while it runs, for its items: at most this often. */
const DATA_MS = 1000;

/**
 * Follows an execution live. definition: the graph that runs, to mark nodes
 * not reached yet as queued and to key edge counts; without it the hook
 * uses the execution's own definition (unsaved runs) or reads the version
 * that ran. opts.data: while true (say, while a data panel is open), the
 * execution is read in full again after new steps (at most once a second),
 * so `execution.steps` carries the items of a running execution too;
 * otherwise only the event stream's counts arrive until the end.
 */
export function useExecution(executionId: string | null, definition?: Definition | null, opts?: { data?: boolean }): LiveExecution {
  const [st, setSt] = useState<HookState>(idle);
  const refreshRef = useRef<() => void>(() => {});
  const followData = useRef(false);
  followData.current = !!opts?.data;
  const wantVersion = !definition;

  useEffect(() => {
    if (!executionId) {
      setSt(idle);
      return;
    }
    const id = executionId;
    let closed = false;
    let es: EventSource | null = null;
    let pollTimer: ReturnType<typeof setTimeout> | null = null;
    let flushTimer: ReturnType<typeof setTimeout> | null = null;
    let dataTimer: ReturnType<typeof setTimeout> | null = null;
    let live: LiveState = emptyLive;
    let finishing = false;
    setSt({ ...idle, id });

    const update = (patch: Partial<HookState>) => { if (!closed) setSt((s) => (s.id === id ? { ...s, ...patch } : s)); };
    // SSE messages come one task each: apply them to `live` at once, render at most every 50 ms
    const scheduleFlush = () => {
      if (flushTimer) return;
      flushTimer = setTimeout(() => { flushTimer = null; update({ live }); }, 50);
    };

    // full reads can overlap (a refresh and the final read): an answer older
    // than one already used is dropped (null)
    let issued = 0, used = 0;
    const read = async (): Promise<Execution | null> => {
      const n = ++issued;
      const ex = await call(api.GET('/api/executions/{id}', { params: { path: { id } } }));
      if (n < used) return null;
      used = n;
      return ex;
    };

    const finish = async () => {
      if (finishing) return;
      finishing = true;
      es?.close();
      es = null;
      try {
        const ex = await read();
        if (closed) return;
        if (!ex) { finishing = false; void finish(); return; } // a read that began earlier came back later: read again
        live = liveFromExecution(ex);
        update({ execution: ex, live, done: isFinal(ex.status), streaming: false, error: null });
        if (!isFinal(ex.status)) { finishing = false; poll(); } // the event said final; the row disagrees: keep watching
      } catch (e) {
        finishing = false;
        update({ error: e, streaming: false });
        if (!fatal(e)) poll(); // the polls read it once it answers again
      }
    };

    const fatal = (e: unknown) => e instanceof ApiError && (e.status === 401 || e.status === 403 || e.status === 404);

    const poll = () => {
      if (closed) return;
      pollTimer = setTimeout(async () => {
        pollTimer = null;
        try {
          const ex = await read();
          if (closed) return;
          if (!ex) { poll(); return; }
          live = liveFromExecution(ex);
          const done = isFinal(ex.status);
          update({ execution: ex, live, done, error: null });
          if (!done) poll();
        } catch (e) {
          update({ error: e });
          if (!fatal(e)) poll();
        }
      }, POLL_MS);
    };

    const openStream = () => {
      if (closed) return;
      const url = `/api/executions/${encodeURIComponent(id)}/events?last_event_id=${live.lastSeq}`;
      let source: EventSource;
      try {
        source = new EventSource(url);
      } catch (e) {
        update({ error: e });
        poll();
        return;
      }
      es = source;
      const on = (type: LiveEvent['type']) => (m: MessageEvent) => {
        const ev = parseEvent(type, String(m.data));
        if (!ev || closed) return;
        live = applyEvent(live, ev);
        if (ev.type === 'execution') {
          if (flushTimer) { clearTimeout(flushTimer); flushTimer = null; }
          update({ live });
          void finish();
        } else {
          scheduleFlush();
          if (ev.type === 'step' && followData.current && !dataTimer) {
            dataTimer = setTimeout(() => { dataTimer = null; refreshRef.current(); }, DATA_MS);
          }
        }
      };
      source.addEventListener('step.started', on('step.started'));
      source.addEventListener('step', on('step'));
      source.addEventListener('execution', on('execution'));
      source.onopen = () => update({ streaming: true, error: null });
      source.onerror = () => {
        if (closed || es !== source) return;
        if (source.readyState === EventSource.CLOSED) {
          // refused before streaming (or not an event stream): read the
          // execution to learn why and whether it ended, then poll
          es = null;
          update({ streaming: false });
          read().then((ex) => {
            if (closed) return;
            if (!ex) { poll(); return; }
            live = liveFromExecution(ex);
            const done = isFinal(ex.status);
            update({ execution: ex, live, done });
            if (!done) poll();
          }, (e) => {
            update({ error: e });
            if (!fatal(e)) poll();
          });
        } else {
          update({ streaming: false }); // reconnecting by itself, with Last-Event-ID
        }
      };
    };

    refreshRef.current = () => {
      read().then((ex) => {
        if (closed || !ex) return;
        // keep what the stream knows beyond this read (started attempts, later steps)
        const fresh = liveFromExecution(ex);
        if (fresh.lastSeq >= live.lastSeq) live = { ...fresh, started: live.started.filter((x) => !fresh.steps.some((s) => s.run_index === x.run_index && s.attempt >= x.attempt)), status: isFinal(live.status) ? live.status : fresh.status };
        update({ execution: ex, live });
      }, (e) => update({ error: e }));
    };

    read().then((ex) => {
      if (closed || !ex) return;
      live = liveFromExecution(ex);
      const done = isFinal(ex.status);
      update({ execution: ex, live, done });
      if (!done) openStream();
    }, (e) => update({ error: e }));

    return () => {
      closed = true;
      es?.close();
      es = null;
      if (pollTimer) clearTimeout(pollTimer);
      if (flushTimer) clearTimeout(flushTimer);
      if (dataTimer) clearTimeout(dataTimer);
      refreshRef.current = () => {};
    };
  }, [executionId]);

  // the version that ran, when the caller gave no definition and the run was of a saved version
  const ex = st.execution;
  const wfId = ex?.workflow_id;
  const version = ex?.version ?? null;
  const needVersion = wantVersion && !!ex && !ex.definition && version !== null;
  useEffect(() => {
    if (!needVersion || !wfId || version === null) return;
    let closed = false;
    call(api.GET('/api/workflows/{id}/versions/{version}', { params: { path: { id: wfId, version } } })).then(
      (v) => { if (!closed) setSt((s) => ({ ...s, versionDefinition: v.definition })); },
      (e) => { if (!closed) setSt((s) => ({ ...s, error: e })); },
    );
    return () => { closed = true; };
  }, [needVersion, wfId, version]);

  // data wanted now, of a running execution: read it once at once
  const wantData = !!opts?.data;
  const running = !!ex && !st.done;
  useEffect(() => { if (wantData && running) refreshRef.current(); }, [wantData, running]);

  const def = definition ?? ex?.definition ?? st.versionDefinition ?? null;
  const nodeStatus = useMemo(() => nodeStatuses(st.live, def), [st.live, def]);
  const counts = useMemo(() => edgeCounts(st.live, def), [st.live, def]);
  const refresh = useCallback(() => refreshRef.current(), []);
  return {
    execution: st.execution, definition: def, nodeStatus, edgeCounts: counts, status: st.live.status,
    done: st.done, error: st.error, streaming: st.streaming, refresh,
  };
}
