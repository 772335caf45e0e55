# add_mount TARGET SPEC: a cache or tmpfs mount for the next run.
add_mount() {
  mounts+=(--mount "$2")
  targets+=("$1")
}
