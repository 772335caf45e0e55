//! A step's declared inputs as the copies that bring them in, shared by
//! lowering and by the optimizer's view of what a step reads.

use crate::frontend::ast::InputDecl;
use crate::plan::ir as plan;

/// Declared inputs → copies that keep each path where it is relative to
/// the working directory. A path ending in `/` is a directory and gets a
/// copy of its own (a directory among several sources would be flattened);
/// files and globs that share a parent directory share one copy.
pub fn input_copies(inputs: &[InputDecl]) -> Vec<plan::Copy> {
    let mut copies: Vec<plan::Copy> = Vec::new();
    for input in inputs {
        let trimmed = input.path.value.trim_start_matches("./");
        let path = if trimmed.is_empty() { "." } else { trimmed };
        let dest = match &input.to {
            Some(to) => to.value.clone(),
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
                c.dest == dest
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
            dest,
            chown: None,
            chmod: None,
            link: false,
        });
    }
    copies
}
