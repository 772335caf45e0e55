//! Template, include and use nodes, decoded; parameter values converted to their type.

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::base::keywords::TemplateNode;
use crate::frontend::ast::Spanned;
use crate::frontend::entries::{self, NodeArgs};
use crate::frontend::template::types::*;
use crate::frontend::values;
use kdl::{KdlNode, KdlValue};

pub(crate) fn decode_include(node: &KdlNode, d: &mut Diagnostics) -> Option<IncludeDecl> {
    let mut args = NodeArgs::new(node, d);
    let path = args.string(d, "the path of a file of templates");
    args.finish(d);
    entries::expect_no_children(node, d);
    Some(IncludeDecl { path: path? })
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
    let children = entries::expect_children(node, d);
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
        match TemplateNode::parse(child.name().value()) {
            Some(TemplateNode::Param) => {
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
            Some(TemplateNode::Lock) => template.locks.extend(decode_lock(child, d)),
            Some(TemplateNode::Stage | TemplateNode::Image | TemplateNode::When) => {
                template.body.push(child.clone())
            }
            None => entries::unknown_node(d, child, "in a template", TemplateNode::names()),
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
        .map(|n| match TemplateNode::parse(n.name().value()) {
            Some(TemplateNode::Image) => 1,
            Some(TemplateNode::When) => n.children().map_or(0, |c| count_images(c.nodes())),
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
    entries::expect_no_children(node, d);
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
        Some(ty) => match ParamType::parse(&ty.value) {
            Some(t) => t,
            None => {
                d.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!("unknown parameter type `{}`", ty.value),
                    )
                    .primary(ty.span, "not a parameter type")
                    .suggest(
                        &ty.value,
                        ParamType::names(),
                        format!("the types are: {}", ParamType::listed()),
                    ),
                );
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
            entries::missing_property(
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
    entries::expect_no_children(node, d);
    Some(LockDecl {
        target: target?,
        key,
        reason,
        span: node.span(),
    })
}

/// What a parameter accepts, for help texts.
pub(crate) fn expected(param: &ParamDecl) -> String {
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
pub(crate) fn convert(value: &KdlValue, param: &ParamDecl) -> Result<Value, String> {
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
        (ty, _) => Err(format!("{kind}, not a {}", ty.name())),
    }
}
