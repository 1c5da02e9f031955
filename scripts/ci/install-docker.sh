#!/usr/bin/env bash
# install-docker.sh — install both CI lanes' Docker engines (see lib-lanes.sh) on a Debian
# bookworm CI machine that can reach only Debian's apt mirror and the npm registry (no container
# registry, no download.docker.com).
#
# CI-only plumbing, not part of the product. Idempotent: when everything is in place it does
# nothing (no apt-get update, no download) and returns in well under a second. Each lane's
# prefix carries a stamp with the package versions it was built from; a prefix without its stamp
# (an interrupted install) is rebuilt from scratch.
#
# What it installs and WHY:
#   * From bookworm, with apt: docker.io (Engine 20.10.24, API 1.41, with containerd 1.6 and
#     runc 1.1), tini (docker-init, `--init`), busybox-static (a fully static /bin/busybox for the
#     FROM-scratch test images: no registry, no `docker pull busybox`) and socat (poking sockets).
#   * The oldest lane (/opt/health-bridge-ci/engine-20.10): bin/ links to those apt binaries,
#     and trixie's docker-compose (2.26.x) as its compose plugin. bookworm has only the dead
#     python compose v1.
#   * The main lane (/opt/health-bridge-ci/engine-28.5): forky's docker.io (dockerd and
#     docker-proxy 28.5.x), docker-cli (28.5.x), containerd (2.1.x: containerd and its runc
#     shim) and docker-compose (2.40.x), unpacked under root/. These are Go binaries that need
#     only glibc >= 2.34, which bookworm has (2.36). forky's runc needs glibc 2.38, so the lane
#     uses bookworm's runc 1.1.5 (apt), which containerd 2.1's shim drives fine; docker-init is
#     bookworm's tini-static. Verified here: containers, healthchecks with start_interval,
#     `--init`, restart policies, pause, compose networks.
#   * The machine's defaults point at the main lane, which owns the default socket: the CLI
#     plugin /usr/local/lib/docker/cli-plugins/docker-compose (and a docker-compose link on
#     PATH), and dockerd, docker-proxy, containerd and its shim in /usr/local/sbin (ahead of
#     bookworm's on PATH). bookworm's own files stay where apt put them, for the oldest lane.
#
# The .debs from trixie and forky are fetched and verified by lib-debs.sh (signed InRelease ->
# Packages.xz -> SHA256), never through an apt source. The versions each lane is meant to have
# are pinned below by major.minor: when the suite moves on (forky is Debian testing), the install
# stops with a message rather than CI quietly testing another engine than the README states.
#
# Note on the docker CLI: the machine image may have its own client at /usr/local/bin/docker
# (Docker 28.2). The lanes do not use it: lane.sh puts each lane's bin/ first on PATH (28.5 for
# main, bookworm's 20.10 for oldest).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-debs.sh
. "$HERE/lib-debs.sh"
# shellcheck source=lib-lanes.sh
. "$HERE/lib-lanes.sh"

log() { printf '[install-docker] %s\n' "$*" >&2; }

# What each lane is built from: suite, package and the version it must be (major.minor).
OLDEST_COMPOSE_SUITE=trixie
OLDEST_COMPOSE_VERSION=2.26
MAIN_SUITE=forky
MAIN_PACKAGES=(docker.io docker-cli containerd docker-compose)
declare -A MAIN_VERSIONS=([docker.io]=28.5 [docker-cli]=28.5 [containerd]=2.1 [docker-compose]=2.40)
DEFAULT_PLUGIN=/usr/local/lib/docker/cli-plugins/docker-compose

if [ "$(id -u)" -ne 0 ]; then
  echo "install-docker.sh must run as root (it uses apt-get/dpkg)" >&2
  exit 1
fi

