#!/usr/bin/env bash
# start-dockerd.sh — make sure a Docker daemon answers on /var/run/docker.sock.
#
# CI-only plumbing, not part of the product. Idempotent: if the socket already
# answers `_ping` it returns at once (~10 ms) without touching anything.
# Otherwise it starts dockerd in the background (detached with setsid, so it
# outlives the CI step / shell that started it), logging to /tmp/dockerd.log,
# and waits up to $DOCKERD_WAIT_SECONDS (default 30) for `_ping`; on timeout
# it prints the log tail and exits non-zero.
#
# Why not systemd/service? These machines have no systemd (PID 1 is the
# sandbox's init), so nobody else will start or supervise the daemon.
#
# Findings on this sandbox (Firecracker VM, Debian bookworm, kernel 6.x,
# cgroup v1 hybrid layout, ext4 root, Engine 20.10.24 from Debian):
#   * Plain `dockerd` with default flags works: overlay2 on ext4 (native diff),
#     iptables (iptables-nft) for NAT/masquerade, cgroupfs driver, cgroup v1
#     with the freezer controller mounted, seccomp. dockerd spawns and manages
#     its own containerd (no containerd service is running here).
#   * Verified working: containers run; HEALTHCHECK (starting -> healthy /
#     unhealthy); restart policies (on-failure / unless-stopped restart the
#     container, RestartCount increments); pause/unpause (cgroup v1 freezer);
#     docker kill (SIGKILL and custom signals); user-defined bridge networks
#     with embedded DNS (containers resolve each other by name/alias, as
#     compose needs); -p 127.0.0.1:PORT:PORT published ports reachable from
#     the host; outbound network from containers and from `docker build`
#     RUN steps (NAT through eth0) to the npm registry.
#   * Flags are still probed rather than assumed, so the same script works on
#     a more locked-down machine:
#       - storage: overlay2 if an overlay mount works on the filesystem under
#         /var/lib/docker (it may not when nested in another overlay), else
#         vfs (works everywhere, but every layer is a full copy: slow builds,
#         lots of disk);
#       - iptables: if `iptables -t nat -L` fails (no netfilter), run with
#         --iptables=false --ip-masq=false. Containers then cannot reach the
#         outside world (no NAT), but published ports still work through the
#         userland docker-proxy and container<->container traffic on a bridge
#         still works.
#   * Override knobs: DOCKERD_STORAGE_DRIVER=overlay2|vfs|..., DOCKERD_EXTRA_ARGS
#     (word-split), DOCKERD_WAIT_SECONDS, DOCKERD_LOG.
set -euo pipefail

SOCK=/var/run/docker.sock
LOG=${DOCKERD_LOG:-/tmp/dockerd.log}
WAIT=${DOCKERD_WAIT_SECONDS:-30}
DATA_ROOT=/var/lib/docker

log() { printf '[start-dockerd] %s\n' "$*" >&2; }

ping_ok() {
  [ -S "$SOCK" ] && [ "$(curl -fsS --max-time 2 --unix-socket "$SOCK" http://localhost/_ping 2>/dev/null)" = "OK" ]
}

if ping_ok; then
  log "dockerd already answering on $SOCK"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "start-dockerd.sh must run as root" >&2
  exit 1
fi
command -v dockerd >/dev/null 2>&1 || {
  echo "dockerd not installed; run scripts/ci/install-docker.sh first" >&2
  exit 1
}

wait_for_ping() {
  local deadline=$((SECONDS + WAIT))
  while [ "$SECONDS" -lt "$deadline" ]; do
    ping_ok && return 0
    # Stop waiting early if the daemon we started has already died.
    if [ -n "${1:-}" ] && ! kill -0 "$1" 2>/dev/null; then return 1; fi
    sleep 0.5
  done
  ping_ok
}

