# arg: VERSION
# builder: classic
# The classic builder chains images: the LABEL that expands a changed arg
# rebuilds everything after it, the COPY and the CMD included; BuildKit
# rebuilds only the RUN, which sees the arg (config.Dockerfile).
FROM golang:1.22-bookworm AS build
WORKDIR /src
COPY go.mod ./
RUN go mod download
ARG VERSION
LABEL org.opencontainers.image.version=$VERSION
COPY . .
RUN go build -o /out/app .

FROM debian:bookworm-slim
COPY --from=build /out/app /usr/local/bin/app
CMD ["app"]
