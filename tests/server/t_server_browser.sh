#!/usr/bin/env bash
# voxd's page in Debian's Chromium driven by playwright-core: type, click, audio arrives.
cd "$(dirname "$0")" && source ./lib.sh
source ./js/npm_env.sh
CHROMIUM=${VOX_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "chromium not installed (scripts/packages.txt lists it; run scripts/setup.sh)"; echo "0 passed, 1 failed"; exit 1; }
start_server page --workers 2
node ./js/browser.js "http://127.0.0.1:$PORT/"
