//! The script's prelude: its settings, variables and the bash helpers the
//! stages call, each written only when a stage uses it.

use std::fmt::Write as _;

use crate::backend::buildah::Emitter;
use crate::backend::quote::bash::bash_word;

impl Emitter<'_> {
    pub(super) fn prelude(&self, out: &mut String) {
        let u = &self.uses;
        if u.run {
            out.push_str(REEXEC);
        }
        out.push('\n');
        if u.context {
            let _ = writeln!(
                out,
                "context=${{STOWPLAN_CONTEXT:-{}}}",
                bash_word(&self.options.context)
            );
            out.push_str("context=$(cd -- \"$context\" && pwd)\n");
        }
        let _ = writeln!(
            out,
            "pull=${{STOWPLAN_PULL:-{}}}",
            self.options.pull.as_str()
        );
        out.push_str(
            "case $pull in\nalways | missing | never) ;;\n*)\n  echo \"${0##*/}: STOWPLAN_PULL must be always, missing or never\" >&2\n  exit 1\n  ;;\nesac\n",
        );
        if u.ignore {
            out.push_str(CONTEXT_CHECK);
        }
        out.push_str("containers=()\n");
        if u.intermediates {
            out.push_str("intermediates=()\n");
        }
        if u.external {
            out.push_str("external=()\n");
        }
        if !self.referenced.is_empty() {
            out.push_str("declare -A ctr=()\n");
        }
        if u.images {
            out.push_str("declare -A image=()\n");
        }
        if self.has_build_args {
            out.push_str("build_args=()\n");
        }
        if u.run {
            out.push_str("mounts=()\n");
            out.push_str("targets=()\n");
        }
        if u.download {
            out.push_str("downloaded=\n");
        }
        out.push_str("tmp=$(mktemp -d)\n");
        out.push_str(if u.intermediates {
            CLEANUP_WITH_IMAGES
        } else {
            CLEANUP
        });
        out.push_str(FAIL);
        if u.workdir {
            out.push_str(SET_WORKDIR);
        }
        if u.env || u.args {
            out.push_str(ENV_OF);
        }
        if u.env {
            out.push_str(SET_ENV);
        }
        if u.args {
            out.push_str(SET_ARG);
        }
        if self.has_build_args {
            out.push_str(DROP_BUILD_ARG);
        }
        if u.clear_cmd {
            out.push_str(CLEAR_CMD);
        }
        if u.run {
            out.push_str(RUN_IN);
        }
        if u.mounts {
            out.push_str(MOUNT_HELPERS);
        }
        if u.secrets {
            out.push_str(ADD_SECRET);
        }
        if u.ssh {
            out.push_str(ADD_SSH);
        }
        if u.binds {
            out.push_str(ADD_BIND);
        }
        if u.stage_binds {
            out.push_str(ADD_BIND_STAGE);
        }
        if u.download {
            out.push_str(DOWNLOAD);
        }
    }
}

/// `buildah mount` (to tidy up mount points after each run) needs buildah's
/// user namespace when the script runs rootless.
const REEXEC: &str = r#"if [[ $(id -u) != 0 && -z ${_CONTAINERS_USERNS_CONFIGURED:-} ]]; then
  # Rootless: `buildah mount`, used to tidy up after each run, needs buildah's user namespace.
  exec buildah unshare bash "$0" "$@"
fi
"#;

const CONTEXT_CHECK: &str = r#"if [[ $context == *[][?*\\]* ]]; then
  echo "${0##*/}: buildah would read the context path $context as a pattern" >&2
  exit 1
fi
# COPY and ADD honour the context's .dockerignore, as docker build does.
ignore=()
if [[ -f $context/.dockerignore ]]; then
  ignore=(--contextdir "$context" --ignorefile "$context/.dockerignore")
fi
"#;

