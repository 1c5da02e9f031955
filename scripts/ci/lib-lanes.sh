# shellcheck shell=bash
# lib-lanes.sh — where each CI lane's Docker engine lives. Sourced by install-docker.sh,
# start-dockerd.sh, stop-dockerd.sh, lane.sh and lib-rootfs.sh. CI-only plumbing.
#
# Two lanes, because users run two kinds of engine (README "Supported versions"):
#   main    Debian forky's Engine 28.5 (API 1.51), containerd 2.1 and Compose 2.40: what CLP's
#           users run (CLP requires Engine >= 27.0.3, Compose >= 2.28.1). It owns the default
#           socket and paths (/var/run/docker.sock, /var/lib/docker, /var/run/docker,
#           /var/run/docker.pid), exactly as a user's engine would, and every test runs on it.
#   oldest  Debian bookworm's Engine 20.10 (API 1.41) from apt with trixie's Compose 2.26: the
#           oldest engine the bridge supports. A private engine: its own socket, data root, exec
#           root (so its own managed containerd), pidfile, config file and cgroup parent, and its
#           own network namespace, so its docker0 and iptables rules live apart from the main
#           engine's (two engines in one network namespace fight over the same iptables chains).
#
# Each lane has a prefix with bin/ (dockerd, containerd, containerd-shim-runc-v2, runc,
# docker-init, docker-proxy and the docker CLI: everything dockerd and its containerd look up on
# PATH) and docker-config/cli-plugins/docker-compose. The CLI looks for plugins in
# $DOCKER_CONFIG/cli-plugins first, so DOCKER_CONFIG=<prefix>/docker-config makes `docker compose`
# the lane's compose whatever else is installed.

HB_CI_PREFIX=${HB_CI_PREFIX:-/opt/health-bridge-ci}
CI_LANES="main oldest"

# lane_vars LANE: set the LANE_* variables for LANE (main | oldest).
lane_vars() {
  case "$1" in
    main)
      LANE=main
      LANE_ENGINE=28.5
      LANE_COMPOSE=2.40
      LANE_DIR=$HB_CI_PREFIX/engine-28.5
      LANE_SOCKET=/var/run/docker.sock
      LANE_DATA_ROOT=/var/lib/docker
      LANE_RUN=""
      LANE_PIDFILE=/var/run/docker.pid
      LANE_LOG=${DOCKERD_LOG:-/tmp/dockerd.log}
      LANE_OWN_NETNS=0
      ;;
    oldest)
      LANE=oldest
      LANE_ENGINE=20.10
      LANE_COMPOSE=2.26
      LANE_DIR=$HB_CI_PREFIX/engine-20.10
      # Short: the managed containerd's socket lives under the exec root (108-byte limit).
      LANE_RUN=/run/health-bridge-ci/engine-20.10
      LANE_SOCKET=$LANE_RUN/docker.sock
      LANE_DATA_ROOT=/var/lib/health-bridge-ci/engine-20.10
      LANE_PIDFILE=$LANE_RUN/docker.pid
      LANE_LOG=/tmp/dockerd-engine-20.10.log
      LANE_OWN_NETNS=1
      ;;
    *)
      echo "unknown lane '$1' (lanes: $CI_LANES)" >&2
      return 2
      ;;
  esac
  LANE_BIN=$LANE_DIR/bin
  LANE_DOCKER_CONFIG=$LANE_DIR/docker-config
}

# engine_version SOCKET: the Version the engine on SOCKET reports (empty when none answers).
engine_version() {
  curl -fsS --max-time 3 --unix-socket "$1" http://localhost/version 2>/dev/null \
    | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
        try { process.stdout.write(JSON.parse(s).Version ?? "") } catch {} })' || true
}

# version_is VERSION MAJOR.MINOR: true when VERSION is MAJOR.MINOR.x (Debian suffixes allowed).
version_is() {
  case "$1" in "$2".*) return 0 ;; *) return 1 ;; esac
}
