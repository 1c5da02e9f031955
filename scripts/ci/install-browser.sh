#!/usr/bin/env bash
# install-browser.sh — Debian's chromium for the status-page browser test
# (test/integration/browser-*.test.ts drives it through playwright-core's executablePath;
# playwright's own browser download cannot work here: only Debian's mirror and npm are reachable).
#
# CI-only plumbing. Idempotent: when /usr/bin/chromium exists it does nothing and returns at once.
# Fonts: Liberation (the page's text) and DejaVu (its status glyphs: ✓ ✕ …), so screenshots
# read the same on a fresh machine.
set -euo pipefail

log() { printf '[install-browser] %s\n' "$*" >&2; }

if [ -x /usr/bin/chromium ]; then
  log "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo '?')"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root to apt-get install chromium"
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log "installing chromium from Debian"
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-liberation fonts-dejavu-core >/dev/null
log "installed: $(/usr/bin/chromium --version 2>/dev/null || echo '?')"
