#!/usr/bin/env bash
# tests/e2e/run.sh [EXAMPLE...] - stowplan's end-to-end test: both backends, for real.
#
# For every example (default: the four seed apps go-server python-flask node-server node-static,
# node-args (node-server with its base image and labels from build arguments), node-mounts (a
# cache owned by the non-root build user, an artifact bound into a step) and
# the preset examples preset-go preset-node preset-python preset-static preset-rust preset-java):
#   compile-df    stowplan compile --image-map tests/e2e/images.kdl --builder buildah-1.28-docker
#                   -> Dockerfile
#   compile-sh    stowplan compile --emit buildah --pull never --image-map ... -> build.sh
#                 (bash -n, and shellcheck when installed: the spec says the script passes it)
#   build-df      buildah build --format docker --pull=never --layers --force-rm --network=host
#                   -f Dockerfile -t localhost/e2e-df/NAME:test examples/NAME
#   build-sh      STOWPLAN_CONTEXT=examples/NAME bash build.sh; tagged localhost/e2e-sh/NAME:test
#   run-df/run-sh run the image (podman, host network, one at a time), check the HTTP answers of
#                 the example's README/source, run its HEALTHCHECK, stop it with its STOPSIGNAL
#   files         same files in both images: path, type, mode, uid:gid, sha256 / symlink target
#   config        same config: user, env, workdir, entrypoint, cmd, ports, labels, healthcheck,
#                 stop signal, volumes, onbuild, shell
#   cache         build-df again with nothing changed: every step must say "Using cache" and the
#                 image id must be the same
# then prints a timing table and a summary. Exit status 0 only if every step passed.
#
# Everything it makes (containers, images including `buildah build --layers` intermediates, the
# script's localhost/NAME:latest + spec tags, temp files) is removed on exit, also on failure or
# Ctrl-C. Needs root (like setup.sh, which it runs first). Runs from any directory.
#
# Env:
#   STOWPLAN_BIN         the compiler (default: target/debug/stowplan, built with cargo if missing)
#   STOWPLAN_E2E_COLD=1  give buildah an empty cache-mount directory (fresh TMPDIR), so that
#                        go/pip/npm caches start empty as on a new machine
#   STOWPLAN_E2E_KEEP=1  keep the work directory (Dockerfiles, scripts, logs, manifests)
#   STOWPLAN_E2E_DIR     setup.sh's work dir (default /var/tmp/stowplan-e2e); run.sh takes a lock there
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
STOWPLAN=${STOWPLAN_BIN:-$ROOT/target/debug/stowplan}
IMAGE_MAP=$HERE/images.kdl
E2E_DIR=${STOWPLAN_E2E_DIR:-/var/tmp/stowplan-e2e}
ALL_EXAMPLES=(go-server python-flask python-bundle node-server node-static node-args node-mounts
              preset-go preset-node preset-python preset-static preset-rust preset-java)
