//! Where a build's context is. Each stage's context paths are written
//! relative to its own `context` folder; a build has one context, the
//! deepest folder holding the folders of all its stages that read one
//! (spec/language.md, "context"). The planner writes each stage's paths
//! from there, and the checks that look at the context (`flow::ignored`)
//! read the `.dockerignore` the builder reads: the one in that folder.

use crate::frontend::ast::*;
use crate::middle::resolve::{Spec, StageId};
use crate::middle::select::{Selection, needed_stages};

/// The folder `a` and `b` share (`.` for the spec's folder).
pub(crate) fn common(a: &str, b: &str) -> String {
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

/// Where a stage in folder `own` sits inside a build's context folder
/// `build`: the prefix its context paths get (empty for none).
pub(crate) fn prefix(build: &str, own: &str) -> String {
    match build {
        "." if own != "." => own.to_owned(),
        "." => String::new(),
        _ => own
            .strip_prefix(build)
            .map(|rest| rest.trim_start_matches('/').to_owned())
            .unwrap_or_default(),
    }
}

/// `path` of a stage whose folder is `prefix` inside the build's context.
pub(crate) fn prefixed(prefix: &str, path: &str, parents: bool) -> String {
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

/// A stage's context folder (`.` for the spec's).
pub(crate) fn folder(spec: &Spec, id: StageId) -> &str {
    spec.stages[id.0]
        .context
        .as_ref()
        .map_or(".", |c| c.value.as_str())
}

/// What a context path is read for, in a diagnostic's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Read {
    Copied,
    Added,
    Input,
    Bound,
}

impl Read {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Read::Copied => "copied",
            Read::Added => "added",
            Read::Input => "a step's input",
            Read::Bound => "bound from the context",
        }
    }
}

/// Every context path a stage reads (relative to its folder): context
/// copies, `add`'s local sources, step inputs and binds from the context.
pub(crate) fn reads(spec: &Spec, id: StageId) -> Vec<(&Spanned<String>, Read)> {
    let mut out = Vec::new();
    for (n, item) in spec.stages[id.0].items.iter().enumerate() {
        match &item.kind {
            ItemKind::Copy(CopyDecl {
                source: CopySourceDecl::Context(paths),
                ..
            }) => out.extend(paths.iter().map(|p| (p, Read::Copied))),
            ItemKind::Add(add) => out.extend(
                add.sources
                    .iter()
                    .filter(|s| !crate::frontend::values::is_url(&s.value))
                    .map(|p| (p, Read::Added)),
            ),
            ItemKind::Step(step) => {
                out.extend(step.inputs.iter().map(|i| (&i.path, Read::Input)));
                let refs = spec.item_refs(id, n);
                for (m, mount) in step.mounts.iter().enumerate() {
                    if let (
                        MountKind::Bind {
                            source: BindSource::Context(source),
                            ..
                        },
                        None,
                    ) = (&mount.kind, refs.mount_stage(m))
                    {
                        out.push((source, Read::Bound));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The context folder of a build of `stages`: the deepest folder holding
/// those that read the context; when none does, the one holding them all
/// (an image's own folder still says where it builds from).
pub(crate) fn build_folder(spec: &Spec, stages: &[StageId]) -> String {
    let reading = stages
        .iter()
        .filter(|id| !reads(spec, **id).is_empty())
        .map(|id| folder(spec, *id).to_owned())
        .reduce(|a, b| common(&a, &b));
    reading.unwrap_or_else(|| {
        stages
            .iter()
            .map(|id| folder(spec, *id).to_owned())
            .reduce(|a, b| common(&a, &b))
            .unwrap_or_else(|| ".".to_owned())
    })
}

/// The builds the spec declares: each output that a builder builds (a
/// Dockerfile or a Buildah script; a bake file builds its Dockerfile's),
/// with its context folder and the stages that read it. A spec without
/// one is built whole (`stowplan compile`). With `contexts="named"`, a
/// stage in another folder reads that folder as a named context, whose
/// `.dockerignore` buildah 1.28 does not apply: it is left out.
pub(crate) fn builds(spec: &Spec) -> Vec<(String, Vec<StageId>)> {
    let mut out: Vec<(String, Vec<StageId>)> = Vec::new();
    let mut selections: Vec<(Selection, bool)> = spec
        .outputs
        .iter()
        .filter(|o| {
            matches!(
                o.format.value,
                OutputFormat::Dockerfile(_) | OutputFormat::Buildah
            )
        })
        .map(|o| {
            let selection = if o.images.is_empty() {
                Selection::All
            } else {
                Selection::Images(
                    o.images
                        .iter()
                        .map(|i| spec.presume_stage(&i.value))
                        .collect(),
                )
            };
            (selection, o.named_contexts.is_some())
        })
        .collect();
    if selections.is_empty() {
        selections.push((Selection::All, false));
    }
    for (selection, named) in selections {
        let mut stages = needed_stages(spec, &selection);
        let build = build_folder(spec, &stages);
        if named {
            stages.retain(|id| prefix(&build, folder(spec, *id)).is_empty());
        }
        let build = (build, stages);
        if !out.contains(&build) {
            out.push(build);
        }
    }
    out
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
    fn a_stage_sits_below_its_build() {
        assert_eq!(prefix(".", "."), "");
        assert_eq!(prefix(".", "web"), "web");
        assert_eq!(prefix("apps", "apps/web"), "web");
        assert_eq!(prefix("apps/web", "apps/web"), "");
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
