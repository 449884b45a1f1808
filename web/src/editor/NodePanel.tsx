// The side panel of one selected node: its name, a parameter form generated
// from the catalogue (fixed or expression per field where allowed, with a
// live preview evaluated by the server), its settings, and the problems the
// last save reported for it.
import { memo, useEffect, useId, useMemo, useRef, useState, type ReactNode } from 'react';
import type { Problem } from '../api/client';
import type { NodeParam, NodeType, WfNode } from './convert';
import { CodeField } from './CodeField';
import { ExpressionPreview } from './ExpressionPreview';
import { copyText, webhookUrl } from './util';
import { useSession } from '../app/session';
import { credentialsForPicker } from '../pages/credentialsApi';
import { credentialChoice, type Credential } from '../pages/credentialsLogic';

type Params = Record<string, unknown>;
export type NodeUpdate = (id: string, fn: (n: WfNode) => WfNode, coalesceKey?: string) => void;

function isExpr(v: unknown): v is string { return typeof v === 'string' && v.includes('{{'); }
function fmtDefault(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function setParam(n: WfNode, name: string, value: unknown): WfNode {
  const params: Params = { ...(n.params ?? {}) };
  if (value === undefined) delete params[name];
  else params[name] = value;
  return { ...n, params };
}

function PanelImpl({ node, type, readOnly, problems, onUpdate, onClose, onDelete, lastExecutionId }: {
  node: WfNode; type?: NodeType; readOnly: boolean; problems: Problem[];
  onUpdate: NodeUpdate; onClose: () => void; onDelete: (id: string) => void; lastExecutionId: string | null;
}) {
  const id = node.id;
  const upd = (fn: (n: WfNode) => WfNode, key: string) => onUpdate(id, fn, key);
  const fieldErr = (f: string) => problems.filter((p) => p.field === f || (p.field ?? '').startsWith(f + '.') || (p.field ?? '').startsWith(f + '[')).map((p) => p.message).join('; ') || undefined;
  // problems whose field has its own place in the form show there; the rest on top
  const under = (f: string, base: string) => f === base || f.startsWith(base + '.') || f.startsWith(base + '[');
  const placed = (f: string) => ['name', 'notes', 'timeout_ms', 'retry.max', 'retry.backoff_ms'].some((b) => under(f, b))
    || (type?.params ?? []).some((p) => under(f, 'params.' + p.name));
  const general = problems.filter((p) => !p.field || !placed(p.field));
  const ro = readOnly ? 'Viewers cannot edit' : undefined;
  const hookPath = node.type === 'trigger.webhook' ? node.params?.path : undefined;

  return (
    <aside className="node-panel" aria-label={`Node ${node.name || node.id}`}>
      <header>
        <h2 title={node.id}>{node.name || node.id}</h2>
        <button className="icon" aria-label="Close node panel" onClick={onClose}>×</button>
      </header>
      <div className="node-panel-body">
        <p className="muted small">{type ? <>{type.name} · <code>{type.id}</code></> : <>Unknown node type <code>{node.type}</code></>} · id <code>{node.id}</code></p>
        {type && <p className="muted small">{type.description}</p>}
        {general.length > 0 && (
          <div className="error-note" role="alert">{general.map((p, i) => <div key={i}>{p.field ? <code>{p.field}</code> : null} {p.message}</div>)}</div>
        )}
        <TextSetting label="Name" value={node.name ?? ''} readOnly={readOnly} title={ro} error={fieldErr('name')}
          onChange={(v) => upd((n) => { const c = { ...n }; if (v) c.name = v; else delete c.name; return c; }, 'name')} />
        {node.type === 'trigger.webhook' && (
          <div className="webhook-url">
            <span className="label">Webhook URL</span>
            {typeof hookPath === 'string' && hookPath ? (
              <div className="row">
                <code className="url" data-testid="webhook-url">{webhookUrl(hookPath)}</code>
                <button className="small" onClick={() => copyText(webhookUrl(hookPath), 'Webhook URL copied')}>Copy URL</button>
              </div>
            ) : <small className="muted">No path yet: one is generated when you save.</small>}
          </div>
        )}

        {type && type.params.length > 0 && <h3>Parameters</h3>}
        {type?.params.map((p) => (
          <ParamField key={id + ':' + p.name} nodeId={id} param={p} value={node.params?.[p.name]} readOnly={readOnly}
            error={fieldErr('params.' + p.name)} lastExecutionId={lastExecutionId}
            onChange={(v) => upd((n) => setParam(n, p.name, v), 'param:' + p.name)} />
        ))}
        {type && type.params.length === 0 && <p className="muted small">This node has no parameters.</p>}

        <h3>Settings</h3>
        <NumberSetting label="Retry: attempts in all" hint="0 or 1: no retry; only retryable failures are retried (max 10)" min={0} max={10}
          value={node.retry?.max} readOnly={readOnly} error={fieldErr('retry.max')}
          onChange={(v) => upd((n) => withRetry(n, 'max', v), 'retry.max')} />
        <NumberSetting label="Retry: first wait (ms)" hint="doubled after each further attempt; default 1000" min={0} max={3600000} placeholder="1000"
          value={node.retry?.backoff_ms} readOnly={readOnly} error={fieldErr('retry.backoff_ms')}
          onChange={(v) => upd((n) => withRetry(n, 'backoff_ms', v), 'retry.backoff_ms')} />
        <NumberSetting label="Timeout (ms)" hint="time limit of this node, at most a day" min={1} max={86400000}
          value={node.timeout_ms} readOnly={readOnly} error={fieldErr('timeout_ms')}
          onChange={(v) => upd((n) => { const c = { ...n }; if (v === undefined) delete c.timeout_ms; else c.timeout_ms = v; return c; }, 'timeout_ms')} />
        {!type?.trigger && (
          <Check label="Continue on fail (failures go to the error output)" checked={!!node.continue_on_fail} readOnly={readOnly}
            onChange={(v) => upd((n) => { const c = { ...n }; if (v) c.continue_on_fail = true; else delete c.continue_on_fail; return c; }, 'cof')} />
        )}
        <Check label="Disabled" checked={!!node.disabled} readOnly={readOnly}
          onChange={(v) => upd((n) => { const c = { ...n }; if (v) c.disabled = true; else delete c.disabled; return c; }, 'disabled')} />
        <label className={'field' + (fieldErr('notes') ? ' has-error' : '')}>
          <span className="label">Notes</span>
          <textarea rows={3} value={node.notes ?? ''} readOnly={readOnly} title={ro} maxLength={10000}
            onChange={(e) => { const v = e.target.value; upd((n) => { const c = { ...n }; if (v) c.notes = v; else delete c.notes; return c; }, 'notes'); }} />
          {fieldErr('notes') && <small className="field-error">{fieldErr('notes')}</small>}
        </label>
        {!readOnly && <button className="danger" onClick={() => onDelete(id)}>Delete node</button>}
      </div>
    </aside>
  );
}
export const NodePanel = memo(PanelImpl);

function withRetry(n: WfNode, k: 'max' | 'backoff_ms', v: number | undefined): WfNode {
  const r = { ...(n.retry ?? {}) };
  if (v === undefined) delete r[k]; else r[k] = v;
  const c = { ...n };
  if (Object.keys(r).length) c.retry = r; else delete c.retry;
  return c;
}

function FieldShell({ label, required, help, error, children, extra, htmlFor }: {
  label: string; required?: boolean; help?: string; error?: string; children: ReactNode; extra?: ReactNode; htmlFor?: string;
}) {
  return (
    <div className={'field' + (error ? ' has-error' : '')}>
      <div className="field-head">
        <label className={'label' + (required ? ' required' : '')} htmlFor={htmlFor} title={required ? 'required' : undefined}>{label}</label>
        {extra}
      </div>
      {children}
      {help && <small className="hint">{help}</small>}
      {error && <small className="field-error" role="alert">{error}</small>}
    </div>
  );
}

function TextSetting({ label, value, onChange, readOnly, title, error }: { label: string; value: string; onChange: (v: string) => void; readOnly: boolean; title?: string; error?: string }) {
  const id = useId();
  return (
    <FieldShell label={label} error={error} htmlFor={id}>
      <input id={id} value={value} readOnly={readOnly} title={title} maxLength={100} aria-invalid={!!error} onChange={(e) => onChange(e.target.value)} />
    </FieldShell>
  );
}

function NumberSetting({ label, value, onChange, readOnly, error, hint, min, max, placeholder }: {
  label: string; value: number | undefined; onChange: (v: number | undefined) => void; readOnly: boolean; error?: string; hint?: string; min?: number; max?: number; placeholder?: string;
}) {
  const id = useId();
  return (
    <FieldShell label={label} error={error} help={hint} htmlFor={id}>
      <input id={id} type="number" value={value ?? ''} min={min} max={max} step={1} placeholder={placeholder} readOnly={readOnly} aria-invalid={!!error}
        title={readOnly ? 'Viewers cannot edit' : undefined}
        onChange={(e) => { const s = e.target.value; const n = Number(s); onChange(s === '' || !Number.isFinite(n) ? undefined : Math.trunc(n)); }} />
    </FieldShell>
  );
}

function Check({ label, checked, onChange, readOnly }: { label: string; checked: boolean; onChange: (v: boolean) => void; readOnly: boolean }) {
  return (
    <label className="check">
      <input type="checkbox" checked={checked} disabled={readOnly} title={readOnly ? 'Viewers cannot edit' : undefined} onChange={(e) => onChange(e.target.checked)} />
      {label}
    </label>
  );
}

/** Fixed value → expression text, and back where the text is a plain value. */
function toExpression(v: unknown): string | null {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  const j = JSON.stringify(v);
  // a JSON value holding expressions cannot be wrapped in one more {{ }}:
  // it is left as it is until the expression is edited
  return j.includes('{{') ? null : `{{ ${j} }}`;
}
function fromExpression(s: string, p: NodeParam): unknown {
  if (!isExpr(s)) {
    if (p.type === 'string' || p.type === 'code' || p.type === 'credential' || p.type === 'select') return s === '' ? undefined : s;
    return undefined;
  }
  const m = /^\{\{\s*([\s\S]*?)\s*\}\}$/.exec(s.trim());
  if (m) {
    try {
      const v = JSON.parse(m[1]);
      if (p.type === 'number' && typeof v === 'number') return v;
      if (p.type === 'boolean' && typeof v === 'boolean') return v;
      if (p.type === 'json') return v;
      if ((p.type === 'select' && typeof v === 'string' && (p.options ?? []).includes(v)) || ((p.type === 'string' || p.type === 'code') && typeof v === 'string')) return v;
    } catch { /* not a plain value */ }
  }
  return p.type === 'string' || p.type === 'code' ? s : undefined;
}

function ParamField({ nodeId, param: p, value, onChange, readOnly, error, lastExecutionId }: {
  nodeId: string; param: NodeParam; value: unknown; onChange: (v: unknown) => void; readOnly: boolean; error?: string; lastExecutionId: string | null;
}) {
  const id = useId();
  const [expr, setExpr] = useState(() => isExpr(value));
  // an expression set from outside (undo, paste) switches the mode on
  useEffect(() => { if (isExpr(value) && p.type !== 'json') setExpr(true); }, [value, p.type]);
  const def = fmtDefault(p.default);
  const title = readOnly ? 'Viewers cannot edit' : undefined;
  const toggle = p.expressions ? (
    <div className="mode-toggle" role="group" aria-label={`${p.name} mode`}>
      <button type="button" className="small" aria-pressed={!expr} disabled={readOnly} title={title}
        onClick={() => { if (expr) { setExpr(false); onChange(fromExpression(String(value ?? ''), p)); } }}>Fixed</button>
      <button type="button" className="small" aria-pressed={expr} disabled={readOnly} title={title}
        onClick={() => { if (!expr) { setExpr(true); const s = toExpression(value); if (s !== null) onChange(s === '' ? undefined : s); } }}>Expression</button>
    </div>
  ) : null;

  let input: ReactNode;
  if (expr && p.expressions) {
    const text = value === undefined || value === null ? '' : typeof value === 'string' ? value : toExpression(value) ?? JSON.stringify(value);
    input = (
      <>
        <CodeField lang="expr" value={text} label={`${p.name} expression`} readOnly={readOnly} invalid={!!error}
          placeholder={'{{ $json.field }}'} onChange={(s) => onChange(s === '' ? undefined : s)} />
        <ExpressionPreview expression={text} nodeId={nodeId} executionId={lastExecutionId} />
      </>
    );
  } else {
    switch (p.type) {
      case 'number':
        input = <input id={id} type="number" value={typeof value === 'number' ? value : ''} placeholder={def} readOnly={readOnly} title={title} aria-invalid={!!error} aria-required={p.required}
          onChange={(e) => { const s = e.target.value; const n = Number(s); onChange(s === '' || !Number.isFinite(n) ? undefined : n); }} />;
        break;
      case 'boolean': {
        const checked = typeof value === 'boolean' ? value : p.default === true;
        input = (
          <label className="check">
            <input id={id} type="checkbox" checked={checked} disabled={readOnly} title={title} onChange={(e) => onChange(e.target.checked)} />
            {checked ? 'on' : 'off'}{typeof value !== 'boolean' && def ? <small className="muted"> (default)</small> : null}
          </label>
        );
        break;
      }
      case 'select':
        input = (
          <select id={id} value={typeof value === 'string' ? value : ''} disabled={readOnly} title={title} aria-invalid={!!error} aria-required={p.required} onChange={(e) => onChange(e.target.value || undefined)}>
            <option value="">{def ? `Default (${def})` : '—'}</option>
            {(p.options ?? []).map((o) => <option key={o} value={o}>{o}</option>)}
          </select>
        );
        break;
      case 'json':
        input = <JsonParam name={p.name} value={value} placeholder={def} readOnly={readOnly} invalid={!!error} onChange={onChange} />;
        break;
      case 'code':
        input = <CodeField lang="js" value={typeof value === 'string' ? value : ''} label={p.name} readOnly={readOnly} minLines={4} invalid={!!error}
          placeholder={def} onChange={(s) => onChange(s === '' ? undefined : s)} />;
        break;
      case 'credential':
        input = <CredentialPicker id={id} value={typeof value === 'string' ? value : ''} placeholder={def} readOnly={readOnly} invalid={!!error} onChange={onChange} />;
        break;
      default:
        input = <input id={id} value={typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value)} placeholder={def} readOnly={readOnly} title={title}
          aria-invalid={!!error} aria-required={p.required} onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)} />;
    }
  }
  return (
    <FieldShell label={p.name} required={p.required} help={p.description} error={error} extra={toggle} htmlFor={p.type === 'json' || p.type === 'code' || expr ? undefined : id}>
      {input}
    </FieldShell>
  );
}

