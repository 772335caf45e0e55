//! The one place that sequences the phases: decode, expand, resolve,
//! validate, lower, optimize, map images, emit. Every command of the CLI
//! goes through these functions.

use crate::backend::{self, builders};
use crate::base::diagnostic::{Code, Diagnostic};
use crate::base::source::{SourceFile, SourceResult, Warned, finish};
use crate::cache::Change;
use crate::frontend::{ast, decode, expand, presets};
use crate::middle::{flow, resolve, scratch};
use crate::plan::ir::Plan;
use crate::plan::lock::{self, Lock};
use crate::plan::lower::Selection;
use crate::plan::{image_map, lower, optimize};
use crate::report::graph;

/// What a compilation may look at besides the spec text.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Only these images and what they need; every image when empty.
    pub images: Vec<String>,
    /// The build context directory, when it is at hand: inputs that match
    /// nothing in it are reported.
    pub context: Option<std::path::PathBuf>,
    /// Image references to replace in the output (mirrors, local images).
    pub image_map: image_map::ImageMap,
    /// How the layer-order optimizer orders each stage (spec/cache.md).
    pub order: optimize::OrderOptions,
    /// The policy the spec is checked against (spec/policy.md), if any.
    pub policy: Option<std::sync::Arc<crate::policy::Policy>>,
    /// The spec's base-image lock (`stowplan.lock` beside it), if it has
    /// one: locked references are pinned to their digests (spec/lock.md).
    pub lock: Option<std::sync::Arc<Lock>>,
    /// `check --locked`: a missing lock, or one that does not match the
    /// spec, is an error rather than a warning.
    pub locked: bool,
    /// Plan each stage folder other than the build's as a named context
    /// (set per output, from its `contexts="named"`).
    pub named_contexts: bool,
}

impl Options {
    /// The image map with the lock's digests: how the plan and the policy
    /// see the spec's image references.
    fn effective_map(&self) -> std::borrow::Cow<'_, image_map::ImageMap> {
        match &self.lock {
            Some(lock) => std::borrow::Cow::Owned(self.image_map.pinned(lock)),
            None => std::borrow::Cow::Borrowed(&self.image_map),
        }
    }
}

/// Decodes, resolves and validates a spec: everything `stowplan check` does.
pub fn check(source: &SourceFile, options: &Options) -> SourceResult<resolve::Spec> {
    check_expanded(source, options).0
}

/// [`check`], and what template expansion made.
fn check_expanded(
    source: &SourceFile,
    options: &Options,
) -> (SourceResult<resolve::Spec>, expand::Expansions) {
    let (ast, mut d) = decode::decode(source.text());
    if d.has_errors() {
        return (finish(source, None, d), Default::default());
    }
    // Includes are read from the spec's folder, which is the build context.
    let expand_options = expand::ExpandOptions {
        dir: options.context.as_deref(),
    };
    let (ast, expansions, expand_diags) = expand::expand(ast, &expand_options);
    d.extend(expand_diags);
    if d.has_errors() {
        let d = expansions.annotate(d);
        return (finish(source, None, d), expansions);
    }
    let (spec, resolve_diags) = resolve::resolve(ast);
    d.extend(resolve_diags);
    if let Some(spec) = &spec {
        let flow_options = flow::FlowOptions {
            context: options.context.as_deref(),
        };
        d.extend(flow::validate(spec, &flow_options));
        d.extend(scratch::validate(spec));
        // The policy's own non-root rule says it, when the policy has it on.
        let deferred = options.policy.as_ref().is_some_and(|p| {
            p.rule_ids()
                .any(|r| r == crate::middle::users::NON_ROOT_RULE)
        });
        d.extend(crate::middle::users::validate(spec, deferred));
        match &options.lock {
            Some(lock) => d.extend(lock.check(spec, options.locked)),
            None if options.locked => d.extend(lock::missing(spec)),
            None => {}
        }
        if let Some(policy) = &options.policy {
            let image_map = options.effective_map();
            let context = crate::policy::check::Context {
                expansions: &expansions,
                image_map: &image_map,
            };
            d.extend(crate::policy::check::check(spec, policy, &context));
        }
    }
    if let Some(spec) = &spec
        && spec.images().next().is_none()
    {
        d.push(
            Diagnostic::error(Code::MissingNode, "the spec declares no image")
                .primary(miette::SourceSpan::from(0..0), "nothing to build")
                .help("add `image \"name\" { from \"...\" }`: builder stages alone never become images"),
        );
    }
    let d = expansions.annotate(d);
    (finish(source, spec, d), expansions)
}

