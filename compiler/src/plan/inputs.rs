//! A step's declared inputs as the copies that bring them in, shared by
//! lowering and by the optimizer's view of what a step reads.

use crate::frontend::ast::{InputDecl, Spanned};
use crate::frontend::values::has_directory_glob;
use crate::plan::ir as plan;
use crate::plan::sources::{directory_destination, directory_name};

/// Whether two inputs were written on one `input` node with `to=` (they
/// share the span of its `to=`; each node's paths are decoded in a row).
fn same_node(a: &InputDecl, b: &InputDecl) -> bool {
    matches!((&a.to, &b.to), (Some(x), Some(y)) if x.span == y.span)
}

/// Declared inputs → copies that keep each path where it is relative to
/// the working directory, or goes to `to=` (a directory among several paths
/// of one `input ... to=` into `to/NAME/`). A path ending in `/` is a
/// directory and gets a copy of its own (a directory among several sources
/// would be flattened); files and globs that share a destination share one
/// copy.
/// A context `copy` without `to=`: each path keeps its place relative to
/// the working directory, grouped as inputs are; `(paths, destination)`
/// per copy.
pub fn in_place_copies(paths: &[Spanned<String>]) -> Vec<(Vec<String>, String)> {
    in_place(paths, &[])
        .into_iter()
        .map(|copy| (copy.paths, copy.dest.sketch()))
        .collect()
}

/// A context `copy` without `to=` as the copies [`input_copies`] makes,
/// each with the copy's `exclude=` patterns.
pub fn in_place(paths: &[Spanned<String>], exclude: &[String]) -> Vec<plan::Copy> {
    let inputs: Vec<InputDecl> = paths
        .iter()
        .map(|path| InputDecl {
            path: path.clone(),
            to: None,
            exclude: exclude.to_vec(),
        })
        .collect();
    input_copies(&inputs)
}

pub fn input_copies(inputs: &[InputDecl]) -> Vec<plan::Copy> {
    let mut copies: Vec<plan::Copy> = Vec::new();
    // An `input` node's paths are consecutive.
    let mut several = vec![false; inputs.len()];
    for (i, pair) in inputs.windows(2).enumerate() {
        if same_node(&pair[0], &pair[1]) {
            several[i] = true;
            several[i + 1] = true;
        }
    }
    for (index, input) in inputs.iter().enumerate() {
        let trimmed = input.path.value.trim_start_matches("./");
        let path = if trimmed.is_empty() { "." } else { trimmed };
        // Each match of a glob in a directory keeps its path from the
        // context's root, under the working directory: `COPY --parents`.
        let parents = input.to.is_none() && has_directory_glob(path);
        let dest = match &input.to {
            None if parents => "./".to_owned(),
            // Among several paths of one `input ... to=`, a directory keeps its name.
            Some(to) => match directory_name(path) {
                Some(name) if several[index] => directory_destination(&to.value, name),
                _ => to.value.clone(),
            },
            None if path == "." => "./".to_owned(),
            None if path.ends_with('/') => format!("./{path}"),
            None => match path.rsplit_once('/') {
                Some((parent, _)) => format!("./{parent}/"),
                None => "./".to_owned(),
            },
        };
        let groupable = !path.ends_with('/') && path != ".";
        // Only the copy just before may take it: grouping never reorders inputs.
        if groupable
            && let Some(existing) = copies.last_mut().filter(|c| {
                c.dest.as_literal() == Some(dest.as_str())
                    && c.parents == parents
                    && c.exclude == input.exclude
                    && c.paths
                        .last()
                        .is_some_and(|p| !p.ends_with('/') && p != ".")
            })
        {
            existing.paths.push(path.to_owned());
            continue;
        }
        copies.push(plan::Copy {
            source: plan::CopySource::Context,
            paths: vec![path.to_owned()],
            dest: plan::Word::text(dest),
            chown: None,
            chmod: None,
            link: false,
            parents,
            exclude: input.exclude.clone(),
        });
    }
    copies
}
