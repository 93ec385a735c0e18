# syntax=docker/dockerfile:1
# Build stage: full dependencies, compile TypeScript to dist/.
FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies, compiled code, git for the drift collector, non-root.
FROM node:22-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY examples ./examples
RUN useradd --system --uid 10001 --home-dir /var/lib/vigil --create-home vigil
USER vigil
ENV VIGIL_HTTP_HOST=0.0.0.0
# Audit log and git mirrors: mount a persistent volume here, and set VIGIL_REPLICA_ID to a name
# that survives restarts, so each replica's hash chain continues (docs/production.md).
ENV VIGIL_DATA_DIR=/var/lib/vigil
VOLUME ["/var/lib/vigil"]
EXPOSE 9464
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/vigil.js"]
CMD ["run", "-c", "/app/examples/minimal.yaml"]