/// Picks images by name for `--image`.
pub fn select(spec: &resolve::Spec, names: &[String]) -> Result<Selection, Vec<Diagnostic>> {
    if names.is_empty() {
        return Ok(Selection::All);
    }
    let mut ids = Vec::new();
    let mut errors = Vec::new();
    for name in names {
        match spec.find(name) {
            Some(id) if spec.stage(id).kind == ast::StageKind::Image => ids.push(id),
            _ => {
                let images: Vec<&str> = spec
                    .images()
                    .map(|id| spec.stage(id).name.value.as_str())
                    .collect();
                let diag = Diagnostic::error(
                    Code::UnknownImage,
                    format!("the spec has no image `{name}`"),
                )
                .suggest(
                    name,
                    images.iter().copied(),
                    format!("the images are: {}", images.join(", ")),
                );
                errors.push(diag);
            }
        }
    }
    if errors.is_empty() {
        Ok(Selection::Images(ids))
    } else {
        Err(errors)
    }
}

/// The spec's file name without its directories, for generated headers.
fn header_name(source: &SourceFile) -> String {
    std::path::Path::new(source.name()).file_name().map_or_else(
        || source.name().to_owned(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Plans the selected images of a checked spec in the written order
/// (the tests' view of lowering alone).
#[cfg(test)]
pub fn plan(source: &SourceFile, spec: &resolve::Spec, selection: &Selection) -> Plan {
    lower::lower(spec, selection, &header_name(source))
}

/// A plan and what the layer-order optimizer did to it.
#[derive(Debug)]
pub struct Planned {
    pub plan: Plan,
    pub order: optimize::OrderReport,
}

/// Plans the selected images with the options' layer order and image map.
pub fn plan_with(
    source: &SourceFile,
    spec: &resolve::Spec,
    selection: &Selection,
    options: &Options,
) -> Planned {
    let (mut plan, order) = lower::lower_with(
        spec,
        selection,
        &header_name(source),
        &options.order,
        options.named_contexts,
    );
    options.effective_map().apply(&mut plan);
    Planned { plan, order }
}

/// The options a target is planned with: for a builder that commits a
/// layer per instruction, the optimizer places metadata for that builder.
fn options_for<'a>(options: &'a Options, target: &Target) -> std::borrow::Cow<'a, Options> {
    let layered = matches!(target, Target::Dockerfile(b) if b.layer_per_instruction());
    if layered && options.order.enabled && !options.order.layer_per_instruction {
        let mut options = options.clone();
        options.order.layer_per_instruction = true;
        return std::borrow::Cow::Owned(options);
    }
    std::borrow::Cow::Borrowed(options)
}

/// The options an output is planned with: its `contexts="named"`.
pub(crate) fn options_of<'a>(
    options: &'a Options,
    output: &ast::OutputDecl,
) -> std::borrow::Cow<'a, Options> {
    if output.named_contexts.is_some() {
        let mut options = options.clone();
        options.named_contexts = true;
        return std::borrow::Cow::Owned(options);
    }
    std::borrow::Cow::Borrowed(options)
}

fn mapped_plan(
    source: &SourceFile,
    spec: &resolve::Spec,
    selection: &Selection,
    options: &Options,
    target: &Target,
) -> Plan {
    plan_with(source, spec, selection, &options_for(options, target)).plan
}

/// What to emit.
#[derive(Clone, Debug)]
pub enum Target {
    /// A Dockerfile for this builder.
    Dockerfile(crate::base::keywords::Builder),
    Buildah(backend::buildah::BuildahOptions),
}

impl Default for Target {
    fn default() -> Self {
        Target::Dockerfile(crate::base::keywords::Builder::default())
    }
}

/// Emits a plan for a target; `file` is the output it goes to, relative to
/// the build context, when there is one.
fn emit_for(plan: &Plan, target: &Target, file: Option<&str>) -> Result<String, Vec<Diagnostic>> {
    // Both backends accept and refuse the same specs.
    let refused = backend::portable::check(plan);
    if !refused.is_empty() {
        return Err(refused);
    }
    match target {
        Target::Dockerfile(builder) => {
            let unsupported = builders::check(plan, *builder);
            if !unsupported.is_empty() {
                return Err(unsupported);
            }
            backend::dockerfile::emit_named(plan, file)
        }
        Target::Buildah(options) => backend::buildah::emit(plan, options),
    }
}

/// Compiles a spec for the selected images and a target backend.
pub fn compile(source: &SourceFile, options: &Options, target: &Target) -> SourceResult<String> {
    compile_with_report(source, options, target).map(|done| Warned {
        output: done.output.text,
        warnings: done.warnings,
    })
}

