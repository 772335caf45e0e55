//! The `.dockerignore` a builder reads for a spec's build, for `explain`
//! and `affected`: BuildKit reads `NAME.dockerignore` beside the
//! Dockerfile `NAME` first, then the one in the context folder. The spec
//! declares both kinds of files, so the choice follows its outputs.

use std::path::Path;

use crate::driver::ExplainOptions;
use crate::frontend::ast;
use crate::middle::contexts::build_folder;
use crate::middle::resolve::Spec;
use crate::middle::select::needed_stages;
use crate::plan::ir::Plan;

/// The text of the `.dockerignore` of a build from `context` (a folder
/// under the spec's folder `dir`), if there is one inside `dir`.
pub(super) fn context_ignore(spec: &Spec, dir: &Path, context: &str) -> Option<String> {
    // A declared `NAME.dockerignore` whose Dockerfile `NAME` builds from
    // the same folder.
    let own = spec.outputs.iter().filter_map(|o| {
        let name = o.path.value.strip_suffix(".dockerignore")?;
        let dockerfile = spec.outputs.iter().find(|d| {
            matches!(d.format.value, ast::OutputFormat::Dockerfile(_)) && d.path.value == name
        })?;
        let stages = needed_stages(spec, &crate::driver::output_selection(spec, dockerfile));
        (build_folder(spec, &stages) == context).then(|| o.path.value.clone())
    });
    // Never through a symlink out of the spec's folder.
    let root = dir.canonicalize().ok()?;
    own.chain([crate::middle::ignored::dockerignore_path(context)])
        .find_map(|path| crate::middle::flow::read_inside(&root, &path))
}

/// Sets a spec's cache graph up under `explain`: with the spec's folder,
/// the `.dockerignore` is the one its build reads.
pub(super) fn apply_explain(
    explain: &ExplainOptions,
    spec: &Spec,
    plan: &Plan,
    graph: &mut crate::cache::CacheGraph,
) {
    match &explain.dir {
        Some(dir) => {
            let text = context_ignore(spec, dir, &plan.context);
            explain.apply_in(graph, text.as_deref(), &plan.context);
        }
        None => explain.apply(graph),
    }
}
