import type { ReactNode } from 'react';

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return <span className="spinner" role="progressbar" aria-label={label} />;
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return <div className="empty"><h3>{title}</h3>{children}</div>;
}

// The user's time zone preference (Account → Preferences); unset: the
// browser's. Every date the app writes goes through formatTime.
let userTimeZone: string | undefined;
export function setUserTimeZone(tz: string | undefined) {
  try {
    userTimeZone = tz ? new Intl.DateTimeFormat(undefined, { timeZone: tz }).resolvedOptions().timeZone : undefined;
  } catch {
    userTimeZone = undefined; // a zone this browser does not know
  }
}

/** A date and time in the user's time zone. */
export function formatTime(d: Date | string, opts: Intl.DateTimeFormatOptions = {}): string {
  const x = typeof d === 'string' ? new Date(d) : d;
  return x.toLocaleString(undefined, userTimeZone ? { ...opts, timeZone: userTimeZone } : opts);
}

/** "3 min ago" style time, with the full time (in the user's zone) in the title. */
export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return <span>—</span>;
  const d = new Date(at);
  const full = formatTime(d, { dateStyle: 'medium', timeStyle: 'long' });
  return <time dateTime={at} title={full}>{relative(d)}</time>;
}

export function relative(d: Date, now = Date.now()): string {
  const s = Math.round((now - d.getTime()) / 1000);
  if (s < 0) return formatTime(d);
  if (s < 45) return 'just now';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  if (s < 86400) return Math.round(s / 3600) + ' h ago';
  if (s < 86400 * 7) return Math.round(s / 86400) + ' d ago';
  return formatTime(d, { dateStyle: 'medium' });
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
