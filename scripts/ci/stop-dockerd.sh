#!/usr/bin/env bash
# stop-dockerd.sh [LANE] — stop LANE's dockerd (lib-lanes.sh; default `main`, the daemon on the
# default socket).
#
# CI-only plumbing. Useful to restart a daemon with other flags (e.g. DOCKERD_STORAGE_DRIVER=vfs),
# to swap the engine on the default socket (start-dockerd.sh --replace calls it), or to leave a
# machine quiet. It signals only the pid recorded in the lane's own pidfile (SIGTERM: dockerd
# stops its containers, its managed containerd and removes the socket), waits up to
# $DOCKERD_STOP_WAIT_SECONDS (default 30), and never kills by process name: other lanes' and
# tests' private dockerds run beside it. Idempotent: no pidfile / dead pid => nothing to do.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-lanes.sh
. "$HERE/lib-lanes.sh"
lane_vars "${1:-main}"

WAIT=${DOCKERD_STOP_WAIT_SECONDS:-30}
log() { printf '[stop-dockerd %s] %s\n' "$LANE" "$*" >&2; }

pid=$(cat "$LANE_PIDFILE" 2>/dev/null || true)
if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
  log "dockerd not running"
  exit 0
fi
# Make sure the pid really is dockerd (pidfiles can go stale and pids reused).
if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != dockerd ]; then
  log "$LANE_PIDFILE names pid $pid, which is not dockerd; leaving it alone"
  exit 0
fi

kill -TERM "$pid"
deadline=$((SECONDS + WAIT))
while kill -0 "$pid" 2>/dev/null; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    log "dockerd pid $pid still alive after ${WAIT}s"
    exit 1
  fi
  sleep 0.2
done
log "dockerd (pid $pid) stopped"