/// What `stowplan compile` makes, and what it may say beside it.
#[derive(Debug)]
pub struct Compiled {
    pub text: String,
    /// What the layer-order optimizer moved, and why (`--explain-order`).
    pub order: String,
    /// Every stage in build order, and whether the output holds it (`-v`).
    pub stages: Vec<(String, bool)>,
}

/// Compiles once: the text, the optimizer's report and the stage
/// selection all come from the same run of the pipeline.
pub fn compile_with_report(
    source: &SourceFile,
    options: &Options,
    target: &Target,
) -> SourceResult<Compiled> {
    let checked = check(source, options)?;
    let spec = &checked.output;
    let selection = select(spec, &options.images)?;
    let kept = lower::needed_stages(spec, &selection);
    let stages = spec
        .order
        .iter()
        .map(|id| (spec.stage(*id).name.value.clone(), kept.contains(id)))
        .collect();
    let planned = plan_with(source, spec, &selection, &options_for(options, target));
    match emit_for(&planned.plan, target, None) {
        Ok(text) => Ok(Warned {
            output: Compiled {
                text,
                order: planned.order.render(),
                stages,
            },
            warnings: checked.warnings,
        }),
        Err(errors) => Err(errors
            .into_iter()
            .chain(checked.warnings)
            .map(|d| d.with_source(&source.named))
            .collect()),
    }
}

/// Explains a change against the Dockerfile a spec compiles to.
pub fn explain_spec(
    source: &SourceFile,
    options: &Options,
    change: &Change,
    explain: &ExplainOptions,
) -> SourceResult<String> {
    let checked = check(source, options)?;
    let selection = select(&checked.output, &options.images)?;
    // buildah's rules explain the Dockerfile `compile --builder
    // buildah-1.28` emits, whose metadata the optimizer places for a
    // layer per instruction: the lines and the order must be that file's.
    let target = match explain.builder {
        crate::base::keywords::CacheBuilder::Buildah => {
            Target::Dockerfile(crate::base::keywords::Builder::Buildah128Docker)
        }
        _ => Target::default(),
    };
    let planned = plan_with(
        source,
        &checked.output,
        &selection,
        &options_for(options, &target),
    );
    let costs = optimize::cost_overrides(&checked.output);
    let mut graph = crate::report::explain::from_plan(&planned.plan, &costs)?;
    ignore::apply_explain(explain, &checked.output, &planned.plan, &mut graph);
    let outcome = crate::cache::evaluate(&graph, change);
    Ok(Warned {
        output: crate::report::explain::render(&graph, &outcome, change),
        warnings: checked.warnings,
    })
}

/// One file a spec declares with `output`, rendered.
#[derive(Debug)]
pub struct RenderedOutput {
    /// Relative to the spec's directory.
    pub path: String,
    pub text: String,
    /// The `output` node's path, for diagnostics about where it lands.
    pub(crate) span: miette::SourceSpan,
}

/// Renders every declared output. Any error fails the whole set, so that
/// `write` never leaves some outputs updated and others stale.
pub fn render_outputs(source: &SourceFile, options: &Options) -> SourceResult<Vec<RenderedOutput>> {
    outputs(source, options, true)
}

/// What `stowplan check` checks: every declared output, planned and
/// emitted for its own format and builder exactly as `write` would (so
/// `check` passes only what `write` writes), or, when the spec declares
/// none, the Dockerfile for current BuildKit. Nothing is written.
pub fn validate(source: &SourceFile, options: &Options) -> SourceResult<Vec<RenderedOutput>> {
    outputs(source, options, false)
}

