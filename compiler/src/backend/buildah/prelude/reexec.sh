if [[ $(id -u) != 0 && -z ${_CONTAINERS_USERNS_CONFIGURED:-} ]]; then
  # Rootless: `buildah mount`, used to tidy up after each run, needs buildah's user namespace.
  exec buildah unshare bash "$0" "$@"
fi
