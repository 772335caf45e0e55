# shellcheck shell=bash
# tests/e2e/lib.sh - sourced by tests/e2e/run.sh and tests/corpus/run.sh: this machine's registry
# settings and CA bundle as build secrets, the file-by-file comparison of images in buildah's
# storage, and the check that no secret mount reached an image. The caller sets TAG (prefix of
# the working containers made here).

# The machine's registry settings and CA bundle, read when the run starts and passed to every
# build as secrets (never a file of the context or a layer): those that exist of
#   npmrc            ~/.npmrc (or $NPM_CONFIG_USERCONFIG)
#   pip-conf         /etc/pip.conf (or $PIP_CONFIG_FILE)
#   ca-certificates  /etc/ssl/certs/ca-certificates.crt (the public CAs and this machine's own)
# SECRET_IDS: the ids; SECRET_ARGS: `--secret id=ID,src=FILE` for buildah build and docker build;
# SECRET_ENV: STOWPLAN_SECRET_<ID>=FILE for the generated Buildah script.
SECRET_IDS=() SECRET_FILES=() SECRET_ARGS=() SECRET_ENV=()
host_secrets() {
  local i v
  add_secret npmrc "${NPM_CONFIG_USERCONFIG:-$HOME/.npmrc}"
  add_secret pip-conf "${PIP_CONFIG_FILE:-/etc/pip.conf}"
  add_secret ca-certificates /etc/ssl/certs/ca-certificates.crt
  for i in "${!SECRET_IDS[@]}"; do
    SECRET_ARGS+=(--secret "id=${SECRET_IDS[$i]},src=${SECRET_FILES[$i]}")
    v=${SECRET_IDS[$i]^^}; v=${v//[^A-Z0-9]/_}
    SECRET_ENV+=("STOWPLAN_SECRET_$v=${SECRET_FILES[$i]}")
  done
}
add_secret() { [ -r "$2" ] && { SECRET_IDS+=("$1"); SECRET_FILES+=("$2"); }; return 0; }

# manifest IMAGE OUT: one line per path: PATH TYPE MODE UID:GID SHA256-or-LINK-TARGET. The image's
# root file system is mounted (buildah from + mount), not a running container's, so there are no
# runtime mounts (/proc, /sys, /dev, /etc/hosts...) to exclude; mtimes are not compared.
# Normalisation (not a backend difference): a timestamp-based .pyc embeds the mtime of its .py at
# install time (bytes 8-11), so two builds of the same venv a minute apart differ there and
# nowhere else, with Docker as well. .pyc files are hashed with those 4 bytes zeroed; the .py
# files themselves are compared in full.
manifest() {
  local c=$TAG-mf-$RANDOM m
  buildah from --pull=never --name "$c" "$1" >/dev/null
  m=$(buildah mount "$c")
  (cd "$m" && find . -type f ! -name '*.pyc' -print0 | xargs -0 -r sha256sum) \
    | sed -E 's/^\\?([0-9a-f]{64})  (.*)$/\2\t\1/' > "$2.sums"
  (cd "$m" && find . -type f -name '*.pyc' -print0 | perl -MDigest::SHA=sha256_hex -0 -ne '
      chomp; open(my $fh, "<:raw", $_) or die "$_: $!"; local $/; my $d = <$fh>;
      substr($d, 8, 4) = "\0\0\0\0" if length($d) >= 16; print "$_\t", sha256_hex($d), "\n"') >> "$2.sums"
  (cd "$m" && find . -printf '%p\t%y\t%m\t%U:%G\t%l\n') \
    | awk -F'\t' -v OFS='\t' 'NR == FNR {h[$1] = $2; next} {if ($2 == "f") $5 = h[$1]; print}' "$2.sums" - \
    | LC_ALL=C sort > "$2"
  buildah umount "$c" >/dev/null
  buildah rm "$c" >/dev/null
}
# Normalisation of the Dockerfile build's files (a known `buildah build` 1.28 deviation; BuildKit
# and the script leave none of these): every RUN leaves behind, in its layer, the mount points it
# needed and created: empty /etc/hosts, /etc/hostname and /etc/resolv.conf files, an empty /run,
# /run/.containerenv, /run/secrets, and the directories of its RUN --mount targets with their
# parents. Such a path is dropped only if it is missing from the script's image and is an empty
# file or a directory (anything inside a dropped directory is still compared).
drop_stubs() {  # drop_stubs DF-MANIFEST SH-MANIFEST DOCKERFILE > normalised DF manifest
  local targets
  targets=$(grep -oE -- '--mount=[^ ]*' "$3" | grep -oE '(target|dst|destination)=/[^,]*' | cut -d= -f2 || true)
  awk -F'\t' -v targets="$targets" '
    function add(p) { while (p != "" && p != ".") { stub[p] = 1; sub(/\/[^\/]*$/, "", p) } }
    BEGIN {
      n = split("/etc/hosts /etc/hostname /etc/resolv.conf /run/.containerenv /run/secrets", s, " ")
      for (i = 1; i <= n; i++) add("." s[i])
      n = split(targets, s, "\n")
      for (i = 1; i <= n; i++) if (s[i] != "") { t = s[i]; sub(/\/+$/, "", t); add("." t) }
    }
    NR == FNR { insh[$1] = 1; next }
    !($1 in insh) && ($1 in stub) && ($2 == "d" || ($2 == "f" && $5 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")) {
      print "dropped stub: " $0 > "/dev/stderr"; next
    }
    { print }' "$2" "$1"
}
# file_sums IMAGE PATH...: per PATH, "PATH SHA256" of the file in IMAGE ("absent", or "link TARGET"
# for a symlink, which is not followed out of the image)
file_sums() {
  local image=$1 c=$TAG-fs-$RANDOM m p
  shift
  buildah from --pull=never --name "$c" "$image" >/dev/null
  m=$(buildah mount "$c")
  for p; do
    if [ -L "$m$p" ]; then echo "$p link $(readlink "$m$p")"
    elif [ -f "$m$p" ]; then echo "$p $(sha256sum < "$m$p" | cut -d' ' -f1)"
    else echo "$p absent"; fi
  done
  buildah umount "$c" >/dev/null
  buildah rm "$c" >/dev/null
}
# final_base DOCKERFILE: the image the final stage starts from, through the stages it names
final_base() {
  awk '$1 == "FROM" { n = 2; while ($n ~ /^--/) n++; st[tolower($(n + 2))] = $n; last = $n }
    END { while (tolower(last) in st) last = st[tolower(last)]; print last }' "$1"
}
# secret_targets_untouched IMAGE DOCKERFILE [PATH...]: every path a RUN of DOCKERFILE mounts a
# secret at (`target=`, else /run/secrets/ID), and each PATH (what a build bound in with
# `buildah build -v`), is in IMAGE what it is in the base image its final stage starts
# from: the same file, or absent from both. A secret that reached a layer of a stage the image is
# made of would show there. The base is read from DOCKERFILE's FROM lines (with the image map's
# names), so it must be in buildah's storage.
secret_targets_untouched() {
  local image=$1 df=$2 base targets
  base=$(final_base "$df")
  targets=$(grep -oE -- '--mount=type=secret[^ ]*' "$df" | awk -F'[,=]' '{
      t = ""; id = ""
      for (i = 1; i < NF; i++) { if ($i == "target" || $i == "dst" || $i == "destination") t = $(i + 1); if ($i == "id") id = $(i + 1) }
      print (t != "" ? t : "/run/secrets/" id) }'; printf '%s\n' "${@:3}")
  targets=$(printf '%s\n' "$targets" | grep . | sort -u || true)
  [ -n "$targets" ] || { echo "no secret mount"; return 0; }
  # shellcheck disable=SC2086  # one path per word
  file_sums "$image" $targets > "$df.secrets.image"
  # shellcheck disable=SC2086
  file_sums "$base" $targets > "$df.secrets.base"
  sed 's/^/base  /' "$df.secrets.base"
  diff "$df.secrets.base" "$df.secrets.image" | sed -n 's/^> /IMAGE /p'
  cmp -s "$df.secrets.base" "$df.secrets.image"
}
# npm_owners REF OTHER > normalised OTHER: npm, run as root, keeps the owners a package's tarball
# records (501:20 from a Mac, 1000:100, ...) when it downloads the package, and writes root's when
# it extracts it from a warm cache: a file's owner under node_modules/ follows the state of the
# npm cache mount, not the builder (shown: buildah with an empty cache gives the tarball's owners
# as BuildKit after its prune does). Such a line of OTHER takes REF's owner when it is REF's line
# in all else (path, type, mode, content); each one goes to stderr.
npm_owners() {
  awk -F'\t' -v OFS='\t' '
    NR == FNR { ref[$1] = $0; next }
    $1 ~ /\/node_modules\// && ($1 in ref) && $0 != ref[$1] {
      split(ref[$1], r, "\t")
      if (r[2] == $2 && r[3] == $3 && r[5] == $5) { print "npm owner: " $1 " " $4 " (reference " r[4] ")" > "/dev/stderr"; $4 = r[4] }
    }
    { print }' "$1" "$2"
}
