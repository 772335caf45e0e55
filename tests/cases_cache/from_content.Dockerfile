# arg: REVISION
# Copies from a stage are by content: `deps` changed only its config (an
# ENV that expands the changed arg), so its files are the same and the
# runtime's copy of node_modules stays cached; `build` ran again (the RUN
# sees REVISION), so the copy of dist rebuilds.
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
ARG REVISION
ENV APP_REVISION=$REVISION

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY . .
ARG REVISION
RUN npm run build

FROM node:22-bookworm-slim
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
CMD ["node", "dist/server.js"]
