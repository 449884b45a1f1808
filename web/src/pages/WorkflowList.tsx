// /workflows: search, filter, sort and page through the workflows; create,
// import, export, duplicate, rename, retag, activate, trash and restore.
// Filters live in the address (?q=&tag=&active=&sort=&view=trash), so a
// reload or the back button keeps them.
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError, api, call, type Schemas } from '../api/client';
import { navigate, setQuery, useLocation } from '../app/router';
import { useSession } from '../app/session';
import { Dialog } from '../ui/Dialog';
import { ErrorNote, fieldError } from '../ui/ErrorNote';
import { Link } from '../ui/Link';
import { Empty, Field, Spinner, Time } from '../ui/misc';
import { toast, toastError } from '../ui/toast';
import { ErrorWords, NoOrg, RowMenu, VIEWER_WHY, downloadJson, toastWords, useConfirm, useDebounced, type MenuItem } from './common';
import {
  DEFAULT_FILTERS, activationErrorText, exportFileName, filtersFromQuery, filtersToQuery, groupProblems, isFiltered,
  mergeTags, parseImportFile, parseTags, starterDefinition, webhookPaths, workflowListQuery, type WorkflowFilters,
} from './workflowListLogic';

type Summary = Schemas['WorkflowSummary'];
let nodeTypesCache: Promise<Schemas['NodeType'][]> | null = null;
function nodeTypes() {
  nodeTypesCache ??= call(api.GET('/api/node-types')).catch((e) => { nodeTypesCache = null; throw e; });
  return nodeTypesCache;
}

// On a first visit straight to the list, its first page is asked for as
// soon as this code loads, while the app is still reading the session,
// instead of after the first render: one round trip less before the rows.
type ListPage = Schemas['WorkflowListPage'];
let early: { key: string; page: Promise<ListPage> } | null = null;
if (location.pathname === '/' || location.pathname === '/workflows') {
  const f = filtersFromQuery(new URLSearchParams(location.search));
  const page = call(api.GET('/api/workflows', { params: { query: workflowListQuery(f, null) } }));
  page.catch(() => {});
  early = { key: JSON.stringify(f), page };
}

