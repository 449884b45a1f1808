// The live preview of an expression, evaluated by the server with the same
// evaluator that runs workflows (POST /api/expressions/preview), against the
// input items of this node in the workflow's last run when there is one.
import { memo, useEffect, useState } from 'react';
import { api, ApiError, call, type Schemas } from '../api/client';

type PreviewRequest = Schemas['ExpressionPreviewRequest'];
interface PreviewAnswer { value?: unknown; error?: { message: string } }

export function previewExpression(req: PreviewRequest): Promise<PreviewAnswer> {
  return call(api.POST('/api/expressions/preview', { body: req })) as Promise<PreviewAnswer>;
}

function PreviewImpl({ expression, nodeId, executionId }: { expression: string; nodeId: string; executionId: string | null }) {
  const [state, setState] = useState<{ loading: boolean; value?: unknown; has?: boolean; error?: string; requestId?: string; note?: string }>({ loading: false });
  useEffect(() => {
    if (!expression.trim()) { setState({ loading: false }); return; }
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    const t = setTimeout(() => {
      const req: PreviewRequest = { expression };
      if (executionId) { req.execution_id = executionId; req.node_id = nodeId; req.item_index = 0; }
      const show = (a: PreviewAnswer, note?: string) => {
        if (!live) return;
        if (a.error) setState({ loading: false, error: a.error.message, note });
        else setState({ loading: false, value: a.value, has: true, note });
      };
      previewExpression(req).then((a) => show(a)).catch((e) => {
        // the node did not run in that execution (added since, or the run
        // stopped before it; or the execution is gone): preview without data
        if (live && e instanceof ApiError && e.status === 404 && req.execution_id) {
          return previewExpression({ expression }).then((a) => show(a, e.message + ' — previewed with an empty item.'));
        }
        throw e;
      }).catch((e) => {
        if (!live) return;
        setState({ loading: false, error: e instanceof Error ? e.message : String(e), requestId: e instanceof ApiError ? e.requestId : undefined });
      });
    }, 300);
    return () => { live = false; clearTimeout(t); };
  }, [expression, nodeId, executionId]);

  return (
    <div className="expr-preview" aria-live="polite" data-testid="expression-preview">
      {!executionId && <div className="muted small">Run the workflow to preview with real data.</div>}
      {state.loading && <div className="muted small">Evaluating…</div>}
      {!state.loading && state.note && <div className="muted small">{state.note}</div>}
      {!state.loading && state.error && <div className="expr-error">{state.error}{state.requestId && <span className="reqid">request {state.requestId}</span>}</div>}
      {!state.loading && !state.error && state.has && <pre className="expr-value" aria-label="Preview value">{JSON.stringify(state.value, null, 2) ?? 'undefined'}</pre>}
    </div>
  );
}
export const ExpressionPreview = memo(PreviewImpl);
