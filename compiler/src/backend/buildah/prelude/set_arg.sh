# set_arg CTR NAME [DEFAULT]: ARG NAME[=DEFAULT] for the stage's following runs,
# valued from STOWPLAN_ARG_NAME when that is set (docker build --build-arg NAME=...).
# Never in the image config; an ENV of the same name wins, as in Docker.
set_arg() {
  local var=STOWPLAN_ARG_$2
  env_of "$1"
  if grep -qz "^$2=" "$tmp/env"; then
    return 0
  fi
  if [[ -v $var ]]; then
    drop_build_arg "$2"
    build_args+=("$2=${!var}")
  elif (($# > 2)); then
    drop_build_arg "$2"
    build_args+=("$2=$3")
  fi
}