export default function WorkflowList() {
  const { me, canEdit } = useSession();
  const orgId = me?.org?.id ?? '';
  const { query } = useLocation();
  const [filters, setFilters] = useState<WorkflowFilters>(() => filtersFromQuery(query));
  const [search, setSearch] = useState(filters.q);
  const q = useDebounced(search, 250);
  const [items, setItems] = useState<Summary[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [knownTags, setKnownTags] = useState<string[]>([]);
  const [busy, setBusy] = useState<Record<string, boolean>>({});
  const [creating, setCreating] = useState(false);
  const [renaming, setRenaming] = useState<Summary | null>(null);
  const [tagging, setTagging] = useState<Summary | null>(null);
  const [importResult, setImportResult] = useState<ImportOutcome | null>(null);
  const [confirmDialog, ask] = useConfirm();
  const fileInput = useRef<HTMLInputElement>(null);
  const seq = useRef(0);

  const f: WorkflowFilters = { ...filters, q };
  const fKey = JSON.stringify(f);

  useEffect(() => { setQuery(filtersToQuery(f)); }, [fKey]); // eslint-disable-line react-hooks/exhaustive-deps

  const load = useCallback(async (cursor: string | null) => {
    const my = ++seq.current;
    setLoading(true);
    if (!cursor) setError(null);
    const prefetched = !cursor && early && early.key === fKey ? early.page : null;
    early = null;
    try {
      const page = await (prefetched ?? call(api.GET('/api/workflows', { params: { query: workflowListQuery(JSON.parse(fKey), cursor) } })));
      if (my !== seq.current) return;
      setItems((old) => (cursor && old ? [...old, ...page.items] : page.items));
      setNext(page.next_cursor ?? null);
      setKnownTags((k) => mergeTags(k, page.items));
    } catch (e) {
      if (my !== seq.current) return;
      if (cursor) toastError(e, 'Loading more workflows'); else { setError(e); setItems([]); }
    } finally {
      if (my === seq.current) setLoading(false);
    }
  }, [fKey]);

  // a new view (trash or not) or org starts blank; a new search keeps the
  // old rows until the answer comes
  const viewKey = orgId + (filters.trash ? ':trash' : ':list');
  const shownView = useRef(viewKey);
  useEffect(() => {
    if (shownView.current !== viewKey) { shownView.current = viewKey; setItems(null); }
    load(null);
  }, [load, viewKey]);

  const update = (patch: Partial<WorkflowFilters>) => setFilters((old) => ({ ...old, ...patch }));
  const replaceRow = (w: Partial<Summary> & { id: string }) =>
    setItems((list) => list?.map((x) => (x.id === w.id ? { ...x, ...w } : x)) ?? null);
  const dropRow = (id: string) => setItems((list) => list?.filter((x) => x.id !== id) ?? null);
  async function withBusy(id: string, fn: () => Promise<void>) {
    setBusy((b) => ({ ...b, [id]: true }));
    try { await fn(); } finally { setBusy((b) => { const c = { ...b }; delete c[id]; return c; }); }
  }

  async function toggleActive(w: Summary) {
    await withBusy(w.id, async () => {
      try {
        const path = { params: { path: { id: w.id } } };
        const r = w.active ? await call(api.POST('/api/workflows/{id}/deactivate', path)) : await call(api.POST('/api/workflows/{id}/activate', path));
        replaceRow({ id: w.id, active: r.active, updated_at: r.updated_at });
        toast('ok', `"${w.name}" is ${r.active ? 'active' : 'inactive'}`);
        if (filters.active !== 'all' && r.active !== (filters.active === 'active')) dropRow(w.id);
      } catch (e) {
        let paths: string[] = [];
        if (e instanceof ApiError && e.code === 'webhook_path_taken') {
          paths = await call(api.GET('/api/workflows/{id}', { params: { path: { id: w.id } } }))
            .then((full) => webhookPaths(full.definition)).catch(() => []);
        }
        toastWords(e, activationErrorText(e, paths), `${w.active ? 'Deactivating' : 'Activating'} "${w.name}"`);
      }
    });
  }

  async function duplicate(w: Summary) {
    await withBusy(w.id, async () => {
      try {
        const copy = await call(api.POST('/api/workflows/{id}/duplicate', { params: { path: { id: w.id } }, body: {} }));
        toast('ok', `Duplicated as "${copy.name}"`);
        load(null);
      } catch (e) { toastError(e, `Duplicating "${w.name}"`); }
    });
  }

  async function exportOne(w: Summary) {
    await withBusy(w.id, async () => {
      try {
        const doc = await call(api.GET('/api/workflows/{id}/export', { params: { path: { id: w.id } } }));
        downloadJson(exportFileName(doc.name ?? w.name), doc);
      } catch (e) { toastError(e, `Exporting "${w.name}"`); }
    });
  }

  async function trash(w: Summary) {
    await withBusy(w.id, async () => {
      try {
        await call(api.DELETE('/api/workflows/{id}', { params: { path: { id: w.id } } }));
        dropRow(w.id);
        toast('ok', `"${w.name}" moved to the trash; restore it from the Trash view`);
      } catch (e) { toastError(e, `Moving "${w.name}" to the trash`); }
    });
  }

  async function restore(w: Summary) {
    await withBusy(w.id, async () => {
      try {
        await call(api.POST('/api/workflows/{id}/restore', { params: { path: { id: w.id } } }));
        dropRow(w.id);
        toast('ok', `"${w.name}" restored (inactive)`);
      } catch (e) { toastError(e, `Restoring "${w.name}"`); }
    });
  }

  async function purge(w: Summary) {
    const yes = await ask({
      title: 'Delete for good?', confirm: 'Delete forever', danger: true,
      body: <p>"{w.name}" will be deleted with all its versions and shares. This cannot be undone.</p>,
    });
    if (!yes) return;
    await withBusy(w.id, async () => {
      try {
        await call(api.DELETE('/api/workflows/{id}', { params: { path: { id: w.id }, query: { permanent: true } } }));
        dropRow(w.id);
        toast('ok', `"${w.name}" deleted for good`);
      } catch (e) { toastError(e, `Deleting "${w.name}"`); }
    });
  }

  async function importFile(file: File) {
    const text = await file.text();
    const parsed = parseImportFile(text);
    if (!parsed.doc) { setImportResult({ file: file.name, error: new Error(parsed.error) }); return; }
    try {
      const r = await call(api.POST('/api/workflows/import', { body: parsed.doc }));
      load(null);
      if (r.missing_credentials.length) setImportResult({ file: file.name, id: r.id, name: parsed.doc.name, missing: r.missing_credentials });
      else toast('ok', `Imported "${parsed.doc.name}"`);
    } catch (e) {
      setImportResult({ file: file.name, error: e, doc: parsed.doc });
    }
  }

  const why = canEdit ? undefined : VIEWER_WHY;
  const filtered = isFiltered(f);
  const [dragging, setDragging] = useState(false);
  if (!orgId) return <NoOrg title="Workflows" />;
  // a workflow file dropped anywhere on the page is imported
  const drop = canEdit && !filters.trash ? {
    onDragOver: (e: React.DragEvent) => { if (e.dataTransfer.types.includes('Files')) { e.preventDefault(); setDragging(true); } },
    onDragLeave: (e: React.DragEvent) => { if (e.currentTarget === e.target) setDragging(false); },
    onDrop: (e: React.DragEvent) => {
      e.preventDefault(); setDragging(false);
      const file = e.dataTransfer.files[0];
      if (file) importFile(file);
    },
  } : {};

  return (
    <div className={'page workflows-page' + (dragging ? ' dropping' : '')} {...drop}>
      <div className="page-head">
        <h1>Workflows</h1>
        <input ref={fileInput} type="file" accept=".json,application/json" hidden aria-label="Workflow file to import"
          onChange={(e) => { const file = e.target.files?.[0]; e.target.value = ''; if (file) importFile(file); }} />
        <button onClick={() => fileInput.current?.click()} disabled={!canEdit} title={why ?? 'Create a workflow from an exported .json file (or drop the file on this page)'}>Import</button>
        <button className="primary" onClick={() => setCreating(true)} disabled={!canEdit} title={why}>New workflow</button>
      </div>

      <div className="tabs" role="tablist" aria-label="View">
        <button role="tab" aria-selected={!filters.trash} onClick={() => update({ trash: false })}>Workflows</button>
        <button role="tab" aria-selected={filters.trash} onClick={() => update({ trash: true })}>Trash</button>
      </div>

      <div className="toolbar" role="search">
        <input type="search" className="search" placeholder="Search by name" aria-label="Search workflows" value={search}
          maxLength={200} onChange={(e) => setSearch(e.target.value)} />
        <label className="inline-field">Tag
          <select aria-label="Tag" value={filters.tag} onChange={(e) => update({ tag: e.target.value })}>
            <option value="">All tags</option>
            {mergeTags(knownTags, filters.tag ? [{ tags: [filters.tag] }] : []).map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
        </label>
        <label className="inline-field">Status
          <select aria-label="Status" value={filters.active} onChange={(e) => update({ active: e.target.value as WorkflowFilters['active'] })}>
            <option value="all">Active and inactive</option>
            <option value="active">Active only</option>
            <option value="inactive">Inactive only</option>
          </select>
        </label>
        <label className="inline-field">Sort
          <select aria-label="Sort" value={filters.sort} onChange={(e) => update({ sort: e.target.value as WorkflowFilters['sort'] })}>
            <option value="updated">Last updated</option>
            <option value="created">Newest first</option>
            <option value="name">Name (A–Z)</option>
          </select>
        </label>
        {(filtered || search) && (
          <button className="ghost small" onClick={() => { setSearch(''); setFilters({ ...DEFAULT_FILTERS, trash: filters.trash, sort: filters.sort }); }}>Clear filters</button>
        )}
        {loading && items && <Spinner label="Refreshing" />}
      </div>

      <ErrorNote error={error} />
      {items === null ? <div className="center"><Spinner label="Loading workflows" /></div>
        : items.length === 0 ? (
          !error && <EmptyList trash={filters.trash} filtered={filtered} canEdit={canEdit}
            onCreate={() => setCreating(true)} onImport={() => fileInput.current?.click()} />
        ) : (
          <div className="table-wrap">
            <table className="table wf-table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th className="col-active">{filters.trash ? 'In the trash since' : 'Active'}</th>
                  <th>Updated</th>
                  <th className="col-actions"><span className="sr-only">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                {items.map((w) => (
                  <WorkflowRow key={w.id} w={w} trash={filters.trash} canEdit={canEdit} busy={!!busy[w.id]}
                    onTag={(t) => update({ tag: t })}
                    onToggle={() => toggleActive(w)}
                    actions={filters.trash ? [
                      { label: 'Restore', onSelect: () => restore(w), disabled: !canEdit, title: why },
                      { label: 'Delete forever…', onSelect: () => purge(w), disabled: !canEdit, title: why, danger: true },
                    ] : [
                      { label: 'Open', onSelect: () => navigate(`/workflows/${w.id}`) },
                      { label: 'Rename…', onSelect: () => setRenaming(w), disabled: !canEdit, title: why },
                      { label: 'Edit tags…', onSelect: () => setTagging(w), disabled: !canEdit, title: why },
                      { label: 'Duplicate', onSelect: () => duplicate(w), disabled: !canEdit, title: why },
                      { label: 'Export', onSelect: () => exportOne(w) },
                      { label: 'Executions', onSelect: () => navigate(`/executions?workflow_id=${w.id}`) },
                      { label: 'Move to trash', onSelect: () => trash(w), disabled: !canEdit, title: why, danger: true },
                    ]}
                    onRestore={() => restore(w)} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      {next && items && items.length > 0 && (
        <div className="load-more">
          <button onClick={() => load(next)} disabled={loading}>{loading ? 'Loading…' : 'Load more'}</button>
        </div>
      )}

      <NewWorkflowDialog open={creating} onClose={() => setCreating(false)} />
      <RenameDialog w={renaming} onClose={() => setRenaming(null)} onDone={(w) => { replaceRow(w); setRenaming(null); }} />
      <TagsDialog w={tagging} onClose={() => setTagging(null)}
        onDone={(w) => { replaceRow(w); setKnownTags((k) => mergeTags(k, [w])); setTagging(null); }} />
      <ImportDialog result={importResult} onClose={() => setImportResult(null)} />
      {confirmDialog}
    </div>
  );
}

function WorkflowRow({ w, trash, canEdit, busy, onTag, onToggle, onRestore, actions }: {
  w: Summary; trash: boolean; canEdit: boolean; busy: boolean; actions: MenuItem[];
  onTag: (t: string) => void; onToggle: () => void; onRestore: () => void;
}) {
  const open = () => { if (!trash) navigate(`/workflows/${w.id}`); };
  return (
    <tr className={trash ? undefined : 'clickable'} onClick={open} aria-busy={busy || undefined}>
      <td>
        {trash ? <span className="wf-name">{w.name}</span>
          : <Link href={`/workflows/${w.id}`} className="wf-name" onClick={(e) => e.stopPropagation()}>{w.name}</Link>}
        {w.tags.length > 0 && (
          <span className="chips">
            {w.tags.map((t) => (
              <button key={t} type="button" className="chip" title={`Show only workflows tagged "${t}"`}
                onClick={(e) => { e.stopPropagation(); onTag(t); }}>{t}</button>
            ))}
          </span>
        )}
      </td>
      <td className="col-active" onClick={(e) => e.stopPropagation()}>
        {trash ? <Time at={w.deleted_at} /> : (
          <button type="button" role="switch" aria-checked={w.active} className={'switch' + (w.active ? ' on' : '')}
            aria-label={`Active: ${w.name}`} disabled={!canEdit || busy}
            title={!canEdit ? VIEWER_WHY : w.active ? 'Active: its triggers are live. Click to deactivate.' : 'Inactive. Click to activate its triggers.'}
            onClick={onToggle}>
            <span className="knob" aria-hidden="true" />
            <span className="switch-text">{w.active ? 'Active' : 'Inactive'}</span>
          </button>
        )}
      </td>
      <td><Time at={w.updated_at} /> <span className="muted small">v{w.version}</span></td>
      <td className="col-actions" onClick={(e) => e.stopPropagation()}>
        {trash && (
          <button type="button" className="small" disabled={!canEdit || busy} title={canEdit ? undefined : VIEWER_WHY}
            aria-label={`Restore ${w.name}`} onClick={onRestore}>Restore</button>
        )}
        <RowMenu label={`Actions for ${w.name}`} items={actions} />
      </td>
    </tr>
  );
}

function EmptyList({ trash, filtered, canEdit, onCreate, onImport }: {
  trash: boolean; filtered: boolean; canEdit: boolean; onCreate: () => void; onImport: () => void;
}) {
  if (trash) return <Empty title={filtered ? 'Nothing in the trash matches these filters' : 'The trash is empty'}>
    <p>Workflows moved to the trash show up here; restore them from here.</p></Empty>;
  if (filtered) return <Empty title="No workflow matches these filters"><p>Change the search or clear the filters.</p></Empty>;
  return (
    <Empty title="Create your first workflow">
      {canEdit ? (
        <>
          <p>Start from an empty canvas, or import a workflow someone exported.</p>
          <div className="row center-row">
            <button className="primary" onClick={onCreate}>New workflow</button>
            <button onClick={onImport}>Import</button>
          </div>
        </>
      ) : <p>There are no workflows you can see yet. An editor or admin of your org can create one or share theirs with you.</p>}
    </Empty>
  );
}

function NewWorkflowDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => { if (open) { setName(''); setError(null); } }, [open]);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true); setError(null);
    try {
      const types = await nodeTypes().catch(() => null);
      const w = await call(api.POST('/api/workflows', { body: { name: name.trim(), definition: starterDefinition(types) } }));
      onClose();
      navigate(`/workflows/${w.id}`);
    } catch (err) { setError(err); } finally { setBusy(false); }
  }
  return (
    <Dialog title="New workflow" open={open} onClose={onClose}
      footer={<><button type="button" onClick={onClose}>Cancel</button><button type="submit" form="new-wf" className="primary" disabled={busy || !name.trim()}>{busy ? 'Creating…' : 'Create'}</button></>}>
      <form id="new-wf" onSubmit={submit}>
        <Field label="Name" error={fieldError(error, 'name')}>
          <input autoFocus required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. New orders to Slack" />
        </Field>
        {!fieldError(error, 'name') && <ErrorNote error={error} />}
      </form>
    </Dialog>
  );
}

function RenameDialog({ w, onClose, onDone }: { w: Summary | null; onClose: () => void; onDone: (w: Summary) => void }) {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => { if (w) { setName(w.name); setError(null); } }, [w]);
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!w) return;
    setBusy(true); setError(null);
    try {
      const r = await call(api.PATCH('/api/workflows/{id}', { params: { path: { id: w.id } }, body: { name: name.trim() } }));
      toast('ok', `Renamed to "${r.name}"`);
      onDone({ ...w, name: r.name, updated_at: r.updated_at });
    } catch (err) { setError(err); } finally { setBusy(false); }
  }
  return (
    <Dialog title="Rename workflow" open={!!w} onClose={onClose}
      footer={<><button type="button" onClick={onClose}>Cancel</button><button type="submit" form="rename-wf" className="primary" disabled={busy || !name.trim()}>Rename</button></>}>
      <form id="rename-wf" onSubmit={submit}>
        <Field label="Name" error={fieldError(error, 'name')}>
          <input autoFocus required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        {!fieldError(error, 'name') && <ErrorNote error={error} />}
      </form>
    </Dialog>
  );
}