# ---------------------------------------------------------------------------
# 1. bookworm packages, with apt.
# ---------------------------------------------------------------------------
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
need_apt=()
# busybox-static, not `busybox`: only the static build runs inside a FROM-scratch image, and
# both install /bin/busybox, so the package is checked rather than the path.
for p in docker.io tini busybox-static socat; do installed "$p" || need_apt+=("$p"); done
if [ "${#need_apt[@]}" -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Without systemd, docker.io's postinst could launch dockerd through /etc/init.d with default
  # flags. start-dockerd.sh owns the daemons and their flags, so block service starts during the
  # install (a policy-rc.d that exits 101 means "do not start services") unless one exists.
  tmp_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    tmp_policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' >"$tmp_policy"
    chmod 0755 "$tmp_policy"
    trap '[ -n "$tmp_policy" ] && rm -f "$tmp_policy"' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  if [ -n "$tmp_policy" ]; then rm -f "$tmp_policy"; tmp_policy=""; fi
else
  log "bookworm: docker.io, tini, busybox-static, socat already installed"
fi

# link_bin BIN TARGET...: BIN/<name> -> TARGET for each target (name = the target's basename).
link_bin() {
  local bin=$1 t
  shift
  mkdir -p "$bin"
  for t in "$@"; do
    [ -x "$t" ] || { echo "missing executable $t" >&2; return 1; }
    ln -sfn "$t" "$bin/$(basename "$t")"
  done
}

# lane_ready: the lane's stamp exists and every bin/ link and the plugin resolve.
lane_ready() {
  local f
  [ -f "$LANE_DIR/installed" ] || return 1
  for f in dockerd containerd containerd-shim-runc-v2 runc docker-init docker-proxy docker; do
    [ -x "$LANE_BIN/$f" ] || return 1
  done
  [ -x "$LANE_DOCKER_CONFIG/cli-plugins/docker-compose" ]
}

# check_version PACKAGE VERSION WANT: stop when VERSION is not WANT.x.
check_version() {
  version_is "$2" "$3" && return 0
  echo "$1 is $2 in the suite, but this lane is pinned to $3.x: update lib-lanes.sh, this" \
    "script and the README's supported versions together" >&2
  return 1
}

# ---------------------------------------------------------------------------
# 2. The oldest lane: bookworm's engine, trixie's compose.
# ---------------------------------------------------------------------------
lane_vars oldest
if lane_ready; then
  log "oldest lane ready in $LANE_DIR ($(tr '\n' ' ' <"$LANE_DIR/installed"))"
else
  log "oldest lane: building $LANE_DIR"
  rm -rf "$LANE_DIR"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  fetch_verified_debs "$OLDEST_COMPOSE_SUITE" "$work" docker-compose
  read -r _ compose_version <"$work/versions"
  check_version docker-compose "$compose_version" "$OLDEST_COMPOSE_VERSION"
  dpkg-deb -x "$work/docker-compose.deb" "$work/root"
  # 2.26.1-4 ships it at usr/libexec/docker/cli-plugins/docker-compose; search so a future
  # re-layout (usr/lib/docker/cli-plugins, usr/bin) still works.
  bin=$(find "$work/root" -type f -name docker-compose -perm -u+x | sort | head -n1)
  [ -n "$bin" ] || { echo "no docker-compose binary in trixie's docker-compose" >&2; exit 1; }
  install -D -m 0755 "$bin" "$LANE_DOCKER_CONFIG/cli-plugins/docker-compose"
  link_bin "$LANE_BIN" /usr/sbin/dockerd /usr/sbin/docker-proxy /usr/bin/docker \
    /usr/bin/containerd /usr/bin/containerd-shim-runc-v2 /usr/bin/ctr /usr/sbin/runc \
    /usr/bin/docker-init
  {
    dpkg-query -W -f='${Package} ${Version} (bookworm)\n' docker.io containerd runc
    printf 'docker-compose %s (%s)\n' "$compose_version" "$OLDEST_COMPOSE_SUITE"
  } >"$LANE_DIR/installed.tmp"
  mv "$LANE_DIR/installed.tmp" "$LANE_DIR/installed"
  rm -rf "$work"
  trap - EXIT
fi

# ---------------------------------------------------------------------------
# 3. The main lane: forky's engine, CLI, containerd and compose; bookworm's runc and tini.
# ---------------------------------------------------------------------------
lane_vars main
if lane_ready; then
  log "main lane ready in $LANE_DIR ($(tr '\n' ' ' <"$LANE_DIR/installed"))"
else
  log "main lane: building $LANE_DIR"
  rm -rf "$LANE_DIR"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  fetch_verified_debs "$MAIN_SUITE" "$work" "${MAIN_PACKAGES[@]}"
  while read -r pkg version; do
    check_version "$pkg" "$version" "${MAIN_VERSIONS[$pkg]}"
  done <"$work/versions"
  mkdir -p "$LANE_DIR/root"
  for pkg in "${MAIN_PACKAGES[@]}"; do dpkg-deb -x "$work/$pkg.deb" "$LANE_DIR/root"; done
  # Only the binaries: the packages' /etc, systemd units and init scripts are not used (the
  # daemon is started by start-dockerd.sh with its flags), so they stay inside root/.
  r=$LANE_DIR/root
  link_bin "$LANE_BIN" "$r/usr/sbin/dockerd" "$r/usr/sbin/docker-proxy" "$r/usr/bin/docker" \
    "$r/usr/bin/containerd" "$r/usr/bin/containerd-shim-runc-v2" "$r/usr/bin/ctr" \
    /usr/sbin/runc
  # forky's docker-init is a link to tini-static (package tini-static); bookworm's tini
  # package ships the same static binary.
  ln -sfn /usr/bin/tini-static "$LANE_BIN/docker-init"
  mkdir -p "$LANE_DOCKER_CONFIG/cli-plugins"
  ln -sfn "$r/usr/libexec/docker/cli-plugins/docker-compose" \
    "$LANE_DOCKER_CONFIG/cli-plugins/docker-compose"
  {
    sed "s/\$/ ($MAIN_SUITE)/" "$work/versions"
    dpkg-query -W -f='${Package} ${Version} (bookworm)\n' runc
  } >"$LANE_DIR/installed.tmp"
  mv "$LANE_DIR/installed.tmp" "$LANE_DIR/installed"
  rm -rf "$work"
  trap - EXIT
fi

# ---------------------------------------------------------------------------
# 4. The machine's defaults are the main lane's, because the main lane owns the default socket:
#    the default compose plugin, and dockerd, docker-proxy, containerd, its shim and ctr in
#    /usr/local/sbin, ahead of bookworm's /usr/sbin and /usr/bin on PATH. So a plain
#    `docker compose`, and a plain `dockerd` (what a test's private engine starts when
#    TEST_DOCKERD is unset), match the engine on the default socket. Not for a trial install
#    under another HB_CI_PREFIX: that one must not change what the machine runs.
# ---------------------------------------------------------------------------
# link_default LINK TARGET: LINK -> TARGET, replaced atomically (a running test may use it).
link_default() {
  [ "$(readlink "$1" 2>/dev/null)" = "$2" ] && return 0
  mkdir -p "$(dirname "$1")"
  ln -sfn "$2" "$1.new"
  mv -T "$1.new" "$1"
  log "$1 -> $2"
}
if [ "$HB_CI_PREFIX" = /opt/health-bridge-ci ]; then
  link_default "$DEFAULT_PLUGIN" "$LANE_DOCKER_CONFIG/cli-plugins/docker-compose"
  # The standalone name too (the same binary behaves as compose v2 when called by that name).
  link_default /usr/local/bin/docker-compose "$DEFAULT_PLUGIN"
  for b in dockerd docker-proxy containerd containerd-shim-runc-v2 ctr; do
    link_default "/usr/local/sbin/$b" "$LANE_BIN/$b"
  done
fi

# ---------------------------------------------------------------------------
# 5. Verify (client side only; the daemons are start-dockerd.sh's job).
# ---------------------------------------------------------------------------
for lane in $CI_LANES; do
  lane_vars "$lane"
  d=$("$LANE_BIN/dockerd" --version)
  c=$(DOCKER_CONFIG=$LANE_DOCKER_CONFIG "$LANE_BIN/docker" compose version --short)
  version_is "$c" "$LANE_COMPOSE" \
    || { echo "$lane lane: docker compose is $c, want $LANE_COMPOSE.x" >&2; exit 1; }
  log "$lane lane: ${d%%,*}; compose $c; containerd $("$LANE_BIN/containerd" --version | awk '{print $3}'); runc $("$LANE_BIN/runc" --version | awk 'NR==1{print $3}')"
done
