#!/bin/sh
# A server stand-in (database, queue, redis, results-cache, webui): busybox httpd on $PORT, after
# $STARTUP_SECONDS, so its healthcheck fails at first and then passes, like a real server's.
set -u
trap 'exit 0' TERM INT
sleep "${STARTUP_SECONDS:-0}" &
wait $!
echo "${SERVICE:-server}: listening on :${PORT:?}"
httpd -f -p "$PORT" -h /www &
wait $!
