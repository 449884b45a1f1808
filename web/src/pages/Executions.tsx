// /executions: every run of the workflows the user can see, newest first,
// filtered by status, trigger, workflow and time; retry, cancel, delete.
// While some are queued or running the page refreshes itself every few
// seconds (not while the tab is hidden).
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, call, type Schemas } from '../api/client';
import { navigate, setQuery, useLocation } from '../app/router';
import { useSession } from '../app/session';
import { ErrorNote } from '../ui/ErrorNote';
import { Link } from '../ui/Link';
import { Empty, Spinner, Time } from '../ui/misc';
import { toast, toastError } from '../ui/toast';
import { NoOrg, RowMenu, VIEWER_WHY, useConfirm, usePageVisible } from './common';
import {
  DEFAULT_EXEC_FILTERS, EXEC_PAGE_SIZE, RANGES, STATUSES, STATUS_LABEL, TRIGGERS, TRIGGER_LABEL, canCancel, canDelete,
  canRetry, execFiltersFromQuery, execFiltersToQuery, execListQuery, executionDuration, isExecFiltered, isLive, mergeRefresh,
  type ExecFilters,
} from './executionsLogic';

type Exec = Schemas['ExecutionSummary'];
const POLL_MS = 3000;

export default function Executions() {
  const { me, canEdit } = useSession();
  const orgId = me?.org?.id ?? '';
  const { query } = useLocation();
  const [filters, setFilters] = useState<ExecFilters>(() => execFiltersFromQuery(query));
  const [items, setItems] = useState<Exec[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [names, setNames] = useState<Record<string, string | null>>({});
  const [workflows, setWorkflows] = useState<Schemas['WorkflowSummary'][]>([]);
  const [busy, setBusy] = useState<Record<string, boolean>>({});
  const [now, setNow] = useState(() => Date.now());
  const [confirmDialog, ask] = useConfirm();
  const visible = usePageVisible();
  const seq = useRef(0);
  const paging = useRef(false);
  const asked = useRef(new Set<string>());
  const itemsRef = useRef<Exec[] | null>(null);
  itemsRef.current = items;

  const fKey = JSON.stringify(filters);
  useEffect(() => { setQuery(execFiltersToQuery(filters)); }, [fKey]); // eslint-disable-line react-hooks/exhaustive-deps

  // workflow names for the filter and the rows
  useEffect(() => {
    asked.current = new Set();
    call(api.GET('/api/workflows', { params: { query: { limit: 200, sort: 'name' } } }))
      .then((page) => {
        setWorkflows(page.items);
        setNames((n) => ({ ...n, ...Object.fromEntries(page.items.map((w) => [w.id, w.name])) }));
      })
      .catch((e) => toastError(e, 'Loading the workflow names'));
  }, [orgId]);

  // rows whose workflow is not in the first 200 (or is in the trash): one by one
  useEffect(() => {
    for (const x of items ?? []) {
      if (x.workflow_id in names || asked.current.has(x.workflow_id)) continue;
      asked.current.add(x.workflow_id);
      call(api.GET('/api/workflows/{id}', { params: { path: { id: x.workflow_id } } }))
        .then((w) => setNames((n) => ({ ...n, [w.id]: w.deleted_at ? `${w.name} (in the trash)` : w.name })))
        .catch(() => setNames((n) => ({ ...n, [x.workflow_id]: null })));
    }
  }, [items, names]);

  /** cursor: the next page; 'refresh': the rows shown, fetched again; null: first page. */
  const load = useCallback(async (mode: string | null | 'refresh') => {
    const refresh = mode === 'refresh';
    // a refresh never cuts a first page or "Load more" short (the newer
    // request wins: its answer is the one shown)
    if (refresh && paging.current) return;
    const my = ++seq.current;
    if (!refresh) paging.current = true;
    const f: ExecFilters = JSON.parse(fKey);
    const cursor = refresh ? null : mode;
    const shown = itemsRef.current?.length ?? 0;
    const limit = refresh ? Math.min(500, Math.max(EXEC_PAGE_SIZE, shown)) : EXEC_PAGE_SIZE;
    if (!refresh) setLoading(true);
    try {
      const page = await call(api.GET('/api/executions', { params: { query: execListQuery(f, Date.now(), cursor, limit) } }));
      if (my !== seq.current) return;
      setNow(Date.now());
      if (refresh) {
        setItems((old) => mergeRefresh(page.executions, shown > 500 ? old ?? [] : []));
        if (shown <= 500) setNext(page.next_cursor ?? null);
      } else {
        setItems((old) => (cursor && old ? [...old, ...page.executions] : page.executions));
        setNext(page.next_cursor ?? null);
      }
      setError(null);
    } catch (e) {
      if (my !== seq.current) return;
      if (refresh || cursor) toastError(e, cursor ? 'Loading more executions' : 'Refreshing the executions');
      else { setError(e); setItems([]); }
    } finally {
      if (my === seq.current) { setLoading(false); paging.current = false; }
    }
  }, [fKey]);

  useEffect(() => { setItems(null); load(null); }, [load, orgId]);

  const live = (items ?? []).some((x) => isLive(x.status));
  const polling = live && visible;
  useEffect(() => {
    if (!polling) return;
    const t = setInterval(() => load('refresh'), POLL_MS);
    return () => clearInterval(t);
  }, [polling, load]);
  // back to a visible tab: catch up at once
  const wasVisible = useRef(visible);
  useEffect(() => {
    if (visible && !wasVisible.current && live) load('refresh');
    wasVisible.current = visible;
  }, [visible, live, load]);

  const update = (patch: Partial<ExecFilters>) => setFilters((old) => ({ ...old, ...patch }));
  async function withBusy(id: string, fn: () => Promise<void>) {
    setBusy((b) => ({ ...b, [id]: true }));
    try { await fn(); } finally { setBusy((b) => { const c = { ...b }; delete c[id]; return c; }); }
  }

  async function retry(x: Exec, from: 'failed' | 'start') {
    await withBusy(x.id, async () => {
      try {
        const r = await call(api.POST('/api/executions/{id}/retry', { params: { path: { id: x.id } }, body: { from } }));
        toast('ok', `Retry queued (${from === 'start' ? 'from the start' : 'from the failed step'}): execution ${r.id.slice(0, 8)}`);
        load('refresh');
      } catch (e) { toastError(e, 'Retrying the execution'); }
    });
  }

  async function cancel(x: Exec) {
    await withBusy(x.id, async () => {
      try {
        const r = await call(api.POST('/api/executions/{id}/cancel', { params: { path: { id: x.id } } }));
        toast('ok', r.status === 'canceled' ? 'Execution canceled' : 'Cancel requested: it stops before its next step');
        load('refresh');
      } catch (e) { toastError(e, 'Canceling the execution'); }
    });
  }

  async function remove(x: Exec) {
    const yes = await ask({
      title: 'Delete this execution?', confirm: 'Delete', danger: true,
      body: <p>The execution of "{names[x.workflow_id] ?? 'this workflow'}" started <Time at={x.started_at ?? x.created_at} /> will be deleted with its data. This cannot be undone.</p>,
    });
    if (!yes) return;
    await withBusy(x.id, async () => {
      try {
        await call(api.DELETE('/api/executions/{id}', { params: { path: { id: x.id } } }));
        setItems((list) => list?.filter((y) => y.id !== x.id) ?? null);
        toast('ok', 'Execution deleted');
      } catch (e) { toastError(e, 'Deleting the execution'); }
    });
  }

  if (!orgId) return <NoOrg title="Executions" />;
  const filtered = isExecFiltered(filters);
  const why = canEdit ? undefined : VIEWER_WHY;
  const workflowOptions = workflows.some((w) => w.id === filters.workflow) || !filters.workflow ? workflows
    : [...workflows, { id: filters.workflow, name: names[filters.workflow] ?? 'This workflow' } as Schemas['WorkflowSummary']];

  return (
    <div className="page executions-page">
      <div className="page-head">
        <h1>Executions</h1>
        {polling && <span className="poll-note" role="status"><Spinner label="Refreshing" /> Refreshing while some run</span>}
        <button onClick={() => load('refresh')} disabled={loading}>Refresh</button>
      </div>

      <div className="toolbar" role="search" aria-label="Filter executions">
        <label className="inline-field">Status
          <select aria-label="Status" value={filters.status} onChange={(e) => update({ status: e.target.value as ExecFilters['status'] })}>
            <option value="">Any status</option>
            {STATUSES.map((s) => <option key={s} value={s}>{STATUS_LABEL[s]}</option>)}
          </select>
        </label>
        <label className="inline-field">Trigger
          <select aria-label="Trigger" value={filters.trigger} onChange={(e) => update({ trigger: e.target.value as ExecFilters['trigger'] })}>
            <option value="">Any trigger</option>
            {TRIGGERS.map((t) => <option key={t} value={t}>{TRIGGER_LABEL[t]}</option>)}
          </select>
        </label>
        <label className="inline-field">Workflow
          <select aria-label="Workflow" value={filters.workflow} onChange={(e) => update({ workflow: e.target.value })}>
            <option value="">All workflows</option>
            {workflowOptions.map((w) => <option key={w.id} value={w.id}>{w.name}</option>)}
          </select>
        </label>
        <label className="inline-field">Time
          <select aria-label="Time" value={filters.range} onChange={(e) => update({ range: e.target.value as ExecFilters['range'] })}>
            {RANGES.map((r) => <option key={r.value} value={r.value}>{r.label}</option>)}
          </select>
        </label>
        {filters.range === 'custom' && (
          <>
            <label className="inline-field">From <input type="date" value={filters.from} max={filters.to || undefined} onChange={(e) => update({ from: e.target.value })} /></label>
            <label className="inline-field">To <input type="date" value={filters.to} min={filters.from || undefined} onChange={(e) => update({ to: e.target.value })} /></label>
          </>
        )}
        {filtered && <button className="ghost small" onClick={() => setFilters(DEFAULT_EXEC_FILTERS)}>Clear filters</button>}
        {loading && items && <Spinner label="Loading" />}
      </div>

      <ErrorNote error={error} />
      {items === null ? <div className="center"><Spinner label="Loading executions" /></div>
        : items.length === 0 ? (!error && (filtered
          ? <Empty title="No execution matches these filters"><p>Widen the time range or clear the filters.</p></Empty>
          : <Empty title="No executions yet">
              <p>Executions appear here when a workflow runs: press Run in the editor, call an active workflow's webhook, or let a schedule fire.</p>
              <p><Link href="/workflows">Go to the workflows</Link></p>
            </Empty>))
        : (
          <div className="table-wrap">
            <table className="table exec-table">
              <thead>
                <tr><th>Status</th><th>Workflow</th><th>Trigger</th><th>Started</th><th>Duration</th><th className="col-actions"><span className="sr-only">Actions</span></th></tr>
              </thead>
              <tbody>
                {items.map((x) => {
                  const name = names[x.workflow_id];
                  const b = !!busy[x.id];
                  return (
                    <tr key={x.id} className="clickable" onClick={() => navigate(`/executions/${x.id}`)} aria-busy={b || undefined} data-status={x.status}>
                      <td>
                        <span className={'status status-' + x.status}>{STATUS_LABEL[x.status]}</span>
                        {x.cancel_requested && x.status === 'running' && <span className="badge warn">canceling</span>}
                        {x.status === 'waiting' && x.wait_until && <span className="sub">until <Time at={x.wait_until} /></span>}
                      </td>
                      <td>
                        <Link href={`/executions/${x.id}`} className="wf-name" onClick={(e) => e.stopPropagation()}
                          aria-label={`Open execution of ${name ?? 'workflow'} ${x.id.slice(0, 8)}`}>
                          {name === undefined ? '…' : name === null ? <span className="muted">Workflow {x.workflow_id.slice(0, 8)}</span> : name}
                        </Link>
                        {x.version && <span className="muted small"> v{x.version}</span>}
                        {x.error?.message && (
                          <span className="sub" title={x.error.message}>{x.error.node_name ? `${x.error.node_name}: ` : ''}{x.error.message}</span>
                        )}
                      </td>
                      <td>{TRIGGER_LABEL[x.trigger]}{x.parent_id && x.trigger === 'retry' && <span className="muted small"> of {x.parent_id.slice(0, 8)}</span>}</td>
                      <td><Time at={x.started_at ?? x.created_at} /></td>
                      <td>{executionDuration(x, now)}</td>
                      <td className="col-actions" onClick={(e) => e.stopPropagation()}>
                        {canRetry(x.status) && (
                          <button className="small" disabled={!canEdit || b} title={why ?? 'Run again from the failed step'} onClick={() => retry(x, 'failed')}>Retry</button>
                        )}
                        {canCancel(x.status) && (
                          <button className="small danger" disabled={!canEdit || b || x.cancel_requested} title={why} onClick={() => cancel(x)}>Cancel</button>
                        )}
                        <RowMenu label={`Actions for execution ${x.id.slice(0, 8)}`} items={[
                          { label: 'Open on the canvas', onSelect: () => navigate(`/executions/${x.id}`) },
                          { label: 'Retry from the failed step', onSelect: () => retry(x, 'failed'), disabled: !canEdit || !canRetry(x.status) || b, title: why ?? (canRetry(x.status) ? undefined : 'Only failed or canceled executions can be retried') },
                          { label: 'Retry from the start', onSelect: () => retry(x, 'start'), disabled: !canEdit || !canRetry(x.status) || b, title: why ?? (canRetry(x.status) ? undefined : 'Only failed or canceled executions can be retried') },
                          { label: 'Cancel', onSelect: () => cancel(x), disabled: !canEdit || !canCancel(x.status) || b, title: why ?? (canCancel(x.status) ? undefined : 'It has finished') },
                          { label: 'Show only this workflow', onSelect: () => update({ workflow: x.workflow_id }) },
                          { label: 'Delete…', onSelect: () => remove(x), disabled: !canEdit || !canDelete(x.status) || b, title: why ?? (canDelete(x.status) ? undefined : 'Cancel it first: only finished executions can be deleted'), danger: true },
                        ]} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      {next && items && items.length > 0 && (
        <div className="load-more"><button onClick={() => load(next)} disabled={loading}>{loading ? 'Loading…' : 'Load more'}</button></div>
      )}
      {confirmDialog}
    </div>
  );
}
