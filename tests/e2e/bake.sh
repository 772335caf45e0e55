#!/usr/bin/env bash
# tests/e2e/bake.sh [BAKE_FILE...] - builds every target of a generated bake file as
# `docker buildx bake` would, with buildah: for each target T of the file,
#   buildah build --pull=never --layers --target T -f CONTEXT/DOCKERFILE CONTEXT
# where CONTEXT is the target's `context` taken from the bake file's folder and DOCKERFILE its
# `dockerfile`, relative to the context (the bake file reference's rule). The bases are the local
# images setup.sh makes: each `map` line of images.kdl is tagged under the name the checked-in
# Dockerfile uses for the build, and untagged afterwards. Default: examples/monorepo/docker-bake.json.
# Needs root, buildah and jq, and setup.sh's images (run tests/e2e/setup.sh first).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "bake.sh: run as root" >&2; exit 2; }
FILES=("$@")
[ ${#FILES[@]} -gt 0 ] || FILES=("$ROOT/examples/monorepo/docker-bake.json")
TAGGED=()
BUILT=()
cleanup() {
  for t in "${BUILT[@]}"; do buildah rmi "$t" >/dev/null 2>&1 || true; done
  for t in "${TAGGED[@]}"; do buildah untag "$t" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
# map "FROM-NAME" "LOCAL-IMAGE": tag the local image under the Dockerfile's name, unless it exists.
while read -r from local; do
  if ! buildah inspect --type image "$from" >/dev/null 2>&1 &&
     buildah inspect --type image "$local" >/dev/null 2>&1; then
    buildah tag "$local" "$from" && TAGGED+=("$from")
  fi
done < <(sed -n 's/^map "\([^"]*\)" "\([^"]*\)"$/\1 \2/p' "$HERE/images.kdl")
fails=0
for file in "${FILES[@]}"; do
  dir=$(cd "$(dirname "$file")" && pwd)
  for t in $(jq -r '.target | keys[]' "$file"); do
    context="$dir/$(jq -r --arg t "$t" '.target[$t].context' "$file")"
    dockerfile="$context/$(jq -r --arg t "$t" '.target[$t].dockerfile' "$file")"
    stage=$(jq -r --arg t "$t" '.target[$t].target' "$file")
    tag="localhost/e2e-bake/$t:test"
    args=()
    while IFS='=' read -r k v; do [ -n "$k" ] && args+=(--build-arg "$k=$v"); done \
      < <(jq -r --arg t "$t" '.target[$t].args // {} | to_entries[] | "\(.key)=\(.value)"' "$file")
    start=$(date +%s)
    if buildah build --pull=never --layers --network=host "${args[@]}" --target "$stage" \
         -f "$dockerfile" -t "$tag" "$context" > "/tmp/e2e-bake-$t.log" 2>&1; then
      BUILT+=("$tag")
      echo "ok    $file $t ($(( $(date +%s) - start )) s)"
    else
      echo "FAIL  $file $t (log: /tmp/e2e-bake-$t.log)"
      fails=$((fails + 1))
    fi
  done
done
[ "$fails" = 0 ]
