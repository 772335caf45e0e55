//! KDL document → [`Ast`], by hand, keeping every span.
//!
//! Naming: `decode_*` turns one KDL node into a construct; `expect_*`
//! reports a user error when the node does not fit. Decoding never stops at
//! the first problem: a bad node is reported and skipped, its siblings are
//! still read.

use kdl::{KdlDocument, KdlNode};

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics, Rule, Span};
use crate::base::keywords::{Builder, OutputKind, TopNode};
use crate::frontend::ast::*;
use crate::frontend::entries::*;
use crate::frontend::values;

mod stage;
mod step;
#[cfg(test)]
mod tests;

pub(crate) use stage::decode_stage;

/// The only language version this compiler reads.
pub const LANGUAGE_VERSION: u32 = 1;

/// Where the fast parser stops before this offset, the kdl crate reads the
/// whole text, and its diagnostics are exactly those it gives on the
/// whole. Past it, the crate reads from the last top-level node the fast
/// parser took: the same errors, but the crate may report one twice or
/// less often depending on what came before (`fuzzing::compare_kdl`).
/// 64 KiB cost the crate about 3 MiB.
pub(crate) const KDL_READS_WHOLE_BELOW: usize = 64 * 1024;

/// Decodes spec text. Always returns an AST (possibly partial) and every problem found.
pub fn decode(text: &str) -> (Ast, Diagnostics) {
    // The fast parser takes valid documents, one top-level node at a time,
    // so the whole document is never in memory; anything else (and every
    // error message) is the kdl crate's, from the start.
    let mut top = TopLevel::default();
    let mut d = Diagnostics::default();
    let from = match crate::syntax::fastkdl::parse_each(text, &mut |node| top.node(&node, &mut d)) {
        Ok(()) => {
            let ast = top.finish(&mut d);
            return (ast, d);
        }
        Err(from) if from < KDL_READS_WHOLE_BELOW => return decode_with_kdl(text),
        Err(from) => from,
    };
    // The nodes before `from` are decoded; the kdl crate reads the rest,
    // so an error at the end of a large spec costs memory for the end
    // alone. A syntax error anywhere leaves only syntax errors, as ever.
    match crate::syntax::parse_tail_with_kdl(text, from) {
        Ok(rest) => {
            for node in rest.nodes() {
                top.node(node, &mut d);
            }
            let ast = top.finish(&mut d);
            (ast, d)
        }
        Err(errors) => {
            let mut d = Diagnostics::default();
            d.extend(errors);
            (Ast::default(), d)
        }
    }
}

/// [`decode`] with the kdl crate's parser alone: the reference the fast
/// path is tested against (`decode/tests.rs`).
pub(crate) fn decode_with_kdl(text: &str) -> (Ast, Diagnostics) {
    let mut d = Diagnostics::default();
    let document = match crate::syntax::parse_with_kdl(text) {
        Ok(document) => document,
        Err(errors) => {
            d.extend(errors);
            return (Ast::default(), d);
        }
    };
    let ast = decode_document(&document, &mut d);
    (ast, d)
}

fn decode_document(document: &KdlDocument, d: &mut Diagnostics) -> Ast {
    let mut top = TopLevel::default();
    for node in document.nodes() {
        top.node(node, d);
    }
    top.finish(d)
}

/// The spec's top level, decoded node by node.
#[derive(Default)]
struct TopLevel {
    ast: Ast,
    version_seen: Option<Span>,
    first_node: Option<Span>,
}

