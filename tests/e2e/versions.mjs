// Versions: one tab saves version 2; a second tab that loaded version 1
// saves too and gets the conflict dialog, which names what each side
// changed; it keeps its own as version 3; the history restores version 1
// (as version 4); the visual diff of versions 1 and 2 marks the node that
// changed, and only that one.
import assert from 'node:assert/strict';
import { scenario, step, shot, env, api } from './lib.mjs';
import { node, select, createWorkflow, dismissToasts } from './_canvas.mjs';

const V1 = {
  nodes: [
    { id: 'manual', type: 'trigger.manual', name: 'Start', position: [0, 100] },
    { id: 'note', type: 'flow.noop', name: 'Step', position: [280, 100] },
    { id: 'set', type: 'data.set', name: 'Set x', params: { fields: { x: 1 } }, position: [560, 100] },
  ],
  edges: [{ from: 'manual', to: 'note' }, { from: 'note', to: 'set' }],
};

async function setNotes(page, id, text) {
  const panel = await select(page, id);
  await panel.getByLabel('Notes').fill(text);
  await panel.getByRole('button', { name: 'Close node panel' }).click();
}

/** The editor's badge of the current version ("v3"). */
function badge(page) {
  return page.getByTitle('The current version', { exact: true });
}

function notesOf(def) {
  return Object.fromEntries(def.nodes.map((n) => [n.id, n.notes ?? null]));
}

await scenario(async ({ page, context }) => {
  const owner = await api.signup({ name: 'Versioner' });
  await owner.into(context);
  const wf = await createWorkflow(owner, 'Versions', V1);
  assert.equal(wf.version, 1);
  const url = `${env.url}/workflows/${wf.id}`;
  let tabB;

  await step('two tabs open version 1', async () => {
    await page.goto(url);
    await node(page, 'set').waitFor();
    tabB = await context.newPage();
    await tabB.goto(url);
    await node(tabB, 'note').waitFor();
    for (const p of [page, tabB]) assert.equal(await badge(p).innerText(), 'v1');
  });

  await step('tab A edits the "Set x" node and saves version 2', async () => {
    await setNotes(page, 'set', 'changed in tab A');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved version 2').waitFor();
    const r = await owner.get(`/api/workflows/${wf.id}`);
    assert.equal(r.json.version, 2);
    assert.deepEqual(notesOf(r.json.definition), { manual: null, note: null, set: 'changed in tab A' });
  });

  let dialog;
  await step('tab B (still on version 1) edits "Step" and saves: the conflict dialog', async () => {
    await setNotes(tabB, 'note', 'changed in tab B');
    await tabB.getByRole('button', { name: 'Save', exact: true }).click();
    dialog = tabB.getByRole('dialog', { name: 'Someone else saved this workflow' });
    await dialog.waitFor();
    const text = await dialog.innerText();
    assert.match(text, /version 2/);
    // what changed, on each side (or, without the base, what saving would change)
    const mine = dialog.getByRole('region', { name: /^Your changes since/ });
    const theirs = dialog.getByRole('region', { name: /^Their changes since/ });
    if (await mine.count()) {
      // (textContent: the kind is upper-cased by CSS only)
      const m = await mine.textContent(), t = await theirs.textContent();
      assert.match(m, /changed\s*Step\s*notes/i, m);
      assert.doesNotMatch(m, /Set x/, m);
      assert.match(t, /changed\s*Set x\s*notes/i, t);
      assert.doesNotMatch(t, /\bStep\b/, t);
    } else {
      const direct = dialog.getByRole('region', { name: /^What saving yours would change/ });
      const t = await direct.innerText();
      assert.match(t, /Step/);
      assert.match(t, /Set x/);
    }
    // nothing was saved by the refused attempt
    assert.equal((await owner.get(`/api/workflows/${wf.id}`)).json.version, 2);
  });
  await shot(tabB, 'conflict');

  await step('resolve: save mine as version 3', async () => {
    await dialog.getByRole('button', { name: 'Save mine as version 3' }).click();
    await tabB.getByText('Saved version 3').waitFor();
    await dialog.waitFor({ state: 'hidden' });
    const r = await owner.get(`/api/workflows/${wf.id}`);
    assert.equal(r.json.version, 3);
    assert.deepEqual(notesOf(r.json.definition), { manual: null, note: 'changed in tab B', set: null });
  });

  const history = tabB.getByRole('complementary', { name: 'Version history' });
  await step('the version history lists versions 1 to 3', async () => {
    await tabB.getByRole('button', { name: 'Versions', exact: true }).click();
    await history.waitFor();
    for (const v of [1, 2, 3]) await history.getByRole('listitem', { name: `Version ${v}`, exact: true }).waitFor();
  });
  await shot(tabB, 'history');

  await step('restore version 1 (as version 4)', async () => {
    await history.getByRole('button', { name: 'Restore version 1', exact: true }).click();
    const confirm = tabB.getByRole('dialog', { name: 'Restore version 1' });
    await confirm.getByRole('button', { name: 'Restore version 1' }).click();
    await confirm.waitFor({ state: 'hidden' });
    await badge(tabB).filter({ hasText: /^v4$/ }).waitFor();
    const r = await owner.get(`/api/workflows/${wf.id}`);
    assert.equal(r.json.version, 4);
    assert.deepEqual(notesOf(r.json.definition), { manual: null, note: null, set: null });
  });

  await step('the visual diff of versions 1 and 2 marks "Set x" changed, nothing else', async () => {
    await dismissToasts(tabB);
    if (!(await history.isVisible())) await tabB.getByRole('button', { name: 'Versions', exact: true }).click();
    await history.getByRole('button', { name: 'Changes in version 2', exact: true }).click();
    await tabB.waitForURL((u) => u.searchParams.get('diff') === '1..2');
    const changed = node(tabB, 'set');
    await tabB.waitForFunction(() => document.querySelector('[data-testid="node-set"]')?.getAttribute('data-diff') === 'changed');
    assert.match(await changed.getAttribute('class'), /\bdiff-changed\b/);
    for (const id of ['manual', 'note']) {
      assert.equal(await node(tabB, id).getAttribute('data-diff'), null, `${id} is not marked`);
    }
    await tabB.getByRole('note', { name: 'Diff legend' }).waitFor();
    // (the canvas in full for the screenshot)
    if (await history.isVisible()) await history.getByRole('button', { name: 'Close version history' }).click();
    await changed.waitFor({ state: 'visible' });
  });
  await shot(tabB, 'diff');
});
