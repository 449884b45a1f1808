// Unsaved changes survive a reload: an edit not saved is kept in the
// browser (localStorage) and offered back after the page is loaded again;
// Restore brings it back, unsaved; Discard drops it, and the server never
// saw it.
import assert from 'node:assert/strict';
import { scenario, step, shot, env, api } from './lib.mjs';
import { node, createWorkflow } from './_canvas.mjs';

await scenario(async ({ page, context }) => {
  const owner = await api.signup({ name: 'Drafter' });
  await owner.into(context);
  const wf = await createWorkflow(owner, 'Drafts', {
    nodes: [{ id: 'manual', type: 'trigger.manual', name: 'Start', position: [0, 100] }],
    edges: [],
  });
  const palette = page.getByRole('complementary', { name: 'Node palette' });
  const nodeCount = () => page.locator('.react-flow__node').count();

  await step('add a node and leave it unsaved', async () => {
    await page.goto(`${env.url}/workflows/${wf.id}`);
    await node(page, 'manual').waitFor();
    await palette.getByRole('searchbox', { name: 'Search nodes' }).fill('No operation');
    await palette.getByRole('button', { name: 'Add No operation', exact: true }).click();
    await page.getByText('Unsaved changes').waitFor();
    assert.equal(await nodeCount(), 2);
    // the draft is written after a short pause in editing
    await page.waitForFunction((id) => !!localStorage.getItem('glyphic.draft.' + id), wf.id);
  });

  await step('a reload offers the draft back; Restore brings it, still unsaved', async () => {
    page.once('dialog', (d) => d.accept()); // the browser's "leave site?" prompt
    await page.reload();
    const offer = page.getByRole('alert').filter({ hasText: 'You have unsaved changes' });
    await offer.waitFor();
    assert.equal(await nodeCount(), 1, 'the saved workflow is shown until the draft is restored');
    await shot(page, 'draft-offered');
    await offer.getByRole('button', { name: 'Restore' }).click();
    await page.getByText('Unsaved changes').waitFor();
    // the marker can show a frame before the canvas draws the restored node
    await page.locator('.react-flow__node').nth(1).waitFor();
    assert.equal(await nodeCount(), 2);
    const saved = await owner.get(`/api/workflows/${wf.id}`);
    assert.equal(saved.json.version, 1);
    assert.equal(saved.json.definition.nodes.length, 1, 'the server never saw the draft');
  });

  await step('Discard after another reload drops it for good', async () => {
    page.once('dialog', (d) => d.accept());
    await page.reload();
    const offer = page.getByRole('alert').filter({ hasText: 'You have unsaved changes' });
    await offer.waitFor();
    await offer.getByRole('button', { name: 'Discard' }).click();
    await offer.waitFor({ state: 'hidden' });
    assert.equal(await nodeCount(), 1);
    await page.reload();
    await node(page, 'manual').waitFor();
    await page.waitForTimeout(500);
    assert.equal(await page.getByText('You have unsaved changes').count(), 0);
  });
});
