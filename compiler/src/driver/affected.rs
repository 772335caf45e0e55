//! `stowplan affected`: the images a change touches, from the cache
//! model and the files it does not see (the spec, templates, outputs,
//! `.dockerignore` files).

use crate::base::source::{SourceFile, SourceResult, Warned};
use crate::cache::Change;
use crate::driver::{
    ExplainOptions, Options, check_expanded, header_name, output_selection, plan_with,
};
use crate::frontend::ast;
use crate::plan::lower::Selection;

/// The images whose build a change touches (`stowplan affected`), in
/// build order: those of which the cache model rebuilds some instruction
/// (through the inputs they copy, the stages they build on or copy from),
/// every image when the spec itself or any `.dockerignore`
/// changed, the images made from templates in a changed included file (and
/// those that build on or copy from what such a template made), and the
/// images a changed declared output holds. `changed` is relative to the
/// spec's folder.
pub fn affected(
    source: &SourceFile,
    options: &Options,
    changed: &[String],
    explain: &ExplainOptions,
) -> SourceResult<Vec<AffectedImage>> {
    let (checked, expansions) = check_expanded(source, options);
    let checked = checked?;
    let spec = &checked.output;
    let planned = plan_with(source, spec, &Selection::All, options);
    let mut graph =
        crate::report::explain::from_plan(&planned.plan, &Default::default()).map_err(|e| {
            e.into_iter()
                .chain(checked.warnings.iter().cloned())
                .map(|d| d.with_source(&source.named))
                .collect::<Vec<_>>()
        })?;
    crate::driver::ignore::apply_explain(explain, spec, &planned.plan, &mut graph);
    let changed: Vec<String> = changed
        .iter()
        .map(|p| crate::cache::normalize_context_path(p))
        .collect();
    let outcome = crate::cache::evaluate(
        &graph,
        &Change {
            paths: changed.clone(),
            ..Change::default()
        },
    );
    // What the cache model does not see: files that say how to build.
    let spec_name = header_name(source);
    let holds = |path: &str, file: &str| {
        path.is_empty()
            || path == file
            || file.strip_prefix(path).is_some_and(|r| r.starts_with('/'))
    };
    // Any `.dockerignore` (of a context folder, or `NAME.dockerignore`).
    let ignore_file = |p: &str| {
        p.rsplit('/')
            .next()
            .is_some_and(|n| n.ends_with(".dockerignore"))
    };
    let everything = changed
        .iter()
        .any(|p| holds(p, &spec_name) || holds(p, ".dockerignore") || ignore_file(p));
    let mut touched: std::collections::BTreeSet<&str> = changed
        .iter()
        .flat_map(|p| expansions.made_from(p))
        .collect();
    for output in &spec.outputs {
        if changed.iter().any(|p| holds(p, &output.path.value)) {
            let holder = match output.format.value {
                ast::OutputFormat::Bake => spec.presume_bake_dockerfile(output),
                _ => output,
            };
            let ids = match output_selection(spec, holder) {
                Selection::All => spec.images().collect(),
                Selection::Images(ids) => ids,
            };
            touched.extend(ids.into_iter().map(|id| spec.stage(id).name.value.as_str()));
        }
    }
    // Each Dockerfile output is planned once, however many images it holds.
    let mut plans: std::collections::BTreeMap<&str, crate::plan::ir::Plan> = Default::default();
    let images = graph
        .targets()
        .into_iter()
        .filter(|target| {
            everything
                || graph.needed(&[*target]).into_iter().any(|s| {
                    outcome.stages[s].rebuilt() || touched.contains(graph.stages[s].name.as_str())
                })
        })
        .map(|target| {
            let name = &graph.stages[target].name;
            let id = spec.presume_stage(name);
            let holds_image = |output: &ast::OutputDecl| match output_selection(spec, output) {
                Selection::All => true,
                Selection::Images(ids) => ids.contains(&id),
            };
            let dockerfile = |output: &&ast::OutputDecl| {
                matches!(output.format.value, ast::OutputFormat::Dockerfile(_))
                    && holds_image(output)
            };
            let found = spec.outputs.iter().find(dockerfile);
            // Where that Dockerfile builds from, and the named contexts the
            // image reads there: what `docker build` needs besides `-f`.
            let (context, contexts) = match found {
                Some(output) => {
                    let plan = plans.entry(output.path.value.as_str()).or_insert_with(|| {
                        let selection = output_selection(spec, output);
                        let options = crate::driver::options_of(options, output);
                        plan_with(source, spec, &selection, &options).plan
                    });
                    let contexts = plan
                        .stages
                        .iter()
                        .find(|s| &s.name == name)
                        .map(|image| {
                            plan.named_contexts_of(image)
                                .into_iter()
                                .map(|c| (c.name.clone(), c.folder.clone()))
                                .collect()
                        })
                        .unwrap_or_default();
                    (plan.context.clone(), contexts)
                }
                None => (".".to_owned(), Vec::new()),
            };
            AffectedImage {
                name: name.clone(),
                dockerfile: found.map(|o| o.path.value.clone()),
                context,
                contexts,
                bake: spec
                    .outputs
                    .iter()
                    .find(|o| {
                        o.format.value == ast::OutputFormat::Bake
                            && holds_image(spec.presume_bake_dockerfile(o))
                    })
                    .map(|o| o.path.value.clone()),
            }
        })
        .collect();
    Ok(Warned {
        output: images,
        warnings: checked.warnings,
    })
}

/// An image a change touches, and the declared outputs that build it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AffectedImage {
    pub name: String,
    /// The first Dockerfile output that holds it, relative to the spec's folder.
    pub dockerfile: Option<String>,
    /// The folder that Dockerfile builds from, relative to the spec's
    /// folder (`.` for it, and without a Dockerfile output).
    pub context: String,
    /// The named contexts its build passes (`--build-context NAME=FOLDER`,
    /// each folder relative to the spec's), in name order.
    pub contexts: Vec<(String, String)>,
    /// The first bake file whose targets include it.
    pub bake: Option<String>,
}
