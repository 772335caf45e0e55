#!/usr/bin/env bash
# tests/corpus/run.sh [APP...] - build real open-source apps with stowplan, for real.
#
# For every app of corpus.tsv (default: all but the `slow` ones; or STOWPLAN_CORPUS_APPS="a b";
# or the arguments):
#   fetch         the pinned sources from their registry (npm pack, pip download --no-binary
#                 :all:) into $STOWPLAN_CORPUS_DIR/dl, sha256 checked (also when cached)
#   make          the project folder: unpacked, or made by its generator (create-vite,
#                 create-next-app, django-admin startproject); the lockfile the npm package does not ship
#                 (npm install --package-lock-only --before=DATE, sha256 checked); then
#                 tests/corpus/APP/files/ copied over it
#   compile       tests/corpus/APP/stowplan.kdl copied into a clean copy: `stowplan write`
#                 (the Dockerfile, for BuildKit), `stowplan compile --builder buildah-1.28-docker`
#                 (for buildah build), `stowplan compile --emit buildah --pull never` (the script);
#                 all with --image-map tests/e2e/images.kdl
#   buildah       buildah build of the Dockerfile, cold (no layer of this run yet) then warm
#   buildkit      docker build (Debian's dockerd 20.10, its built-in BuildKit; dockerd.sh), cold
#                 (`docker builder prune -af` first: no layer, empty cache mounts) then warm
#   script        the generated Buildah script
#   serve-*       each image run on the host network; every `check` row's GET must answer < 400
#                 with its text (podman through tests/e2e/run-image.sh; docker run for BuildKit)
#   init          `stowplan init --preset PRESET` in another clean copy, unedited: compiled,
#                 built with buildah and served the same way (a FAIL here is a finding, recorded
#                 in the table, not a failure of the run)
# then prints a Markdown table. Exit status 0 when every kept spec builds and serves on every
# builder; init results only inform.
#
# Registry settings and CA certificates are read from this machine at build time and passed as
# build secrets (never in a layer): npmrc=~/.npmrc, pip-conf=/etc/pip.conf (or $PIP_CONFIG_FILE),
# ca-certificates=/etc/ssl/certs/ca-certificates.crt, those that exist; `--secret id=ID,src=FILE`
# for buildah and docker, STOWPLAN_SECRET_<ID>=FILE for the script.
#
# Needs root on Linux (buildah, podman, dockerd); runs tests/e2e/setup.sh for buildah and the base
# images, and shares tests/e2e/run.sh's lock (the same ports). Everything it builds is removed on
# exit; the downloads and dockerd's data root are kept in $STOWPLAN_CORPUS_DIR.
#
# Env:
#   STOWPLAN_BIN              the compiler (default: target/debug/stowplan, built if missing)
#   STOWPLAN_CORPUS_APPS      the apps to run when no argument is given (default: all but those
#                             marked `slow` in corpus.tsv)
#   STOWPLAN_CORPUS_SLOW=1    the default includes the `slow` apps too
#   STOWPLAN_CORPUS_DIR       downloads, dockerd data root, scratch (default /var/tmp/stowplan-corpus)
#   STOWPLAN_CORPUS_BUILDKIT  0: skip the BuildKit builds (default 1)
#   STOWPLAN_CORPUS_INIT      0: skip the `stowplan init` builds (default 1)
#   STOWPLAN_CORPUS_COLD=1    buildah's cache mounts start empty too (a fresh TMPDIR)
#   STOWPLAN_CORPUS_KEEP=1    keep the scratch folder (projects, Dockerfiles, logs)
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
STOWPLAN=${STOWPLAN_BIN:-$ROOT/target/debug/stowplan}
IMAGE_MAP=$ROOT/tests/e2e/images.kdl
E2E_DIR=${STOWPLAN_E2E_DIR:-/var/tmp/stowplan-e2e}
CORPUS_DIR=${STOWPLAN_CORPUS_DIR:-/var/tmp/stowplan-corpus}
DL=$CORPUS_DIR/dl
BUILDKIT=${STOWPLAN_CORPUS_BUILDKIT:-1}
INIT=${STOWPLAN_CORPUS_INIT:-1}
DOCKER=/usr/bin/docker
TSV=$HERE/corpus.tsv
export LC_ALL=C.UTF-8 DOCKER_BUILDKIT=1

