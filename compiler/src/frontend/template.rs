//! Templates, includes and template uses, decoded from their KDL nodes.
//!
//! A `template` has typed parameters, locks and a body of stages and one
//! image. The body stays KDL until `expand` gives the parameters their
//! values: a parameter reference (`{{name}}`) is replaced inside one string
//! value of the KDL tree, and the result goes through the ordinary decoder,
//! so a value can never add a node, an entry or an instruction. This module
//! also checks a template's body once, where it is defined, so that a
//! mistake in a template is reported at the template and not at each use.

use std::collections::BTreeMap;

use kdl::{KdlDocument, KdlEntry, KdlNode, KdlValue};

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics, Span, did_you_mean};
use crate::frontend::ast::Spanned;
use crate::frontend::decode::{self, NodeArgs};
use crate::frontend::values;

/// Parameter names a template may not declare: `template` selects the
/// template at a use, `image` is the name of the image being made.
pub const RESERVED_PARAMETERS: &[&str] = &["template", "image"];

const TEMPLATE_NODES: &[&str] = &["param", "lock", "stage", "image", "when"];

/// A `template "name" { ... }` definition.
#[derive(Clone, Debug)]
pub struct TemplateDecl {
    pub name: Spanned<String>,
    pub doc: Option<Spanned<String>>,
    pub params: Vec<ParamDecl>,
    pub locks: Vec<LockDecl>,
    /// The stages, the image and the `when` blocks, as written. They are
    /// decoded once the parameters have values.
    pub body: Vec<KdlNode>,
    pub span: Span,
}

impl TemplateDecl {
    pub fn param(&self, name: &str) -> Option<&ParamDecl> {
        self.params.iter().find(|p| p.name.value == name)
    }
}

/// `param "name" type=... default=... doc=... values=...`.
#[derive(Clone, Debug)]
pub struct ParamDecl {
    pub name: Spanned<String>,
    pub ty: ParamType,
    /// No default: the parameter must be given at every use.
    pub default: Option<Spanned<Value>>,
    pub doc: Option<String>,
    /// For `one-of`: the allowed values, in written order.
    pub choices: Vec<String>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    String,
    Integer,
    Boolean,
    /// Strings. Written as one string of whitespace-separated items.
    List,
    /// One string out of `choices`.
    OneOf,
}

impl ParamType {
    pub const ALL: &'static [(&'static str, ParamType)] = &[
        ("string", ParamType::String),
        ("integer", ParamType::Integer),
        ("boolean", ParamType::Boolean),
        ("list", ParamType::List),
        ("one-of", ParamType::OneOf),
    ];

    pub fn keyword(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, t)| *t == self)
            .map(|(k, _)| *k)
            .expect("every type has a keyword")
    }
}

/// A parameter's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    String(String),
    Integer(i128),
    Boolean(bool),
    List(Vec<String>),
}

impl Value {
    /// `when "name"` without `is=`: true, a non-empty string or list, a
    /// non-zero number.
    pub fn truthy(&self) -> bool {
        match self {
            Value::String(s) => !s.is_empty(),
            Value::Integer(i) => *i != 0,
            Value::Boolean(b) => *b,
            Value::List(items) => !items.is_empty(),
        }
    }

    /// The value as it reads in KDL, for listings and messages.
    pub fn kdl(&self) -> String {
        match self {
            Value::String(s) => format!("{s:?}"),
            Value::Integer(i) => i.to_string(),
            Value::Boolean(b) => format!("#{b}"),
            Value::List(items) => format!("{:?}", items.join(" ")),
        }
    }
}

/// `lock "user"`, `lock "label" "org.opencontainers.image.vendor"`,
/// `lock "registry"`: what a use of the template may not set.
#[derive(Clone, Debug)]
pub struct LockDecl {
    /// A parameter name or a body node such as `user` or `label`.
    pub target: Spanned<String>,
    /// Only the nodes whose first argument is this (a label key, a variable).
    pub key: Option<Spanned<String>>,
    pub reason: Option<Spanned<String>>,
    pub span: Span,
}

