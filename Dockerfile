# syntax=docker/dockerfile:1
#
# Gregor in a container.
#
#   docker build -t gregor .
#   docker run --name gregor -p 9092:9092 -p 9464:9464 -v gregor-data:/var/lib/gregor gregor
#
# Clients on the host connect to localhost:9092 (the default advertised listener). For clients in other
# containers, give the name they reach it by: `docker run ... gregor --advertised-host gregor`. Arguments
# after the image name are the `gregor` command's flags (`gregor --help`); configs also come from
# GREGOR_<KEY> environment variables (`-e GREGOR_NUM_PARTITIONS=3`) or a server.properties mounted and
# named as the first argument.
#
# Stop: `docker stop` sends SIGTERM to the broker, which is PID 1 and handles it itself (no shell in
# between: exec-form ENTRYPOINT): it finishes the requests in progress, flushes and checkpoints the logs
# and writes its clean-shutdown marker, in well under Docker's 10 s default (compose: stop_grace_period).
# `docker run --init` (tini as PID 1, forwarding signals) works the same.
#
# Data: /var/lib/gregor, a volume owned by the image's non-root `node` user (uid 1000); a bind-mounted
# directory must be writable by that uid.

ARG NODE_VERSION=24

# --- build: compile TypeScript and bundle the CLI (needs the dev dependencies) ---
FROM node:${NODE_VERSION}-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: "prepare" (the build) needs the sources copied below; the native modules (snappy,
# lz4, zstd, crc32) come prebuilt in per-platform packages and have no install scripts
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY protocol protocol
COPY storage storage
COPY src src
COPY bench bench
RUN npm run build

# --- runtime: production dependencies and the compiled broker only ---
FROM node:${NODE_VERSION}-slim
ENV NODE_ENV=production \
    GREGOR_LOG_DIRS=/var/lib/gregor
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && mkdir -p /var/lib/gregor \
 && chown node:node /var/lib/gregor
COPY --from=build /app/dist/src dist/src
COPY --from=build /app/dist/protocol dist/protocol
COPY --from=build /app/dist/storage dist/storage

USER node
VOLUME ["/var/lib/gregor"]
# Kafka clients; Prometheus metrics with /healthz and /ready
EXPOSE 9092 9464
# /ready answers 200 once the logs are recovered and the broker listens, 503 before and while it shuts
# down (node has fetch; the slim image has no curl). Follows GREGOR_METRICS_PORT when it is set.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.GREGOR_METRICS_PORT || 9464) + '/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/src/cli.js"]