T0=$EPOCHREALTIME
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}'; }
say() { printf '[corpus %6ss] %s\n' "$(since "$T0")" "$*"; }
die() { say "ERROR: $*" >&2; exit 1; }

rows() {  # rows TYPE APP: the fields after TYPE and APP of the matching rows, tab-separated
  awk -F'\t' -v t="$1" -v a="$2" '$1 == t && $2 == a { s = $3; for (i = 4; i <= NF; i++) s = s "\t" $i; print s }' "$TSV"
}
ALL_APPS=$(awk -F'\t' '$1 == "serve" { printf "%s ", $2 }' "$TSV")
# the default leaves out the apps marked `slow`, unless STOWPLAN_CORPUS_SLOW=1
DEFAULT_APPS=$(awk -F'\t' -v all="${STOWPLAN_CORPUS_SLOW:-0}" 'NR == FNR { if ($1 == "slow") slow[$2] = 1; next }
  $1 == "serve" && (all == 1 || !($2 in slow)) { printf "%s ", $2 }' "$TSV" "$TSV")
if (($#)); then APPS=("$@"); else read -r -a APPS <<<"${STOWPLAN_CORPUS_APPS:-$DEFAULT_APPS}"; fi
((${#APPS[@]})) || die "no app to run"

[ "$(id -u)" = 0 ] || die "run as root (buildah, podman and dockerd use root's storage)"
for app in "${APPS[@]}"; do
  [[ " $ALL_APPS" == *" $app "* ]] || die "no app $app in $TSV (apps: $ALL_APPS)"
  [ -f "$HERE/$app/stowplan.kdl" ] || die "no kept spec $HERE/$app/stowplan.kdl"
done
for tool in curl jq sha256sum awk flock npm node python3 pip tar; do
  command -v "$tool" >/dev/null || die "$tool is missing"
done

mkdir -p "$CORPUS_DIR" "$DL"
WORK=$(mktemp -d "$CORPUS_DIR/run.XXXXXX")
TAG=stowplan-corpus-$$
BEFORE=$WORK/images.before
FAILED=0
declare -A R   # results: R[app.key]

# ------------------------------------------------------------------ secrets from this machine
# host_secrets (SECRET_IDS, SECRET_ARGS, SECRET_ENV), manifest, drop_stubs, secret_targets_untouched
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"
host_secrets

# ------------------------------------------------------------------ cleanup
script_tags() {  # the names a generated script commits, from its header ("#   img: name name")
  awk '/^# Builds the spec/ {on=1; next} on && /^#$/ {exit} on && /^#   [^ ]+: / {for (i = 3; i <= NF; i++) print $i}' "$1"
}
our_tags() {
  local app
  for app in "${APPS[@]}"; do
    echo "localhost/corpus-df/$app:test"; echo "localhost/corpus-sh/$app:test"
    echo "localhost/corpus-init/$app:test"; echo "localhost/corpus-bkb/$app:test"
    # (`buildah pull docker-archive:` keeps the name the image had in dockerd too)
    echo "localhost/corpus-bk/$app:test"
    echo "localhost/corpus-own/$app:test"
    [ ! -f "$WORK/$app/build.sh" ] || script_tags "$WORK/$app/build.sh"
  done
}
cleanup() {
  local rc=$? c t id left pid
  set +e
  trap "" INT TERM
  pid=$(cat "$WORK/build.pid" 2>/dev/null)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    say "waiting for the build (pid $pid) to finish before cleaning up"
    for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  for c in $(buildah containers --format '{{.ContainerName}}' 2>/dev/null | grep "^$TAG-"); do
    buildah rm "$c" >/dev/null 2>&1
  done
  if [ -S "$CORPUS_DIR/docker/docker.sock" ]; then
    export DOCKER_HOST=unix://$CORPUS_DIR/docker/docker.sock
    for c in $("$DOCKER" ps -aq --filter "name=^$TAG-" 2>/dev/null); do "$DOCKER" rm -f "$c" >/dev/null 2>&1; done
    for app in "${APPS[@]}"; do "$DOCKER" rmi "localhost/corpus-bk/$app:test" >/dev/null 2>&1; done
    "$DOCKER" image prune -f >/dev/null 2>&1
  fi
  if [ -f "$BEFORE" ]; then
    for t in $(our_tags | sort -u); do
      id=$(buildah images -q --no-trunc "$t" 2>/dev/null) || continue
      grep -qxF "$id" "$BEFORE" || buildah rmi "$t" >/dev/null 2>&1
    done
    for _ in 1 2 3 4 5; do   # children before parents: retry what was still in use
      left=$(buildah images -a --no-trunc --json 2>/dev/null | jq -r '.[] | select((.names // []) == []) | .id' | sort -u | comm -13 "$BEFORE" -)
      [ -n "$left" ] || break
      # shellcheck disable=SC2086  # one id per word
      buildah rmi $left >/dev/null 2>&1 && break
    done
  fi
  [ "${DOCKERD_STARTED:-0}" = 0 ] || "$HERE/dockerd.sh" stop
  if [ "${STOWPLAN_CORPUS_KEEP:-0}" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ step runner (as tests/e2e/run.sh)
# step KEY FUNC [ARGS...]: FUNC runs in a subshell with `set -e`, its output in $D/KEY.log; sets
# OK=1/0 and R[APP.KEY]=yes/no. Never call it as a condition.
step() {
  local key=$1 rc t note
  shift
  t=$EPOCHREALTIME
  rm -f "$D/$key.note"
  STEP=$key
  set +e
  (set -e; "$@") > "$D/$key.log" 2>&1
  rc=$?
  set -e
  if [ "$rc" = 130 ] || [ "$rc" = 143 ]; then say "interrupted during $APP $key"; exit "$rc"; fi
  note=$(cat "$D/$key.note" 2>/dev/null || true)
  if [ "$rc" = 0 ]; then
    OK=1; R[$APP.$key]=yes
    printf '[corpus %6ss] PASS  %-16s %-12s %6ss  %s\n' "$(since "$T0")" "$APP" "$key" "$(since "$t")" "$note"
  else
    OK=0; R[$APP.$key]=no
    printf '[corpus %6ss] %s  %-16s %-12s %6ss  %s\n' "$(since "$T0")" "$( [ "${INFO:-0}" = 1 ] && echo "info" || echo "FAIL")" "$APP" "$key" "$(since "$t")" "$note"
    tail -n "${STOWPLAN_CORPUS_LOG_LINES:-25}" "$D/$key.log" | sed 's/^/    | /'
    [ "${INFO:-0}" = 1 ] || FAILED=$((FAILED + 1))
  fi
}
skip() { R[$APP.$1]=-; printf '[corpus %6ss] SKIP  %-16s %-12s         (%s)\n' "$(since "$T0")" "$APP" "$1" "$2"; }
note() { printf '%s' "$*" > "$D/$STEP.note"; }
timed() {  # timed KEY CMD...: runs CMD, keeps its wall time in $D/t.KEY
  local k=$1 t=$EPOCHREALTIME
  shift
  "$@"
  since "$t" > "$D/t.$k"
}
bg() {  # bg CMD...: runs CMD in its own session (Ctrl-C does not cut a build short), waits
  local rc=0
  setsid "$@" &
  echo "$!" > "$WORK/build.pid"
  wait "$!" || rc=$?
  rm -f "$WORK/build.pid"
  return "$rc"
}

# ------------------------------------------------------------------ fetch and make
fetch_one() {  # fetch_one REGISTRY NAME VERSION SHA256 -> prints the verified file
  local reg=$1 name=$2 ver=$3 sum=$4 dir=$DL/$1/$2-$3 f
  f=$(find "$dir" -maxdepth 1 -type f 2>/dev/null | head -n 1)
  if [ -z "$f" ] || [ "$(sha256sum < "$f" | cut -d' ' -f1)" != "$sum" ]; then
    rm -rf "$dir"; mkdir -p "$dir.tmp"
    case $reg in
      npm) (cd "$dir.tmp" && npm pack "$name@$ver" --silent >&2) ;;
      pypi) pip download --quiet --no-deps --no-binary :all: -d "$dir.tmp" "$name==$ver" >&2 ;;
      crates)  # cargo has no download command: a throwaway package depending on it, cargo fetch
        mkdir -p "$dir.tmp/probe/src"; touch "$dir.tmp/probe/src/lib.rs"
        printf '[package]\nname = "probe"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\n%s = "=%s"\n' \
          "$name" "$ver" > "$dir.tmp/probe/Cargo.toml"
        (cd "$dir.tmp/probe" && cargo fetch --quiet) >&2
        cp "$(find "${CARGO_HOME:-$HOME/.cargo}/registry/cache" -name "$name-$ver.crate" | head -n 1)" "$dir.tmp/"
        rm -rf "$dir.tmp/probe" ;;
      *) echo "unknown registry $reg" >&2; return 1 ;;
    esac
    mv "$dir.tmp" "$dir"
    f=$(find "$dir" -maxdepth 1 -type f | head -n 1)
    [ -n "$f" ] || { echo "$reg $name $ver: nothing downloaded" >&2; return 1; }
  fi
  local got; got=$(sha256sum < "$f" | cut -d' ' -f1)
  [ "$got" = "$sum" ] || { echo "$f: sha256 $got, pinned $sum" >&2; return 1; }
  echo "$f"
}
do_fetch() {
  local reg name ver sum f n=0
  : > "$D/sources"
  while IFS=$'\t' read -r reg name ver sum; do
    f=$(fetch_one "$reg" "$name" "$ver" "$sum")
    echo "$f" >> "$D/sources"; n=$((n + 1))
    echo "$reg $name $ver $sum ok: $f"
  done < <(rows source "$APP")
  [ "$n" -gt 0 ] || { echo "no source row"; return 1; }
  note "$n source(s), sha256 verified"
}
do_make() {
  local how arg i=0 f pp="" date sum got flags
  P=$D/p/$APP
  rm -rf "$D/p" "$D/x"; mkdir -p "$D/x" "$D/p"
  while read -r f; do i=$((i + 1)); mkdir -p "$D/x/$i"; tar -xzf "$f" -C "$D/x/$i"; done < "$D/sources"
  IFS=$'\t' read -r how arg < <(rows make "$APP")
  case $how in
    unpack) cp -a "$D/x/1/$arg" "$P" ;;
    create-vite) (cd "$D/p" && node "$D/x/1/package/index.js" "$APP" --template "$arg" < /dev/null) ;;
    create-next-app)  # no install (the lockfile is made below), no git, no questions
      read -r -a flags <<<"$arg"
      (cd "$D/p" && HOME=$D/home CI=1 NEXT_TELEMETRY_DISABLED=1 node "$D/x/1/package/dist/index.js" "$APP" \
        "${flags[@]}" --use-npm --skip-install --disable-git < /dev/null) ;;
    startproject)
      for f in "$D"/x/*/*/; do pp=$pp${pp:+:}${f%/}; done
      mkdir -p "$P"
      PYTHONPATH=$pp python3 -m django startproject "$arg" "$P" ;;
    *) echo "unknown make $how"; return 1 ;;
  esac
  rm -rf "$D/x"
  while IFS=$'\t' read -r how date sum; do
    [ "$how" = npm-before ] || { echo "unknown lock $how"; return 1; }
    if [ -f "$DL/lock/$sum.json" ] && [ "$(sha256sum < "$DL/lock/$sum.json" | cut -d' ' -f1)" = "$sum" ]; then
      cp "$DL/lock/$sum.json" "$P/package-lock.json"; echo "package-lock.json: the one made earlier"
    else
      # --omit-lockfile-registry-resolved: no registry host in the lockfile, whatever ~/.npmrc says
      (cd "$P" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund \
        --omit-lockfile-registry-resolved --before="$date")
    fi
    got=$(sha256sum < "$P/package-lock.json" | cut -d' ' -f1)
    [ "$got" = "$sum" ] || { echo "package-lock.json: sha256 $got, recorded $sum"; return 1; }
    mkdir -p "$DL/lock"; cp "$P/package-lock.json" "$DL/lock/$sum.json"
  done < <(rows lock "$APP")
  [ ! -d "$HERE/$APP/files" ] || cp -a "$HERE/$APP/files/." "$P/"
  note "$(find "$P" -type f | wc -l) files"
}

