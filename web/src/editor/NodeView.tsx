// One node on the canvas: name, type, category colour, a handle per port
// (named when a side has more than one), run status, diff mark, problems.
// Memoised: React Flow hands it a new props object only when its node
// object changed (see toFlowNodes).
import { memo } from 'react';
import { Handle, Position, type NodeProps } from '@xyflow/react';
import { inputPorts, outputPorts, type FlowNode } from './convert';
import { copyText, webhookUrl } from './util';

// Category icons as inline SVG (no icon font, no glyph the system font may lack).
const PATHS: Record<string, string> = {
  trigger: 'M13 2 4 14h7l-1 8 9-12h-7z',
  action: 'M5 12h11M12 6l6 6-6 6',
  data: 'M4 5h16v14H4zM4 10h16M4 15h16M10 5v14',
  flow: 'M6 4v6a4 4 0 0 0 4 4h8M6 20v-6M15 11l3 3-3 3',
  unknown: 'M9 9a3 3 0 1 1 4 2.8c-.7.3-1 .8-1 1.5V15M12 18v.5',
};
export function CategoryIcon({ category }: { category: string }) {
  const d = PATHS[category] ?? PATHS.unknown;
  const fill = category === 'trigger';
  return (
    <svg viewBox="0 0 24 24" width="15" height="15" aria-hidden focusable="false"
      fill={fill ? 'currentColor' : 'none'} stroke="currentColor" strokeWidth={fill ? 0 : 2.2} strokeLinecap="round" strokeLinejoin="round">
      <path d={d} />
    </svg>
  );
}

const STATUS_TEXT: Record<string, string> = { queued: 'queued', running: 'running', succeeded: 'succeeded', failed: 'failed', waiting: 'waiting' };

function portTop(i: number, n: number) {
  return n <= 1 ? '50%' : `${((i + 1) * 100) / (n + 1)}%`;
}

function NodeViewImpl({ data, selected }: NodeProps<FlowNode>) {
  const { node, type, status, diff, problems, readOnly } = data;
  const ins = inputPorts(type);
  const outs = outputPorts(node, type);
  const cat = type?.category ?? 'unknown';
  const rows = Math.max(ins.length, outs.length);
  const cls = ['wf-node', 'cat-' + cat];
  if (node.disabled) cls.push('disabled');
  if (status) cls.push('st-' + status);
  if (diff) cls.push('diff-' + diff);
  if (problems?.length) cls.push('has-problems');
  if (selected) cls.push('selected');
  const hook = node.type === 'trigger.webhook' && typeof node.params?.path === 'string' && node.params.path ? webhookUrl(node.params.path) : null;
  const title = [
    node.name || node.id,
    type ? type.name : `Unknown type ${node.type}`,
    node.disabled ? 'disabled' : '',
    status ? 'status: ' + status : '',
    diff ? diff : '',
    ...(problems ?? []),
  ].filter(Boolean).join('\n');
  return (
    <div className={cls.join(' ')} data-testid={`node-${node.id}`} data-status={status} data-diff={diff} title={title}
      style={rows > 2 ? { minHeight: 26 + rows * 18 } : undefined}>
      {ins.map((p, i) => (
        <Handle key={'in-' + p} type="target" position={Position.Left} id={p} style={{ top: portTop(i, ins.length) }}
          isConnectable={!readOnly} aria-label={`${node.name || node.id} input ${p}`}>
          {ins.length > 1 && <span className="port-label in">{p}</span>}
        </Handle>
      ))}
      <div className="wf-node-icon" aria-hidden><CategoryIcon category={cat} /></div>
      <div className="wf-node-body">
        <div className="wf-node-name">{node.name || node.id}</div>
        <div className="wf-node-type">{type?.name ?? node.type}{node.disabled ? ' · disabled' : ''}</div>
        {hook && (
          <div className="wf-node-hook">
            <span className="mono" title={hook}>/hooks/{String(node.params!.path)}</span>
            <button className="icon nodrag" aria-label="Copy webhook URL" title="Copy webhook URL"
              onClick={(e) => { e.stopPropagation(); copyText(hook, 'Webhook URL copied'); }}>copy</button>
          </div>
        )}
      </div>
      {status && <span className={'wf-node-status st-' + status} aria-label={'status ' + STATUS_TEXT[status]}>{status === 'succeeded' ? '✓' : status === 'failed' ? '×' : status === 'running' ? '•' : '…'}</span>}
      {!!problems?.length && <span className="wf-node-problems" aria-label={`${problems.length} problem${problems.length > 1 ? 's' : ''}`}>{problems.length}</span>}
      {outs.map((p, i) => (
        <Handle key={'out-' + p} type="source" position={Position.Right} id={p} style={{ top: portTop(i, outs.length) }}
          isConnectable={!readOnly} className={p === 'error' ? 'port-error' : undefined} aria-label={`${node.name || node.id} output ${p}`}>
          {outs.length > 1 && <span className="port-label out">{p}</span>}
        </Handle>
      ))}
    </div>
  );
}

export const NodeView = memo(NodeViewImpl);
export const nodeTypes = { wf: NodeView };
