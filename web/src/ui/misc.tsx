import { Children, cloneElement, isValidElement, useId, type ReactElement, type ReactNode } from 'react';

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

/**
 * A labelled form field. The label names the control; the hint and the
 * error describe it (aria-describedby), so a screen reader (and a test
 * looking a field up by its label) hears the name alone.
 */
export function Field({ label, error, children, hint }: { label: string; error?: string; children: ReactNode; hint?: ReactNode }) {
  const base = useId();
  const child = Children.count(children) === 1 && isValidElement(children) ? (children as ReactElement<Record<string, unknown>>) : null;
  const id = (child?.props.id as string | undefined) ?? base + '-input';
  const described = [hint ? base + '-hint' : '', error ? base + '-error' : ''].filter(Boolean).join(' ') || undefined;
  if (!child) {
    return (
      <label className={'field' + (error ? ' has-error' : '')}>
        <span className="label">{label}</span>
        {children}
        {hint && <small className="hint">{hint}</small>}
        {error && <small className="field-error" role="alert">{error}</small>}
      </label>
    );
  }
  return (
    <div className={'field' + (error ? ' has-error' : '')}>
      <label className="label" htmlFor={id}>{label}</label>
      {cloneElement(child, { id, 'aria-describedby': described, 'aria-invalid': error ? true : undefined })}
      {hint && <small className="hint" id={base + '-hint'}>{hint}</small>}
      {error && <small className="field-error" id={base + '-error'} role="alert">{error}</small>}
    </div>
  );
}
