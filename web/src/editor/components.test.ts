// The pure helpers of the run, data, versions and conflict components.
import { describe, expect, it, vi } from 'vitest';
import type { Schemas } from '../api/client';
import { changeRows, overlap } from './ConflictDialog';
import { binaryFiles, cellText, durationMs, formatBytes, formatDuration, itemColumns, stepLabel } from './DataPanel';
import { diffDefinitions, type Definition } from './diff';
import { attachToInput, parseInputItems, triggerNodes } from './RunDialog';
import { comparePair, togglePick } from './VersionsPanel';

// the session module reads window (the router) when loaded; these tests need none of it
vi.mock('../app/session', () => ({ useSession: () => ({}) }));

const types = [
  { id: 'trigger.webhook', trigger: true }, { id: 'trigger.manual', trigger: true }, { id: 'data.set', trigger: false },
] as Schemas['NodeType'][];

describe('RunDialog helpers', () => {
  it('parses input items', () => {
    expect(parseInputItems('[{"a":1},{}]')).toEqual({ items: [{ a: 1 }, {}] });
    expect(parseInputItems('{"a":1}')).toEqual({ items: [{ a: 1 }] });
    expect(parseInputItems('  ')).toEqual({ items: [{}] });
    expect(parseInputItems('[1]')).toEqual({ error: 'Item 1 must be a JSON object, like {"name": "Ada"}.' });
    expect(parseInputItems('[{}, []]')).toMatchObject({ error: expect.stringContaining('Item 2') });
    expect(parseInputItems('[{')).toMatchObject({ error: expect.stringContaining('Not valid JSON') });
    expect(parseInputItems(JSON.stringify(Array(1001).fill({})))).toMatchObject({ error: expect.stringContaining('At most 1000') });
  });
  it('offers the trigger nodes, the manual one first', () => {
    const def: Definition = { nodes: [
      { id: 'hook', type: 'trigger.webhook' }, { id: 'set', type: 'data.set' }, { id: 'go', type: 'trigger.manual' },
    ] };
    expect(triggerNodes(def, types).map((n) => n.id)).toEqual(['go', 'hook']);
    expect(triggerNodes(def, []).map((n) => n.id)).toEqual(['go', 'hook']);
    expect(triggerNodes({ nodes: [{ id: 'set', type: 'data.set' }] }, types)).toEqual([]);
  });
});

describe('files in the run input', () => {
  const ref = { id: '0b3e2c1a-1111-4222-8333-444455556666', file_name: 'q3.pdf', mime_type: 'application/pdf', size: 12, sha256: 'a'.repeat(64) };
  it('adds a file to the first item under the first free name', () => {
    const one = attachToInput('[{"x": 1}, {"y": 2}]', ref);
    expect('text' in one && one.name).toBe('data');
    const two = attachToInput('text' in one ? one.text : '', { ...ref, file_name: 'b.png' });
    expect('text' in two && two.name).toBe('data1');
    const items = JSON.parse('text' in two ? two.text : '[]');
    expect(items).toHaveLength(2);
    expect(items[0].x).toBe(1);
    expect(Object.keys(items[0].$binary)).toEqual(['data', 'data1']);
    expect(items[0].$binary.data1.file_name).toBe('b.png');
    expect(items[1]).toEqual({ y: 2 });
  });
  it('makes an item of an empty input and refuses broken JSON', () => {
    const r = attachToInput('', ref);
    expect('text' in r && JSON.parse(r.text)[0].$binary.data.id).toBe(ref.id);
    const bad = attachToInput('[{', ref);
    expect('error' in bad && bad.error).toMatch(/Fix the input items/);
  });
});