fn outputs(
    source: &SourceFile,
    options: &Options,
    outputs_required: bool,
) -> SourceResult<Vec<RenderedOutput>> {
    let checked = check(source, options)?;
    let spec = &checked.output;
    let mut outputs = Vec::new();
    let mut errors = Vec::new();
    for output in &spec.outputs {
        if output.format.value == ast::OutputFormat::Bake {
            let dockerfile = spec.presume_bake_dockerfile(output);
            let target = output_target(dockerfile);
            let plan = mapped_plan(
                source,
                spec,
                &output_selection(spec, dockerfile),
                &options_of(options, dockerfile),
                &target,
            );
            outputs.push(RenderedOutput {
                path: output.path.value.clone(),
                text: backend::bake::emit(&plan, &bake_options(spec, output, dockerfile)),
                span: output.path.span,
            });
            continue;
        }
        if output.format.value == ast::OutputFormat::Dockerignore {
            let holder = dockerignore_holder(spec, output);
            let target = Target::default();
            let plan = mapped_plan(
                source,
                spec,
                &output_selection(spec, holder),
                &options_of(options, holder),
                &target,
            );
            if let Some(misplaced) = misplaced_dockerignore(output, &plan.context) {
                errors.push(misplaced);
                continue;
            }
            match backend::dockerignore::emit(&plan, &output.path.value) {
                Ok(text) => outputs.push(RenderedOutput {
                    path: output.path.value.clone(),
                    text,
                    span: output.path.span,
                }),
                Err(e) => errors.extend(e),
            }
            continue;
        }
        let selection = output_selection(spec, output);
        let target = output_target(output);
        let plan = mapped_plan(
            source,
            spec,
            &selection,
            &options_of(options, output),
            &target,
        );
        match emit_for(&plan, &target, Some(&output.path.value)) {
            Ok(text) => outputs.push(RenderedOutput {
                path: output.path.value.clone(),
                text,
                span: output.path.span,
            }),
            Err(e) => errors.extend(e),
        }
    }
    if spec.outputs.is_empty() {
        if outputs_required {
            errors.push(
                Diagnostic::error(Code::MissingNode, "the spec declares no outputs")
                    .primary(miette::SourceSpan::from(0..0), "nothing to write")
                    .help("add `output \"Dockerfile\"` to the spec"),
            );
        } else {
            let selection = select(spec, &options.images)?;
            let target = Target::default();
            let plan = mapped_plan(source, spec, &selection, options, &target);
            if let Err(e) = emit_for(&plan, &target, None) {
                errors.extend(e);
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors
            .into_iter()
            .chain(checked.warnings)
            .map(|d| d.with_source(&source.named))
            .collect());
    }
    Ok(Warned {
        output: outputs,
        warnings: checked.warnings,
    })
}

/// The images an output holds.
fn output_selection(spec: &resolve::Spec, output: &ast::OutputDecl) -> Selection {
    if output.images.is_empty() {
        Selection::All
    } else {
        Selection::Images(
            output
                .images
                .iter()
                .map(|i| spec.presume_stage(&i.value))
                .collect(),
        )
    }
}

/// What an output is emitted for. A bake file is made from its
/// Dockerfile's plan (`outputs`), so it is planned as current BuildKit
/// would read it, should anyone ask.
fn output_target(output: &ast::OutputDecl) -> Target {
    match output.format.value {
        ast::OutputFormat::Dockerfile(builder) => Target::Dockerfile(builder),
        ast::OutputFormat::Buildah => Target::Buildah(Default::default()),
        ast::OutputFormat::Bake | ast::OutputFormat::Dockerignore => Target::default(),
    }
}

/// The flow graph of a checked spec (`stowplan graph`).
pub fn graph(source: &SourceFile, options: &Options, format: GraphFormat) -> SourceResult<String> {
    let checked = check(source, options)?;
    let text = match format {
        GraphFormat::Dot => graph::to_dot(&checked.output),
        GraphFormat::Mermaid => graph::to_mermaid(&checked.output),
        GraphFormat::Json => graph::to_json(&checked.output),
    };
    Ok(Warned {
        output: text,
        warnings: checked.warnings,
    })
}

/// Which references `stowplan lock` asks the registries about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LockUpdate {
    /// Those the lock does not have yet (every one, without a lock).
    Missing,
    /// Every reference (`--update`).
    All,
    /// This reference, as the spec writes it, and those missing (`--update IMAGE`).
    One(String),
}

/// How many references `stowplan lock` asks about at once.
const RESOLVE_AT_ONCE: usize = 8;

/// What `stowplan lock` made: the new lock and what it asked for.
#[derive(Debug)]
pub struct Locked {
    pub lock: Lock,
    /// The references resolved in this run, with their digests.
    pub resolved: Vec<(String, String)>,
    /// Entries of the previous lock the spec no longer uses, dropped.
    pub dropped: Vec<String>,
}

