// Run a workflow from the editor: choose the trigger node, give the input
// items as JSON (and files: uploaded with POST /api/files, each becomes a
// binary property of the first item), run the saved version or the unsaved
// canvas (POST /api/workflows/{id}/run), then hand the execution id to the
// editor.
import { useEffect, useMemo, useState } from 'react';
import { api, ApiError, call, type Problem, type Schemas } from '../api/client';
import { Dialog } from '../ui/Dialog';
import { ErrorNote } from '../ui/ErrorNote';
import { Spinner } from '../ui/misc';
import type { Definition } from './diff';
import './runview.css';

type NodeType = Schemas['NodeType'];

export const MAX_INPUT_ITEMS = 1000;
export const DEFAULT_INPUT = '[\n  {}\n]';

/** The input items typed, or why they cannot be sent (the API wants an array of at most 1000 objects). */
export function parseInputItems(text: string): { items: Record<string, unknown>[] } | { error: string } {
  if (!text.trim()) return { items: [{}] };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { error: 'Not valid JSON: ' + ((e as Error).message || String(e)) };
  }
  if (!Array.isArray(v)) v = [v]; // one object is one item
  const arr = v as unknown[];
  if (arr.length > MAX_INPUT_ITEMS) return { error: `At most ${MAX_INPUT_ITEMS} items (there are ${arr.length}).` };
  for (let i = 0; i < arr.length; i++) {
    const it = arr[i];
    if (!it || typeof it !== 'object' || Array.isArray(it)) return { error: `Item ${i + 1} must be a JSON object, like {"name": "Ada"}.` };
  }
  return { items: arr as Record<string, unknown>[] };
}

/** A binary property: what POST /api/files answers, as an item carries it under "$binary". */
export interface BinaryRef { id: string; file_name: string; mime_type: string; size: number; sha256: string }

/**
 * The input text with ref added to the first item's "$binary" under the
 * first free name of data, data1, data2, … (an empty input becomes one
 * item), pretty-printed; or why it cannot be added.
 */
export function attachToInput(text: string, ref: BinaryRef): { text: string; name: string } | { error: string } {
  const parsed = parseInputItems(text);
  if ('error' in parsed) return { error: 'Fix the input items before attaching a file: ' + parsed.error };
  const items = parsed.items.length ? parsed.items : [{}];
  const first = items[0];
  const bin = first.$binary && typeof first.$binary === 'object' && !Array.isArray(first.$binary)
    ? { ...(first.$binary as Record<string, unknown>) } : {};
  let name = 'data';
  for (let i = 1; name in bin; i++) name = 'data' + i;
  bin[name] = { id: ref.id, file_name: ref.file_name, mime_type: ref.mime_type, size: ref.size, sha256: ref.sha256 };
  items[0] = { ...first, $binary: bin };
  return { text: JSON.stringify(items, null, 2), name };
}

/** Uploads file to the org's file store (POST /api/files, streamed by the server): its binary property. */
export async function uploadFile(file: File): Promise<BinaryRef> {
  const f = await call(api.POST('/api/files', {
    params: { query: { name: file.name } },
    body: file as never,
    bodySerializer: (b: unknown) => b as BodyInit,
    headers: { 'Content-Type': file.type || 'application/octet-stream' },
  }));
  return { id: f.id, file_name: f.file_name, mime_type: f.mime_type, size: f.size, sha256: f.sha256 };
}

/** The definition's trigger nodes, the default one first (the first trigger.manual, else the first trigger). */
export function triggerNodes(definition: Definition | null | undefined, nodeTypes: NodeType[]): Schemas['WorkflowNode'][] {
  const triggers = new Set(nodeTypes.filter((t) => t.trigger).map((t) => t.id));
  const list = (definition?.nodes ?? []).filter((n) => triggers.has(n.type) || (!nodeTypes.length && n.type.startsWith('trigger.')));
  const i = list.findIndex((n) => n.type === 'trigger.manual');
  if (i > 0) list.unshift(...list.splice(i, 1));
  return list;
}

const inputKey = (workflowId: string) => 'glyphic.runInput.' + workflowId;

