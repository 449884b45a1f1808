// The README's "Add" workflow built by mouse: three nodes dragged from the
// palette, their parameters set in the node panel, connected by dragging
// handle to handle; saved, activated, called through its webhook
// ({"total":5}); the execution on the executions page and on the canvas
// with every node succeeded (the README's two screenshots: canvas-run.png
// and executions.png); then the live preview of the sum expression against
// that run's data.
//
// E2E_README_SHOTS=1 also copies canvas-run.png and executions.png to
// web/docs/, where the README shows them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { scenario, step, shot, env, api } from './lib.mjs';
import { node, dragFromPalette, connect, select, waitForStatus, statuses, dismissToasts } from './_canvas.mjs';

/** shot() for the README's pictures: also copied to web/docs/ when E2E_README_SHOTS=1. */
async function readmeShot(page, name) {
  const file = await shot(page, name);
  if (process.env.E2E_README_SHOTS === '1') {
    fs.mkdirSync(path.join(env.webDir, 'docs'), { recursive: true });
    fs.copyFileSync(file, path.join(env.webDir, 'docs', `${name}.png`));
  }
}

const SUM = '{{ $json.body.a + $json.body.b }}';
const REPLY = '{{ { total: $json.total } }}';

await scenario(async ({ page, context }) => {
  const owner = await api.signup({ name: 'Builder' });
  await owner.into(context);
  let wfId;

  await step('create the workflow "Add" from the workflow list', async () => {
    await page.goto(env.url + '/workflows');
    await page.getByRole('button', { name: 'New workflow' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'New workflow' });
    await dialog.getByLabel('Name').fill('Add');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(/\/workflows\/[0-9a-f-]{36}$/);
    wfId = new URL(page.url()).pathname.split('/').pop();
    await page.getByRole('button', { name: 'Save', exact: true }).waitFor();
  });

  await step('remove the starter manual trigger', async () => {
    const starters = await page.locator('.react-flow__node [data-testid^="node-"]').count();
    if (starters > 0) {
      const panel = await select(page, 'manual');
      await panel.getByRole('button', { name: 'Delete node' }).click();
      await node(page, 'manual').waitFor({ state: 'detached' });
    }
    assert.equal(await page.locator('.react-flow__node').count(), 0);
  });

  await step('drag a Webhook from the palette: path add, mode sync', async () => {
    await dragFromPalette(page, 'Webhook', 140, 200);
    await node(page, 'webhook').waitFor();
    const panel = page.getByRole('complementary', { name: 'Node Webhook' });
    await panel.getByLabel('path', { exact: true }).fill('add');
    await panel.getByLabel('mode', { exact: true }).selectOption('sync');
    await panel.getByRole('button', { name: 'Close node panel' }).click();
    await panel.waitFor({ state: 'detached' });
  });

  await step('drag "Set fields": total = the sum expression', async () => {
    await dragFromPalette(page, 'Set fields', 420, 200);
    await node(page, 'set').waitFor();
    const panel = page.getByRole('complementary', { name: 'Node Set fields' });
    const fields = panel.getByRole('textbox', { name: 'fields', exact: true });
    await fields.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(`{"total": "${SUM}"}`);
    await panel.getByRole('button', { name: 'Close node panel' }).click();
    await panel.waitFor({ state: 'detached' });
  });

  await step('drag "Respond to webhook": body in expression mode', async () => {
    await dragFromPalette(page, 'Respond to webhook', 700, 200);
    await node(page, 'respond').waitFor();
    const panel = page.getByRole('complementary', { name: 'Node Respond to webhook' });
    await panel.getByRole('group', { name: 'body mode' }).getByRole('button', { name: 'Expression' }).click();
    const body = panel.getByRole('textbox', { name: 'body expression' });
    await body.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(REPLY);
    await panel.getByRole('button', { name: 'Close node panel' }).click();
    await panel.waitFor({ state: 'detached' });
  });

  await step('connect the nodes by dragging handle to handle', async () => {
    await connect(page, 'webhook', 'set');
    await connect(page, 'set', 'respond');
    assert.equal(await page.locator('.react-flow__edge').count(), 2);
  });
  await shot(page, 'built');

  await step('save: version 2 holds what was built', async () => {
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText(/Saved version 2/).waitFor();
    const r = await owner.get(`/api/workflows/${wfId}`);
    assert.equal(r.status, 200);
    assert.equal(r.json.version, 2);
    const d = r.json.definition;
    const byId = Object.fromEntries(d.nodes.map((n) => [n.id, n]));
    assert.deepEqual(Object.keys(byId).sort(), ['respond', 'set', 'webhook']);
    assert.equal(byId.webhook.type, 'trigger.webhook');
    assert.equal(byId.webhook.params.path, 'add');
    assert.equal(byId.webhook.params.mode, 'sync');
    assert.equal(byId.set.type, 'data.set');
    assert.deepEqual(byId.set.params.fields, { total: SUM });
    assert.equal(byId.respond.type, 'flow.respond');
    assert.equal(byId.respond.params.body, REPLY);
    const edges = d.edges.map((e) => `${e.from}->${e.to}`).sort();
    assert.deepEqual(edges, ['set->respond', 'webhook->set']);
  });

  await step('activate', async () => {
    await page.getByRole('button', { name: 'Activate' }).click();
    await page.getByRole('button', { name: 'Deactivate' }).waitFor();
    const r = await owner.get(`/api/workflows/${wfId}`);
    assert.equal(r.json.active, true);
  });

  await step('POST /hooks/add {"a":2,"b":3} answers {"total":5}', async () => {
    const res = await fetch(env.url + '/hooks/add', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ a: 2, b: 3 }),
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.deepEqual(JSON.parse(text), { total: 5 });
  });

  await step('the executions page lists the run, succeeded', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Executions' }).click();
    await page.waitForURL((u) => u.pathname === '/executions');
    const row = page.locator('tr[data-status]').filter({ has: page.getByRole('link', { name: /^Open execution of Add / }) });
    // (the sync answer may come before the executor records the end: the page refreshes while some run)
    for (let i = 0; i < 20 && (await row.first().getAttribute('data-status').catch(() => null)) !== 'succeeded'; i++) {
      await page.waitForTimeout(500);
      if (i % 4 === 3) await page.getByRole('button', { name: 'Refresh' }).click();
    }
    assert.equal(await row.count(), 1);
    assert.equal(await row.getAttribute('data-status'), 'succeeded');
    await row.getByText(/succeeded/i).first().waitFor();
    await dismissToasts(page);
  });
  await readmeShot(page, 'executions');

  await step('open it on the canvas: every node succeeded', async () => {
    await page.getByRole('link', { name: /^Open execution of Add / }).click();
    await page.waitForURL((u) => u.pathname === `/workflows/${wfId}` && u.searchParams.has('execution'));
    await waitForStatus(page, ['webhook', 'set', 'respond'], 'succeeded');
    assert.deepEqual(await statuses(page), { webhook: 'succeeded', set: 'succeeded', respond: 'succeeded' });
    await dismissToasts(page);
  });
  await readmeShot(page, 'canvas-run');

  await step('live preview: the sum expression is 5 against the last run', async () => {
    const panel = await select(page, 'set');
    await panel.getByRole('group', { name: 'fields mode' }).getByRole('button', { name: 'Expression' }).click();
    const field = panel.getByRole('textbox', { name: 'fields expression' });
    await field.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(SUM);
    const value = panel.getByTestId('expression-preview').getByLabel('Preview value');
    await value.waitFor();
    assert.equal((await value.innerText()).trim(), '5');
  });
  await shot(page, 'live-preview');
});