impl TopLevel {
    fn node(&mut self, node: &KdlNode, d: &mut Diagnostics) {
        let ast = &mut self.ast;
        self.first_node.get_or_insert(node.name().span());
        match TopNode::parse(node.name().value()) {
            Some(TopNode::Stowplan) => {
                if let Some(first) = self.version_seen {
                    duplicate_node(d, node, first);
                    return;
                }
                self.version_seen = Some(node.name().span());
                let mut args = NodeArgs::new(node, d);
                if let Some(version) = args.int::<u32>(d, "version") {
                    if version.value != LANGUAGE_VERSION {
                        d.push(
                            Diagnostic::error(
                                Code::Version,
                                format!("unsupported language version {}", version.value),
                            )
                            .primary(version.span, "this compiler reads version 1")
                            .help("write `stowplan 1` as the first node"),
                        );
                    }
                    ast.version = Some(version);
                }
                args.finish(d);
                expect_no_children(node, d);
            }
            Some(TopNode::Output) => {
                if let Some(output) = decode_output(node, d) {
                    ast.outputs.push(output);
                }
            }
            Some(TopNode::Stage) => ast.stages.extend(decode_stage(node, StageKind::Stage, d)),
            // An image built from a template: `expand` makes its stages, in this place.
            Some(TopNode::Image) if node.entry("template").is_some() => ast.uses.extend(
                crate::frontend::template::decode_use(node, ast.stages.len(), d),
            ),
            Some(TopNode::Image) => ast.stages.extend(decode_stage(node, StageKind::Image, d)),
            Some(TopNode::Template) => ast
                .templates
                .extend(crate::frontend::template::decode_template(node, d)),
            Some(TopNode::Include) => ast
                .includes
                .extend(crate::frontend::template::decode_include(node, d)),
            Some(TopNode::Allow) => ast.waivers.extend(decode_waiver(node, d)),
            Some(TopNode::Arg) => ast.args.extend(decode_global_arg(node, d)),
            Some(TopNode::Group) => ast.groups.extend(decode_group(node, d)),
            None => unknown_node(d, node, "at the top level", TopNode::names()),
        }
    }

    fn finish(self, d: &mut Diagnostics) -> Ast {
        if self.version_seen.is_none() {
            let span = self.first_node.unwrap_or(Span::from(0..0));
            d.push(
                Diagnostic::error(Code::Version, "the spec does not say its language version")
                    .primary(span, "expected `stowplan 1` before this")
                    .help("start the spec with `stowplan 1`"),
            );
        }
        self.ast
    }
}

/// `allow RULE reason=... [image=NAME]`: the rule must be one stowplan
/// knows, and the reason is required (it is reported with every result the
/// waiver allows).
fn decode_waiver(node: &KdlNode, d: &mut Diagnostics) -> Option<WaiverDecl> {
    let mut args = NodeArgs::new(node, d);
    let rule = args.string(d, "the id of a policy rule");
    let reason = args.prop_string(d, "reason");
    let image = args.prop_string(d, "image");
    args.finish(d);
    expect_no_children(node, d);
    let rule = rule?;
    let mut ok = true;
    if Rule::find(&rule.value).is_none() {
        d.push(
            Diagnostic::error(
                Code::UnknownRule,
                format!("there is no policy rule `{}`", rule.value),
            )
            .primary(rule.span, "not a policy rule")
            .suggest(
                &rule.value,
                Rule::ids(),
                format!(
                    "the rules are: {}",
                    Rule::ids().collect::<Vec<_>>().join(", ")
                ),
            ),
        );
        ok = false;
    }
    let reason = match reason {
        Some(reason) if !reason.value.trim().is_empty() => reason,
        other => {
            let span = other.map_or(node.name().span(), |r| r.span);
            d.push(
                Diagnostic::error(Code::Waiver, "a waiver must say why")
                    .primary(span, "no reason given")
                    .help(format!(
                        "write `allow \"{}\" reason=\"...\"`: the reason is reported with every result it allows",
                        rule.value
                    )),
            );
            return None;
        }
    };
    ok.then_some(WaiverDecl {
        rule,
        reason,
        image,
        span: node.span(),
    })
}

/// A top-level `arg NAME [DEFAULT]`: a build argument declared before
/// every stage, which `from` can name.
fn decode_global_arg(node: &KdlNode, d: &mut Diagnostics) -> Option<ArgDecl> {
    let mut args = NodeArgs::new(node, d);
    let name = args.string(d, "the build argument's name");
    let default = args.opt_string(d);
    args.finish(d);
    expect_no_children(node, d);
    let name = name?;
    values::check_variable_name(&name, d);
    Some(ArgDecl {
        name,
        default,
        span: node.span(),
    })
}

/// `group NAME IMAGE...`: a bake group of the spec's images. The resolver
/// checks that each names an image.
fn decode_group(node: &KdlNode, d: &mut Diagnostics) -> Option<GroupDecl> {
    let mut args = NodeArgs::new(node, d);
    let name = args.string(d, "the group's name");
    let images = args.rest_strings(d, "the images of the group", 1);
    args.finish(d);
    expect_no_children(node, d);
    let name = name?;
    values::check_name(&name, "group", d);
    Some(GroupDecl {
        name,
        images,
        span: node.span(),
    })
}

