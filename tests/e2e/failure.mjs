// A failing step shown where it happened: manual trigger → http.request to
// an address that answers 500 → a no-op. Run from the editor's Run dialog,
// the live view marks the request node failed (the trigger succeeded, the
// no-op never ran), and the node's data panel shows the error message.
import assert from 'node:assert/strict';
import { scenario, step, shot, env, api } from './lib.mjs';
import { node, select, createWorkflow, waitForStatus, statuses, dismissToasts } from './_canvas.mjs';

await scenario(async ({ page, context }) => {
  assert.ok(env.testServer, 'E2E_TESTSERVER_URL is set (run.py starts the test server)');
  const owner = await api.signup({ name: 'Runner' });
  await owner.into(context);
  const failing = `${env.testServer}/status/500`;
  const wf = await createWorkflow(owner, 'Fails', {
    nodes: [
      { id: 'manual', type: 'trigger.manual', name: 'Start', position: [0, 100] },
      { id: 'call', type: 'http.request', name: 'Call API', params: { method: 'GET', url: failing }, position: [280, 100] },
      { id: 'after', type: 'flow.noop', name: 'After', position: [560, 100] },
    ],
    edges: [{ from: 'manual', to: 'call' }, { from: 'call', to: 'after' }],
  });

  await step('open the workflow', async () => {
    await page.goto(`${env.url}/workflows/${wf.id}`);
    await node(page, 'call').waitFor();
    assert.equal(await node(page, 'call').getAttribute('data-status'), null, 'no run shown yet');
  });

  let executionId;
  await step('run it from the Run dialog', async () => {
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Run workflow' });
    await dialog.waitFor();
    await dialog.getByLabel('Input items (JSON)').fill('[{"n": 1}]');
    await dialog.getByRole('button', { name: 'Run', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.waitForURL((u) => u.searchParams.has('execution'));
    executionId = new URL(page.url()).searchParams.get('execution');
  });

  await step('the live view: the request node failed, the trigger succeeded, the next node did not run', async () => {
    await waitForStatus(page, ['call'], 'failed');
    await waitForStatus(page, ['manual'], 'succeeded');
    const st = await statuses(page);
    assert.notEqual(st.after, 'succeeded');
    assert.notEqual(st.after, 'failed');
    assert.match(await node(page, 'call').getAttribute('class'), /\bst-failed\b/);
    // the server agrees
    const x = await owner.get(`/api/executions/${executionId}`);
    assert.equal(x.json.status, 'failed');
  });

  await step('the data panel of the failed node shows the error message', async () => {
    await dismissToasts(page);
    await select(page, 'call');
    const data = page.getByRole('complementary', { name: 'Data of Call API' });
    await data.waitFor();
    const alert = data.getByRole('alert');
    await alert.waitFor();
    const text = await alert.innerText();
    assert.match(text, /HTTP 500/);
    assert.match(text, /status\/500/);
    // (the node panel beside it is loaded on first use: wait for it before the screenshot)
    await page.getByRole('complementary', { name: 'Node Call API' }).waitFor();
  });
  await shot(page, 'failed-node');
});
