// /credentials and /credentials/:id: the org's credentials. The list shows
// names, types and status; editors create one from the type catalogue
// (GET /api/credential-types), change it (a secret shows only whether it is
// set: replace it or clear it, untouched it is kept), connect an OAuth2
// account, test it (POST /api/credentials/{id}/test: an HTTP type against a
// URL the editor gives, OAuth2 at its token endpoint) and delete it (a
// credential workflows use asks again, listing them). Viewers see names and types only. No secret value ever reaches the
// browser: secret inputs start empty.
import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { api, call } from '../api/client';
import { navigate, setQuery, useLocation } from '../app/router';
import { useSession } from '../app/session';
import { Dialog } from '../ui/Dialog';
import { Link } from '../ui/Link';
import { Empty, Field, Spinner, Time } from '../ui/misc';
import { toast } from '../ui/toast';
import { loadAllCredentials } from './credentialsApi';
import { ErrorWords, NoOrg, VIEWER_WHY, toastWords } from './common';
import {
  createBody, credentialErrorText, emptyForm, errorFor, errorPlaced, formFields, formOf, oauth2Notice, patchBody, testBody, testKind,
  testResultText, workflowsInUse,
  type Credential, type CredentialType, type FormField, type FormState, type TestMethod, type UsingWorkflow,
} from './credentialsLogic';

function useTypes() {
  const [types, setTypes] = useState<CredentialType[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    call(api.GET('/api/credential-types')).then(setTypes).catch((e) => { setError(e); setTypes([]); });
  }, []);
  return { types, error };
}

export default function Credentials({ id }: { id?: string }) {
  const { me } = useSession();
  if (!me) return null;
  if (!me.org) return <NoOrg title="Credentials" />;
  return id ? <CredentialPage key={id} id={id} /> : <CredentialList />;
}

function StatusBadge({ c }: { c: Credential }) {
  if (c.status === 'needs_reauth') return <span className="badge warn" title={c.status_detail ?? undefined}>needs reauth</span>;
  if (c.status === 'ok') return <span className="badge ok">ok</span>;
  return null;
}

