import { describe, expect, it } from 'vitest';
import type { Schemas } from '../api/client';
import type { Definition } from './diff';
import {
  applyEvent, edgeCounts, emptyLive, foldEvents, isFinal, liveFromExecution, nodeStatuses, parseEvent, portCounts,
  stepEventOf, type LiveEvent, type LiveState, type StepEvent,
} from './live';

const def: Definition = {
  nodes: [
    { id: 'start', type: 'trigger.manual', name: 'Start' },
    { id: 'check', type: 'flow.if', name: 'Check', retry: { max: 3 } },
    { id: 'yes', type: 'data.set', name: 'Yes' },
    { id: 'no', type: 'data.set', name: 'No' },
  ],
  edges: [
    { from: 'start', from_port: 'main', to: 'check', to_port: 'main' },
    { from: 'check', from_port: 'true', to: 'yes', to_port: 'main' },
    { from: 'check', from_port: 'false', to: 'no', to_port: 'main' },
  ],
};

function step(seq: number, node_id: string, run_index: number, attempt: number, status: StepEvent['status'], items: Record<string, number> | null): LiveEvent {
  return { type: 'step', data: { seq, node_id, run_index, attempt, status, error: status === 'failed' ? { message: 'boom', node: node_id } : null, started_at: 't', finished_at: 't', items } };
}
const started = (node_id: string, run_index: number, attempt = 1): LiveEvent => ({ type: 'step.started', data: { node_id, run_index, attempt } });
const ended = (status: 'succeeded' | 'failed' | 'canceled'): LiveEvent => ({ type: 'execution', data: { id: 'x', status, error: null } });
const queued: LiveState = { ...emptyLive, status: 'queued' };

describe('nodeStatuses', () => {
  it('is empty before the execution is known', () => {
    expect(nodeStatuses(emptyLive, def)).toEqual({});
  });

  it('marks every node queued while the execution waits for an executor', () => {
    expect(nodeStatuses(queued, def)).toEqual({ start: 'queued', check: 'queued', yes: 'queued', no: 'queued' });
  });

  it('follows a run: queued → running → succeeded, then drops nodes never reached', () => {
    let s = foldEvents([started('start', 1)], queued);
    expect(s.status).toBe('running');
    expect(nodeStatuses(s, def)).toEqual({ start: 'running', check: 'queued', yes: 'queued', no: 'queued' });
    s = foldEvents([step(1, 'start', 1, 1, 'succeeded', { main: 2 }), started('check', 2)], s);
    expect(nodeStatuses(s, def)).toEqual({ start: 'succeeded', check: 'running', yes: 'queued', no: 'queued' });
    s = foldEvents([step(2, 'check', 2, 1, 'succeeded', { true: 2, false: 0 }), started('yes', 3), step(3, 'yes', 3, 1, 'succeeded', { main: 2 }), ended('succeeded')], s);
    expect(nodeStatuses(s, def)).toEqual({ start: 'succeeded', check: 'succeeded', yes: 'succeeded' });
    expect(isFinal(s.status)).toBe(true);
    expect(s.started).toEqual([]);
  });

  it('shows a failure, and a retry as running again', () => {
    let s = foldEvents([step(1, 'start', 1, 1, 'succeeded', { main: 1 }), started('check', 2, 1), step(2, 'check', 2, 1, 'failed', null)], queued);
    expect(nodeStatuses(s, def).check).toBe('failed');
    s = applyEvent(s, started('check', 2, 2));
    expect(nodeStatuses(s, def).check).toBe('running');
    s = foldEvents([step(3, 'check', 2, 2, 'failed', null), ended('failed')], s);
    expect(nodeStatuses(s, def)).toEqual({ start: 'succeeded', check: 'failed' });
  });

  it('shows a parked retry (execution waiting) as waiting', () => {
    const s = foldEvents([step(1, 'start', 1, 1, 'succeeded', { main: 1 }), step(2, 'check', 2, 1, 'failed', null)], queued);
    expect(nodeStatuses({ ...s, status: 'waiting' }, def).check).toBe('waiting');
    expect(nodeStatuses({ ...s, status: 'running' }, def).check).toBe('failed');
  });

  it('a waiting step parks the execution; the next step resumes it', () => {
    let s = foldEvents([step(1, 'start', 1, 1, 'succeeded', { main: 1 }), step(2, 'check', 2, 1, 'waiting', null)], queued);
    expect(s.status).toBe('waiting');
    expect(nodeStatuses(s, def).check).toBe('waiting');
    s = foldEvents([started('check', 3), step(3, 'check', 3, 1, 'succeeded', { true: 1 })], s);
    expect(s.status).toBe('running');
    expect(nodeStatuses(s, def).check).toBe('succeeded');
  });

  it('ignores replayed events (reconnect without Last-Event-ID) and late ones after the end', () => {
    const evs = [started('start', 1), step(1, 'start', 1, 1, 'succeeded', { main: 1 }), started('check', 2), step(2, 'check', 2, 1, 'succeeded', { true: 1 })];
    const once = foldEvents(evs, queued);
    const twice = foldEvents(evs, once);
    expect(twice).toBe(once);
    expect(twice.steps.map((x) => x.seq)).toEqual([1, 2]);
    const done = applyEvent(once, ended('succeeded'));
    expect(applyEvent(done, started('yes', 3))).toBe(done);
    expect(applyEvent(done, step(2, 'check', 2, 1, 'succeeded', { true: 1 }))).toBe(done);
  });

  it('a started event for an attempt already recorded does not make it run again', () => {
    const s = foldEvents([step(1, 'start', 1, 1, 'succeeded', { main: 1 }), started('start', 1)], queued);
    expect(nodeStatuses(s, def).start).toBe('succeeded');
    expect(s.started).toEqual([]);
  });

  it('an attempt started when the execution ended is not running', () => {
    const s = foldEvents([started('start', 1), ended('canceled')], queued);
    expect(nodeStatuses(s, def)).toEqual({});
  });

  it('works without a definition (nodes seen only)', () => {
    const s = foldEvents([step(1, 'start', 1, 1, 'succeeded', { main: 1 }), started('check', 2)], queued);
    expect(nodeStatuses(s, null)).toEqual({ start: 'succeeded', check: 'running' });
  });
});