# A dockerd that is still starting up (e.g. another CI step just launched it):
# wait for it instead of starting a second one that would fight for the pidfile.
if pid=$(pgrep -x dockerd | head -n1) && [ -n "$pid" ]; then
  log "dockerd (pid $pid) is running but not answering yet; waiting up to ${WAIT}s"
  if wait_for_ping "$pid"; then exit 0; fi
  echo "dockerd pid $pid did not answer on $SOCK within ${WAIT}s; log tail:" >&2
  tail -n 40 "$LOG" >&2 2>/dev/null || true
  exit 1
fi

args=()

# --- storage driver --------------------------------------------------------
# Probe: can we mount overlay on the same filesystem dockerd will use?
probe_overlay() {
  mkdir -p "$DATA_ROOT"
  local d
  d=$(mktemp -d "$DATA_ROOT/.overlay-probe.XXXXXX")
  mkdir -p "$d/l" "$d/u" "$d/w" "$d/m"
  local rc=1
  if mount -t overlay overlay -o "lowerdir=$d/l,upperdir=$d/u,workdir=$d/w" "$d/m" 2>/dev/null; then
    rc=0
    umount "$d/m" || true
  fi
  rm -rf "$d"
  return "$rc"
}
driver=${DOCKERD_STORAGE_DRIVER:-}
if [ -z "$driver" ]; then
  if probe_overlay; then driver=overlay2; else driver=vfs; fi
fi
args+=("--storage-driver=$driver")

# --- networking ------------------------------------------------------------
if ! iptables -t nat -L -n >/dev/null 2>&1; then
  log "iptables NAT table unusable: --iptables=false --ip-masq=false (containers get no outbound network)"
  args+=(--iptables=false --ip-masq=false)
fi

# shellcheck disable=SC2206  # deliberate word splitting of extra args
[ -n "${DOCKERD_EXTRA_ARGS:-}" ] && args+=(${DOCKERD_EXTRA_ARGS})

start() {
  log "starting: dockerd ${*} (log: $LOG)"
  printf '\n===== %s dockerd %s\n' "$(date -u +%FT%TZ)" "$*" >>"$LOG"
  # setsid: own session/process group, so the daemon is not killed together
  # with the CI step's process group; stdin from /dev/null so it never holds
  # the caller's terminal or pipes open.
  setsid dockerd "$@" </dev/null >>"$LOG" 2>&1 &
  DOCKERD_PID=$!
}

# The first `docker` on PATH may be a newer client than the 20.10 engine
# (e.g. a Docker 28 CLI in /usr/local/bin); it must negotiate down to API
# 1.41 on its own. Check that once, right after a cold start.
verify_cli() {
  local v
  v=$(docker version --format '{{.Client.Version}} (API {{.Client.APIVersion}}) -> engine {{.Server.Version}} (API {{.Server.APIVersion}})' 2>&1) \
    || { echo "docker CLI $(command -v docker) cannot talk to dockerd: $v" >&2; return 1; }
  log "docker CLI $v"
}

start "${args[@]}"
if wait_for_ping "$DOCKERD_PID"; then
  log "dockerd up (pid $DOCKERD_PID, storage $driver)"
  verify_cli
  exit 0
fi

# overlay2 passed the mount probe but dockerd still refused it (e.g. an
# existing data root it cannot use): fall back to vfs once, unless the caller
# pinned a driver.
if [ "$driver" = overlay2 ] && [ -z "${DOCKERD_STORAGE_DRIVER:-}" ] \
   && ! kill -0 "$DOCKERD_PID" 2>/dev/null; then
  log "dockerd with overlay2 failed; retrying with vfs"
  args=("${args[@]/--storage-driver=overlay2/--storage-driver=vfs}")
  start "${args[@]}"
  if wait_for_ping "$DOCKERD_PID"; then
    log "dockerd up (pid $DOCKERD_PID, storage vfs)"
    verify_cli
    exit 0
  fi
fi

echo "dockerd did not answer on $SOCK within ${WAIT}s; last lines of $LOG:" >&2
tail -n 40 "$LOG" >&2 || true
exit 1
