#!/usr/bin/env bash
# build-bridge-image.sh — build the product image from the repository's Dockerfile, offline:
#
#   docker build --build-arg NODE_IMAGE=health-bridge-test/node-base:20 -t health-bridge-test/bridge:ci .
#
# CI-only plumbing, not part of the product. WHY: the end-to-end test
# (test/integration/e2e-compose.test.ts) builds the same Dockerfile under a tag of its own and
# removes that tag afterwards. Building it here first, before the tests, leaves the layers in the
# classic builder's cache under this tag, so the test's build is a cache hit (seconds) and its
# clean-up removes only its own tag. The cold build (npm ci + tsc inside `docker build`) needs the
# npm registry, which node-base's npmrc reaches the way the host's npm does.
#
# Not skipped when the image exists: the source may have changed, and a rebuild with nothing
# changed is all cache hits (a few seconds). Needs health-bridge-test/node-base:20
# (build-node-base-image.sh; built here when missing).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib-rootfs.sh
. "$HERE/lib-rootfs.sh"

IMAGE=health-bridge-test/bridge:ci
NODE_IMAGE=health-bridge-test/node-base:20

log() { printf '[build-bridge-image] %s\n' "$*" >&2; }

ensure_docker
image_exists "$NODE_IMAGE" || "$HERE/build-node-base-image.sh" --skip-npm-check

started=$(date +%s)
# The classic builder (no buildx here): do not export DOCKER_BUILDKIT=1 (see README.md).
docker build -q --build-arg "NODE_IMAGE=$NODE_IMAGE" -t "$IMAGE" "$ROOT" >/dev/null
size=$(docker image inspect --format '{{.Size}}' "$IMAGE")
log "$IMAGE built in $(( $(date +%s) - started )) s, $(( size / 1000000 )) MB"
