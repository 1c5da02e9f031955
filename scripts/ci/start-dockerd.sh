#!/usr/bin/env bash
# start-dockerd.sh [LANE] [--replace] — make sure LANE's Docker daemon (lib-lanes.sh; default
# `main`, the default socket /var/run/docker.sock) answers, and that it is the lane's engine.
#
# CI-only plumbing, not part of the product. Idempotent: if the lane's socket already answers
# `_ping` with the lane's engine version it returns at once without touching anything.
# Otherwise it starts the lane's dockerd in the background (detached with setsid, so it outlives
# the CI step / shell that started it) with the lane's bin/ first on PATH (so dockerd starts the
# lane's containerd, which finds the lane's shim and runc), logs to the lane's log
# (/tmp/dockerd.log for main), and waits up to $DOCKERD_WAIT_SECONDS (default 30) for `_ping`;
# on timeout it prints the log tail and exits non-zero.
#
# When the socket answers with another engine (e.g. the default socket still runs the 20.10 an
# older checkout of these scripts started there), it stops with a message: that daemon may be
# serving someone else. --replace stops it (stop-dockerd.sh, by its pidfile) and starts the
# lane's engine in its place, in one go, so the socket is gone only for the few seconds between.
#
# Why not systemd/service? These machines have no systemd (PID 1 is the sandbox's init), so
# nobody else will start or supervise the daemons.
#
# Findings on this sandbox (Firecracker VM, Debian bookworm, kernel 6.x, cgroup v1 hybrid
# layout, ext4 root):
#   * Plain `dockerd` with default flags works for both engines: overlay2 on ext4 (native
#     diff), iptables (iptables-nft) for NAT/masquerade, cgroupfs driver, cgroup v1 with the
#     freezer controller mounted, seccomp. dockerd spawns and manages its own containerd (no
#     containerd service runs here, and /run/containerd/containerd.sock does not exist, which is
#     what makes dockerd start one itself).
#   * Engine 28.5 with containerd 2.1: dockerd's managed containerd works. dockerd writes a
#     version-2 containerd.toml; containerd 2.1 logs "Configuration migrated from version 2" and
#     runs with it. Running containerd ourselves would only add a second process to supervise.
#     bookworm's runc 1.1.5 under containerd 2.1's runc-v2 shim: verified as below.
#   * Verified working (20.10, and 28.5 the same): containers run; HEALTHCHECK (starting ->
#     healthy / unhealthy; on 28.5 also --health-start-interval, Config.Healthcheck.StartInterval);
#     restart policies (on-failure / unless-stopped restart the container, RestartCount
#     increments); pause/unpause (cgroup v1 freezer); docker kill (SIGKILL and custom signals);
#     --init (docker-init = tini-static); user-defined bridge networks with embedded DNS;
#     -p 127.0.0.1:PORT:PORT published ports reachable from the host; outbound network from
#     containers and from `docker build` RUN steps (NAT through eth0) to the npm registry.
#   * The oldest lane runs in a network namespace of its own (`unshare --net`): there it has its
#     own docker0, iptables tables and ip_forward, and cannot touch the main engine's. That
#     namespace has no route out and its loopback is not the host's: containers there have no
#     outbound network and published ports are not on the host's 127.0.0.1. The tests the lane
#     runs need neither (scripts/ci/README.md).
#   * Flags are still probed rather than assumed, so the same script works on a more locked-down
#     machine:
#       - storage: overlay2 if an overlay mount works on the filesystem under the data root (it
#         may not when nested in another overlay), else vfs (works everywhere, but every layer
#         is a full copy: slow builds, lots of disk);
#       - iptables: if `iptables -t nat -L` fails (no netfilter), run with --iptables=false
#         --ip-masq=false. Containers then cannot reach the outside world (no NAT), but
#         published ports still work through the userland docker-proxy and
#         container<->container traffic on a bridge still works.
#   * Override knobs: DOCKERD_STORAGE_DRIVER=overlay2|vfs|..., DOCKERD_EXTRA_ARGS
#     (word-split), DOCKERD_WAIT_SECONDS, DOCKERD_LOG (main lane's log).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-lanes.sh
. "$HERE/lib-lanes.sh"

lane=main
replace=0
for a in "$@"; do
  case "$a" in
    --replace) replace=1 ;;
    -*) echo "usage: $0 [main|oldest] [--replace]" >&2; exit 2 ;;
    *) lane=$a ;;
  esac
done
lane_vars "$lane"
WAIT=${DOCKERD_WAIT_SECONDS:-30}

log() { printf '[start-dockerd %s] %s\n' "$LANE" "$*" >&2; }

ping_ok() {
  [ -S "$LANE_SOCKET" ] \
    && [ "$(curl -fsS --max-time 2 --unix-socket "$LANE_SOCKET" http://localhost/_ping 2>/dev/null)" = "OK" ]
}

# The pid in the lane's pidfile, when that process is alive and is a dockerd.
lane_pid() {
  local pid
  pid=$(cat "$LANE_PIDFILE" 2>/dev/null || true)
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] && echo "$pid"
}

