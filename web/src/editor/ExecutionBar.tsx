// The status bar of the execution shown on the canvas: its status and
// duration (ticking while it runs), its error, Cancel while it is not
// finished, Retry (from the failed step or from the start) once it failed
// or was canceled, and a link to the executions page.
import { formatTime } from '../ui/misc';
import { useEffect, useState } from 'react';
import { api, ApiError, call, type Schemas } from '../api/client';
import { Link } from '../ui/Link';
import { toast, toastError } from '../ui/toast';
import { durationMs, formatDuration } from './DataPanel';
import { isFinal } from './live';
import './runview.css';

type Execution = Schemas['Execution'];
type ExecutionStatus = Schemas['ExecutionStatus'];

const TRIGGER_WORDS: Record<string, string> = {
  manual: 'Manual run', webhook: 'Webhook', schedule: 'Schedule', retry: 'Retry', subworkflow: 'Subworkflow', error: 'Error workflow',
};

export function ExecutionBar({ execution, status, streaming, canEdit = true, onRetried, onClose }: {
  execution: Execution | null;
  /** the live status (from useExecution), which can be ahead of execution.status */
  status?: ExecutionStatus | null;
  /** progress arrives live (shows a pulsing dot) */
  streaming?: boolean;
  /** false for viewers: no Cancel or Retry */
  canEdit?: boolean;
  /** a retry was queued: the editor shows that execution next */
  onRetried?: (executionId: string) => void;
  /** close the execution view (back to editing) */
  onClose?: () => void;
}) {
  const st: ExecutionStatus | null = status ?? execution?.status ?? null;
  const [now, setNow] = useState(() => Date.now());
  const [busy, setBusy] = useState<'cancel' | 'retry' | null>(null);
  const [cancelAsked, setCancelAsked] = useState(false);
  const running = !!execution && !isFinal(st);

  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [running]);
  useEffect(() => { setCancelAsked(false); }, [execution?.id]);

  if (!execution) return null;
  const start = execution.started_at ?? execution.created_at;
  const end = isFinal(st) ? execution.finished_at : null;
  // while it runs: since it started (or, read while queued, since it was queued)
  const ms = end ? durationMs(start, end) : st === 'queued' ? null : Math.max(0, now - Date.parse(start));

  async function cancel() {
    if (!execution) return;
    setBusy('cancel');
    try {
      const r = await call(api.POST('/api/executions/{id}/cancel', { params: { path: { id: execution.id } } }));
      setCancelAsked(true);
      toast('info', r.status === 'canceled' ? 'Execution canceled.' : 'Stopping: the node running now finishes first.');
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) toast('info', 'The execution had already finished.');
      else toastError(e, 'Cancel failed');
    } finally {
      setBusy(null);
    }
  }

  async function retry(from: 'failed' | 'start') {
    if (!execution) return;
    setBusy('retry');
    try {
      const r = await call(api.POST('/api/executions/{id}/retry', { params: { path: { id: execution.id } }, body: { from } }));
      toast('ok', from === 'failed' ? 'Retrying from the failed step.' : 'Running again from the start.');
      onRetried?.(r.id);
    } catch (e) {
      toastError(e, 'Retry failed');
    } finally {
      setBusy(null);
    }
  }

  const err = execution.error;
  const canRetry = st === 'failed' || st === 'canceled';
  return (
    <div className="exec-bar" role="region" aria-label="Execution">
      {running && streaming && <span className="live-dot" title="Live" aria-hidden="true" />}
      <span className={'badge status-' + (st ?? 'queued')} aria-label={'Status: ' + (st ?? 'loading')}>{st ?? '…'}</span>
      <span>{TRIGGER_WORDS[execution.trigger] ?? execution.trigger}{execution.version != null ? ` of version ${execution.version}` : ' of an unsaved canvas'}</span>
      <span className="muted" title={start ?? undefined}>{formatDuration(ms)}</span>
      {st === 'waiting' && execution.wait_until && <span className="muted">resumes {formatTime(execution.wait_until)}</span>}
      {(cancelAsked || execution.cancel_requested) && running && <span className="muted">stopping…</span>}
      {err && isFinal(st) && <span className="exec-error" title={err.message}>{err.node_name ? `${err.node_name}: ` : ''}{err.message}</span>}
      <span className="spacer" />
      {canEdit && running && (
        <button className="small danger" onClick={cancel} disabled={busy !== null || cancelAsked}>Cancel execution</button>
      )}
      {canEdit && canRetry && (
        <>
          {st === 'failed' && <button className="small" onClick={() => retry('failed')} disabled={busy !== null}>Retry from failed step</button>}
          <button className="small" onClick={() => retry('start')} disabled={busy !== null}>Retry from start</button>
        </>
      )}
      <Link className="button small ghost" href={`/executions?workflow_id=${encodeURIComponent(execution.workflow_id)}`}>All executions</Link>
      {onClose && <button className="small" onClick={onClose}>Close execution</button>}
    </div>
  );
}

export default ExecutionBar;
