#!/usr/bin/env bash
# tests/lock/registry.sh - real registries on the loopback for `stowplan lock`'s tests.
#
#   tests/lock/registry.sh [COMMAND...]
#
# Root on Linux (Debian): installs Debian's docker-registry (distribution 2.8) and apache2-utils
# (htpasswd) when missing, starts two registries on free 127.0.0.1 ports, an open one and one
# behind htpasswd (bcrypt) authentication, pushes tiny images into them with buildah (its own
# image store under the work dir, so nothing touches the machine's images), runs COMMAND with the
# environment below, and stops the registries whatever happens. Without COMMAND it runs the lock
# suite's registry tests: cargo test --locked --test suite -- --ignored lock::
#
# What it pushes (each digest as buildah reports it, an oracle independent of stowplan):
#   $OPEN/stowplan/tiny:1          an OCI image manifest
#   $OPEN/stowplan/tiny:docker     a Docker v2 schema 2 manifest
#   $OPEN/stowplan/multi:1         an OCI index of two images (linux/amd64, linux/arm64)
#   $AUTH/stowplan/private:1       an OCI image manifest, behind the login
#
# Environment given to COMMAND:
#   STOWPLAN_TEST_REGISTRY       127.0.0.1:PORT of the open registry
#   STOWPLAN_TEST_AUTH_REGISTRY  127.0.0.1:PORT of the one that wants a login
#   STOWPLAN_TEST_AUTH_FILE      an auth.json with that login (for REGISTRY_AUTH_FILE)
#   STOWPLAN_TEST_DIGESTS        a file of `REFERENCE DIGEST` lines, one per push
#
# Elsewhere (not root, not Linux) it says SKIPPED and exits 0; tests/run.sh runs it as root.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ "$(uname -s)" != Linux ] || [ "$(id -u)" != 0 ]; then
    echo "!!!! SKIPPED: tests/lock/registry.sh needs root on Linux (it runs registries and buildah) !!!!"
    exit 0
fi
T0=$EPOCHREALTIME
log() { awk -v a="$T0" -v b="$EPOCHREALTIME" -v m="$*" 'BEGIN{printf "[lock-registry %5.1fs] %s\n", b-a, m}' >&2; }

need=()
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v htpasswd >/dev/null || need+=(apache2-utils)
command -v buildah >/dev/null || need+=(buildah)
command -v curl >/dev/null || need+=(curl)
if ((${#need[@]})); then
    log "apt-get install ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
        || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
fi

work=$(mktemp -d /var/tmp/stowplan-lock.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    # buildah's store may hold read-only layers; its own rm first.
    buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs rmi -a -f >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A registry on 127.0.0.1:$2, its data under $work/$1; $3 is an extra `auth:` block.
start_registry() {
    local name=$1 port=$2 auth=${3:-}
    mkdir -p "$work/$name"
    cat > "$work/$name/config.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/$name/data
http:
  addr: 127.0.0.1:$port
$auth
YAML
    docker-registry serve "$work/$name/config.yml" > "$work/$name/log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do
        if curl -s -o /dev/null "http://127.0.0.1:$port/v2/"; then return 0; fi
        sleep 0.1
    done
    cat "$work/$name/log" >&2
    echo "registry.sh: the $name registry did not start" >&2
    exit 1
}

open_port=$(free_port)
auth_port=$(free_port)
while [ "$auth_port" = "$open_port" ]; do auth_port=$(free_port); done
OPEN=127.0.0.1:$open_port
AUTH=127.0.0.1:$auth_port
user=stowplan
password="pw-$RANDOM$RANDOM"
htpasswd -Bbn "$user" "$password" > "$work/htpasswd" 2>/dev/null
start_registry open "$open_port"
start_registry auth "$auth_port" "auth:
  htpasswd:
    realm: stowplan-test
    path: $work/htpasswd"
log "registries on $OPEN (open) and $AUTH (htpasswd)"

# Tiny images, each a file or two, in a store of their own.
b() { buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs "$@"; }
tiny() {  # NAME ARCH TEXT
    local ctr
    ctr=$(b from scratch)
    printf '%s\n' "$3" > "$work/hello"
    b copy "$ctr" "$work/hello" /hello >/dev/null
    b config --arch "$2" --os linux --cmd /hello "$ctr"
    b commit -q "$ctr" "localhost/$1" >/dev/null
    b rm "$ctr" >/dev/null
}
tiny tiny-amd64 amd64 "stowplan lock test, amd64"
tiny tiny-arm64 arm64 "stowplan lock test, arm64"
digests=$work/digests
: > "$digests"
push() {  # IMAGE DESTINATION [buildah push options]
    local image=$1 dest=$2
    shift 2
    b push -q --tls-verify=false --digestfile "$work/d" "$@" "$image" "docker://$dest" >/dev/null
    echo "$dest $(cat "$work/d")" >> "$digests"
}
push localhost/tiny-amd64 "$OPEN/stowplan/tiny:1" --format oci
push localhost/tiny-amd64 "$OPEN/stowplan/tiny:docker" --format v2s2
push localhost/tiny-arm64 "$AUTH/stowplan/private:1" --format oci --creds "$user:$password"
b manifest create localhost/multi >/dev/null
b manifest add --arch amd64 localhost/multi containers-storage:localhost/tiny-amd64 >/dev/null
b manifest add --arch arm64 localhost/multi containers-storage:localhost/tiny-arm64 >/dev/null
b manifest push -q --all --tls-verify=false --format oci --digestfile "$work/d" \
    localhost/multi "docker://$OPEN/stowplan/multi:1" >/dev/null
echo "$OPEN/stowplan/multi:1 $(cat "$work/d")" >> "$digests"
log "pushed: $(wc -l < "$digests") references"

# The login, as podman login writes it.
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$AUTH" "$(printf '%s:%s' "$user" "$password" | base64 -w0)" \
    > "$work/auth.json"

export STOWPLAN_TEST_REGISTRY=$OPEN
export STOWPLAN_TEST_AUTH_REGISTRY=$AUTH
export STOWPLAN_TEST_AUTH_FILE=$work/auth.json
export STOWPLAN_TEST_DIGESTS=$digests
cd "$root"
if (($#)); then
    "$@"
else
    cargo test --locked --test suite -- --ignored lock::
fi
log "done"
