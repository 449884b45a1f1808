// The app's frame: the page for the address, the top bar, toasts. Pages
// that need a signed-in user send the others to /login and back.
import { lazy, Suspense, useEffect } from 'react';
import { api, call } from '../api/client';
import { Toasts, toastError } from '../ui/toast';
import { Link } from '../ui/Link';
import { ErrorBoundary } from '../ui/ErrorBoundary';
import { Spinner } from '../ui/misc';
import { confirmLeave, match, navigate, useLocation } from './router';
import { forgetLocalData } from '../editor/drafts';
import { useSession } from './session';
import { Login, Signup } from '../pages/Auth';
import { Invite } from '../pages/Invite';

const pages = {
  list: () => import('../pages/WorkflowList'),
  executions: () => import('../pages/Executions'),
  team: () => import('../pages/Team'),
  account: () => import('../pages/Account'),
  credentials: () => import('../pages/Credentials'),
  editor: () => import('../editor/Editor'),
};
const WorkflowList = lazy(pages.list);
const Executions = lazy(pages.executions);
const Team = lazy(pages.team);
const Account = lazy(pages.account);
const Credentials = lazy(pages.credentials);
const Editor = lazy(pages.editor);

// The first page's code is fetched while GET /api/me is under way, not
// after it (one round trip less before the first page is drawn).
{
  const p = location.pathname;
  const first = p === '/' || p === '/workflows' ? pages.list : p.startsWith('/workflows/') ? pages.editor
    : p.startsWith('/executions') ? pages.executions : p.startsWith('/credentials') ? pages.credentials : p === '/team' ? pages.team : p === '/account' ? pages.account : null;
  if (first) void first().catch(() => {});
}

export function App() {
  const { path } = useLocation();
  const { me, loading } = useSession();
  const isPublic = path === '/login' || path === '/signup' || path === '/invite';

  useEffect(() => {
    if (!loading && !me && !isPublic) {
      const here = location.pathname + location.search;
      navigate(here === '/' ? '/login' : '/login?next=' + encodeURIComponent(here), { replace: true, force: true });
    }
  }, [loading, me, isPublic]);

  let page: React.ReactNode = null;
  let full = false;
  let m: Record<string, string> | null;
  if (path === '/login') page = <Login />;
  else if (path === '/signup') page = <Signup />;
  else if (path === '/invite') page = <Invite />;
  else if (loading || !me) page = <div className="center"><Spinner /></div>;
  else if (path === '/' || path === '/workflows') page = <WorkflowList />;
  else if ((m = match('/workflows/:id', path))) { page = <Editor key={m.id} id={m.id} />; full = true; }
  else if (path === '/executions') page = <Executions />;
  else if ((m = match('/executions/:id', path))) page = <ExecutionRedirect id={m.id} />;
  else if (path === '/credentials') page = <Credentials />;
  else if ((m = match('/credentials/:id', path))) page = <Credentials key={m.id} id={m.id} />;
  else if (path === '/team') page = <Team />;
  else if (path === '/account') page = <Account />;
  else page = <div className="page"><h1>Not found</h1><p>There is no page at {path}. <Link href="/workflows">Go to the workflows</Link>.</p></div>;

  return (
    <div className={'app' + (full ? ' app-full' : '')}>
      {me && !isPublic && <TopBar />}
      <main id="main">
        <ErrorBoundary resetKey={path}>
          <Suspense fallback={<div className="center"><Spinner /></div>}>{page}</Suspense>
        </ErrorBoundary>
      </main>
      <Toasts />
    </div>
  );
}

/** /executions/{id}: opens the execution on the canvas of the workflow it ran. */
function ExecutionRedirect({ id }: { id: string }) {
  useEffect(() => {
    call(api.GET('/api/executions/{id}', { params: { path: { id } } }))
      .then((x) => navigate(`/workflows/${x.workflow_id}?execution=${id}`, { replace: true }))
      .catch((e) => { toastError(e, 'Opening the execution'); navigate('/executions', { replace: true }); });
  }, [id]);
  return <div className="center"><Spinner /></div>;
}

function TopBar() {
  const { me, refresh, signedOut } = useSession();
  const { path } = useLocation();
  if (!me) return null;
  const nav = (href: string, label: string) => (
    <Link href={href} className={'nav' + (path.startsWith(href) ? ' active' : '')} aria-current={path.startsWith(href) ? 'page' : undefined}>{label}</Link>
  );
  async function switchOrg(org: string) {
    // ask about unsaved changes before switching: once switched, the open
    // workflow belongs to another org and cannot be saved any more
    if (!confirmLeave()) return;
    try {
      await call(api.POST('/api/orgs/{org}/switch', { params: { path: { org } } }));
      await refresh();
      navigate('/workflows', { replace: true, force: true });
    } catch (e) { toastError(e, 'Switching org'); }
  }
  async function logout() {
    // unsaved changes: ask first (the navigation below is forced)
    if (!confirmLeave()) return;
    try { await call(api.POST('/api/auth/logout')); } catch (e) { toastError(e, 'Signing out'); return; }
    signedOut();
    navigate('/login', { force: true });
    // drafts, the node clipboard, last executions: not for the next person
    // at this browser. Once the editor has unmounted (it writes its pending
    // draft then).
    forgetLocalData();
    setTimeout(() => forgetLocalData(), 0);
  }
  return (
    <header className="topbar">
      <Link href="/workflows" className="brand" aria-label="Glyphic home">◆ Glyphic</Link>
      <nav aria-label="Main">
        {nav('/workflows', 'Workflows')}
        {nav('/executions', 'Executions')}
        {nav('/credentials', 'Credentials')}
        {nav('/team', 'Team')}
      </nav>
      <div className="spacer" />
      {me.orgs.length > 0 && (
        <label className="org-switch">
          <span className="sr-only">Organization</span>
          <select aria-label="Organization" value={me.org?.id ?? ''} onChange={(e) => switchOrg(e.target.value)}>
            {me.orgs.map((o) => <option key={o.id} value={o.id}>{o.name}</option>)}
          </select>
        </label>
      )}
      <Link href="/account" className={'nav' + (path === '/account' ? ' active' : '')} title={me.user.email}>{me.user.name || me.user.email}</Link>
      <button className="ghost" onClick={logout}>Log out</button>
    </header>
  );
}
