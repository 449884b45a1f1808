import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/client';
import {
  createBody, credentialChoice, credentialErrorText, emptyForm, errorFor, errorPlaced, formFields, formOf, oauth2Notice, patchBody,
  testBody, testKind, testResultText, workflowsInUse,
  type Credential, type CredentialType,
} from './credentialsLogic';

const basic: CredentialType = {
  type: 'http.basic', display_name: 'HTTP Basic', description: '', any_fields: false, oauth2: false,
  fields: [
    { name: 'username', label: 'User name', secret: false, required: true, system: false },
    { name: 'password', label: 'Password', secret: true, required: false, system: false, help: 'optional' },
  ],
};
const oauth: CredentialType = {
  type: 'oauth2.code', display_name: 'OAuth2', description: '', any_fields: false, oauth2: true,
  fields: [
    { name: 'client_id', label: 'Client id', secret: false, required: true, system: false },
    { name: 'client_secret', label: 'Client secret', secret: true, required: true, system: false },
    { name: 'access_token', label: 'Access token', secret: true, required: false, system: true },
  ],
};
const generic: CredentialType = { type: 'generic', display_name: 'Generic', description: '', any_fields: true, oauth2: false, fields: [] };
const stored: Credential = { id: 'c1', name: 'crm', type: 'http.basic', fields: { username: 'ada' }, secrets_set: ['password'] };

describe('form fields', () => {
  it('leaves out system-written fields', () => {
    expect(formFields(oauth).map((f) => f.name)).toEqual(['client_id', 'client_secret']);
  });
  it('shows a generic credential its own fields and secrets', () => {
    const c: Credential = { id: 'g', name: 'g', type: 'generic', fields: { region: 'eu' }, secrets_set: ['key'] };
    expect(formFields(generic, c)).toEqual([
      { name: 'region', label: 'region', secret: false, required: false },
      { name: 'key', label: 'key', secret: true, required: false },
    ]);
  });
});

describe('create body', () => {
  it('sends non-empty fields and secrets', () => {
    const s = { ...emptyForm(), name: ' crm ', fields: { username: 'ada' }, secrets: { password: '' } };
    expect(createBody('http.basic', formFields(basic), s)).toEqual({ name: 'crm', type: 'http.basic', fields: { username: 'ada' } });
    s.secrets.password = 'pw';
    expect(createBody('http.basic', formFields(basic), s).secrets).toEqual({ password: 'pw' });
  });
  it('adds a generic credential\'s own fields', () => {
    const s = { ...emptyForm(), name: 'g', custom: [{ name: 'region', value: 'eu', secret: false }, { name: 'key', value: 'k', secret: true }, { name: ' ', value: 'x', secret: false }] };
    expect(createBody('generic', [], s)).toEqual({ name: 'g', type: 'generic', fields: { region: 'eu' }, secrets: { key: 'k' } });
  });
});

describe('patch body', () => {
  const defs = formFields(basic);
  it('is null when nothing changed (untouched secrets kept)', () => {
    expect(patchBody(stored, defs, formOf(stored))).toBeNull();
  });
  it('leaves untouched secrets out', () => {
    const s = formOf(stored);
    s.fields.username = 'grace';
    expect(patchBody(stored, defs, s)).toEqual({ fields: { username: 'grace' } });
  });
  it('sends a replaced secret and null for a cleared one', () => {
    const s = formOf(stored);
    s.modes.password = 'replace';
    expect(patchBody(stored, defs, s)).toBeNull(); // nothing typed yet
    s.secrets.password = 'new';
    expect(patchBody(stored, defs, s)).toEqual({ secrets: { password: 'new' } });
    s.modes.password = 'clear';
    expect(patchBody(stored, defs, s)).toEqual({ secrets: { password: null } });
  });
  it('sends the name only when it changed, and all fields when one was emptied', () => {
    const s = formOf(stored);
    s.name = 'crm2';
    s.fields.username = '';
    expect(patchBody(stored, defs, s)).toEqual({ name: 'crm2', fields: {} });
  });
});

describe('errors', () => {
  const e = new ApiError(400, { error: { code: 'invalid', message: 'too long', field: 'secrets.password' } });
  it('names the input', () => {
    expect(errorFor(e, 'secrets.password')).toBe('too long');
    expect(errorFor(e, 'fields.username')).toBeUndefined();
    expect(errorPlaced(e, formFields(basic))).toBe(true);
    expect(errorPlaced(new ApiError(400, { error: { code: 'invalid', message: 'x', field: 'secrets.other' } }), formFields(basic))).toBe(false);
  });
  it('lists the workflows of credential_in_use', () => {
    const x = new ApiError(409, { error: { code: 'credential_in_use', message: 'in use', workflows: [{ id: 'w', name: 'Sync' }, { id: 'v', name: null }] } });
    expect(workflowsInUse(x)).toEqual([{ id: 'w', name: 'Sync' }, { id: 'v', name: null }]);
    expect(workflowsInUse(e)).toBeNull();
  });
});

describe('oauth2 notice', () => {
  it('says connected or why not', () => {
    expect(oauth2Notice(new URLSearchParams('oauth2=connected'))?.kind).toBe('ok');
    const n = oauth2Notice(new URLSearchParams('oauth2=error&reason=token_refused&error=invalid_grant'));
    expect(n?.kind).toBe('error');
    expect(n?.text).toContain('refused');
    expect(n?.text).toContain('invalid_grant');
    expect(oauth2Notice(new URLSearchParams('oauth2=error&reason=new_thing'))?.text).toContain('new_thing');
    expect(oauth2Notice(new URLSearchParams(''))).toBeNull();
  });
});

describe('credential choice', () => {
  it('sorts names and flags a name the org lacks', () => {
    expect(credentialChoice(['b', 'a', 'b'], 'a')).toEqual({ options: ['a', 'b'], missing: false });
    expect(credentialChoice(['a'], 'zz').missing).toBe(true);
    expect(credentialChoice(['a'], '').missing).toBe(false);
    expect(credentialChoice(['a'], '{{ $json.c }}').missing).toBe(false);
  });
});

describe('the credential test', () => {
  it('asks the HTTP types for a URL, OAuth2 for nothing, and tests no other type', () => {
    expect(['http.header', 'http.bearer', 'http.basic', 'http.query'].map(testKind)).toEqual(['url', 'url', 'url', 'url']);
    expect(testKind('oauth2.code')).toBe('self');
    expect(testKind('oauth2.client')).toBe('self');
    expect(testKind('webhook.hmac')).toBeNull();
    expect(testKind('generic')).toBeNull();
  });
  it('sends the URL and method for the HTTP types, nothing for OAuth2', () => {
    expect(testBody('url', '  https://api.example.com/me?x=1 ', 'HEAD')).toEqual({ body: { url: 'https://api.example.com/me?x=1', method: 'HEAD' } });
    expect(testBody('self', '', 'GET')).toEqual({});
    for (const bad of ['', 'api.example.com', 'ftp://x/y', 'https://', '/relative']) expect(testBody('url', bad, 'GET')).toHaveProperty('error');
  });
  it('puts the answer in words', () => {
    expect(testResultText({ ok: true, status: 200, message: 'HTTP 200 from GET https://a/me' })).toEqual({ kind: 'ok', text: 'It works: HTTP 200 from GET https://a/me' });
    expect(testResultText({ ok: false, status: null, message: 'could not connect' }).kind).toBe('error');
  });
  it('explains a busy answer', () => {
    expect(credentialErrorText(new ApiError(429, { error: { code: 'busy', message: 'x' } }))).toMatch(/try again/);
  });
});
