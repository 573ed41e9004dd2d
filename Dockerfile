# syntax=docker/dockerfile:1
#
# MLSDM container image. Three stages:
#   build  - full dev install, `npm run build` (tsc emits dist/, entry dist/src/main.js)
#   deps   - production node_modules only (native modules are compiled here, never in the final image)
#   final  - distroless Node.js 20 runtime, non-root, no shell, no package manager, no npm
#
# Build:  docker build -t mlsdm:dev .
# Run:    docker run --rm -p 50051:50051 -p 8080:8080 -e MLSDM_ADMIN_API_KEY="$(openssl rand -hex 32)" mlsdm:dev
#         The image listens on 0.0.0.0: without an identity source (MLSDM_ADMIN_API_KEY, MLSDM_API_KEY,
#         MLSDM_API_KEYS_FILE, ...) it refuses to start (exit 2, "E801 CONFIG_INVALID: server.host ...") rather
#         than serve anonymous admin calls; MLSDM_AUTH_DISABLED=true overrides that on purpose (logged as a
#         warning). See docs/security/secure-mode.md.
# Checked in CI without a docker engine: dockerfile-utils lint + tests/deploy/dockerfile.test.ts.

# ---------------------------------------------------------------------------------------------------
# build: compile TypeScript. src/gen/ is committed, so no code generation runs here.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.client.json ./
COPY src ./src
# The playground's API reference is rendered from the exported contract at build time.
COPY docs/api ./docs/api
RUN npm run build \
  && mkdir -p /out/data

# ---------------------------------------------------------------------------------------------------
# deps: production dependencies only.
# Native modules (better-sqlite3 arrives with the state store) are compiled in THIS stage. When one
# has no prebuilt binary for the platform, install the toolchain here, before `npm ci`:
#   RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
#     && rm -rf /var/lib/apt/lists/*
# Never in the final stage: it copies the finished node_modules and carries no build tools.
# Both this stage and the runtime are Debian 12 (glibc 2.36) with Node 20 (same module ABI), so an
# addon built here loads there.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
  && npm cache clean --force

# ---------------------------------------------------------------------------------------------------
# final: why distroless rather than node:20-bookworm-slim with a non-root USER?
#   - nothing but Node.js, CA certificates, tzdata and glibc: no shell, no apt, no npm/corepack, so
#     a compromised process has no tools to reach for and the image scanner (Trivy) has far fewer
#     packages to flag;
#   - the :nonroot tag runs as uid/gid 65532; USER below repeats it numerically so that Kubernetes
#     `runAsNonRoot: true` can verify it.
# Cost: no shell for `docker exec` debugging (use `kubectl debug` with an ephemeral container), and no
# Dockerfile HEALTHCHECK (it would need a shell or a probe binary in the image).
FROM gcr.io/distroless/nodejs20-debian12:nonroot AS final
WORKDIR /app
ENV NODE_ENV=production \
  MLSDM_HOST=0.0.0.0 \
  MLSDM_GRPC_PORT=50051 \
  MLSDM_HTTP_PORT=8080 \
  MLSDM_DATA_DIR=/var/lib/mlsdm
# Application files stay owned by root (read-only to the service user); only the data directory is
# writable by it. Mount a volume (emptyDir or a PersistentVolumeClaim) there in Kubernetes, which also
# allows `readOnlyRootFilesystem: true`.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build --chown=65532:65532 /out/data /var/lib/mlsdm
USER 65532:65532
# 50051: grpc-js listener (service-to-service gRPC, reflection, grpc.health.v1.Health)
# 8080:  connect-node listener (Connect JSON/binary, gRPC, gRPC-Web; GET /healthz and GET /readyz)
EXPOSE 50051 8080
# No HEALTHCHECK: distroless has no shell or curl to run one. Kubernetes probes the process itself:
#   livenessProbe:  grpc: { port: 50051 }                  (native gRPC probe, Kubernetes >= 1.27;
#   readinessProbe: grpc: { port: 50051, service: "" }     it calls grpc.health.v1.Health/Check)
# or plain HTTP on the Connect listener: httpGet /healthz (liveness) and /readyz (readiness) on 8080.
# SIGTERM (the default stop signal) turns health NOT_SERVING, refuses new calls (E705) and drains
# in-flight calls for up to MLSDM_DRAIN_TIMEOUT_MS before exiting 0; node runs as PID 1 and installs its
# own SIGTERM/SIGINT handlers, and starts no child processes, so no init process is needed.
STOPSIGNAL SIGTERM
# The distroless entrypoint is the node binary itself.
CMD ["dist/src/main.js"]