/// `include "path.kdl"`: a file of templates.
#[derive(Clone, Debug)]
pub struct IncludeDecl {
    pub path: Spanned<String>,
    pub span: Span,
}

/// `image "api" template="go" go="1.22.5" { ... }`.
#[derive(Clone, Debug)]
pub struct UseDecl {
    /// The image's name; the template's stages are named `NAME-STAGE`.
    pub name: Spanned<String>,
    pub template: Spanned<String>,
    pub args: Vec<ArgDecl>,
    /// Body nodes added to the template's image.
    pub block: Option<KdlDocument>,
    /// Where the image's stages go in the spec's declaration order.
    pub position: usize,
    pub span: Span,
}

/// One `name=value` of a use.
#[derive(Clone, Debug)]
pub struct ArgDecl {
    pub name: Spanned<String>,
    pub value: KdlValue,
    /// The whole `name=value`.
    pub span: Span,
}

pub(crate) fn decode_include(node: &KdlNode, d: &mut Diagnostics) -> Option<IncludeDecl> {
    let mut args = NodeArgs::new(node, d);
    let path = args.string(d, "the path of a file of templates");
    args.finish(d);
    decode::expect_no_children(node, d);
    Some(IncludeDecl {
        path: path?,
        span: node.span(),
    })
}

pub(crate) fn decode_use(node: &KdlNode, position: usize, d: &mut Diagnostics) -> Option<UseDecl> {
    // Reports duplicate properties and type annotations; the parameters
    // are read below since their names are the template's, not ours.
    let mut node_args = NodeArgs::new(node, d);
    let name = node_args.string(d, "a name");
    let template = node_args.prop_string(d, "template");
    let mut seen: Vec<&str> = Vec::new();
    let mut args = Vec::new();
    let mut positional = 0;
    for entry in node.entries() {
        let Some(key) = entry.name() else {
            positional += 1;
            if positional > 1 {
                d.push(
                    Diagnostic::error(Code::ExtraArgument, "too many arguments for `image`")
                        .primary(entry.span(), "not expected")
                        .help("parameters are properties: write `name=value`"),
                );
            }
            continue;
        };
        if key.value() == "template" || seen.contains(&key.value()) {
            continue;
        }
        seen.push(key.value());
        args.push(ArgDecl {
            name: Spanned::new(key.value().to_owned(), key.span()),
            value: entry.value().clone(),
            span: entry.span(),
        });
    }
    let name = name?;
    values::check_name(&name, "image", d);
    Some(UseDecl {
        name,
        template: template?,
        args,
        block: node.children().cloned(),
        position,
        span: node.span(),
    })
}

pub(crate) fn decode_template(node: &KdlNode, d: &mut Diagnostics) -> Option<TemplateDecl> {
    let mut args = NodeArgs::new(node, d);
    let name = args.string(d, "the template's name");
    let doc = args.prop_string(d, "doc");
    args.finish(d);
    let children = decode::expect_children(node, d);
    let name = name?;
    values::check_name(&name, "template", d);
    let mut template = TemplateDecl {
        name,
        doc,
        params: Vec::new(),
        locks: Vec::new(),
        body: Vec::new(),
        span: node.span(),
    };
    for child in children {
        match child.name().value() {
            "param" => {
                let Some(param) = decode_param(child, d) else {
                    continue;
                };
                if let Some(first) = template.param(&param.name.value) {
                    d.push(
                        Diagnostic::error(
                            Code::DuplicateName,
                            format!(
                                "template `{}` has two parameters named `{}`",
                                template.name.value, param.name.value
                            ),
                        )
                        .primary(param.name.span, "declared again here")
                        .secondary(first.name.span, "first declared here")
                        .help("rename one parameter"),
                    );
                    continue;
                }
                template.params.push(param);
            }
            "lock" => template.locks.extend(decode_lock(child, d)),
            "stage" | "image" | "when" => template.body.push(child.clone()),
            _ => decode::unknown_node(d, child, "in a template", TEMPLATE_NODES),
        }
    }
    if count_images(&template.body) == 0 {
        d.push(
            Diagnostic::error(
                Code::MissingNode,
                format!("template `{}` makes no image", template.name.value),
            )
            .primary(template.name.span, "needs an `image { ... }`")
            .help("a template makes one image (written `image { ... }`, without a name: the use names it) and any stages it needs"),
        );
    }
    Some(template)
}

