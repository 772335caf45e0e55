# Working containers, intermediate images and temporary files go on any exit.
cleanup() {
  local c
  for c in "${containers[@]}"; do
    buildah rm "$c" >/dev/null 2>&1 || true
  done
  for c in "${intermediates[@]}"; do
    buildah rmi "$c" >/dev/null 2>&1 || true
  done
  rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
