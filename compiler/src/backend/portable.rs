//! What both backends refuse, checked once before either writes anything:
//! a spec is accepted by both or by neither, with the same diagnostic.
//!
//! A line break ends a Dockerfile instruction, so no Dockerfile word can
//! carry one (`quote::dockerfile::word`). The Buildah script could, but
//! then one spec would build with one backend and not the other.

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::plan::ir::{Instruction, Plan};

/// One error per instruction holding a line break where the Dockerfile
/// lexes a word, in the order a reader meets them in the spec.
pub(crate) fn check(plan: &Plan) -> Vec<Diagnostic> {
    let mut errors = Diagnostics::default();
    for arg in &plan.args {
        if arg
            .default
            .as_ref()
            .is_some_and(|v| v.contains(['\n', '\r']))
        {
            errors.push(
                Diagnostic::error(
                    Code::Unrepresentable,
                    "this ARG default cannot hold a line break",
                )
                .primary(arg.origin, "a line break ends a Dockerfile instruction")
                .help("remove the line break: neither backend writes one here, so that both build the same image"),
            );
        }
    }
    for instruction in plan.stages.iter().flat_map(|s| &s.instructions) {
        let refused = words(&instruction.value)
            .into_iter()
            .find(|(_, value)| value.contains(['\n', '\r']));
        if let Some((what, _)) = refused {
            errors.push(
                Diagnostic::error(
                    Code::Unrepresentable,
                    format!("{what} cannot hold a line break"),
                )
                .primary(
                    instruction.origin,
                    "a line break ends a Dockerfile instruction",
                )
                .help(
                    "remove the line break: neither backend writes one here, \
                     so that both build the same image",
                ),
            );
        }
    }
    errors.into_sorted()
}

/// The values the Dockerfile writes as lexer words, with what each is.
fn words(instruction: &Instruction) -> Vec<(&'static str, String)> {
    match instruction {
        Instruction::Workdir(path) => vec![("the working directory", path.sketch())],
        Instruction::Env { value, .. } => vec![("this ENV value", value.sketch())],
        Instruction::Arg {
            default: Some(default),
            ..
        } => vec![("this ARG default", default.clone())],
        Instruction::Label { key, value } => {
            vec![
                ("this label key", key.clone()),
                ("this label value", value.sketch()),
            ]
        }
        Instruction::User(user) => vec![("the user", user.sketch())],
        Instruction::Volume(paths) => paths.iter().map(|p| ("a volume path", p.clone())).collect(),
        Instruction::Copy(copy) => copy
            .paths
            .iter()
            .cloned()
            .chain([copy.dest.sketch()])
            .map(|p| ("a copied path", p))
            .collect(),
        Instruction::Add(add) => add
            .sources
            .iter()
            .chain([&add.dest])
            .map(|p| ("an added path", p.clone()))
            .collect(),
        _ => Vec::new(),
    }
}
