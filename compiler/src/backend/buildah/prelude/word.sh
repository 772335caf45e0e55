# word CTR PIECE...: sets w to the pieces joined, `=TEXT` as the text and NAME as the value
# of the build argument NAME in the stage of CTR (an ENV of that name wins, as in Docker);
# with CTR empty, of the arguments declared before the stages. Never through eval.
word() {
  local container=$1 piece entry value i
  shift
  w=''
  for piece in "$@"; do
    if [[ $piece == =* ]]; then
      w+=${piece#=}
      continue
    fi
    value=''
    if [[ -z $container ]]; then
      [[ ! -v global_args[$piece] ]] || value=${global_args[$piece]}
    else
      for i in "${!build_args[@]}"; do
        [[ ${build_args[i]%%=*} != "$piece" ]] || value=${build_args[i]#*=}
      done
      env_of "$container"
      while IFS= read -r -d '' entry; do
        [[ ${entry%%=*} != "$piece" ]] || value=${entry#*=}
      done <"$tmp/env"
    fi
    w+=$value
  done
}
# qualify: w as docker reads an image reference: docker.io/library/ before a short name,
# :latest when it has no tag or digest.
qualify() {
  local first=${w%%/*}
  if [[ $w != */* ]]; then
    w=docker.io/library/$w
  elif [[ $first != *[.:]* && $first != localhost ]]; then
    w=docker.io/$w
  fi
  [[ ${w##*/} == *[:@]* ]] || w+=:latest
}
