// The browser tests' helpers: Debian's Chromium driven by playwright-core,
// a record of the console and of every /api/ exchange, numbered steps, and
// screenshots in the scenario's output folder. A scenario is a plain ES
// module run by tests/e2e/run.py (`node SCENARIO.mjs`), against the stack
// run.py started:
//
//   import assert from 'node:assert/strict';
//   import { scenario, step, shot, env, api } from './lib.mjs';
//
//   await scenario(async ({ page, context, newContext }) => {
//     await step('open the editor', async () => {
//       await page.goto(env.url + '/');
//       assert.match(await page.title(), /Glyphic/);
//     });
//     await shot(page, 'home');
//   });
//
// Why not node:test: a scenario is one story whose steps depend on each
// other (sign up, then build, then run...), sharing one browser; the first
// failing step must stop it, and the page must be photographed at that
// moment, before any teardown. So a scenario is plain async code: steps print
// "ok N - name" / "not ok N - name" (TAP-like), and the exit status is 0
// when every step passed, 1 otherwise; ctest reads the exit status.
//
// Environment (set by run.py):
//   GLYPHIC_URL         the stack's base URL (nginx): the editor, /api/, /hooks/
//   E2E_OUT             the output folder (screenshots, console.log, api.log)
//   E2E_TESTSERVER_URL  the local scripted HTTP server (tests/integration/testserver.py);
//                       http.request may call it (http.allow_private lists 127.0.0.1)
//   E2E_CHROMIUM        the browser (default /usr/bin/chromium; never a downloaded one)
//   GLYPHIC_WEB_DIR     web/ (where playwright-core is installed)
//   E2E_HEADED=1        (by hand, with a display) watch the browser
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const env = {
  url: (process.env.GLYPHIC_URL || 'http://127.0.0.1:8080').replace(/\/$/, ''),
  out: process.env.E2E_OUT || path.join(here, 'out'),
  testServer: process.env.E2E_TESTSERVER_URL || '',
  chromium: process.env.E2E_CHROMIUM || '/usr/bin/chromium',
  webDir: process.env.GLYPHIC_WEB_DIR || path.join(here, '..', '..', 'web'),
};
fs.mkdirSync(env.out, { recursive: true });

// playwright-core is one of web/'s dev dependencies: load it from there
const require = createRequire(path.join(env.webDir, 'package.json'));
const { chromium } = require('playwright-core');

// -- the record ---------------------------------------------------------------

const consoleLines = [];
const apiExchanges = []; // {seq, method, url, requestBody, status, responseBody, pending}
const pageErrors = [];
let seq = 0;
let shots = 0;

function now() {
  return new Date().toISOString().slice(11, 23);
}

function instrument(context, label) {
  const pageLabel = new Map();
  let pages = 0;
  const onPage = (page) => {
    const name = `${label}/page${++pages}`;
    pageLabel.set(page, name);
    page.on('console', (m) => {
      const loc = m.location();
      const where = loc && loc.url ? ` (${loc.url}:${loc.lineNumber})` : '';
      consoleLines.push(`${now()} ${name} ${m.type()}: ${m.text()}${where}`);
    });
    page.on('pageerror', (e) => {
      const line = `${now()} ${name} uncaught: ${e && e.stack ? e.stack : e}`;
      consoleLines.push(line);
      pageErrors.push(line);
    });
    page.on('crash', () => {
      consoleLines.push(`${now()} ${name} page crashed`);
      pageErrors.push(`${name} page crashed`);
    });
  };
  context.pages().forEach(onPage);
  context.on('page', onPage);
  const isApi = (u) => {
    try { return new URL(u).pathname.startsWith('/api/'); } catch { return false; }
  };
  const byRequest = new Map();
  context.on('request', (req) => {
    if (!isApi(req.url())) return;
    const x = {
      seq: ++seq, at: now(), page: pageLabel.get(req.frame()?.page()) || label,
      method: req.method(), url: req.url(), requestBody: req.postData() || '', status: null,
      responseBody: '', pending: null,
    };
    byRequest.set(req, x);
    apiExchanges.push(x);
  });
  context.on('response', (res) => {
    const x = byRequest.get(res.request());
    if (!x) return;
    x.status = res.status();
    const type = res.headers()['content-type'] || '';
    if (type.startsWith('text/event-stream')) {
      x.responseBody = '(event stream: not recorded)';
      return;
    }
    // (Chromium hands the body over once the page has read it: a body the
    // page never reads stays pending, and is logged as such)
    x.pending = res.text().then((t) => { x.responseBody = t || '(empty)'; },
                                (e) => { x.responseBody = `(body unavailable: ${e.message})`; });
  });
  context.on('requestfailed', (req) => {
    const x = byRequest.get(req);
    if (x) x.status = `failed: ${req.failure()?.errorText || '?'}`;
  });
}

