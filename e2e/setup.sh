#!/usr/bin/env bash
# Installs what the console's browser tests need: Debian's Chromium and playwright-core (the
# exact version in e2e/package-lock.json). Run once; `cargo test` then runs the browser tests.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x /usr/bin/chromium ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
npm ci --no-audit --no-fund --loglevel=error