# ------------------------------------------------------------------ compile, build, serve
do_compile() {
  rm -rf "$D/kept"; mkdir -p "$D/kept"; cp -a "$D/p/$APP" "$D/kept/"; cp "$HERE/$APP/stowplan.kdl" "$D/kept/$APP/"
  (cd "$D/kept/$APP" && "$STOWPLAN" write --image-map "$IMAGE_MAP" --color never)
  "$STOWPLAN" compile "$D/kept/$APP/stowplan.kdl" --image-map "$IMAGE_MAP" --builder buildah-1.28-docker \
    --color never -o "$D/buildah.Dockerfile"
  "$STOWPLAN" compile "$D/kept/$APP/stowplan.kdl" --emit buildah --pull never --image-map "$IMAGE_MAP" \
    --color never -o "$D/build.sh"
  bash -n "$D/build.sh"
  ! command -v shellcheck >/dev/null || shellcheck "$D/build.sh"
  cat "$D/kept/$APP/Dockerfile"
  note "$(grep -c '^FROM ' "$D/kept/$APP/Dockerfile") stage(s)$(cmp -s "$D/kept/$APP/Dockerfile" "$D/buildah.Dockerfile" || echo ', buildah Dockerfile differs')"
}
buildah_build() {  # buildah_build DOCKERFILE CONTEXT TAG [BUILDAH-ARGS...]
  local df=$1 ctx=$2 tag=$3
  shift 3
  bg buildah build --format docker --pull=never --layers --force-rm --network=host \
    "${SECRET_ARGS[@]}" "$@" -f "$df" -t "$tag" "$ctx"
}
do_buildah() {
  timed df_cold buildah_build "$D/buildah.Dockerfile" "$D/kept/$APP" "localhost/corpus-df/$APP:test"
  timed df_warm buildah_build "$D/buildah.Dockerfile" "$D/kept/$APP" "localhost/corpus-df/$APP:test"
  podman image inspect -f '{{.Size}}' "localhost/corpus-df/$APP:test" > "$D/size"
  note "cold $(cat "$D/t.df_cold")s, warm $(cat "$D/t.df_warm")s, $(mb "$(cat "$D/size")")"
}
do_script() {
  local line
  (cd "$D" && env STOWPLAN_CONTEXT="$D/kept/$APP" "${SECRET_ENV[@]}" bash "$D/build.sh") > "$D/build.sh.out"
  cat "$D/build.sh.out"
  line=$(tail -n 1 "$D/build.sh.out")
  buildah tag "${line%% *}" "localhost/corpus-sh/$APP:test"
}
docker_build() {
  bg "$DOCKER" build --network host "${SECRET_ARGS[@]}" -t "localhost/corpus-bk/$APP:test" "$D/kept/$APP"
}
do_buildkit() {
  local img
  # the bases, from buildah's storage (there is no registry)
  while read -r img; do
    grep -qE "^FROM [^ ]+ AS $img\$" "$D/kept/$APP/Dockerfile" && continue   # a stage of the file
    [ "$img" = scratch ] || "$HERE/dockerd.sh" load "$img"
  done < <(awk '/^FROM / {print $2}' "$D/kept/$APP/Dockerfile" | sort -u)
  "$DOCKER" builder prune -af >/dev/null
  timed bk_cold docker_build
  timed bk_warm docker_build
  # into buildah's storage too, for the file comparison
  "$DOCKER" save -o "$D/bk.tar" "localhost/corpus-bk/$APP:test"
  buildah pull -q "docker-archive:$D/bk.tar" > "$D/bk.id"
  rm -f "$D/bk.tar"
  buildah tag "$(cat "$D/bk.id")" "localhost/corpus-bkb/$APP:test"
  note "cold $(cat "$D/t.bk_cold")s, warm $(cat "$D/t.bk_warm")s, $(mb "$("$DOCKER" image inspect -f '{{.Size}}' "localhost/corpus-bk/$APP:test")")"
}
mb() { awk -v b="$1" 'BEGIN{printf "%.1f MB", b / 1e6}'; }

