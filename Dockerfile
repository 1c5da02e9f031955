# health-bridge: one compose service that reports a compose stack's health over HTTP.
#
#   docker build -t health-bridge:0.1.0 .
#
# NODE_IMAGE is the Node.js 20 image used for both stages (default: the official Debian slim
# image). Any image works that has node >= 20.19, npm and a POSIX shell under the usual paths
# (/usr/local/bin/node, npm in /usr/local/lib/node_modules); pin it by digest for reproducible
# builds. Offline CI builds with a locally made base:
#   docker build --build-arg NODE_IMAGE=health-bridge-test/node-base:20 .
# No `# syntax=` line and no RUN --mount, on purpose: both the classic builder and BuildKit
# (`docker compose build`) must build this without pulling a frontend image.
ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: compile TypeScript, then drop dev dependencies --------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Manifest and lockfile first, so the dependency layer is reused until they change.
# --ignore-scripts: nothing the build or the bridge needs has an install script (ssh2's only
# builds the optional cpu-features addon), and npm 10 and 11 then install exactly the same.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && find dist \( -name '*.d.ts' -o -name '*.map' \) -exec rm -f {} +

# --- runtime base: the Node image without its package managers ----------------------------------
# The bridge needs node and nothing else: npm, npx, corepack and yarn are removed, and the
# result is copied into a scratch image below, because a deletion in a later layer would still
# ship every deleted byte. The cost: this layer is not shared with other node images on a host.
FROM ${NODE_IMAGE} AS runtime-base
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx \
      /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* \
      /root/.npm /tmp/* \
 && node --version

# --- final image --------------------------------------------------------------------------------
FROM scratch
COPY --from=runtime-base / /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    NODE_ENV=production
WORKDIR /app
# Root-owned and read-only to the service user: the process cannot rewrite its own code.
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# Service profiles (CONFIG_FILE), e.g. CONFIG_FILE=/app/profiles/clp.yaml for CLP. Shipped in the
# image so a profile always matches the schema of the bridge that reads it (the file's keys are
# validated strictly, so a newer profile would stop an older bridge), and so using one needs no
# file next to the compose files. Mount your own copy to change it.
COPY compose/profiles/ ./profiles/

# uid:gid 1000 is the `node` user of the official image; numeric, so Kubernetes' runAsNonRoot
# can verify it. To read the Docker socket (root:docker 0660), add the socket's group at run
# time: `group_add: ["${DOCKER_GID}"]` in compose (see docs/deployment.md).
USER 1000:1000
EXPOSE 8080
# node is PID 1 and handles SIGTERM itself: it stops serving and exits 0 within 2 s.
STOPSIGNAL SIGTERM
# Liveness only (/health/live), with node instead of curl; Docker outages do not fail it.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "/app/dist/healthcheck.js"]
ENTRYPOINT ["node", "/app/dist/main.js"]

LABEL org.opencontainers.image.title="health-bridge" \
      org.opencontainers.image.description="One compose service that reports a Docker Compose stack's health over HTTP" \
      org.opencontainers.image.licenses="Apache-2.0"
