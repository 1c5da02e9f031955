#!/usr/bin/env bash
# build-test-images.sh — build, fully offline, the image the Docker tests use:
#
#   health-bridge-test/busybox:latest
#     FROM scratch + Debian's static busybox (/bin/busybox from busybox-static)
#     with every applet linked (sh, sleep, wget, nc, httpd, touch, rm, cat, ...),
#     /tmp (1777), minimal /etc/passwd + /etc/group, CMD ["sh"].
#
# CI-only plumbing, not part of the product. WHY: there is no container
# registry here, so `docker pull busybox` is impossible; the tests need a tiny
# image with a shell, an HTTP server/client and nc to play healthy/unhealthy
# services. The image is assembled as a rootfs tarball and `docker import`ed
# (a scratch Dockerfile could not create the applet symlinks: no shell).
#
# Idempotent: skips when the image already exists; --force rebuilds it.
# Starts dockerd via start-dockerd.sh if it is not answering.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-rootfs.sh
. "$HERE/lib-rootfs.sh"

IMAGE=health-bridge-test/busybox:latest
force=0
for a in "$@"; do
  case "$a" in
    --force|-f) force=1 ;;
    *) echo "usage: $0 [--force]" >&2; exit 2 ;;
  esac
done

log() { printf '[build-test-images] %s\n' "$*" >&2; }

ensure_docker

if [ "$force" -eq 0 ] && image_exists "$IMAGE"; then
  log "$IMAGE already present (use --force to rebuild)"
  exit 0
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

add_base_files "$root"
add_busybox "$root"
# A default document root so `httpd -f -p 8080 -h /var/www` serves something.
printf 'ok\n' >"$root/var/www/index.html"

bb_version=$("$BUSYBOX_BIN" 2>/dev/null | head -n1 | awk '{print $2}' || true)
import_rootfs "$root" "$IMAGE" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["sh"]' \
  --change "LABEL org.opencontainers.image.title=health-bridge-test-busybox org.opencontainers.image.version=${bb_version:-unknown} org.opencontainers.image.description=CI-only_test_image"

# Smoke test: shell + the applets the tests rely on exist.
out=$(docker run --rm "$IMAGE" sh -c 'echo ok; for a in sleep wget nc httpd touch rm cat kill ps grep; do command -v $a >/dev/null || echo "missing $a"; done')
if [ "$out" != ok ]; then
  echo "smoke test of $IMAGE failed: $out" >&2
  exit 1
fi
log "built $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE") bytes, busybox ${bb_version:-?}); smoke test ok"
