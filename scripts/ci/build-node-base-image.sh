#!/usr/bin/env bash
# build-node-base-image.sh — build, offline, health-bridge-test/node-base:20,
# a stand-in for node:20-bookworm-slim that CI passes to the product's
# Dockerfile (`--build-arg NODE_IMAGE=health-bridge-test/node-base:20`).
#
# CI-only plumbing, not part of the product. WHY: CI has no container
# registry, so node:20-* cannot be pulled. The host already has Node 20 from
# a Debian package, so we assemble a minimal rootfs from it and `docker import`
# it (single layer, ~150 MB, a few seconds):
#   /usr/local/bin/node                 host `node` (symlinks resolved)
#   /lib*/...                           every library `ldd node` lists + the
#                                       dynamic loader, at the same paths
#   /usr/local/lib/node_modules/npm     the host's whole npm package
#   /usr/local/lib/node_modules/corepack (if the host has it)
#   /usr/local/bin/{npm,npx,corepack}   relative symlinks to the CLIs, the
#                                       same layout as the official image
#   /bin/busybox + applet links         sh, env (for `#!/usr/bin/env node`),
#                                       coreutils, wget, ...
#   /etc/passwd, /etc/group             root + node (uid/gid 1000, /home/node)
#   /tmp                                mode 1777
#   /etc/ssl/certs/ca-certificates.crt  the host's CA bundle. npm traffic goes
#                                       through a TLS-inspecting gateway whose
#                                       CA is only in this bundle, hence also
#                                       ENV NODE_EXTRA_CA_CERTS.
#   /usr/local/etc/npmrc                npm's *global* config for prefix
#                                       /usr/local, generated from the host's
#                                       effective npm config (see below).
#
# npm settings: the host's npm may need a registry/proxy/CA setting to reach
# the registry. Rather than hard-coding anything, the script reads the host's
# effective values at run time (`npm config get registry|proxy|https-proxy|
# noproxy|strict-ssl|cafile`, which already folds in ~/.npmrc, the global
# npmrc and npm_config_* env vars) and writes them into the image's global
# npmrc, so `npm ci` in any Dockerfile FROM this image behaves like the
# host's npm without build args. Secrets (_auth, _authToken, ...) are never
# copied. Proxies go into npmrc only, not into ENV, so they do not leak into
# the runtime of the app under test. (Docker also forwards HTTP_PROXY /
# HTTPS_PROXY / NO_PROXY build args to RUN steps if CI passes them.)
#
# Caveats: no compiler/python/git in the image, so npm packages that need
# node-gyp builds or git dependencies will not install (pure-JS deps and
# prebuilt binaries are fine). glibc comes from the host (bookworm), matching
# node:20-bookworm-slim.
#
# Idempotent: skips when the image exists; --force rebuilds.
# --skip-npm-check skips the `npm install` inside `docker build` check (which
# needs the npm registry).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-rootfs.sh
. "$HERE/lib-rootfs.sh"

IMAGE=health-bridge-test/node-base:20
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
force=0
npm_check=1
for a in "$@"; do
  case "$a" in
    --force|-f) force=1 ;;
    --skip-npm-check) npm_check=0 ;;
    *) echo "usage: $0 [--force] [--skip-npm-check]" >&2; exit 2 ;;
  esac
done

log() { printf '[build-node-base-image] %s\n' "$*" >&2; }

ensure_docker

if [ "$force" -eq 0 ] && image_exists "$IMAGE"; then
  log "$IMAGE already present (use --force to rebuild)"
  exit 0
fi

node_bin=$(readlink -f "$(command -v node)")
node_version=$("$node_bin" --version)
case "$node_version" in
  v20.*) ;;
  *) log "WARNING: host node is $node_version, image is still tagged :20" ;;
esac
npm_cli=$(readlink -f "$(command -v npm)")      # .../node_modules/npm/bin/npm-cli.js
npm_dir=$(dirname "$(dirname "$npm_cli")")
[ -f "$npm_dir/package.json" ] && grep -q '"name": *"npm"' "$npm_dir/package.json" \
  || { echo "cannot locate npm's package dir (got $npm_dir)" >&2; exit 1; }
corepack_dir=""
if command -v corepack >/dev/null 2>&1; then
  corepack_dir=$(dirname "$(dirname "$(readlink -f "$(command -v corepack)")")")
  [ -f "$corepack_dir/package.json" ] || corepack_dir=""
fi
[ -r "$CA_BUNDLE" ] || { echo "$CA_BUNDLE missing on the host" >&2; exit 1; }

root=$(mktemp -d)
ctx=""
trap 'rm -rf "$root" ${ctx:+"$ctx"}' EXIT

add_base_files "$root"

