//! Parameter references in a template body, `when` conditions, and the
//! checks a template gets once, where it is defined.

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics, Span};
use crate::base::keywords::{BodyNode, TemplateNode};
use crate::frontend::ast::Spanned;
use crate::frontend::entries::{self, NodeArgs};
use crate::frontend::template::decode::{convert, expected};
use crate::frontend::template::types::*;
use kdl::{KdlEntry, KdlNode, KdlValue};
use std::collections::BTreeMap;

/// One piece of a string in a template body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    Text(&'a str),
    /// `{{name}}`, with its byte range in the string.
    Ref(&'a str, std::ops::Range<usize>),
}

/// Splits a string at its `{{name}}` references. A `{{` that is not
/// followed by a name and `}}` is text (Go templates, `${{ }}`...).
pub(crate) fn pieces(s: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut text_start = 0;
    let mut at = 0;
    while let Some(found) = s[at..].find("{{") {
        let open = at + found;
        let inner_start = open + 2;
        let Some(close) = s[inner_start..].find("}}").map(|c| inner_start + c) else {
            break;
        };
        let name = s[inner_start..close].trim();
        let is_name = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !is_name {
            at = open + 1;
            continue;
        }
        if open > text_start {
            out.push(Piece::Text(&s[text_start..open]));
        }
        out.push(Piece::Ref(name, open..close + 2));
        text_start = close + 2;
        at = text_start;
    }
    if text_start < s.len() {
        out.push(Piece::Text(&s[text_start..]));
    }
    out
}

/// Whether byte `pos` of a shell script is inside quotes.
pub(crate) fn inside_quotes(script: &str, pos: usize) -> bool {
    let mut quote: Option<char> = None;
    let mut chars = script[..pos].chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None | Some('"'), '\\') => {
                chars.next();
            }
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
    }
    quote.is_some()
}

/// Which entries of a node are shell scripts: `run` without `exec=#true`,
/// `cmd`, `entrypoint` and `healthcheck` with `shell=#true`. Only their
/// arguments are scripts; properties never are.
pub(crate) fn takes_scripts(node: &KdlNode) -> bool {
    let flag = |key: &str| {
        node.entries()
            .iter()
            .find(|e| e.name().is_some_and(|n| n.value() == key))
            .is_some_and(|e| e.value() == &KdlValue::Bool(true))
    };
    // A step's `run` is spelled as a body's.
    match BodyNode::parse(node.name().value()) {
        Some(BodyNode::Run) => !flag("exec"),
        Some(BodyNode::Cmd | BodyNode::Entrypoint | BodyNode::Healthcheck) => flag("shell"),
        _ => false,
    }
}

/// A `when "param" [is=V] [not=V] { ... }` condition.
pub(crate) struct Condition<'a> {
    pub param: Spanned<String>,
    pub test: Test<'a>,
}

pub(crate) enum Test<'a> {
    Truthy,
    Is(&'a KdlEntry),
    Not(&'a KdlEntry),
}

/// Reads a `when` node; reports what is wrong with it against the
/// template's parameters (when given).
pub(crate) fn condition<'a>(
    node: &'a KdlNode,
    params: Option<&BTreeMap<&str, &ParamDecl>>,
    d: &mut Diagnostics,
) -> Option<Condition<'a>> {
    let mut args = NodeArgs::new(node, d);
    let param = args.string(d, "the name of a parameter");
    let is = args.prop("is");
    let not = args.prop("not");
    args.finish(d);
    if node.children().is_none() {
        entries::expect_children(node, d);
    }
    let param = param?;
    let test = match (is, not) {
        (None, None) => Test::Truthy,
        (Some(is), None) => Test::Is(is),
        (None, Some(not)) => Test::Not(not),
        (Some(is), Some(not)) => {
            d.push(
                Diagnostic::error(Code::Conflict, "`when` has both `is` and `not`")
                    .primary(is.span(), "is")
                    .secondary(not.span(), "not")
                    .help("write two `when` blocks"),
            );
            return None;
        }
    };
    if let Some(params) = params {
        let Some(decl) = params.get(param.value.as_str()) else {
            d.push(unknown_reference(&param.value, param.span, params));
            return None;
        };
        if let Test::Is(entry) | Test::Not(entry) = test {
            let problem = match convert(entry.value(), decl) {
                _ if decl.ty == ParamType::List => {
                    Some("compared, but it is a list: test it without `is`/`not` (true when it has items)".to_owned())
                }
                Ok(_) => None,
                Err(wrong) => Some(format!("compared with {wrong}")),
            };
            if let Some(problem) = problem {
                d.push(
                    Diagnostic::error(
                        Code::ParameterValue,
                        format!("parameter `{}` is {problem}", param.value),
                    )
                    .primary(entry.span(), "does not fit the parameter")
                    .secondary(decl.name.span, "declared here")
                    .help(expected(decl)),
                );
                return None;
            }
        }
    }
    Some(Condition { param, test })
}

pub(crate) fn unknown_reference(
    name: &str,
    span: Span,
    params: &BTreeMap<&str, &ParamDecl>,
) -> Diagnostic {
    let names = params.keys().copied().chain(["image"]);
    Diagnostic::error(
        Code::UnknownParameter,
        format!("the template has no parameter `{name}`"),
    )
    .primary(span, "not a parameter")
    .suggest(
        name,
        names.clone(),
        format!(
            "declare it with `param \"{name}\"`; the parameters are: {}",
            names.collect::<Vec<_>>().join(", ")
        ),
    )
}

