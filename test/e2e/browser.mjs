// Shared by the browser tests: where things are, the Debian chromium driven by playwright-core from
// <build>/npm-e2e, and a record of the page's console errors.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
export const sourceDir = resolve(process.env.REDUNDANCY_SOURCE_DIR || join(here, '../..'));
export const buildDir = resolve(process.env.REDUNDANCY_BUILD_DIR || join(sourceDir, 'build'));
export const binary = process.env.REDUNDANCY_BINARY || join(buildDir, 'redundancy');
export const chromiumPath = process.env.REDUNDANCY_CHROMIUM || '/usr/bin/chromium';
export const screenshotDir = join(buildDir, 'e2e');

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function playwright() {
  const entry = join(buildDir, 'npm-e2e', 'node_modules', 'playwright-core', 'index.mjs');
  if (!existsSync(entry)) {
    throw new Error(`playwright-core is not installed at ${entry}: copy test/e2e/package.json and package-lock.json ` +
      `to ${join(buildDir, 'npm-e2e')} and run "npm ci" there (tools/bootstrap does)`);
  }
  return import(pathToFileURL(entry).href);
}

// Starts chromium with a fresh profile. Resolves to {context, page, consoleErrors, close()}:
// consoleErrors collects console.error messages and uncaught page exceptions, in order.
export async function openBrowser({ width = 1280, height = 900 } = {}) {
  if (!existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} is missing: apt-get install -y --no-install-recommends chromium`);
  }
  const { chromium } = await playwright();
  const profile = mkdtempSync(join(tmpdir(), 'redundancy-e2e-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath, headless: true, args: ARGS, viewport: { width, height },
  });
  const page = context.pages()[0] || await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
  return {
    context, page, consoleErrors,
    close: async () => {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Saves a full-page screenshot under <build>/e2e/ and prints its path so it shows in the test output.
export async function screenshot(page, name) {
  mkdirSync(screenshotDir, { recursive: true });
  const file = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`# screenshot: ${file}`);
  return file;
}

// Screenshots at 1280 and 375 px wide; at 375 px, asserts that nothing scrolls sideways.
export async function screenshotsAtBothWidths(page, prefix, assert) {
  await page.setViewportSize({ width: 1280, height: 900 });
  await screenshot(page, `${prefix}-1280`);
  await page.setViewportSize({ width: 375, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `at 375 px the page scrolls sideways by ${overflow} px`);
  await screenshot(page, `${prefix}-375`);
  await page.setViewportSize({ width: 1280, height: 900 });
}
