#!/usr/bin/env bash
# The README's test command, from a fresh clone: installs what the tests need (scripts/setup.sh: g++, oneDNN,
# Chromium and redis-server with apt where it can, then npm ci; the queue tests start their own redis-server on a
# free loopback port and stop it), then runs every check — project boundaries and formatting, type
# checks, unit and app tests, then the site's Playwright tests. Never from Nx's cache.
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NEXT_TELEMETRY_DISABLED=1
bash scripts/setup.sh ${CV_TEST_PACKAGES:-g++ libdnnl-dev chromium redis-server}
npx nx run-many -t lint typecheck test --output-style=static --parallel=2 --skip-nx-cache
npx nx run e2e:e2e --output-style=static --skip-nx-cache
