//! Build contexts: each stage's context paths are written relative to its
//! `context` folder; a plan is built with one context, the deepest folder
//! that holds every context its stages read, and each stage's paths are
//! prefixed with where its folder is inside that one.
//!
//! So a Dockerfile of one image whose stages read `web/` is built with
//! `web` as its context (and its `.dockerignore`), and one that holds
//! images of `api/` and `web/` with the spec's folder: every builder has
//! the one context `docker build` takes, and none needs named contexts.

use std::collections::BTreeMap;

use crate::plan::ir::{CopySource, Instruction, Mount, Plan};

/// The folder `a` and `b` share (`.` for the spec's folder).
fn common(a: &str, b: &str) -> String {
    if a == "." || b == "." {
        return ".".to_owned();
    }
    let shared: Vec<&str> = a
        .split('/')
        .zip(b.split('/'))
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect();
    if shared.is_empty() {
        ".".to_owned()
    } else {
        shared.join("/")
    }
}

/// Whether an instruction reads the build context.
fn reads_context(instruction: &Instruction) -> bool {
    match instruction {
        Instruction::Copy(copy) => copy.source == CopySource::Context,
        Instruction::Add(add) => add
            .sources
            .iter()
            .any(|s| !crate::base::keywords::is_url(s)),
        Instruction::Run(run) => run.mounts.iter().any(|m| {
            matches!(
                m.value,
                Mount::Bind {
                    from_stage: None,
                    ..
                }
            )
        }),
        _ => false,
    }
}

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

/// Sets the plan's context from its stages' (by name; `.` when absent)
/// and rewrites their context paths against it.
pub(crate) fn apply(plan: &mut Plan, contexts: &BTreeMap<String, String>) {
    let of = |name: &str| contexts.get(name).map_or(".", String::as_str);
    let mut build: Option<String> = None;
    for stage in &plan.stages {
        if stage.instructions.iter().any(|i| reads_context(&i.value)) {
            let own = of(&stage.name);
            build = Some(match build {
                Some(folder) => common(&folder, own),
                None => own.to_owned(),
            });
        }
    }
    // No stage reads the context: an image's own folder still says where
    // it builds from (the header's command).
    let build = build.unwrap_or_else(|| {
        plan.stages
            .iter()
            .map(|s| of(&s.name).to_owned())
            .reduce(|a, b| common(&a, &b))
            .unwrap_or_else(|| ".".to_owned())
    });
    for stage in &mut plan.stages {
        let own = of(&stage.name);
        let prefix = match build.as_str() {
            "." if own != "." => own.to_owned(),
            "." => String::new(),
            _ => own
                .strip_prefix(build.as_str())
                .map(|rest| rest.trim_start_matches('/').to_owned())
                .unwrap_or_default(),
        };
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
    fn folders_share_their_common_part() {
        assert_eq!(common("web", "api"), ".");
        assert_eq!(common("apps/web", "apps/api"), "apps");
        assert_eq!(common("apps/web", "apps/web"), "apps/web");
        assert_eq!(common("apps/web", "apps/webby"), "apps");
        assert_eq!(common(".", "web"), ".");
    }

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