# The images of the three builders, file by file (tests/e2e/lib.sh's manifest: path, type, mode,
# owner, sha256; no mtimes; .pyc without their source mtime), the script's as the reference.
# Besides those, two exclusions: the mount-point stubs `buildah build` leaves (drop_stubs), and the
# owners npm gives files under node_modules/, which follow the npm cache's state (npm_owners).
# varies LIST...: drops from each list the paths under the app's `varies` prefixes (corpus.tsv: a
# build that writes them differently every time, such as Next's random build id), and records
# what it dropped from the first in $D/varies.
varies() {
  local list prefix first=1
  for list in "$@"; do
    while IFS=$'\t' read -r prefix _; do
      if [ "$first" = 1 ]; then awk -F'\t' -v p="$prefix" 'index($1, p) == 1' "$list" >> "$D/varies"; fi
      awk -F'\t' -v p="$prefix" 'index($1, p) != 1' "$list" > "$list.kept" && mv "$list.kept" "$list"
    done < <(rows varies "$APP")
    first=0
  done
}
do_files() {
  local bk="" n d=0
  : > "$D/varies"
  manifest "localhost/corpus-sh/$APP:test" "$D/sh.files"
  manifest "localhost/corpus-df/$APP:test" "$D/df.files.raw"
  drop_stubs "$D/df.files.raw" "$D/sh.files" "$D/buildah.Dockerfile" > "$D/df.files.stubs" 2> "$D/df.stubs"
  npm_owners "$D/sh.files" "$D/df.files.stubs" > "$D/df.files" 2> "$D/npm.owners"
  cat "$D/df.stubs" "$D/npm.owners"
  varies "$D/sh.files" "$D/df.files"
  n=$(wc -l < "$D/sh.files")
  diff -u "$D/sh.files" "$D/df.files" > "$D/files.df.diff" || { echo "--- script  +++ buildah build"; head -n 60 "$D/files.df.diff"; d=1; }
  if [ "${R[$APP.buildkit]:-}" = yes ]; then
    bk=", BuildKit"
    manifest "localhost/corpus-bkb/$APP:test" "$D/bk.files.raw"
    npm_owners "$D/sh.files" "$D/bk.files.raw" > "$D/bk.files" 2>> "$D/npm.owners"
    varies "$D/bk.files"
    diff -u "$D/sh.files" "$D/bk.files" > "$D/files.bk.diff" || { echo "--- script  +++ BuildKit"; head -n 60 "$D/files.bk.diff"; d=1; }
  fi
  note "$n paths: script = buildah build$bk$( [ "$d" = 0 ] || echo ": DIFFER")$(v=$(grep -c . "$D/varies"); [ "$v" = 0 ] || echo ", $v path(s) of a build that varies left out")$(s=$(grep -c . "$D/df.stubs"); [ "$s" = 0 ] || echo ", $s buildah-build stub(s) dropped")$(o=$(grep -c . "$D/npm.owners"); [ "$o" = 0 ] || echo ", $o npm owner(s)")$(p=$(grep -c '\.pyc	' "$D/sh.files"); [ "$p" = 0 ] || echo ", $p .pyc without source mtime")"
  [ "$d" = 0 ]
}
# No secret reached an image: each secret mount's target is the base's own file in all three, and
# no layer of them holds one of this machine's extra CAs (tests/e2e/host-ca-check.py).
do_secrets() {
  local images=("localhost/corpus-df/$APP:test" "localhost/corpus-sh/$APP:test")
  [ "${R[$APP.buildkit]:-}" != yes ] || images+=("localhost/corpus-bkb/$APP:test")
  local i
  for i in "${images[@]}"; do echo "== $i"; secret_targets_untouched "$i" "$D/buildah.Dockerfile"; done
  # (not the base image's layers: the e2e suite's host-ca step reads those)
  python3 "$ROOT/tests/e2e/host-ca-check.py" "$(buildah info --format '{{.store.GraphRoot}}')" \
    "--base=$(final_base "$D/buildah.Dockerfile")" "${images[@]}"
  note "$(grep -c -- '--mount=type=secret' "$D/buildah.Dockerfile" || true) RUN(s) with secrets; ${#images[@]} image(s): targets as in the base, no host CA in any layer"
}
# The app's own Dockerfile, where the fetched project has one: built with buildah as it is, for
# the size column.
do_own() {
  buildah_build "$P/Dockerfile" "$P" "localhost/corpus-own/$APP:test"
  podman image inspect -f '{{.Size}}' "localhost/corpus-own/$APP:test" > "$D/own.size"
  note "$(mb "$(cat "$D/own.size")")"
}

