# add_bind_stage CTR SOURCE TARGET ro|rw: SOURCE from stage container CTR, as add_bind.
add_bind_stage() {
  local root
  root=$(buildah mount "$1")
  add_bind "$root" "$2" "$3" "$4"
}
