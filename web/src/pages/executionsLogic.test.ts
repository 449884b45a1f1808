import { describe, expect, it } from 'vitest';
import {
  DEFAULT_EXEC_FILTERS, canCancel, canDelete, canRetry, execFiltersFromQuery, execFiltersToQuery, execListQuery,
  executionDuration, formatDuration, isExecFiltered, isLive, mergeRefresh, nextDay, rangeBounds,
} from './executionsLogic';

const NOW = Date.parse('2026-03-10T12:00:00Z');
const WF = '3d6f2a9e-8b1c-4e7d-9a5f-0c2b4d6e8f10';

describe('filters', () => {
  it('reads the address and drops what is not valid', () => {
    expect(execFiltersFromQuery(new URLSearchParams(`status=failed&trigger=webhook&workflow_id=${WF}&range=custom&from=2026-03-01&to=2026-03-02`)))
      .toEqual({ status: 'failed', trigger: 'webhook', workflow: WF, range: 'custom', from: '2026-03-01', to: '2026-03-02' });
    expect(execFiltersFromQuery(new URLSearchParams('status=lost&trigger=x&workflow_id=nope&range=1y&from=March')))
      .toEqual(DEFAULT_EXEC_FILTERS);
  });
  it('writes dates only for a custom range', () => {
    expect(execFiltersToQuery({ ...DEFAULT_EXEC_FILTERS, range: '7d', from: '2026-03-01' }))
      .toEqual({ status: null, trigger: null, workflow_id: null, range: '7d', from: null, to: null });
  });
  it('knows when the list is filtered', () => {
    expect(isExecFiltered(DEFAULT_EXEC_FILTERS)).toBe(false);
    expect(isExecFiltered({ ...DEFAULT_EXEC_FILTERS, range: '1h' })).toBe(true);
  });
});

describe('time ranges', () => {
  it('counts back from now for presets', () => {
    expect(rangeBounds({ ...DEFAULT_EXEC_FILTERS, range: '1h' }, NOW)).toEqual({ since: '2026-03-10T11:00:00.000Z' });
    expect(rangeBounds({ ...DEFAULT_EXEC_FILTERS, range: '7d' }, NOW)).toEqual({ since: '2026-03-03T12:00:00.000Z' });
    expect(rangeBounds(DEFAULT_EXEC_FILTERS, NOW)).toEqual({});
  });
  it('includes the last day of a custom range', () => {
    const b = rangeBounds({ ...DEFAULT_EXEC_FILTERS, range: 'custom', from: '2026-03-01', to: '2026-03-02' }, NOW);
    expect(Date.parse(b.until!) - Date.parse(b.since!)).toBeGreaterThanOrEqual(47 * 3600e3); // two days, whatever the zone's DST
    expect(b.since).toBe(new Date('2026-03-01T00:00:00').toISOString());
    expect(rangeBounds({ ...DEFAULT_EXEC_FILTERS, range: 'custom', to: '2026-03-02' }, NOW).since).toBeUndefined();
  });
  it('steps a day across months and years', () => {
    expect(nextDay('2026-02-28')).toBe('2026-03-01');
    expect(nextDay('2024-02-28')).toBe('2024-02-29');
    expect(nextDay('2026-12-31')).toBe('2027-01-01');
  });
  it('builds the API query', () => {
    expect(execListQuery(DEFAULT_EXEC_FILTERS, NOW)).toEqual({ limit: 50 });
    expect(execListQuery({ status: 'running', trigger: 'manual', workflow: WF, range: '24h', from: '', to: '' }, NOW, 'cur', 100))
      .toEqual({ limit: 100, status: 'running', trigger: 'manual', workflow_id: WF, since: '2026-03-09T12:00:00.000Z', cursor: 'cur' });
  });
});

describe('durations', () => {
  it('formats', () => {
    expect(formatDuration(0)).toBe('0 ms');
    expect(formatDuration(350)).toBe('350 ms');
    expect(formatDuration(2400)).toBe('2.4 s');
    expect(formatDuration(9999)).toBe('9.9 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(60_000)).toBe('1 min');
    expect(formatDuration(65_000)).toBe('1 min 5 s');
    expect(formatDuration(7_380_000)).toBe('2 h 3 min');
    expect(formatDuration(90_000_000)).toBe('1 d 1 h');
    expect(formatDuration(-1)).toBe('—');
  });
  it('measures an execution, so far while it runs', () => {
    const s = '2026-03-10T11:59:58Z';
    expect(executionDuration({ status: 'succeeded', started_at: s, finished_at: '2026-03-10T11:59:58.250Z' }, NOW)).toBe('250 ms');
    expect(executionDuration({ status: 'running', started_at: s, finished_at: null }, NOW)).toBe('2.0 s');
    expect(executionDuration({ status: 'queued', started_at: null, finished_at: null }, NOW)).toBe('—');
    expect(executionDuration({ status: 'waiting', started_at: s, finished_at: null }, NOW)).toBe('—');
  });
});

describe('actions by status', () => {
  it('allows what the API allows', () => {
    expect(['queued', 'running'].every((s) => isLive(s as never))).toBe(true);
    expect(isLive('waiting')).toBe(false);
    expect(canCancel('waiting') && canCancel('queued') && !canCancel('failed')).toBe(true);
    expect(canRetry('failed') && canRetry('canceled') && !canRetry('succeeded') && !canRetry('running')).toBe(true);
    expect(canDelete('succeeded') && !canDelete('running') && !canDelete('waiting')).toBe(true);
  });
  it('merges a refresh with the rows loaded after it', () => {
    const r = mergeRefresh([{ id: 'n' }, { id: 'a', v: 2 }], [{ id: 'a', v: 1 }, { id: 'b' }] as { id: string; v?: number }[]);
    expect(r).toEqual([{ id: 'n' }, { id: 'a', v: 2 }, { id: 'b' }]);
  });
});