serve_podman() {  # serve_podman IMAGE: every check row, through tests/e2e/run-image.sh
  local path text port n=0
  port=$(rows serve "$APP" | cut -f2)
  while IFS=$'\t' read -r path text; do
    RUN_IMAGE_WAIT=30 "$ROOT/tests/e2e/run-image.sh" "$1" "$port" "$path" > "$D/body" < /dev/null
    grep -qF -- "$text" "$D/body" || { echo "GET $path: no '$text' in:"; head -c 2000 "$D/body"; return 1; }
    echo "GET $path: found '$text'"; n=$((n + 1))
  done < <(rows check "$APP")
  note "$n check(s)"
}
serve_docker() {  # serve_docker IMAGE: the same checks against `docker run --network host`
  local path text port name=$TAG-$APP code start n=0
  port=$(rows serve "$APP" | cut -f2)
  ! curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/" || { echo "port $port is busy"; return 1; }
  "$DOCKER" run -d --rm --network host --name "$name" "$1" > /dev/null
  while IFS=$'\t' read -r path text; do
    start=$EPOCHSECONDS
    while :; do
      code=$(curl -sS --max-time 3 -o "$D/body" -w '%{http_code}' "http://127.0.0.1:$port$path" 2>/dev/null || true)
      [ -z "$code" ] || [ "$code" = 000 ] || break
      if ((EPOCHSECONDS - start >= 30)) || ! "$DOCKER" container inspect "$name" >/dev/null 2>&1; then
        echo "no answer on $port$path"; "$DOCKER" logs "$name" 2>&1 | tail -n 20; "$DOCKER" rm -f "$name" >/dev/null 2>&1; return 1
      fi
      sleep 0.3
    done
    if [ "$code" -ge 400 ] || ! grep -qF -- "$text" "$D/body"; then
      echo "GET $path: HTTP $code, expected '$text' in:"; head -c 2000 "$D/body"; "$DOCKER" rm -f "$name" >/dev/null; return 1
    fi
    echo "GET $path: HTTP $code, found '$text'"; n=$((n + 1))
  done < <(rows check "$APP")
  "$DOCKER" rm -f "$name" >/dev/null
  note "$n check(s)"
}

