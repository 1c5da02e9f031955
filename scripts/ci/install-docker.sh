#!/usr/bin/env bash
# install-docker.sh — make a Docker Engine + Docker Compose v2 available on a
# Debian bookworm CI machine that can reach only Debian's apt mirror and the
# npm registry (no container registry, no download.docker.com).
#
# CI-only plumbing, not part of the product. Idempotent: when dockerd,
# busybox-static, socat and `docker compose` are already there it does nothing
# (no apt-get update, no download) and returns in well under a second.
#
# What it installs and WHY:
#   * docker.io (Debian bookworm: Engine 20.10.24, API 1.41) + containerd/runc,
#     the only engine reachable through the allowed package sources.
#   * busybox-static: a fully static /bin/busybox, used to build our test
#     images FROM scratch (no registry => no `docker pull busybox`).
#   * socat: handy for poking the daemon socket / forwarding ports in tests.
#   * Docker Compose v2 (the `docker compose` CLI plugin): bookworm only ships
#     the python compose v1, which is dead. Debian *trixie* ships compose v2
#     (package `docker-compose`, 2.26.x) as one static-ish Go binary that only
#     needs libc. We do NOT add trixie as an apt source (apt would then happily
#     pull trixie's libc6 and friends into a bookworm system); we fetch only
#     that .deb from the same mirror, verify it through trixie's signed
#     InRelease -> Packages -> SHA256 chain, and unpack the plugin binary to
#     /usr/local/lib/docker/cli-plugins/docker-compose.
#
# The mirror host is never written down here: it is read at run time from the
# machine's own apt sources (the deb822 stanza that lists suite `bookworm`).
#
# Note on the docker CLI: this machine image may already have a newer client
# at /usr/local/bin/docker (Docker 28.x) that shadows Debian's /usr/bin/docker
# (20.10). That is fine: the client negotiates the API version down to the
# daemon's 1.41 automatically (start-dockerd.sh verifies `docker version`).
set -euo pipefail

log() { printf '[install-docker] %s\n' "$*" >&2; }

PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
PLUGIN="$PLUGIN_DIR/docker-compose"
SUITE_FOR_COMPOSE=trixie
ARCH=$(dpkg --print-architecture)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-docker.sh must run as root (it uses apt-get/dpkg)" >&2
  exit 1
fi

# ---------------------------------------------------------------------------
# 1. Engine + helpers from bookworm via apt.
# ---------------------------------------------------------------------------
need_apt=()
command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
# busybox-static (not `busybox`) because only the static build can run inside
# a FROM-scratch image. Check the package, not just /bin/busybox, since the
# dynamic `busybox` package installs the same path.
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' \
  || need_apt+=(busybox-static)
command -v socat >/dev/null 2>&1 || need_apt+=(socat)