/// `stowplan lock`: every external image reference of the spec (after
/// expansion) resolved to its manifest digest by its registry, or, where
/// `previous` has it and `update` does not ask again, kept. All or
/// nothing: any reference that fails is a diagnostic at its first use and
/// no lock comes back.
pub fn lock(
    source: &SourceFile,
    options: &Options,
    previous: Option<&Lock>,
    update: &LockUpdate,
) -> SourceResult<Locked> {
    // The spec as it is, not as the old lock pins it.
    let unlocked = Options {
        lock: None,
        locked: false,
        ..options.clone()
    };
    let checked = check(source, &unlocked)?;
    let references = lock::references(&checked.output);
    if let LockUpdate::One(wanted) = update
        && !references.contains_key(wanted)
    {
        let diagnostic = Diagnostic::error(
            Code::UnknownImage,
            format!("the spec uses no image reference `{wanted}`"),
        )
        .suggest(
            wanted,
            references.keys().map(String::as_str),
            format!(
                "`--update` takes a reference as the spec writes it: {}",
                references.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        );
        return Err(vec![diagnostic.with_source(&source.named)]);
    }
    let mut wanted = Vec::new();
    let mut new = Lock::default();
    for reference in references.keys() {
        let kept = previous.and_then(|p| p.digest(reference));
        let ask = match update {
            LockUpdate::All => true,
            LockUpdate::One(one) => one == reference || kept.is_none(),
            LockUpdate::Missing => kept.is_none(),
        };
        match kept {
            Some(digest) if !ask => new.insert(reference.clone(), digest),
            _ => wanted.push(reference.clone()),
        }
    }
    let mut d = crate::base::diagnostic::Diagnostics::default();
    let mut resolved = Vec::new();
    if !wanted.is_empty() {
        match crate::registry::Registry::new() {
            Ok(registry) => {
                // A few at a time: each is a round trip or three.
                let answers: Vec<_> = wanted
                    .chunks(RESOLVE_AT_ONCE)
                    .flat_map(|chunk| {
                        std::thread::scope(|scope| {
                            let asked: Vec<_> = chunk
                                .iter()
                                .map(|r| scope.spawn(|| registry.resolve(r)))
                                .collect();
                            asked
                                .into_iter()
                                .map(|handle| handle.join().expect("a registry request panicked"))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                for (reference, answer) in wanted.iter().zip(answers) {
                    match answer {
                        Ok(digest) => {
                            new.insert(reference.clone(), digest.clone());
                            resolved.push((reference.clone(), digest));
                        }
                        Err(failure) => {
                            let code = if failure.not_found {
                                Code::LockNotFound
                            } else {
                                Code::LockRegistry
                            };
                            let spans = &references[reference];
                            let mut diagnostic = Diagnostic::error(code, failure.message)
                                .primary(spans[0], "cannot be locked")
                                .help(failure.help);
                            for span in &spans[1..] {
                                diagnostic = diagnostic.secondary(*span, "also used here");
                            }
                            d.push(diagnostic);
                        }
                    }
                }
            }
            Err(message) => d.push(
                Diagnostic::error(
                    Code::LockRegistry,
                    format!("registry credentials: {message}"),
                )
                .primary(references[&wanted[0]][0], "cannot be locked")
                .help("fix or move the credentials file (spec/lock.md says where stowplan looks)"),
            ),
        }
    }
    let dropped = previous
        .map(|p| {
            p.entries()
                .filter(|(r, _)| !references.contains_key(*r))
                .map(|(r, _)| r.to_owned())
                .collect()
        })
        .unwrap_or_default();
    // Placed and sorted like any phase's; the lock's warnings come after.
    match finish(source, Some(()), d) {
        Ok(_) => Ok(Warned {
            output: Locked {
                lock: new,
                resolved,
                dropped,
            },
            warnings: checked.warnings,
        }),
        Err(errors) => Err(errors.into_iter().chain(checked.warnings).collect()),
    }
}

/// How `stowplan graph` draws the flow graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFormat {
    Dot,
    Mermaid,
    Json,
}

/// Explains a change against a hand-written Dockerfile and its `.dockerignore`.
pub use crate::report::explain::{ExplainOptions, explain_dockerfile};

/// `stowplan presets`: every built-in preset with its parameters.
pub fn presets_listing() -> String {
    presets::describe_all()
}

/// `stowplan presets show NAME`: a preset's template as written.
pub fn preset_text(name: &str) -> Result<&'static str, String> {
    match presets::find(name) {
        Some(preset) => Ok(preset.text),
        None => {
            let names: Vec<&str> = presets::PRESETS.iter().map(|p| p.name).collect();
            Err(format!(
                "there is no preset `{name}`; the presets are: {}",
                names.join(", ")
            ))
        }
    }
}

/// `stowplan init`: the starter spec for a folder, from its lockfile or manifest.
pub use crate::frontend::starter::{Starter, starter};

mod affected;
mod formats;
mod ignore;
mod outputs;
pub use affected::{AffectedImage, affected};
use formats::{bake_options, dockerignore_holder, misplaced_dockerignore};
pub use outputs::{PlacedOutput, place_outputs, refuse_hand_written};

#[cfg(test)]
mod tests;
