# run_in CTR [FLAG...] -- ARGV...: RUN ARGV with the stage's build args and the mounts
# added since the last run. Like BuildKit, it then removes the mount points the run
# created and left empty: its mounts' targets and the runtime's /etc/hosts and such.
run_in() {
  local c=$1 flags=() root stubs path
  shift
  while [[ $1 != -- ]]; do
    flags+=("$1")
    shift
  done
  shift
  root=$(buildah mount "$c")
  mapfile -t stubs < <(new_paths "$root" /etc/hosts /etc/resolv.conf /etc/hostname \
    /run/.containerenv "${targets[@]}" | LC_ALL=C sort -ru)
  # What a RUN prints goes to stderr: stdout carries only the script's result line.
  buildah run "${build_args[@]/#/--env=}" "${mounts[@]}" "${flags[@]}" "$c" -- "$@" </dev/null >&2
  for path in "${stubs[@]}"; do
    if [[ -d $root$path && ! -L $root$path ]]; then
      rmdir -- "$root$path" 2>/dev/null || true
    elif [[ -f $root$path && ! -L $root$path && ! -s $root$path ]]; then
      rm -f -- "$root$path"
    fi
  done
  mounts=()
  targets=()
}

# new_paths ROOT PATH...: the paths that creating each PATH would create under ROOT.
# Paths reached through a symlink are skipped: on the host it could lead anywhere.
new_paths() {
  local root=$1 target path created
  shift
  for target in "$@"; do
    path=$target
    created=()
    while [[ $path != / && ! -e $root$path && ! -L $root$path ]]; do
      created+=("$path")
      path=${path%/*}
      path=${path:-/}
    done
    while [[ $path != / && ! -L $root$path ]]; do
      path=${path%/*}
      path=${path:-/}
    done
    if [[ $path == / ]] && ((${#created[@]})); then
      printf '%s\n' "${created[@]}"
    fi
  done
}
