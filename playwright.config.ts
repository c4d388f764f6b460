import { defineConfig, devices } from '@playwright/test';
import { freePort } from './scripts/harness/free-port.ts';

/**
 * E2E tests of the built site (`npm run build` first): `astro preview` serves dist/ on a free loopback
 * port. The port is picked once, by the runner, and handed to the workers through the environment
 * (they evaluate this file again).
 */
process.env.PLAYBOOK_E2E_PORT ??= String(await freePort());
const port = Number(process.env.PLAYBOOK_E2E_PORT);
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: 'test/e2e',
  fullyParallel: true,
  // Two cores: one browser each (Playwright's default, half the cores, would be one).
  workers: 2,
  forbidOnly: !!process.env.CI,
  retries: process.env.CI ? 1 : 0,
  reporter: process.env.CI ? [['list'], ['html', { open: 'never' }]] : 'list',
  use: {
    baseURL,
    trace: 'retain-on-failure',
    launchOptions: {
      // Playwright cannot download its browsers here: use Debian's chromium.
      executablePath: '/usr/bin/chromium',
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
    },
  },
  projects: [{ name: 'chromium', use: { ...devices['Desktop Chrome'] } }],
  webServer: {
    command: `npm run preview -- --port ${port}`,
    url: baseURL,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: { ASTRO_TELEMETRY_DISABLED: '1' },
  },
});