if ping_ok; then
  running=$(engine_version "$LANE_SOCKET")
  if version_is "$running" "$LANE_ENGINE"; then
    log "Engine $running already answering on $LANE_SOCKET"
    exit 0
  fi
  if [ "$replace" -eq 0 ]; then
    echo "$LANE_SOCKET answers with Engine ${running:-?}, but the $LANE lane is Engine" \
      "$LANE_ENGINE. That daemon may be serving others; to stop it and start the lane's" \
      "engine in its place: $0 $LANE --replace" >&2
    exit 1
  fi
  log "replacing Engine $running on $LANE_SOCKET with the lane's $LANE_ENGINE"
  "$HERE/stop-dockerd.sh" "$LANE"
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "start-dockerd.sh must run as root" >&2
  exit 1
fi
[ -x "$LANE_BIN/dockerd" ] || {
  echo "$LANE_BIN/dockerd missing; run scripts/ci/install-docker.sh first" >&2
  exit 1
}

wait_for_ping() {
  local deadline=$((SECONDS + WAIT))
  while [ "$SECONDS" -lt "$deadline" ]; do
    ping_ok && return 0
    # Stop waiting early if the daemon we started has already died.
    if [ -n "${1:-}" ] && ! kill -0 "$1" 2>/dev/null; then return 1; fi
    sleep 0.2
  done
  ping_ok
}

# A dockerd of this lane that is still starting up (e.g. another CI step just launched it):
# wait for it instead of starting a second one that would fight for the pidfile. Found by the
# lane's pidfile, not by name: other lanes' and tests' private dockerds are running too.
if pid=$(lane_pid); then
  log "dockerd (pid $pid) is running but not answering yet; waiting up to ${WAIT}s"
  if wait_for_ping "$pid"; then exit 0; fi
  echo "dockerd pid $pid did not answer on $LANE_SOCKET within ${WAIT}s; log tail:" >&2
  tail -n 40 "$LANE_LOG" >&2 2>/dev/null || true
  exit 1
fi

args=()
if [ -n "$LANE_RUN" ]; then
  # A private engine: nothing on the default paths, and not /etc/docker/daemon.json either
  # (the main engine's settings, e.g. hosts, are not this one's).
  mkdir -p "$LANE_RUN" "$LANE_DATA_ROOT"
  [ -f "$LANE_RUN/daemon.json" ] || echo '{}' >"$LANE_RUN/daemon.json"
  args+=(--config-file "$LANE_RUN/daemon.json" -H "unix://$LANE_SOCKET"
    --data-root "$LANE_DATA_ROOT" --exec-root "$LANE_RUN/exec" --pidfile "$LANE_PIDFILE"
    "--cgroup-parent=health-bridge-ci-$LANE")
fi

# --- storage driver --------------------------------------------------------
# Probe: can we mount overlay on the same filesystem dockerd will use?
probe_overlay() {
  mkdir -p "$LANE_DATA_ROOT"
  local d
  d=$(mktemp -d "$LANE_DATA_ROOT/.overlay-probe.XXXXXX")
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
  local cmd=("$LANE_BIN/dockerd" "$@")
  # unshare execs dockerd, so the pid we get (and the pidfile's) is dockerd's own.
  [ "$LANE_OWN_NETNS" -eq 1 ] && cmd=(unshare --net -- "${cmd[@]}")
  log "starting: ${cmd[*]} (log: $LANE_LOG)"
  printf '\n===== %s %s\n' "$(date -u +%FT%TZ)" "${cmd[*]}" >>"$LANE_LOG"
  # setsid: own session/process group, so the daemon is not killed together with the CI
  # step's process group; stdin from /dev/null so it never holds the caller's terminal or pipes
  # open. PATH: the lane's containerd, shim, runc, docker-init and docker-proxy first.
  PATH="$LANE_BIN:$PATH" setsid "${cmd[@]}" </dev/null >>"$LANE_LOG" 2>&1 &
  DOCKERD_PID=$!
}

# Check, once after a cold start, that the lane's CLI talks to it (and print what it is).
verify_cli() {
  local v
  v=$(DOCKER_HOST="unix://$LANE_SOCKET" "$LANE_BIN/docker" version --format '{{.Client.Version}} (API {{.Client.APIVersion}}) -> engine {{.Server.Version}} (API {{.Server.APIVersion}})' 2>&1) \
    || { echo "docker CLI $LANE_BIN/docker cannot talk to dockerd: $v" >&2; return 1; }
  log "docker CLI $v"
}

start "${args[@]}"
if wait_for_ping "$DOCKERD_PID"; then
  log "dockerd up (pid $DOCKERD_PID, storage $driver)"
  verify_cli
  exit 0
fi

# overlay2 passed the mount probe but dockerd still refused it (e.g. an existing data root it
# cannot use): fall back to vfs once, unless the caller pinned a driver.
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

echo "dockerd did not answer on $LANE_SOCKET within ${WAIT}s; last lines of $LANE_LOG:" >&2
tail -n 40 "$LANE_LOG" >&2 || true
exit 1
