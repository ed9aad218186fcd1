#!/usr/bin/env bash
# The README's test command, from a fresh clone: installs what the tests need (scripts/setup.sh: g++, oneDNN,
# Chromium, redis-server and libvulkan1 with apt where it can, then npm ci; the queue tests start their own redis-server on a
# free loopback port and stop it), then runs every check — project boundaries and formatting, type
# checks, unit and app tests, then the site's Playwright tests. Never from Nx's cache.
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NEXT_TELEMETRY_DISABLED=1
bash scripts/setup.sh ${CV_TEST_PACKAGES:-g++ libdnnl-dev chromium redis-server libvulkan1}
# The WebGPU kernel tests run on SwiftShader (chromium's software Vulkan driver, through libvulkan1) where no GPU
# is: where that driver is installed, a missing WebGPU adapter fails the tests instead of skipping them.
if [ -f /usr/lib/chromium/vk_swiftshader_icd.json ] && [ -f /usr/lib/x86_64-linux-gnu/libvulkan.so.1 ]; then export CV_REQUIRE_WEBGPU=1; fi
npx nx run-many -t lint typecheck test --output-style=static --parallel=2 --skip-nx-cache
npx nx run e2e:e2e --output-style=static --skip-nx-cache
