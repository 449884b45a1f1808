// /team: the active org's members, invitations, API keys and audit log.
// Each tab shows only what the user's role allows; the server decides in
// the end, and its refusals are shown with their request id.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, call, type Schemas } from '../api/client';
import { navigate, setQuery, useLocation } from '../app/router';
import { useSession } from '../app/session';
import { Dialog } from '../ui/Dialog';
import { ErrorNote, fieldError } from '../ui/ErrorNote';
import { Empty, Field, Spinner, Time } from '../ui/misc';
import { toast } from '../ui/toast';
import { CopyField, ErrorWords, toastWords, useConfirm } from './common';
import {
  ROLES, ROLE_HELP, SCOPES, SCOPE_HELP, allowedScopes, auditDetails, canManage, expiryDays, grantableRoles, inviteLink,
  isAdminRole, keyState, teamErrorText, type Role, type Scope,
} from './teamLogic';

type Member = Schemas['Member'];
type Tab = 'members' | 'invitations' | 'keys' | 'audit';
const TAB_LABEL: Record<Tab, string> = { members: 'Members', invitations: 'Invitations', keys: 'API keys', audit: 'Audit log' };

export default function Team() {
  const { me, role } = useSession();
  const { query } = useLocation();
  const org = me?.org;
  const admin = isAdminRole(role);
  const tabs: Tab[] = admin ? ['members', 'invitations', 'keys', 'audit'] : ['members', 'keys'];
  const asked = query.get('tab') as Tab | null;
  const tab: Tab = asked && tabs.includes(asked) ? asked : 'members';
  const [members, setMembers] = useState<Member[] | null>(null);
  const [membersError, setMembersError] = useState<unknown>(null);

  const loadMembers = useCallback(async () => {
    if (!org) return;
    try {
      setMembers(await call(api.GET('/api/orgs/{org}/members', { params: { path: { org: org.id } } })));
      setMembersError(null);
    } catch (e) { setMembersError(e); setMembers([]); }
  }, [org?.id]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => { setMembers(null); }, [org?.id]);
  // again on every tab change: someone may have joined meanwhile
  useEffect(() => { loadMembers(); }, [loadMembers, tab]);

  if (!me) return null;
  if (!org) {
    return <div className="page narrow"><h1>Team</h1><Empty title="You belong to no organization">
      <p>Ask an admin for an invitation link, or create an organization from the API.</p></Empty></div>;
  }
  const nameOf = (id: string | null | undefined) => {
    if (!id) return '—';
    const m = members?.find((x) => x.user_id === id);
    return m ? (m.name || m.email || id) : id.slice(0, 8);
  };

  return (
    <div className="page team-page">
      <div className="page-head">
        <h1>Team</h1>
        <span className="muted">{org.name} · you are {role === 'admin' || role === 'owner' ? 'an' : 'a'} {role}</span>
      </div>
      <div className="tabs" role="tablist" aria-label="Team">
        {tabs.map((t) => (
          <button key={t} role="tab" id={'tab-' + t} aria-controls={'panel-' + t} aria-selected={tab === t}
            onClick={() => setQuery({ tab: t === 'members' ? null : t })}>{TAB_LABEL[t]}</button>
        ))}
      </div>
      <div role="tabpanel" id={'panel-' + tab} aria-labelledby={'tab-' + tab}>
        {tab === 'members' && <Members orgId={org.id} members={members} error={membersError} reload={loadMembers} />}
        {tab === 'invitations' && <Invitations orgId={org.id} nameOf={nameOf} onChange={loadMembers} />}
        {tab === 'keys' && <Keys nameOf={nameOf} />}
        {tab === 'audit' && <Audit nameOf={nameOf} />}
      </div>
    </div>
  );
}