const CLEANUP: &str = r#"
# Working containers and temporary files go on any exit.
cleanup() {
  local c
  for c in "${containers[@]}"; do
    buildah rm "$c" >/dev/null 2>&1 || true
  done
  rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
"#;

const CLEANUP_WITH_IMAGES: &str = r#"
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
"#;

const FAIL: &str = r#"
fail() {
  echo "${0##*/}: $1" >&2
  exit 1
}
"#;

const SET_WORKDIR: &str = r#"
# set_workdir CTR DIR: WORKDIR DIR. Like BuildKit, creates DIR (mode 0755, owned by
# the current USER) unless it exists: copying an empty directory there does just that.
set_workdir() {
  local user chown=()
  buildah config --workingdir "$2" "$1"
  [[ $2 != / ]] || return 0
  user=$(buildah inspect --type container --format '{{.Docker.Config.User}}' "$1")
  [[ -z $user ]] || chown=(--chown "$user")
  mkdir -p -- "$tmp/empty"
  buildah copy -q "${chown[@]}" "$1" "$tmp/empty" "$2"
}
"#;

const ENV_OF: &str = r#"
# env_of CTR: the container's environment, NUL-separated, into $tmp/env.
env_of() {
  buildah inspect --type container \
    --format '{{range .Docker.Config.Env}}{{.}}{{printf "%c" 0}}{{end}}' "$1" >"$tmp/env"
}
"#;

const SET_ENV: &str = r#"
# set_env CTR NAME VALUE: ENV NAME=VALUE. Docker replaces a variable where it stands,
# buildah would move it to the end, so the list is written again in order.
# `buildah config --env` expands $VAR: each `$` is written ${STOWPLAN_DOLLAR}, a
# variable that holds `$` for the length of that one call.
set_env() {
  local entry found='' dollar='${STOWPLAN_DOLLAR}' args=(--env - --env 'STOWPLAN_DOLLAR=$')
  env_of "$1"
  while IFS= read -r -d '' entry; do
    [[ ${entry%%=*} != STOWPLAN_DOLLAR ]] || fail "the base image sets STOWPLAN_DOLLAR, which this script needs"
    if [[ ${entry%%=*} == "$2" ]]; then
      entry=$2=$3
      found=1
    fi
    args+=(--env "${entry//\$/"$dollar"}")
  done <"$tmp/env"
  [[ -n $found ]] || args+=(--env "$2=${3//\$/"$dollar"}")
  buildah config "${args[@]}" --env STOWPLAN_DOLLAR- "$1"
  drop_build_arg "$2"
}
"#;

const SET_ARG: &str = r#"
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
"#;

const DROP_BUILD_ARG: &str = r#"
drop_build_arg() {
  local i
  for i in "${!build_args[@]}"; do
    [[ ${build_args[i]%%=*} != "$1" ]] || unset 'build_args[i]'
  done
}
"#;

const CLEAR_CMD: &str = r#"
# clear_cmd CTR: ENTRYPOINT drops an inherited CMD, as Docker does (buildah keeps it).
clear_cmd() {
  local n
  n=$(buildah inspect --type container --format '{{len .Docker.Config.Cmd}}' "$1")
  [[ $n == 0 ]] || buildah config --cmd '[]' "$1"
}
"#;

const RUN_IN: &str = r#"
# run_in CTR [FLAG...] -- ARGV...: RUN ARGV with the stage's build args and the mounts
# added since the last run. Like BuildKit, it then removes the mount points the run
# created and left empty: its mounts' targets and the runtime's /etc/hosts and such.
run_in() {
  local c=$1 flags=() root stubs path
  shift
  while [[ $1 != -- ]]; do
    flags+=("$1")
    shift
  done
  shift
  root=$(buildah mount "$c")
  mapfile -t stubs < <(new_paths "$root" /etc/hosts /etc/resolv.conf /etc/hostname \
    /run/.containerenv "${targets[@]}" | LC_ALL=C sort -ru)
  # What a RUN prints goes to stderr: stdout carries only the script's result line.
  buildah run "${build_args[@]/#/--env=}" "${mounts[@]}" "${flags[@]}" "$c" -- "$@" </dev/null >&2
  for path in "${stubs[@]}"; do
    if [[ -d $root$path && ! -L $root$path ]]; then
      rmdir -- "$root$path" 2>/dev/null || true
    elif [[ -f $root$path && ! -L $root$path && ! -s $root$path ]]; then
      rm -f -- "$root$path"
    fi
  done
  mounts=()
  targets=()
}

# new_paths ROOT PATH...: the paths that creating each PATH would create under ROOT.
# Paths reached through a symlink are skipped: on the host it could lead anywhere.
new_paths() {
  local root=$1 target path created
  shift
  for target in "$@"; do
    path=$target
    created=()
    while [[ $path != / && ! -e $root$path && ! -L $root$path ]]; do
      created+=("$path")
      path=${path%/*}
      path=${path:-/}
    done
    while [[ $path != / && ! -L $root$path ]]; do
      path=${path%/*}
      path=${path:-/}
    done
    if [[ $path == / ]] && ((${#created[@]})); then
      printf '%s\n' "${created[@]}"
    fi
  done
}
"#;

const MOUNT_HELPERS: &str = r#"
# add_mount TARGET SPEC: a cache or tmpfs mount for the next run.
add_mount() {
  mounts+=(--mount "$2")
  targets+=("$1")
}
"#;

const ADD_SECRET: &str = r#"
# add_secret ID VAR TARGET required|optional: secret ID for the next run, read from the
# file named by $VAR and mounted read-only at TARGET as a private copy (mode 0400, like
# BuildKit). It never reaches a layer, the image config or a build arg.
add_secret() {
  local file=${!2:-} copy
  if [[ -z $file ]]; then
    [[ $4 != required ]] || fail "secret \"$1\" is required: set $2 to the file that holds it"
    return 0
  fi
  [[ -f $file && -r $file ]] || fail "$2=$file: not a readable file (secret \"$1\")"
  copy=$(mktemp -p "$tmp" secret.XXXXXX)
  [[ $copy != *,* ]] || fail "$copy: buildah cannot mount a path with a comma; set TMPDIR"
  cat -- "$file" >"$copy"
  chmod 0400 "$copy"
  mounts+=(--mount "type=bind,source=$copy,target=$3,ro")
  targets+=("$3")
}
"#;

const ADD_SSH: &str = r#"
# add_ssh ID VAR N required|optional: forwards the SSH agent socket named by $VAR to the
# next run at /run/buildkit/ssh_agent.N, with SSH_AUTH_SOCK set (BuildKit's layout).
add_ssh() {
  local sock=${!2:-} target=/run/buildkit/ssh_agent.$3
  if [[ -z $sock ]]; then
    [[ $4 != required ]] || fail "ssh \"$1\" is required: set $2 to an SSH agent socket"
    return 0
  fi
  [[ -S $sock ]] || fail "$2=$sock: not a socket (ssh \"$1\")"
  [[ $sock != *,* ]] || fail "$sock: buildah cannot mount a path with a comma"
  [[ " ${mounts[*]} " == *" --env=SSH_AUTH_SOCK="* ]] || mounts+=("--env=SSH_AUTH_SOCK=$target")
  mounts+=(--mount "type=bind,source=$sock,target=$target")
  targets+=("$target")
}
"#;

const ADD_BIND: &str = r#"
# add_bind ROOT SOURCE TARGET ro|rw: ROOT/SOURCE mounted at TARGET for the next run.
# A read-write bind gets a throwaway copy, so its writes are discarded as with BuildKit.
add_bind() {
  local path=$1/$2 copy
  [[ -e $path ]] || fail "$2: no such file or directory to bind at $3"
  if [[ $4 == rw ]]; then
    copy=$(mktemp -d -p "$tmp" bind.XXXXXX)
    cp -a -- "$path" "$copy/source"
    path=$copy/source
  fi
  [[ $path != *,* ]] || fail "$path: buildah cannot mount a path with a comma"
  mounts+=(--mount "type=bind,source=$path,target=$3,$4")
  targets+=("$3")
}
"#;

const ADD_BIND_STAGE: &str = r#"
# add_bind_stage CTR SOURCE TARGET ro|rw: SOURCE from stage container CTR, as add_bind.
add_bind_stage() {
  local root
  root=$(buildah mount "$1")
  add_bind "$root" "$2" "$3" "$4"
}
"#;

const DOWNLOAD: &str = r#"
# download URL NAME SHA256: for ADD with a checksum, which buildah 1.28 cannot check.
# Fetches URL on the host as NAME, checks it and leaves its path in $downloaded.
download() {
  local dir sum
  command -v curl >/dev/null || fail "ADD with a checksum needs curl on this host"
  dir=$(mktemp -d -p "$tmp" download.XXXXXX)
  curl -fsSLR -o "$dir/$2" "$1"
  sum=$(sha256sum <"$dir/$2")
  [[ ${sum%% *} == "$3" ]] || fail "$1: expected sha256:$3, got sha256:${sum%% *}"
  downloaded=$dir/$2
}
"#;
