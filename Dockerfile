# Floe: the trending job as a container (ECS Fargate task image).
# Build: docker build -t floe .   Run: docker run --rm floe run trending --source 'generator?rate=20000' --sink stdout
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production FLOE_LOG_FORMAT=json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
# SIGTERM (ECS stop) makes Floe stop its sources, flush open windows and exit 0.
ENTRYPOINT ["node", "dist/src/cli/floe.js"]
CMD ["run", "trending", "--view", "off"]
