// Credentials through the page: an editor creates an http.bearer credential
// from the type catalogue (the secret typed once, then shown only as "set"),
// replaces its secret, tests it against the test server (200, then 401),
// picks it by name in an http.request node's credential
// select (a name the org lacks is warned about), saves, and deletes the
// credential: the 409 credential_in_use lists the workflow, "Delete anyway"
// deletes it. No answer the page received holds the secret.
import assert from 'node:assert/strict';
import { scenario, step, shot, env, api } from './lib.mjs';
import { node, select, createWorkflow } from './_canvas.mjs';

const SECRET = 'tok-' + Math.random().toString(36).slice(2) + '-e2e-secret';
const SECRET2 = 'tok2-' + Math.random().toString(36).slice(2);

await scenario(async ({ page, context }) => {
  const owner = await api.signup({ name: 'Cred Owner' });
  await owner.into(context);
  const wf = await createWorkflow(owner, 'Uses a credential', {
    nodes: [
      { id: 'manual', type: 'trigger.manual', name: 'Start', position: [0, 100] },
      { id: 'call', type: 'http.request', name: 'Call API', params: { method: 'GET', url: `${env.testServer}/echo` }, position: [280, 100] },
    ],
    edges: [{ from: 'manual', to: 'call' }],
  });
  const seen = [];
  page.on('response', async (r) => {
    if (r.url().includes('/api/')) { try { seen.push(await r.text()); } catch { /* redirects, bodies gone */ } }
  });

  let credId;
  await step('the Credentials page: create an http.bearer credential from the catalogue', async () => {
    await page.goto(env.url + '/workflows');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Credentials' }).click();
    await page.getByRole('heading', { name: 'Credentials', exact: true }).waitFor();
    await page.getByText('No credentials yet').waitFor();
    await page.getByRole('button', { name: 'New credential' }).click();
    const form = page.getByRole('form', { name: 'New credential' });
    await form.getByLabel('Type').selectOption('http.bearer');
    await form.getByLabel('Name *').fill('crm-token');
    const secret = form.locator('input[name="secrets.token"]');
    assert.equal(await secret.getAttribute('type'), 'password');
    await secret.fill(SECRET);
    await form.getByRole('button', { name: 'Create credential' }).click();
    await page.waitForURL(/\/credentials\/[0-9a-f-]{36}$/);
    credId = page.url().split('/').pop();
    await page.getByRole('heading', { name: 'crm-token', exact: true }).waitFor();
    assert.equal(await page.getByTestId('secret-state-token').textContent(), 'set');
  });
  await shot(page, 'credential-edit');

  await step('replace the secret: the new value is stored, the field starts empty again', async () => {
    await page.getByRole('button', { name: /^Replace / }).click();
    const input = page.locator('input[name="secrets.token"]');
    assert.equal(await input.inputValue(), '', 'a secret input is never pre-filled');
    await input.fill(SECRET2);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Credential "crm-token" saved').waitFor();
    assert.equal(await page.locator('input[name="secrets.token"]').count(), 0);
    const r = await owner.get(`/api/credentials/${credId}`);
    assert.deepEqual(r.json.secrets_set, ['token']);
  });

  await step('test it: against the test server, then against a URL that refuses it', async () => {
    const test = page.getByRole('form', { name: 'Test' });
    await test.getByLabel('URL to test against').fill(`${env.testServer}/echo`);
    await test.getByRole('button', { name: 'Test', exact: true }).click();
    const result = page.getByTestId('credential-test-result');
    await result.filter({ hasText: 'It works: HTTP 200 from GET' }).waitFor();
    await test.getByLabel('URL to test against').fill(`${env.testServer}/status/401`);
    await test.getByRole('button', { name: 'Test', exact: true }).click();
    await result.filter({ hasText: 'It did not work: HTTP 401 from GET' }).waitFor();
  });
  await shot(page, 'credential-test');

  await step('the list shows it', async () => {
    await page.getByRole('link', { name: '← Credentials' }).click();
    await page.getByRole('link', { name: 'crm-token' }).waitFor();
  });

  await step('the node panel: pick the credential by name; an unknown name is warned about', async () => {
    await page.goto(`${env.url}/workflows/${wf.id}`);
    await node(page, 'call').waitFor();
    const panel = await select(page, 'call');
    const picker = panel.getByLabel('credential', { exact: true });
    await picker.selectOption({ label: 'Another name…' });
    await panel.getByLabel('Credential name').fill('no-such-cred');
    await panel.getByTestId('credential-missing').waitFor();
    await picker.selectOption('crm-token');
    assert.equal(await panel.getByTestId('credential-missing').count(), 0);
    assert.equal(await panel.getByLabel('Credential name').count(), 0);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText(/Saved version 2/).waitFor();
    const now = await owner.get(`/api/workflows/${wf.id}`);
    assert.equal(now.json.definition.nodes.find((n) => n.id === 'call').params.credential, 'crm-token');
  });
  await shot(page, 'credential-picker');

  await step('delete: the workflow using it is listed, "Delete anyway" deletes', async () => {
    await page.goto(env.url + '/credentials');
    await page.getByRole('button', { name: 'Delete crm-token' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await dialog.getByRole('link', { name: 'Uses a credential' }).waitFor();
    await dialog.getByRole('button', { name: 'Delete anyway' }).click();
    await page.getByText('Credential "crm-token" deleted').waitFor();
    assert.equal((await owner.get(`/api/credentials/${credId}`)).status, 404);
  });

  await step('no answer the page received held a secret', async () => {
    for (const body of seen) {
      assert.ok(!body.includes(SECRET) && !body.includes(SECRET2), 'a secret in an API answer');
    }
  });
});
