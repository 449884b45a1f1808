// The legend of the visual diff: what the colours on the canvas mean, with
// counts when a summary is given.
import type { DiffSummary } from './diff';
import './runview.css';

export function DiffLegend({ summary, from, to, onClose }: {
  summary?: DiffSummary; from?: number; to?: number; onClose?: () => void;
}) {
  const count = (n: number | undefined) => (summary ? ` (${n ?? 0})` : '');
  const edges = summary ? summary.edgesAdded + summary.edgesRemoved : 0;
  return (
    <div className="diff-legend" role="note" aria-label="Diff legend">
      {from !== undefined && to !== undefined && <span className="title">Changes from version {from} to {to}</span>}
      <span className="item diff-added"><span className="diff-swatch" aria-hidden="true" />Added{count(summary?.added.length)}</span>
      <span className="item diff-removed"><span className="diff-swatch removed" aria-hidden="true" />Removed{count(summary?.removed.length)}</span>
      <span className="item diff-changed"><span className="diff-swatch" aria-hidden="true" />Changed{count(summary?.changed.length)}</span>
      {summary && <span className="item muted">{edges ? `${summary.edgesAdded} connection(s) added, ${summary.edgesRemoved} removed` : 'No connection changed'}</span>}
      {summary && summary.moved.length > 0 && <span className="item muted">{summary.moved.length} moved (not coloured)</span>}
      {summary && summary.settings.length > 0 && <span className="item muted">Settings changed: {summary.settings.join(', ')}</span>}
      {onClose && <button className="small" onClick={onClose}>Close diff</button>}
    </div>
  );
}
