// The signed-in user's own settings: preferences, password, sessions.
import { useEffect, useState, type FormEvent } from 'react';
import { api, call, setCsrf, type Schemas } from '../api/client';
import { navigate } from '../app/router';
import { useSession, type Prefs } from '../app/session';
import { ErrorNote, fieldError } from '../ui/ErrorNote';
import { Field, Spinner, Time } from '../ui/misc';
import { toast, toastError } from '../ui/toast';

const ZONES: string[] = (() => {
  const f = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf;
  try { return f ? f('timeZone') : ['UTC']; } catch { return ['UTC']; }
})();

export default function Account() {
  const { me } = useSession();
  if (!me) return null;
  return (
    <div className="page narrow">
      <h1>Account</h1>
      <p className="muted">{me.user.name} · {me.user.email}</p>
      <PrefsForm />
      <PasswordForm />
      <Sessions />
    </div>
  );
}

function PrefsForm() {
  const { prefs, setPrefs } = useSession();
  const [theme, setTheme] = useState<Prefs['theme']>(prefs.theme ?? 'system');
  const [tz, setTz] = useState(prefs.time_zone ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function save(e: FormEvent) {
    e.preventDefault();
    setBusy(true); setError(null);
    const next: Prefs = { ...prefs, theme, time_zone: tz || undefined };
    if (!tz) delete next.time_zone;
    try {
      const saved = await call(api.PUT('/api/me/prefs', { body: next }));
      setPrefs((saved ?? next) as Prefs);
      toast('ok', 'Preferences saved');
    } catch (err) { setError(err); } finally { setBusy(false); }
  }
  return (
    <form className="card" onSubmit={save} aria-labelledby="prefs-h">
      <h2 id="prefs-h">Preferences</h2>
      <fieldset className="row">
        <legend>Theme</legend>
        {(['system', 'light', 'dark'] as const).map((t) => (
          <label key={t} className="radio"><input type="radio" name="theme" value={t} checked={theme === t} onChange={() => setTheme(t)} /> {t[0].toUpperCase() + t.slice(1)}</label>
        ))}
      </fieldset>
      <Field label="Time zone" hint="Times in the editor are shown in this zone; empty: the browser's.">
        <select value={tz} onChange={(e) => setTz(e.target.value)}>
          <option value="">Browser default ({Intl.DateTimeFormat().resolvedOptions().timeZone})</option>
          {ZONES.map((z) => <option key={z} value={z}>{z}</option>)}
        </select>
      </Field>
      <ErrorNote error={error} />
      <button className="primary" disabled={busy}>Save preferences</button>
    </form>
  );
}

function PasswordForm() {
  const [cur, setCur] = useState('');
  const [next, setNext] = useState('');
  const [keepKeys, setKeepKeys] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function save(e: FormEvent) {
    e.preventDefault();
    setBusy(true); setError(null);
    try {
      const r = await call(api.PUT('/api/me/password', { body: { current_password: cur, new_password: next, keep_api_keys: keepKeys } }));
      const tok = (r as { csrf_token?: string } | undefined)?.csrf_token;
      if (tok) setCsrf(tok);
      setCur(''); setNext('');
      toast('ok', 'Password changed; your other sessions were signed out');
    } catch (err) { setError(err); } finally { setBusy(false); }
  }
  return (
    <form className="card" onSubmit={save} aria-labelledby="pw-h">
      <h2 id="pw-h">Password</h2>
      <Field label="Current password" error={fieldError(error, 'current_password')}><input type="password" autoComplete="current-password" required value={cur} onChange={(e) => setCur(e.target.value)} /></Field>
      <Field label="New password" error={fieldError(error, 'new_password')} hint="At least 10 characters. Changing it signs out your other sessions."><input type="password" autoComplete="new-password" required minLength={10} maxLength={128} value={next} onChange={(e) => setNext(e.target.value)} /></Field>
      <label className="check"><input type="checkbox" checked={keepKeys} onChange={(e) => setKeepKeys(e.target.checked)} /> Keep my API keys (otherwise they are revoked)</label>
      {!fieldError(error, 'current_password') && !fieldError(error, 'new_password') && <ErrorNote error={error} />}
      <button className="primary" disabled={busy}>Change password</button>
    </form>
  );
}

function Sessions() {
  const [list, setList] = useState<Schemas['Session'][] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => call(api.GET('/api/me/sessions')).then((r) => setList(r as Schemas['Session'][])).catch(setError);
  useEffect(() => { load(); }, []);
  async function revoke(s: Schemas['Session']) {
    try {
      await call(api.DELETE('/api/me/sessions/{id}', { params: { path: { id: s.id! } } }));
      if (s.current) { navigate('/login', { force: true }); return; }
      toast('ok', 'Session signed out');
      load();
    } catch (e) { toastError(e, 'Revoking the session'); }
  }
  return (
    <section className="card" aria-labelledby="sess-h">
      <h2 id="sess-h">Sessions</h2>
      <ErrorNote error={error} />
      {!list ? <Spinner /> : (
        <table className="table">
          <thead><tr><th>Browser</th><th>Address</th><th>Signed in</th><th>Last seen</th><th /></tr></thead>
          <tbody>
            {list.map((s) => (
              <tr key={s.id}>
                <td title={s.user_agent ?? ''}>{shortAgent(s.user_agent)}{s.current && <span className="badge">this session</span>}</td>
                <td>{s.ip ?? '—'}</td>
                <td><Time at={s.created_at} /></td>
                <td><Time at={s.last_seen_at} /></td>
                <td><button className="danger small" onClick={() => revoke(s)}>{s.current ? 'Sign out' : 'Revoke'}</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function shortAgent(ua: string | null | undefined): string {
  if (!ua) return 'Unknown';
  const m = ua.match(/(Firefox|Edg|Chrome|Chromium|Safari|curl|python)[/ ]([\d.]+)/i);
  return m ? `${m[1]} ${m[2].split('.')[0]}` : ua.slice(0, 40);
}