do_init() {
  local preset
  preset=$(rows serve "$APP" | cut -f1)
  rm -rf "$D/init"; mkdir -p "$D/init"; cp -a "$D/p/$APP" "$D/init/"
  (cd "$D/init/$APP" && "$STOWPLAN" init --preset "$preset" --color never) 2>&1
  cat "$D/init/$APP/stowplan.kdl"
  "$STOWPLAN" compile "$D/init/$APP/stowplan.kdl" --image-map "$IMAGE_MAP" --builder buildah-1.28-docker \
    --color never -o "$D/init.Dockerfile"
  # init's spec mounts no secret: the machine's CA bundle is bound over the base's for its RUNs
  # (`buildah build -v`, never committed), as a machine without an intercepting proxy needs none
  buildah_build "$D/init.Dockerfile" "$D/init/$APP" "localhost/corpus-init/$APP:test" \
    -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro
  secret_targets_untouched "localhost/corpus-init/$APP:test" "$D/init.Dockerfile" /etc/ssl/certs/ca-certificates.crt
}

# ------------------------------------------------------------------ main
say "setup: tests/e2e/setup.sh (buildah, the base images)"
"$ROOT/tests/e2e/setup.sh" > "$WORK/setup.log" 2>&1 || { tail -n 40 "$WORK/setup.log"; die "setup.sh failed"; }

