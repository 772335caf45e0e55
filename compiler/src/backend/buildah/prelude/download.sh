# download URL NAME SHA256: for ADD with a checksum, which buildah 1.28 cannot check.
# Fetches URL on the host as NAME, checks it and leaves its path in $downloaded.
download() {
  local dir sum
  command -v curl >/dev/null || fail "ADD with a checksum needs curl on this host"
  dir=$(mktemp -d -p "$tmp" download.XXXXXX)
  # --globoff: `[` and `{` in a URL are its own characters, not curl patterns.
  curl -fsSLR --globoff -o "$dir/$2" -- "$1"
  sum=$(sha256sum <"$dir/$2")
  [[ ${sum%% *} == "$3" ]] || fail "$1: expected sha256:$3, got sha256:${sum%% *}"
  downloaded=$dir/$2
}
