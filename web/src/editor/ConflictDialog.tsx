// After a save answered 409 version_conflict: what you changed and what
// they changed since the version you started from, and the two ways out —
// take theirs (your changes are dropped) or save yours on top of theirs as
// a new version (their changes are replaced; they stay in the history).
import { useMemo } from 'react';
import type { Schemas } from '../api/client';
import { Dialog } from '../ui/Dialog';
import { Time } from '../ui/misc';
import { diffDefinitions, fieldWords, isEmptyDiff, nodeLabel, type Definition, type DefinitionDiff } from './diff';
import './runview.css';

type Workflow = Schemas['Workflow'];

interface Row { id: string; kind: 'added' | 'removed' | 'changed'; name: string; fields?: string }

/** The changes of a diff as rows, named from the definitions they come from. */
export function changeRows(d: DefinitionDiff, from: Definition | null | undefined, to: Definition | null | undefined): Row[] {
  const s = d.summary;
  return [
    ...s.added.map((id) => ({ id, kind: 'added' as const, name: nodeLabel(id, to) })),
    ...s.removed.map((id) => ({ id, kind: 'removed' as const, name: nodeLabel(id, from) })),
    ...s.changed.map((c) => ({ id: c.id, kind: 'changed' as const, name: nodeLabel(c.id, from, to), fields: fieldWords(c.fields) })),
  ];
}

/** Node ids both sides touched (changed, removed or added with the same id). */
export function overlap(mine: DefinitionDiff, theirs: DefinitionDiff): string[] {
  return Object.keys(mine.nodes).filter((id) => id in theirs.nodes);
}

function ChangeList({ title, rows, diff, both, empty }: { title: string; rows: Row[]; diff: DefinitionDiff; both: Set<string>; empty: string }) {
  const s = diff.summary;
  return (
    <section aria-label={title}>
      <h3>{title}</h3>
      {rows.length === 0 && !s.edgesAdded && !s.edgesRemoved && !s.settings.length ? <p className="muted">{empty}</p> : (
        <ul className="change-list">
          {rows.map((r) => (
            <li key={r.kind + r.id} className={'diff-' + r.kind + (both.has(r.id) ? ' both' : '')}
              title={both.has(r.id) ? 'Changed on both sides' : undefined}>
              <span className="kind">{r.kind}</span>
              <span className="name">{r.name}</span>
              {r.fields && <span className="fields">{r.fields}</span>}
            </li>
          ))}
          {(s.edgesAdded > 0 || s.edgesRemoved > 0) && (
            <li><span className="kind">links</span><span>{s.edgesAdded} connection{s.edgesAdded === 1 ? '' : 's'} added, {s.edgesRemoved} removed</span></li>
          )}
          {s.settings.length > 0 && <li><span className="kind">settings</span><span>{s.settings.join(', ')}</span></li>}
        </ul>
      )}
      {s.moved.length > 0 && <p className="muted">{s.moved.length} node{s.moved.length === 1 ? '' : 's'} moved.</p>}
    </section>
  );
}

export function ConflictDialog({ open, mine, base, baseVersion, theirs, onReloadTheirs, onKeepMine, onClose, busy }: {
  open: boolean;
  /** the canvas's definition (what the save tried to store) */
  mine: Definition;
  /** the definition of the version the user started from; null when unknown */
  base: Definition | null;
  /** that version's number, for the words */
  baseVersion?: number;
  /** the workflow as it is now (error.current of the 409) */
  theirs: Workflow;
  /** discard mine, load theirs */
  onReloadTheirs: () => void;
  /** save mine again with If-Match: theirs.version */
  onKeepMine: () => void;
  /** keep editing, decide later */
  onClose: () => void;
  /** a save is under way */
  busy?: boolean;
}) {
  const mineDiff = useMemo(() => (base ? diffDefinitions(base, mine) : null), [base, mine]);
  const theirDiff = useMemo(() => (base ? diffDefinitions(base, theirs.definition) : null), [base, theirs]);
  // without the base: what saving mine would change in theirs
  const direct = useMemo(() => (base ? null : diffDefinitions(theirs.definition, mine)), [base, theirs, mine]);
  const both = useMemo(() => new Set(mineDiff && theirDiff ? overlap(mineDiff, theirDiff) : []), [mineDiff, theirDiff]);
  const from = baseVersion != null ? `version ${baseVersion}` : 'the version you opened';
  const next = theirs.version + 1;
  const bothNames = [...both].map((id) => nodeLabel(id, base, theirs.definition, mine));

  return (
    <Dialog title="Someone else saved this workflow" open={open} onClose={onClose} wide
      footer={<button onClick={onClose} disabled={busy}>Keep editing (decide later)</button>}>
      <p>
        While you were editing, version {theirs.version} was saved (<Time at={theirs.updated_at} />). Your changes are not saved yet.
      </p>
      {both.size > 0 && (
        <p className="conflict-note" role="alert">
          Both of you changed {bothNames.join(', ')}. Only one version of {both.size === 1 ? 'it' : 'them'} can win.
        </p>
      )}
      {mineDiff && theirDiff ? (
        <div className="change-cols">
          <ChangeList title={`Your changes since ${from}`} rows={changeRows(mineDiff, base, mine)} diff={mineDiff} both={both} empty="No change to the graph." />
          <ChangeList title={`Their changes since ${from} (now version ${theirs.version})`} rows={changeRows(theirDiff, base, theirs.definition)} diff={theirDiff} both={both}
            empty="No change to the graph (a save without changes, or only nodes moved)." />
        </div>
      ) : direct && (
        <ChangeList title={`What saving yours would change in version ${theirs.version}`} rows={changeRows(direct, theirs.definition, mine)} diff={direct} both={both}
          empty="Your canvas and their version have the same graph." />
      )}
      <div className="conflict-actions">
        <div className="choice">
          <button className="danger" onClick={onReloadTheirs} disabled={busy}>Reload theirs (discard mine)</button>
          <p>Loads version {theirs.version} onto the canvas. Your unsaved changes are lost.</p>
        </div>
        <div className="choice">
          <button className="primary" onClick={onKeepMine} disabled={busy}>Save mine as version {next}</button>
          <p>Saves your canvas as version {next}, on top of theirs: {theirDiff && !isEmptyDiff(theirDiff) ? 'their changes listed above are undone in it' : 'their changes are replaced'}. Version {theirs.version} stays in the history and can be restored.</p>
        </div>
      </div>
    </Dialog>
  );
}

export default ConflictDialog;
