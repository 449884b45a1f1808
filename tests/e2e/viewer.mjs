// An invited viewer cannot edit: the editing controls are disabled (no
// palette, Save/Run/Activate disabled, the node panel read-only), a
// mutation forced through the API answers 403 and changes nothing, and an
// editor demoted to viewer while the page is open sees the API's 403 when
// saving. The viewer still sees the executions, and opens one on the canvas.
import assert from 'node:assert/strict';
import { scenario, step, shot, env, api } from './lib.mjs';
import { node, select, createWorkflow, waitForStatus, dismissToasts } from './_canvas.mjs';

// (the role check answers first: "your role (viewer) may not do this (workflow.write needs editor)")
const FORBIDDEN = /your role \(viewer\) may not do this|may view this workflow but not change it/;

async function waitExecution(s, id) {
  for (let i = 0; i < 100; i++) {
    const r = await s.get(`/api/executions/${id}`);
    if (['succeeded', 'failed', 'canceled'].includes(r.json?.status)) return r.json;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`execution ${id} did not finish`);
}

await scenario(async ({ page, context, newContext }) => {
  const owner = await api.signup({ name: 'Owner' });
  const wf = await createWorkflow(owner, 'Shared', {
    nodes: [
      { id: 'manual', type: 'trigger.manual', name: 'Start', position: [0, 100] },
      { id: 'step', type: 'flow.noop', name: 'Step', position: [280, 100] },
    ],
    edges: [{ from: 'manual', to: 'step' }],
  });
  const run = await owner.post(`/api/workflows/${wf.id}/run`, { input: [{ n: 1 }] });
  assert.ok(run.status === 201 || run.status === 202, `run: ${run.status} ${run.text}`);
  assert.equal((await waitExecution(owner, run.json.id)).status, 'succeeded');

  const viewer = await api.member(owner, 'viewer');
  await viewer.into(context);
  // (members see the workflows they created and those shared with them)
  const share = await owner.put(`/api/workflows/${wf.id}/shares/${viewer.me.user.id}`, { role: 'viewer' });
  assert.ok(share.status === 200 || share.status === 201, `share: ${share.status} ${share.text}`);

  await step('the workflow list: the viewer sees the workflow, cannot create or activate', async () => {
    await page.goto(env.url + '/workflows');
    await page.getByRole('link', { name: 'Shared' }).first().waitFor();
    const create = page.getByRole('button', { name: 'New workflow' }).first();
    assert.equal(await create.isDisabled(), true, 'New workflow is disabled');
    assert.equal(await page.getByRole('switch', { name: 'Active: Shared' }).isDisabled(), true);
  });

  await step('the editor: read-only, editing controls disabled, no palette', async () => {
    await page.goto(`${env.url}/workflows/${wf.id}`);
    await node(page, 'step').waitFor();
    await page.getByText('You are a viewer: this workflow is read-only.').waitFor();
    for (const name of ['Save', 'Run', 'Activate', 'Undo', 'Auto-layout']) {
      assert.equal(await page.getByRole('button', { name, exact: true }).isDisabled(), true, `${name} is disabled`);
    }
    assert.equal(await page.getByRole('complementary', { name: 'Node palette' }).count(), 0, 'no palette');
    assert.equal(await page.getByRole('textbox', { name: 'Workflow name' }).getAttribute('readonly'), '');
    const panel = await select(page, 'step');
    assert.equal(await panel.getByLabel('Name', { exact: true }).getAttribute('readonly'), '', 'the node name is read-only');
    assert.equal(await panel.getByRole('button', { name: 'Delete node' }).count(), 0, 'no Delete node button');
    // no handle takes a new connection
    assert.equal(await page.locator('.react-flow__handle.connectable').count(), 0);
  });
  await shot(page, 'viewer-editor');

  await step('a save forced through the API (with the CSRF token) answers 403 and changes nothing', async () => {
    const answer = await page.evaluate(async (id) => {
      const me = await (await fetch('/api/me')).json();
      const wfNow = await (await fetch(`/api/workflows/${id}`)).json();
      const def = { ...wfNow.definition, nodes: wfNow.definition.nodes.map((n) => ({ ...n, notes: 'forced' })) };
      const r = await fetch(`/api/workflows/${id}`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token, 'If-Match': `"${wfNow.version}"` },
        body: JSON.stringify({ definition: def }),
      });
      return { status: r.status, body: await r.json() };
    }, wf.id);
    assert.equal(answer.status, 403, JSON.stringify(answer.body));
    assert.equal(answer.body.error?.code ?? answer.body.code, 'forbidden');
    const now = await owner.get(`/api/workflows/${wf.id}`);
    assert.equal(now.json.version, 1);
    assert.ok(now.json.definition.nodes.every((n) => !n.notes));
  });

  await step('an editor demoted to viewer while editing sees the 403 when saving', async () => {
    const editor = await api.member(owner, 'editor');
    const share = await owner.put(`/api/workflows/${wf.id}/shares/${editor.me.user.id}`, { role: 'editor' });
    assert.ok(share.status === 200 || share.status === 201, `share: ${share.status} ${share.text}`);
    const ctx2 = await newContext();
    await editor.into(ctx2);
    const p2 = await ctx2.newPage();
    await p2.goto(`${env.url}/workflows/${wf.id}`);
    await node(p2, 'step').waitFor();
    const panel = await select(p2, 'step');
    await panel.getByLabel('Notes').fill('an edit the server refuses');
    const demote = await owner.patch(`/api/orgs/${owner.me.org_id}/members/${editor.me.user.id}`, { role: 'viewer' });
    assert.equal(demote.status, 200, demote.text);
    await p2.getByRole('button', { name: 'Save', exact: true }).click();
    const shown = p2.getByText(FORBIDDEN).first();
    await shown.waitFor();
    await shot(p2, 'forced-403');
    assert.equal((await owner.get(`/api/workflows/${wf.id}`)).json.version, 1, 'not saved');
    await p2.close();
  });

  await step('the viewer sees the executions', async () => {
    await dismissToasts(page);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Executions' }).click();
    await page.waitForURL((u) => u.pathname === '/executions');
    const row = page.locator('tr[data-status]').filter({ has: page.getByRole('link', { name: /^Open execution of Shared / }) });
    await row.waitFor();
    assert.equal(await row.getAttribute('data-status'), 'succeeded');
  });
  await shot(page, 'viewer-executions');

  await step('and opens one on the canvas', async () => {
    await page.getByRole('link', { name: /^Open execution of Shared / }).click();
    await page.waitForURL((u) => u.pathname === `/workflows/${wf.id}` && u.searchParams.get('execution') === run.json.id);
    await waitForStatus(page, ['manual', 'step'], 'succeeded');
  });
});
