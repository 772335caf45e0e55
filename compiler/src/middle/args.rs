//! Build arguments in references: each `(arg)` string names an argument
//! declared where it is used (global ones in `from`), with did-you-mean.

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::frontend::ast::*;

/// The default a global argument spells a reference with: its default, or
/// for an automatic argument or one without a default, a placeholder.
pub(crate) fn default_of(args: &[ArgDecl], name: &str) -> String {
    args.iter()
        .find(|a| a.name.value == name)
        .and_then(|a| a.default.as_ref())
        .map_or_else(|| format!("${{{name}}}"), |d| d.value.clone())
}

/// The build arguments a body item refers to, with where.
pub(crate) fn item_words(item: &Item) -> Vec<&Spanned<Word>> {
    match &item.kind {
        ItemKind::Workdir(w) | ItemKind::User(w) => vec![w],
        ItemKind::Env { value, .. } | ItemKind::Label { value, .. } => vec![value],
        ItemKind::Copy(CopyDecl { to: Some(to), .. }) => vec![to],
        ItemKind::ExposeArgs(ports) => ports.iter().collect(),
        _ => Vec::new(),
    }
}

pub(crate) fn unknown_arg(
    d: &mut Diagnostics,
    name: &str,
    at: &Spanned<Word>,
    candidates: &[&str],
    otherwise: String,
) {
    d.push(
        Diagnostic::error(
            Code::UnknownArg,
            format!("no build argument is named `{name}`"),
        )
        .primary(at.span, format!("refers to `${{{name}}}`"))
        .suggest(name, candidates.iter().copied(), otherwise),
    );
}

/// `from` sees the global arguments and the automatic ones, never a stage's.
pub(crate) fn check_from_args(
    d: &mut Diagnostics,
    ast: &Ast,
    stage: &StageDecl,
    image: &Spanned<Word>,
) {
    let mut candidates: Vec<&str> = ast.args.iter().map(|a| a.name.value.as_str()).collect();
    candidates.extend(crate::base::word::AUTOMATIC_ARGS);
    for name in image.value.args() {
        if candidates.contains(&name) {
            continue;
        }
        let in_stage = stage
            .items
            .iter()
            .any(|i| matches!(&i.kind, ItemKind::Arg { name: n, .. } if n.value == name));
        let otherwise = if in_stage {
            format!(
                "`from` is read before the stage's own `arg`s: declare `arg \"{name}\"` at the top level, before the stages"
            )
        } else {
            format!("declare it at the top level: `arg \"{name}\" \"DEFAULT\"`")
        };
        unknown_arg(d, name, image, &candidates, otherwise);
    }
    // With every argument's default, the reference must be one.
    let all_defaults = image.value.args().all(|name| {
        ast.args
            .iter()
            .any(|a| a.name.value == name && a.default.is_some())
    });
    if all_defaults {
        let text = image.value.expand(|name| default_of(&ast.args, name));
        let mut found = Diagnostics::default();
        crate::frontend::values::check_image_ref(
            &Spanned::new(text.clone(), image.span),
            &mut found,
        );
        if found.has_errors() {
            d.push(
                Diagnostic::error(
                    Code::ImageRef,
                    format!("with its arguments' defaults, `from` names `{}`, which is not an image reference", text.escape_debug()),
                )
                .primary(image.span, "not a reference with the defaults")
                .help("change the defaults of the top-level `arg`s it names, or the reference"),
            );
        }
    }
}

/// A stage's items see its own `arg`s written before them, the global
/// arguments and the automatic ones.
pub(crate) fn check_stage_args(d: &mut Diagnostics, globals: &[ArgDecl], stage: &StageDecl) {
    let mut visible: Vec<&str> = globals.iter().map(|a| a.name.value.as_str()).collect();
    visible.extend(crate::base::word::AUTOMATIC_ARGS);
    for (index, item) in stage.items.iter().enumerate() {
        if let ItemKind::Arg { name, .. } = &item.kind {
            visible.push(&name.value);
        }
        for word in item_words(item) {
            for name in word.value.args() {
                if visible.contains(&name) {
                    continue;
                }
                let later = stage.items[index..]
                    .iter()
                    .any(|i| matches!(&i.kind, ItemKind::Arg { name: n, .. } if n.value == name));
                let otherwise = if later {
                    format!(
                        "`arg \"{name}\"` is declared later in `{}`: move it before this",
                        stage.name.value
                    )
                } else {
                    format!(
                        "declare it with `arg \"{name}\"` before this, in the stage or at the top level"
                    )
                };
                unknown_arg(d, name, word, &visible, otherwise);
            }
        }
    }
}