describe('edge counts', () => {
  it('sums the latest attempt of every activation per port', () => {
    const s = foldEvents([
      step(1, 'start', 1, 1, 'succeeded', { main: 3 }),
      step(2, 'check', 2, 1, 'failed', null),
      step(3, 'check', 2, 2, 'succeeded', { true: 2, false: 1 }),
      step(4, 'check', 3, 1, 'succeeded', { true: 4 }), // a second activation (a loop)
      step(5, 'yes', 4, 1, 'succeeded', { main: 6 }),
    ], queued);
    expect(portCounts(s)).toEqual({ start: { main: 3 }, check: { true: 6, false: 1 }, yes: { main: 6 } });
    expect(edgeCounts(s, def)).toEqual({ 'start:main->check:main': 3, 'check:true->yes:main': 6, 'check:false->no:main': 1 });
  });

  it('a later failed attempt replaces the counts of an earlier one', () => {
    const s = foldEvents([step(1, 'check', 2, 1, 'succeeded', { true: 5 }), step(2, 'check', 2, 2, 'failed', null)], queued);
    expect(edgeCounts(s, def)).toEqual({});
  });

  it('counts 0 on a port that got nothing when the node produced output', () => {
    const s = foldEvents([step(1, 'check', 1, 1, 'succeeded', { true: 2 })], queued);
    expect(edgeCounts(s, def)).toEqual({ 'check:true->yes:main': 2, 'check:false->no:main': 0 });
  });

  it('counts the error port under continue_on_fail', () => {
    const d: Definition = { nodes: def.nodes, edges: [{ from: 'check', from_port: 'error', to: 'no', to_port: 'main' }] };
    const s = foldEvents([step(1, 'check', 1, 1, 'failed', { error: 1 })], queued);
    expect(edgeCounts(s, d)).toEqual({ 'check:error->no:main': 1 });
  });
});

describe('reading an execution', () => {
  const steps: Schemas['ExecutionStep'][] = [
    { seq: 2, node_id: 'check', run_index: 2, attempt: 1, status: 'succeeded', input: { main: [{}] }, output: { true: [{ a: 1 }], false: [] }, error: null, started_at: 't', finished_at: 't' },
    { seq: 1, node_id: 'start', run_index: 1, attempt: 1, status: 'succeeded', input: null, output: { main: [{ a: 1 }] }, error: null, started_at: 't', finished_at: 't' },
  ];
  it('turns steps into the stream shape, in seq order', () => {
    const s = liveFromExecution({ status: 'running', error: null, steps });
    expect(s.lastSeq).toBe(2);
    expect(s.steps.map((x) => x.seq)).toEqual([1, 2]);
    expect(s.steps[1].items).toEqual({ true: 1, false: 0 });
    expect(stepEventOf({ ...steps[0], status: 'failed', output: null }).items).toBeNull();
    expect(nodeStatuses(s, def)).toEqual({ start: 'succeeded', check: 'succeeded', yes: 'queued', no: 'queued' });
  });
  it('continues with the stream after the read', () => {
    const s = foldEvents([step(2, 'check', 2, 1, 'succeeded', { true: 1, false: 0 }), step(3, 'yes', 3, 1, 'succeeded', { main: 1 }), ended('succeeded')],
      liveFromExecution({ status: 'running', error: null, steps }));
    expect(s.steps.map((x) => x.seq)).toEqual([1, 2, 3]);
    expect(nodeStatuses(s, def)).toEqual({ start: 'succeeded', check: 'succeeded', yes: 'succeeded' });
  });
});