EXAMPLES=("$@")
((${#EXAMPLES[@]})) || EXAMPLES=("${ALL_EXAMPLES[@]}")
export LC_ALL=C.UTF-8

# host_secrets, manifest, drop_stubs, secret_targets_untouched
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"

T0=$EPOCHREALTIME
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}'; }
say() { printf '[e2e %6ss] %s\n' "$(since "$T0")" "$*"; }
die() { say "ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (buildah/podman use the root storage that setup.sh configures)"
for ex in "${EXAMPLES[@]}"; do
  [ -f "$ROOT/examples/$ex/stowplan.kdl" ] || die "no example $ex (examples/$ex/stowplan.kdl)"
done
for tool in curl jq find sha256sum awk perl flock; do
  command -v "$tool" >/dev/null || die "$tool is missing (setup.sh installs it)"
done

WORK=$(mktemp -d /tmp/stowplan-e2e-run.XXXXXX)
TAG=stowplan-e2e-$$            # prefix of every container this run creates
BEFORE=$WORK/images.before      # image ids that existed before the builds
PASSED=0 FAILED=0 SKIPPED=0
FAILURES=()

# ------------------------------------------------------------------ cleanup
# Containers: everything named $TAG-*. Images: our tags and the script's tags (read from the
# script header) where they point at an image this run made, then every image that did not exist
# before the run and is now untagged (the `buildah build --layers` intermediates; an untagged
# image another user's build made meanwhile would go too, unless it is in use). Images tagged
# under other names are left alone.
our_tags() {
  local ex
  for ex in "${EXAMPLES[@]}"; do
    echo "localhost/e2e-df/$ex:test"
    echo "localhost/e2e-sh/$ex:test"
    [ ! -f "$WORK/$ex/build.sh" ] || script_tags "$WORK/$ex/build.sh"
  done
}
script_tags() {  # the names the generated script commits, from its header ("#   img: name name")
  awk '/^# Builds the spec/ {on=1; next} on && /^#$/ {exit} on && /^#   [^ ]+: / {for (i = 3; i <= NF; i++) print $i}' "$1"
}
cleanup() {
  local rc=$? c t id left pid
  set +e
  trap "" INT TERM   # a second Ctrl-C must not cut the cleanup short
  pid=$(cat "$WORK/buildah-build.pid" 2>/dev/null)
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = buildah ]; then
    say "waiting for buildah build (pid $pid) to finish before cleaning up"
    for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { say "buildah build still running after 300s: killing it"; kill "$pid"; sleep 2; }
  fi
  for c in $(podman ps -a --format '{{.Names}}' 2>/dev/null | grep "^$TAG-"); do
    podman rm --force --time 2 "$c" >/dev/null 2>&1
  done
  for c in $(buildah containers --format '{{.ContainerName}}' 2>/dev/null | grep "^$TAG-"); do
    buildah rm "$c" >/dev/null 2>&1
  done
  if [ -f "$BEFORE" ]; then
    for t in $(our_tags | sort -u); do
      id=$(buildah images -q --no-trunc "$t" 2>/dev/null) || continue
      grep -qxF "$id" "$BEFORE" || buildah rmi "$t" >/dev/null 2>&1
    done
    for _ in 1 2 3 4 5; do   # children before parents: retry what was still in use
      left=0
      for id in $(buildah images -a --no-trunc --json 2>/dev/null | jq -r '.[] | select((.names // []) == []) | .id' | sort -u | comm -13 "$BEFORE" -); do
        buildah rmi "$id" >/dev/null 2>&1 || left=1
      done
      [ "$left" = 1 ] || break
    done
  fi
  if [ "${STOWPLAN_E2E_KEEP:-0}" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ step runner
# step NAME FUNC [ARGS...]: runs FUNC in a subshell with `set -e`, output to $D/NAME.log; FUNC may
# write a one-line note with `note`. Prints PASS/FAIL (on FAIL also the log's last lines) and sets
# OK=1/0. It always returns 0 and must never be called as a condition (`if step`, `step && ...`):
# there bash would ignore the `set -e` inside FUNC, and a failing command would go unnoticed.
step() {
  local name=$1 rc log=$D/$1.log note t
  shift
  t=$EPOCHREALTIME
  rm -f "$D/$name.note"
  set +e
  STEP=$name
  (set -e; "$@") > "$log" 2>&1
  rc=$?
  set -e
  # Ctrl-C/TERM: a child that traps the signal and exits 130/143 (buildah, the generated script)
  # makes bash ignore the signal itself ("cooperative exit"), so stop here explicitly
  if [ "$rc" = 130 ] || [ "$rc" = 143 ]; then
    say "interrupted during $EX $name"; exit "$rc"
  fi
  note=$(cat "$D/$name.note" 2>/dev/null || true)
  if [ "$rc" = 0 ]; then
    OK=1; PASSED=$((PASSED + 1))
    printf '[e2e %6ss] PASS  %-12s %-10s %5ss  %s\n' "$(since "$T0")" "$EX" "$name" "$(since "$t")" "$note"
  else
    OK=0; FAILED=$((FAILED + 1)); FAILURES+=("$EX/$name")
    printf '[e2e %6ss] FAIL  %-12s %-10s %5ss  %s\n' "$(since "$T0")" "$EX" "$name" "$(since "$t")" "$note"
    tail -n "${STOWPLAN_E2E_LOG_LINES:-60}" "$log" | sed 's/^/    | /'
  fi
}
skip() {  # skip NAME WHY
  SKIPPED=$((SKIPPED + 1))
  printf '[e2e %6ss] SKIP  %-12s %-10s         (%s)\n' "$(since "$T0")" "$EX" "$1" "$2"
}
note() { printf '%s' "$*" > "$D/$STEP.note"; }
timed() {  # timed FILE CMD...: runs CMD, writes its wall time in seconds to FILE
  local f=$1 t=$EPOCHREALTIME
  shift
  "$@"
  since "$t" > "$f"
}

# ------------------------------------------------------------------ steps
compile_df() {
  # --builder: the Dockerfile is for buildah 1.28 with --format docker (see df_build), so the
  # compiler must refuse whatever that builder would reject or drop
  "$STOWPLAN" compile "$ROOT/examples/$EX/stowplan.kdl" --image-map "$IMAGE_MAP" \
    --builder buildah-1.28-docker -o "$D/Dockerfile"
  cat "$D/Dockerfile"
  note "$(grep -c '^FROM ' "$D/Dockerfile") stage(s), $(grep -c . "$D/Dockerfile") lines"
}
compile_sh() {
  "$STOWPLAN" compile "$ROOT/examples/$EX/stowplan.kdl" --emit buildah --pull never \
    --image-map "$IMAGE_MAP" -o "$D/build.sh"
  bash -n "$D/build.sh"
  if command -v shellcheck >/dev/null; then
    shellcheck "$D/build.sh"
    note "bash -n and shellcheck clean"
  else
    note "bash -n clean (no shellcheck here)"
  fi
}
# `buildah build` killed by Ctrl-C leaves its working containers (one per cached step) and the
# images they use behind. So it runs in its own session, where neither the terminal's SIGINT nor a
# TERM to our process group reaches it, and on an interruption cleanup() waits for it to finish.
df_build() {  # df_build IIDFILE
  local rc=0
  setsid buildah build --format docker --pull=never --layers --force-rm --network=host \
    "${SECRET_ARGS[@]}" -f "$D/Dockerfile" -t "localhost/e2e-df/$EX:test" --iidfile "$1" "$ROOT/examples/$EX" &
  echo "$!" > "$WORK/buildah-build.pid"
  wait "$!" || rc=$?
  rm -f "$WORK/buildah-build.pid"
  return "$rc"
}
build_df() {
  timed "$D/t.df_cold" df_build "$D/df.iid"
  note "$(cut -c8-19 "$D/df.iid") in $(cat "$D/t.df_cold")s"
}
build_sh() {
  local line id
  # (this function runs in a subshell: the exports end with it)
  ((${#SECRET_ENV[@]} == 0)) || export "${SECRET_ENV[@]}"
  STOWPLAN_CONTEXT=$ROOT/examples/$EX timed "$D/t.sh" bash "$D/build.sh" > "$D/build.sh.out"
  cat "$D/build.sh.out"
  # the script's last line: IMAGE-ID NAME...
  line=$(tail -n 1 "$D/build.sh.out"); id=${line%% *}
  [[ $id =~ ^[0-9a-f]{64}$ ]] || { echo "no image id in the script's last line: $line"; return 1; }
  buildah tag "$id" "localhost/e2e-sh/$EX:test"
  echo "$id" > "$D/sh.iid"
  note "${id:0:12} in $(cat "$D/t.sh")s (${line#* })"
}
cache_df() {
  local steps cached a b
  # (into a file, not through `tee`: a Ctrl-C would kill tee and then buildah build on EPIPE)
  timed "$D/t.df_warm" df_build "$D/df2.iid" > "$D/df-warm.out" 2>&1
  cat "$D/df-warm.out"
  # every instruction but FROM is a step that can come from the cache
  steps=$(grep -Ec '^(\[[0-9]+/[0-9]+\] )?STEP [0-9]+/[0-9]+: ' "$D/df-warm.out" || true)
  steps=$((steps - $(grep -Ec '^(\[[0-9]+/[0-9]+\] )?STEP [0-9]+/[0-9]+: FROM ' "$D/df-warm.out" || true)))
  cached=$(grep -c '^--> Using cache ' "$D/df-warm.out" || true)
  a=$(cat "$D/df.iid"); b=$(cat "$D/df2.iid")
  note "$cached/$steps steps from cache, image ${b:7:12} $([ "$a" = "$b" ] && echo unchanged || echo "CHANGED (was ${a:7:12})") in $(cat "$D/t.df_warm")s"
  [ "$steps" -gt 0 ] && [ "$cached" = "$steps" ] && [ "$a" = "$b" ]
}

# ---- behaviour
port_of() {
  case $1 in
    go-server) echo 8080 ;;     # main.go: ":8080"
    python-flask) echo 5000 ;;  # stowplan.kdl: --port 5000
    python-bundle) echo 8000 ;; # app.py: PORT || 8000
    node-server|node-args) echo 3000 ;;   # server.js: PORT || 3000
    node-static) echo 8080 ;;   # nginx-unprivileged
    node-mounts) echo 8080 ;;   # server.js: PORT || 8080
    preset-go|preset-rust|preset-java) echo 8080 ;;  # their sources: PORT || 8080
    preset-node) echo 3000 ;;   # server.js: PORT || 3000
    preset-python) echo 5000 ;; # stowplan.kdl: --port 5000
    preset-static) echo 8080 ;; # nginx-unprivileged
    *) return 1 ;;
  esac
}
HTTP_BAD=0
CURL_OPTS=()
http_expect() {  # http_expect PATH STATUS [exact|contains TEXT]
  local path=$1 want=$2 mode=${3:-} text=${4:-} code body
  code=$(curl -sS "${CURL_OPTS[@]}" --max-time 5 -o "$D/body" -w '%{http_code}' "http://127.0.0.1:$PORT$path") || code=000
  body=$(cat "$D/body"; printf x); body=${body%x}
  local ok=1
  [ "$code" = "$want" ] || ok=0
  case $mode in
    exact) [ "$body" = "$text" ] || ok=0 ;;
    contains) [[ $body == *"$text"* ]] || ok=0 ;;
  esac
  if [ "$ok" = 1 ]; then
    printf 'ok   GET %s -> %s %q\n' "$path" "$code" "${body:0:120}"
  else
    printf 'BAD  GET %s -> %s %q\n     want %s, body %s %q\n' "$path" "$code" "${body:0:400}" "$want" "${mode:-(any)}" "$text"
    HTTP_BAD=1
  fi
}
# What each example serves, from its README and source.
behaviour() {
  local page
  case $EX in
    go-server)  # main.go
      http_expect / 200 exact $'Olá, Multistage Build com stowplan!\n'
      http_expect /healthz 200 exact $'ok\n'
      http_expect /nope 404 ;;
    python-flask)  # app.py
      http_expect / 200 exact $'Olá, Multistage Build com Python e stowplan!\n'
      http_expect /healthz 200 exact $'ok\n' ;;
    python-bundle)  # app.py: MarkupSafe's C extension, loaded from the venv inside the bundle
      http_expect / 200 exact $'escaped &lt;b&gt;bundle&lt;/b&gt; with _speedups.cpython-311-x86_64-linux-gnu.so\n'
      http_expect /healthz 200 exact $'ok\n'
      http_expect /nope 404 exact $'not found\n' ;;
    node-server|node-args)  # server.js
      http_expect / 200 exact $'Olá, Multistage Build com Node e stowplan!\n'
      http_expect /healthz 200 exact $'ok\n'
      http_expect /nope 404 exact $'not found\n' ;;
    node-static)  # build.js: src/index.html with {{name}} and {{version}} filled in; style.css minified
      page=$(sed -e 's/{{name}}/node-static/g' -e 's/{{version}}/0.1.0/g' "$ROOT/examples/node-static/src/index.html"; printf x)
      http_expect / 200 exact "${page%x}"
      http_expect /style.css 200 contains 'body{margin:0;font-family:system-ui,sans-serif;background:#f4f1ea;color:#1d2a3a}main{'
      http_expect /nope 404 ;;
    node-mounts)  # build.js collapses whitespace; server.js serves the .gz files only
      CURL_OPTS=(--compressed)
      page=$(tr -s ' \n\t' '   ' < "$ROOT/examples/node-mounts/src/index.html" | sed -e 's/^ //' -e 's/ $//'; printf x)
      http_expect / 200 exact "${page%x}"$'\n'
      http_expect /style.css 200 exact $'body { margin: 0; font-family: system-ui, sans-serif; } h1 { color: #1d2a3a; }\n'
      http_expect /healthz 200 exact $'ok\n'
      http_expect /nope 404 exact $'not found\n'
      CURL_OPTS=() ;;
    preset-go)  # cmd/hello/main.go: the time in Lisbon needs the time zone database in the binary
      http_expect / 200 contains 'Olá do preset go! Em Lisboa são '
      http_expect /healthz 200 exact $'ok\n'
      http_expect /nope 404 ;;
    preset-node)  # server.js
      http_expect / 200 exact $'Olá do preset node!\n'
      http_expect /healthz 200 exact $'ok\n'
      http_expect /nope 404 exact $'not found\n' ;;
    preset-python)  # app.py
      http_expect / 200 exact $'Olá do preset python!\n'
      http_expect /healthz 200 exact $'ok\n' ;;
    preset-static)  # public/, served as is
      page=$(cat "$ROOT/examples/preset-static/public/index.html"; printf x)
      http_expect / 200 exact "${page%x}"
      page=$(cat "$ROOT/examples/preset-static/public/style.css"; printf x)
      http_expect /style.css 200 exact "${page%x}"
      http_expect /nope 404 ;;
    preset-rust)  # src/main.rs
      http_expect / 200 exact $'Olá do preset rust!\n'
      http_expect /healthz 200 exact $'ok\n'
      http_expect /nope 404 exact $'not found\n' ;;
    preset-java)  # src/main/java/com/example/Main.java, src/main/resources/greeting.txt
      http_expect / 200 contains "$(head -n 1 "$ROOT/examples/preset-java/src/main/resources/greeting.txt")"
      http_expect /healthz 200 exact $'ok\n' ;;
  esac
}
run_image() {  # run_image df|sh
  local kind=$1 image="localhost/e2e-$1/$EX:test" name="$TAG-$EX-$1" start code hc t stopsig
  PORT=$(port_of "$EX")
  code=$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/") || true
  if [ "${code:-000}" != 000 ]; then
    echo "something already answers on port $PORT (HTTP $code): stop it first"; note "port $PORT busy"; return 1
  fi
  podman run -d --rm --network=host --name "$name" --log-driver k8s-file \
    --log-opt "path=$D/run-$kind.container.log" "$image"
  start=$EPOCHSECONDS
  until curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$PORT/"; do
    if ! podman container exists "$name"; then
      echo "the container exited before answering on port $PORT; its output:"; cat "$D/run-$kind.container.log"
      note "exited before answering"; return 1
    fi
    if ((EPOCHSECONDS - start >= 30)); then
      echo "no answer on port $PORT within 30s; its output:"; cat "$D/run-$kind.container.log"
      note "no answer within 30s"; return 1
    fi
    sleep 0.2
  done
  echo "answering on :$PORT after $((EPOCHSECONDS - start))s as $(podman exec "$name" id 2>/dev/null || podman inspect --format '{{.Config.User}}' "$name")"
  HTTP_BAD=0
  behaviour
  hc=$(podman inspect --format '{{if .Config.Healthcheck}}{{join .Config.Healthcheck.Test " "}}{{end}}' "$name")
  if [ -n "$hc" ]; then
    echo "healthcheck: $hc"
    podman healthcheck run "$name" || { echo "HEALTHCHECK failed"; HTTP_BAD=1; hc="FAILED"; }
  fi
  stopsig=$(podman inspect --format '{{.Config.StopSignal}}' "$name")
  stopsig=SIG$(kill -l "${stopsig:-15}" 2>/dev/null || echo "$stopsig")
  t=$EPOCHREALTIME
  podman stop --time 10 "$name" >/dev/null
  t=$(since "$t")
  echo "stopped with ${stopsig:-SIGTERM} in ${t}s"
  note "${PORT}: $(grep -c '^ok ' "$D/run-$kind.log") GET(s) ok${hc:+, healthcheck ${hc%% *}}, stop (${stopsig:-SIGTERM}) ${t}s"
  [ "$HTTP_BAD" = 0 ] || return 1
  # 10 s is podman's kill timeout: a server that needed it ignored its stop signal
  awk -v t="$t" 'BEGIN{exit !(t < 9)}' || { echo "did not stop on ${stopsig:-SIGTERM}"; return 1; }
}