describe('DataPanel helpers', () => {
  it('lists an item\'s files and formats their sizes', () => {
    const v = { data: { id: '0b3e2c1a-1111-4222-8333-444455556666', file_name: 'a.csv', mime_type: 'text/csv', size: 1234 },
      broken: { id: '../../etc/passwd' }, text: 'x' };
    expect(binaryFiles(v).map((f) => [f.name, f.fileName, f.size])).toEqual([['data', 'a.csv', 1234]]);
    expect(binaryFiles(null)).toEqual([]);
    expect(binaryFiles([1])).toEqual([]);
    expect([formatBytes(512), formatBytes(3400), formatBytes(12_000_000), formatBytes(-1)]).toEqual(['512 B', '3.4 KB', '12 MB', '']);
  });
  it('builds columns from the union of keys', () => {
    expect(itemColumns([{ a: 1, b: 2 }, { b: 3, c: 4 }]).columns).toEqual(['a', 'b', 'c']);
    expect(itemColumns([{ a: 1 }, 5]).columns).toEqual(['a', '\u0000value']);
    const wide = Object.fromEntries(Array.from({ length: 60 }, (_, i) => ['k' + i, i]));
    expect(itemColumns([wide])).toMatchObject({ more: 10 });
  });
  it('renders and truncates cells', () => {
    expect(cellText('hi')).toEqual({ text: 'hi', kind: 'str' });
    expect(cellText(3)).toEqual({ text: '3', kind: 'num' });
    expect(cellText(null)).toEqual({ text: 'null', kind: 'nul' });
    expect(cellText({ a: [1] })).toEqual({ text: '{"a":[1]}', kind: 'other' });
    const long = cellText('x'.repeat(100));
    expect(long.text).toHaveLength(80);
    expect(long.text.endsWith('…')).toBe(true);
    expect(long.title).toBe('x'.repeat(100));
  });
  it('formats durations', () => {
    expect(formatDuration(5)).toBe('5 ms');
    expect(formatDuration(2400)).toBe('2.40 s');
    expect(formatDuration(185000)).toBe('3 min 5 s');
    expect(formatDuration(null)).toBe('—');
    expect(durationMs('2026-01-01T00:00:00.100Z', '2026-01-01T00:00:01.350Z')).toBe(1250);
  });
  it('labels attempts and runs', () => {
    const s = (seq: number, run_index: number, attempt: number, status: 'succeeded' | 'failed' | 'waiting') =>
      ({ seq, run_index, attempt, status }) as Schemas['ExecutionStep'];
    const retried = [s(1, 2, 1, 'failed'), s(2, 2, 2, 'succeeded')];
    expect(retried.map((x) => stepLabel(x, retried))).toEqual(['attempt 1, failed', 'attempt 2, succeeded']);
    const loop = [s(1, 2, 1, 'succeeded'), s(3, 5, 1, 'succeeded')];
    expect(loop.map((x) => stepLabel(x, loop))).toEqual(['Run 1 of 2, succeeded', 'Run 2 of 2, succeeded']);
    const waited = [s(2, 2, 1, 'waiting'), s(3, 2, 1, 'succeeded')];
    expect(waited.map((x) => stepLabel(x, waited))).toEqual(['waiting', 'succeeded']);
  });
});

describe('VersionsPanel helpers', () => {
  it('keeps the last two picks, older first', () => {
    let p: number[] = [];
    p = togglePick(p, 5);
    expect(comparePair(p)).toBeNull();
    p = togglePick(p, 2);
    expect(comparePair(p)).toEqual([2, 5]);
    p = togglePick(p, 7);
    expect(p).toEqual([2, 7]);
    expect(comparePair(togglePick(p, 2))).toBeNull();
  });
});

describe('ConflictDialog helpers', () => {
  const base: Definition = { nodes: [{ id: 'a', type: 't', name: 'A' }, { id: 'b', type: 't', name: 'B' }, { id: 'c', type: 't', name: 'C' }] };
  const mine: Definition = { nodes: [{ id: 'a', type: 't', name: 'A', notes: 'x' }, { id: 'c', type: 't', name: 'C' }, { id: 'd', type: 't', name: 'D' }] };
  const theirs: Definition = { nodes: [{ id: 'a', type: 't', name: 'A2' }, { id: 'b', type: 't', name: 'B' }, { id: 'c', type: 't', name: 'C' }] };
  it('lists changes by name and finds the nodes both sides touched', () => {
    const m = diffDefinitions(base, mine), t = diffDefinitions(base, theirs);
    expect(changeRows(m, base, mine)).toEqual([
      { id: 'd', kind: 'added', name: 'D' }, { id: 'b', kind: 'removed', name: 'B' }, { id: 'a', kind: 'changed', name: 'A', fields: 'notes' },
    ]);
    expect(changeRows(t, base, theirs)).toEqual([{ id: 'a', kind: 'changed', name: 'A2', fields: 'name' }]);
    expect(overlap(m, t)).toEqual(['a']);
  });
});
