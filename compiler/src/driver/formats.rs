//! What an output of each format is made from, beyond its own node: the
//! images a `.dockerignore` serves, and where a bake file finds its
//! Dockerfile and context. Pure: nothing here reads the file system.

use crate::backend;
use crate::frontend::ast;
use crate::middle::resolve;

/// Whose images a `.dockerignore` output serves: its own `image=`, else,
/// for `NAME.dockerignore`, those of the Dockerfile output `NAME` (the
/// file BuildKit reads it for), else every image.
pub(super) fn dockerignore_holder<'a>(
    spec: &'a resolve::Spec,
    output: &'a ast::OutputDecl,
) -> &'a ast::OutputDecl {
    if !output.images.is_empty() {
        return output;
    }
    let dockerfile = output.path.value.strip_suffix(".dockerignore");
    spec.outputs
        .iter()
        .find(|o| {
            matches!(o.format.value, ast::OutputFormat::Dockerfile(_))
                && dockerfile == Some(o.path.value.as_str())
        })
        .unwrap_or(output)
}

/// Where a bake file finds its Dockerfile and context: the spec's folder,
/// seen from the bake file's folder (bake resolves `context` from where it
/// runs, which is the bake file's folder when `-f` is not given, and
/// `dockerfile` from the context).
pub(super) fn bake_options(
    spec: &resolve::Spec,
    bake: &ast::OutputDecl,
    dockerfile: &ast::OutputDecl,
) -> backend::bake::BakeOptions {
    let depth = bake.path.value.matches('/').count();
    let context = if depth == 0 {
        ".".to_owned()
    } else {
        vec![".."; depth].join("/")
    };
    backend::bake::BakeOptions {
        file: bake.path.value.clone(),
        dockerfile: dockerfile.path.value.clone(),
        context,
        groups: spec
            .groups
            .iter()
            .map(|g| {
                (
                    g.name.value.clone(),
                    g.images.iter().map(|i| i.value.clone()).collect(),
                )
            })
            .collect(),
    }
}