# ---- comparison
# manifest, drop_stubs, secret_targets_untouched: tests/e2e/lib.sh (sourced at the top)
compare_files() {
  local dropped pyc
  manifest "localhost/e2e-df/$EX:test" "$D/df.files.raw"
  manifest "localhost/e2e-sh/$EX:test" "$D/sh.files"
  drop_stubs "$D/df.files.raw" "$D/sh.files" "$D/Dockerfile" > "$D/df.files" 2> "$D/df.stubs"
  cat "$D/df.stubs"
  dropped=$(grep -c . "$D/df.stubs" || true)
  pyc=$(grep -c '\.pyc	' "$D/sh.files" || true)
  local extra=""
  [ "$dropped" = 0 ] || extra+=", $dropped buildah-build stub(s) dropped"
  [ "$pyc" = 0 ] || extra+=", $pyc .pyc without source mtime"
  if diff -u "$D/df.files" "$D/sh.files" > "$D/files.diff"; then
    note "$(wc -l < "$D/sh.files") paths identical$extra"
    return 0
  fi
  echo "--- Dockerfile build (buildah build)   +++ buildah script"
  head -n 80 "$D/files.diff"
  note "$(grep -c '^[-+]\./' "$D/files.diff") differing lines (of $(wc -l < "$D/sh.files") paths)$extra"
  return 1
}
# No secret reached either image: each secret mount's target is the base image's own file.
check_secrets() {
  secret_targets_untouched "localhost/e2e-df/$EX:test" "$D/Dockerfile"
  secret_targets_untouched "localhost/e2e-sh/$EX:test" "$D/Dockerfile"
  note "$(grep -c -- '--mount=type=secret' "$D/Dockerfile" || true) RUN(s) with a secret; each target as in the base"
}
config_of() {  # config_of IMAGE: the compared config fields, as buildah stores them
  buildah inspect --type image "$1" | jq -S '.Docker.config | {
      User, Env, WorkingDir, Entrypoint, Cmd, ExposedPorts, Labels, Healthcheck, StopSignal,
      Volumes, OnBuild, Shell }'
}
# Normalisations of the config (each one a known `buildah build` 1.28 deviation from Docker; the
# script follows Docker):
# 1. `[]`/`{}` -> null for Cmd, Entrypoint, Volumes and OnBuild. buildah build writes an empty
#    list/map where Docker writes null (e.g. ENTRYPOINT clears the inherited CMD: Docker null,
#    buildah build []). Applied to both sides: the script also writes `Cmd: []` when it clears an
#    inherited CMD, because `buildah config` cannot set null (spec/buildah.md).
# 3. The io.buildah.version label: `buildah build` stamps its own version on every image it makes
#    (visible on a scratch base; other bases inherit the label of the local images setup.sh
#    committed). BuildKit adds no such label, and the script commits with --identity-label=false.
NULLISH='def nullish: if . == [] or . == {} then null else . end;
  .Cmd |= nullish | .Entrypoint |= nullish | .Volumes |= nullish | .OnBuild |= nullish
  | .Labels |= (if . == null then null else del(.["io.buildah.version"]) | nullish end)'
