//! What the resolver checks of outputs and bake groups: a bake file's
//! Dockerfile, groups that name images.

use std::collections::BTreeMap;

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::frontend::ast::*;
use crate::middle::names::{StageId, check_unique};

/// The Dockerfile outputs of a spec.
pub(crate) fn dockerfile_outputs(
    outputs: &[OutputDecl],
) -> impl Iterator<Item = &OutputDecl> + Clone {
    outputs
        .iter()
        .filter(|o| matches!(o.format.value, OutputFormat::Dockerfile(_)))
}

/// The Dockerfile output a bake output names, or the only one; `Err` says
/// why there is none to take.
pub(crate) fn bake_dockerfile<'a>(
    outputs: &'a [OutputDecl],
    bake: &OutputDecl,
) -> Result<&'a OutputDecl, BakeSource> {
    let mut dockerfiles = dockerfile_outputs(outputs);
    match &bake.dockerfile {
        Some(name) => match outputs.iter().find(|o| o.path.value == name.value) {
            Some(o) if matches!(o.format.value, OutputFormat::Dockerfile(_)) => Ok(o),
            Some(_) => Err(BakeSource::NotADockerfile),
            None => Err(BakeSource::Unknown),
        },
        None => match (dockerfiles.next(), dockerfiles.next()) {
            (Some(only), None) => Ok(only),
            (None, _) => Err(BakeSource::None),
            (Some(_), Some(_)) => Err(BakeSource::Ambiguous),
        },
    }
}

#[derive(Debug)]
pub(crate) enum BakeSource {
    /// `dockerfile=` names no output.
    Unknown,
    /// `dockerfile=` names an output that is not a Dockerfile.
    NotADockerfile,
    /// No `dockerfile=`, and no Dockerfile output.
    None,
    /// No `dockerfile=`, and several Dockerfile outputs.
    Ambiguous,
}

/// Every bake output has exactly one Dockerfile output to build from.
pub(crate) fn check_bake_outputs(outputs: &[OutputDecl], d: &mut Diagnostics) {
    let dockerfiles: Vec<&str> = dockerfile_outputs(outputs)
        .map(|o| o.path.value.as_str())
        .collect();
    let listed = dockerfiles
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    for bake in outputs
        .iter()
        .filter(|o| o.format.value == OutputFormat::Bake)
    {
        let Err(why) = bake_dockerfile(outputs, bake) else {
            continue;
        };
        let diag = match (why, &bake.dockerfile) {
            (BakeSource::Unknown, Some(name)) => Diagnostic::error(
                Code::BakeDockerfile,
                format!("the spec declares no output `{}`", name.value),
            )
            .primary(name.span, "not a declared output")
            .suggest(
                &name.value,
                dockerfiles.iter().copied(),
                if dockerfiles.is_empty() {
                    "declare the Dockerfile with `output \"Dockerfile\"`".to_owned()
                } else {
                    format!("the Dockerfile outputs are: {listed}")
                },
            ),
            (BakeSource::NotADockerfile, Some(name)) => Diagnostic::error(
                Code::BakeDockerfile,
                format!("`{}` is not a Dockerfile", name.value),
            )
            .primary(name.span, "not a Dockerfile output")
            .help("bake builds Dockerfiles: name an output with `format=\"dockerfile\"` (the default)"),
            (BakeSource::Ambiguous, _) => Diagnostic::error(
                Code::BakeDockerfile,
                format!(
                    "`{}` could build from several Dockerfiles",
                    bake.path.value
                ),
            )
            .primary(bake.format.span, "which Dockerfile?")
            .help(format!(
                "name one with `dockerfile=`: the Dockerfile outputs are {listed}"
            )),
            _ => Diagnostic::error(
                Code::BakeDockerfile,
                format!("`{}` has no Dockerfile to build from", bake.path.value),
            )
            .primary(bake.format.span, "a bake file needs a Dockerfile")
            .help("declare one beside it: `output \"Dockerfile\"`"),
        };
        d.push(diag);
    }
}

/// Group names are unique, and neither `default` (bake's group of every
/// target, which the bake file always declares) nor an image's name
/// (bake looks groups and targets up by the same names).
pub(crate) fn check_groups(
    groups: &[GroupDecl],
    ids: &BTreeMap<String, StageId>,
    d: &mut Diagnostics,
) {
    check_unique(d, groups.iter().map(|g| &g.name), "group", "the spec");
    for group in groups {
        let name = &group.name;
        if name.value == "default" {
            d.push(
                Diagnostic::error(Code::DuplicateName, "`default` is the group of every image")
                    .primary(name.span, "declared by every bake file")
                    .help("bake files always declare `default` with every image; name this group otherwise"),
            );
        } else if ids.contains_key(&name.value) {
            d.push(
                Diagnostic::error(
                    Code::DuplicateName,
                    format!("a group and a stage are both named `{}`", name.value),
                )
                .primary(name.span, "a group")
                .help("bake builds a group or a target by name; rename the group"),
            );
        }
        check_unique(
            d,
            group.images.iter(),
            "image",
            &format!("group `{}`", name.value),
        );
    }
}
