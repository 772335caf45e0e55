# clear_cmd CTR: ENTRYPOINT drops an inherited CMD, as Docker does (buildah keeps it).
clear_cmd() {
  local n
  n=$(buildah inspect --type container --format '{{len .Docker.Config.Cmd}}' "$1")
  [[ $n == 0 ]] || buildah config --cmd '[]' "$1"
}