function TagsDialog({ w, onClose, onDone }: { w: Summary | null; onClose: () => void; onDone: (w: Summary) => void }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => { if (w) { setText(w.tags.join(', ')); setError(null); } }, [w]);
  const parsed = parseTags(text);
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!w || parsed.error) return;
    setBusy(true); setError(null);
    try {
      const r = await call(api.PATCH('/api/workflows/{id}', { params: { path: { id: w.id } }, body: { tags: parsed.tags } }));
      toast('ok', `Tags of "${w.name}" saved`);
      onDone({ ...w, tags: r.tags, updated_at: r.updated_at });
    } catch (err) { setError(err); } finally { setBusy(false); }
  }
  return (
    <Dialog title="Edit tags" open={!!w} onClose={onClose}
      footer={<><button type="button" onClick={onClose}>Cancel</button><button type="submit" form="tags-wf" className="primary" disabled={busy || !!parsed.error}>Save tags</button></>}>
      <form id="tags-wf" onSubmit={submit}>
        <p className="muted">{w?.name}</p>
        <Field label="Tags" error={parsed.error ?? fieldError(error, 'tags')} hint="Separated by commas; at most 20 of 50 bytes each.">
          <input autoFocus value={text} onChange={(e) => setText(e.target.value)} placeholder="sales, eu" />
        </Field>
        {parsed.tags.length > 0 && <div className="chips">{parsed.tags.map((t) => <span key={t} className="chip">{t}</span>)}</div>}
        {!fieldError(error, 'tags') && <ErrorNote error={error} />}
      </form>
    </Dialog>
  );
}

