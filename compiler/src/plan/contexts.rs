//! Build contexts: each stage's context paths are written relative to its
//! `context` folder; a plan is built with one context, the deepest folder
//! that holds every context its stages read, and each stage's paths are
//! prefixed with where its folder is inside that one.
//!
//! So a Dockerfile of one image whose stages read `web/` is built with
//! `web` as its context (and its `.dockerignore`), and one that holds
//! images of `api/` and `web/` with the spec's folder: every builder has
//! the one context `docker build` takes, and none needs named contexts.

use crate::middle::contexts::{build_folder, folder, prefix};
use crate::middle::resolve::{Spec, StageId};
use crate::plan::ir::{CopySource, Instruction, Mount, Plan};

/// `path` of a stage whose folder is `prefix` inside the build's context.
fn prefixed(prefix: &str, path: &str, parents: bool) -> String {
    if prefix.is_empty() {
        return path.to_owned();
    }
    let path = path.trim_start_matches("./");
    match path {
        "" | "." => format!("{prefix}/"),
        // `--parents` keeps a match's path after the `/./` pivot, so the
        // stage's folder is not recreated in the image.
        _ if parents => format!("{prefix}/./{path}"),
        _ => format!("{prefix}/{path}"),
    }
}

/// Sets the plan's context to the folder its stages (`stages`, in plan
/// order) build from and rewrites their context paths against it.
pub(crate) fn apply(plan: &mut Plan, spec: &Spec, stages: &[StageId]) {
    let build = build_folder(spec, stages);
    for (stage, id) in plan.stages.iter_mut().zip(stages) {
        let prefix = prefix(&build, folder(spec, *id));
        if prefix.is_empty() {
            continue;
        }
        for instruction in &mut stage.instructions {
            match &mut instruction.value {
                Instruction::Copy(copy) if copy.source == CopySource::Context => {
                    for path in &mut copy.paths {
                        *path = prefixed(&prefix, path, copy.parents);
                    }
                }
                Instruction::Add(add) => {
                    for source in &mut add.sources {
                        if !crate::base::keywords::is_url(source) {
                            *source = prefixed(&prefix, source, false);
                        }
                    }
                }
                Instruction::Run(run) => {
                    for mount in &mut run.mounts {
                        if let Mount::Bind {
                            source,
                            from_stage: None,
                            ..
                        } = &mut mount.value
                        {
                            *source = prefixed(&prefix, source, false);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    plan.context = build;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_get_the_stage_folder() {
        assert_eq!(prefixed("", "go.mod", false), "go.mod");
        assert_eq!(prefixed("api", "go.mod", false), "api/go.mod");
        assert_eq!(prefixed("api", ".", false), "api/");
        assert_eq!(prefixed("api", "./cmd/", false), "api/cmd/");
        assert_eq!(
            prefixed("web", "packages/*/package.json", true),
            "web/./packages/*/package.json"
        );
    }
}
