// Toasts: short notices in a live region; errors stay until closed and
// carry the request id the server gave.
import { useSyncExternalStore } from 'react';
import { ApiError } from '../api/client';

export interface Toast { id: number; kind: 'info' | 'ok' | 'error'; text: string; requestId?: string }
let toasts: Toast[] = [];
let next = 1;
const listeners = new Set<() => void>();
const emit = () => listeners.forEach((l) => l());

export function toast(kind: Toast['kind'], text: string, requestId?: string) {
  const t = { id: next++, kind, text, requestId };
  toasts = [...toasts, t].slice(-5);
  emit();
  if (kind !== 'error') setTimeout(() => dismiss(t.id), 4000);
}
export function toastError(e: unknown, what?: string) {
  const msg = e instanceof Error ? e.message : String(e);
  toast('error', what ? `${what}: ${msg}` : msg, e instanceof ApiError ? e.requestId : undefined);
}
export function dismiss(id: number) { toasts = toasts.filter((t) => t.id !== id); emit(); }

export function Toasts() {
  const list = useSyncExternalStore((cb) => { listeners.add(cb); return () => listeners.delete(cb); }, () => toasts);
  return (
    <div className="toasts" role="status" aria-live="polite">
      {list.map((t) => (
        <div key={t.id} className={'toast toast-' + t.kind} role={t.kind === 'error' ? 'alert' : undefined}>
          <span>{t.text}</span>
          {t.requestId && <small className="reqid">request {t.requestId}</small>}
          <button className="icon" aria-label="Dismiss" onClick={() => dismiss(t.id)}>×</button>
        </div>
      ))}
    </div>
  );
}
