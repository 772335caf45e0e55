# changed: main.go
# Seed tutorial 001, as written: `COPY . .` comes first, so a source edit
# downloads the modules again.
FROM golang:1.18 AS builder
WORKDIR /app
COPY . .
RUN go mod download
RUN go build -o myapp

FROM alpine:latest
RUN apk --no-cache add ca-certificates
WORKDIR /root/
COPY --from=builder /app/myapp .
CMD ["./myapp"]
