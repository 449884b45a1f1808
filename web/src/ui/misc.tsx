import type { ReactNode } from 'react';

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return <span className="spinner" role="progressbar" aria-label={label} />;
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return <div className="empty"><h3>{title}</h3>{children}</div>;
}

/** "3 min ago" style time, with the full time in the title. */
export function Time({ at, tz }: { at: string | null | undefined; tz?: string }) {
  if (!at) return <span>—</span>;
  const d = new Date(at);
  const full = d.toLocaleString(undefined, tz ? { timeZone: tz } : undefined);
  return <time dateTime={at} title={full}>{relative(d)}</time>;
}

export function relative(d: Date, now = Date.now()): string {
  const s = Math.round((now - d.getTime()) / 1000);
  if (s < 0) return d.toLocaleString();
  if (s < 45) return 'just now';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  if (s < 86400) return Math.round(s / 3600) + ' h ago';
  if (s < 86400 * 7) return Math.round(s / 86400) + ' d ago';
  return d.toLocaleDateString();
}

export function Field({ label, error, children, hint }: { label: string; error?: string; children: ReactNode; hint?: ReactNode }) {
  return (
    <label className={'field' + (error ? ' has-error' : '')}>
      <span className="label">{label}</span>
      {children}
      {hint && <small className="hint">{hint}</small>}
      {error && <small className="field-error" role="alert">{error}</small>}
    </label>
  );
}
