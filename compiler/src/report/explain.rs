//! `stowplan explain`: the cache model's verdict, instruction by instruction.
//!
//! For every image: the stages it needs, each instruction cached or
//! rebuilt, and the input that made it rebuild. Lines are those of the
//! Dockerfile (`stowplan compile` prints the one for a spec).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::base::diagnostic::Diagnostic;
use crate::cache::{self, CacheGraph, Change, Outcome, Status, Why};
use crate::plan::ir::Plan;

/// The plan as the cache sees it: its Dockerfile, read back, with the
/// plan's image kinds as targets and the spec's costs where it set one.
/// Going through the emitted text keeps one reader for every Dockerfile.
pub fn from_plan(plan: &Plan, costs: &cache::CostOverrides) -> Result<CacheGraph, Vec<Diagnostic>> {
    let text = crate::backend::dockerfile::emit(plan)?;
    let mut graph = crate::cache::dockerfile::read(&text)
        .expect("stowplan's own Dockerfiles always parse (the suite proves it)");
    for (stage, planned) in graph.stages.iter_mut().zip(&plan.stages) {
        stage.target = planned.kind == crate::base::keywords::StageKind::Image;
        // A step's cost is shared by the RUNs it lowers to.
        let mut runs_per_origin: BTreeMap<usize, usize> = BTreeMap::new();
        for located in &planned.instructions {
            if matches!(located.value, crate::plan::ir::Instruction::Run(_)) {
                *runs_per_origin.entry(located.origin.offset()).or_default() += 1;
            }
        }
        for (instruction, located) in stage.instructions.iter_mut().zip(&planned.instructions) {
            // Changes are named from the spec's folder; the Dockerfile's
            // paths are relative to the plan's context folder under it.
            if plan.context != "." {
                for path in &mut instruction.context {
                    *path = format!("{}/{path}", plan.context);
                }
            }
            let origin = located.origin.offset();
            if instruction.kind == cache::Kind::Run
                && let Some(cost) = costs.get(&origin)
            {
                instruction.cost = cost / runs_per_origin[&origin] as f64;
            }
        }
    }
    Ok(graph)
}

/// How a change is evaluated: whose cache rules, and the build context's
/// `.dockerignore` (changes it excludes reach no COPY).
#[derive(Clone, Debug, Default)]
pub struct ExplainOptions {
    pub builder: crate::base::keywords::CacheBuilder,
    /// The `.dockerignore` of a Dockerfile's context (`explain --dockerfile`).
    pub dockerignore: Option<String>,
    /// A spec's folder: the `.dockerignore` is the one the builder reads
    /// for the explained images, in the folder they build from (or a
    /// declared `NAME.dockerignore` beside their Dockerfile output).
    pub dir: Option<std::path::PathBuf>,
}

impl ExplainOptions {
    /// Sets the graph up to be evaluated under these options.
    pub fn apply(&self, graph: &mut CacheGraph) {
        self.apply_in(graph, self.dockerignore.as_deref(), ".");
    }

    /// The same with `ignore`, the `.dockerignore` of the context folder
    /// `context` (named from the spec's folder).
    pub(crate) fn apply_in(&self, graph: &mut CacheGraph, ignore: Option<&str>, context: &str) {
        graph.builder = self.builder;
        if let Some(ignore) = ignore {
            graph.ignore = cache::Ignore::parse(ignore).within(context);
        }
    }
}

/// Explains a change against a hand-written Dockerfile.
pub fn explain_dockerfile(
    text: &str,
    options: &ExplainOptions,
    change: &Change,
) -> Result<String, crate::cache::dockerfile::ReadError> {
    let mut graph = crate::cache::dockerfile::read(text)?;
    options.apply(&mut graph);
    let outcome = cache::evaluate(&graph, change);
    Ok(render(&graph, &outcome, change))
}

/// Display width of an instruction's text.
const TEXT_WIDTH: usize = 56;

pub fn render(graph: &CacheGraph, outcome: &Outcome, change: &Change) -> String {
    let mut out = String::new();
    let mut what: Vec<String> = Vec::new();
    if !change.paths.is_empty() {
        what.push(format!("changed {}", change.paths.join(", ")));
    }
    if !change.args.is_empty() {
        what.push(format!("build args {}", change.args.join(", ")));
    }
    if !change.images.is_empty() {
        what.push(format!("base images {}", change.images.join(", ")));
    }
    if what.is_empty() {
        what.push("nothing changed".to_owned());
    }
    let _ = writeln!(out, "{}", what.join("; "));
    let label_width = graph
        .stages
        .iter()
        .enumerate()
        .flat_map(|(s, stage)| (0..=stage.instructions.len()).map(move |k| label(graph, s, k)))
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0);
    for target in graph.targets() {
        let needed = graph.needed(&[target]);
        let count: usize = needed
            .iter()
            .map(|s| graph.stages[*s].instructions.len())
            .sum();
        let rebuilt: usize = needed
            .iter()
            .map(|s| {
                outcome.stages[*s].statuses[1..]
                    .iter()
                    .filter(|st| st.rebuilt())
                    .count()
            })
            .sum();
        let _ = writeln!(
            out,
            "\nimage {}: {rebuilt} of {count} instructions rebuild, cost {} of {}",
            graph.stages[target].name,
            cache::format_cost(graph.rebuilt_cost(outcome, &needed)),
            cache::format_cost(graph.full_cost(&needed)),
        );
        for s in needed {
            let stage = &graph.stages[s];
            let keyword = if stage.target { "image" } else { "stage" };
            let _ = writeln!(out, "  {keyword} {}", stage.name);
            for (k, status) in outcome.stages[s].statuses.iter().enumerate() {
                let text = if k == 0 {
                    &stage.from_text
                } else {
                    &stage.instructions[k - 1].text
                };
                let line = format!(
                    "    {:<label_width$}  {:<7}  {}",
                    label(graph, s, k),
                    if status.rebuilt() {
                        "rebuilt"
                    } else {
                        "cached"
                    },
                    shorten(text),
                );
                match status {
                    Status::Cached => {
                        let _ = writeln!(out, "{}", line.trim_end());
                    }
                    Status::Rebuilt(why) => {
                        let _ = writeln!(
                            out,
                            "{:<width$}  {}",
                            line,
                            reason(graph, s, why),
                            width = 4 + label_width + 2 + 7 + 2 + TEXT_WIDTH
                        );
                    }
                }
            }
        }
    }
    out
}

/// `L12` for a Dockerfile line, `#3` for a position without one.
fn label(graph: &CacheGraph, stage: usize, k: usize) -> String {
    let stage = &graph.stages[stage];
    let line = if k == 0 {
        stage.from_line
    } else {
        stage.instructions[k - 1].line
    };
    match line {
        Some(line) => format!("L{line}"),
        None => format!("#{k}"),
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= TEXT_WIDTH {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(TEXT_WIDTH - 1).collect();
    short.push('…');
    short
}

fn reason(graph: &CacheGraph, stage: usize, why: &Why) -> String {
    match why {
        Why::Context { path, source } => format!("{path} changed (reads {source})"),
        Why::Arg {
            name,
            expanded: true,
        } => format!("build arg {name} changed (expanded here)"),
        Why::Arg {
            name,
            expanded: false,
        } => format!("build arg {name} changed (a RUN sees every arg in scope)"),
        Why::BaseImage(image) => format!("base image {image} changed"),
        Why::Image(image) => format!("{image} changed"),
        Why::Stage(name) => format!("stage {name} rebuilt"),
        Why::After(k) => format!("follows {}", label(graph, stage, *k)),
    }
}
