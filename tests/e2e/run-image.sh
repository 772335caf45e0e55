#!/usr/bin/env bash
# tests/e2e/run-image.sh IMAGE [PORT] [PATH] - run an image built for the e2e tests and check it.
#
# With PORT: starts IMAGE detached (podman run -d --rm --network=host), waits up to
#   $RUN_IMAGE_WAIT seconds (default 20) for http://127.0.0.1:PORT/PATH to answer, prints the body
#   to stdout, stops the container. Exit 0 on an HTTP status < 400; otherwise prints the
#   container's output to stderr and exits 1.
# Without PORT: runs IMAGE in the foreground (at most $RUN_IMAGE_TIMEOUT s, default 60), prints
#   its output, exits with its exit code.
# The container is always removed, also on failure or Ctrl-C.
# Env: RUN_IMAGE_ARGS  extra `podman run` arguments (word-split), e.g. "-e GREETING=hi --user 1000"
set -euo pipefail

usage() { echo "usage: $0 IMAGE [PORT] [PATH]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 3 ] || usage
IMAGE=$1; PORT=${2:-}; URLPATH=${3:-/}
URLPATH=/${URLPATH#/}
WAIT=${RUN_IMAGE_WAIT:-20}
TIMEOUT=${RUN_IMAGE_TIMEOUT:-60}
# shellcheck disable=SC2206
EXTRA=(${RUN_IMAGE_ARGS:-})
[ -z "$PORT" ] || [[ "$PORT" =~ ^[0-9]+$ ]] || usage

NAME=stowplan-e2e-run-$$-$RANDOM
TMP=$(mktemp -d /tmp/stowplan-run-image.XXXXXX)
cleanup() {
  local rc=$?
  podman rm --force --time 2 --ignore "$NAME" >/dev/null 2>&1 || true
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "$PORT" ]; then
  set +e
  timeout --signal=TERM "$TIMEOUT" podman run --rm --network=host --name "$NAME" "${EXTRA[@]}" "$IMAGE"
  rc=$?
  set -e
  [ $rc = 124 ] && echo "run-image.sh: $IMAGE still running after ${TIMEOUT}s, stopped" >&2
  exit $rc
fi

URL=http://127.0.0.1:$PORT$URLPATH
http_get() {  # -> status code in $TMP/code, body in $TMP/body; 000 = no answer
  curl -sS --max-time 3 -o "$TMP/body" -w '%{http_code}' "$URL" > "$TMP/code" 2>/dev/null || true
  [ -s "$TMP/code" ] || echo 000 > "$TMP/code"
}
# with the host network a server already on the port would answer for the image: refuse
http_get
if [ "$(cat "$TMP/code")" != 000 ]; then
  echo "run-image.sh: something already answers on port $PORT; stop it first" >&2
  exit 1
fi

# --log-opt path: the output survives the container's removal (--rm), for the failure report
podman run -d --rm --network=host --name "$NAME" --log-driver k8s-file \
  --log-opt "path=$TMP/container.log" "${EXTRA[@]}" "$IMAGE" > "$TMP/id"
show_log() {
  echo "---- container output ($IMAGE)" >&2
  if [ -s "$TMP/container.log" ]; then
    # k8s-file lines: TIMESTAMP STREAM P|F TEXT
    sed -E 's/^[^ ]+ (stdout|stderr) [PF] ?//' "$TMP/container.log" >&2
  else
    podman logs "$NAME" >&2 2>&1 || true
  fi
  echo "----" >&2
}

start=$EPOCHSECONDS
code=000
while :; do
  http_get; code=$(cat "$TMP/code")
  [ "$code" != 000 ] && break
  if ! podman container exists "$NAME"; then
    echo "run-image.sh: $IMAGE exited before answering on $URL" >&2; show_log; exit 1
  fi
  if (( EPOCHSECONDS - start >= WAIT )); then
    echo "run-image.sh: no answer from $URL within ${WAIT}s" >&2; show_log; exit 1
  fi
  sleep 0.3
done

cat "$TMP/body"
if [ "$code" -ge 400 ]; then
  echo "run-image.sh: $URL answered HTTP $code" >&2; show_log; exit 1
fi
echo "run-image.sh: $URL answered HTTP $code after $(( EPOCHSECONDS - start ))s" >&2
