#!/usr/bin/env bash
# The demo on the shipped models, from a fresh clone: installs (scripts/setup.sh), builds the site if needed and
# serves it on PORT (default 3000), printing the URL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export NEXT_TELEMETRY_DISABLED=1
exec npx nx run web:start --output-style=stream
