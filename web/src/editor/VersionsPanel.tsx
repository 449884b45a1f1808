// A workflow's version history: every version (newest first, paged) with
// author, time and message; open one read-only, compare two, restore one
// (which appends a new version; nothing is lost).
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, call, type Schemas } from '../api/client';
import { useSession } from '../app/session';
import { Dialog } from '../ui/Dialog';
import { ErrorNote } from '../ui/ErrorNote';
import { Empty, Spinner, Time } from '../ui/misc';
import { toast } from '../ui/toast';
import './runview.css';

type VersionSummary = Schemas['WorkflowVersionSummary'];
type Workflow = Schemas['Workflow'];

export const PAGE_SIZE = 50;

/** The pair to compare, older first, from the versions picked (at most two kept: the last two clicked). */
export function comparePair(picked: number[]): [number, number] | null {
  if (picked.length < 2) return null;
  const [a, b] = picked.slice(-2);
  return a < b ? [a, b] : [b, a];
}

export function togglePick(picked: number[], v: number): number[] {
  if (picked.includes(v)) return picked.filter((x) => x !== v);
  return [...picked, v].slice(-2);
}

export function VersionsPanel({ workflowId, currentVersion, onOpen, onDiff, onRestored, onClose, openVersion, dirty, canEdit }: {
  workflowId: string;
  currentVersion: number;
  onOpen: (version: number) => void;
  onDiff: (a: number, b: number) => void;
  onRestored: (workflow: Workflow) => void;
  onClose: () => void;
  /** the version shown on the canvas, if a read-only one is open */
  openVersion?: number | null;
  /** the canvas has unsaved changes (restoring replaces them) */
  dirty?: boolean;
  /** defaults to the session's canEdit */
  canEdit?: boolean;
}) {
  const session = useSession();
  const mayEdit = canEdit ?? session.canEdit;
  const [versions, setVersions] = useState<VersionSummary[]>([]);
  const [more, setMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [authors, setAuthors] = useState<Map<string, string>>(new Map());
  const [picked, setPicked] = useState<number[]>([]);
  const [restoring, setRestoring] = useState<number | null>(null);

  const load = useCallback(async (before?: number) => {
    setLoading(true);
    setError(null);
    try {
      const page = await call(api.GET('/api/workflows/{id}/versions', {
        params: { path: { id: workflowId }, query: before ? { limit: PAGE_SIZE, before } : { limit: PAGE_SIZE } },
      }));
      setVersions((old) => (before ? [...old, ...page.filter((v) => !old.some((o) => o.version === v.version))] : page));
      setMore(page.length === PAGE_SIZE && page[page.length - 1].version > 1);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  }, [workflowId]);

  // reload when a save or restore made a new current version
  useEffect(() => { void load(); }, [load, currentVersion]);

  // authors' names: the org's members (any member may list them); ids otherwise
  const orgId = session.me?.org?.id;
  useEffect(() => {
    if (!orgId) return;
    let closed = false;
    call(api.GET('/api/orgs/{org}/members', { params: { path: { org: orgId } } })).then(
      (list) => { if (!closed) setAuthors(new Map(list.filter((m) => m.user_id).map((m) => [m.user_id!, m.name || m.email || m.user_id!]))); },
      () => { /* names are a nicety: ids are shown instead */ },
    );
    return () => { closed = true; };
  }, [orgId]);

  const me = session.me?.user?.id;
  const author = (id: string | null) => {
    if (!id) return 'a deleted account';
    if (id === me) return 'you';
    return authors.get(id) ?? 'user ' + id.slice(0, 8);
  };
  const pair = comparePair(picked);

  return (
    <aside className="versions-panel" aria-label="Version history">
      <div className="panel-head">
        <h2>Versions</h2>
        <button className="icon" aria-label="Close version history" onClick={onClose}>×</button>
      </div>
      <div className="compare-bar">
        {pair
          ? <button className="small primary" onClick={() => onDiff(pair[0], pair[1])}>Compare v{pair[0]} → v{pair[1]}</button>
          : <span className="muted">Tick two versions to compare them.</span>}
        {picked.length > 0 && <button className="small ghost" onClick={() => setPicked([])}>Clear</button>}
      </div>
      <ErrorNote error={error} />
      {!loading && !error && versions.length === 0 && <Empty title="No versions">This workflow has no saved version yet.</Empty>}
      <ul className="version-list">
        {versions.map((v) => {
          const current = v.version === currentVersion;
          const isPicked = picked.includes(v.version);
          return (
            <li key={v.version} className={(current ? 'current ' : '') + (isPicked ? 'picked' : '')} aria-label={`Version ${v.version}`}>
              <div className="v-head">
                <label className="check" style={{ margin: 0 }}>
                  <input type="checkbox" checked={isPicked} onChange={() => setPicked((p) => togglePick(p, v.version))}
                    aria-label={`Pick version ${v.version} to compare`} />
                  <span className="v-num">v{v.version}</span>
                </label>
                {current && <span className="badge ok">current</span>}
                {openVersion === v.version && <span className="badge run">on canvas</span>}
                <span className="spacer" />
                <span className="v-meta"><Time at={v.created_at} /></span>
              </div>
              <div className="v-meta">by {author(v.author_id)}{v.restored_from != null && <> · restored from v{v.restored_from}</>}</div>
              <div className={'v-msg' + (v.message ? '' : ' none')}>{v.message || 'No message'}</div>
              <div className="v-actions">
                <button className="small" onClick={() => onOpen(v.version)} aria-label={`Open version ${v.version}`}>Open</button>
                {v.version > 1 && (
                  <button className="small ghost" onClick={() => onDiff(v.version - 1, v.version)} aria-label={`Changes in version ${v.version}`}>Changes</button>
                )}
                {!current && <button className="small ghost" onClick={() => onDiff(v.version, currentVersion)} aria-label={`Compare version ${v.version} with current`}>vs current</button>}
                {!current && mayEdit && (
                  <button className="small" onClick={() => setRestoring(v.version)} aria-label={`Restore version ${v.version}`}>Restore</button>
                )}
              </div>
            </li>
          );
        })}
      </ul>
      {loading && <Spinner label="Loading versions" />}
      {more && !loading && <button className="small" onClick={() => load(versions[versions.length - 1]?.version)}>Older versions</button>}
      <RestoreDialog workflowId={workflowId} version={restoring} currentVersion={currentVersion} dirty={!!dirty}
        onClose={() => setRestoring(null)}
        onRestored={(w) => { setRestoring(null); setPicked([]); toast('ok', `Version ${restoring} restored as version ${w.version}.`); onRestored(w); }} />
    </aside>
  );
}

/** Confirms and does the restore, based on currentVersion (If-Match); offers to go on over a newer save. */
function RestoreDialog({ workflowId, version, currentVersion, dirty, onClose, onRestored }: {
  workflowId: string; version: number | null; currentVersion: number; dirty: boolean;
  onClose: () => void; onRestored: (w: Workflow) => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [base, setBase] = useState(currentVersion);
  useEffect(() => { setError(null); setBusy(false); setBase(currentVersion); }, [version, currentVersion]);

  async function restore() {
    if (version == null) return;
    setBusy(true);
    setError(null);
    try {
      const w = await call(api.POST('/api/workflows/{id}/versions/{version}/restore', {
        params: { path: { id: workflowId, version }, header: { 'If-Match': `"${base}"` } },
        body: {},
      }));
      onRestored(w);
    } catch (e) {
      setError(e);
      // someone saved meanwhile: the next click restores over their version, knowingly
      if (e instanceof ApiError && e.code === 'version_conflict' && typeof e.details.current_version === 'number') setBase(e.details.current_version);
    } finally {
      setBusy(false);
    }
  }

  const conflict = error instanceof ApiError && error.code === 'version_conflict';
  return (
    <Dialog title={`Restore version ${version ?? ''}`} open={version != null} onClose={onClose}
      footer={<>
        {busy && <Spinner label="Restoring" />}
        <button onClick={onClose}>Cancel</button>
        <button className="primary" onClick={restore} disabled={busy}>{conflict ? `Restore over version ${base}` : `Restore version ${version}`}</button>
      </>}>
      <p>
        This saves a new version {base + 1} with the workflow as it was in version {version}.
        Version {base} and every other version stay in the history.
      </p>
      {dirty && <p className="conflict-note">Your unsaved changes on the canvas will be replaced by the restored version.</p>}
      {conflict && (
        <p className="conflict-note" role="alert">
          Someone saved version {base} since you opened this workflow. Restoring now makes version {version} current over their change
          (theirs stays in the history as version {base}).
        </p>
      )}
      {error != null && !conflict && <ErrorNote error={error} />}
      {error instanceof ApiError && error.problems && (
        <ul className="problem-list">{error.problems.map((p, i) => <li key={i}>{p.node || 'Workflow'}{p.field && <code className="field">{p.field}</code>}: {p.message}</li>)}</ul>
      )}
      {conflict && <ErrorNote error={error} />}
    </Dialog>
  );
}

export default VersionsPanel;