/// Checks a template's body where it is defined: every reference names a
/// parameter, a reference in a script is not inside quotes (stowplan quotes
/// it), a list stands alone, stage names are plain, conditions fit their
/// parameters, the image is unnamed.
pub(crate) fn check_body(template: &TemplateDecl, d: &mut Diagnostics) {
    let params: BTreeMap<&str, &ParamDecl> = template
        .params
        .iter()
        .map(|p| (p.name.value.as_str(), p))
        .collect();
    for lock in &template.locks {
        let target = lock.target.value.as_str();
        let lockable = BodyNode::parse(target).is_some_and(BodyNode::lockable);
        if !lockable && !params.contains_key(target) {
            let candidates = params.keys().copied().chain(
                BodyNode::ALL
                    .iter()
                    .filter(|n| n.lockable())
                    .map(|n| n.name()),
            );
            d.push(
                Diagnostic::error(
                    Code::UnknownParameter,
                    format!("`lock` names no parameter and no node `{target}`"),
                )
                .primary(lock.target.span, "nothing to lock")
                .suggest(
                    target,
                    candidates,
                    "lock a parameter of the template, or a node a use could add, such as `user` or `label`",
                ),
            );
        }
    }
    check_nodes(&template.body, &params, Place::Top, d);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The template's own children: stages, the image, `when`.
    Top,
    /// Anywhere inside a stage or the image.
    Body,
}

fn check_nodes(
    nodes: &[KdlNode],
    params: &BTreeMap<&str, &ParamDecl>,
    place: Place,
    d: &mut Diagnostics,
) {
    for node in nodes {
        let keyword = TemplateNode::parse(node.name().value());
        if keyword == Some(TemplateNode::When) {
            condition(node, Some(params), d);
            if let Some(children) = node.children() {
                check_nodes(children.nodes(), params, place, d);
            }
            continue;
        }
        if place == Place::Top {
            match keyword {
                Some(TemplateNode::Stage) => {
                    let name = node.entries().iter().find(|e| e.name().is_none());
                    if let Some(KdlValue::String(s)) = name.map(KdlEntry::value)
                        && s.contains("{{")
                    {
                        d.push(
                            Diagnostic::error(
                                Code::Reference,
                                "a stage name in a template is written out",
                            )
                            .primary(name.expect("checked").span(), "a reference in a stage name")
                            .help("name the stage plainly; each use prefixes it with the image's name"),
                        );
                    }
                }
                Some(TemplateNode::Image) => {
                    if let Some(named) = node.entries().iter().find(|e| e.name().is_none()) {
                        d.push(
                            Diagnostic::error(
                                Code::ExtraArgument,
                                "a template's image is named by its use",
                            )
                            .primary(named.span(), "a name")
                            .help(
                                "write `image { ... }`: `image \"api\" template=\"...\"` names it",
                            ),
                        );
                    }
                }
                _ => {
                    entries::unknown_node(d, node, "in a template", TemplateNode::names());
                    continue;
                }
            }
        }
        let scripts = takes_scripts(node);
        for entry in node.entries() {
            let KdlValue::String(s) = entry.value() else {
                continue;
            };
            let is_arg = entry.name().is_none();
            for piece in pieces(s) {
                let Piece::Ref(name, range) = piece else {
                    continue;
                };
                let ty = if name == "image" {
                    ParamType::String
                } else if let Some(param) = params.get(name) {
                    param.ty
                } else {
                    d.push(unknown_reference(name, entry.span(), params));
                    continue;
                };
                if scripts && is_arg {
                    if inside_quotes(s, range.start) {
                        d.push(
                            Diagnostic::error(
                                Code::Reference,
                                format!("`{{{{{name}}}}}` is inside quotes in a script"),
                            )
                            .primary(entry.span(), "a quoted reference")
                            .help("write the reference outside quotes: stowplan quotes the value as one shell word"),
                        );
                    }
                } else if ty == ParamType::List && (!is_arg || range.len() != s.len()) {
                    d.push(
                        Diagnostic::error(
                            Code::Reference,
                            format!("list `{name}` is part of a larger value"),
                        )
                        .primary(entry.span(), "a list inside a string")
                        .help(format!(
                            "a list becomes several arguments: write \"{{{{{name}}}}}\" as an argument of its own, or use it in a script"
                        )),
                    );
                }
            }
        }
        if let Some(children) = node.children() {
            check_nodes(children.nodes(), params, Place::Body, d);
        }
    }
}

/// Quotes a value as one POSIX shell word.
pub(crate) fn shell_word(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_split_at_references_only() {
        assert_eq!(
            pieces("golang:{{go}}-{{ variant }}"),
            vec![
                Piece::Text("golang:"),
                Piece::Ref("go", 7..13),
                Piece::Text("-"),
                Piece::Ref("variant", 14..27),
            ]
        );
        assert_eq!(
            pieces("{{.Id}} ${{ X }}"),
            vec![Piece::Text("{{.Id}} ${{ X }}")]
        );
        assert_eq!(pieces("{{a"), vec![Piece::Text("{{a")]);
    }

    #[test]
    fn quotes_are_tracked() {
        let s = r#"echo 'a {{x}}' "{{y}}" \"{{z}}"#;
        assert!(inside_quotes(s, s.find("{{x").unwrap()));
        assert!(inside_quotes(s, s.find("{{y").unwrap()));
        assert!(!inside_quotes(s, s.find("{{z").unwrap()));
    }

    #[test]
    fn shell_words() {
        assert_eq!(shell_word("./cmd/api"), "./cmd/api");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's; rm -rf /"), r"'it'\''s; rm -rf /'");
    }
}
