# set_env CTR NAME VALUE: ENV NAME=VALUE. Docker replaces a variable where it stands,
# buildah would move it to the end, so the list is written again in order.
# `buildah config --env` expands $VAR: each `$` is written ${STOWPLAN_DOLLAR}, a
# variable that holds `$` for the length of that one call.
set_env() {
  local entry found='' dollar='${STOWPLAN_DOLLAR}' args=(--env - --env 'STOWPLAN_DOLLAR=$')
  env_of "$1"
  while IFS= read -r -d '' entry; do
    [[ ${entry%%=*} != STOWPLAN_DOLLAR ]] || fail "the base image sets STOWPLAN_DOLLAR, which this script needs"
    if [[ ${entry%%=*} == "$2" ]]; then
      entry=$2=$3
      found=1
    fi
    args+=(--env "${entry//\$/"$dollar"}")
  done <"$tmp/env"
  [[ -n $found ]] || args+=(--env "$2=${3//\$/"$dollar"}")
  buildah config "${args[@]}" --env STOWPLAN_DOLLAR- "$1"
  drop_build_arg "$2"
}