function CredentialList() {
  const { canEdit, me } = useSession();
  const { query } = useLocation();
  const { types, error: typesError } = useTypes();
  const [list, setList] = useState<Credential[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const creating = query.get('new') !== null;
  const del = useDelete(() => load());

  const load = useCallback(() => loadAllCredentials().then((l) => { setList(l); setError(null); })
    .catch((e) => { setError(e); setList([]); }), []);
  useEffect(() => { load(); }, [load, me?.org?.id]);

  const typeName = (t: string) => types?.find((x) => x.type === t)?.display_name ?? t;
  return (
    <div className="page credentials-page">
      <div className="page-head">
        <h1>Credentials</h1>
        <span className="muted">Secrets that nodes use by name. Their values are never shown again.</span>
        <div className="spacer" />
        {canEdit ? !creating && <button className="primary" onClick={() => setQuery({ new: '1' })}>New credential</button>
          : <span className="muted small" title={VIEWER_WHY}>read only</span>}
      </div>
      <ErrorWords error={typesError} />
      {creating && canEdit && types && (
        <CreateForm types={types} initialType={query.get('type') ?? ''} initialName={query.get('name') ?? ''}
          onCancel={() => setQuery({ new: null, type: null, name: null })} />
      )}
      <ErrorWords error={error} />
      {!list ? <Spinner label="Loading credentials" /> : list.length === 0 ? (!error && (
        <Empty title="No credentials yet">
          <p>{canEdit ? 'Create one, then pick it by name in a node’s credential parameter.' : 'Editors of this org create them.'}</p>
        </Empty>
      )) : (
        <div className="table-wrap">
          <table className="table">
            <thead><tr><th>Name</th><th>Type</th>{canEdit && <><th>Status</th><th>Changed</th></>}<th className="col-actions"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {list.map((c) => (
                <tr key={c.id}>
                  <td><Link className="wf-name" href={`/credentials/${c.id}`}>{c.name}</Link></td>
                  <td>{typeName(c.type)} <code className="muted small">{c.type}</code></td>
                  {canEdit && <><td><StatusBadge c={c} /></td><td><Time at={c.updated_at} /></td></>}
                  <td className="col-actions">
                    {canEdit && <button className="small danger" aria-label={`Delete ${c.name}`} onClick={() => del.start(c)}>Delete</button>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {del.dialog}
    </div>
  );
}

/** Delete with a second question when workflows use the credential (409 credential_in_use). */
function useDelete(after: () => void) {
  const [target, setTarget] = useState<Credential | null>(null);
  const [using, setUsing] = useState<UsingWorkflow[] | null>(null);
  const [busy, setBusy] = useState(false);
  async function run(c: Credential, force: boolean) {
    setBusy(true);
    try {
      await call(api.DELETE('/api/credentials/{id}', { params: { path: { id: c.id }, query: force ? { force: 'true' } : undefined } }));
      toast('ok', `Credential "${c.name}" deleted`);
      setTarget(null); setUsing(null);
      after();
    } catch (e) {
      const w = workflowsInUse(e);
      if (w && !force) setUsing(w);
      else { toastWords(e, credentialErrorText(e), `Deleting "${c.name}"`); setTarget(null); setUsing(null); }
    } finally { setBusy(false); }
  }
  const close = () => { setTarget(null); setUsing(null); };
  const dialog = (
    <Dialog title={using ? `"${target?.name}" is in use` : `Delete "${target?.name}"?`} open={!!target} onClose={close}
      footer={<>
        <button type="button" onClick={close}>Cancel</button>
        <button type="button" className="danger" disabled={busy} onClick={() => target && run(target, !!using)}>{using ? 'Delete anyway' : 'Delete'}</button>
      </>}>
      {using ? (
        <>
          <p>These workflows use it by name; their nodes will fail with “credential not found” until one of that name exists again:</p>
          <ul className="in-use">
            {using.map((w, i) => <li key={w.id ?? i}>{w.name ? <Link href={`/workflows/${w.id}`}>{w.name}</Link> : <span className="muted">a workflow you cannot see</span>}</li>)}
          </ul>
        </>
      ) : <p>Its secrets are destroyed. This cannot be undone.</p>}
    </Dialog>
  );
  return { start: (c: Credential) => { setUsing(null); setTarget(c); }, dialog };
}

function TypeFields({ defs, state, set, error, existing, readOnly }: {
  defs: FormField[]; state: FormState; set: (s: FormState) => void; error: unknown; existing?: Credential; readOnly?: boolean;
}) {
  return (
    <>
      {defs.map((f) => {
        const key = (f.secret ? 'secrets.' : 'fields.') + f.name;
        const label = f.label + (f.required ? ' *' : '');
        if (!f.secret) {
          return (
            <Field key={key} label={label} hint={f.help ?? undefined} error={errorFor(error, key)}>
              <input value={state.fields[f.name] ?? ''} required={f.required && !existing} readOnly={readOnly} maxLength={4096} name={key}
                onChange={(e) => set({ ...state, fields: { ...state.fields, [f.name]: e.target.value } })} />
            </Field>
          );
        }
        if (!existing) {
          return (
            <Field key={key} label={label} hint={f.help ?? undefined} error={errorFor(error, key)}>
              <input type="password" autoComplete="new-password" value={state.secrets[f.name] ?? ''} required={f.required} maxLength={65536} name={key}
                onChange={(e) => set({ ...state, secrets: { ...state.secrets, [f.name]: e.target.value } })} />
            </Field>
          );
        }
        const isSet = (existing.secrets_set ?? []).includes(f.name);
        const mode = state.modes[f.name] ?? 'keep';
        const setMode = (m: 'keep' | 'replace' | 'clear') => set({ ...state, modes: { ...state.modes, [f.name]: m }, secrets: { ...state.secrets, [f.name]: '' } });
        return (
          <div key={key} className={'field secret-field' + (errorFor(error, key) ? ' has-error' : '')}>
            <span className="label">{label}{' '}
              <span className={'badge ' + (isSet ? 'ok' : '')} data-testid={`secret-state-${f.name}`}>{isSet ? 'set' : 'not set'}</span>
              {mode === 'clear' && <span className="badge warn">will be cleared</span>}
            </span>
            {mode === 'replace' ? (
              <div className="row">
                <input type="password" autoComplete="new-password" aria-label={`New ${f.label}`} value={state.secrets[f.name] ?? ''} maxLength={65536} name={key} autoFocus
                  onChange={(e) => set({ ...state, secrets: { ...state.secrets, [f.name]: e.target.value } })} />
                <button type="button" className="small" onClick={() => setMode('keep')}>Keep the old one</button>
              </div>
            ) : !readOnly && (
              <div className="row">
                {mode === 'clear' ? <button type="button" className="small" onClick={() => setMode('keep')}>Undo clear</button> : <>
                  <button type="button" className="small" aria-label={`${isSet ? 'Replace' : 'Set'} ${f.label}`} onClick={() => setMode('replace')}>{isSet ? 'Replace' : 'Set'}</button>
                  {isSet && <button type="button" className="small danger" aria-label={`Clear ${f.label}`} onClick={() => setMode('clear')}>Clear</button>}
                </>}
              </div>
            )}
            {f.help && <small className="hint">{f.help}</small>}
            {errorFor(error, key) && <small className="field-error" role="alert">{errorFor(error, key)}</small>}
          </div>
        );
      })}
      {!readOnly && <CustomRows state={state} set={set} />}
    </>
  );
}

/** A generic credential's own fields (name, value, secret or not). */
function CustomRows({ state, set }: { state: FormState; set: (s: FormState) => void }) {
  if (!state.custom) return null;
  const upd = (i: number, p: Partial<FormState['custom'][number]>) => set({ ...state, custom: state.custom.map((c, j) => (j === i ? { ...c, ...p } : c)) });
  return (
    <>
      {state.custom.map((c, i) => (
        <div className="form-row custom-row" key={i}>
          <input aria-label={`Field ${i + 1} name`} placeholder="field name" value={c.name} onChange={(e) => upd(i, { name: e.target.value })} />
          <input aria-label={`Field ${i + 1} value`} placeholder="value" type={c.secret ? 'password' : 'text'} autoComplete="new-password" value={c.value}
            onChange={(e) => upd(i, { value: e.target.value })} />
          <label className="check"><input type="checkbox" checked={c.secret} onChange={(e) => upd(i, { secret: e.target.checked })} /> secret</label>
          <button type="button" className="small" aria-label={`Remove field ${i + 1}`} onClick={() => set({ ...state, custom: state.custom.filter((_, j) => j !== i) })}>×</button>
        </div>
      ))}
    </>
  );
}

function CreateForm({ types, initialType, initialName, onCancel }: { types: CredentialType[]; initialType: string; initialName: string; onCancel: () => void }) {
  const [type, setType] = useState(types.some((t) => t.type === initialType) ? initialType : '');
  const [state, setState] = useState<FormState>(() => ({ ...emptyForm(), name: initialName }));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const t = types.find((x) => x.type === type);
  const defs = useMemo(() => formFields(t), [t]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!t) return;
    setBusy(true); setError(null);
    try {
      const c = await call(api.POST('/api/credentials', { body: createBody(t.type, defs, state) }));
      toast('ok', `Credential "${c.name}" created`);
      navigate(`/credentials/${c.id}`);
    } catch (err) { setError(err); } finally { setBusy(false); }
  }

  return (
    <form className="card credential-form" onSubmit={submit} aria-labelledby="new-cred-h">
      <h2 id="new-cred-h">New credential</h2>
      <Field label="Type" error={errorFor(error, 'type')}>
        <select value={type} required onChange={(e) => { setType(e.target.value); setState({ ...state, fields: {}, secrets: {}, custom: [] }); setError(null); }}>
          <option value="">Choose a type…</option>
          {types.map((x) => <option key={x.type} value={x.type}>{x.display_name} ({x.type})</option>)}
        </select>
      </Field>
      {t && <p className="muted small">{t.description}</p>}
      <Field label="Name *" hint="Unique in the org: nodes refer to the credential by this name." error={errorFor(error, 'name')}>
        <input value={state.name} required maxLength={200} name="name" onChange={(e) => setState({ ...state, name: e.target.value })} />
      </Field>
      {t && <TypeFields defs={defs} state={state} set={setState} error={error} />}
      {t?.any_fields && <button type="button" className="small" onClick={() => setState({ ...state, custom: [...state.custom, { name: '', value: '', secret: true }] })}>Add a field</button>}
      {t?.oauth2 && <p className="muted small">After creating it, connect the account: the provider’s tokens are stored by Glyphic.</p>}
      {!errorPlaced(error, defs) && <ErrorWords error={error} words={error ? credentialErrorText(error) : undefined} />}
      <div className="form-row">
        <button className="primary" disabled={busy || !t || !state.name.trim()}>{busy ? 'Creating…' : 'Create credential'}</button>
        <button type="button" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}

function CredentialPage({ id }: { id: string }) {
  const { canEdit } = useSession();
  const { query } = useLocation();
  const { types, error: typesError } = useTypes();
  const [cred, setCred] = useState<Credential | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [state, setState] = useState<FormState>(emptyForm());
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [renameUsers, setRenameUsers] = useState<UsingWorkflow[] | null>(null);
  const notice = oauth2Notice(query);
  const del = useDelete(() => navigate('/credentials', { replace: true }));

  const load = useCallback(() => call(api.GET('/api/credentials/{id}', { params: { path: { id } } }))
    .then((c) => { setCred(c); setState(formOf(c)); setLoadError(null); })
    .catch((e) => setLoadError(e)), [id]);
  useEffect(() => { load(); }, [load]);

  const t = types?.find((x) => x.type === cred?.type);
  const defs = useMemo(() => (cred ? formFields(t, cred) : []), [t, cred]);
  const body = cred ? patchBody(cred, defs, state) : null;

  async function save(force: boolean) {
    if (!cred || !body) return;
    setBusy(true); setError(null);
    try {
      const c = await call(api.PATCH('/api/credentials/{id}', { params: { path: { id }, query: force ? { force: 'true' } : undefined }, body }));
      toast('ok', `Credential "${c.name}" saved`);
      setRenameUsers(null);
      setCred(c); setState(formOf(c));
    } catch (err) {
      const w = workflowsInUse(err);
      if (w && !force) setRenameUsers(w); else { setError(err); setRenameUsers(null); }
    } finally { setBusy(false); }
  }

  if (loadError) return <div className="page narrow"><p><Link href="/credentials">← Credentials</Link></p><ErrorWords error={loadError} words={credentialErrorText(loadError)} /></div>;
  if (!cred || !types) return <div className="center"><Spinner /></div>;
  const readOnly = !canEdit;
  return (
    <div className="page narrow credential-page">
      <p><Link href="/credentials">← Credentials</Link></p>
      <div className="page-head">
        <h1>{cred.name}</h1>
        <span className="muted">{t?.display_name ?? cred.type} <code>{cred.type}</code></span>
        <StatusBadge c={cred} />
      </div>
      {notice && (
        <div className={notice.kind === 'ok' ? 'ok-note' : 'error-note'} role={notice.kind === 'ok' ? 'status' : 'alert'}>
          {notice.text} <button className="small ghost" onClick={() => setQuery({ oauth2: null, reason: null, error: null })}>Dismiss</button>
        </div>
      )}
      <ErrorWords error={typesError} />
      {cred.status === 'needs_reauth' && <div className="warn-note">This credential needs to be authorized again{cred.status_detail ? `: ${cred.status_detail}` : ''}.</div>}
      {readOnly ? <p className="muted">{VIEWER_WHY}</p> : (
        <form className="card credential-form" onSubmit={(e) => { e.preventDefault(); save(false); }} aria-label="Edit credential">
          <Field label="Name *" hint="Workflows refer to it by this name." error={errorFor(error, 'name')}>
            <input value={state.name} required maxLength={200} name="name" onChange={(e) => setState({ ...state, name: e.target.value })} />
          </Field>
          <TypeFields defs={defs} state={state} set={setState} error={error} existing={cred} />
          {t?.any_fields && <button type="button" className="small" onClick={() => setState({ ...state, custom: [...state.custom, { name: '', value: '', secret: true }] })}>Add a field</button>}
          {!errorPlaced(error, defs) && <ErrorWords error={error} words={error ? credentialErrorText(error) : undefined} />}
          <div className="form-row">
            <button className="primary" disabled={busy || !body || !state.name.trim()}>{busy ? 'Saving…' : 'Save'}</button>
            <button type="button" disabled={busy || !body} onClick={() => { setState(formOf(cred)); setError(null); }}>Discard changes</button>
            <div className="spacer" />
            <button type="button" className="danger" onClick={() => del.start(cred)}>Delete</button>
          </div>
        </form>
      )}
      {t?.oauth2 && canEdit && (
        <section className="card" aria-labelledby="oauth-h">
          <h2 id="oauth-h">Account</h2>
          <p>{(cred.secrets_set ?? []).includes('access_token')
            ? <>Connected{cred.token_expires_at ? <>; the access token expires <Time at={cred.token_expires_at} /> and is renewed when needed</> : null}.</>
            : 'Not connected yet.'}</p>
          <p className="muted small">Register <code>{location.origin}/api/oauth2/callback</code> as the redirect URL at the provider.</p>
          <button className="primary" disabled={!!body} title={body ? 'Save your changes first' : undefined}
            onClick={() => { location.href = `/api/oauth2/start?credential=${encodeURIComponent(cred.id)}`; }}>
            {(cred.secrets_set ?? []).includes('access_token') ? 'Reconnect account' : 'Connect account'}
          </button>
        </section>
      )}
      {canEdit && testKind(cred.type) && <TestSection cred={cred} unsaved={!!body} onDone={load} />}
      {canEdit && <p className="muted small">Created <Time at={cred.created_at} /> · changed <Time at={cred.updated_at} /></p>}
      <Dialog title={`"${cred.name}" is in use`} open={!!renameUsers} onClose={() => setRenameUsers(null)}
        footer={<>
          <button type="button" onClick={() => setRenameUsers(null)}>Cancel</button>
          <button type="button" className="danger" disabled={busy} onClick={() => save(true)}>Rename anyway</button>
        </>}>
        <p>These workflows use it by its current name and will no longer find it:</p>
        <ul className="in-use">
          {(renameUsers ?? []).map((w, i) => <li key={w.id ?? i}>{w.name ? <Link href={`/workflows/${w.id}`}>{w.name}</Link> : <span className="muted">a workflow you cannot see</span>}</li>)}
        </ul>
      </Dialog>
      {del.dialog}
    </div>
  );
}

/** Does the credential work? One request now, through the server (POST …/test). */
function TestSection({ cred, unsaved, onDone }: { cred: Credential; unsaved: boolean; onDone: () => void }) {
  const kind = testKind(cred.type);
  const [url, setUrl] = useState('');
  const [method, setMethod] = useState<TestMethod>('GET');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);

  async function run(e: FormEvent) {
    e.preventDefault();
    const b = testBody(kind, url, method);
    if ('error' in b) { setResult({ kind: 'error', text: b.error }); return; }
    setBusy(true); setResult(null);
    try {
      const r = await call(api.POST('/api/credentials/{id}/test', { params: { path: { id: cred.id } }, body: b.body }));
      setResult(testResultText(r));
      if (kind === 'self') onDone(); /* a refresh changes the token's expiry, a refused one the status */
    } catch (err) {
      setResult({ kind: 'error', text: credentialErrorText(err) });
    } finally { setBusy(false); }
  }

  return (
    <form className="card credential-test" onSubmit={run} aria-labelledby="test-h">
      <h2 id="test-h">Test</h2>
      <p className="muted small">{kind === 'url'
        ? 'Sends one request with this credential, as an HTTP Request node would, to a URL of the API it is for; only the status comes back.'
        : 'Asks the token endpoint for a token (an expired token is refreshed and stored).'}</p>
      <div className="form-row">
        {kind === 'url' && <>
          <select aria-label="Method" value={method} onChange={(e) => setMethod(e.target.value as TestMethod)}>
            <option>GET</option><option>HEAD</option><option>POST</option>
          </select>
          <input aria-label="URL to test against" type="url" placeholder="https://api.example.com/v1/me" value={url} maxLength={8192}
            onChange={(e) => setUrl(e.target.value)} />
        </>}
        <button type="submit" disabled={busy || unsaved} title={unsaved ? 'Save your changes first' : undefined}>{busy ? 'Testing…' : 'Test'}</button>
      </div>
      {result && <div className={'test-result ' + (result.kind === 'ok' ? 'ok-note' : 'error-note')} role={result.kind === 'ok' ? 'status' : 'alert'}
        data-testid="credential-test-result">{result.text}</div>}
    </form>
  );
}
