# changed: go.mod
# BuildKit keys `COPY --link` on its sources alone: after go.mod changed,
# the linked copy of the sources stays cached, and the RUN after it (whose
# files changed below it) rebuilds. The unlinked copy rebuilds.
FROM golang:1.22-bookworm AS build
WORKDIR /src
COPY go.mod ./
RUN go mod download
COPY --link cmd/ ./cmd/
COPY internal/ ./internal/
RUN go build -o /out/app ./cmd/app
