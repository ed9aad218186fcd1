import { defineConfig } from '@playwright/test';

const PORT = Number(process.env.E2E_PORT ?? 3210);

/**
 * The demo site in Debian's Chromium (apt-get install chromium). The web server is the README's main command
 * (`node apps/web/scripts/start.mjs`: builds when needed, then `next start`).
 */
export default defineConfig({
  testDir: './tests',
  outputDir: '../test-results/e2e',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://localhost:${PORT}`,
    viewport: { width: 1280, height: 900 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
        // The webcam tests: Chromium's test-pattern camera, allowed without a prompt.
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
      ],
    },
  },
  webServer: {
    command: 'node apps/web/scripts/start.mjs',
    cwd: '..',
    url: `http://localhost:${PORT}/api/models`,
    env: { PORT: String(PORT), NEXT_TELEMETRY_DISABLED: '1' },
    timeout: 600_000,
    reuseExistingServer: false,
    stdout: 'pipe',
  },
});