export function RunDialog({ open, onClose, workflowId, definition, dirty, nodeTypes, onStarted, onProblems }: {
  open: boolean;
  onClose: () => void;
  workflowId: string;
  /** the canvas's definition (its trigger nodes are offered; it is sent when running the unsaved canvas) */
  definition: Definition;
  /** the canvas has unsaved changes */
  dirty: boolean;
  nodeTypes: NodeType[];
  onStarted: (executionId: string) => void;
  /** a 400 invalid_definition: the problems, for the canvas to mark the nodes and fields (also listed in the dialog) */
  onProblems?: (problems: Problem[]) => void;
}) {
  const triggers = useMemo(() => triggerNodes(definition, nodeTypes), [definition, nodeTypes]);
  const typeName = useMemo(() => new Map(nodeTypes.map((t) => [t.id, t.name])), [nodeTypes]);
  const [trigger, setTrigger] = useState('');
  const [text, setText] = useState(DEFAULT_INPUT);
  const [unsaved, setUnsaved] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [uploading, setUploading] = useState<string | null>(null);
  const [attachError, setAttachError] = useState<unknown>(null);

  useEffect(() => {
    if (!open) return;
    setError(null);
    setAttachError(null);
    setBusy(false);
    setUnsaved(true);
    let saved: string | null = null;
    try { saved = sessionStorage.getItem(inputKey(workflowId)); } catch { /* storage off */ }
    setText(saved ?? DEFAULT_INPUT);
  }, [open, workflowId]);

  useEffect(() => {
    if (!open) return;
    setTrigger((t) => (triggers.some((n) => n.id === t) ? t : triggers[0]?.id ?? ''));
  }, [open, triggers]);

  const parsed = parseInputItems(text);
  const parseError = 'error' in parsed ? parsed.error : null;
  const runUnsaved = dirty && unsaved;
  const nodeName = (id: string | null | undefined) => definition.nodes.find((n) => n.id === id)?.name || id || 'the workflow';

  async function attach(files: FileList | null) {
    setAttachError(null);
    let cur = text;
    for (const file of Array.from(files ?? [])) {
      setUploading(file.name);
      try {
        const done = attachToInput(cur, await uploadFile(file));
        if ('error' in done) { setAttachError(new Error(done.error)); break; }
        cur = done.text;
        setText(cur);
      } catch (e) {
        setAttachError(e);
        break;
      }
    }
    setUploading(null);
  }

  async function run() {
    if ('error' in parsed || busy) return;
    setBusy(true);
    setError(null);
    try { sessionStorage.setItem(inputKey(workflowId), text); } catch { /* storage off */ }
    const body: Schemas['RunRequest'] = { input: parsed.items as Schemas['RunRequest']['input'] };
    if (trigger) body.trigger_node = trigger;
    if (runUnsaved) body.definition = definition;
    try {
      const started = await call(api.POST('/api/workflows/{id}/run', { params: { path: { id: workflowId } }, body }));
      setBusy(false);
      onStarted(started.id);
      onClose();
    } catch (e) {
      setBusy(false);
      setError(e);
      if (e instanceof ApiError && e.problems?.length) onProblems?.(e.problems);
    }
  }

  const problems: Problem[] = error instanceof ApiError && error.problems ? error.problems : [];
  return (
    <Dialog title="Run workflow" open={open} onClose={onClose} wide
      footer={<>
        {busy && <Spinner label="Starting" />}
        <button onClick={onClose}>Cancel</button>
        <button className="primary" onClick={run} disabled={busy || !!parseError || !!uploading}>
          {runUnsaved ? 'Run unsaved canvas' : 'Run'}
        </button>
      </>}>
      <form onSubmit={(e) => { e.preventDefault(); void run(); }}
        onKeyDown={(e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); void run(); } }}>
        {triggers.length === 0 ? (
          <p className="error-note" role="alert">This workflow has no trigger node: add one (for example “Manual trigger”) to run it.</p>
        ) : (
          <label className="field">
            <span className="label">Start from</span>
            <select value={trigger} onChange={(e) => setTrigger(e.target.value)} aria-label="Trigger node">
              {triggers.map((n) => (
                <option key={n.id} value={n.id}>
                  {(n.name || n.id) + ' — ' + (typeName.get(n.type) ?? n.type) + (n.disabled ? ' (disabled)' : '')}
                </option>
              ))}
            </select>
          </label>
        )}
        <label className={'field' + (parseError ? ' has-error' : '')}>
          <span className="label">Input items (JSON)</span>
          <textarea className={'run-input' + (parseError ? ' invalid' : '')} value={text} spellCheck={false}
            onChange={(e) => setText(e.target.value)} aria-invalid={!!parseError} aria-label="Input items (JSON)" />
          {parseError
            ? <small className="field-error" role="alert">{parseError}</small>
            : <small className="hint">An array of JSON objects, one per item, for the trigger node ({'error' in parsed ? 0 : parsed.items.length} item{'items' in parsed && parsed.items.length === 1 ? '' : 's'}). Ctrl+Enter runs.</small>}
        </label>
        <div className="field run-files">
          <span className="label">Files</span>
          <label className="button small-button">
            <input type="file" multiple className="sr-only" aria-label="Attach files to the first item"
              disabled={!!uploading} onChange={(e) => { void attach(e.target.files); e.target.value = ''; }} />
            Attach files…
          </label>
          {uploading ? <Spinner label={'Uploading ' + uploading} />
            : <small className="hint">Uploaded to the organization's files; each becomes a binary property of the first item ($binary.data, data1, …).</small>}
          {attachError != null && <ErrorNote error={attachError} />}
        </div>
        {dirty && (
          <fieldset>
            <legend>Which version</legend>
            <label className="radio"><input type="radio" name="run-what" checked={unsaved} onChange={() => setUnsaved(true)} />
              Run the unsaved canvas (as you see it now; nothing is saved)</label>
            <label className="radio"><input type="radio" name="run-what" checked={!unsaved} onChange={() => setUnsaved(false)} />
              Run the last saved version</label>
          </fieldset>
        )}
      </form>
      {error != null && (
        <div>
          <ErrorNote error={error} />
          {problems.length > 0 && (
            <ul className="problem-list" aria-label="Problems">
              {problems.map((p, i) => (
                <li key={i}><strong>{p.node ? nodeName(p.node) : 'Workflow'}</strong>{p.field && <code className="field">{p.field}</code>}: {p.message}</li>
              ))}
            </ul>
          )}
          {error instanceof ApiError && error.status === 404 && <p className="muted">The workflow may have been deleted or moved to the trash.</p>}
          {error instanceof ApiError && error.status === 403 && <p className="muted">You can view this workflow but not run it.</p>}
        </div>
      )}
    </Dialog>
  );
}

export default RunDialog;
