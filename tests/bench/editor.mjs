// Driven by tests/bench/editor: measures the editor in headless Chromium
// and prints one JSON line.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';

const require = createRequire(path.join(process.env.WEB_DIR, 'package.json'));
const { chromium } = require('playwright-core');

const base = process.env.GLYPHIC_URL;
const runs = Number(process.env.BENCH_RUNS || 5);
const nodes = Number(process.env.BENCH_NODES || 200);
const dist = path.join(process.env.WEB_DIR, 'dist');

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});

async function signedInContext() {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const r = await ctx.request.post(base + '/api/auth/login', {
    data: { email: process.env.BENCH_EMAIL, password: process.env.BENCH_PASSWORD },
  });
  if (!r.ok()) throw new Error('login: ' + r.status());
  return ctx;
}

const result = { browser: browser.version(), first_load_ms: [], open_big_ms: [], drag_fps: [] };

// First load of the list, cold cache (a new context each run).
const assets = new Set();
for (let i = 0; i < runs; i++) {
  const ctx = await signedInContext();
  const page = await ctx.newPage();
  // the moment the first row is in the document, seen from inside the page
  // (a check on every animation frame), not when the test's poll notices it
  await page.addInitScript(() => {
    const look = () => {
      if (document.body && document.body.textContent.includes('Bench workflow 1')) { window.__shown = performance.now(); return; }
      requestAnimationFrame(look);
    };
    requestAnimationFrame(look);
    window.__muts = [];
    new MutationObserver(() => { window.__muts.push([performance.now(), (document.body?.textContent || '').slice(0, 60)]); })
      .observe(document, { subtree: true, childList: true, characterData: true });
  });
  page.on('response', (resp) => {
    const u = new URL(resp.url());
    if (i === 0 && /\.(js|css)$/.test(u.pathname)) assets.add(u.pathname);
  });
  await page.goto(base + '/workflows');
  await page.getByText('Bench workflow 1', { exact: true }).first().waitFor({ timeout: 20000 });
  await page.waitForFunction(() => window.__shown !== undefined);
  result.first_load_ms.push(await page.evaluate(() => window.__shown));
  if (process.env.BENCH_TRACE && i === runs - 1) {
    const t = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const rows = [['document', 0, nav.responseEnd, nav.domContentLoadedEventEnd]];
      for (const r of performance.getEntriesByType('resource')) rows.push([new URL(r.name).pathname + new URL(r.name).search, r.startTime, r.responseEnd, r.duration]);
      return rows;
    });
    const muts = await page.evaluate(() => window.__muts);
    for (const [at, text] of muts) process.stderr.write(`trace mutation ${at.toFixed(0).padStart(5)} ${JSON.stringify(text)}\n`);
    for (const [n, a, b, c] of t) process.stderr.write(`trace ${n.padEnd(60)} start ${a.toFixed(0).padStart(5)} end ${b.toFixed(0).padStart(5)} (${c.toFixed(0)})\n`);
  }
  await ctx.close();
}
result.bundle_files = [...assets].sort().map((p) => {
  const buf = readFileSync(path.join(dist, p));
  return { file: p, raw: buf.length, gzip: gzipSync(buf, { level: 9 }).length };
});
result.bundle_gzip = result.bundle_files.reduce((a, f) => a + f.gzip, 0);

// Opening the big workflow until every node is drawn, then dragging one.
for (let i = 0; i < runs; i++) {
  const ctx = await signedInContext();
  const page = await ctx.newPage();
  await page.goto(base + '/workflows');
  await page.getByText('Bench workflow 1', { exact: true }).first().waitFor({ timeout: 20000 });
  const t0 = await page.evaluate(() => performance.now());
  await page.evaluate((url) => { history.pushState(null, '', url); dispatchEvent(new PopStateEvent('popstate')); }, '/workflows/' + process.env.BENCH_BIG);
  await page.waitForFunction((n) => document.querySelectorAll('.react-flow__node').length >= n, Math.min(nodes, 1), { timeout: 30000 });
  // every node drawn: React Flow renders only what is visible when
  // onlyRenderVisibleElements is on; otherwise all of them.
  await page.waitForFunction(() => {
    const all = document.querySelectorAll('.react-flow__node');
    return all.length > 0 && [...all].every((n) => n.getBoundingClientRect().width > 0);
  }, null, { timeout: 30000 });
  result.open_big_ms.push((await page.evaluate(() => performance.now())) - t0);

  const node = page.locator('.react-flow__node').nth(1);
  const box = await node.boundingBox();
  if (box) {
    const x = box.x + box.width / 2, y = box.y + box.height / 2;
    await page.mouse.move(x, y);
    await page.mouse.down();
    await page.evaluate(() => {
      window.__frames = 0; window.__t0 = performance.now();
      const tick = () => { window.__frames++; if (!window.__stop) requestAnimationFrame(tick); };
      window.__stop = false; requestAnimationFrame(tick);
    });
    const steps = 120;
    for (let s = 1; s <= steps; s++) {
      await page.mouse.move(x + Math.sin(s / 10) * 200, y + s, { steps: 1 });
      await page.waitForTimeout(16);
    }
    const fps = await page.evaluate(() => { window.__stop = true; return window.__frames / ((performance.now() - window.__t0) / 1000); });
    await page.mouse.up();
    result.drag_fps.push(fps);
  }
  await ctx.close();
}

await browser.close();
console.log(JSON.stringify(result));