# 2. Env order: an ENV that overrides a variable of the base image (python-flask's PATH) keeps its
#    position with Docker and the script, but buildah build deletes it and appends it at the end.
#    Accepted only if the Dockerfile build's list is exactly the script's list with some entries
#    moved to the end; the script's order is then used for the Dockerfile build too.
# shellcheck disable=SC2016  # a jq program: its $s and $d are jq variables
MOVED_TO_END='def moved_to_end($s; $d):
  any(range(0; ($d | length) + 1) as $n
      | ($d[:($d | length) - $n]) as $head | ($d[($d | length) - $n:]) as $tail
      | ($s - $tail) == $head and ($tail | sort) == (($s - $head) | sort); .);'
compare_config() {
  local notes=()
  config_of "localhost/e2e-df/$EX:test" > "$D/df.config.raw.json"
  config_of "localhost/e2e-sh/$EX:test" > "$D/sh.config.raw.json"
  jq -S "$NULLISH" "$D/df.config.raw.json" > "$D/df.config.json"
  jq -S "$NULLISH" "$D/sh.config.raw.json" > "$D/sh.config.json"
  cmp -s "$D/df.config.raw.json" "$D/df.config.json" || notes+=("df []->null")
  cmp -s "$D/sh.config.raw.json" "$D/sh.config.json" || notes+=("sh []->null")
  if ! jq -e --slurpfile s "$D/sh.config.json" '.Env == $s[0].Env' "$D/df.config.json" >/dev/null &&
     jq -e --slurpfile s "$D/sh.config.json" "$MOVED_TO_END"' moved_to_end($s[0].Env; .Env)' "$D/df.config.json" >/dev/null; then
    echo "env order (normalised): Dockerfile build $(jq -c '[.Env[] | sub("=.*"; "")]' "$D/df.config.json"), script $(jq -c '[.Env[] | sub("=.*"; "")]' "$D/sh.config.json")"
    jq -S --slurpfile s "$D/sh.config.json" '.Env = $s[0].Env' "$D/df.config.json" > "$D/df.config.json.tmp"
    mv "$D/df.config.json.tmp" "$D/df.config.json"
    notes+=("df env order")
  fi
  if diff -u "$D/df.config.json" "$D/sh.config.json" > "$D/config.diff"; then
    note "identical${notes[*]:+ after normalising: ${notes[*]}}"
    cat "$D/sh.config.json"
    return 0
  fi
  echo "--- Dockerfile build (buildah build)   +++ buildah script   (after normalising: ${notes[*]:-nothing})"
  cat "$D/config.diff"
  note "differs: $(grep -E '^[-+] +"[A-Za-z]+":' "$D/config.diff" | sed -E 's/^[-+] +"([A-Za-z]+)".*/\1/' | sort -u | tr '\n' ' ')"
  return 1
}

