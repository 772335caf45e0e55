# arg: VERSION
# builder: buildkit
# BuildKit keys operations on their files and the RUN's config: the LABEL
# that expands the changed arg holds a new value but keys nothing, the COPY
# after it stays cached, and only the RUN (which sees every arg in scope)
# rebuilds; the classic builder rebuilds from the LABEL on (classic.Dockerfile).
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
