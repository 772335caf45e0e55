# add_bind ROOT SOURCE TARGET ro|rw: SOURCE, resolved inside ROOT (in_root), mounted at
# TARGET for the next run. A read-write bind gets a throwaway copy, so its writes are
# discarded as with BuildKit.
add_bind() {
  local path copy
  in_root "$1" "$2"
  path=$resolved
  [[ -e $path ]] || fail "$2: no such file or directory to bind at $3"
  if [[ $4 == rw ]]; then
    copy=$(mktemp -d -p "$tmp" bind.XXXXXX)
    cp -a -- "$path" "$copy/source"
    path=$copy/source
  fi
  [[ $path != *,* ]] || fail "$path: buildah cannot mount a path with a comma"
  mounts+=(--mount "type=bind,source=$path,target=$3,$4")
  targets+=("$3")
}
