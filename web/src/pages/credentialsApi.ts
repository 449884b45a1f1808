// Loading the org's credentials (the Credentials page and the node panel's picker).
import { api, call } from '../api/client';
import type { Credential } from './credentialsLogic';

/** Every credential of the org (pages of 500 followed). */
export async function loadAllCredentials(): Promise<Credential[]> {
  const out: Credential[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 20; i++) {
    const page = await call(api.GET('/api/credentials', { params: { query: { limit: 500, cursor } } }));
    out.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return out;
}

let cached: { at: number; org: string; p: Promise<Credential[]> } | null = null;
/** The org's credentials for pickers: fetched again after 10 s or when asked to. */
export function credentialsForPicker(org: string, fresh = false): Promise<Credential[]> {
  if (fresh || !cached || cached.org !== org || Date.now() - cached.at > 10000) {
    const p = loadAllCredentials();
    cached = { at: Date.now(), org, p };
    p.catch(() => { if (cached?.p === p) cached = null; });
  }
  return cached.p;
}
