# shellcheck shell=bash
# lib-rootfs.sh — helpers shared by build-test-images.sh and
# build-node-base-image.sh (sourced, not executed). CI-only plumbing.
#
# Why rootfs tarballs + `docker import` instead of Dockerfiles: CI has no
# container registry, so there is no base image to start FROM, and a
# FROM-scratch Dockerfile has no shell to create busybox's ~270 applet links.
# Assembling the tree on the host and importing it works fully offline and
# gives a single-layer image in a second or two.

BUSYBOX_BIN=${BUSYBOX_BIN:-/bin/busybox}

# ensure_docker: make sure the lane's daemon answers (fast no-op when it does). The lane is
# CI_DOCKER_LANE (set by lane.sh), else main: the engine on the default socket.
ensure_docker() {
  "$(dirname "${BASH_SOURCE[0]}")/start-dockerd.sh" "${CI_DOCKER_LANE:-main}"
}

# image_exists NAME: true when the local image is present.
image_exists() {
  docker image inspect "$1" >/dev/null 2>&1
}

# require_static_busybox: the Debian `busybox` package is dynamically linked
# and would not run in a scratch image; `busybox-static` is what we need.
require_static_busybox() {
  if [ ! -x "$BUSYBOX_BIN" ]; then
    echo "$BUSYBOX_BIN missing; run scripts/ci/install-docker.sh (installs busybox-static)" >&2
    return 1
  fi
  if ldd "$BUSYBOX_BIN" >/dev/null 2>&1; then
    echo "$BUSYBOX_BIN is dynamically linked; install busybox-static instead of busybox" >&2
    return 1
  fi
}

# add_busybox ROOTFS: copy the static busybox to ROOTFS/bin/busybox and link
# every applet at its canonical path (bin/sh, usr/bin/wget, sbin/...) unless
# something is already there (so e.g. a real `node`/`env` is never shadowed).
add_busybox() {
  local root=$1 rel
  require_static_busybox
  install -D -m 0755 "$BUSYBOX_BIN" "$root/bin/busybox"
  while IFS= read -r rel; do
    [ -n "$rel" ] && [ "$rel" != bin/busybox ] || continue
    mkdir -p "$root/$(dirname "$rel")"
    [ -e "$root/$rel" ] || [ -L "$root/$rel" ] || ln -s /bin/busybox "$root/$rel"
  done < <("$BUSYBOX_BIN" --list-full)
}

# add_base_files ROOTFS: the minimum a container userland expects.
# /etc/hosts, /etc/hostname and /etc/resolv.conf are bind-mounted by Docker at
# run time, so they are created empty just to exist for `docker build` steps.
add_base_files() {
  local root=$1
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,home,proc,sys,dev,run,var/tmp,var/www}
  install -d -m 1777 "$root/tmp"
  chmod 1777 "$root/var/tmp"
  chmod 0700 "$root/root"
  cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
  cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
  : >"$root/etc/hosts"
  : >"$root/etc/resolv.conf"
  : >"$root/etc/hostname"
  # musl/glibc name lookup order (glibc in node-base reads it).
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
}

# import_rootfs ROOTFS IMAGE [--change ...]...: tar the tree as root-owned
# files and `docker import` it.
import_rootfs() {
  local root=$1 image=$2
  shift 2
  tar -C "$root" --numeric-owner --owner=0 --group=0 -cf - . \
    | docker import "$@" - "$image" >/dev/null
}
