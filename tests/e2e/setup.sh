#!/usr/bin/env bash
# tests/e2e/setup.sh - prepare an offline image builder for stowplan's end-to-end tests.
#
# Debian 12, root, no Docker engine, no container registry. Installs buildah + runc + podman,
# configures /etc/containers for this kind of machine, and creates local base images without any
# registry pull (debootstrap + Debian packages), all tagged localhost/stowplan-base/NAME:TAG.
#
# No layer holds anything of this machine's TLS or registry settings: no extra CA certificate, no
# pip.conf, no .npmrc. A build that reaches a registry gets them as build secrets, read from the
# machine when it runs (tests/e2e/run.sh, tests/corpus/run.sh); tests/e2e/host-ca-check.py checks
# every layer of these images for the machine's extra CAs.
#
# Idempotent: images that exist (with the current recipe label) are skipped; a warm run takes ~1 s.
# Timing/progress lines go to stderr; stdout gets only the final machine-readable list:
#   IMAGE<TAB>VERSION          (one line per tag; also written to $E2E_DIR/images.tsv)
#
# Env:
#   STOWPLAN_E2E_DIR      work dir (default /var/tmp/stowplan-e2e): storage/, cache/, images.tsv
#   STOWPLAN_E2E_FORCE=1  rebuild every image (the debootstrap tarball and .deb cache are kept)
#   STOWPLAN_E2E_GO_SUITE bookworm-backports (default, Debian's golang-go 1.23) or bookworm (Go 1.19)
#   STOWPLAN_E2E_ALIASES=0  do not add docker.io/library/... + gcr.io/distroless/... alias tags
#   DEBIAN_MIRROR         debootstrap mirror (default: the host's first .../debian apt URI)
set -euo pipefail

E2E_DIR=${STOWPLAN_E2E_DIR:-/var/tmp/stowplan-e2e}
STORAGE_ROOT=$E2E_DIR/storage
CACHE_DIR=$E2E_DIR/cache
FORCE=${STOWPLAN_E2E_FORCE:-0}
GO_SUITE=${STOWPLAN_E2E_GO_SUITE:-bookworm-backports}
ALIASES=${STOWPLAN_E2E_ALIASES:-1}
# (not localhost/stowplan-e2e: those images, of an earlier recipe, carried the machine's CAs; a
# new name lets both live side by side while branches that still use them are merged)
P=localhost/stowplan-base
LABEL=org.stowplan.e2e     # image labels: $LABEL.recipe (rebuild when it changes), $LABEL.version
export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C

