#!/usr/bin/env bash
# lane.sh LANE run CMD [ARG...] — run CMD in LANE's Docker environment (lib-lanes.sh).
# lane.sh LANE versions         — print what the lane runs: engine, API, containerd, runc, CLI,
#                                  compose, storage, node (.ci/run prints it at each lane's start).
# lane.sh LANE env              — the same environment as `export` lines, for
#                                  `eval "$(scripts/ci/lane.sh oldest env)"` in a shell.
#
# CI-only plumbing. The environment is what makes a lane a lane for every tool a test calls:
#   PATH           the lane's bin/ first: its docker CLI, and the dockerd (with its containerd,
#                  shim, runc) that a test's own private engine starts;
#   DOCKER_CONFIG  the lane's docker-config: the CLI takes $DOCKER_CONFIG/cli-plugins first, so
#                  `docker compose` is the lane's compose;
#   DOCKER_HOST    the lane's socket (the test helpers and the bridge honour it);
#   TEST_DOCKERD   the dockerd test/helpers/docker-private-engine.ts starts;
#   CI_DOCKER_LANE which lane this is, so test/integration/docker-engine-versions.test.ts asserts
#                  that lane's versions, and the build scripts start the lane's engine.
# It does not start the engine: start-dockerd.sh LANE does (the build scripts call it).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-lanes.sh
. "$HERE/lib-lanes.sh"

usage() {
  echo "usage: $0 main|oldest run CMD [ARG...] | versions | env" >&2
  exit 2
}
[ $# -ge 2 ] || usage
lane_vars "$1"
what=$2
shift 2

export PATH="$LANE_BIN:$PATH"
export DOCKER_CONFIG=$LANE_DOCKER_CONFIG
export DOCKER_HOST="unix://$LANE_SOCKET"
export TEST_DOCKERD=$LANE_BIN/dockerd
export CI_DOCKER_LANE=$LANE

case "$what" in
  run)
    [ $# -ge 1 ] || usage
    exec "$@"
    ;;
  env)
    for v in PATH DOCKER_CONFIG DOCKER_HOST TEST_DOCKERD CI_DOCKER_LANE; do
      printf 'export %s=%q\n' "$v" "${!v}"
    done
    ;;
  versions)
    server=$(docker version --format 'Engine {{.Server.Version}}, API {{.Server.APIVersion}} (min {{.Server.MinAPIVersion}}){{range .Server.Components}}{{if ne .Name "Engine"}}, {{.Name}} {{.Version}}{{end}}{{end}}')
    echo "[$LANE lane] $server"
    echo "[$LANE lane] docker CLI $(docker version --format '{{.Client.Version}} (API {{.Client.APIVersion}})') at $(command -v docker)"
    echo "[$LANE lane] compose $(docker compose version --short) at $(readlink -f "$DOCKER_CONFIG/cli-plugins/docker-compose")"
    echo "[$LANE lane] dockerd $(readlink -f "$TEST_DOCKERD"); storage $(docker info --format '{{.Driver}}, cgroup v{{.CgroupVersion}} ({{.CgroupDriver}})'); socket $LANE_SOCKET"
    echo "[$LANE lane] node $(node --version) at $(command -v node)"
    ;;
  *) usage ;;
esac
