#!/usr/bin/env bash
# benchmarks/replay.sh [--commits N] [--seconds S] [HISTORY...] - the cache model against buildah's layer cache:
# replays each shared history (benchmarks/histories/, default: all) on a real `buildah build
# --layers` and compares every step's cached-or-rebuilt with `stowplan explain --builder buildah`.
# N commits per history, spread evenly (default 200; all of a shorter history); with --seconds,
# only those replayed in S seconds (the table says how many). Prints a table per
# history and every disagreement; exits 1 on one that benchmarks/replay/known.tsv does not list
# (spec/cache.md explains those). How it works: benchmarks/replay/replay.py.
#
# Needs root and buildah (tests/e2e/setup.sh installs it). It builds in a containers store of its
# own per history ($STOWPLAN_REPLAY_DIR/HISTORY, default under /var/tmp/stowplan-replay), on tiny
# base images it makes there from the host's static busybox: it neither waits for the e2e lock
# nor blocks it, and nobody else's clean-up can remove the layers it caches.
# Env: STOWPLAN_BIN (default target/debug/stowplan, built if missing), REPLAY_JOBS (histories at
# once, default 4).
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/.." && pwd)
STOWPLAN=${STOWPLAN_BIN:-$ROOT/target/debug/stowplan}
DIR=${STOWPLAN_REPLAY_DIR:-/var/tmp/stowplan-replay}
COMMITS=200
EXTRA=()
while (($#)); do
  case $1 in
    --commits) COMMITS=$2; shift 2 ;;
    --commits=*) COMMITS=${1#*=}; shift ;;
    --seconds) EXTRA+=(--seconds "$2"); shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "replay.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
HISTORIES=("$@")
if ((${#HISTORIES[@]} == 0)); then
  for f in "$ROOT"/benchmarks/histories/*.jsonl; do HISTORIES+=("$(basename "$f" .jsonl)"); done
fi
export LC_ALL=C.UTF-8

say() { printf '[replay] %s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || { say "ERROR: run as root"; exit 1; }
command -v buildah >/dev/null || { say "ERROR: no buildah (tests/e2e/setup.sh installs it)"; exit 1; }
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ! file -L "$BUSYBOX" | grep -q 'statically linked'; then
  say "ERROR: needs a static busybox (Debian's busybox-static)"; exit 1
fi
if [ ! -x "$STOWPLAN" ]; then (cd "$ROOT" && cargo build --quiet); fi

# One replay at a time; a store per history, so that the histories replaying side by side never
# wait on each other's store lock (a fully cached build took 25 s with four sharing one).
mkdir -p "$DIR"
exec 8>"$DIR/.lock"
flock 8
WORK=$(mktemp -d /tmp/stowplan-replay.XXXXXX)
cleanup() {
  set +e
  for h in "${HISTORIES[@]}"; do
    CONTAINERS_STORAGE_CONF=$DIR/$h/storage.conf buildah rmi --all --force >/dev/null 2>&1
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# The base images: busybox and a label each (a FROM of another base is another image).
cp "$BUSYBOX" "$WORK/busybox"
cat > "$WORK/Dockerfile.base" <<'DF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ARG NAME
LABEL org.stowplan.replay.base=$NAME
RUN mkdir -p /etc/ssl/certs && echo "replay $NAME" > /etc/ssl/certs/ca-certificates.crt
DF
for h in "${HISTORIES[@]}"; do
  mkdir -p "$DIR/$h"
  cat > "$DIR/$h/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$DIR/$h/storage"
runroot = "$DIR/$h/run"
CONF
  sed -n 's|^map "[^"]*" "localhost/stowplan-replay/base:\([^"]*\)"$|\1|p' "$HERE/replay/images.kdl" |
    while read -r name; do
      CONTAINERS_STORAGE_CONF=$DIR/$h/storage.conf buildah build --layers --pull=never --network=none -q \
        --build-arg NAME="$name" -f "$WORK/Dockerfile.base" -t "localhost/stowplan-replay/base:$name" "$WORK" > /dev/null
    done
done

# buildah's verdicts stay in $DIR/last.jsonl: `replay.py --recheck` compares them with a changed
# model without building again.
python3 "$HERE/replay/replay.py" --commits "$COMMITS" --stowplan "$STOWPLAN" --work "$WORK" \
  --jobs "${REPLAY_JOBS:-4}" --nonce "$(date +%s%N)" --record "$DIR/last.jsonl" --stores "$DIR" \
  "${EXTRA[@]}" "${HISTORIES[@]}"
