// The e2e run drives Debian's Chromium; say how to get it instead of failing inside Playwright.
import fs from 'node:fs';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!fs.existsSync(chromium)) {
  console.error(
    `error: no Chromium at ${chromium}; install it (sudo apt-get install -y chromium, or bash scripts/setup.sh g++ libdnnl-dev chromium) or set CHROMIUM_PATH`,
  );
  process.exit(1);
}
