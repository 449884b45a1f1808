// The team page's pure logic: what each role may do, invitation links, key
// states and team errors in words. Unit-tested in teamLogic.test.ts.
import { ApiError, type Schemas } from '../api/client';

export type Role = Schemas['Role'];
export type Scope = Schemas['Scope'];
export const ROLES: Role[] = ['owner', 'admin', 'editor', 'viewer'];
export const SCOPES: Scope[] = ['read', 'write', 'admin'];

export const ROLE_HELP: Record<Role, string> = {
  owner: 'everything, including owners and the org itself',
  admin: 'manage members, invitations, keys and every workflow',
  editor: 'create and change their own and shared workflows',
  viewer: 'read workflows and executions shared with them',
};
export const SCOPE_HELP: Record<Scope, string> = {
  read: 'read workflows, executions and members',
  write: 'also create, change and run workflows',
  admin: 'also manage members, invitations and the audit log',
};

const RANK: Record<Role, number> = { owner: 3, admin: 2, editor: 1, viewer: 0 };
export function isAdminRole(r: Role | null | undefined): boolean { return !!r && RANK[r] >= RANK.admin; }

/** The roles `me` may give (invite with, or set): only an owner grants owner. */
export function grantableRoles(me: Role | null | undefined): Role[] {
  if (me === 'owner') return ROLES;
  if (me === 'admin') return ['admin', 'editor', 'viewer'];
  return [];
}

/** Whether `me` may change the role of, or remove, a member with `target`'s role (not oneself). */
export function canManage(me: Role | null | undefined, target: Role | undefined): boolean {
  if (!isAdminRole(me) || !target) return false;
  return target !== 'owner' || me === 'owner';
}

/** The scopes a key of someone with this role may have. */
export function allowedScopes(me: Role | null | undefined): Scope[] {
  if (!me) return [];
  if (RANK[me] >= RANK.admin) return SCOPES;
  if (me === 'editor') return ['read', 'write'];
  return ['read'];
}

/** The link to give an invitee: the answer's accept_url, else one made from the token. */
export function inviteLink(origin: string, created: { token?: string; accept_url?: string }): string {
  if (created.accept_url && created.accept_url.startsWith('/')) return origin + created.accept_url;
  return origin + '/invite#token=' + encodeURIComponent(created.token ?? '');
}

export type KeyState = 'active' | 'expired' | 'revoked';
export function keyState(k: { revoked_at?: string | null; expires_at?: string | null }, now: number): KeyState {
  if (k.revoked_at) return 'revoked';
  if (k.expires_at && Date.parse(k.expires_at) <= now) return 'expired';
  return 'active';
}

/** The key form's expiry choice as expires_in_days (undefined: never), or an error. */
export function expiryDays(choice: string, custom: string): { days?: number; error?: string } {
  if (choice === 'never') return {};
  const text = choice === 'custom' ? custom.trim() : choice;
  if (!/^\d+$/.test(text)) return { error: 'Give the number of days the key stays valid (1 to 3650).' };
  const n = Number(text);
  if (n < 1 || n > 3650) return { error: 'A key is valid from 1 to 3650 days.' };
  return { days: n };
}

/** Team errors in words; others keep the server's message. */
export function teamErrorText(e: unknown): string {
  if (!(e instanceof ApiError)) return e instanceof Error ? e.message : String(e);
  if (e.code === 'last_owner') return 'An org must keep an owner: make someone else owner first.';
  if (e.code === 'forbidden' && e.field === 'role') return 'Only an owner may give or take the owner role.';
  if (e.code === 'forbidden' && e.field === 'scopes') return 'Your role may not create a key with these scopes.';
  return e.message;
}

/** An audit entry's details as short text: "role: editor, email: a@b". */
export function auditDetails(d: Record<string, unknown> | null | undefined): string {
  if (!d) return '';
  return Object.entries(d)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}