T0=$EPOCHREALTIME
log() { awk -v a="$T0" -v b="$EPOCHREALTIME" -v m="$*" 'BEGIN{printf "[e2e-setup %6.1fs] %s\n", b-a, m}' >&2; }
die() { echo "setup.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
. /etc/os-release
[ "${VERSION_CODENAME:-}" = bookworm ] || log "warning: written for Debian 12 (bookworm), this is ${PRETTY_NAME:-unknown}"
mkdir -p "$E2E_DIR" "$CACHE_DIR/debs/partial"

# one setup at a time (parallel test jobs may all call this)
exec 9>"$E2E_DIR/.setup.lock"
flock 9

# ------------------------------------------------------------------ 1. host packages
# runc, not crun: crun 1.8.1 fails on this host's hybrid cgroup layout. jq and perl (Digest::SHA)
# are for run.sh's image comparison.
need=(buildah runc podman busybox-static debootstrap ca-certificates tzdata curl jq perl)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" 2>&1 >/dev/null \
    | { grep -v '^debconf: delaying package configuration' || true; } >&2
  log "host packages installed"
fi

# ------------------------------------------------------------------ 2. /etc/containers
driver=overlay
t=$(mktemp -d "$E2E_DIR/.ovltest.XXXXXX"); mkdir -p "$t"/{lo,up,wk,mnt}
if mount -t overlay overlay -o "lowerdir=$t/lo,upperdir=$t/up,workdir=$t/wk" "$t/mnt" 2>/dev/null; then
  umount "$t/mnt"
else
  driver=vfs; log "warning: no overlayfs here, using the (slow, large) vfs driver"
fi
rm -rf "$t"
nofile=$(ulimit -Hn); nproc=$(ulimit -Hu)
[ "$nofile" = unlimited ] && nofile=1048576
if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
mkdir -p /etc/containers "$STORAGE_ROOT"
write_if_changed() {   # FILE, content on stdin
  cat > "$1.stowplan-new"
  if cmp -s "$1.stowplan-new" "$1"; then rm -f "$1.stowplan-new"; else mv "$1.stowplan-new" "$1"; log "wrote $1"; fi
}
write_if_changed /etc/containers/storage.conf <<EOF
# written by stowplan tests/e2e/setup.sh
[storage]
driver = "$driver"
graphroot = "$STORAGE_ROOT"
runroot = "/run/containers/storage"
EOF
write_if_changed /etc/containers/containers.conf <<EOF
# written by stowplan tests/e2e/setup.sh
[containers]
# RUN steps and podman run share the host network: no CNI bridge/iptables needed, and apt/pip/npm
# reach the package registries exactly as the host does.
netns = "host"
# the defaults exceed this host's hard limits ("error setting rlimit type 7")
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
# crun 1.8.1: "cgroups in hybrid mode not supported"
runtime = "runc"
# no systemd/journald inside this machine
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
B=buildah
recipe_of() { $B inspect --type image --format "{{index .OCIv1.Config.Labels \"$LABEL.recipe\"}}" "$1" 2>/dev/null; }
version_of() { $B inspect --type image --format "{{index .OCIv1.Config.Labels \"$LABEL.version\"}}" "$1" 2>/dev/null; }
# up_to_date IMAGE RECIPE: the image exists and was made by this recipe revision
up_to_date() { [ "$FORCE" != 1 ] && [ "$(recipe_of "$1")" = "$2" ]; }
log "configured: runtime=runc storage=$driver graphroot=$STORAGE_ROOT netns=host"

# working containers: fixed names, removed on exit and before reuse (a killed run leaves none behind)
WIP=()
BUILT=0
NEW_ALIASES=()   # "TAG<TAB>IMAGE-ID" of the aliases made by this run (recorded in aliases.tsv)
REPLACED=()   # ids of images replaced by a rebuild: removed at the end once no tag points at them
cleanup() { local c; for c in "${WIP[@]}"; do $B rm "$c" >/dev/null 2>&1 || true; done; }
trap cleanup EXIT
new_ctr() {   # new_ctr NAME FROM -> prints the container name
  local name=stowplan-e2e-wip-$1
  $B rm "$name" >/dev/null 2>&1 || true
  WIP+=("$name")
  $B from --pull=never --quiet --name "$name" "$2" >/dev/null
  echo "$name"
}
# commit CTR IMAGE RECIPE VERSION [EXTRA_TAG...]
commit() {
  local ctr=$1 img=$2 recipe=$3 version=$4; shift 4
  local old; old=$($B inspect --type image --format '{{.FromImageID}}' "$img" 2>/dev/null || true)
  [ -z "$old" ] || REPLACED+=("$old")
  $B config --label "$LABEL.recipe=$recipe" --label "$LABEL.version=$version" \
    --created-by "stowplan tests/e2e/setup.sh ($recipe)" "$ctr"
  $B commit --quiet --rm "$ctr" "$img" >/dev/null
  local t; for t in "$@"; do $B tag "$img" "$t"; done
  BUILT=$((BUILT + 1))
  log "built $img ($version)"
}
# apt-get inside a working container, through the host network; .debs are kept in $CACHE_DIR/debs
# (mounted outside /var/cache/apt, whose *.deb the docker-clean hook deletes)
ctr_apt() {   # ctr_apt CTR [apt-get install args...]
  local ctr=$1; shift
  $B run --network=host -v "$CACHE_DIR/debs:/var/cache/stowplan-debs" "$ctr" -- bash -ec '
    set -o pipefail
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends -o Dir::Cache::Archives=/var/cache/stowplan-debs/ "$@" \
      2>&1 >/dev/null | { grep -v "^debconf: delaying package configuration" || true; } >&2
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log' bash "$@" >&2
  $B run "$ctr" -- rmdir /var/cache/stowplan-debs 2>/dev/null || true
}

# ------------------------------------------------------------------ 3. busybox:local
IMG_BUSYBOX=$P/busybox:local
R_BUSYBOX=busybox-1
if ! up_to_date $IMG_BUSYBOX $R_BUSYBOX; then
  c=$(new_ctr busybox scratch); m=$($B mount "$c")
  mkdir -p "$m"/{bin,etc,root,tmp,var/tmp,usr/bin,usr/sbin,sbin,home}
  chmod 1777 "$m/tmp" "$m/var/tmp"; chmod 700 "$m/root"
  install -m 755 /bin/busybox "$m/bin/busybox"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$m/bin/$a"; done
  cat > "$m/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
  printf 'root:x:0:\ndaemon:x:1:\ntty:x:5:\nwww-data:x:33:\nnogroup:x:65534:\n' > "$m/etc/group"
  $B umount "$c" >/dev/null
  v=$(/bin/busybox 2>&1 | sed -n '1s/^BusyBox v\([^ ]*\).*/\1/p')
  $B config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd '["sh"]' "$c"
  commit "$c" $IMG_BUSYBOX $R_BUSYBOX "$v"
fi

# ------------------------------------------------------------------ 4. debian:bookworm-slim
IMG_DEBIAN=$P/debian:bookworm-slim
R_DEBIAN=debian-1
host_mirror() {   # the Debian mirror of the host's apt sources
  local m=${DEBIAN_MIRROR:-}
  [ -n "$m" ] || m=$(sed -n 's|^URIs:[[:space:]]*\([^[:space:]]*/debian\)/\{0,1\}$|\1|p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
  [ -n "$m" ] || m=$(awk '$1=="deb" && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null)
  [ -n "$m" ] || die "no Debian mirror in the host's apt sources; set DEBIAN_MIRROR"
  echo "$m"
}
if ! up_to_date $IMG_DEBIAN $R_DEBIAN; then
  tarball=$CACHE_DIR/debian-bookworm-minbase.tar
  if [ ! -s "$tarball" ]; then
    mirror=$(host_mirror)
    rootfs=$CACHE_DIR/rootfs-bookworm
    { findmnt -rn -o TARGET | grep -F "$rootfs/" || true; } | sort -r | while read -r mp; do umount -l "$mp" || true; done
    rm -rf --one-file-system "$rootfs"; mkdir -p "$rootfs"
    log "debootstrap --variant=minbase bookworm from $mirror (takes a minute or two)"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" > "$CACHE_DIR/debootstrap.log" 2>&1 \
      || { tail -n 20 "$CACHE_DIR/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE_DIR/debootstrap.log)"; }
    log "debootstrap done"
    # apt inside builds uses the host's sources and its non-packaged Acquire settings (a snapshot
    # mirror needs Check-Valid-Until=false), plus the docker-* tweaks that the official image has.
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
      rm -f "$rootfs/etc/apt/sources.list"
      cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/debian.sources"
    elif [ -f /etc/apt/sources.list ]; then
      grep -E '^deb[[:space:]].*/debian(-security)?/?[[:space:]]' /etc/apt/sources.list > "$rootfs/etc/apt/sources.list" || true
    fi
    for f in /etc/apt/apt.conf.d/*; do
      [ -f "$f" ] || continue
      if dpkg -S "$f" >/dev/null 2>&1; then continue; fi
      case ${f##*/} in docker-*) ;; *) grep -q 'Acquire::' "$f" || continue ;; esac
      cp "$f" "$rootfs$f"
    done
    # official image's slimming (docs, man pages, locales are not installed by later apt-gets)
    cat > "$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
    printf '#!/bin/sh\n# no daemons from package scripts inside image builds\nexit 101\n' > "$rootfs/usr/sbin/policy-rc.d"
    chmod 755 "$rootfs/usr/sbin/policy-rc.d"
    find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
    find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$rootfs"/usr/share/{man,info,locale,groff,lintian}/* "$rootfs"/var/cache/apt/archives/*.deb \
      "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log \
      "$rootfs"/var/log/apt/* "$rootfs/debootstrap"
    : > "$rootfs/etc/resolv.conf"; : > "$rootfs/etc/hostname"
    tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf --one-file-system "$rootfs"
    log "cached $tarball ($(du -h "$tarball" | cut -f1))"
  fi
  c=$(new_ctr debian scratch); m=$($B mount "$c")
  tar --numeric-owner -xpf "$tarball" -C "$m"
  v=$(cat "$m/etc/debian_version")
  $B umount "$c" >/dev/null
  $B config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd '["bash"]' "$c"
  commit "$c" $IMG_DEBIAN $R_DEBIAN "$v"
fi

# ------------------------------------------------------------------ 5. golang:bookworm
IMG_GO=$P/golang:bookworm
R_GO="golang-2-$GO_SUITE"
if ! up_to_date $IMG_GO "$R_GO"; then
  log "golang:bookworm: apt-get install (Debian golang-go from $GO_SUITE)"
  c=$(new_ctr golang $IMG_DEBIAN)
  # what buildpack-deps:bookworm-scm + the official golang image add
  ctr_apt "$c" ca-certificates curl wget git openssh-client procps gcc libc6-dev make pkg-config
  if [ "$GO_SUITE" = bookworm ]; then
    ctr_apt "$c" golang-go
  else
    # the suite is only enabled for this one install
    mirror=$(host_mirror); m=$($B mount "$c")
    echo "deb $mirror $GO_SUITE main" > "$m/etc/apt/sources.list.d/stowplan-go.list"
    ctr_apt "$c" -t "$GO_SUITE" golang-go
    rm -f "$m/etc/apt/sources.list.d/stowplan-go.list"; $B umount "$c" >/dev/null
  fi
  # /usr/local/go -> Debian's GOROOT, like the official layout; GOPATH=/go world-writable as there.
  # Self-test: a stdlib-only module downloads (nothing) and builds with no network (GOPROXY=off).
  $B run --network=none "$c" -- sh -ec '
    goroot=$(go env GOROOT); ln -sfn "$goroot" /usr/local/go
    mkdir -p /go/src /go/bin && chmod -R 1777 /go
    mkdir -p /tmp/gocheck && cd /tmp/gocheck
    printf "module example.com/gocheck\n\ngo 1.19\n" > go.mod
    printf "package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n)\n\nfunc main() { _ = http.DefaultServeMux; fmt.Println(\"gocheck ok\") }\n" > main.go
    export GOPATH=/go GOPROXY=off GOTOOLCHAIN=local GOCACHE=/root/.cache/go-build
    go mod download
    CGO_ENABLED=0 go build -o /tmp/gocheck/gocheck . && /tmp/gocheck/gocheck
    # the build cache goes too: the official image starts with none, and a warm one would make
    # every build without a cache mount look fast
    cd / && rm -rf /tmp/gocheck /go/pkg /root/.cache/go-build
    rmdir /root/.cache 2>/dev/null || true' >&2
  v=$($B run "$c" -- /usr/local/go/bin/go env GOVERSION)
  $B config --env GOLANG_VERSION="${v#go}" --env GOTOOLCHAIN=local --env GOPATH=/go \
    --env GOCACHE=/root/.cache/go-build --env GOPROXY=off --env GOSUMDB=off \
    --env PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --workingdir /go --cmd '["bash"]' "$c"
  commit "$c" $IMG_GO "$R_GO" "$v"
fi

# ------------------------------------------------------------------ 6. python:bookworm (= bookworm-slim)
IMG_PY=$P/python:bookworm
R_PY=python-1
if ! up_to_date $IMG_PY $R_PY; then
  log "python:bookworm: apt-get install"
  c=$(new_ctr python $IMG_DEBIAN)
  ctr_apt "$c" ca-certificates python3 python3-venv python3-pip python-is-python3
  # pip may install into the system python like in the official image (it has its own python in
  # /usr/local): drop Debian's PEP 668 marker and also set PIP_BREAK_SYSTEM_PACKAGES=1.
  $B run --network=none "$c" -- sh -ec '
    rm -f /usr/lib/python3*/EXTERNALLY-MANAGED
    python --version; pip --version >/dev/null
    python -m venv /tmp/venvcheck && /tmp/venvcheck/bin/pip --version >/dev/null && rm -rf /tmp/venvcheck' >&2
  v=$($B run "$c" -- python3 -c 'import platform; print(platform.python_version())')
  $B config --env LANG=C.UTF-8 --env PYTHON_VERSION="$v" --env PIP_BREAK_SYSTEM_PACKAGES=1 \
    --cmd '["python3"]' "$c"
  commit "$c" $IMG_PY $R_PY "$v" $P/python:bookworm-slim