describe('parseEvent', () => {
  it('parses the three event types and refuses anything else', () => {
    expect(parseEvent('step.started', '{"run_index":2,"node_id":"fetch","attempt":1}')).toEqual({ type: 'step.started', data: { run_index: 2, node_id: 'fetch', attempt: 1 } });
    expect(parseEvent('step', '{"seq":1,"node_id":"start","run_index":1,"attempt":1,"status":"succeeded","error":null,"started_at":"a","finished_at":"b","items":{"main":1}}')?.type).toBe('step');
    expect(parseEvent('execution', '{"id":"x","status":"failed","error":{"message":"m"}}')).toEqual({ type: 'execution', data: { id: 'x', status: 'failed', error: { message: 'm' } } });
    expect(parseEvent('step', 'not json')).toBeNull();
    expect(parseEvent('step', '{"node_id":"x"}')).toBeNull();
    expect(parseEvent('other', '{}')).toBeNull();
  });
});

describe('a stream glyphic-events sent', () => {
  // captured from a real run (trigger.manual → flow.wait 1 s → flow.if → two data.set),
  // three items: the wait step is recorded twice (waiting, then succeeded) for the same
  // attempt, and the later nodes' step.started events come before their steps
  const captured: [string, Record<string, unknown>][] = [
    ['step.started', { run_index: 1, node_id: 'start', attempt: 1 }],
    ['step', { seq: 1, node_id: 'start', run_index: 1, attempt: 1, status: 'succeeded', error: null, items: { main: 3 } }],
    ['step.started', { run_index: 2, node_id: 'wait', attempt: 1 }],
    ['step', { seq: 2, node_id: 'wait', run_index: 2, attempt: 1, status: 'waiting', error: null, items: null }],
    ['step.started', { run_index: 3, node_id: 'check', attempt: 1 }],
    ['step.started', { run_index: 4, node_id: 'yes', attempt: 1 }],
    ['step.started', { run_index: 5, node_id: 'no', attempt: 1 }],
    ['step', { seq: 3, node_id: 'wait', run_index: 2, attempt: 1, status: 'succeeded', error: null, items: { main: 3 } }],
    ['step', { seq: 4, node_id: 'check', run_index: 3, attempt: 1, status: 'succeeded', error: null, items: { true: 2, false: 1 } }],
    ['step', { seq: 5, node_id: 'yes', run_index: 4, attempt: 1, status: 'succeeded', error: null, items: { main: 2 } }],
    ['step', { seq: 6, node_id: 'no', run_index: 5, attempt: 1, status: 'succeeded', error: null, items: { main: 1 } }],
    ['execution', { id: 'c48c23b5-d663-416a-a27d-2f34ba72f38e', status: 'succeeded', error: null }],
  ];
  const d: Definition = {
    nodes: ['start', 'wait', 'check', 'yes', 'no'].map((id) => ({ id, type: 't' })),
    edges: [
      { from: 'start', from_port: 'main', to: 'wait', to_port: 'main' }, { from: 'wait', from_port: 'main', to: 'check', to_port: 'main' },
      { from: 'check', from_port: 'true', to: 'yes', to_port: 'main' }, { from: 'check', from_port: 'false', to: 'no', to_port: 'main' },
    ],
  };
  it('folds into the statuses the run went through', () => {
    let s = queued;
    const seen: string[] = [];
    for (const [type, data] of captured) {
      const ev = parseEvent(type, JSON.stringify({ ...data, ...(type === 'step' ? { started_at: 't', finished_at: 't' } : {}) }));
      expect(ev).not.toBeNull();
      s = applyEvent(s, ev!);
      const st = nodeStatuses(s, d);
      seen.push(d.nodes.map((n) => (st[n.id] ?? '-')[0]).join('') + ' ' + s.status);
    }
    // s(ucceeded) q(ueued) r(unning) w(aiting), per node start wait check yes no
    expect(seen).toEqual([
      'rqqqq running', 'sqqqq running', 'srqqq running', 'swqqq waiting', 'swrqq running', 'swrrq running', 'swrrr running',
      'ssrrr running', 'sssrr running', 'ssssr running', 'sssss running', 'sssss succeeded',
    ]);
    expect(edgeCounts(s, d)).toEqual({ 'start:main->wait:main': 3, 'wait:main->check:main': 3, 'check:true->yes:main': 2, 'check:false->no:main': 1 });
  });
});
