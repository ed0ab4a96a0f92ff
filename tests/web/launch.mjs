// Debian's Chromium, headless, as every browser test here starts it: no
// sandbox (we run as root), and none of the background traffic that this
// machine's closed network would refuse.

import { chromium } from 'playwright-core';

export function launch(userDataDir, timeout, extra = {}) {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout,
    ...extra,
  });
}
