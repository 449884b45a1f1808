// /invite#token=…: the link POST /api/orgs/{org}/invitations returns. A
// signed-in user accepts it; anyone else signs up with it (or logs in and
// comes back here).
import { useState } from 'react';
import { ApiError, api, call } from '../api/client';
import { navigate, useLocation } from '../app/router';
import { useSession } from '../app/session';
import { ErrorNote } from '../ui/ErrorNote';
import { SignupForm } from './Auth';

export function inviteToken(hash: string): string {
  return new URLSearchParams(hash.replace(/^#/, '')).get('token') || '';
}

export function Invite() {
  const { hash } = useLocation();
  const { me, refresh } = useSession();
  const token = inviteToken(hash);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  if (!token) return <div className="auth-page"><div className="card auth-card"><h1>Invitation</h1><p>This link has no invitation token. Ask for a new link.</p></div></div>;

  async function accept() {
    setBusy(true); setError(null);
    try {
      await call(api.POST('/api/invitations/accept', { body: { token } }));
      await refresh();
      navigate('/workflows', { replace: true });
    } catch (e) {
      setError(e instanceof ApiError && e.code === 'conflict' ? new Error('You are already a member of this organization.') : e);
    } finally { setBusy(false); }
  }

  if (me) {
    return (
      <div className="auth-page">
        <div className="card auth-card">
          <h1>Join an organization</h1>
          <p>You are signed in as <b>{me.user.email}</b>. The invitation must be for this email.</p>
          <ErrorNote error={error} />
          <button className="primary" onClick={accept} disabled={busy}>{busy ? 'Joining…' : 'Accept the invitation'}</button>
        </div>
      </div>
    );
  }
  return (
    <div className="auth-page">
      {/* its "Log in" link comes back here with the token */}
      <SignupForm invitation={token} title="◆ Join your team on Glyphic" />
    </div>
  );
}
