// The node palette: searchable, grouped by category, with descriptions.
// Click adds a node next to the selection (or in view); drag drops it where
// it lands on the canvas.
import { memo, useMemo, useState } from 'react';
import type { NodeType } from './convert';
import { CategoryIcon } from './NodeView';

export const DRAG_MIME = 'application/x-glyphic-node-type';
const ORDER = ['trigger', 'action', 'data', 'flow'];
const LABEL: Record<string, string> = { trigger: 'Triggers', action: 'Actions', data: 'Data', flow: 'Flow' };

function PaletteImpl({ types, onAdd, disabled }: { types: NodeType[]; onAdd: (type: string) => void; disabled?: boolean }) {
  const [q, setQ] = useState('');
  const groups = useMemo(() => {
    const s = q.trim().toLowerCase();
    const hit = types.filter((t) => !s || t.name.toLowerCase().includes(s) || t.id.toLowerCase().includes(s) || t.description.toLowerCase().includes(s));
    const cats = [...new Set([...ORDER, ...hit.map((t) => t.category)])];
    return cats.map((c) => ({ cat: c, items: hit.filter((t) => t.category === c) })).filter((g) => g.items.length);
  }, [types, q]);
  return (
    <aside className="palette" aria-label="Node palette">
      <input type="search" placeholder="Search nodes" aria-label="Search nodes" value={q} onChange={(e) => setQ(e.target.value)} />
      <div className="palette-list">
        {groups.map((g) => (
          <section key={g.cat}>
            <h3>{LABEL[g.cat] ?? g.cat}</h3>
            {g.items.map((t) => (
              <button key={t.id} className={'palette-item cat-' + t.category} disabled={disabled}
                title={disabled ? 'Viewers cannot edit' : t.description}
                aria-label={`Add ${t.name}`} draggable={!disabled}
                onDragStart={(e) => { e.dataTransfer.setData(DRAG_MIME, t.id); e.dataTransfer.effectAllowed = 'copy'; }}
                onClick={() => onAdd(t.id)}>
                <span className="palette-icon" aria-hidden><CategoryIcon category={t.category} /></span>
                <span className="palette-text">
                  <span className="palette-name">{t.name}</span>
                  <small>{t.description}</small>
                </span>
              </button>
            ))}
          </section>
        ))}
        {groups.length === 0 && <p className="muted">No node matches “{q}”.</p>}
      </div>
    </aside>
  );
}
export const Palette = memo(PaletteImpl);
