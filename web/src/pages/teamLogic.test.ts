import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/client';
import { allowedScopes, auditDetails, canManage, expiryDays, grantableRoles, inviteLink, keyState, teamErrorText } from './teamLogic';

describe('roles', () => {
  it('lets only owners grant owner', () => {
    expect(grantableRoles('owner')).toEqual(['owner', 'admin', 'editor', 'viewer']);
    expect(grantableRoles('admin')).toEqual(['admin', 'editor', 'viewer']);
    expect(grantableRoles('editor')).toEqual([]);
    expect(grantableRoles(null)).toEqual([]);
  });
  it('lets admins manage non-owners, owners everyone', () => {
    expect(canManage('admin', 'editor')).toBe(true);
    expect(canManage('admin', 'owner')).toBe(false);
    expect(canManage('owner', 'owner')).toBe(true);
    expect(canManage('editor', 'viewer')).toBe(false);
  });
  it('caps key scopes by role', () => {
    expect(allowedScopes('viewer')).toEqual(['read']);
    expect(allowedScopes('editor')).toEqual(['read', 'write']);
    expect(allowedScopes('admin')).toEqual(['read', 'write', 'admin']);
  });
});

describe('invitation links', () => {
  it('prefers the accept_url the API gives', () => {
    expect(inviteLink('https://g.example', { token: 't', accept_url: '/invite#token=t' })).toBe('https://g.example/invite#token=t');
  });
  it('builds one from the token otherwise', () => {
    expect(inviteLink('http://127.0.0.1:8080', { token: 'a+b/c' })).toBe('http://127.0.0.1:8080/invite#token=a%2Bb%2Fc');
    expect(inviteLink('http://x', { token: 't', accept_url: 'https://evil.example/' })).toBe('http://x/invite#token=t');
  });
});

describe('keys', () => {
  const now = Date.parse('2026-03-10T00:00:00Z');
  it('tells active, expired and revoked apart', () => {
    expect(keyState({ revoked_at: null, expires_at: null }, now)).toBe('active');
    expect(keyState({ expires_at: '2026-03-09T00:00:00Z' }, now)).toBe('expired');
    expect(keyState({ expires_at: '2026-03-11T00:00:00Z' }, now)).toBe('active');
    expect(keyState({ revoked_at: '2026-03-01T00:00:00Z', expires_at: '2026-03-09T00:00:00Z' }, now)).toBe('revoked');
  });
  it('reads the expiry choice', () => {
    expect(expiryDays('never', '')).toEqual({});
    expect(expiryDays('90', '')).toEqual({ days: 90 });
    expect(expiryDays('custom', ' 12 ')).toEqual({ days: 12 });
    expect(expiryDays('custom', '0').error).toMatch(/1 to 3650/);
    expect(expiryDays('custom', '3651').error).toMatch(/1 to 3650/);
    expect(expiryDays('custom', '1.5').error).toMatch(/number of days/);
    expect(expiryDays('custom', '').error).toMatch(/number of days/);
  });
});

describe('errors and details in words', () => {
  it('explains the last owner', () => {
    const e = new ApiError(409, { error: { code: 'last_owner', message: 'an org needs at least one owner', request_id: 'r' } });
    expect(teamErrorText(e)).toBe('An org must keep an owner: make someone else owner first.');
  });
  it('keeps other messages', () => {
    expect(teamErrorText(new ApiError(400, { error: { code: 'invalid', message: 'email is not valid', field: 'email' } }))).toBe('email is not valid');
    expect(teamErrorText(new ApiError(403, { error: { code: 'forbidden', message: 'x', field: 'role' } }))).toMatch(/Only an owner/);
  });
  it('prints audit details', () => {
    expect(auditDetails({ role: 'editor', n: 2, o: { a: 1 } })).toBe('role: editor, n: 2, o: {"a":1}');
    expect(auditDetails(null)).toBe('');
  });
});
