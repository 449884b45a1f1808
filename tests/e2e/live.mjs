// The live view: a run with two slow HTTP calls in a row is watched on the
// canvas as it happens, from the events stream: every status each node
// takes is recorded in the page, and the second call is seen queued, then
// running, then succeeded (the first may already run when the stream
// connects: a step in flight at that moment is not announced); a second,
// slower run is canceled from the execution bar while a slow node runs,
// and the node after it never runs.
import assert from 'node:assert/strict';
import { scenario, step, shot, env, api } from './lib.mjs';
import { node, createWorkflow, waitForStatus, statuses, dismissToasts, recordStatuses, statusHistory } from './_canvas.mjs';

async function runFromDialog(page, items) {
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Run workflow' });
  await dialog.waitFor();
  await dialog.getByLabel('Input items (JSON)').fill(JSON.stringify(items));
  const before = new URL(page.url()).searchParams.get('execution');
  await dialog.getByRole('button', { name: 'Run', exact: true }).click();
  await dialog.waitFor({ state: 'hidden' });
  await page.waitForURL((u) => u.searchParams.has('execution') && u.searchParams.get('execution') !== before);
  return new URL(page.url()).searchParams.get('execution');
}

await scenario(async ({ page, context }) => {
  assert.ok(env.testServer, 'E2E_TESTSERVER_URL is set');
  const owner = await api.signup({ name: 'Watcher' });
  await owner.into(context);
  const wf = await createWorkflow(owner, 'Slow', {
    nodes: [
      { id: 'manual', type: 'trigger.manual', name: 'Start', position: [0, 100] },
      // the test server answers /slow/<ms> after that many milliseconds
      { id: 'first', type: 'http.request', name: 'First call', params: { url: `${env.testServer}/slow/{{ $json.ms }}`, timeout_ms: 60000 }, position: [250, 100] },
      { id: 'slow', type: 'http.request', name: 'Slow call', params: { url: `${env.testServer}/slow/{{ $json.body.slept_ms }}`, timeout_ms: 60000 }, position: [500, 100] },
      { id: 'done', type: 'flow.noop', name: 'Done', position: [750, 100] },
    ],
    edges: [{ from: 'manual', to: 'first' }, { from: 'first', to: 'slow' }, { from: 'slow', to: 'done' }],
  });

  await step('open the workflow', async () => {
    await page.goto(`${env.url}/workflows/${wf.id}`);
    await node(page, 'slow').waitFor();
  });

  let first;
  await step('run it: the second call is seen queued, running, succeeded; then every node succeeded', async () => {
    await recordStatuses(page);
    first = await runFromDialog(page, [{ ms: 3000 }]);
    await waitForStatus(page, ['slow'], 'running');
    await waitForStatus(page, ['manual', 'first'], 'succeeded');
    assert.notEqual((await statuses(page)).done, 'succeeded', 'the node after the running one has not run yet');
    await shot(page, 'live-running');
    await waitForStatus(page, ['manual', 'first', 'slow', 'done'], 'succeeded');
    const seen = await statusHistory(page);
    assert.deepEqual(seen.slow.filter((x) => x !== '(none)'), ['queued', 'running', 'succeeded'], JSON.stringify(seen));
    assert.deepEqual(seen.done.filter((x) => x !== '(none)').slice(0, 1), ['queued'], JSON.stringify(seen));
    assert.equal(seen.done.at(-1), 'succeeded');
    await page.getByRole('region', { name: 'Execution' }).getByLabel('Status: succeeded').waitFor();
    const x = await owner.get(`/api/executions/${first}`);
    assert.equal(x.json.status, 'succeeded');
  });
  await shot(page, 'live-succeeded');

  await step('run it again, slower, and cancel it while the slow node runs', async () => {
    await dismissToasts(page);
    // (each call takes 6 s: the cancel comes while one of them runs)
    const second = await runFromDialog(page, [{ ms: 6000 }]);
    assert.notEqual(second, first);
    const bar = page.getByRole('region', { name: 'Execution' });
    await bar.getByLabel('Status: running').waitFor();
    await bar.getByRole('button', { name: 'Cancel execution' }).click();
    await bar.getByLabel('Status: canceled').waitFor({ timeout: 30000 });
    const x = await owner.get(`/api/executions/${second}`);
    assert.equal(x.json.status, 'canceled');
    assert.ok(!(x.json.steps ?? []).some((s) => s.node_id === 'done'), 'the node after the canceled one never ran');
    assert.notEqual((await statuses(page)).done, 'succeeded');
  });
  await shot(page, 'live-canceled');
});
