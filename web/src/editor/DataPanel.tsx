// A node's data in an execution: for each of its steps (attempts), the
// input and output items per port, as a table or as JSON, and the step's
// error. Large outputs show their first MAX_ROWS items.
import { useEffect, useMemo, useState } from 'react';
import type { Schemas } from '../api/client';
import { Time } from '../ui/misc';
import './runview.css';

type Execution = Schemas['Execution'];
type Step = Schemas['ExecutionStep'];

export const MAX_ROWS = 200;
const MAX_COLUMNS = 50;
const CELL_CHARS = 80;
const TITLE_CHARS = 4000;

/** Milliseconds as "850 ms", "2.4 s", "3 min 5 s". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function durationMs(from: string | null | undefined, to: string | null | undefined): number | null {
  if (!from || !to) return null;
  const d = Date.parse(to) - Date.parse(from);
  return Number.isFinite(d) ? d : null;
}

/** The columns of an item table: the union of the items' top-level keys, in first-seen order ("value" for items that are not objects). */
export function itemColumns(items: unknown[]): { columns: string[]; more: number } {
  const seen = new Set<string>();
  for (const it of items) {
    if (it && typeof it === 'object' && !Array.isArray(it)) for (const k of Object.keys(it)) seen.add(k);
    else seen.add('\u0000value');
  }
  const all = [...seen];
  return { columns: all.slice(0, MAX_COLUMNS), more: Math.max(0, all.length - MAX_COLUMNS) };
}

/** One cell: its text (JSON, strings without quotes), truncated, and the full text for the title. */
export function cellText(v: unknown): { text: string; title?: string; kind: 'str' | 'num' | 'nul' | 'other' } {
  if (v === undefined) return { text: '', kind: 'nul' };
  if (v === null) return { text: 'null', kind: 'nul' };
  let full: string;
  let kind: 'str' | 'num' | 'nul' | 'other' = 'other';
  if (typeof v === 'string') { full = v; kind = 'str'; }
  else if (typeof v === 'number' || typeof v === 'boolean') { full = String(v); kind = 'num'; }
  else {
    try { full = JSON.stringify(v); } catch { full = String(v); }
  }
  if (full.length <= CELL_CHARS) return { text: full, kind };
  return { text: full.slice(0, CELL_CHARS - 1) + '…', title: full.length > TITLE_CHARS ? full.slice(0, TITLE_CHARS) + '…' : full, kind };
}

/** A step's label in the attempt selector. */
export function stepLabel(s: Step, all: Step[]): string {
  const runs = new Set(all.map((x) => x.run_index));
  const parts: string[] = [];
  if (runs.size > 1) parts.push(`Run ${[...runs].sort((a, b) => a - b).indexOf(s.run_index) + 1} of ${runs.size}`);
  const attempts = all.filter((x) => x.run_index === s.run_index);
  if (new Set(attempts.map((x) => x.attempt)).size > 1 || s.attempt > 1) parts.push(`attempt ${s.attempt}`);
  parts.push(s.status);
  return parts.join(', ');
}

function portsOf(data: Step['input']): [string, unknown[]][] {
  if (!data || typeof data !== 'object') return [];
  return Object.entries(data).filter(([, v]) => Array.isArray(v)) as [string, unknown[]][];
}

/** The binary properties of an item's "$binary" value: name, file name, type and size, and the id to download it by. */
export function binaryFiles(v: unknown): { name: string; id: string; fileName: string; mimeType: string; size: number }[] {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return [];
  const out = [];
  for (const [name, p] of Object.entries(v as Record<string, unknown>)) {
    if (!p || typeof p !== 'object') continue;
    const r = p as Record<string, unknown>;
    if (typeof r.id !== 'string' || !/^[0-9a-f-]{36}$/i.test(r.id)) continue;
    out.push({ name, id: r.id, fileName: typeof r.file_name === 'string' ? r.file_name : name,
      mimeType: typeof r.mime_type === 'string' ? r.mime_type : '', size: typeof r.size === 'number' ? r.size : 0 });
  }
  return out;
}