interface ImportOutcome {
  file: string;
  id?: string;
  name?: string;
  missing?: string[];
  error?: unknown;
  doc?: Schemas['ExportDocument'];
}

function ImportDialog({ result, onClose }: { result: ImportOutcome | null; onClose: () => void }) {
  const ok = !!result?.id;
  const problems = result?.error instanceof ApiError && result.error.problems?.length
    ? groupProblems(result.error.problems, result.doc?.definition) : null;
  return (
    <Dialog title={ok ? 'Workflow imported' : 'The file could not be imported'} open={!!result} onClose={onClose} wide={!!problems}
      footer={ok
        ? <><button type="button" onClick={onClose}>Close</button><button type="button" className="primary" onClick={() => { onClose(); navigate(`/workflows/${result!.id}`); }}>Open workflow</button></>
        : <button type="button" onClick={onClose}>Close</button>}>
      <p className="muted">File: {result?.file}</p>
      {ok && result?.missing && result.missing.length > 0 && (
        <div className="warn-note" role="status">
          <p>"{result.name}" was imported, but it uses credentials this org does not have. Create them (same names) before running it:</p>
          <ul>{result.missing.map((m) => <li key={m}><code>{m}</code></li>)}</ul>
        </div>
      )}
      {!ok && problems && (
        <>
          <ErrorWords error={result!.error} words={(result!.error as ApiError).message + ' — nothing was created. Fix the file and import it again:'} />
          <div className="problems">
            {problems.map((g) => (
              <section key={g.node} aria-label={g.label}>
                <h3>{g.label}</h3>
                <ul>{g.items.map((p, i) => <li key={i}>{p.field && <code>{p.field}</code>} {p.message}</li>)}</ul>
              </section>
            ))}
          </div>
        </>
      )}
      {!ok && !problems && <ErrorWords error={result?.error} />}
    </Dialog>
  );
}