fi

# ------------------------------------------------------------------ 7. node:bookworm
IMG_NODE=$P/node:bookworm
R_NODE=node-2
if ! up_to_date $IMG_NODE $R_NODE; then
  log "node:bookworm: apt-get install"
  c=$(new_ctr node $IMG_DEBIAN)
  ctr_apt "$c" ca-certificates nodejs npm
  # the official image's unprivileged "node" user (1000:1000)
  $B run --network=none "$c" -- sh -ec '
    groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
    node --version; npm --version' >&2
  v=$($B run "$c" -- node -p 'process.versions.node')
  $B config --env NODE_VERSION="$v" --cmd '["node"]' "$c"
  commit "$c" $IMG_NODE $R_NODE "$v" $P/node:bookworm-slim
fi

# ------------------------------------------------------------------ 8. nginx:bookworm
IMG_NGINX=$P/nginx:bookworm
R_NGINX=nginx-1
if ! up_to_date $IMG_NGINX $R_NGINX; then
  log "nginx:bookworm: apt-get install"
  c=$(new_ctr nginx $IMG_DEBIAN)
  ctr_apt "$c" nginx
  # the official image runs its workers as "nginx" (101:101)
  $B run --network=none "$c" -- sh -ec '
    getent group nginx >/dev/null || groupadd --system --gid 101 nginx 2>/dev/null || groupadd --system nginx
    getent passwd nginx >/dev/null || useradd --system --uid 101 --gid nginx --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin nginx 2>/dev/null || useradd --system --gid nginx \
      --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin nginx'
  m=$($B mount "$c")
  rm -f "$m/etc/nginx/sites-enabled/default"
  mkdir -p "$m/etc/nginx/conf.d" "$m/usr/share/nginx/html" "$m/var/cache/nginx"
  # upstream's default nginx.conf/default.conf (as in the official image) + Debian's module includes
  cat > "$m/etc/nginx/nginx.conf" <<'EOF'