/** A JSON parameter: the text is kept while it does not parse. */
function JsonParam({ name, value, onChange, readOnly, placeholder, invalid }: {
  name: string; value: unknown; onChange: (v: unknown) => void; readOnly: boolean; placeholder?: string; invalid?: boolean;
}) {
  const fmt = (v: unknown) => (v === undefined || v === null ? '' : JSON.stringify(v, null, 2));
  const [text, setText] = useState(() => fmt(value));
  const [err, setErr] = useState<string | null>(null);
  const lastSent = useRef<unknown>(value);
  useEffect(() => {
    if (value !== lastSent.current) { lastSent.current = value; setText(fmt(value)); setErr(null); }
  }, [value]);
  const multi = useMemo(() => Math.min(8, Math.max(2, text.split('\n').length)), [text]);
  return (
    <>
      <CodeField lang="json" value={text} label={name} readOnly={readOnly} minLines={multi} placeholder={placeholder} invalid={invalid || !!err}
        onChange={(s) => {
          setText(s);
          if (s.trim() === '') { setErr(null); lastSent.current = undefined; onChange(undefined); return; }
          try { const v = JSON.parse(s); setErr(null); lastSent.current = v; onChange(v); } catch (e) { setErr((e as Error).message); }
        }} />
      {err && <small className="field-error">Not valid JSON yet (not applied): {err}</small>}
    </>
  );
}

