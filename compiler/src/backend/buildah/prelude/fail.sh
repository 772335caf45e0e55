fail() {
  echo "${0##*/}: $1" >&2
  exit 1
}