/** Bytes as "512 B", "3.4 KB", "12 MB". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '';
  if (n < 1000) return n + ' B';
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1000, u = 0;
  while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
  return (v < 10 ? v.toFixed(1) : Math.round(v)) + ' ' + units[u];
}

/** An item's files: a download link each (nginx sends the bytes). */
function BinaryCell({ value }: { value: unknown }) {
  const files = binaryFiles(value);
  if (!files.length) {
    const t = cellText(value);
    return <td className={t.kind} title={t.title}>{t.text}</td>;
  }
  return (
    <td className="binary">
      {files.map((f) => (
        <a key={f.name} className="file-link" href={`/api/files/${f.id}/content`} download={f.fileName}
          title={`${f.name}: ${f.fileName} (${f.mimeType}, ${f.size} bytes)`}>
          {f.name}: {f.fileName} <span className="muted">{formatBytes(f.size)}</span>
        </a>
      ))}
    </td>
  );
}

function ItemsTable({ items }: { items: unknown[] }) {
  const shown = useMemo(() => items.slice(0, MAX_ROWS), [items]);
  const { columns, more } = useMemo(() => itemColumns(shown), [shown]);
  return (
    <div className="data-table-wrap">
      <table className="data-table">
        <thead>
          <tr>
            <th className="idx" scope="col">#</th>
            {columns.map((c) => <th key={c} scope="col">{c === '\u0000value' ? '(value)' : c}</th>)}
            {more > 0 && <th scope="col">+{more} more keys</th>}
          </tr>
        </thead>
        <tbody>
          {shown.map((it, i) => {
            const obj = it && typeof it === 'object' && !Array.isArray(it) ? (it as Record<string, unknown>) : null;
            return (
              <tr key={i}>
                <td className="idx">{i + 1}</td>
                {columns.map((c) => {
                  const v = c === '\u0000value' ? (obj ? undefined : it) : obj ? obj[c] : undefined;
                  if (c === '$binary') return <BinaryCell key={c} value={v} />;
                  const t = cellText(v);
                  return <td key={c} className={t.kind} title={t.title}>{t.text}</td>;
                })}
                {more > 0 && <td />}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function ItemsJson({ items }: { items: unknown[] }) {
  const text = useMemo(() => {
    try { return JSON.stringify(items.slice(0, MAX_ROWS), null, 2); } catch { return String(items); }
  }, [items]);
  return <pre className="data-json" tabIndex={0} aria-label="Items as JSON">{text}</pre>;
}

function Items({ title, data, view, emptyText }: { title: string; data: Step['input']; view: 'table' | 'json'; emptyText: string }) {
  const ports = portsOf(data);
  const [port, setPort] = useState<string | null>(null);
  const cur = ports.find(([p]) => p === port) ?? ports.find(([, v]) => v.length > 0) ?? ports[0];
  const items = cur?.[1] ?? [];
  return (
    <section aria-label={title}>
      <h3>{title}{cur && <span className="badge">{items.length} item{items.length === 1 ? '' : 's'}</span>}</h3>
      {ports.length > 1 && (
        <div className="ports" role="group" aria-label={title + ' port'}>
          {ports.map(([p, v]) => (
            <button key={p} className="small" aria-pressed={cur?.[0] === p} onClick={() => setPort(p)}>{p} ({v.length})</button>
          ))}
        </div>
      )}
      {!cur ? <p className="muted">{emptyText}</p>
        : items.length === 0 ? <p className="muted">No items{ports.length > 1 ? ` on ${cur[0]}` : ''}.</p>
          : view === 'table' ? <ItemsTable items={items} /> : <ItemsJson items={items} />}
      {items.length > MAX_ROWS && <p className="data-more">Showing the first {MAX_ROWS} of {items.length} items ({items.length - MAX_ROWS} hidden).</p>}
    </section>
  );
}

/**
 * The data of one node in an execution. status: the node's live status,
 * for nodes that have no recorded step yet.
 */
export function DataPanel({ execution, nodeId, nodeName, status }: {
  execution: Execution | null;
  nodeId: string;
  nodeName?: string;
  status?: 'queued' | 'running' | 'succeeded' | 'failed' | 'waiting';
}) {
  const steps = useMemo(() => (execution?.steps ?? []).filter((s) => s.node_id === nodeId).sort((a, b) => a.seq - b.seq), [execution, nodeId]);
  const [seq, setSeq] = useState<number | null>(null);
  const [view, setView] = useState<'table' | 'json'>('table');
  // follow the newest step unless the user picked one
  useEffect(() => { setSeq(null); }, [nodeId, execution?.id]);
  const step = steps.find((s) => s.seq === seq) ?? steps[steps.length - 1];
  const label = nodeName || nodeId;

  if (!execution) return <div className="data-panel"><p className="muted">No execution is open. Run the workflow to see its data here.</p></div>;
  if (!step) {
    const why = status === 'running' ? 'This node is running; its data appears when it has finished.'
      : status === 'queued' ? 'This node has not run yet in this execution.'
        : execution.status === 'queued' || execution.status === 'running' || execution.status === 'waiting'
          ? 'No data recorded for this node yet.'
          : 'This node did not run in this execution.';
    return (
      <div className="data-panel" aria-label={`Data of ${label}`}>
        <div className="step-head">{status && <span className={'badge status-' + status}>{status}</span>}</div>
        <p className="muted">{why}</p>
      </div>
    );
  }

  const err = step.error;
  const errExtra = err ? Object.fromEntries(Object.entries(err).filter(([k]) => k !== 'message')) : {};
  return (
    <div className="data-panel" aria-label={`Data of ${label}`}>
      <div className="step-head">
        {steps.length > 1 && (
          <select aria-label="Attempt" value={step.seq} onChange={(e) => setSeq(Number(e.target.value))}>
            {steps.map((s) => <option key={s.seq} value={s.seq}>{stepLabel(s, steps)}</option>)}
          </select>
        )}
        <span className={'badge status-' + step.status}>{step.status}</span>
        <span className="muted" title={`${step.started_at} → ${step.finished_at}`}>
          {formatDuration(durationMs(step.started_at, step.finished_at))}, <Time at={step.started_at} />
        </span>
        <span className="spacer" />
        <div className="tabs" role="tablist" aria-label="View" style={{ marginBottom: 0, borderBottom: 0 }}>
          <button role="tab" aria-selected={view === 'table'} onClick={() => setView('table')}>Table</button>
          <button role="tab" aria-selected={view === 'json'} onClick={() => setView('json')}>JSON</button>
        </div>
      </div>
      {err && (
        <div className="step-error" role="alert">
          <strong>{step.status === 'failed' ? 'This attempt failed' : 'Error'}</strong>
          <div className="msg">{err.message || 'No message'}</div>
          {Object.keys(errExtra).length > 0 && (
            <details>
              <summary>Details</summary>
              <pre>{JSON.stringify(errExtra, null, 2)}</pre>
            </details>
          )}
        </div>
      )}
      {step.status === 'waiting' && <p className="muted">Waiting{execution.wait_until ? <> until <Time at={execution.wait_until} /></> : ''}.</p>}
      <Items key={'in' + step.seq} title="Input" data={step.input} view={view} emptyText="No input (a trigger node gets the execution's input)." />
      <Items key={'out' + step.seq} title="Output" data={step.output} view={view}
        emptyText={step.status === 'failed' ? 'No output: the attempt failed.' : step.status === 'waiting' ? 'No output yet.' : 'No output.'} />
    </div>
  );
}

export default DataPanel;
