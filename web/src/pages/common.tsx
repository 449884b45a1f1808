// Small pieces the list pages share: errors put in words (with the request
// id), a row's action menu, a confirm dialog, copy and download helpers,
// debounce and page-visibility hooks.
import { writeClipboard } from '../ui/clipboard';
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError } from '../api/client';
import { Dialog } from '../ui/Dialog';
import { Empty } from '../ui/misc';
import { toast } from '../ui/toast';
import './pages.css';

function requestIdOf(e: unknown): string | undefined {
  return e instanceof ApiError ? e.requestId : undefined;
}

/** An error toast in the page's own words, still quoting the request id. */
export function toastWords(e: unknown, words: string, what?: string) {
  toast('error', what ? `${what}: ${words}` : words, requestIdOf(e));
}

/** An inline error note in the page's own words, with the request id. */
export function ErrorWords({ error, words }: { error: unknown; words?: string }) {
  if (!error) return null;
  const text = words ?? (error instanceof Error ? error.message : String(error));
  const rid = requestIdOf(error);
  return (
    <div className="error-note" role="alert">
      {text}
      {rid && <small className="reqid"> (request {rid})</small>}
    </div>
  );
}

export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/** Whether the tab is visible (polling stops while it is hidden). */
export function usePageVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState !== 'hidden');
  useEffect(() => {
    const h = () => setVisible(document.visibilityState !== 'hidden');
    document.addEventListener('visibilitychange', h);
    return () => document.removeEventListener('visibilitychange', h);
  }, []);
  return visible;
}

/** A read-only value with a Copy button (invitation links, API keys). */
export function CopyField({ label, value, secret }: { label: string; value: string; secret?: boolean }) {
  const [copied, setCopied] = useState(false);
  const ref = useRef<HTMLInputElement>(null);
  async function copy() {
    const ok = await writeClipboard(value);
    if (ok) { setCopied(true); setTimeout(() => setCopied(false), 2000); }
    else { ref.current?.select(); toast('info', 'Copying is not allowed here: the text is selected, press Ctrl-C.'); }
  }
  return (
    <div className="copy-field">
      <label className="sr-only" htmlFor={'copy-' + label}>{label}</label>
      <input id={'copy-' + label} ref={ref} readOnly value={value} aria-label={label}
        className={secret ? 'mono secret' : 'mono'} onFocus={(e) => e.currentTarget.select()} />
      <button type="button" onClick={copy} aria-label={`Copy ${label.toLowerCase()}`}>{copied ? 'Copied ✓' : 'Copy'}</button>
      <span className="sr-only" role="status">{copied ? `${label} copied to the clipboard` : ''}</span>
    </div>
  );
}

/** Saves a JSON value as a file download. */
export function downloadJson(fileName: string, value: unknown) {
  const blob = new Blob([JSON.stringify(value, null, 2) + '\n'], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export interface MenuItem {
  label: string;
  onSelect: () => void;
  disabled?: boolean;
  /** why it is disabled */
  title?: string;
  danger?: boolean;
}

/** A "⋯" button opening a menu of a row's actions; arrow keys move, Escape closes. */
export function RowMenu({ label, items }: { label: string; items: MenuItem[] }) {
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!open) return;
    const away = (e: MouseEvent) => { if (!box.current?.contains(e.target as Node)) setOpen(false); };
    document.addEventListener('mousedown', away);
    box.current?.querySelector<HTMLButtonElement>('[role=menuitem]:not(:disabled)')?.focus();
    return () => document.removeEventListener('mousedown', away);
  }, [open]);
  function keys(e: React.KeyboardEvent) {
    if (e.key === 'Escape') { e.preventDefault(); setOpen(false); button.current?.focus(); return; }
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    e.preventDefault();
    const all = [...(box.current?.querySelectorAll<HTMLButtonElement>('[role=menuitem]:not(:disabled)') ?? [])];
    const i = all.indexOf(document.activeElement as HTMLButtonElement);
    all[(i + (e.key === 'ArrowDown' ? 1 : all.length - 1)) % all.length]?.focus();
  }
  return (
    <div className="row-menu" ref={box} onClick={(e) => e.stopPropagation()} onKeyDown={keys}>
      <button ref={button} type="button" className="icon" aria-label={label} title={label} aria-haspopup="menu" aria-expanded={open}
        onClick={() => setOpen((o) => !o)}>⋯</button>
      {open && (
        <div role="menu" aria-label={label} className="menu">
          {items.map((it) => (
            <button key={it.label} type="button" role="menuitem" className={it.danger ? 'danger-text' : undefined}
              disabled={it.disabled} title={it.title}
              onClick={() => { setOpen(false); it.onSelect(); }}>{it.label}</button>
          ))}
        </div>
      )}
    </div>
  );
}

interface ConfirmOpts { title: string; body: ReactNode; confirm: string; danger?: boolean }

/**
 * A confirm dialog as a promise: `const [dialog, ask] = useConfirm()`;
 * render `dialog`, then `if (await ask({...})) …`.
 */
export function useConfirm(): [ReactNode, (o: ConfirmOpts) => Promise<boolean>] {
  const [state, setState] = useState<(ConfirmOpts & { resolve: (v: boolean) => void }) | null>(null);
  const ask = useCallback((o: ConfirmOpts) => new Promise<boolean>((resolve) => setState({ ...o, resolve })), []);
  const done = (v: boolean) => { state?.resolve(v); setState(null); };
  const dialog = (
    <Dialog title={state?.title ?? ''} open={!!state} onClose={() => done(false)}
      footer={<>
        <button type="button" onClick={() => done(false)}>Cancel</button>
        <button type="button" className={state?.danger ? 'danger' : 'primary'} onClick={() => done(true)} autoFocus>{state?.confirm}</button>
      </>}>
      {state?.body}
    </Dialog>
  );
  return [dialog, ask];
}

/** Role-gated controls say why they are disabled. */
export const VIEWER_WHY = 'Viewers cannot change anything here: ask an admin of your org for the editor role.';

/** The page of a user who belongs to no org (left their last one). */
export function NoOrg({ title }: { title: string }) {
  return (
    <div className="page narrow">
      <h1>{title}</h1>
      <Empty title="You belong to no organization">
        <p>Open an invitation link from an admin of the organization you want to join.</p>
      </Empty>
    </div>
  );
}
