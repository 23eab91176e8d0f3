/**
 * Debian's Chromium, headless, driven by playwright-core, for the dashboard's tests. Chromium comes
 * from Debian's packages (installed when missing, as root, like the private servers' packages);
 * playwright never downloads a browser of its own.
 */
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { ensureTool } from '../../scripts/private-server.js';

export interface TestBrowser {
  readonly browser: Browser;
  /** A fresh context (its own storage), so one test's token does not leak into the next. */
  context(): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** The Chromium binary, installing Debian's `chromium` package when it is missing. */
export function chromiumPath(): string {
  return ensureTool('chromium', 'chromium');
}

/**
 * Launches headless Chromium. playwright gives it a fresh, temporary user-data dir (and removes it
 * on close): no profile, cache or storage of an earlier run.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  const executablePath = chromiumPath();
  const browser = await chromium.launch({
    executablePath,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  return {
    browser,
    context: () => browser.newContext({ viewport: { width: 1400, height: 1000 } }),
    close: () => browser.close(),
  };
}
