// The runner end to end: the editor loads from nginx, and the API answers
// on the same origin (what the editor's fetches rely on).
import assert from 'node:assert/strict';
import { scenario, step, shot, env, apiLog } from './lib.mjs';

await scenario(async ({ page }) => {
  await step('load / and see the title', async () => {
    const res = await page.goto(env.url + '/');
    assert.equal(res.status(), 200);
    assert.match(await page.title(), /Glyphic/);
  });

  await step('/api/health answers through the same origin', async () => {
    const answer = await page.evaluate(async () => {
      const r = await fetch('/api/health');
      return { status: r.status, body: await r.json() };
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.status, 'ok');
    // and the page's API traffic is recorded
    assert.ok(apiLog().some((x) => x.url.endsWith('/api/health') && x.status === 200), 'recorded');
  });

  await shot(page, 'smoke');
});
