# Chorus app image: Next.js + the outbox publisher; Postgres and Soketi run beside it (docker-compose.yml).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run build
ENV NODE_ENV=production PORT=3000
EXPOSE 3000
# Signals reach the start script directly, which stops Next.js gracefully.
CMD ["node", "--import", "tsx", "scripts/start.ts"]
