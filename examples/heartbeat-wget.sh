#!/bin/sh
# One heartbeat with busybox wget (images without curl: busybox, alpine). Same variables as
# heartbeat-curl.sh. busybox wget has no timeout option everywhere, hence `timeout 5`.
set -eu
timeout 5 wget -q -O /dev/null \
  --header 'Content-Type: application/json' \
  ${HEARTBEAT_TOKEN:+--header "Authorization: Bearer $HEARTBEAT_TOKEN"} \
  --post-data "{\"service\":\"${SERVICE:?set SERVICE}\",\"instance\":\"$(hostname)\"}" \
  "${HEALTH_BRIDGE_URL:-http://health-bridge:8080}/health"