const OTHER = '\u0000other';

/**
 * A credential parameter: a select of the org's credentials by name, with
 * "another name…" for one that does not exist yet (typed in, with a
 * warning), and a link to create one (in a new tab: the canvas stays).
 */
function CredentialPicker({ id, value, onChange, readOnly, invalid, placeholder }: {
  id: string; value: string; onChange: (v: unknown) => void; readOnly: boolean; invalid: boolean; placeholder?: string;
}) {
  const { me, canEdit } = useSession();
  const org = me?.org?.id ?? '';
  const [list, setList] = useState<Credential[] | null>(null);
  const [failed, setFailed] = useState(false);
  const [typing, setTyping] = useState(false);
  const load = (fresh: boolean) => {
    if (!org) return;
    credentialsForPicker(org, fresh).then((l) => { setList(l); setFailed(false); }).catch(() => setFailed(true));
  };
  useEffect(() => { load(false); }, [org]); // eslint-disable-line react-hooks/exhaustive-deps
  const { options, missing } = credentialChoice((list ?? []).map((c) => c.name), value);
  const other = typing || (list !== null && missing) || failed;
  const typeOf = (n: string) => list?.find((c) => c.name === n)?.type;
  const title = readOnly ? 'Viewers cannot edit' : undefined;
  const createHref = '/credentials?new=1' + (value && missing ? '&name=' + encodeURIComponent(value) : '');
  return (
    <>
      <div className="row credential-picker">
        <select id={id} value={other ? OTHER : value} disabled={readOnly} title={title} aria-invalid={invalid}
          onFocus={() => load(true)}
          onChange={(e) => {
            const v = e.target.value;
            if (v === OTHER) { setTyping(true); return; }
            setTyping(false);
            onChange(v || undefined);
          }}>
          <option value="">{list === null && !failed ? 'Loading credentials…' : placeholder ? `Default (${placeholder})` : '— none —'}</option>
          {options.map((n) => <option key={n} value={n}>{n}{typeOf(n) ? ` (${typeOf(n)})` : ''}</option>)}
          <option value={OTHER}>Another name…</option>
        </select>
        {canEdit && <a className="small" href={createHref} target="_blank" rel="noopener">New credential ↗</a>}
      </div>
      {other && (
        <input aria-label="Credential name" value={value} placeholder="credential name" readOnly={readOnly} title={title} aria-invalid={invalid}
          maxLength={200} onChange={(e) => onChange(e.target.value || undefined)} />
      )}
      {failed && <small className="muted">The org’s credentials could not be loaded: type the name.</small>}
      {list !== null && missing && (
        <small className="field-warn" role="status" data-testid="credential-missing">No credential named “{value}” in this organization: create it before the workflow runs.</small>
      )}
    </>
  );
}
