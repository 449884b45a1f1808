// Accounts through the forms: the first user signs up, sees the workflow
// list, logs out, fails to log in with a wrong password (and sees why),
// logs in, makes the theme dark (kept across a reload: stored with
// PUT /api/me/prefs), and revokes another of their sessions.
import assert from 'node:assert/strict';
import { scenario, step, shot, env, api, email } from './lib.mjs';

const addr = email('first');
const password = 'correct horse battery';

/** GET /api/me from inside the page (its cookie): the status. */
async function meStatus(page) {
  return page.evaluate(async () => (await fetch('/api/me', { credentials: 'same-origin' })).status);
}

await scenario(async ({ page }) => {
  await step('the first user signs up through the form', async () => {
    await page.goto(env.url + '/signup');
    await page.getByLabel('Name', { exact: true }).fill('Ada First');
    await page.getByLabel('Email', { exact: true }).fill(addr);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.waitForURL((u) => u.pathname === '/workflows');
    assert.equal(await meStatus(page), 200);
  });

  await step('the workflow list is shown, with the top bar', async () => {
    await page.getByRole('heading', { name: 'Workflows', level: 1 }).waitFor();
    // a new account has none yet: the empty state says what to do
    await page.getByText('Create your first workflow').waitFor();
    assert.equal(await page.getByRole('button', { name: 'New workflow' }).first().isEnabled(), true);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Workflows' }).waitFor();
    await page.getByRole('link', { name: 'Ada First' }).waitFor();
  });
  await shot(page, 'workflow-list');

  await step('log out', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL((u) => u.pathname === '/login');
    await page.getByRole('heading', { name: /log in to glyphic/i }).waitFor();
    assert.equal(await meStatus(page), 401, 'the session is gone on the server too');
  });

  await step('a wrong password shows the error and stays on the log-in page', async () => {
    await page.getByLabel('Email', { exact: true }).fill(addr);
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Log in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /wrong email or password/i);
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal(await meStatus(page), 401);
  });
  await shot(page, 'login-wrong-password');

  await step('log in again through the form', async () => {
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL((u) => u.pathname === '/workflows');
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    assert.equal(await meStatus(page), 200);
  });

  await step('the account page: theme dark, saved', async () => {
    await page.getByRole('link', { name: 'Ada First' }).click();
    await page.waitForURL((u) => u.pathname === '/account');
    await page.getByRole('heading', { name: 'Account', level: 1 }).waitFor();
    assert.notEqual(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page.getByRole('radio', { name: 'Dark' }).check();
    await page.getByRole('button', { name: 'Save preferences' }).click();
    await page.getByText('Preferences saved').waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  });

  await step('a reload keeps the dark theme', async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'Account', level: 1 }).waitFor();
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    assert.equal(await page.getByRole('radio', { name: 'Dark' }).isChecked(), true);
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const [r, g, b] = bg.match(/\d+/g).map(Number);
    assert.ok(r + g + b < 3 * 128, `a dark background (${bg})`);
  });
  await shot(page, 'account-dark');

  let other;
  await step('another session (logged in elsewhere) is listed', async () => {
    other = await api.login(addr, password);
    assert.equal((await other.get('/api/me')).status, 200);
    await page.reload();
    const rows = page.getByRole('region', { name: 'Sessions' }).getByRole('row');
    // (a header row, this session and the other)
    await page.waitForFunction(() => document.querySelectorAll('section[aria-labelledby="sess-h"] tbody tr').length === 2);
    assert.equal(await rows.count(), 3);
    await page.getByRole('button', { name: 'Revoke' }).waitFor();
  });

  await step('revoke the other session', async () => {
    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('Session signed out').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('section[aria-labelledby="sess-h"] tbody tr').length === 1);
    assert.equal(await page.getByRole('button', { name: 'Revoke' }).count(), 0);
    assert.equal((await other.get('/api/me')).status, 401, 'the revoked session no longer works');
    assert.equal(await meStatus(page), 200, 'this one still does');
  });
  await shot(page, 'account-sessions');
});
