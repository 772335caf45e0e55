# global_arg NAME [DEFAULT]: a top-level ARG NAME[=DEFAULT], valued from STOWPLAN_ARG_NAME
# when that is set. automatic_args TARGET: the automatic ones (TARGETOS, BUILDARCH, ...),
# BUILD* from this host, TARGET* from TARGET (the one platform the spec lists) or, when it is
# empty, from this host too.
global_arg() {
  local var=STOWPLAN_ARG_$1
  if [[ -v $var ]]; then
    global_args[$1]=${!var}
  elif (($# > 1)); then
    global_args[$1]=$2
  fi
}
automatic_args() {
  local os arch variant='' name target=$1 parts
  os=$(uname -s | tr '[:upper:]' '[:lower:]')
  case $(uname -m) in
    x86_64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    armv7*) arch=arm variant=v7 ;;
    armv6*) arch=arm variant=v6 ;;
    i386 | i686) arch=386 ;;
    *) arch=$(uname -m) ;;
  esac
  for name in BUILD TARGET; do
    if [[ $name == TARGET && -n $target ]]; then
      IFS=/ read -r -a parts <<<"$target"
      os=${parts[0]} arch=${parts[1]} variant=${parts[2]-}
    fi
    global_arg "${name}OS" "$os"
    global_arg "${name}ARCH" "$arch"
    global_arg "${name}VARIANT" "$variant"
    global_arg "${name}PLATFORM" "$os/$arch${variant:+/$variant}"
  done
}
# set_global_arg CTR NAME: ARG NAME in a stage, for an argument declared before the stages.
set_global_arg() {
  if [[ -v global_args[$2] ]]; then
    set_arg "$1" "$2" "${global_args[$2]}"
  else
    set_arg "$1" "$2"
  fi
}