fn decode_output(node: &KdlNode, d: &mut Diagnostics) -> Option<OutputDecl> {
    let mut args = NodeArgs::new(node, d);
    let path = args.string(d, "the output path");
    let builder = match args.prop_string(d, "builder") {
        None => Builder::default(),
        Some(b) => match Builder::parse(&b.value) {
            Some(builder) => builder,
            None => {
                d.push(
                    Diagnostic::error(Code::InvalidValue, format!("unknown builder `{}`", b.value))
                        .primary(b.span, "not a builder stowplan knows")
                        .suggest(
                            &b.value,
                            Builder::names(),
                            format!("the builders are: {}", Builder::listed()),
                        ),
                );
                Builder::default()
            }
        },
    };
    let format = match args.prop_string(d, "format") {
        // `.dockerignore` and `NAME.dockerignore` say what they are.
        None if path
            .as_ref()
            .is_some_and(|p| p.value.ends_with(".dockerignore")) =>
        {
            Spanned::new(OutputFormat::Dockerignore, node.name().span())
        }
        None => Spanned::new(OutputFormat::Dockerfile(builder), node.name().span()),
        Some(f) => match OutputKind::parse(&f.value) {
            Some(OutputKind::Dockerfile) => Spanned::new(OutputFormat::Dockerfile(builder), f.span),
            Some(OutputKind::Buildah) => Spanned::new(OutputFormat::Buildah, f.span),
            Some(OutputKind::Bake) => Spanned::new(OutputFormat::Bake, f.span),
            Some(OutputKind::Dockerignore) => Spanned::new(OutputFormat::Dockerignore, f.span),
            None => {
                d.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!("unknown output format `{}`", f.value),
                    )
                    .primary(f.span, "not an output format")
                    .help(format!("the output formats are: {}", OutputKind::listed())),
                );
                return None;
            }
        },
    };
    let images: Vec<Spanned<String>> = args.prop_string(d, "image").into_iter().collect();
    let mut dockerfile = args.prop_string(d, "dockerfile");
    let contexts = args.prop_string(d, "contexts");
    args.finish(d);
    let named_contexts = contexts.and_then(|c| match c.value.as_str() {
        "one" => None,
        "named" if matches!(format.value, OutputFormat::Dockerfile(_)) => Some(c.span),
        "named" => {
            d.push(
                Diagnostic::error(Code::Conflict, "only a Dockerfile reads named contexts")
                    .primary(c.span, "`contexts=\"named\"` on a file that is not a Dockerfile")
                    .help("declare it on the Dockerfile output (a bake file follows its Dockerfile); a Buildah script reads the folders itself"),
            );
            None
        }
        _ => {
            d.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("unknown context mode `{}`", c.value),
                )
                .primary(c.span, "not a context mode")
                .suggest(&c.value, ["one", "named"], "the context modes are: one, named"),
            );
            None
        }
    });
    expect_no_children(node, d);
    if let Some(written) = &mut dockerfile {
        if format.value != OutputFormat::Bake {
            d.push(
                Diagnostic::error(Code::Conflict, "only a bake file names a Dockerfile output")
                    .primary(
                        written.span,
                        "`dockerfile=` on a file that is not a bake file",
                    )
                    .secondary(format.span, "not `format=\"bake\"`")
                    .help("remove `dockerfile=`, or write `format=\"bake\"`"),
            );
        } else {
            values::check_output_path(written, d);
        }
    }
    if format.value == OutputFormat::Bake
        && let Some(image) = images.first()
    {
        d.push(
            Diagnostic::error(Code::Conflict, "a bake file holds every image of its Dockerfile")
                .primary(image.span, "`image=` on a bake file")
                .help("remove `image=`; to build some images, declare a `group` or name targets on the `docker buildx bake` command line"),
        );
    }
    let mut path = path?;
    values::check_output_path(&mut path, d);
    Some(OutputDecl {
        path,
        format,
        images,
        dockerfile,
        named_contexts,
        span: node.span(),
    })
}