# one run at a time, and not beside tests/e2e/run.sh: the same ports
exec 8>"$E2E_DIR/.run.lock"
if ! flock -n 8; then say "another run holds $E2E_DIR/.run.lock: waiting"; flock 8; fi
DOCKERD_STARTED=0
if [ "$BUILDKIT" = 1 ]; then
  # After the lock: a run that started dockerd stops it at its end, so one that found it running
  # before it waited for the lock would find it gone. A dockerd this run starts is stopped at its
  # end (cleanup); one that already runs is left alone.
  DOCKER_HOST=unix://$CORPUS_DIR/docker/docker.sock timeout 5 "$DOCKER" version >/dev/null 2>&1 || DOCKERD_STARTED=1
  # 8>&-: dockerd may outlive this run (a killed run leaves it), and must not hold the lock
  "$HERE/dockerd.sh" start 2> "$WORK/dockerd.log" 8>&- || { cat "$WORK/dockerd.log"; die "dockerd.sh start failed (STOWPLAN_CORPUS_BUILDKIT=0 skips BuildKit)"; }
  export DOCKER_HOST=unix://$CORPUS_DIR/docker/docker.sock
  say "BuildKit: $(tail -n 1 "$WORK/dockerd.log" | sed 's/^\[dockerd\] //')"
fi

if [ ! -x "$STOWPLAN" ]; then
  [ -z "${STOWPLAN_BIN:-}" ] || die "STOWPLAN_BIN=$STOWPLAN_BIN is not an executable"
  say "building $STOWPLAN (cargo build)"
  (cd "$ROOT" && cargo build --locked --quiet) || die "cargo build failed"
