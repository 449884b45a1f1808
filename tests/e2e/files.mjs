// Files in the editor: a CSV attached in the Run dialog is uploaded
// (POST /api/files) and becomes the first item's $binary.data; the run's
// data.convert turns it into items; the trigger's data panel shows the
// file as a download link whose bytes (sent by nginx) are the CSV's.
import assert from 'node:assert/strict';
import { scenario, step, shot, env, api } from './lib.mjs';
import { node, select, createWorkflow, waitForStatus, dismissToasts } from './_canvas.mjs';

const CSV = 'name,city\nAda,"Zürich, CH"\n"Grace ""Amazing"" Hopper",New York\n';

await scenario(async ({ page, context }) => {
  const owner = await api.signup({ name: 'Filer' });
  await owner.into(context);
  const wf = await createWorkflow(owner, 'Files', {
    nodes: [
      { id: 'manual', type: 'trigger.manual', name: 'Start', position: [0, 100] },
      { id: 'read', type: 'data.convert', name: 'Read CSV', params: { operation: 'from_csv' }, position: [280, 100] },
    ],
    edges: [{ from: 'manual', to: 'read' }],
  });

  await step('open the workflow', async () => {
    await page.goto(`${env.url}/workflows/${wf.id}`);
    await node(page, 'read').waitFor();
  });

  await step('attach a CSV in the Run dialog: it becomes $binary.data of the first item', async () => {
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Run workflow' });
    await dialog.waitFor();
    await dialog.getByLabel('Input items (JSON)').fill('[{"batch": 7}]');
    await dialog.getByLabel('Attach files to the first item').setInputFiles({
      name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV),
    });
    const input = dialog.getByLabel('Input items (JSON)');
    await page.waitForFunction((el) => el.value.includes('"$binary"'), await input.elementHandle());
    const items = JSON.parse(await input.inputValue());
    assert.equal(items[0].batch, 7);
    const ref = items[0].$binary.data;
    assert.equal(ref.file_name, 'people.csv');
    assert.equal(ref.mime_type, 'text/csv');
    assert.equal(ref.size, Buffer.byteLength(CSV));
    await shot(page, 'attached');
    await dialog.getByRole('button', { name: 'Run', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.waitForURL((u) => u.searchParams.has('execution'));
  });

  await step('the run reads the file into items', async () => {
    await waitForStatus(page, ['manual', 'read'], 'succeeded');
    const id = new URL(page.url()).searchParams.get('execution');
    const x = await owner.get(`/api/executions/${id}`);
    assert.equal(x.json.status, 'succeeded');
    assert.deepEqual(x.json.output, [
      { name: 'Ada', city: 'Zürich, CH' },
      { name: 'Grace "Amazing" Hopper', city: 'New York' },
    ]);
  });

  await step('the data panel links the file; the link downloads the same bytes', async () => {
    await dismissToasts(page);
    await select(page, 'manual');
    const data = page.getByRole('complementary', { name: 'Data of Start' });
    await data.waitFor();
    const link = data.getByRole('region', { name: 'Output' }).getByRole('link', { name: /data: people\.csv/ });
    await link.waitFor();
    const href = await link.getAttribute('href');
    assert.match(href, /^\/api\/files\/[0-9a-f-]{36}\/content$/);
    const r = await page.request.get(env.url + href);
    assert.equal(r.status(), 200);
    assert.equal((await r.body()).toString(), CSV);
    assert.match(r.headers()['content-disposition'], /attachment; filename="people\.csv"/);
    await page.getByRole('complementary', { name: 'Node Start' }).waitFor();
  });
  await shot(page, 'file-link');
});