# --- node + its shared libraries --------------------------------------------
install -D -m 0755 "$node_bin" "$root/usr/local/bin/node"
# ldd lines: "libx.so => /path/libx.so (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)".
# Copy each (dereferenced) to the same path so the loader's default search
# dirs find them without an ld.so.cache.
while read -r lib; do
  [ -n "$lib" ] || continue
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done < <(ldd "$node_bin" | awk '$2=="=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u)

# --- npm / npx / corepack --------------------------------------------------
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
if [ -n "$corepack_dir" ]; then
  cp -a "$corepack_dir" "$root/usr/local/lib/node_modules/corepack"
  ln -s ../lib/node_modules/corepack/dist/corepack.js "$root/usr/local/bin/corepack"
fi

# --- busybox userland (never shadows node/npm: add_busybox skips existing) --
add_busybox "$root"

# --- users, CA bundle -------------------------------------------------------
echo 'node:x:1000:1000::/home/node:/bin/sh' >>"$root/etc/passwd"
echo 'node:x:1000:' >>"$root/etc/group"
install -d -m 0755 "$root/home/node"
install -D -m 0644 "$CA_BUNDLE" "$root$CA_BUNDLE"

# --- npm global config from the host's effective config ---------------------
npm_get() {
  local v
  v=$(npm config get "$1" 2>/dev/null | tail -n1) || return 0
  case "$v" in ''|null|undefined) return 0 ;; esac
  printf '%s' "$v"
}
mkdir -p "$root/usr/local/etc"
{
  echo "; generated by scripts/ci/build-node-base-image.sh from the build host's npm config"
  for key in registry proxy https-proxy noproxy strict-ssl; do
    v=$(npm_get "$key")
    if [ -n "$v" ]; then printf '%s=%s\n' "$key" "$v"; fi
  done
  # Whatever CA file the host's npm uses, the image has the bundle at $CA_BUNDLE.
  if [ -n "$(npm_get cafile)" ]; then printf 'cafile=%s\n' "$CA_BUNDLE"; fi
  # Quiet, faster `npm ci` in CI builds: no audit/fund/update-check round trips.
  echo 'audit=false'
  echo 'fund=false'
  echo 'update-notifier=false'
} >"$root/usr/local/etc/npmrc"
chmod 0644 "$root/usr/local/etc/npmrc"

import_rootfs "$root" "$IMAGE" \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV NODE_VERSION=${node_version#v}" \
  --change "ENV NODE_EXTRA_CA_CERTS=$CA_BUNDLE" \
  --change 'CMD ["node"]' \
  --change "LABEL org.opencontainers.image.title=health-bridge-test-node-base org.opencontainers.image.version=${node_version} org.opencontainers.image.description=CI-only_stand-in_for_node:20-bookworm-slim"

# --- verify -----------------------------------------------------------------
got=$(docker run --rm "$IMAGE" node -e 'console.log(process.version)')
[ "$got" = "$node_version" ] || { echo "node in image printed '$got', want $node_version" >&2; exit 1; }
docker run --rm "$IMAGE" sh -c 'npm --version >/dev/null && npx --version >/dev/null && env node -e 0' \
  || { echo "npm/npx/env do not work inside $IMAGE" >&2; exit 1; }
docker run --rm --user node -w /home/node "$IMAGE" sh -c 'touch /tmp/x && node -e "require(\"os\").userInfo()"' \
  || { echo "user node cannot run in $IMAGE" >&2; exit 1; }

if [ "$npm_check" -eq 1 ]; then
  # Real `npm install` inside `docker build`: registry reachable from a build
  # container, TLS through the gateway trusted via the CA bundle + npmrc.
  ctx=$(mktemp -d)
  cat >"$ctx/Dockerfile" <<EOF
FROM $IMAGE
WORKDIR /app
RUN echo '{"name":"probe","version":"1.0.0","private":true}' > package.json \\
 && npm install --no-audit --no-fund is-number \\
 && node -e 'require("is-number")(1) || process.exit(1)'
EOF
  probe_tag=health-bridge-test/node-base-probe:tmp
  # Classic builder explicitly: the docker CLI here may have no buildx plugin,
  # and an inherited DOCKER_BUILDKIT=1 would then make `docker build` fail.
  if ! DOCKER_BUILDKIT=0 docker build -q --rm --force-rm -t "$probe_tag" "$ctx" >/dev/null 2>"$ctx/build.err"; then
    cat "$ctx/build.err" >&2
    echo "npm install inside docker build FROM $IMAGE failed" >&2
    exit 1
  fi
  docker rmi "$probe_tag" >/dev/null
  log "npm install inside docker build: ok"
fi

log "built $IMAGE (node $node_version, npm $(npm --version 2>/dev/null), $(docker image inspect -f '{{.Size}}' "$IMAGE") bytes)"