user  nginx;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /var/run/nginx.pid;
include /etc/nginx/modules-enabled/*.conf;

events {
    worker_connections  1024;
}

http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    sendfile        on;
    keepalive_timeout  65;

    include /etc/nginx/conf.d/*.conf;
}
EOF
  # IPv4 only: the official image adds "listen [::]:80" at start-up only where IPv6 exists
  cat > "$m/etc/nginx/conf.d/default.conf" <<'EOF'
server {
    listen       80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
EOF
  [ -f "$m/usr/share/nginx/html/index.html" ] || printf '<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head>\n<body><h1>Welcome to nginx!</h1></body></html>\n' > "$m/usr/share/nginx/html/index.html"
  [ -f "$m/usr/share/nginx/html/50x.html" ] || printf '<!DOCTYPE html>\n<html><head><title>Error</title></head>\n<body><h1>An error occurred.</h1></body></html>\n' > "$m/usr/share/nginx/html/50x.html"
  # logs go to the container's output, like the official image
  ln -sfn /dev/stdout "$m/var/log/nginx/access.log"
  ln -sfn /dev/stderr "$m/var/log/nginx/error.log"
  $B umount "$c" >/dev/null
  $B run --network=none "$c" -- nginx -t -q >&2
  v=$($B run "$c" -- nginx -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')
  $B config --env NGINX_VERSION="$v" --port 80/tcp --stop-signal SIGQUIT \
    --cmd '["nginx","-g","daemon off;"]' "$c"
  commit "$c" $IMG_NGINX $R_NGINX "$v"
fi

# ------------------------------------------------------------------ 8b. nginx-unprivileged:bookworm
# Like nginxinc/nginx-unprivileged: the nginx image above, changed so that it runs entirely as
# 101:101 (no root at start-up): listen 8080, pid file and temp paths in /tmp, no `user`
# directive, /var/cache/nginx owned by 101. Plus Debian's wget, because the upstream (alpine) image
# has busybox wget and Dockerfiles use it for HEALTHCHECKs. The recipe revision includes the nginx
# image's id, so this image is rebuilt whenever that one is.
IMG_NGINXU=$P/nginx-unprivileged:bookworm
R_NGINXU=nginx-unprivileged-1+$($B images -q $IMG_NGINX)
if ! up_to_date $IMG_NGINXU "$R_NGINXU"; then
  log "nginx-unprivileged:bookworm"
  c=$(new_ctr nginx-unprivileged $IMG_NGINX)
  ctr_apt "$c" wget
  m=$($B mount "$c")
  # upstream's Dockerfile does the same edits with sed
  sed -i -e '/^user  *nginx;/d' -e 's|^pid .*|pid        /tmp/nginx.pid;|' "$m/etc/nginx/nginx.conf"
  sed -i '/^http {/a\    proxy_temp_path /tmp/proxy_temp;\n    client_body_temp_path /tmp/client_temp;\n    fastcgi_temp_path /tmp/fastcgi_temp;\n    uwsgi_temp_path /tmp/uwsgi_temp;\n    scgi_temp_path /tmp/scgi_temp;\n' \
    "$m/etc/nginx/nginx.conf"
  sed -i 's|listen  *80;|listen       8080;|' "$m/etc/nginx/conf.d/default.conf"
  grep -q 'listen       8080;' "$m/etc/nginx/conf.d/default.conf" || die "nginx-unprivileged: no listen 80 to change"
  grep -q '^pid        /tmp/nginx.pid;' "$m/etc/nginx/nginx.conf" || die "nginx-unprivileged: no pid line to change"
  # what the server writes: /var/cache/nginx (upstream: 101:0 g+w; here 101:101 g+w) and /tmp (1777)
  mkdir -p "$m/var/cache/nginx"
  chown -R 101:101 "$m/var/cache/nginx"; chmod -R g+w "$m/var/cache/nginx"
  chmod 1777 "$m/tmp"
  $B umount "$c" >/dev/null
  # self-test as the unprivileged user: the config parses, the pid and temp paths are writable
  # shellcheck disable=SC2016  # expanded by the container's sh
  $B run --network=none --user 101:101 "$c" -- sh -ec '
    nginx -t -q
    nginx -g "daemon on;"; sleep 0.5
    wget -q -O /dev/null http://127.0.0.1:8080/
    kill -QUIT "$(cat /tmp/nginx.pid)"; sleep 0.5
    rm -rf /tmp/*_temp /tmp/nginx.pid' >&2
  v=$(version_of $IMG_NGINX)
  $B config --port 80/tcp- --port 8080/tcp --stop-signal SIGQUIT --user 101 \
    --cmd '["nginx","-g","daemon off;"]' "$c"
  commit "$c" $IMG_NGINXU "$R_NGINXU" "$v"
fi

# ------------------------------------------------------------------ 9. distroless-static:local
IMG_DL=$P/distroless-static:local
# the CA bundle is Debian's, out of the golang image (never the machine's, which has its extra CAs):
# rebuilt whenever that image is
R_DL=distroless-static-2+$($B images -q $IMG_GO)
if ! up_to_date $IMG_DL $R_DL; then
  c=$(new_ctr distroless scratch); m=$($B mount "$c")
  mkdir -p "$m"/{etc/ssl/certs,tmp,root,home/nonroot,usr/share,var/tmp}
  chmod 1777 "$m/tmp" "$m/var/tmp"; chmod 700 "$m/root" "$m/home/nonroot"
  chown 65532:65532 "$m/home/nonroot"
  cat > "$m/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
  cat > "$m/etc/group" <<'EOF'
root:x:0:
tty:x:5:
staff:x:50:
nogroup:x:65534:
nonroot:x:65532:
EOF
  printf 'hosts: files dns\n' > "$m/etc/nsswitch.conf"
  printf 'PRETTY_NAME="Distroless"\nNAME="Debian GNU/Linux"\nID="debian"\nVERSION_ID="12"\nVERSION="Debian GNU/Linux 12 (bookworm)"\nHOME_URL="https://github.com/GoogleContainerTools/distroless"\n' > "$m/etc/os-release"
  g=$(new_ctr distroless-ca-src $IMG_GO); gm=$($B mount "$g")
  cp -L "$gm/etc/ssl/certs/ca-certificates.crt" "$m/etc/ssl/certs/ca-certificates.crt"
  cav=$(dpkg-query --admindir="$gm/var/lib/dpkg" -W -f='${Version}' ca-certificates)
  $B umount "$g" >/dev/null; $B rm "$g" >/dev/null
  cp -a /usr/share/zoneinfo "$m/usr/share/zoneinfo"
  $B umount "$c" >/dev/null
  v="debian12 (ca-certificates $cav, tzdata $(dpkg-query -W -f='${Version}' tzdata))"
  $B config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt "$c"
  $B config --label "$LABEL.recipe=$R_DL" --label "$LABEL.version=$v" "$c"
  $B commit --quiet "$c" $IMG_DL >/dev/null; log "built $IMG_DL"
  # :nonroot, like gcr.io/distroless/static-debian12:nonroot
  $B config --user 65532:65532 --workingdir /home/nonroot "$c"
  commit "$c" $P/distroless-static:nonroot $R_DL "$v"
fi

# ------------------------------------------------------------------ 9b. distroless-cc:nonroot
# Like gcr.io/distroless/cc-debian12:nonroot: the distroless-static files plus glibc and libgcc
# (Debian's libc6 and libgcc-s1, copied file by file out of the debian image), no shell.
IMG_DLCC=$P/distroless-cc:nonroot
R_DLCC=distroless-cc-1+$($B images -q $IMG_DL)+$($B images -q $IMG_DEBIAN)
if ! up_to_date $IMG_DLCC "$R_DLCC"; then
  c=$(new_ctr distroless-cc $IMG_DL); m=$($B mount "$c")
  d=$(new_ctr distroless-cc-src $IMG_DEBIAN); dm=$($B mount "$d")
  # the merged-/usr links first, so the packages' /lib/... paths land in /usr/lib/... as there
  for l in lib lib64 bin sbin; do
    if [ -L "$dm/$l" ] && [ ! -e "$m/$l" ]; then cp -a "$dm/$l" "$m/$l"; fi
  done
  mkdir -p "$m/usr/lib" "$m/usr/lib64" "$m/usr/bin" "$m/usr/sbin"
  for pkg in libc6 libgcc-s1; do dpkg-query --admindir="$dm/var/lib/dpkg" -L "$pkg"; done \
    | grep -vE '^/usr/share/(doc|lintian|man)' | sed 's|^/||' | sort -u \
    | (cd "$dm" && while read -r f; do [ -d "$f" ] && [ ! -L "$f" ] || printf '%s\n' "$f"; done) \
    | tar -C "$dm" --no-recursion -T - -cf - | tar -C "$m" -xpf -
  v="debian12 (libc6 $(dpkg-query --admindir="$dm/var/lib/dpkg" -W -f='${Version}' libc6))"
  $B umount "$d" >/dev/null; $B rm "$d" >/dev/null
  $B umount "$c" >/dev/null
  $B config --user 65532:65532 --workingdir /home/nonroot "$c"
  commit "$c" $IMG_DLCC "$R_DLCC" "$v"
fi

# ------------------------------------------------------------------ 9c. rust:bookworm
# Debian's rustc-web/cargo-web (the toolchain Debian keeps current for its browsers; plain rustc
# is 1.63, too old for lockfile v4), laid out like the official image: CARGO_HOME=/usr/local/cargo.
IMG_RUST=$P/rust:bookworm
R_RUST=rust-1
if ! up_to_date $IMG_RUST $R_RUST; then
  log "rust:bookworm: apt-get install (Debian rustc-web, cargo-web)"
  c=$(new_ctr rust $IMG_DEBIAN)
  ctr_apt "$c" ca-certificates gcc libc6-dev rustc-web cargo-web
  # self-test: a std-only crate builds with no network
  $B run --network=none "$c" -- sh -ec '
    mkdir -p /usr/local/cargo && chmod 1777 /usr/local/cargo
    export CARGO_HOME=/usr/local/cargo
    cd /tmp && cargo new --quiet --bin rustcheck && cd rustcheck && cargo build --quiet --release --locked 2>/dev/null || cargo build --quiet --release
    ./target/release/rustcheck && cd / && rm -rf /tmp/rustcheck' >&2
  v=$($B run "$c" -- rustc --version | awk '{print $2}')
  $B config --env CARGO_HOME=/usr/local/cargo --env RUST_VERSION="$v" \
    --env PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd '["bash"]' "$c"
  commit "$c" $IMG_RUST $R_RUST "$v"
fi

# ------------------------------------------------------------------ 9d. jre:bookworm and maven:bookworm
# Debian's OpenJDK 17 (bookworm has no 21) and Maven 3.8. No registry is reachable, so Maven's
# global settings mirror every repository to Debian's own Maven repository, /usr/share/maven-repo,
# filled by the plugin packages below: the default lifecycle's plugins and maven-dependency-plugin.
# That is how an air-gapped site points Maven at its mirror; a pom that pins a plugin version
# Debian does not carry fails here, as it would against a mirror that lacks it.
IMG_JRE=$P/jre:bookworm
R_JRE=jre-1
if ! up_to_date $IMG_JRE $R_JRE; then
  log "jre:bookworm: apt-get install (Debian openjdk-17-jre-headless)"
  c=$(new_ctr jre $IMG_DEBIAN)
  # openjdk's postinst links its man pages, which the slim dpkg config does not install
  $B run --network=none "$c" -- mkdir -p /usr/share/man/man1
  ctr_apt "$c" ca-certificates openjdk-17-jre-headless
  v=$($B run --network=none "$c" -- java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.runtime.version = //p')
  $B config --env JAVA_VERSION="$v" --cmd '["jshell"]' "$c"
  commit "$c" $IMG_JRE $R_JRE "$v"
fi
IMG_MVN=$P/maven:bookworm
R_MVN=maven-2
if ! up_to_date $IMG_MVN $R_MVN; then
  log "maven:bookworm: apt-get install (Debian maven, openjdk-17-jdk-headless, Maven plugins)"
  c=$(new_ctr maven $IMG_DEBIAN)
  $B run --network=none "$c" -- mkdir -p /usr/share/man/man1
  ctr_apt "$c" ca-certificates openjdk-17-jdk-headless maven libmaven-clean-plugin-java \
    libmaven-compiler-plugin-java libmaven-dependency-plugin-java libmaven-deploy-plugin-java \
    libmaven-install-plugin-java libmaven-jar-plugin-java libmaven-resources-plugin-java \
    libmaven-site-plugin-java libsurefire-java
  m=$($B mount "$c")
  cat > "$m/etc/maven/settings.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!-- written by stowplan tests/e2e/setup.sh: no registry is reachable, Debian's repository is the mirror -->
<settings xmlns="http://maven.apache.org/SETTINGS/1.2.0">
  <mirrors>
    <mirror>
      <id>debian</id>
      <mirrorOf>*</mirrorOf>
      <url>file:///usr/share/maven-repo</url>
    </mirror>
  </mirrors>
</settings>
EOF
  $B umount "$c" >/dev/null
  # (Maven wraps its banner in colour codes even without a terminal: dropped before matching)
  v=$($B run --network=none "$c" -- mvn -B -v 2>/dev/null | sed -n 's/\x1b\[[0-9;]*m//g; s/^Apache Maven \([^ ]*\).*/\1/p')
  $B config --env MAVEN_VERSION="$v" --cmd '["mvn"]' "$c"
  commit "$c" $IMG_MVN $R_MVN "$v"