fi
say "compiler: $("$STOWPLAN" --version); secrets from this machine: ${SECRET_IDS[*]:-none}"
if [ "${STOWPLAN_CORPUS_COLD:-0}" = 1 ]; then
  export TMPDIR=$WORK/tmp; mkdir -p "$TMPDIR"; say "cold cache mounts: TMPDIR=$TMPDIR"
fi
buildah images -a --no-trunc --json | jq -r '.[].id' | sort -u > "$BEFORE"

for APP in "${APPS[@]}"; do
  D=$WORK/$APP
  mkdir -p "$D"
  say "== $APP"
  step fetch do_fetch
  if [ "$OK" = 1 ]; then step make do_make; else skip make "no sources"; fi
  P=$D/p/$APP
  if [ "${R[$APP.make]}" != yes ]; then
    for k in compile buildah serve-df buildkit serve-bk script serve-sh files secrets own init serve-init; do skip "$k" "no project"; done
    continue
  fi
  step compile do_compile
  if [ "$OK" = 1 ]; then
    step buildah do_buildah
    if [ "$OK" = 1 ]; then step serve-df serve_podman "localhost/corpus-df/$APP:test"; else skip serve-df "no image"; fi
    if [ "$BUILDKIT" = 1 ]; then
      step buildkit do_buildkit
      if [ "$OK" = 1 ]; then step serve-bk serve_docker "localhost/corpus-bk/$APP:test"; else skip serve-bk "no image"; fi
    else
      skip buildkit "STOWPLAN_CORPUS_BUILDKIT=0"; skip serve-bk "STOWPLAN_CORPUS_BUILDKIT=0"
    fi
    step script do_script
    if [ "$OK" = 1 ]; then step serve-sh serve_podman "localhost/corpus-sh/$APP:test"; else skip serve-sh "no image"; fi
    if [ "${R[$APP.buildah]}" = yes ] && [ "${R[$APP.script]}" = yes ]; then
      step files do_files
      step secrets do_secrets
    else
      skip files "an image is missing"; skip secrets "an image is missing"
    fi
  else
    for k in buildah serve-df buildkit serve-bk script serve-sh files secrets; do skip "$k" "no spec"; done
  fi
  if [ -f "$P/Dockerfile" ]; then step own do_own; else skip own "the project ships no Dockerfile"; fi
  if [ "$INIT" = 1 ]; then
    INFO=1 step init do_init
    if [ "$OK" = 1 ]; then INFO=1 step serve-init serve_podman "localhost/corpus-init/$APP:test"; else skip serve-init "no image"; fi
  else
    skip init "STOWPLAN_CORPUS_INIT=0"; skip serve-init "STOWPLAN_CORPUS_INIT=0"
  fi
done

# ------------------------------------------------------------------ table
yn() { case ${R[$1]:--} in yes) echo yes ;; no) echo "**no**" ;; *) echo - ;; esac; }
t() { [ -f "$WORK/$1/t.$2" ] && echo "$(cat "$WORK/$1/t.$2") s" || echo -; }
echo
echo "| app | preset | \`init\` unedited: builds / serves | kept spec, buildah: builds / serves | BuildKit | Buildah script | same files | no secret in the image | image size | the app's Dockerfile | buildah cold / warm | BuildKit cold / warm |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for APP in "${APPS[@]}"; do
  preset=$(rows serve "$APP" | cut -f1)
  size=-; [ -f "$WORK/$APP/size" ] && size=$(mb "$(cat "$WORK/$APP/size")")
  own=-; [ -f "$WORK/$APP/own.size" ] && own=$(mb "$(cat "$WORK/$APP/own.size")")
  echo "| $APP | $preset | $(yn "$APP.init") / $(yn "$APP.serve-init") | $(yn "$APP.buildah") / $(yn "$APP.serve-df") | $(yn "$APP.buildkit") / $(yn "$APP.serve-bk") | $(yn "$APP.script") / $(yn "$APP.serve-sh") | $(yn "$APP.files") | $(yn "$APP.secrets") | $size | $own | $(t "$APP" df_cold) / $(t "$APP" df_warm) | $(t "$APP" bk_cold) / $(t "$APP" bk_warm) |"
done
echo
if [ "$FAILED" = 0 ]; then
  say "OK: every kept spec builds and serves (${APPS[*]}) in $(since "$T0") s"
else
  say "FAILED: $FAILED step(s) of the kept specs failed"; exit 1
fi
