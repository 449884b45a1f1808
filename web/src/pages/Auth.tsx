// Log-in and sign-up. After either, the user goes back where a 401 sent
// them from (?next=), or to the workflows.
import { useState, type FormEvent } from 'react';
import { ApiError, api, call, setCsrf } from '../api/client';
import { navigate, useLocation } from '../app/router';
import { useSession } from '../app/session';
import { ErrorNote, fieldError } from '../ui/ErrorNote';
import { Field } from '../ui/misc';
import { Link } from '../ui/Link';
import { safeNext } from './next';


export function Login() {
  const { query, hash } = useLocation();
  const { refresh } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true); setError(null);
    try {
      const s = await call(api.POST('/api/auth/login', { body: { email, password } }));
      setCsrf(s.csrf_token);
      await refresh();
      navigate(safeNext(query, location.origin, hash), { replace: true, force: true });
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) {
        setError(new Error('Too many attempts. Wait a minute and try again.'));
      } else setError(err);
    } finally { setBusy(false); }
  }

  return (
    <div className="auth-page">
      <form className="card auth-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">◆ Log in to Glyphic</h1>
        <Field label="Email"><input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus /></Field>
        <Field label="Password"><input type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} /></Field>
        <ErrorNote error={error} />
        <button className="primary" type="submit" disabled={busy}>{busy ? 'Logging in…' : 'Log in'}</button>
        <p className="muted">No account yet? <Link href="/signup">Sign up</Link></p>
      </form>
    </div>
  );
}

export function SignupForm({ invitation, fixedEmail, title }: { invitation?: string; fixedEmail?: string; title: string }) {
  const { query, hash } = useLocation();
  const { refresh } = useSession();
  const [name, setName] = useState('');
  const [email, setEmail] = useState(fixedEmail ?? '');
  const [password, setPassword] = useState('');
  const [orgName, setOrgName] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true); setError(null);
    try {
      const body: { name: string; email: string; password: string; org_name?: string; invitation?: string } = { name, email, password };
      if (invitation) body.invitation = invitation;
      else if (orgName.trim()) body.org_name = orgName.trim();
      const s = await call(api.POST('/api/auth/signup', { body }));
      setCsrf(s.csrf_token);
      await refresh();
      navigate(safeNext(query, location.origin, hash), { replace: true, force: true });
    } catch (err) {
      setError(err);
    } finally { setBusy(false); }
  }

  const closed = error instanceof ApiError && error.code === 'signup_closed';
  // back here after logging in; an invitation's token in the hash only (never sent to the server)
  const loginHref = invitation ? '/login#next=' + encodeURIComponent('/invite#token=' + invitation)
    : '/login' + (query.get('next') ? '?next=' + encodeURIComponent(query.get('next')!) : '');
  return (
    <form className="card auth-card" onSubmit={submit} aria-labelledby="signup-title">
      <h1 id="signup-title">{title}</h1>
      <Field label="Name" error={fieldError(error, 'name')}><input autoComplete="name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} autoFocus /></Field>
      <Field label="Email" error={fieldError(error, 'email')}><input type="email" autoComplete="email" required maxLength={254} value={email} onChange={(e) => setEmail(e.target.value)} readOnly={!!fixedEmail} /></Field>
      <Field label="Password" error={fieldError(error, 'password')} hint="At least 10 characters; common passwords are refused.">
        <input type="password" autoComplete="new-password" required minLength={10} maxLength={128} value={password} onChange={(e) => setPassword(e.target.value)} />
      </Field>
      {!invitation && (
        <Field label="Organization name (optional)" error={fieldError(error, 'org_name')}>
          <input maxLength={100} value={orgName} placeholder={name ? `${name}'s org` : ''} onChange={(e) => setOrgName(e.target.value)} />
        </Field>
      )}
      {closed
        ? <div className="error-note" role="alert">Sign-up on this server is by invitation only. Ask an admin of your organization for an invitation link.</div>
        : !fieldError(error, 'name') && !fieldError(error, 'email') && !fieldError(error, 'password') && !fieldError(error, 'org_name') && <ErrorNote error={error} />}
      <button className="primary" type="submit" disabled={busy}>{busy ? 'Creating the account…' : 'Sign up'}</button>
      <p className="muted">Already have an account? <Link href={loginHref}>Log in</Link></p>
    </form>
  );
}

export function Signup() {
  return <div className="auth-page"><SignupForm title="◆ Create your Glyphic account" /></div>;
}