fi

# ------------------------------------------------------------------ 10. aliases under the official names
# So an unmodified `FROM golang:1.23-bookworm` finds the local image with --pull=never. Only names
# whose version matches what is really inside are added.
if [ "$ALIASES" = 1 ]; then
  D=docker.io/library
  gov=$(version_of $IMG_GO); gov=${gov#go}; gomm=${gov%.*}
  pyv=$(version_of $IMG_PY); pymm=${pyv%.*}
  nodev=$(version_of $IMG_NODE); nodem=${nodev%%.*}
  ngv=$(version_of $IMG_NGINX); ngmm=${ngv%.*}
  alias_tags() {
    local src=$1 id t; shift; id=$($B images -q --no-trunc "$src")
    $B tag "$src" "$@"
    for t; do NEW_ALIASES+=("$t"$'\t'"$id"); done
  }
  alias_tags $IMG_BUSYBOX $D/busybox:latest
  alias_tags $IMG_DEBIAN $D/debian:bookworm-slim $D/debian:bookworm $D/debian:12-slim $D/debian:12
  alias_tags $IMG_GO $D/golang:bookworm $D/golang:$gomm-bookworm $D/golang:$gov-bookworm
  alias_tags $IMG_PY $D/python:$pymm-bookworm $D/python:$pymm-slim-bookworm $D/python:$pymm-slim \
    $D/python:$pyv-slim-bookworm $D/python:$pyv-bookworm
  alias_tags $IMG_NODE $D/node:$nodem-bookworm $D/node:$nodem-bookworm-slim $D/node:$nodem-slim $D/node:$nodev-bookworm
  alias_tags $IMG_NGINX $D/nginx:$ngmm $D/nginx:$ngv
  alias_tags $IMG_NGINXU "docker.io/nginxinc/nginx-unprivileged:$ngmm" "docker.io/nginxinc/nginx-unprivileged:$ngv"
  alias_tags $IMG_DL gcr.io/distroless/static-debian12:latest gcr.io/distroless/static:latest
  alias_tags $P/distroless-static:nonroot gcr.io/distroless/static-debian12:nonroot gcr.io/distroless/static:nonroot
fi

# an alias made by an earlier run that this run did not make again (e.g. golang:1.23-bookworm after
# a switch to Go 1.19) and still points at the image it was made for: remove it, so that no
# official-looking name silently keeps an outdated image. Not with STOWPLAN_E2E_ALIASES=0: that run
# makes none, and the aliases of the runs that do are theirs to keep.
if [ "$ALIASES" = 1 ] && [ -f "$E2E_DIR/aliases.tsv" ]; then
  while IFS=$'\t' read -r tag id; do
    [ -n "$tag" ] || continue
    printf '%s\n' "${NEW_ALIASES[@]}" | cut -f1 | grep -qxF "$tag" && continue
    if [ "$($B images -q --no-trunc "$tag" 2>/dev/null)" = "$id" ]; then
      if $B rmi "$tag" >/dev/null 2>&1; then log "removed stale alias $tag"; fi
    fi
  done < "$E2E_DIR/aliases.tsv"
fi
[ "$ALIASES" = 0 ] || printf '%s\n' "${NEW_ALIASES[@]}" > "$E2E_DIR/aliases.tsv"

if ((${#REPLACED[@]})); then
  dangling=$($B images --no-trunc --filter dangling=true --format '{{.ID}}')
  for id in "${REPLACED[@]}"; do
    if grep -q "$id" <<<"$dangling"; then $B rmi "$id" >/dev/null 2>&1 && log "removed replaced image ${id:0:12}" || true; fi
  done
fi

# ------------------------------------------------------------------ 11. report
{
  for img in $IMG_BUSYBOX $IMG_DEBIAN $IMG_GO $IMG_PY $P/python:bookworm-slim $IMG_NODE $P/node:bookworm-slim \
             $IMG_NGINX $IMG_NGINXU $IMG_DL $P/distroless-static:nonroot $IMG_DLCC $IMG_RUST \
             $IMG_JRE $IMG_MVN; do
    printf '%s\t%s\n' "$img" "$(version_of "$img")"
  done
} > "$E2E_DIR/images.tsv.new"
mv "$E2E_DIR/images.tsv.new" "$E2E_DIR/images.tsv"
if [ "$BUILT" -gt 0 ]; then   # du over the whole storage takes a while: only after a change
  log "ready ($BUILT image(s) built); storage $(du -sh "$STORAGE_ROOT" 2>/dev/null | cut -f1) in $STORAGE_ROOT, cache $(du -sh "$CACHE_DIR" | cut -f1)"
else
  log "ready (all images up to date)"
fi
cat "$E2E_DIR/images.tsv"
