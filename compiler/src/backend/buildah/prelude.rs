//! The script's prelude: its settings, its variables and the bash helpers
//! the stages call, each written only when a stage uses it. The fixed bash
//! text is in `prelude/*.sh`, included as it is.

use std::fmt::Write as _;

use crate::backend::buildah::Emitter;
use crate::backend::quote::bash::bash_word;

impl Emitter<'_> {
    /// Everything between the header and the first stage function.
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
        let _ = writeln!(out, "pull=${{STOWPLAN_PULL:-{}}}", self.options.pull.name());
        out.push_str(CHECK_PULL);
        if u.from_context {
            out.push_str(CONTEXT);
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
        if self.has_build_args || u.words {
            out.push_str("build_args=()\n");
        }
        let global_args = u.global_args || u.words;
        if global_args {
            out.push_str("declare -A global_args=()\n");
        }
        if u.run {
            out.push_str("mounts=()\n");
            out.push_str("targets=()\n");
        }
        if u.download {
            out.push_str("downloaded=\n");
        }
        out.push_str("tmp=$(mktemp -d)\n");
        helper(
            out,
            if u.intermediates {
                CLEANUP_WITH_IMAGES
            } else {
                CLEANUP
            },
        );
        helper(out, FAIL);
        if u.workdir {
            helper(out, SET_WORKDIR);
        }
        if u.env || u.args || u.words {
            helper(out, ENV_OF);
        }
        if u.env {
            helper(out, SET_ENV);
        }
        if u.args {
            helper(out, SET_ARG);
        }
        if self.has_build_args {
            helper(out, DROP_BUILD_ARG);
        }
        if u.clear_cmd {
            helper(out, CLEAR_CMD);
        }
        if u.run {
            helper(out, RUN_IN);
        }
        if u.mounts {
            helper(out, ADD_MOUNT);
        }
        if u.secrets {
            helper(out, ADD_SECRET);
        }
        if u.ssh {
            helper(out, ADD_SSH);
        }
        if u.binds {
            helper(out, IN_ROOT);
            helper(out, ADD_BIND);
        }
        if u.stage_binds {
            helper(out, ADD_BIND_STAGE);
        }
        if u.download {
            helper(out, DOWNLOAD);
        }
        if global_args {
            helper(out, GLOBAL_ARGS);
            if u.words {
                helper(out, WORD);
            }
            out.push('\n');
            match self.target_platform() {
                Some(platform) => {
                    let _ = writeln!(out, "automatic_args {}", bash_word(platform));
                }
                None => out.push_str("automatic_args ''\n"),
            }
            for arg in &self.plan.args {
                let mut line = format!("global_arg {}", bash_word(&arg.name));
                if let Some(default) = &arg.default {
                    let _ = write!(line, " {}", bash_word(default));
                }
                let _ = writeln!(out, "{line}");
            }
        }
    }
}

/// A helper function (or the cleanup and its traps), after a blank line.
fn helper(out: &mut String, text: &str) {
    out.push('\n');
    out.push_str(text);
}

/// Rootless: `buildah mount` (to tidy up mount points after each run) needs
/// buildah's user namespace, so the script re-runs itself in it.
const REEXEC: &str = include_str!("prelude/reexec.sh");
/// Stops on a `STOWPLAN_PULL` that is not a pull policy.
const CHECK_PULL: &str = include_str!("prelude/check_pull.sh");
/// Stops on a context path buildah would read as a pattern; `--contextdir`
/// and the context's `.dockerignore` as flags for COPY and ADD.
const CONTEXT: &str = include_str!("prelude/context.sh");
/// Removes the working containers and temporary files on any exit...
const CLEANUP: &str = include_str!("prelude/cleanup.sh");
/// ... and the intermediate images too, when there are any.
const CLEANUP_WITH_IMAGES: &str = include_str!("prelude/cleanup_with_images.sh");
const FAIL: &str = include_str!("prelude/fail.sh");
const SET_WORKDIR: &str = include_str!("prelude/set_workdir.sh");
const ENV_OF: &str = include_str!("prelude/env_of.sh");
/// ENV; see `DOLLAR_VARIABLE` in `instructions.rs`.
const SET_ENV: &str = include_str!("prelude/set_env.sh");
const SET_ARG: &str = include_str!("prelude/set_arg.sh");
/// Top-level ARGs, the automatic ones, and a stage's ARG of one of them.
const GLOBAL_ARGS: &str = include_str!("prelude/global_args.sh");
/// A value naming build arguments, and an image reference qualified at run time.
const WORD: &str = include_str!("prelude/word.sh");
const DROP_BUILD_ARG: &str = include_str!("prelude/drop_build_arg.sh");
const CLEAR_CMD: &str = include_str!("prelude/clear_cmd.sh");
/// `run_in` and the `new_paths` it uses.
const RUN_IN: &str = include_str!("prelude/run_in.sh");
const ADD_MOUNT: &str = include_str!("prelude/add_mount.sh");
const ADD_SECRET: &str = include_str!("prelude/add_secret.sh");
const ADD_SSH: &str = include_str!("prelude/add_ssh.sh");
/// Resolves a bind's source inside its root, as BuildKit does.
const IN_ROOT: &str = include_str!("prelude/in_root.sh");
const ADD_BIND: &str = include_str!("prelude/add_bind.sh");
const ADD_BIND_STAGE: &str = include_str!("prelude/add_bind_stage.sh");
const DOWNLOAD: &str = include_str!("prelude/download.sh");
