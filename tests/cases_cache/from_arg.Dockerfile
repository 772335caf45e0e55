# base: node:22-alpine
# A FROM that names a global ARG is read with its default: a new
# node:22-alpine rebuilds the stage built on it, not the other.
ARG V=22-alpine
ARG OTHER="debian:bookworm-slim"
FROM node:${V} AS web
RUN echo web
FROM ${OTHER} AS tools
RUN echo tools
FROM ${MISSING:-busybox:1.36} AS fallback
RUN echo fallback
