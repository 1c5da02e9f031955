#!/bin/sh
# A process that works and reports a heartbeat every $HEARTBEAT_INTERVAL seconds, as CLP's
# schedulers, reducer and workers would (examples/heartbeat-wget.sh is the same request).
# Switches:
#   SILENCE=1, or `touch /tmp/silence` while it runs: keeps running but stops reporting
#     (a hung scheduler); `rm /tmp/silence` resumes.
#   CRASH=1: exits 1 a second after its first heartbeat (a crash-looping worker).
set -u
: "${SERVICE:?}" "${HEALTH_BRIDGE_URL:=http://health-bridge:8080}" "${HEARTBEAT_INTERVAL:=5}"
instance=$(hostname)
# A graceful stop (compose down/recreate) deregisters, so the instance is gone at once instead
# of turning unhealthy. busybox wget cannot send DELETE, so this is raw HTTP over nc; with curl
# it is `curl -fsS -X DELETE "$HEALTH_BRIDGE_URL/health?service=...&instance=..."`.
deregister() {
  hostport=${HEALTH_BRIDGE_URL#http://}
  hostport=${hostport%%/*}
  printf 'DELETE /health?service=%s&instance=%s HTTP/1.0\r\nHost: %s\r\n\r\n' \
    "$SERVICE" "$instance" "$hostport" |
    timeout 3 nc "${hostport%:*}" "${hostport##*:}" >/dev/null 2>&1
}
trap 'deregister; exit 0' TERM INT
quiet=no
while :; do
  if [ "${SILENCE:-0}" = 1 ] || [ -e /tmp/silence ]; then
    [ "$quiet" = yes ] || echo "$SERVICE: silenced, no more heartbeats"
    quiet=yes
  else
    [ "$quiet" = no ] || echo "$SERVICE: heartbeats resumed"
    quiet=no
    timeout 5 wget -q -O /dev/null --header 'Content-Type: application/json' \
      --post-data "{\"service\":\"$SERVICE\",\"instance\":\"$instance\"}" \
      "$HEALTH_BRIDGE_URL/health" || echo "$SERVICE: heartbeat not delivered" >&2
  fi
  if [ "${CRASH:-0}" = 1 ]; then
    sleep 1
    echo "$SERVICE: crashing on purpose (CRASHLOOP_WORKER=1)" >&2
    exit 1
  fi
  sleep "$HEARTBEAT_INTERVAL" &
  wait $!
done