async function writeRecord() {
  // bodies still arriving get a moment (an open stream never ends)
  await Promise.race([
    Promise.allSettled(apiExchanges.map((x) => x.pending).filter(Boolean)),
    new Promise((r) => setTimeout(r, 2000)),
  ]);
  fs.writeFileSync(path.join(env.out, 'console.log'), consoleLines.join('\n') + (consoleLines.length ? '\n' : ''));
  const api = apiExchanges.map((x) => {
    let s = `#${x.seq} ${x.at} ${x.page} ${x.method} ${x.url} -> ${x.status ?? '(no response)'}\n`;
    if (x.requestBody) s += `  request: ${x.requestBody}\n`;
    if (x.responseBody) s += `  response: ${x.responseBody}\n`;
    else if (x.pending) s += '  response: (body not received: the page did not read it)\n';
    return s;
  });
  fs.writeFileSync(path.join(env.out, 'api.log'), api.join(''));
}

/** The /api/ exchanges seen so far: [{method, url, status, requestBody, responseBody}]. */
export function apiLog() {
  return apiExchanges.slice();
}

/** The console lines seen so far (every page of every context). */
export function consoleLog() {
  return consoleLines.slice();
}

// -- steps and screenshots ----------------------------------------------------

let stepNo = 0;
let currentStep = null;

/** Runs one named step; a failure names the step and ends the scenario. */
export async function step(name, fn) {
  const n = ++stepNo;
  currentStep = `${n} - ${name}`;
  const t0 = Date.now();
  try {
    const value = await fn();
    console.log(`ok ${n} - ${name} (${Date.now() - t0} ms)`);
    return value;
  } catch (e) {
    console.log(`not ok ${n} - ${name}`);
    if (e && typeof e === 'object') e.e2eStep = currentStep;
    throw e;
  }
}