function Members({ orgId, members, error, reload }: { orgId: string; members: Member[] | null; error: unknown; reload: () => Promise<void> }) {
  const { me, role, refresh } = useSession();
  const [busy, setBusy] = useState<string | null>(null);
  const [confirmDialog, ask] = useConfirm();
  const myId = me?.user.id;

  async function changeRole(m: Member, to: Role) {
    const self = m.user_id === myId;
    if (self && !(await ask({
      title: 'Change your own role?', confirm: `Become ${to}`, danger: true,
      body: <p>You will become {to} ({ROLE_HELP[to]}). Only someone with a higher role can change it back.</p>,
    }))) return;
    if (to === 'owner' && !self && !(await ask({
      title: 'Make an owner?', confirm: 'Make owner',
      body: <p>{m.name || m.email} will be able to do everything in this org, including removing you.</p>,
    }))) return;
    setBusy(m.user_id!);
    try {
      await call(api.PATCH('/api/orgs/{org}/members/{user}', { params: { path: { org: orgId, user: m.user_id! } }, body: { role: to } }));
      toast('ok', `${m.name || m.email} is now ${to}`);
      await reload();
      if (self) await refresh();
    } catch (e) { toastWords(e, teamErrorText(e), `Changing the role of ${m.name || m.email}`); await reload(); }
    finally { setBusy(null); }
  }

  async function remove(m: Member) {
    const self = m.user_id === myId;
    const yes = await ask(self
      ? { title: 'Leave this organization?', confirm: 'Leave', danger: true, body: <p>You will lose access to its workflows, executions and keys. To come back you need a new invitation.</p> }
      : { title: `Remove ${m.name || m.email}?`, confirm: 'Remove', danger: true, body: <p>{m.email} loses access to this org and its workflows; their API keys of this org stop working.</p> });
    if (!yes) return;
    setBusy(m.user_id!);
    try {
      await call(api.DELETE('/api/orgs/{org}/members/{user}', { params: { path: { org: orgId, user: m.user_id! } } }));
      if (self) {
        toast('ok', 'You left the organization');
        await refresh();
        navigate('/workflows', { replace: true });
        return;
      }
      toast('ok', `${m.name || m.email} removed`);
      await reload();
    } catch (e) { toastWords(e, teamErrorText(e), self ? 'Leaving the org' : `Removing ${m.name || m.email}`); }
    finally { setBusy(null); }
  }

  return (
    <section aria-label="Members">
      <ErrorNote error={error} />
      {!members ? <Spinner label="Loading members" /> : members.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <thead><tr><th>Name</th><th>Email</th><th>Role</th><th>Joined</th><th className="col-actions"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {members.map((m) => {
                const self = m.user_id === myId;
                const manage = self ? isAdminRole(role) : canManage(role, m.role);
                const options = grantableRoles(role);
                return (
                  <tr key={m.user_id} aria-busy={busy === m.user_id || undefined}>
                    <td>{m.name}{self && <span className="you">(you)</span>}</td>
                    <td>{m.email}</td>
                    <td>
                      {manage && options.length ? (
                        <select className="role-select" aria-label={`Role of ${m.name || m.email}`} value={m.role}
                          disabled={busy === m.user_id} onChange={(e) => changeRole(m, e.target.value as Role)}>
                          {(options.includes(m.role!) ? options : [m.role!, ...options]).map((r) => <option key={r} value={r} title={ROLE_HELP[r]}>{r}</option>)}
                        </select>
                      ) : <span className="badge" title={m.role ? ROLE_HELP[m.role] : undefined}>{m.role}</span>}
                    </td>
                    <td><Time at={m.joined_at} /></td>
                    <td className="col-actions">
                      {self ? <button className="small danger" disabled={busy === m.user_id} onClick={() => remove(m)}>Leave org</button>
                        : canManage(role, m.role) && <button className="small danger" disabled={busy === m.user_id} aria-label={`Remove ${m.name || m.email}`} onClick={() => remove(m)}>Remove</button>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <p className="muted small">
        Roles: {ROLES.map((r) => <span key={r}><b>{r}</b> — {ROLE_HELP[r]}. </span>)}
        {!isAdminRole(role) && 'Only admins and owners change roles or invite people.'}
      </p>
      {confirmDialog}
    </section>
  );
}

function Invitations({ orgId, nameOf, onChange }: { orgId: string; nameOf: (id: string | null | undefined) => string; onChange: () => void }) {
  const { role } = useSession();
  const roles = grantableRoles(role);
  const [email, setEmail] = useState('');
  const [inviteRole, setInviteRole] = useState<Role>('editor');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<Schemas['InvitationCreated'] | null>(null);
  const [list, setList] = useState<Schemas['Invitation'][] | null>(null);
  const [listError, setListError] = useState<unknown>(null);

  const load = useCallback(() => call(api.GET('/api/orgs/{org}/invitations', { params: { path: { org: orgId } } }))
    .then((l) => { setList(l); setListError(null); }).catch((e) => { setListError(e); setList([]); }), [orgId]);
  useEffect(() => { load(); }, [load]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true); setError(null); setCreated(null);
    try {
      const r = await call(api.POST('/api/orgs/{org}/invitations', { params: { path: { org: orgId } }, body: { email: email.trim(), role: inviteRole } }));
      setCreated(r);
      setEmail('');
      load();
      onChange();
    } catch (err) { setError(err); } finally { setBusy(false); }
  }

  async function revoke(inv: Schemas['Invitation']) {
    try {
      await call(api.DELETE('/api/orgs/{org}/invitations/{id}', { params: { path: { org: orgId, id: inv.id! } } }));
      toast('ok', `Invitation for ${inv.email} revoked`);
      if (created?.id === inv.id) setCreated(null);
      load();
    } catch (e) { toastWords(e, teamErrorText(e), 'Revoking the invitation'); }
  }

  return (
    <section aria-label="Invitations">
      <form className="card" onSubmit={submit} aria-labelledby="invite-h">
        <h2 id="invite-h">Invite someone</h2>
        <div className="form-row">
          <Field label="Email" error={fieldError(error, 'email')}>
            <input type="email" required maxLength={254} value={email} onChange={(e) => setEmail(e.target.value)} placeholder="grace@example.com" />
          </Field>
          <Field label="Role" error={fieldError(error, 'role')}>
            <select value={inviteRole} onChange={(e) => setInviteRole(e.target.value as Role)}>
              {roles.map((r) => <option key={r} value={r}>{r}</option>)}
            </select>
          </Field>
          <button className="primary" disabled={busy || !email.trim()}>{busy ? 'Creating…' : 'Create invitation'}</button>
        </div>
        <p className="muted small">{ROLE_HELP[inviteRole]}. No email is sent: pass the link on yourself.</p>
        {!fieldError(error, 'email') && !fieldError(error, 'role') && <ErrorWords error={error} words={error ? teamErrorText(error) : undefined} />}
        {created && (
          <div className="invite-created" role="status">
            <p>Invitation for <b>{created.email}</b> as <b>{created.role}</b>, valid until <Time at={created.expires_at} />. Send them this link (it is shown only now):</p>
            <CopyField label="Invitation link" value={inviteLink(location.origin, created)} />
          </div>
        )}
      </form>

      <h2>Pending invitations</h2>
      <ErrorNote error={listError} />
      {!list ? <Spinner label="Loading invitations" /> : list.length === 0 ? (!listError && <p className="muted">No pending invitations.</p>) : (
        <div className="table-wrap">
          <table className="table">
            <thead><tr><th>Email</th><th>Role</th><th>Invited by</th><th>Created</th><th>Expires</th><th className="col-actions"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {list.map((inv) => (
                <tr key={inv.id}>
                  <td>{inv.email}</td>
                  <td><span className="badge">{inv.role}</span></td>
                  <td>{nameOf(inv.invited_by)}</td>
                  <td><Time at={inv.created_at} /></td>
                  <td><Time at={inv.expires_at} /></td>
                  <td className="col-actions">
                    <button className="small danger" aria-label={`Revoke the invitation for ${inv.email}`} onClick={() => revoke(inv)}
                      disabled={inv.role === 'owner' && role !== 'owner'}>Revoke</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Keys({ nameOf }: { nameOf: (id: string | null | undefined) => string }) {
  const { me, role, isAdmin } = useSession();
  const allowed = allowedScopes(role);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['read']);
  const [expiry, setExpiry] = useState('90');
  const [customDays, setCustomDays] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [secret, setSecret] = useState<Schemas['ApiKeyCreated'] | null>(null);
  const [list, setList] = useState<Schemas['ApiKey'][] | null>(null);
  const [listError, setListError] = useState<unknown>(null);
  const [confirmDialog, ask] = useConfirm();
  const now = Date.now();

  const load = useCallback(() => call(api.GET('/api/keys')).then((l) => { setList(l); setListError(null); })
    .catch((e) => { setListError(e); setList([]); }), []);
  useEffect(() => { load(); }, [load, me?.org?.id]);

  const exp = expiryDays(expiry, customDays);
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (exp.error || scopes.length === 0) return;
    setBusy(true); setError(null);
    try {
      const body: Schemas['ApiKeyRequest'] = { name: name.trim(), scopes: SCOPES.filter((s) => scopes.includes(s)) };
      if (exp.days) body.expires_in_days = exp.days;
      const r = await call(api.POST('/api/keys', { body }));
      setSecret(r);
      setName('');
      load();
    } catch (err) { setError(err); } finally { setBusy(false); }
  }

  async function revoke(k: Schemas['ApiKey']) {
    const yes = await ask({
      title: `Revoke "${k.name}"?`, confirm: 'Revoke', danger: true,
      body: <p>Programs using the key <code>{k.prefix}…</code> get 401 from now on. This cannot be undone.</p>,
    });
    if (!yes) return;
    try {
      await call(api.DELETE('/api/keys/{id}', { params: { path: { id: k.id! } } }));
      toast('ok', `Key "${k.name}" revoked`);
      load();
    } catch (e) { toastWords(e, teamErrorText(e), 'Revoking the key'); }
  }

  const toggle = (s: Scope, on: boolean) => setScopes((old) => (on ? [...old.filter((x) => x !== s), s] : old.filter((x) => x !== s)));

  return (
    <section aria-label="API keys">
      <form className="card" onSubmit={submit} aria-labelledby="key-h">
        <h2 id="key-h">Create an API key</h2>
        <p className="muted small">A key acts as you in {me?.org?.name}, within its scopes and your role. Send it as <code>Authorization: Bearer &lt;key&gt;</code>.</p>
        <Field label="Name" error={fieldError(error, 'name')} hint="What uses it, e.g. deploy script">
          <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <fieldset className="scope-list">
          <legend>Scopes</legend>
          {SCOPES.map((s) => (
            <label key={s} title={allowed.includes(s) ? undefined : `Your role (${role}) may not give a key the ${s} scope`}>
              <input type="checkbox" checked={scopes.includes(s)} disabled={!allowed.includes(s)} onChange={(e) => toggle(s, e.target.checked)} />
              <span><b>{s}</b> <small>{SCOPE_HELP[s]}</small></span>
            </label>
          ))}
          {scopes.length === 0 && <small className="field-error" role="alert">Choose at least one scope.</small>}
          {fieldError(error, 'scopes') && <small className="field-error" role="alert">{teamErrorText(error)}</small>}
        </fieldset>
        <div className="form-row">
          <Field label="Expires" error={fieldError(error, 'expires_in_days')}>
            <select value={expiry} onChange={(e) => setExpiry(e.target.value)}>
              <option value="30">In 30 days</option>
              <option value="90">In 90 days</option>
              <option value="365">In a year</option>
              <option value="custom">After a number of days…</option>
              <option value="never">Never</option>
            </select>
          </Field>
          {expiry === 'custom' && (
            <Field label="Days" error={exp.error}>
              <input type="number" min={1} max={3650} value={customDays} onChange={(e) => setCustomDays(e.target.value)} />
            </Field>
          )}
          <button className="primary" disabled={busy || !name.trim() || !!exp.error || scopes.length === 0}>{busy ? 'Creating…' : 'Create key'}</button>
        </div>
        {!fieldError(error, 'name') && !fieldError(error, 'scopes') && !fieldError(error, 'expires_in_days') && <ErrorWords error={error} words={error ? teamErrorText(error) : undefined} />}
      </form>

      <h2>{isAdmin ? 'Keys of this org' : 'Your keys'}</h2>
      <ErrorNote error={listError} />
      {!list ? <Spinner label="Loading keys" /> : list.length === 0 ? (!listError && <p className="muted">No API keys yet.</p>) : (
        <div className="table-wrap">
          <table className="table">
            <thead><tr><th>Name</th><th>Key</th><th>Scopes</th>{isAdmin && <th>Owner</th>}<th>Created</th><th>Last used</th><th>Expires</th><th className="col-actions"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {list.map((k) => {
                const st = keyState(k, now);
                return (
                  <tr key={k.id}>
                    <td>{k.name}{st !== 'active' && <span className={'badge ' + (st === 'revoked' ? 'err' : 'warn')}>{st}</span>}</td>
                    <td><code>{k.prefix}…</code></td>
                    <td>{(k.scopes ?? []).join(', ')}</td>
                    {isAdmin && <td>{k.user_id === me?.user.id ? 'you' : nameOf(k.user_id)}</td>}
                    <td><Time at={k.created_at} /></td>
                    <td>{k.last_used_at ? <Time at={k.last_used_at} /> : <span className="muted">never</span>}</td>
                    <td>{k.expires_at ? <Time at={k.expires_at} /> : <span className="muted">never</span>}</td>
                    <td className="col-actions">
                      {st !== 'revoked' && <button className="small danger" aria-label={`Revoke key ${k.name}`} onClick={() => revoke(k)}>Revoke</button>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      <Dialog title="Your new API key" open={!!secret} onClose={() => setSecret(null)}
        footer={<button className="primary" onClick={() => setSecret(null)}>I have copied it</button>}>
        <div className="once-warning" role="alert">This is the only time the key is shown. Copy it now and keep it somewhere safe: if you lose it, revoke it and create another.</div>
        <p>"{secret?.name}" — scopes {secret?.scopes?.join(', ')}; {secret?.expires_at ? <>expires <Time at={secret.expires_at} /></> : 'never expires'}.</p>
        {secret?.key && <CopyField label="API key" value={secret.key} secret />}
      </Dialog>
      {confirmDialog}
    </section>
  );
}

function Audit({ nameOf }: { nameOf: (id: string | null | undefined) => string }) {
  const { me } = useSession();
  const [items, setItems] = useState<Schemas['AuditEntry'][] | null>(null);
  const [before, setBefore] = useState<number | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async (from: number | null) => {
    setLoading(true);
    try {
      const page = await call(api.GET('/api/audit', { params: { query: from ? { limit: 50, before: from } : { limit: 50 } } }));
      setItems((old) => (from && old ? [...old, ...page.items] : page.items));
      setBefore(page.next_before ?? null);
      setError(null);
    } catch (e) { setError(e); setItems((old) => old ?? []); } finally { setLoading(false); }
  }, []);
  useEffect(() => { setItems(null); load(null); }, [load, me?.org?.id]);

  return (
    <section aria-label="Audit log">
      <ErrorNote error={error} />
      {!items ? <Spinner label="Loading the audit log" /> : items.length === 0 ? (!error && <p className="muted">Nothing recorded yet.</p>) : (
        <div className="table-wrap">
          <table className="table">
            <thead><tr><th>When</th><th>Who</th><th>Action</th><th>Target</th><th>Address</th><th>Details</th></tr></thead>
            <tbody>
              {items.map((a) => (
                <tr key={a.id}>
                  <td><Time at={a.at} /></td>
                  <td>{nameOf(a.actor_id)}</td>
                  <td><code>{a.action}</code></td>
                  <td>{a.target_type ? <>{a.target_type} <span className="muted mono" title={a.target_id ?? ''}>{a.target_type === 'user' ? nameOf(a.target_id) : a.target_id?.slice(0, 8)}</span></> : '—'}</td>
                  <td className="mono">{a.ip ?? '—'}</td>
                  <td className="details-cell">{auditDetails(a.details as Record<string, unknown>)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {before && items && items.length > 0 && (
        <div className="load-more"><button onClick={() => load(before)} disabled={loading}>{loading ? 'Loading…' : 'Load older entries'}</button></div>
      )}
    </section>
  );
}