if [ "${#need_apt[@]}" -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # On a machine without systemd, a postinst could try to launch dockerd via
  # /etc/init.d with default flags. We want start-dockerd.sh to own the daemon
  # and its flags, so block service starts during the install if nothing
  # already does (a policy-rc.d that exits 101 = "don't start services").
  tmp_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    tmp_policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' >"$tmp_policy"
    chmod 0755 "$tmp_policy"
    trap '[ -n "$tmp_policy" ] && rm -f "$tmp_policy"' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  if [ -n "$tmp_policy" ]; then rm -f "$tmp_policy"; tmp_policy=""; fi
else
  log "docker.io, busybox-static, socat already installed"
fi

# ---------------------------------------------------------------------------
# 2. Docker Compose v2 plugin from trixie's .deb (no trixie apt source).
# ---------------------------------------------------------------------------
if docker compose version >/dev/null 2>&1; then
  log "docker compose already works: $(docker compose version --short 2>/dev/null || true)"
else
  # Mirror URI of the main bookworm suite, from deb822 *.sources files
  # (paragraph mode: the stanza whose Suites: lists exactly `bookworm`), with
  # a fallback for one-line sources.list syntax.
  mirror=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    mirror=$(awk 'BEGIN{RS=""; FS="\n"}
      {
        uri=""; hit=0
        for (i=1; i<=NF; i++) {
          if ($i ~ /^URIs:/)   { split($i, a, /[ \t]+/); uri=a[2] }
          if ($i ~ /^Suites:/) { n=split($i, s, /[ \t]+/); for (j=2; j<=n; j++) if (s[j]=="bookworm") hit=1 }
        }
        if (hit && uri!="") { print uri; exit }
      }' "$f")
    [ -n "$mirror" ] && break
  done
  if [ -z "$mirror" ]; then
    mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | awk '$1=="deb" && $0 !~ /^#/ { o=2; if ($2 ~ /^\[/) { while ($o !~ /\]$/) o++; o++ } if ($(o+1)=="bookworm") { print $o; exit } }')
  fi
  if [ -z "$mirror" ]; then
    echo "could not find a bookworm mirror URI in /etc/apt/sources.list(.d)" >&2
    exit 1
  fi
  mirror=${mirror%/}
  log "fetching docker-compose .deb from $SUITE_FOR_COMPOSE via the machine's mirror"

  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cd "$work"

  # Authenticate the chain when we can: InRelease (signed by the trixie keys
  # that bookworm's debian-archive-keyring already carries) -> Packages.* hash
  # -> .deb SHA256. Skip only the signature step if gpgv/keyring are missing.
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  release=""
  if command -v gpgv >/dev/null 2>&1 && [ -r "$keyring" ]; then
    curl -fsSL --retry 3 -o InRelease "$mirror/dists/$SUITE_FOR_COMPOSE/InRelease"
    gpgv --quiet --keyring "$keyring" --output Release InRelease 2>/dev/null \
      || { echo "trixie InRelease signature check failed" >&2; exit 1; }
    release=Release
  else
    log "WARNING: gpgv or $keyring missing; trusting the mirror without a signature check"
  fi

  pkgs=""
  for ext in xz gz; do
    rel="main/binary-$ARCH/Packages.$ext"
    if curl -fsSL --retry 3 -o "Packages.$ext" "$mirror/dists/$SUITE_FOR_COMPOSE/$rel"; then
      if [ -n "$release" ]; then
        want=$(awk -v f="$rel" '/^SHA256:/{s=1; next} /^[^ ]/{s=0} s && $3==f {print $1; exit}' "$release")
        got=$(sha256sum "Packages.$ext" | cut -d' ' -f1)
        [ -n "$want" ] && [ "$want" = "$got" ] \
          || { echo "hash mismatch for $rel (want '$want', got '$got')" >&2; exit 1; }
      fi
      pkgs="Packages.$ext"
      break
    fi
  done
  [ -n "$pkgs" ] || { echo "could not download trixie Packages index" >&2; exit 1; }

  case "$pkgs" in
    *.xz) xz -dc "$pkgs" >Packages ;;
    *.gz) gzip -dc "$pkgs" >Packages ;;
  esac
  # Paragraph for exactly `Package: docker-compose` (not docker-compose-*).
  read -r filename sha256 < <(awk 'BEGIN{RS=""; FS="\n"}
    $1=="Package: docker-compose" {
      for (i=1; i<=NF; i++) {
        if ($i ~ /^Filename: /) fn=substr($i, 11)
        if ($i ~ /^SHA256: /)   sh=substr($i, 9)
      }
      print fn, sh; exit
    }' Packages)
  [ -n "${filename:-}" ] || { echo "docker-compose not found in trixie Packages" >&2; exit 1; }
  log "downloading $filename"
  curl -fsSL --retry 3 -o compose.deb "$mirror/$filename"
  echo "$sha256  compose.deb" | sha256sum -c --quiet - \
    || { echo "SHA256 mismatch for $filename" >&2; exit 1; }

  dpkg-deb -x compose.deb root
  # 2.26.1-4 ships it at usr/libexec/docker/cli-plugins/docker-compose; search
  # so a future re-layout (usr/lib/docker/cli-plugins, usr/bin) still works.
  bin=$(find root -type f -name docker-compose -perm -u+x | sort | head -n1)
  [ -n "$bin" ] || { echo "no docker-compose binary inside $filename" >&2; exit 1; }
  install -D -m 0755 "$bin" "$PLUGIN"
  # Standalone `docker-compose` too (same binary; it behaves as compose v2
  # when called by that name), for scripts that still use the hyphen form.
  ln -sfn "$PLUGIN" /usr/local/bin/docker-compose

  cd /
  rm -rf "$work"
  trap - EXIT
fi

# ---------------------------------------------------------------------------
# 3. Verify (client side only; the daemon is start-dockerd.sh's job).
# ---------------------------------------------------------------------------
docker compose version >/dev/null
log "docker CLI: $(command -v docker) ($(docker --version))"
log "dockerd:    $(command -v dockerd) ($(dockerd --version))"
log "compose:    $(docker compose version --short)"
