# add_ssh ID VAR N required|optional: forwards the SSH agent socket named by $VAR to the
# next run at /run/buildkit/ssh_agent.N, with SSH_AUTH_SOCK set (BuildKit's layout).
add_ssh() {
  local sock=${!2:-} target=/run/buildkit/ssh_agent.$3
  if [[ -z $sock ]]; then
    [[ $4 != required ]] || fail "ssh \"$1\" is required: set $2 to an SSH agent socket"
    return 0
  fi
  [[ -S $sock ]] || fail "$2=$sock: not a socket (ssh \"$1\")"
  [[ $sock != *,* ]] || fail "$sock: buildah cannot mount a path with a comma"
  [[ " ${mounts[*]} " == *" --env=SSH_AUTH_SOCK="* ]] || mounts+=("--env=SSH_AUTH_SOCK=$target")
  mounts+=(--mount "type=bind,source=$sock,target=$target")
  targets+=("$target")
}
