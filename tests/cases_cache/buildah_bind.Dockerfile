# changed: .env.production assets/logo.svg
# builder: buildah
# buildah 1.28 keys a RUN on its parent and its text alone: the RUN that
# binds a changed context file and the one that binds a rebuilt stage stay
# cached (and see the old files); BuildKit rebuilds both. The COPY of the
# rebuilt stage rebuilds under every builder.
FROM node:20.15.1-bookworm-slim AS assets
WORKDIR /assets
COPY assets/ ./

FROM node:20.15.1-bookworm-slim AS build
WORKDIR /app
COPY package.json ./
RUN --mount=type=bind,source=.env.production,target=/app/.env.production npm run build
RUN --mount=type=bind,from=assets,source=/assets,target=/app/assets npm run bundle
COPY --from=assets /assets ./public/
