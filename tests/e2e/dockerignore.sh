#!/usr/bin/env bash
# tests/e2e/dockerignore.sh [EXAMPLE] - a generated .dockerignore, built for real (spec/language.md,
# "Generated .dockerignore"). Root only, after setup.sh. In a copy of examples/EXAMPLE (default
# go-server, whose spec declares `output ".dockerignore"`) with files the spec does not read added
# (unlisted.txt, notes/todo.md, a .git folder):
#   write     `stowplan write`: the .dockerignore (and Dockerfile) as committed
#   probe     a Dockerfile outside the context, `FROM busybox` + `COPY . /ctx`, built with buildah and
#             with BuildKit (Debian's dockerd 20.10, tests/corpus/dockerd.sh): /ctx must hold exactly
#             the paths the .dockerignore keeps, the same for both, and none of the added files
#   build     the example's Dockerfile (with tests/e2e/images.kdl) built with buildah and BuildKit
#   run       the buildah image answers on its port (go-server: `/healthz` is `ok`)
# One PASS/FAIL line per step; exit 1 if any failed. Holds setup.sh's run lock like run.sh.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
EX=${1:-go-server}
STOWPLAN=${STOWPLAN:-$ROOT/target/debug/stowplan}
E2E_DIR=${STOWPLAN_E2E_DIR:-/var/tmp/stowplan-e2e}
DOCKER=/usr/bin/docker
BUSYBOX=localhost/stowplan-base/busybox:local
export DOCKER_BUILDKIT=1
FAILED=0
say() { printf '[e2e-dockerignore] %s\n' "$*" >&2; }
pass() { say "PASS  $*"; }
fail() { say "FAIL  $*"; FAILED=1; }

[ "$(id -u)" = 0 ] || { say "run as root"; exit 1; }
[ -x "$STOWPLAN" ] || { say "build stowplan first (cargo build)"; exit 1; }
exec 8>"$E2E_DIR/.run.lock"
flock -n 8 || { say "waiting for $E2E_DIR/.run.lock"; flock 8; }

W=$(mktemp -d /tmp/stowplan-e2e-dockerignore.XXXXXX)
TAG=localhost/e2e-dockerignore/$EX
DOCKERD_STARTED=0
# shellcheck disable=SC2317  # run by the trap
cleanup() {
  buildah rmi -f "$TAG-probe:test" "$TAG:test" >/dev/null 2>&1 || true
  [ -z "${DOCKER_HOST:-}" ] || "$DOCKER" rmi -f "$TAG-probe:test" "$TAG:test" >/dev/null 2>&1 || true
  # Stop the engine only when this run started it: the corpus may be using it.
  [ "$DOCKERD_STARTED" = 0 ] || "$HERE/../corpus/dockerd.sh" stop
  rm -rf "$W"
}
trap cleanup EXIT

C=$W/context
cp -a "$ROOT/examples/$EX" "$C"
printf 'not read by the spec\n' > "$C/unlisted.txt"
mkdir -p "$C/notes" "$C/.git" && printf 'todo\n' > "$C/notes/todo.md" && printf 'ref\n' > "$C/.git/HEAD"

# write: the committed outputs come out again, byte for byte.
"$STOWPLAN" write --force "$C/stowplan.kdl" >/dev/null
if cmp -s "$C/.dockerignore" "$ROOT/examples/$EX/.dockerignore"; then pass "write  .dockerignore as committed"
else fail "write  .dockerignore differs from examples/$EX/.dockerignore"; fi

# What the .dockerignore keeps, as a sorted list of /ctx paths (files and folders).
printf 'FROM %s\nCOPY . /ctx\n' "$BUSYBOX" > "$W/probe.Dockerfile"
listing() { grep -v '^$' | sort; }

buildah build --format docker --pull=never --layers --force-rm --network=host -q \
  -f "$W/probe.Dockerfile" -t "$TAG-probe:test" "$C" >/dev/null
podman run --rm --network=host "$TAG-probe:test" find /ctx | listing > "$W/ctx.buildah"

eval "$("$HERE/../corpus/dockerd.sh" env)"
export DOCKER_HOST
if ! timeout 5 "$DOCKER" version >/dev/null 2>&1; then
  "$HERE/../corpus/dockerd.sh" start
  DOCKERD_STARTED=1
fi
"$HERE/../corpus/dockerd.sh" load "$BUSYBOX"
"$DOCKER" build -q --network host -f "$W/probe.Dockerfile" -t "$TAG-probe:test" "$C" >/dev/null
"$DOCKER" run --rm --network host "$TAG-probe:test" find /ctx | listing > "$W/ctx.buildkit"

# The expected list: every path the spec reads, and the folders above them.
case $EX in
  go-server) printf '/ctx\n/ctx/go.mod\n/ctx/main.go\n' | listing > "$W/ctx.expected" ;;
  *) say "no expected context for $EX"; exit 1 ;;
esac
for b in buildah buildkit; do
  if diff -u "$W/ctx.expected" "$W/ctx.$b" >&2; then pass "probe  $b context: $(paste -sd' ' "$W/ctx.$b")"
  else fail "probe  $b context is not what the spec reads"; fi
done

# build: the example itself, on both builders, from the context the .dockerignore leaves.
"$STOWPLAN" compile "$C/stowplan.kdl" --image-map "$HERE/images.kdl" -o "$W/Dockerfile"
if buildah build --format docker --pull=never --layers --force-rm --network=host -q \
  -f "$W/Dockerfile" -t "$TAG:test" "$C" > "$W/build.buildah" 2>&1; then pass "build  buildah"
else tail -n 30 "$W/build.buildah" >&2; fail "build  buildah"; fi
mapfile -t bases < <(sed -n 's/^FROM \([^ ]*\).*/\1/p' "$W/Dockerfile" | grep -v '^scratch$' | grep '/' | sort -u)
"$HERE/../corpus/dockerd.sh" load "${bases[@]}"
if "$DOCKER" build --network host -f "$W/Dockerfile" -t "$TAG:test" "$C" > "$W/build.buildkit" 2>&1; then
  pass "build  buildkit"
else tail -n 30 "$W/build.buildkit" >&2; fail "build  buildkit"; fi

case $EX in
  go-server)
    if body=$("$HERE/run-image.sh" "$TAG:test" 8080 /healthz 2>"$W/run.err") && [ "$body" = ok ]; then pass "run    /healthz: $body"
    else cat "$W/run.err" >&2; fail "run    /healthz: $body"; fi ;;
esac
exit $FAILED
