// The credentials page's pure logic: which inputs a type's form has, the
// bodies of POST and PATCH built from the form's state (a secret left
// untouched is left out, a cleared one is null), errors put in words, the
// OAuth2 result notice, the credential test's request and answer, and the
// node panel's credential choice.
import { ApiError, type Schemas } from '../api/client';

export type CredentialType = Schemas['CredentialType'];
export type Credential = Schemas['Credential'];
export type CredentialField = Schemas['CredentialField'];
export type CredentialTestResult = Schemas['CredentialTestResult'];

/** One input of the form: a plain field or a secret one. */
export interface FormField {
  name: string;
  label: string;
  secret: boolean;
  required: boolean;
  help?: string | null;
  /** a generic credential's field the user added (its name is editable) */
  custom?: boolean;
}

/** A secret field's state: kept (left out of a PATCH), replaced, cleared (null). */
export type SecretMode = 'keep' | 'replace' | 'clear';

export interface FormState {
  name: string;
  /** plain fields' values, by field name */
  fields: Record<string, string>;
  /** secret fields' new values (only sent in mode replace, or on create) */
  secrets: Record<string, string>;
  /** per secret field (edit only): keep (the default), replace or clear */
  modes: Record<string, SecretMode>;
  /** a generic credential's added fields */
  custom: { name: string; value: string; secret: boolean }[];
}

export function emptyForm(): FormState {
  return { name: '', fields: {}, secrets: {}, modes: {}, custom: [] };
}

/** The form of an existing credential: its plain fields, its secrets kept. */
export function formOf(c: Credential): FormState {
  return { name: c.name, fields: { ...(c.fields ?? {}) }, secrets: {}, modes: {}, custom: [] };
}

/**
 * The inputs of a type's form. System-written fields (OAuth2 tokens) are not
 * shown. A generic type has no fixed fields: an existing credential's own
 * fields and secrets are its inputs (and the user adds more as `custom`).
 */
export function formFields(t: CredentialType | undefined, existing?: Credential | null): FormField[] {
  if (!t) return [];
  const out: FormField[] = t.fields.filter((f) => !f.system).map((f) => ({ name: f.name, label: f.label, secret: f.secret, required: f.required, help: f.help }));
  if (t.any_fields && existing) {
    const known = new Set(out.map((f) => f.name));
    for (const k of Object.keys(existing.fields ?? {}).sort()) if (!known.has(k)) { out.push({ name: k, label: k, secret: false, required: false }); known.add(k); }
    for (const k of [...(existing.secrets_set ?? [])].sort()) if (!known.has(k)) { out.push({ name: k, label: k, secret: true, required: false }); known.add(k); }
  }
  return out;
}

function customParts(s: FormState) {
  const fields: Record<string, string> = {}, secrets: Record<string, string> = {};
  for (const c of s.custom) {
    const n = c.name.trim();
    if (!n) continue;
    if (c.value === '') continue;
    if (c.secret) secrets[n] = c.value; else fields[n] = c.value;
  }
  return { fields, secrets };
}

function plainFields(defs: FormField[], s: FormState): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of defs) {
    if (f.secret) continue;
    const v = s.fields[f.name] ?? '';
    if (v !== '') out[f.name] = v;
  }
  return out;
}

/** POST /api/credentials: every non-empty field and secret. */
export function createBody(type: string, defs: FormField[], s: FormState): Schemas['CredentialCreate'] {
  const c = customParts(s);
  const fields = { ...plainFields(defs, s), ...c.fields };
  const secrets: Record<string, string> = {};
  for (const f of defs) if (f.secret && (s.secrets[f.name] ?? '') !== '') secrets[f.name] = s.secrets[f.name];
  Object.assign(secrets, c.secrets);
  const body: Schemas['CredentialCreate'] = { name: s.name.trim(), type };
  if (Object.keys(fields).length) body.fields = fields;
  if (Object.keys(secrets).length) body.secrets = secrets;
  return body;
}

function sameFields(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => b[k] === a[k]);
}

/**
 * PATCH /api/credentials/{id}: the name when it changed, `fields` (they
 * replace the stored ones) when any changed, and in `secrets` only those
 * replaced (the new value) or cleared (null); an untouched secret is left
 * out, so the server keeps it. A replaced secret with an empty value is
 * left out too (nothing was typed). Null when nothing changed.
 */
export function patchBody(original: Credential, defs: FormField[], s: FormState): Schemas['CredentialPatch'] | null {
  const body: Schemas['CredentialPatch'] = {};
  const name = s.name.trim();
  if (name !== original.name) body.name = name;
  const c = customParts(s);
  const fields = { ...plainFields(defs, s), ...c.fields };
  if (!sameFields(fields, original.fields ?? {})) body.fields = fields;
  const secrets: Record<string, string | null> = {};
  for (const f of defs) {
    if (!f.secret) continue;
    const mode = s.modes[f.name] ?? 'keep';
    if (mode === 'clear') secrets[f.name] = null;
    else if (mode === 'replace' && (s.secrets[f.name] ?? '') !== '') secrets[f.name] = s.secrets[f.name];
  }
  Object.assign(secrets, c.secrets);
  if (Object.keys(secrets).length) body.secrets = secrets;
  return Object.keys(body).length ? body : null;
}

