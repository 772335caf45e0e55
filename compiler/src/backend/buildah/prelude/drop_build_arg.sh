drop_build_arg() {
  local i
  for i in "${!build_args[@]}"; do
    [[ ${build_args[i]%%=*} != "$1" ]] || unset 'build_args[i]'
  done
}
