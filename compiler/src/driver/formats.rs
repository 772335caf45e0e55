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

/// A `.dockerignore` output outside the folder its images build from:
/// the builder reads the one in its context folder, so the written file
/// would leave nothing out of their build (a `NAME.dockerignore` is read
/// beside its Dockerfile, wherever that is).
pub(super) fn misplaced_dockerignore(
    output: &ast::OutputDecl,
    context: &str,
) -> Option<crate::base::diagnostic::Diagnostic> {
    let path = output.path.value.trim_start_matches("./");
    let folder = match path.rsplit_once('/') {
        Some((folder, ".dockerignore")) => folder,
        None if path == ".dockerignore" => ".",
        _ => return None,
    };
    if folder == context {
        return None;
    }
    let wanted = crate::middle::ignored::dockerignore_path(context);
    Some(
        crate::base::diagnostic::Diagnostic::error(
            crate::base::diagnostic::Code::OutputPath,
            format!("`{path}` serves images built from `{context}`, not from `{folder}`"),
        )
        .primary(output.path.span, "no build reads this file")
        .help(format!(
            "write it where the builder reads it, `output \"{wanted}\"`; or name the images of that folder with `image=`, or write `NAME.dockerignore` beside their Dockerfile output `NAME`"
        )),
    )
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
