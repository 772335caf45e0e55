#!/usr/bin/env bash
# tests/e2e/rebuild-timing.sh [EXAMPLE...] - how long a rebuild takes after a source-only edit, on
# a real builder: the seed tutorial's Dockerfile (benchmarks/seed-style/EXAMPLE/Dockerfile) against
# the one stowplan emits for examples/EXAMPLE/stowplan.kdl. A benchmark, not a test: it prints a
# table of medians and ratios and fails only when a build fails.
#
# For every example (default: go-server python-flask node-server node-static):
#   1. copy the example into a scratch build context (the repository is never edited);
#   2. build both Dockerfiles once with `buildah build --layers` (warm cache; the seed-style file's
#      FROM lines go through tests/e2e/images.kdl like stowplan's, so both use the local bases);
#   3. RUNS times (default 5): append a comment to the example's main source file, then rebuild
#      both, timing each (the order alternates between runs, so neither always goes first);
#   4. print the median of each and stowplan / seed.
#
# Needs root and the images of tests/e2e/setup.sh, which it runs first. Env: RUNS, STOWPLAN_BIN.
# Images it makes are removed at the end, intermediates included.
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
STOWPLAN=${STOWPLAN_BIN:-$ROOT/target/release/stowplan}
IMAGE_MAP=$HERE/images.kdl
E2E_DIR=${STOWPLAN_E2E_DIR:-/var/tmp/stowplan-e2e}
RUNS=${RUNS:-5}
EXAMPLES=("$@")
((${#EXAMPLES[@]})) || EXAMPLES=(go-server python-flask node-server node-static)
export LC_ALL=C.UTF-8

say() { printf '[rebuild-timing] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
"$HERE/setup.sh" > /dev/null
exec 8>"$E2E_DIR/.run.lock"   # shares run.sh's lock: one builder user at a time
flock 8
if [ ! -x "$STOWPLAN" ]; then (cd "$ROOT" && cargo build --release --quiet); fi

# The main source file a developer edits every day, per example.
source_of() {
  case $1 in
    go-server) echo "main.go //" ;;
    python-flask) echo "app.py #" ;;
    node-server) echo "server.js //" ;;
    node-static) echo "src/index.html <!--" ;;
    *) return 1 ;;
  esac
}

WORK=$(mktemp -d /tmp/stowplan-rebuild-timing.XXXXXX)
buildah images -a --no-trunc --json | jq -r '.[].id' | sort -u > "$WORK/before"
cleanup() {
  local id
  set +e
  for ex in "${EXAMPLES[@]}"; do buildah rmi "localhost/rt-seed/$ex:t" "localhost/rt-stowplan/$ex:t" >/dev/null 2>&1; done
  for _ in 1 2 3 4 5; do
    for id in $(buildah images -a --no-trunc --json | jq -r '.[] | select((.names // []) == []) | .id' | sort -u | comm -13 "$WORK/before" -); do
      buildah rmi "$id" >/dev/null 2>&1
    done
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# map_from FILE: rewrite each `FROM ref` with the image map, as `--image-map` does for stowplan.
map_from() {
  awk -v mapfile="$IMAGE_MAP" '
    BEGIN { while ((getline line < mapfile) > 0) if (line ~ /^map "/) { split(line, q, "\""); m[q[2]] = q[4] } }
    $1 == "FROM" && ($2 in m) { $2 = m[$2] }
    { print }' "$1"
}
build() {  # build DOCKERFILE CONTEXT TAG -> prints seconds
  local t=$EPOCHREALTIME
  buildah build --format docker --pull=never --layers --network=host -q -f "$1" -t "$3" "$2" >> "$WORK/build.log" 2>&1 \
    || { tail -n 30 "$WORK/build.log" >&2; die "build of $1 failed"; }
  awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f\n", b - a }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '| example | edited | seed-style rebuild (median) | stowplan rebuild (median) | stowplan / seed |\n'
printf '| --- | --- | ---: | ---: | ---: |\n'
for ex in "${EXAMPLES[@]}"; do
  read -r file comment <<<"$(source_of "$ex")" || die "no source file known for $ex"
  ctx=$WORK/$ex
  cp -a "$ROOT/examples/$ex" "$ctx"
  map_from "$ROOT/benchmarks/seed-style/$ex/Dockerfile" > "$WORK/$ex.seed.Dockerfile"
  "$STOWPLAN" compile "$ROOT/examples/$ex/stowplan.kdl" --image-map "$IMAGE_MAP" \
    --builder buildah-1.28-docker -o "$WORK/$ex.stowplan.Dockerfile"
  say "$ex: warm-up builds"
  build "$WORK/$ex.seed.Dockerfile" "$ctx" "localhost/rt-seed/$ex:t" > /dev/null
  build "$WORK/$ex.stowplan.Dockerfile" "$ctx" "localhost/rt-stowplan/$ex:t" > /dev/null
  : > "$WORK/$ex.seed.times"; : > "$WORK/$ex.stowplan.times"
  for i in $(seq "$RUNS"); do
    close=""; [ "$comment" = "<!--" ] && close=" -->"
    printf '\n%s edit %s%s\n' "$comment" "$i" "$close" >> "$ctx/$file"
    if ((i % 2)); then order="seed stowplan"; else order="stowplan seed"; fi
    for which in $order; do
      build "$WORK/$ex.$which.Dockerfile" "$ctx" "localhost/rt-$which/$ex:t" >> "$WORK/$ex.$which.times"
    done
    say "$ex: run $i: seed $(tail -n 1 "$WORK/$ex.seed.times")s, stowplan $(tail -n 1 "$WORK/$ex.stowplan.times")s"
  done
  s=$(median < "$WORK/$ex.seed.times"); p=$(median < "$WORK/$ex.stowplan.times")
  printf '| %s | `%s` | %ss | %ss | %s |\n' "$ex" "$file" "$s" "$p" "$(awk -v s="$s" -v p="$p" 'BEGIN { printf "%.2f", p / s }')"
done
