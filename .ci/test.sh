#!/usr/bin/env bash
# Install test dependencies (Debian's chromium for browser tests, the pinned eslint from package-lock.json)
# and run the whole suite: the viewer scripts' checks (node --check, eslint, node's test runner), then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then APT=""; else APT="sudo"; fi
  $APT apt-get update -qq && $APT apt-get install -y -qq chromium >/dev/null
fi
python3 -m pip install -q torch==2.13.0
python3 -m pip install -q -e '.[demo,test]'
npm ci --no-audit --no-fund --loglevel=error
# Viewer scripts: every file parses, passes eslint, and the pure helpers pass their unit tests.
find templates/assets/reportgen tests/js -name '*.js' -print0 | xargs -0 -n1 node --check
npx --no-install eslint
node --test tests/js/*.test.js
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
python3 -m pytest -q "$@"
