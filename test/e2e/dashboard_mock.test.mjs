// The dashboard in headless chromium against the mock daemon (mock_api.mjs): every kind of target
// row, the timeline, confirmations, the token prompt, a refused token, and the unreachable banner.
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { openBrowser, screenshotsAtBothWidths, sourceDir } from './browser.mjs';
import { startMock } from './mock_api.mjs';

let mock;
let browser;
let page;

before(async () => {
  mock = await startMock();
  browser = await openBrowser();
  page = browser.page;
});

after(async () => {
  if (browser) await browser.close();
  if (mock) await mock.close();
});

test('the whole page is plain files under 100 KiB', () => {
  const dir = join(sourceDir, 'web');
  const files = readdirSync(dir);
  assert.ok(files.includes('index.html'));
  assert.deepEqual(files.filter((f) => f.endsWith('.css')), ['style.css']);
  const total = files.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
  assert.ok(total < 100 * 1024, `web/ is ${total} bytes`);
});

test('loads without console errors and shows what the API reports', async () => {
  const external = [];
  const origin = mock.url;
  page.on('request', (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) external.push(r.url()); });
  await page.goto(mock.url);
  await page.locator('#overall-status').waitFor();
  assert.equal(await page.locator('#overall-status').getAttribute('data-status'), 'unhealthy');
  assert.match(await page.locator('#banner').innerText(), /Down: PM2 apps/);
  for (const [key, want] of [['pm2', 'unhealthy'], ['github', 'degraded'], ['netlify', 'healthy']]) {
    const card = page.locator(`.card[data-subsystem="${key}"]`);
    assert.equal(await card.getAttribute('data-status'), want);
    assert.match(await card.locator('.badge').first().innerText(), new RegExp(want));
  }
  assert.match(await page.locator('.card[data-subsystem="pm2"]').innerText(), /1 of 2 apps down: api/);
  assert.deepEqual(browser.consoleErrors, []);
  assert.deepEqual(external, [], 'nothing is fetched from outside the daemon');
});

test('target tables render every documented key and unknown ones', async () => {
  const api = page.locator('.targets[data-subsystem="pm2"] tr[data-target="api"]');
  assert.equal(await api.getAttribute('data-status'), 'unhealthy');
  assert.match(await api.innerText(), /stopped: expected online/);
  const worker = await page.locator('tr[data-target="worker"]').innerText();
  assert.match(worker, /70 MiB/);
  assert.match(worker, /26 h 3 min/);
  const nightly = page.locator('tr[data-target="nightly.yml"]');
  assert.equal(await nightly.locator('a[href="https://github.com/example/site/actions/runs/2"]').count(), 1);
  assert.equal(await nightly.locator('a[href^="javascript:"]').count(), 0, 'only http(s) run links');
  assert.match(await nightly.innerText(), /ran 2 of 3 steps locally/);
  await nightly.locator('details summary', { hasText: 'More' }).click();
  assert.match(await nightly.locator('details').last().innerText(), /future_key/);
  assert.match(await page.locator('tr[data-target="broken.yml"]').innerText(), /invalid[\s\S]*"uses" and "run" both given/);
  assert.match(await page.locator('tr[data-target="broken.yml"] button', { hasText: 'Resume' }).innerText(), /Resume/);
  const hello = await page.locator('tr[data-target="hello"]').innerText();
  for (const check of ['present', 'syntax', 'dependencies', 'invoke', 'probe']) assert.match(hello, new RegExp(check));
  assert.match(hello, /esm/);
});

test('the timeline draws 24 hours per subsystem from the events', async () => {
  assert.equal(await page.locator('figure.timeline svg').count(), 3);
  const netlify = page.locator('figure.timeline[data-subsystem="netlify"]');
  assert.equal(await netlify.locator('rect.t-unhealthy').count(), 1);
  assert.match(await netlify.locator('figcaption').innerText(), /unhealthy 1 h/);
  assert.equal(await netlify.locator('rect.mark').count(), 1);
  assert.ok(await page.locator('figure.timeline[data-subsystem="pm2"] rect.t-unhealthy').count() >= 1);
});

test('a restart asks to confirm, asks for the token, refuses a wrong one visibly, then works', async () => {
  const row = page.locator('tr[data-target="api"]');
  await row.locator('button', { hasText: 'Restart' }).click();
  const confirm = page.locator('#confirm-dialog');
  await confirm.waitFor({ state: 'visible' });
  assert.match(await confirm.innerText(), /pm2 restart api/);
  await page.locator('#confirm-ok').click();
  const tokenDialog = page.locator('#token-dialog');
  await tokenDialog.waitFor({ state: 'visible' });
  await page.locator('#token-input').fill('wrong-token');
  await page.locator('#token-ok').click();
  const refusal = page.locator('#progress li.refused');
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /refused the token/);
  assert.equal(await refusal.getAttribute('role'), 'alert');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('redundancy.token')), null);

  await row.locator('button', { hasText: 'Restart' }).click();
  await page.locator('#confirm-ok').click();
  await tokenDialog.waitFor({ state: 'visible' });
  await page.locator('#token-input').fill(mock.token);
  await page.locator('#token-ok').click();
  const done = page.locator('#progress li[data-outcome="succeeded"]');
  await done.waitFor({ timeout: 15000 });
  assert.match(await done.innerText(), /restarted api/);
  await page.locator('tr[data-target="api"][data-status="healthy"]').waitFor({ timeout: 15000 });
  assert.equal(await page.evaluate(() => sessionStorage.getItem('redundancy.token')), mock.token);
  assert.equal(await page.evaluate(() => localStorage.length), 0, 'the token never goes to localStorage');
});

test('a kept token is not asked again; a pause names its duration', async () => {
  await page.locator('tr[data-target="ci.yml"] button', { hasText: 'Pause' }).click();
  await page.locator('#confirm-dialog').waitFor({ state: 'visible' });
  await page.locator('#confirm-field-for').selectOption('30m');
  await page.locator('#confirm-field-reason').fill('maintenance');
  await page.locator('#confirm-ok').click();
  const done = page.locator('#progress li', { hasText: 'Pause github/ci.yml' });
  await done.waitFor();
  assert.match(await done.innerText(), /paused until/);
  assert.equal(await page.locator('#token-dialog').isVisible(), false);
});

test('cancelling a confirmation does nothing', async () => {
  const before = mock.state.actions.length;
  await page.locator('.card[data-subsystem="netlify"] button', { hasText: 'Deploy' }).click();
  await page.locator('#confirm-dialog').waitFor({ state: 'visible' });
  assert.match(await page.locator('#confirm-dialog').innerText(), /Deploy the site to Netlify/);
  await page.keyboard.press('Escape');
  await page.locator('#confirm-dialog').waitFor({ state: 'hidden' });
  assert.equal(mock.state.actions.length, before);
});

test('keyboard: the skip link comes first and focus is visible', async () => {
  await page.reload();
  await page.locator('#overall-status').waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
  await page.keyboard.press('Tab');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.equal(outline, 'solid');
});

test('screenshots at 1280 and 375 px', async () => {
  await screenshotsAtBothWidths(page, 'mock-dashboard', assert);
});

test('the daemon gone makes the page say it is unreachable', async () => {
  await mock.close();
  mock = null;
  const banner = page.locator('#connection');
  await banner.waitFor({ state: 'visible', timeout: 20000 });
  assert.match(await banner.innerText(), /unreachable/);
});