fn count_images(nodes: &[KdlNode]) -> usize {
    nodes
        .iter()
        .map(|n| match n.name().value() {
            "image" => 1,
            "when" => n.children().map_or(0, |c| count_images(c.nodes())),
            _ => 0,
        })
        .sum()
}

fn decode_param(node: &KdlNode, d: &mut Diagnostics) -> Option<ParamDecl> {
    let mut args = NodeArgs::new(node, d);
    let name = args.string(d, "the parameter's name");
    let ty = args.prop_string(d, "type");
    let doc = args.prop_string(d, "doc");
    let values = args.prop_string(d, "values");
    let default = args.prop("default");
    args.finish(d);
    decode::expect_no_children(node, d);
    let name = name?;
    values::check_name(&name, "parameter", d);
    if RESERVED_PARAMETERS.contains(&name.value.as_str()) {
        d.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{}` is a reserved parameter name", name.value),
            )
            .primary(name.span, "reserved")
            .help("`template` selects the template at a use and `{{image}}` is the image's name; pick another name"),
        );
        return None;
    }
    let ty = match ty {
        None => ParamType::String,
        Some(ty) => match ParamType::ALL.iter().find(|(k, _)| *k == ty.value) {
            Some((_, t)) => *t,
            None => {
                let names = ParamType::ALL.iter().map(|(k, _)| *k);
                let mut diag = Diagnostic::error(
                    Code::InvalidValue,
                    format!("unknown parameter type `{}`", ty.value),
                )
                .primary(ty.span, "not a parameter type");
                diag = match did_you_mean(&ty.value, names.clone()) {
                    Some(near) => diag.help(format!("did you mean `{near}`?")),
                    None => diag.help(format!(
                        "the types are: {}",
                        names.collect::<Vec<_>>().join(", ")
                    )),
                };
                d.push(diag);
                return None;
            }
        },
    };
    let choices: Vec<String> = match (&values, ty) {
        (Some(v), ParamType::OneOf) => {
            let choices: Vec<String> = v.value.split_whitespace().map(str::to_owned).collect();
            if choices.is_empty() {
                d.push(
                    Diagnostic::error(Code::InvalidValue, "a `one-of` parameter with no values")
                        .primary(v.span, "no values")
                        .help("list the allowed values, separated by spaces: values=\"npm pnpm yarn\""),
                );
                return None;
            }
            choices
        }
        (None, ParamType::OneOf) => {
            decode::missing_property(
                d,
                node,
                "values",
                "the allowed values, separated by spaces, such as values=\"npm pnpm yarn\"",
            );
            return None;
        }
        (Some(v), _) => {
            d.push(
                Diagnostic::error(Code::Conflict, "`values` is only for `one-of` parameters")
                    .primary(v.span, "allowed values")
                    .help("write type=\"one-of\", or remove `values`"),
            );
            return None;
        }
        (None, _) => Vec::new(),
    };
    let mut param = ParamDecl {
        name,
        ty,
        default: None,
        doc: doc.map(|d| d.value),
        choices,
        span: node.span(),
    };
    if let Some(entry) = default {
        match convert(entry.value(), &param) {
            Ok(value) => param.default = Some(Spanned::new(value, entry.span())),
            Err(wrong) => {
                d.push(
                    Diagnostic::error(
                        Code::ParameterValue,
                        format!("the default of parameter `{}` is {wrong}", param.name.value),
                    )
                    .primary(entry.span(), "does not fit the parameter")
                    .help(expected(&param)),
                );
                return None;
            }
        }
    }
    Some(param)
}

fn decode_lock(node: &KdlNode, d: &mut Diagnostics) -> Option<LockDecl> {
    let mut args = NodeArgs::new(node, d);
    let target = args.string(d, "what to lock: a parameter, or a node such as `user`");
    let key = args.opt_string(d);
    let reason = args.prop_string(d, "reason");
    args.finish(d);
    decode::expect_no_children(node, d);
    Some(LockDecl {
        target: target?,
        key,
        reason,
        span: node.span(),
    })
}

/// What a parameter accepts, for help texts.
pub fn expected(param: &ParamDecl) -> String {
    match param.ty {
        ParamType::String => "write a string: \"...\"".to_owned(),
        ParamType::Integer => "write an integer, such as 8080".to_owned(),
        ParamType::Boolean => "write #true or #false".to_owned(),
        ParamType::List => {
            "write one string of items separated by spaces, such as \"a b c\"".to_owned()
        }
        ParamType::OneOf => format!("write one of: {}", param.choices.join(", ")),
    }
}

/// A KDL value as a value of the parameter; the error says what it is instead.
pub fn convert(value: &KdlValue, param: &ParamDecl) -> Result<Value, String> {
    let kind = match value {
        KdlValue::String(_) => "a string",
        KdlValue::Integer(_) => "an integer",
        KdlValue::Float(_) => "a number",
        KdlValue::Bool(_) => "a boolean",
        KdlValue::Null => "#null",
    };
    match (param.ty, value) {
        (_, KdlValue::String(s)) if s.contains('\0') => Err("a string holding NUL".to_owned()),
        (ParamType::String, KdlValue::String(s)) => Ok(Value::String(s.clone())),
        (ParamType::Integer, KdlValue::Integer(i)) => Ok(Value::Integer(*i)),
        (ParamType::Boolean, KdlValue::Bool(b)) => Ok(Value::Boolean(*b)),
        (ParamType::List, KdlValue::String(s)) => Ok(Value::List(
            s.split_whitespace().map(str::to_owned).collect(),
        )),
        (ParamType::OneOf, KdlValue::String(s)) if param.choices.contains(s) => {
            Ok(Value::String(s.clone()))
        }
        (ParamType::OneOf, KdlValue::String(s)) => Err(format!("`{s}`, not one of its values")),
        (ParamType::Integer, _) => Err(format!("{kind}, not an integer")),
        (ty, _) => Err(format!("{kind}, not a {}", ty.keyword())),
    }
}

// ---------------------------------------------------------------- references

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
    match node.name().value() {
        "run" => !flag("exec"),
        "cmd" | "entrypoint" | "healthcheck" => flag("shell"),
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
        decode::expect_children(node, d);
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
    let diag = Diagnostic::error(
        Code::UnknownParameter,
        format!("the template has no parameter `{name}`"),
    )
    .primary(span, "not a parameter");
    let names = params.keys().copied().chain(["image"]);
    match did_you_mean(name, names) {
        Some(near) => diag.help(format!("did you mean `{near}`?")),
        None => diag.help(format!(
            "declare it with `param \"{name}\"`; the parameters are: {}",
            params
                .keys()
                .copied()
                .chain(["image"])
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
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
        let lockable =
            decode::BODY_NODES.contains(&target) && target != "from" && target != "artifact";
        if !lockable && !params.contains_key(target) {
            let mut diag = Diagnostic::error(
                Code::UnknownParameter,
                format!("`lock` names no parameter and no node `{target}`"),
            )
            .primary(lock.target.span, "nothing to lock");
            let candidates = params.keys().copied().chain(
                decode::BODY_NODES
                    .iter()
                    .copied()
                    .filter(|n| *n != "from" && *n != "artifact"),
            );
            diag = match did_you_mean(target, candidates) {
                Some(near) => diag.help(format!("did you mean `{near}`?")),
                None => diag.help("lock a parameter of the template, or a node a use could add, such as `user` or `label`"),
            };
            d.push(diag);
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
        let keyword = node.name().value();
        if keyword == "when" {
            condition(node, Some(params), d);
            if let Some(children) = node.children() {
                check_nodes(children.nodes(), params, place, d);
            }
            continue;
        }
        if place == Place::Top {
            match keyword {
                "stage" => {
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
                "image" => {
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
                    decode::unknown_node(d, node, "in a template", TEMPLATE_NODES);
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