# ------------------------------------------------------------------ main
say "setup: $HERE/setup.sh"
if ! "$HERE/setup.sh" > "$WORK/setup.log" 2>&1; then
  tail -n 40 "$WORK/setup.log" | sed 's/^/    | /'
  die "setup.sh failed"
fi
say "setup done ($(grep -c . "$WORK/setup.log") lines of log)"
host_secrets
say "secrets from this machine: ${SECRET_IDS[*]:-none}"

# one run at a time: runs share the script's image names and the ports
exec 8>"$E2E_DIR/.run.lock"
if ! flock -n 8; then say "another run.sh holds $E2E_DIR/.run.lock: waiting"; flock 8; fi

if [ ! -x "$STOWPLAN" ]; then
  [ -z "${STOWPLAN_BIN:-}" ] || die "STOWPLAN_BIN=$STOWPLAN_BIN is not an executable"
  say "building $STOWPLAN (cargo build)"
  (cd "$ROOT" && cargo build) > "$WORK/cargo.log" 2>&1 || { tail -n 40 "$WORK/cargo.log"; die "cargo build failed"; }
fi
say "compiler: $STOWPLAN ($("$STOWPLAN" --version))"

if [ "${STOWPLAN_E2E_COLD:-0}" = 1 ]; then
  # buildah keeps RUN --mount=type=cache data in $TMPDIR/buildah-cache: start from an empty one
  export TMPDIR=$WORK/tmp
  mkdir -p "$TMPDIR"
  say "cold caches: TMPDIR=$TMPDIR"
