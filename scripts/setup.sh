#!/usr/bin/env bash
# Installs what the suite needs on a Debian/Ubuntu machine, then the npm packages (npm ci; its postinstall builds
# the oneDNN addon). System packages: the arguments, default "g++ libdnnl-dev" (a C++ compiler and oneDNN for the
# engine's native kernels; without them the engine runs its pure-wasm kernels). CI adds chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# onnxruntime-node: its CPU binary ships in the package; its install script would fetch CUDA extras from outside the registries.
export ONNXRUNTIME_NODE_INSTALL=skip
packages="${*:-g++ libdnnl-dev}"
if command -v apt-get >/dev/null; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  # shellcheck disable=SC2086
  $SUDO apt-get install -y --no-install-recommends $packages >/dev/null || {
    $SUDO apt-get update >/dev/null && $SUDO apt-get install -y --no-install-recommends $packages >/dev/null
  } || {
    # On CI a missing package would let its tests be skipped: fail instead.
    if [ "${CI:-}" = true ]; then echo "error: apt-get could not install $packages (CI needs every one; check the apt sources)" >&2; exit 1; fi
    echo "warning: could not install $packages; without libdnnl-dev the engine runs its pure-wasm kernels, without chromium the browser tests cannot run" >&2
  }
else
  if [ "${CI:-}" = true ]; then echo "error: no apt-get on this CI machine; install $packages yourself" >&2; exit 1; fi
  echo "warning: no apt-get; install $packages yourself (native kernels, browser tests)" >&2
fi
# npm ci when node_modules is missing or older than the lock file (a second run of the tests does not reinstall).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