/** The input an API error names: "name", "fields.x", "secrets.x". */
export function errorFor(e: unknown, input: string): string | undefined {
  return e instanceof ApiError && e.field === input ? e.message : undefined;
}

/** Whether an error is shown at one of the form's inputs (else above it). */
export function errorPlaced(e: unknown, defs: FormField[]): boolean {
  if (!(e instanceof ApiError) || !e.field) return false;
  return e.field === 'name' || defs.some((f) => e.field === (f.secret ? 'secrets.' : 'fields.') + f.name);
}

export interface UsingWorkflow { id?: string; name?: string | null }

/** The workflows a 409 credential_in_use lists (empty for other errors). */
export function workflowsInUse(e: unknown): UsingWorkflow[] | null {
  if (!(e instanceof ApiError) || e.code !== 'credential_in_use') return null;
  const w = e.details.workflows;
  return Array.isArray(w) ? (w as UsingWorkflow[]) : [];
}

/** Errors of the credentials API in the page's words. */
export function credentialErrorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.code === 'limit_reached') return 'This organization stores as many credentials as its limit allows: delete one first, or ask the operator to raise the limit.';
    if (e.code === 'name_taken') return 'Another credential of this organization has this name.';
    if (e.code === 'key_unavailable') return 'Its secrets were sealed under a key this server no longer has: give every secret again.';
    if (e.code === 'forbidden') return 'Only editors, admins and owners change credentials.';
    if (e.code === 'busy') return 'Another test is running in this organization (or the token is being renewed right now): try again in a few seconds.';
    return e.message;
  }
  return e instanceof Error ? e.message : String(e);
}

const OAUTH2_REASONS: Record<string, string> = {
  access_denied: 'the authorization was declined at the provider',
  provider_error: 'the provider answered an error',
  token_refused: 'the provider’s token endpoint refused the code',
  unreachable: 'the token endpoint could not be reached (or its address is not allowed)',
  timeout: 'the token endpoint did not answer in time',
  bad_token_response: 'the token endpoint’s answer was not understood',
  bad_token_url: 'the token URL is not usable',
  invalid_credential: 'the credential’s token URL, client id or token auth is missing or wrong',
  credential_changed: 'the credential was deleted or changed meanwhile',
  forbidden: 'you are no longer an editor of this organization',
  key_missing: 'the server lacks the key that sealed the client secret',
  state_unreadable: 'the server lacks the key that sealed the authorization state',
};

/** The notice for /credentials/ID?oauth2=connected|error&reason=R[&error=E]. */
export function oauth2Notice(q: URLSearchParams): { kind: 'ok' | 'error'; text: string } | null {
  const r = q.get('oauth2');
  if (r === 'connected') return { kind: 'ok', text: 'Account connected: the access token is stored.' };
  if (r !== 'error') return null;
  const reason = q.get('reason') ?? '';
  const code = q.get('error');
  const why = OAUTH2_REASONS[reason] ?? (reason ? `reason ${reason}` : 'no reason given');
  return { kind: 'error', text: `Connecting the account failed: ${why}${code ? ` (${code})` : ''}. Nothing was stored.` };
}

/**
 * The node panel's credential choice: the org's credentials by name, and
 * the current value when it names none of them (kept, with a warning).
 */
export function credentialChoice(names: string[], value: string): { options: string[]; missing: boolean } {
  const options = [...new Set(names)].sort((a, b) => a.localeCompare(b));
  const missing = value !== '' && !value.includes('{{') && !options.includes(value);
  return { options, missing };
}

/** How a credential of this type is tested: against a URL the user gives
 * (the HTTP types), by itself (OAuth2: its token endpoint), or not at all. */
export type TestKind = 'url' | 'self' | null;

export function testKind(type: string): TestKind {
  if (type === 'http.header' || type === 'http.bearer' || type === 'http.basic' || type === 'http.query') return 'url';
  if (type === 'oauth2.code' || type === 'oauth2.client') return 'self';
  return null;
}

export type TestMethod = 'GET' | 'HEAD' | 'POST';

/**
 * The body of POST /api/credentials/{id}/test: {url, method} for the HTTP
 * types (an error in words when the URL is not absolute http or https),
 * none for OAuth2.
 */
export function testBody(kind: TestKind, url: string, method: TestMethod): { body?: { url: string; method: TestMethod } } | { error: string } {
  if (kind !== 'url') return {};
  const u = url.trim();
  if (!/^https?:\/\/[^\s/?#]+/i.test(u)) return { error: 'Give an absolute http:// or https:// URL that accepts this credential, e.g. https://api.example.com/v1/me.' };
  return { body: { url: u, method } };
}

/** The test's answer in words. */
export function testResultText(r: CredentialTestResult): { kind: 'ok' | 'error'; text: string } {
  return { kind: r.ok ? 'ok' : 'error', text: `${r.ok ? 'It works' : 'It did not work'}: ${r.message}` };
}