fi

# leftovers of an earlier run that was killed with SIGKILL: our names only
for ex in "${EXAMPLES[@]}"; do
  for t in "localhost/e2e-df/$ex:test" "localhost/e2e-sh/$ex:test"; do
    if buildah inspect --type image "$t" >/dev/null 2>&1; then
      say "removing leftover $t"; buildah rmi "$t" >/dev/null || true
    fi
  done
done
buildah images -a --no-trunc --json | jq -r '.[].id' | sort -u > "$BEFORE"

# The local base images hold none of this machine's CAs, in any layer: builds get them as secrets.
base_images_hold_no_host_ca() {
  # the images this run's setup.sh listed on its stdout (IMAGE<TAB>VERSION): images.tsv is shared
  # with other checkouts' runs, whose setup.sh may make other images
  # shellcheck disable=SC2046  # one image per word
  python3 "$HERE/host-ca-check.py" "$(buildah info --format '{{.store.GraphRoot}}')" \
    $(awk -F'\t' 'NF == 2 && $1 ~ /^localhost\//' "$WORK/setup.log" | cut -f1)
  note "$(tail -n 1 "$D/$STEP.log")"
}
EX=base-images D=$WORK/base-images
mkdir -p "$D"
step host-ca base_images_hold_no_host_ca

