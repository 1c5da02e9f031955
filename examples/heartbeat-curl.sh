#!/bin/sh
# One heartbeat with curl: the line to put in a loop, a cron job or a compose healthcheck.
#   HEALTH_BRIDGE_URL  where the bridge answers (default http://health-bridge:8080)
#   SERVICE            the compose service name (required)
#   HEARTBEAT_TOKEN    only if the bridge requires one
# The instance is the container's hostname (its short id), so the bridge merges the heartbeat
# into that container, replicas included. -f makes curl exit non-zero on a refused heartbeat.
set -eu
curl -fsS -m 5 -o /dev/null \
  -H 'Content-Type: application/json' \
  ${HEARTBEAT_TOKEN:+-H "Authorization: Bearer $HEARTBEAT_TOKEN"} \
  -d "{\"service\":\"${SERVICE:?set SERVICE}\",\"instance\":\"$(hostname)\"}" \
  "${HEALTH_BRIDGE_URL:-http://health-bridge:8080}/health"
