#!/usr/bin/env bash
# tests/corpus/dockerd.sh start|stop|env|load IMAGE... - a private Docker engine with BuildKit.
#
# Debian's docker.io (dockerd 20.10 with its built-in BuildKit) on a data root of its own, so that
# it never meets another Docker on the machine:
#   start   apt-get install docker.io if /usr/sbin/dockerd is missing; start dockerd (no bridge, no
#           iptables: builds and containers use the host network) unless it already answers
#   env     prints DOCKER_HOST=... for `eval`; use Debian's client, /usr/bin/docker, with
#           DOCKER_BUILDKIT=1 (a newer client on the PATH may want buildx)
#   load    copies images from buildah's storage into the engine (buildah push to a docker-archive,
#           docker load), skipping those it already has with the same id: there is no registry
#   stop    stops the dockerd this script started (its pid file), leaves the data root
# Env: STOWPLAN_CORPUS_DOCKER_DIR (default /var/tmp/stowplan-corpus/docker). Needs root.
set -euo pipefail

DIR=${STOWPLAN_CORPUS_DOCKER_DIR:-/var/tmp/stowplan-corpus/docker}
SOCK=$DIR/docker.sock
PIDFILE=$DIR/dockerd.pid
EXEC_ROOT=/run/stowplan-corpus-docker   # short: it holds unix sockets
DOCKER=/usr/bin/docker
export DOCKER_HOST=unix://$SOCK

say() { printf '[dockerd] %s\n' "$*" >&2; }
answers() { timeout 5 "$DOCKER" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# Closes every descriptor above stderr in this shell (the caller's lock among them).
close_inherited_fds() {
  local fd
  for fd in "/proc/$$/fd/"*; do
    fd="${fd##*/}"
    if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec ${fd}>&-" 2>/dev/null || true; fi
  done
}

start() {
  [ "$(id -u)" = 0 ] || { say "run as root"; exit 1; }
  if [ ! -x /usr/sbin/dockerd ] || [ ! -x "$DOCKER" ]; then
    say "installing docker.io (Debian's dockerd 20.10 and client)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null 2>&1 \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null; }
  fi
  mkdir -p "$DIR/data" "$EXEC_ROOT"
  if answers; then say "dockerd already answers on $SOCK"; return 0; fi
  # --bridge=none and no iptables: the machine's network is not ours to change; builds and
  # containers run with --network=host
  # dockerd outlives its caller: it must not inherit the caller's descriptors, least of all the
  # e2e lock (flock holds as long as any copy of the descriptor is open).
  close_inherited_fds
  setsid /usr/sbin/dockerd --data-root "$DIR/data" --exec-root "$EXEC_ROOT" -H "$DOCKER_HOST" \
    --pidfile "$PIDFILE" --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
    --storage-driver=overlay2 > "$DIR/dockerd.log" 2>&1 < /dev/null &
  local pid=$!
  for _ in $(seq 60); do
    kill -0 "$pid" 2>/dev/null || break
    if answers; then say "dockerd $("$DOCKER" version --format '{{.Server.Version}}') on $SOCK"; return 0; fi
    sleep 0.5
  done
  say "dockerd did not answer (exited, or not within 30 s); its log:"; tail -n 30 "$DIR/dockerd.log" >&2
  exit 1
}

stop() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || { say "not running (no $PIDFILE)"; return 0; }
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
    kill "$pid"
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  rm -f "$PIDFILE"
}

load() {
  local img bid did tar
  for img; do
    bid=$(buildah images -q --no-trunc "$img" 2>/dev/null | head -n 1) || true
    [ -n "$bid" ] || { say "no image $img in buildah's storage"; exit 1; }
    did=$("$DOCKER" image inspect -f '{{.Id}}' "$img" 2>/dev/null || true)
    [ "$did" = "sha256:${bid#sha256:}" ] && continue
    tar=$DIR/load.$$.tar
    rm -f "$tar"
    # `buildah push ... docker-daemon:` fails against dockerd 20.10; an archive works
    buildah push -q "$img" "docker-archive:$tar:$img" >/dev/null
    "$DOCKER" load -q -i "$tar" >/dev/null
    rm -f "$tar"
    say "loaded $img"
  done
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  env) echo "DOCKER_HOST=$DOCKER_HOST" ;;
  load) shift; load "$@" ;;
  *) echo "usage: $0 start|stop|env|load IMAGE..." >&2; exit 2 ;;
esac