for EX in "${EXAMPLES[@]}"; do
  D=$WORK/$EX
  mkdir -p "$D"
  say "== $EX"
  df=0 sh=0
  step compile-df compile_df
  if [ "$OK" = 1 ]; then step build-df build_df; df=$OK; else skip build-df "no Dockerfile"; fi
  step compile-sh compile_sh
  if [ "$OK" = 1 ]; then step build-sh build_sh; sh=$OK; else skip build-sh "no script"; fi
  if [ "$df" = 1 ]; then step run-df run_image df; else skip run-df "no image"; fi
  if [ "$sh" = 1 ]; then step run-sh run_image sh; else skip run-sh "no image"; fi
  if [ "$df" = 1 ] && [ "$sh" = 1 ]; then
    step files compare_files
    step config compare_config
    step secrets check_secrets
  else
    skip files "an image is missing"; skip config "an image is missing"; skip secrets "an image is missing"
  fi
  if [ "$df" = 1 ]; then step cache cache_df; else skip cache "no image"; fi
done

# ------------------------------------------------------------------ report
size_of() { [ -s "$1" ] && podman image inspect --format '{{.Size}}' "$(cat "$1")" 2>/dev/null | awk '{printf "%.1f MB", $1 / 1e6}' || echo -; }
secs() { [ -s "$1" ] && printf '%ss' "$(cat "$1")" || echo -; }
echo
printf '%-13s %9s %9s %9s %11s %11s\n' example "df cold" "df warm" script "size df" "size sh"
for EX in "${EXAMPLES[@]}"; do
  D=$WORK/$EX
  printf '%-13s %9s %9s %9s %11s %11s\n' "$EX" "$(secs "$D/t.df_cold")" "$(secs "$D/t.df_warm")" \
    "$(secs "$D/t.sh")" "$(size_of "$D/df.iid")" "$(size_of "$D/sh.iid")"
done
echo
if ((FAILED)); then
  say "FAILED: $FAILED step(s) failed, $PASSED passed, $SKIPPED skipped: ${FAILURES[*]}"
  exit 1
fi
say "OK: all $PASSED steps passed ($SKIPPED skipped) for ${EXAMPLES[*]}"
