# What each instruction costs (spec/cache.md, "Costs"): the `# cost: N`
# line before an instruction is what the cache model must price it at.
# compiler/src/cache/cost.rs reads this file and checks every one.

FROM node:20-slim AS deps
WORKDIR /app
# cost: 1
COPY package.json pnpm-lock.yaml ./
# An install and a build, chained: the sum of the parts.
# cost: 90
RUN pnpm install --frozen-lockfile && pnpm run build
# cost: 90
RUN npm ci && npm run build
# cost: 90
RUN npm ci; npm run build
# cost: 90
RUN npm ci || npm run build
# cost: 90
RUN sh -c "yarn install && yarn build"
# Installs, each alone.
# cost: 60
RUN pnpm add left-pad
# cost: 60
RUN yarn add left-pad
# cost: 60
RUN npm install left-pad
# cost: 60
RUN pip install -r requirements.txt
# cost: 60
RUN apk add --no-cache git
# Cleanup beside an install costs nothing more.
# cost: 60
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
# cost: 60
RUN cargo fetch
# cost: 60
RUN go mod download
# cost: 60
RUN bundle install --jobs 4
# cost: 60
RUN ./mvnw dependency:go-offline -B
# cost: 60
RUN npm ci \
    --omit=dev
# Two installs in one command: two installs.
# cost: 120
RUN apt-get install -y python3 && pip install poetry
# Builds.
# cost: 30
RUN mvn -B package
# cost: 30
RUN python manage.py collectstatic --noinput
# Neither.
# cost: 5
RUN useradd app && mkdir -p /data
# Copies of a few files.
# cost: 1
COPY src/ ./src/
# cost: 1
COPY . .
# A dependency tree from the context.
# cost: 10
COPY vendor/ ./vendor/
# cost: 10
COPY --chown=app .venv/ ./.venv/

FROM python:3.12-slim AS venv
RUN python -m venv /opt/venv
# cost: 60
RUN /opt/venv/bin/pip install -r requirements.txt

FROM node:20-slim AS installed
WORKDIR /app
# cost: 60
RUN npm ci
# cost: 5
RUN npm prune --omit=dev

FROM installed AS built
# cost: 30
RUN npm run build

FROM golang:1.22 AS go
WORKDIR /src
# cost: 60
RUN go mod download
# cost: 30
RUN go build -o /out/app .

FROM debian:bookworm-slim
# A dependency tree from a stage, by its path.
# cost: 10
COPY --from=installed /app/node_modules ./node_modules
# An install's output: the stage's last command installed.
# cost: 10
COPY --from=venv /opt/venv /opt/venv
# The whole tree an install wrote into: the working directory, or above.
# cost: 10
COPY --from=installed /app /app
# cost: 10
COPY --from=built / /
# cost: 10
COPY --from=installed . /srv/
# Paths from a stage are relative to its root.
# cost: 10
COPY --from=installed app /app
# A build's output from a stage that also installed: a few files.
# cost: 1
COPY --from=built /app/dist ./dist
# cost: 1
COPY --from=go /out/app /usr/local/bin/app
# The module cache is a dependency tree.
# cost: 10
COPY --from=go /go/pkg/mod /go/pkg/mod
# An image's files.
# cost: 1
COPY --from=alpine:3.20 /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
