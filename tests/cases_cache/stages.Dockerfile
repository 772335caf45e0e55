# changed: package-lock.json
# base: nginx
# A COPY --from rebuilds when its producer rebuilt; a bind mount from a
# stage counts as reading it; a new base image rebuilds its stage.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY src/ ./src/
RUN --mount=type=bind,from=deps,source=/app/node_modules,target=/app/node_modules \
    npm run build

FROM nginx:1.27-alpine
COPY --from=build /app/dist /usr/share/nginx/html
COPY --from=busybox:1.36.1 /bin/busybox /bin/busybox
EXPOSE 80
