#!/usr/bin/env bash
# tests/e2e/contexts.sh - examples/monorepo-contexts built for real: a Go API from api/ and a pnpm
# site from web/, each from a Dockerfile of its own built from its app's folder, and both from
# the spec's Dockerfile built from the example's folder, and from named contexts (`--contexts named`:
# `--build-context` per app folder, as the Dockerfile's header says); with buildah, and with BuildKit (Debian's
# dockerd 20.10, tests/corpus/dockerd.sh) unless STOWPLAN_E2E_BUILDKIT=0. Each image is run and
# must answer: the API its JSON, the site its page.
#
# The site's build installs pnpm from the npm registry: the machine's registry settings and CA
# bundle go in as build secrets read at run time (lib.sh's host_secrets: `npmrc`,
# `ca-certificates`), never in a layer. Needs root and tests/e2e/setup.sh's images; takes
# run.sh's lock.
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
E2E_DIR=${STOWPLAN_E2E_DIR:-/var/tmp/stowplan-e2e}
STOWPLAN=${STOWPLAN_BIN:-$ROOT/target/debug/stowplan}
EX=$ROOT/examples/monorepo-contexts
T0=$(date +%s)
say() { printf '[contexts %4ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
die() { say "ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (buildah and podman)"
[ -x "$STOWPLAN" ] || (cd "$ROOT" && cargo build -q)
WORK=$(mktemp -d)
IMAGES=()
cleanup() {
  local i
  for i in "${IMAGES[@]}"; do buildah rmi "$i" >/dev/null 2>&1 || true; done
  rm -rf -- "$WORK"
}
trap cleanup EXIT

exec 8>"$E2E_DIR/.run.lock"
flock -n 8 || { say "waiting for $E2E_DIR/.run.lock"; flock 8; }
"$HERE/setup.sh" > "$WORK/images.tsv" 2> "$WORK/setup.log" || { cat "$WORK/setup.log"; die "setup.sh failed"; }

# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
SECRET_IDS=() SECRET_FILES=() SECRET_ARGS=() SECRET_ENV=()
host_secrets
secret=("${SECRET_ARGS[@]}")

# compile BUILDER: the three Dockerfiles for that builder, as `write` would place them.
compile() {
  local builder=$1 image
  for image in api web; do
    "$STOWPLAN" compile "$EX/stowplan.kdl" --image "$image" --image-map "$HERE/images.kdl" \
      --builder "$builder" > "$WORK/$builder.$image.Dockerfile"
  done
  "$STOWPLAN" compile "$EX/stowplan.kdl" --image-map "$HERE/images.kdl" --builder "$builder" \
    > "$WORK/$builder.all.Dockerfile"
}

# answers IMAGE: the API's JSON or the site's page.
answers() {
  case $1 in
    */api:*) "$HERE/run-image.sh" "$1" 8080 /api/hello | grep -q '"message":"hello from the api"' ;;
    */web:*) "$HERE/run-image.sh" "$1" 8080 / | grep -q '<h1>monorepo-contexts web 0.1.0</h1>' ;;
  esac || die "$1 does not answer as it should"
  say "$1 answers"
}

say "buildah: each app from its folder, both from the example's"
compile buildah-1.28-docker
B=(buildah build --format docker --pull=never --layers --force-rm --network=host)
for image in api web; do
  tag=localhost/e2e-contexts/$image:own
  "${B[@]}" "${secret[@]}" -f "$WORK/buildah-1.28-docker.$image.Dockerfile" -t "$tag" "$EX/$image" \
    > "$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; die "buildah: $image from $image/"; }
  IMAGES+=("$tag")
  tag=localhost/e2e-contexts/$image:all
  "${B[@]}" "${secret[@]}" --target "$image" -f "$WORK/buildah-1.28-docker.all.Dockerfile" -t "$tag" "$EX" \
    > "$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; die "buildah: $image from the example's folder"; }
  IMAGES+=("$tag")
done
# Named contexts: each app's folder is a named context, passed as the header's command says.
"$STOWPLAN" compile "$EX/stowplan.kdl" --image-map "$HERE/images.kdl" --builder buildah-1.28-docker \
  --contexts named > "$WORK/named.Dockerfile"
for image in api web; do
  named=()
  read -ra words < <(grep -E "^#   docker build .*--target $image " "$WORK/named.Dockerfile")
  for word in "${words[@]}"; do
    case $word in context-*=*) named+=(--build-context "${word%%=*}=$EX/${word#*=}") ;; esac
  done
  [ "${#named[@]}" = 2 ] || die "named.Dockerfile's header names no context for $image"
  tag=localhost/e2e-contexts/$image:named
  "${B[@]}" "${secret[@]}" "${named[@]}" --target "$image" -f "$WORK/named.Dockerfile" -t "$tag" "$EX" \
    > "$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; die "buildah: $image from named contexts"; }
  IMAGES+=("$tag")
done
for tag in "${IMAGES[@]}"; do answers "$tag"; done

if [ "${STOWPLAN_E2E_BUILDKIT:-1}" = 1 ]; then
  say "BuildKit (dockerd 20.10): each app from its folder"
  eval "$("$ROOT/tests/corpus/dockerd.sh" env)"
  export DOCKER_HOST
  # Stop the engine at the end only if this run started it.
  timeout 5 /usr/bin/docker version > /dev/null 2>&1 || trap 'cleanup; "$ROOT/tests/corpus/dockerd.sh" stop' EXIT
  # Without fd 8: a dockerd started here must not hold run.sh's lock after this run.
  "$ROOT/tests/corpus/dockerd.sh" start 2> "$WORK/dockerd.log" 8>&- || { cat "$WORK/dockerd.log"; die "dockerd.sh start"; }
  "$ROOT/tests/corpus/dockerd.sh" load localhost/stowplan-base/golang:bookworm \
    localhost/stowplan-base/distroless-static:nonroot localhost/stowplan-base/node:bookworm-slim \
    localhost/stowplan-base/nginx-unprivileged:bookworm 2>> "$WORK/dockerd.log"
  compile docker-20.10
  for image in api web; do
    tag=localhost/e2e-contexts/$image:buildkit
    DOCKER_BUILDKIT=1 /usr/bin/docker build -q --network=host "${secret[@]}" \
      -f "$WORK/docker-20.10.$image.Dockerfile" --target "$image" -t "$tag" "$EX/$image" \
      > "$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; die "BuildKit: $image from $image/"; }
    # Run it with podman, as the buildah images are.
    /usr/bin/docker save "$tag" | podman load -q > /dev/null
    IMAGES+=("$tag")
    /usr/bin/docker rmi "$tag" > /dev/null
    answers "$tag"
  done
fi
say "OK"
