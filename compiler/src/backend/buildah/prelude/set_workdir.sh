# set_workdir CTR DIR: WORKDIR DIR. Like BuildKit, creates DIR (mode 0755, owned by
# the current USER) unless it exists: copying an empty directory there does just that.
set_workdir() {
  local user chown=()
  buildah config --workingdir "$2" "$1"
  [[ $2 != / ]] || return 0
  user=$(buildah inspect --type container --format '{{.Docker.Config.User}}' "$1")
  [[ -z $user ]] || chown=(--chown "$user")
  mkdir -p -- "$tmp/empty"
  buildah copy -q "${chown[@]}" "$1" "$tmp/empty" "$2"
}
