//! `Ast` with templates → `Ast` of plain stages: includes read, every
//! template use turned into the stages and the image its template makes.
//!
//! Expansion works on the template's KDL tree. A parameter reference is
//! replaced inside one string value (quoted as one shell word when the
//! string is a script), never in KDL text, and the expanded nodes go
//! through the same decoder as hand-written ones. So a parameter value is
//! checked like any literal value and cannot add a node, an entry or an
//! instruction.
//!
//! Spans: a template written in the spec keeps its own spans, so a problem
//! in it points at the template. A template from another file (an include,
//! a built-in preset) cannot be shown in the spec, so its nodes point at the
//! use's `template=`, and a value that came from a parameter points at the
//! `name=value` that set it. [`Expansions::annotate`] later adds the other
//! end to diagnostics about expanded stages: the use, or where the template
//! is defined.
//!
//! The files: `home.rs` (where a template is written), `include.rs`
//! (reading includes), `bind.rs` (a use's arguments given to the
//! parameters), `instantiate.rs` (the body's references substituted, its
//! stages made) and `annotate.rs` (the template's side of later diagnostics).

mod annotate;
mod bind;
mod home;
mod include;
mod instantiate;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::frontend::ast::{Ast, StageDecl};
use crate::frontend::presets;
use crate::frontend::template;

pub use annotate::Expansions;
use bind::{bind, unknown_template};
use home::{Defined, Home, push_in};
use include::Loader;
use instantiate::{Budget, instantiate};

/// What expansion may read besides the spec.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExpandOptions<'a> {
    /// The spec's directory, which `include` paths are relative to. Without
    /// it, an `include` is an error.
    pub dir: Option<&'a Path>,
}

/// Reads includes and expands every template use in place.
pub fn expand(mut ast: Ast, options: &ExpandOptions<'_>) -> (Ast, Expansions, Diagnostics) {
    let mut d = Diagnostics::default();
    let mut defined: Vec<Defined> = std::mem::take(&mut ast.templates)
        .into_iter()
        .map(|decl| Defined {
            decl,
            home: Home::Spec,
            files: Vec::new(),
        })
        .collect();
    let mut loader = Loader::new(options.dir);
    let includes = std::mem::take(&mut ast.includes);
    loader.load(&includes, None, Path::new(""), &mut defined, &mut d);

    // One namespace: the spec's templates, the included ones, the presets.
    let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
    for (i, t) in defined.iter().enumerate() {
        let name = &t.decl.name;
        if let Some(first) = by_name.get(&name.value) {
            let first = &defined[*first];
            let diag = Diagnostic::error(
                Code::DuplicateName,
                format!("two templates are named `{}`", name.value),
            )
            .primary(name.span, "declared again here")
            .help("rename one of them");
            push_in(
                &mut d,
                &t.home,
                first.point_at(diag, first.decl.name.span, "first declared"),
            );
            continue;
        }
        if presets::find(&name.value).is_some() {
            let diag = Diagnostic::error(
                Code::DuplicateName,
                format!("`{}` is the name of a built-in preset", name.value),
            )
            .primary(name.span, "a built-in preset has this name")
            .help(format!(
                "rename the template, such as `my-{}`; `stowplan presets` lists the presets",
                name.value
            ));
            push_in(&mut d, &t.home, diag);
            continue;
        }
        by_name.insert(name.value.clone(), i);
    }
    // A template with a mistake in its body is reported once, where it is
    // written; its uses are not expanded, so the mistake does not echo.
    let mut broken: BTreeSet<String> = BTreeSet::new();
    for t in &defined {
        let mut found = Diagnostics::default();
        template::check_body(&t.decl, &mut found);
        if found.has_errors() {
            broken.insert(t.decl.name.value.clone());
        }
        for diag in found {
            push_in(&mut d, &t.home, diag);
        }
    }

    let mut made: Vec<(usize, Vec<StageDecl>)> = Vec::new();
    let mut expansions = Expansions::default();
    let mut loaded_presets: BTreeMap<String, Defined> = BTreeMap::new();
    let mut budget = Budget::default();
    for use_ in std::mem::take(&mut ast.uses) {
        let name = use_.template.value.as_str();
        let template = match by_name.get(name) {
            Some(i) => &defined[*i],
            None => match presets::find(name) {
                Some(preset) => match loaded_presets.entry(name.to_owned()) {
                    std::collections::btree_map::Entry::Occupied(e) => &*e.into_mut(),
                    std::collections::btree_map::Entry::Vacant(e) => match presets::load(preset) {
                        Ok((decl, source)) => &*e.insert(Defined {
                            decl,
                            home: Home::File(source),
                            files: Vec::new(),
                        }),
                        Err(errors) => {
                            d.extend(errors);
                            continue;
                        }
                    },
                },
                // The template may be in the file that could not be read.
                None if loader.failed => continue,
                None => {
                    d.push(unknown_template(&use_, &defined));
                    continue;
                }
            },
        };
        expansions.record(&use_, template);
        if broken.contains(&template.decl.name.value) {
            continue;
        }
        let Some(values) = bind(template, &use_, &mut d) else {
            continue;
        };
        if let Some(stages) = instantiate(template, &use_, &values, &mut budget, &mut d) {
            expansions.made(&stages);
            made.push((use_.position, stages));
        } else if budget.crossed {
            // Crossed: the uses after it are not expanded either.
            break;
        }
    }

    // Each use's stages go where the use is written, so that build order
    // keeps following declaration order.
    let mut stages = Vec::with_capacity(ast.stages.len());
    let mut made = made.into_iter().peekable();
    for (i, stage) in std::mem::take(&mut ast.stages).into_iter().enumerate() {
        while let Some((_, expanded)) = made.next_if(|(p, _)| *p <= i) {
            stages.extend(expanded);
        }
        stages.push(stage);
    }
    stages.extend(made.flat_map(|(_, expanded)| expanded));
    ast.stages = stages;
    (ast, expansions, d)
}
