// A page on another site tries to act on the daemon through the user's
// browser (tests/web_cross_site.rs): this script serves that page itself
// on another 127.0.0.1 port, opens it in headless Chromium, and the page
// at once (1) loads Python's GET action link for STOP_GET as an image and
// (2) auto-submits a form POST with action=stop for STOP_POST to the
// daemon's index.html. Prints, one fact a line with tab-separated fields,
// the daemon's answers as the browser saw them; the Rust test then checks
// over XML-RPC that both programs still run. Only 127.0.0.1 is reached.
//
// node cross_site.mjs DAEMON_URL USER_DATA_DIR STOP_POST STOP_GET

import { launch } from './launch.mjs';
import http from 'node:http';

const [daemon, userDataDir, stopPost, stopGet] = process.argv.slice(2);
const STEP_MS = 20000;

const deadline = setTimeout(() => {
  console.error('cross_site.mjs: no result within 90 s');
  process.exit(3);
}, 90000);

const enc = encodeURIComponent;
const page = `<!doctype html>
<html><body>
<img src="${daemon}/index.html?processname=${enc(stopGet)}&action=stop">
<form id="f" method="POST" action="${daemon}/index.html">
<input type="hidden" name="processname" value="${stopPost}">
<input type="hidden" name="action" value="stop">
</form>
<script>window.addEventListener('load', () => document.getElementById('f').submit());</script>
</body></html>`;

const evil = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html' });
  res.end(page);
});
await new Promise((resolve) => evil.listen(0, '127.0.0.1', resolve));
const evilUrl = `http://127.0.0.1:${evil.address().port}/`;

const lines = [];
const clean = (v) => String(v ?? '').replace(/[\t\r\n]+/g, ' ');
const line = (...fields) => lines.push(fields.map(clean).join('\t'));
let failed = null;

const context = await launch(userDataDir, STEP_MS);

try {
  await context.route('**/*', (route) => {
    let host = '';
    try {
      host = new URL(route.request().url()).hostname;
    } catch {
      // not a URL with a host
    }
    if (host === '127.0.0.1') return route.continue();
    line('blocked', route.request().url());
    return route.abort();
  });
  // Every answer from the daemon, as the browser got it.
  context.on('response', async (res) => {
    if (!res.url().startsWith(daemon)) return;
    const req = res.request();
    line('answer', req.method(), res.url(), res.status());
  });
  const tab = context.pages()[0] ?? (await context.newPage());
  tab.setDefaultTimeout(STEP_MS);
  line('evil', evilUrl);
  // The form's POST navigates the tab to the daemon's answer.
  await Promise.all([
    tab.waitForURL((u) => u.href.startsWith(daemon), { timeout: STEP_MS }),
    tab.goto(evilUrl),
  ]);
  await tab.waitForLoadState('load');
  line('landed', tab.url(), (await tab.locator('body').textContent())?.trim());
} catch (e) {
  failed = String(e && e.stack ? e.stack : e);
} finally {
  await context.close().catch(() => {});
  evil.close();
  clearTimeout(deadline);
}

if (failed) line('error', failed);
process.stdout.write(lines.join('\n') + '\n');
process.exit(failed ? 1 : 0);
