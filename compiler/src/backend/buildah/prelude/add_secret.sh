# add_secret ID VAR TARGET required|optional: secret ID for the next run, read from the
# file named by $VAR and mounted read-only at TARGET as a private copy (mode 0400, like
# BuildKit). It never reaches a layer, the image config or a build arg.
add_secret() {
  local file=${!2:-} copy
  if [[ -z $file ]]; then
    [[ $4 != required ]] || fail "secret \"$1\" is required: set $2 to the file that holds it"
    return 0
  fi
  [[ -f $file && -r $file ]] || fail "$2=$file: not a readable file (secret \"$1\")"
  copy=$(mktemp -p "$tmp" secret.XXXXXX)
  [[ $copy != *,* ]] || fail "$copy: buildah cannot mount a path with a comma; set TMPDIR"
  cat -- "$file" >"$copy"
  chmod 0400 "$copy"
  mounts+=(--mount "type=bind,source=$copy,target=$3,ro")
  targets+=("$3")
}
