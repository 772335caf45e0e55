# env_of CTR: the container's environment, NUL-separated, into $tmp/env.
env_of() {
  buildah inspect --type container \
    --format '{{range .Docker.Config.Env}}{{.}}{{printf "%c" 0}}{{end}}' "$1" >"$tmp/env"
}
