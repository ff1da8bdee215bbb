# Chorus app image: Next.js, the API and the outbox publisher in one process; Postgres and Soketi run beside it (docker-compose.yml).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1
# patches/: fixes to dependencies that patch-package applies after install (postinstall).
COPY package.json package-lock.json ./
COPY patches ./patches
# postinstall's second step (a no-op on Node 20: it fetches a Node 20 for Soketi on other Nodes).
COPY scripts/install-soketi-node.ts ./scripts/
COPY server/realtime/node-support.ts ./server/realtime/
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run build
ENV NODE_ENV=production PORT=3000
EXPOSE 3000
# One Node process serves everything; SIGTERM reaches it directly and it stops gracefully.
CMD ["node", "--max-semi-space-size=32", "scripts/start.mjs"]
