# arg: VERSION GO
# Global args reach FROM lines only; a stage arg reaches every later RUN
# (whether it names it or not) and what expands it.
ARG GO=1.22
FROM golang:${GO}-bookworm AS build
WORKDIR /src
COPY go.mod ./
RUN go mod download
ARG VERSION
RUN go build -ldflags "-X main.version=${VERSION}" -o /out/app .

FROM debian:bookworm-slim
COPY --from=build /out/app /usr/local/bin/app
ARG VERSION
LABEL org.opencontainers.image.version=$VERSION
ENV NOT_EXPANDED=\$VERSION
CMD ["app"]
