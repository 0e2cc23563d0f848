import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_PATH, chromiumSkip } from './requirements.ts';

/**
 * Headless Chromium for the browser tests, through playwright-core and the system's Chromium (no browser
 * download). `browserSkip()` is the reason to skip when Chromium is missing, or false when it can run; under
 * CI (CI=true) a missing Chromium throws instead, so the tests fail with that reason rather than skip.
 */
export function browserSkip(): string | false {
  return chromiumSkip();
}

/** Options for `test(name, browserTestOptions(), fn)`: skipped with a one-line reason when no browser can run. */
export function browserTestOptions(): { skip?: string } {
  try {
    const reason = browserSkip();
    return reason ? { skip: reason } : {};
  } catch {
    // Under CI the test runs and fails in launchBrowser with the reason.
    return {};
  }
}

export async function launchBrowser(): Promise<Browser> {
  const reason = browserSkip();
  if (reason) throw new Error(`Cannot run browser tests: ${reason}`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Collects uncaught page errors and console errors, so a test can assert the client bundle ran cleanly. */
export function watchPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  return errors;
}