/** Saves a screenshot of page as E2E_OUT/NAME.png; returns its path. */
export async function shot(page, name, options = {}) {
  const file = path.join(env.out, `${String(name).replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
  await page.screenshot({ path: file, ...options });
  shots++;
  return file;
}

// -- the scenario -------------------------------------------------------------

const contexts = [];

/**
 * Launches Chromium, opens a 1280x720 context and a page, and runs
 * fn({browser, context, page, newContext}). newContext() gives another
 * recorded context (another browser profile: another user). Afterwards
 * console.log and api.log are written to E2E_OUT; on failure also a
 * screenshot of every open page (failure-*.png). Uncaught errors in a
 * page fail the scenario unless options.allowPageErrors. Exits the process.
 */
export async function scenario(fn, options = {}) {
  let browser = null;
  let failed = null;
  try {
    browser = await chromium.launch({
      executablePath: env.chromium,
      headless: process.env.E2E_HEADED !== '1',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
             '--disable-dev-shm-usage'].filter((a) => a !== '--headless' || process.env.E2E_HEADED !== '1'),
    });
    const newContext = async (opts = {}) => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, ...opts });
      context.setDefaultTimeout(options.timeout ?? 15000);
      instrument(context, `context${contexts.length + 1}`);
      contexts.push(context);
      return context;
    };
    const context = await newContext();
    const page = await context.newPage();
    await fn({ browser, context, page, newContext });
    if (pageErrors.length && !options.allowPageErrors) {
      throw new Error(`uncaught errors in the page:\n${pageErrors.join('\n')}`);
    }
  } catch (e) {
    failed = e || new Error('failed');
  }
  if (failed) {
    let i = 0;
    for (const c of contexts) {
      for (const p of c.pages()) {
        try { await shot(p, `failure-${++i}`, { timeout: 5000 }); } catch { /* the page may be gone */ }
      }
    }
  }
  try { await writeRecord(); } catch (e) { console.error(`could not write the record: ${e.message}`); }
  try { if (browser) await browser.close(); } catch { /* nothing left to save */ }
  if (failed) {
    console.error(`\nFAILED${failed.e2eStep ? ` in step ${failed.e2eStep}` : ''}: ${failed.stack || failed}`);
    console.error(`console, API exchanges and screenshots: ${env.out}`);
    process.exit(1);
  }
  console.log(`1..${stepNo}\nall ${stepNo} steps passed; ${shots} screenshot(s) in ${env.out}`);
  process.exit(0);
}

// -- the API directly (set-up that is not what a scenario tests) -------------

/**
 * A session on the API outside the browser: keeps the session cookie and
 * sends the CSRF token, as the editor does. r = await s.request(method, path,
 * body) gives {status, headers, text, json}; s.me is the sign-up/log-in answer.
 */
export class ApiSession {
  constructor() {
    this.cookie = null;
    this.csrf = null;
    this.me = null;
    this.org = null;
  }

  async request(method, p, body, headers = {}) {
    const h = { ...headers };
    if (this.cookie) h.Cookie = `glyphic_session=${this.cookie}`;
    if (this.org) h['X-Glyphic-Org'] = this.org;
    if (this.csrf && method !== 'GET' && method !== 'HEAD') h['X-CSRF-Token'] = this.csrf;
    let payload;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      h['Content-Type'] ??= 'application/json';
    }
    const res = await fetch(env.url + p, { method, headers: h, body: payload, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const m = /^glyphic_session=([^;]*)/.exec(c);
      if (m) this.cookie = m[1] || null;
    }
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    if ((res.status === 200 || res.status === 201) && json && typeof json === 'object' && json.csrf_token) {
      this.csrf = json.csrf_token;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  get(p, h) { return this.request('GET', p, undefined, h); }
  post(p, body = {}, h) { return this.request('POST', p, body, h); }
  put(p, body, h) { return this.request('PUT', p, body, h); }
  patch(p, body, h) { return this.request('PATCH', p, body, h); }
  delete(p, h) { return this.request('DELETE', p, undefined, h); }

  /** Logs a browser context in as this session (its cookie), without the UI. */
  async into(context) {
    await context.addCookies([{ name: 'glyphic_session', value: this.cookie, url: env.url }]);
  }
}

/** A new unique e-mail address. */
export function email(prefix = 'user') {
  return `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}@example.com`;
}

export const api = {
  /** Signs up (fields: email, password, name, invitation...); throws unless 201. */
  async signup(fields = {}) {
    const s = new ApiSession();
    const body = { email: email(), password: 'correct horse battery', name: 'Tester', ...fields };
    const r = await s.post('/api/auth/signup', body);
    if (r.status !== 201) throw new Error(`signup ${body.email}: ${r.status} ${r.text}`);
    s.me = r.json;
    s.password = body.password;
    s.email = body.email;
    return s;
  },
  /** Logs in; throws unless 200. */
  async login(emailAddr, password = 'correct horse battery') {
    const s = new ApiSession();
    const r = await s.post('/api/auth/login', { email: emailAddr, password });
    if (r.status !== 200) throw new Error(`login ${emailAddr}: ${r.status} ${r.text}`);
    s.me = r.json;
    s.password = password;
    s.email = emailAddr;
    return s;
  },
  /** Invites a new address into admin's org with role; returns {email, token, invitation}. */
  async invite(admin, role, addr = email(role)) {
    const r = await admin.post(`/api/orgs/${admin.me.org_id}/invitations`, { email: addr, role });
    if (r.status !== 201) throw new Error(`invite ${addr}: ${r.status} ${r.text}`);
    return { email: addr, token: r.json.token, invitation: r.json };
  },
  /** A signed-up member of admin's org with role (invited, then signed up). */
  async member(admin, role) {
    const inv = await api.invite(admin, role);
    return api.signup({ email: inv.email, invitation: inv.token, name: role });
  },
};
