// The executions page's pure logic: filters ⇄ address and API query, time
// ranges, durations, which actions a status allows. Unit-tested in
// executionsLogic.test.ts.
import type { Schemas } from '../api/client';

export type ExecStatus = Schemas['ExecutionStatus'];
export type ExecTrigger = Schemas['ExecutionTrigger'];

export const STATUSES: ExecStatus[] = ['queued', 'running', 'waiting', 'succeeded', 'failed', 'canceled'];
export const TRIGGERS: ExecTrigger[] = ['manual', 'webhook', 'schedule', 'error', 'subworkflow', 'retry'];
export type Range = 'any' | '1h' | '24h' | '7d' | '30d' | 'custom';
export const RANGES: { value: Range; label: string }[] = [
  { value: 'any', label: 'Any time' },
  { value: '1h', label: 'Last hour' },
  { value: '24h', label: 'Last 24 hours' },
  { value: '7d', label: 'Last 7 days' },
  { value: '30d', label: 'Last 30 days' },
  { value: 'custom', label: 'Between dates…' },
];
const RANGE_MS: Record<string, number> = { '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3 };

export interface ExecFilters {
  status: ExecStatus | '';
  trigger: ExecTrigger | '';
  workflow: string;
  range: Range;
  /** custom range: YYYY-MM-DD, first and last day included */
  from: string;
  to: string;
}

export const DEFAULT_EXEC_FILTERS: ExecFilters = { status: '', trigger: '', workflow: '', range: 'any', from: '', to: '' };
export const EXEC_PAGE_SIZE = 50;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function execFiltersFromQuery(q: URLSearchParams): ExecFilters {
  const status = q.get('status') ?? '';
  const trigger = q.get('trigger') ?? '';
  const range = q.get('range') ?? '';
  const workflow = q.get('workflow_id') ?? '';
  const from = q.get('from') ?? '';
  const to = q.get('to') ?? '';
  return {
    status: (STATUSES as string[]).includes(status) ? (status as ExecStatus) : '',
    trigger: (TRIGGERS as string[]).includes(trigger) ? (trigger as ExecTrigger) : '',
    workflow: UUID.test(workflow) ? workflow : '',
    range: RANGES.some((r) => r.value === range) ? (range as Range) : 'any',
    from: DATE.test(from) ? from : '',
    to: DATE.test(to) ? to : '',
  };
}

export function execFiltersToQuery(f: ExecFilters): Record<string, string | null> {
  return {
    status: f.status || null,
    trigger: f.trigger || null,
    workflow_id: f.workflow || null,
    range: f.range === 'any' ? null : f.range,
    from: f.range === 'custom' && f.from ? f.from : null,
    to: f.range === 'custom' && f.to ? f.to : null,
  };
}

/** "2026-03-01" → "2026-03-02" (the API's until is exclusive). */
export function nextDay(date: string): string {
  const d = new Date(date + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/**
 * The since/until of a range. Custom dates are whole days in the browser's
 * zone, sent as instants so the server and the user agree on "a day".
 */
export function rangeBounds(f: ExecFilters, now: number): { since?: string; until?: string } {
  if (f.range === 'custom') {
    const out: { since?: string; until?: string } = {};
    if (f.from) out.since = new Date(f.from + 'T00:00:00').toISOString();
    if (f.to) out.until = new Date(nextDay(f.to) + 'T00:00:00').toISOString();
    return out;
  }
  const ms = RANGE_MS[f.range];
  return ms ? { since: new Date(now - ms).toISOString() } : {};
}

export interface ExecListQuery {
  workflow_id?: string; status?: ExecStatus; trigger?: ExecTrigger;
  since?: string; until?: string; limit?: number; cursor?: string;
}

export function execListQuery(f: ExecFilters, now: number, cursor?: string | null, limit = EXEC_PAGE_SIZE): ExecListQuery {
  const out: ExecListQuery = { limit, ...rangeBounds(f, now) };
  if (f.workflow) out.workflow_id = f.workflow;
  if (f.status) out.status = f.status;
  if (f.trigger) out.trigger = f.trigger;
  if (cursor) out.cursor = cursor;
  return out;
}

export function isExecFiltered(f: ExecFilters): boolean {
  return !!(f.status || f.trigger || f.workflow || f.range !== 'any');
}

/** 350 → "350 ms", 2400 → "2.4 s", 65000 → "1 min 5 s", 7380000 → "2 h 3 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 10_000) return (Math.floor(ms / 100) / 10).toFixed(1) + ' s';
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + ' s';
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const m = Math.floor(s / 60);
  if (m < 24 * 60) return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
  return `${Math.floor(m / 1440)} d ${Math.floor((m % 1440) / 60)} h`;
}

/** An execution's run time: finished − started, or so far while it runs. */
export function executionDuration(x: { started_at?: string | null; finished_at?: string | null; status: ExecStatus }, now: number): string {
  if (!x.started_at) return '—';
  const start = Date.parse(x.started_at);
  const end = x.finished_at ? Date.parse(x.finished_at) : x.status === 'running' ? now : NaN;
  return Number.isNaN(end) ? '—' : formatDuration(end - start);
}

/** Still moving: worth polling for. A waiting one may sleep for days, so not that. */
export function isLive(s: ExecStatus): boolean { return s === 'queued' || s === 'running'; }
export function canCancel(s: ExecStatus): boolean { return s === 'queued' || s === 'running' || s === 'waiting'; }
export function canRetry(s: ExecStatus): boolean { return s === 'failed' || s === 'canceled'; }
export function canDelete(s: ExecStatus): boolean { return s === 'succeeded' || s === 'failed' || s === 'canceled'; }

/** Rows of a fresh first page merged with the rows loaded after it (kept in order, no repeats). */
export function mergeRefresh<T extends { id: string }>(fresh: T[], loaded: T[]): T[] {
  const seen = new Set(fresh.map((x) => x.id));
  return [...fresh, ...loaded.filter((x) => !seen.has(x.id))];
}

export const STATUS_LABEL: Record<ExecStatus, string> = {
  queued: 'Queued', running: 'Running', waiting: 'Waiting', succeeded: 'Succeeded', failed: 'Failed', canceled: 'Canceled',
};
export const TRIGGER_LABEL: Record<ExecTrigger, string> = {
  manual: 'Manual', webhook: 'Webhook', schedule: 'Schedule', error: 'Error workflow', subworkflow: 'Subworkflow', retry: 'Retry',
};
