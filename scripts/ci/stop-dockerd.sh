#!/usr/bin/env bash
# stop-dockerd.sh — stop the dockerd that start-dockerd.sh launched.
#
# CI-only plumbing. Useful to restart the daemon with other flags
# (e.g. DOCKERD_STORAGE_DRIVER=vfs) or to leave a machine quiet. It signals
# only the pid recorded in dockerd's own pidfile (SIGTERM: dockerd stops its
# containers, its managed containerd and removes the socket), waits up to
# $DOCKERD_STOP_WAIT_SECONDS (default 30), and never kills by process name.
# Idempotent: no pidfile / dead pid => nothing to do.
set -euo pipefail

PIDFILE=/var/run/docker.pid
WAIT=${DOCKERD_STOP_WAIT_SECONDS:-30}

pid=$(cat "$PIDFILE" 2>/dev/null || true)
if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
  echo "[stop-dockerd] dockerd not running" >&2
  exit 0
fi
# Make sure the pid really is dockerd (pidfiles can go stale and pids reused).
if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != dockerd ]; then
  echo "[stop-dockerd] $PIDFILE names pid $pid, which is not dockerd; leaving it alone" >&2
  exit 0
fi

kill -TERM "$pid"
deadline=$((SECONDS + WAIT))
while kill -0 "$pid" 2>/dev/null; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "[stop-dockerd] dockerd pid $pid still alive after ${WAIT}s" >&2
    exit 1
  fi
  sleep 0.5
done
echo "[stop-dockerd] dockerd (pid $pid) stopped" >&2
