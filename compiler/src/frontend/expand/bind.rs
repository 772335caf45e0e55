//! A use's arguments given to its template's parameters: types, locks,
//! required parameters, and the use's block against the locks.

use std::collections::BTreeMap;

use kdl::KdlValue;

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics, Span};
use crate::base::keywords::BodyNode;
use crate::frontend::expand::home::Defined;
use crate::frontend::presets;
use crate::frontend::template::{self, ParamDecl, ParamType, UseDecl, Value};

pub(super) fn unknown_template(use_: &UseDecl, defined: &[Defined]) -> Diagnostic {
    let name = &use_.template.value;
    let own: Vec<&str> = defined.iter().map(|t| t.decl.name.value.as_str()).collect();
    let presets: Vec<&str> = presets::PRESETS.iter().map(|p| p.name).collect();
    let known = if own.is_empty() {
        format!("the built-in presets are: {}", presets.join(", "))
    } else {
        format!(
            "the spec's templates are: {}; the built-in presets: {}",
            own.join(", "),
            presets.join(", ")
        )
    };
    Diagnostic::error(
        Code::UnknownTemplate,
        format!("no template is named `{name}`"),
    )
    .primary(use_.template.span, "unknown template")
    .suggest(
        name,
        own.iter().chain(&presets).copied(),
        format!(
            "define it with `template \"{name}\" {{ ... }}` or include the file that does; {known}"
        ),
    )
}

/// A parameter's value, and the `name=value` that set it (none for a default).
pub(super) type Values = BTreeMap<String, (Value, Option<Span>)>;

/// Gives every parameter its value: checks the use's arguments against the
/// template's parameters and locks, and its block against the locks.
pub(super) fn bind(template: &Defined, use_: &UseDecl, d: &mut Diagnostics) -> Option<Values> {
    let decl = &template.decl;
    let mut values = Values::new();
    let mut failed = false;
    for arg in &use_.args {
        let Some(param) = decl.param(&arg.name.value) else {
            let names = decl.params.iter().map(|p| p.name.value.as_str());
            let otherwise = if decl.params.is_empty() {
                "the template takes no parameters".to_owned()
            } else {
                format!(
                    "the parameters are: {}",
                    names.clone().collect::<Vec<_>>().join(", ")
                )
            };
            let diag = Diagnostic::error(
                Code::UnknownParameter,
                format!(
                    "template `{}` has no parameter `{}`",
                    decl.name.value, arg.name.value
                ),
            )
            .primary(arg.span, "not a parameter")
            .suggest(&arg.name.value, names, otherwise);
            d.push(template.point_at(diag, decl.name.span, "the template is defined"));
            failed = true;
            continue;
        };
        if let Some(lock) = decl.locks.iter().find(|l| l.target.value == arg.name.value) {
            d.push(locked(
                template,
                lock,
                arg.span,
                &format!("parameter `{}`", arg.name.value),
            ));
            failed = true;
            continue;
        }
        match template::convert(&arg.value, param) {
            Ok(value) => {
                values.insert(arg.name.value.clone(), (value, Some(arg.span)));
            }
            Err(wrong) => {
                let diag = Diagnostic::error(
                    Code::ParameterValue,
                    format!("parameter `{}` is {wrong}", arg.name.value),
                )
                .primary(arg.span, format!("expects {}", describe(param)));
                // Only a one-of's choices are near misses of a string.
                let choices = param.choices.iter().map(String::as_str);
                let diag = match &arg.value {
                    KdlValue::String(s) if param.ty == ParamType::OneOf => {
                        diag.suggest(s, choices, template::expected(param))
                    }
                    _ => diag.help(template::expected(param)),
                };
                let what = format!("`{}` is declared", param.name.value);
                d.push(template.point_at(diag, param.span, &what));
                failed = true;
            }
        }
    }
    for param in &decl.params {
        if values.contains_key(&param.name.value)
            || use_.args.iter().any(|a| a.name.value == param.name.value)
        {
            continue;
        }
        match &param.default {
            Some(default) => {
                values.insert(param.name.value.clone(), (default.value.clone(), None));
            }
            None => {
                let mut diag = Diagnostic::error(
                    Code::MissingParameter,
                    format!(
                        "template `{}` needs parameter `{}`",
                        decl.name.value, param.name.value
                    ),
                )
                .primary(
                    use_.template.span,
                    format!("`{}=` is missing", param.name.value),
                );
                diag = diag.help(match &param.doc {
                    Some(doc) => format!("add {}=...: {doc}", param.name.value),
                    None => format!("add {}=...", param.name.value),
                });
                let what = format!("`{}` is declared", param.name.value);
                d.push(template.point_at(diag, param.span, &what));
                failed = true;
            }
        }
    }
    if let Some(block) = &use_.block {
        for node in block.nodes() {
            let keyword = node.name().value();
            // A template always decides its image's base and artifacts.
            if BodyNode::parse(keyword).is_some_and(|n| !n.lockable()) {
                let diag = Diagnostic::error(
                    Code::Locked,
                    format!("`{keyword}` is locked by template `{}`", decl.name.value),
                )
                .primary(node.name().span(), "a use cannot set it")
                .help("a template decides its image's base and artifacts; use its parameters, or write the image without a template");
                d.push(template.point_at(diag, decl.name.span, "the template is defined"));
                failed = true;
                continue;
            }
            let first_arg = node
                .entries()
                .iter()
                .find(|e| e.name().is_none())
                .and_then(|e| e.value().as_string());
            let lock = decl.locks.iter().find(|l| {
                l.target.value == keyword
                    && l.key
                        .as_ref()
                        .is_none_or(|k| Some(k.value.as_str()) == first_arg)
            });
            if let Some(lock) = lock {
                let what = match &lock.key {
                    Some(key) => format!("`{keyword} \"{}\"`", key.value),
                    None => format!("`{keyword}`"),
                };
                d.push(locked(template, lock, node.span(), &what));
                failed = true;
            }
        }
    }
    values.insert(
        "image".to_owned(),
        (Value::String(use_.name.value.clone()), Some(use_.name.span)),
    );
    (!failed).then_some(values)
}

fn describe(param: &ParamDecl) -> String {
    match param.ty {
        ParamType::OneOf => format!("one of: {}", param.choices.join(", ")),
        ParamType::Integer => "an integer".to_owned(),
        ty => format!("a {}", ty.name()),
    }
}

fn locked(template: &Defined, lock: &template::LockDecl, at: Span, what: &str) -> Diagnostic {
    let decl = &template.decl;
    let mut diag = Diagnostic::error(
        Code::Locked,
        format!("{what} is locked by template `{}`", decl.name.value),
    )
    .primary(at, "sets a locked field");
    diag = diag.help(match &lock.reason {
        Some(reason) => format!("the template decides it: {}", reason.value),
        None => "the template decides it; ask its owners to change it".to_owned(),
    });
    template.point_at(diag, lock.span, "locked")
}
