// Drives the web page in headless Chromium for tests/integration/web/browser.rs:
// loads the status page, clicks Stop in one row and Start in another,
// waits for each redirect and reads the message line, then takes a
// screenshot. Only 127.0.0.1 may be reached: every other request is
// aborted and reported. Prints what happened on stdout, one fact a line,
// the fields separated by tabs (newlines and tabs inside become spaces).
//
// node browser.mjs BASE_URL USER_DATA_DIR SCREENSHOT STOP_NAME START_NAME

import { launch } from './launch.mjs';
import fs from 'node:fs';

const [base, userDataDir, screenshot, stopName, startName] = process.argv.slice(2);
const STEP_MS = 20000;

// A hard bound on the whole run, whatever hangs.
const deadline = setTimeout(() => {
  console.error('browser.mjs: no result within 90 s');
  process.exit(3);
}, 90000);

const result = {
  browserPid: null,
  requests: [],
  blocked: [],
  title: null,
  rowsBefore: [],
  steps: [],
  consoleErrors: [],
  pageErrors: [],
};

// The browser's main process: our child whose command line names our
// user-data-dir (Playwright starts it in a process group of its own).
function browserPid() {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && cmd.includes(userDataDir)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

const context = await launch(userDataDir, STEP_MS, { viewport: { width: 1100, height: 700 } });
result.browserPid = browserPid();

try {
  await context.route('**/*', (route) => {
    const url = route.request().url();
    let host = '';
    try {
      host = new URL(url).hostname;
    } catch {
      // not a URL with a host
    }
    if (host === '127.0.0.1') return route.continue();
    result.blocked.push(url);
    return route.abort();
  });
  context.on('request', (req) => result.requests.push(`${req.method()} ${req.url()}`));

  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(STEP_MS);
  page.setDefaultNavigationTimeout(STEP_MS);
  page.on('console', (m) => {
    if (m.type() === 'error') result.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => result.pageErrors.push(String(e)));

  const response = await page.goto(`${base}/`);
  result.status = response ? response.status() : null;
  result.title = await page.title();
  result.rowsBefore = await page.locator('tbody tr').evaluateAll((rows) =>
    rows.map((r) => ({
      name: r.querySelector('td.name')?.textContent?.trim(),
      state: r.querySelector('.state')?.textContent?.trim(),
      buttons: [...r.querySelectorAll('button')].map((b) => b.value),
    })),
  );

  // Clicks the button `action` in the row of `name` and waits for the
  // page the redirect leads to.
  async function click(name, action) {
    const row = page.locator('tbody tr').filter({
      has: page.locator('td.name', { hasText: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }),
    });
    const button = row.locator(`button[name="action"][value="${action}"]`);
    await Promise.all([
      page.waitForURL((u) => u.searchParams.has('message'), { timeout: STEP_MS }),
      button.click(),
    ]);
    await page.locator('.status_msg').waitFor({ timeout: STEP_MS });
    result.steps.push({
      name,
      action,
      url: page.url(),
      message: (await page.locator('.status_msg').textContent())?.trim(),
      rowState: (await row.locator('.state').textContent())?.trim(),
    });
  }

  await click(stopName, 'stop');
  await click(startName, 'start');
  await page.screenshot({ path: screenshot, fullPage: true });
  result.screenshot = screenshot;
} catch (e) {
  result.error = String(e && e.stack ? e.stack : e);
} finally {
  await context.close().catch(() => {});
  clearTimeout(deadline);
}

const clean = (v) => String(v ?? '').replace(/[\t\r\n]+/g, ' ');
const line = (...fields) => process.stdout.write(fields.map(clean).join('\t') + '\n');
line('pid', result.browserPid);
line('status', result.status);
line('title', result.title);
for (const r of result.rowsBefore) line('row', r.name, r.state, r.buttons.join(','));
for (const s of result.steps) line('step', s.name, s.action, s.message, s.rowState, s.url);
for (const r of result.requests) line('request', r);
for (const b of result.blocked) line('blocked', b);
for (const e of result.consoleErrors) line('console', e);
for (const e of result.pageErrors) line('pageerror', e);
if (result.screenshot) line('screenshot', result.screenshot);
if (result.error) line('error', result.error);
process.exit(result.error ? 1 : 0);
