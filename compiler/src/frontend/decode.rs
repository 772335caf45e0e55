//! KDL document → [`Ast`], by hand, keeping every span.
//!
//! Naming: `decode_*` turns one KDL node into a construct; `expect_*`
//! reports a user error when the node does not fit. Decoding never stops at
//! the first problem: a bad node is reported and skipped, its siblings are
//! still read.

use kdl::{KdlDocument, KdlEntry, KdlNode, KdlValue};

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics, Span, did_you_mean};
use crate::frontend::ast::*;
use crate::frontend::values;

/// The only language version this compiler reads.
pub const LANGUAGE_VERSION: u32 = 1;

const TOP_NODES: &[&str] = &[
    "stowplan", "output", "stage", "image", "template", "include",
];
pub(crate) const BODY_NODES: &[&str] = &[
    "from",
    "platform",
    "tag",
    "artifact",
    "workdir",
    "env",
    "arg",
    "label",
    "expose",
    "user",
    "volume",
    "healthcheck",
    "shell",
    "stopsignal",
    "entrypoint",
    "cmd",
    "run",
    "step",
    "copy",
    "add",
];
const STEP_NODES: &[&str] = &[
    "input", "run", "cache", "secret", "bind", "tmpfs", "ssh", "writes", "reads", "cost",
];

/// Decodes spec text. Always returns an AST (possibly partial) and every problem found.
pub fn decode(text: &str) -> (Ast, Diagnostics) {
    // The fast parser takes valid documents, one top-level node at a time,
    // so the whole document is never in memory; anything else (and every
    // error message) is the kdl crate's, from the start.
    let mut top = TopLevel::default();
    let mut d = Diagnostics::default();
    if crate::syntax::fastkdl::parse_each(text, &mut |node| top.node(&node, &mut d)).is_some() {
        let ast = top.finish(&mut d);
        return (ast, d);
    }
    decode_with_kdl(text)
}

/// [`decode`] with the kdl crate's parser alone: the reference the fast
/// path is tested against (`tests/fastkdl.rs`).
pub fn decode_with_kdl(text: &str) -> (Ast, Diagnostics) {
    let mut d = Diagnostics::default();
    // The kdl crate parses recursively: refuse a depth that could overflow
    // the stack rather than crash.
    if let Some(at) = too_deep(text) {
        d.push(
            Diagnostic::error(
                Code::KdlSyntax,
                format!("KDL syntax: more than {MAX_NESTING} unclosed `{{` or `/*`"),
            )
            .primary(Span::from(at..at + 1), "nested too deep")
            .help("stowplan specs nest a few levels; look for a `{` or `/*` that is never closed"),
        );
        return (Ast::default(), d);
    }
    let document = match KdlDocument::parse_v2(text) {
        Ok(document) => document,
        Err(error) => {
            for kdl in error.diagnostics {
                let message = kdl
                    .message
                    .clone()
                    .unwrap_or_else(|| "invalid KDL".to_owned());
                let mut diag = Diagnostic::error(Code::KdlSyntax, format!("KDL syntax: {message}"))
                    .primary(kdl.span, kdl.label.clone().unwrap_or_else(|| "here".into()));
                let at = text.get(kdl.span.offset()..).unwrap_or_default();
                let v1_keyword = ["true", "false", "null"].into_iter().find(|k| {
                    at.starts_with(k) && !at[k.len()..].starts_with(|c: char| c.is_alphanumeric())
                });
                diag = diag.help(match (v1_keyword, kdl.help.clone()) {
                    // KDL v1 habits are the commonest syntax error.
                    (Some(k), _) => format!("KDL v2 writes `{k}` as `#{k}`"),
                    (None, Some(help)) => help,
                    (None, None) => {
                        "stowplan specs are KDL v2 documents; see spec/language.md".into()
                    }
                });
                d.push(diag);
            }
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

/// How many `{` and `/*` may be open at once before the kdl crate is asked
/// to parse a document; the binary's stack holds that many levels.
const MAX_NESTING: usize = 1000;

/// Where the count of open `{` and `/*` first passes [`MAX_NESTING`]. It
/// counts the characters wherever they are, strings included: a cheap,
/// conservative bound, only consulted when the fast parser declined.
fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'/', Some(b'*')) | (b'{', _) => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
                i += usize::from(bytes[i] == b'/');
            }
            (b'*', Some(b'/')) | (b'}', _) => {
                depth = depth.saturating_sub(1);
                i += usize::from(bytes[i] == b'*');
            }
            _ => {}
        }
        i += 1;
    }
    None
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
        let name = node.name().value();
        match name {
            "stowplan" => {
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
            "output" => {
                if let Some(output) = decode_output(node, d) {
                    ast.outputs.push(output);
                }
            }
            "stage" => ast.stages.extend(decode_stage(node, StageKind::Stage, d)),
            // An image built from a template: `expand` makes its stages, in this place.
            "image" if node.entry("template").is_some() => ast.uses.extend(
                crate::frontend::template::decode_use(node, ast.stages.len(), d),
            ),
            "image" => ast.stages.extend(decode_stage(node, StageKind::Image, d)),
            "template" => ast
                .templates
                .extend(crate::frontend::template::decode_template(node, d)),
            "include" => ast
                .includes
                .extend(crate::frontend::template::decode_include(node, d)),
            _ => unknown_node(d, node, "at the top level", TOP_NODES),
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

fn decode_output(node: &KdlNode, d: &mut Diagnostics) -> Option<OutputDecl> {
    let mut args = NodeArgs::new(node, d);
    let path = args.string(d, "the output path");
    let builder = match args.prop_string(d, "builder") {
        None => crate::backend::builders::Builder::default(),
        Some(b) => match crate::backend::builders::Builder::parse(&b.value) {
            Some(builder) => builder,
            None => {
                let names: Vec<&str> = crate::backend::builders::Builder::ALL
                    .iter()
                    .map(|(n, _)| *n)
                    .collect();
                let mut diag =
                    Diagnostic::error(Code::InvalidValue, format!("unknown builder `{}`", b.value))
                        .primary(b.span, "not a builder stowplan knows");
                diag = match did_you_mean(&b.value, names.iter().copied()) {
                    Some(near) => diag.help(format!("did you mean `{near}`?")),
                    None => diag.help(format!("the builders are: {}", names.join(", "))),
                };
                d.push(diag);
                crate::backend::builders::Builder::default()
            }
        },
    };
    let format = match args.prop_string(d, "format") {
        None => Spanned::new(OutputFormat::Dockerfile(builder), node.name().span()),
        Some(f) => match f.value.as_str() {
            "dockerfile" => Spanned::new(OutputFormat::Dockerfile(builder), f.span),
            "buildah" => Spanned::new(OutputFormat::Buildah, f.span),
            _ => {
                d.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!("unknown output format `{}`", f.value),
                    )
                    .primary(f.span, "not an output format")
                    .help("the output formats are: dockerfile, buildah"),
                );
                return None;
            }
        },
    };
    let images = args.prop_string(d, "image").into_iter().collect();
    args.finish(d);
    expect_no_children(node, d);
    let path = path?;
    values::check_output_path(&path, d);
    Some(OutputDecl {
        path,
        format,
        images,
        span: node.span(),
    })
}

pub(crate) fn decode_stage(
    node: &KdlNode,
    kind: StageKind,
    d: &mut Diagnostics,
) -> Option<StageDecl> {
    let mut args = NodeArgs::new(node, d);
    let name = args.string(d, "a name");
    args.finish(d);
    let children = expect_children(node, d);
    let name = name?;
    values::check_name(&name, kind.keyword(), d);
    let mut stage = StageDecl {
        kind,
        name,
        span: node.span(),
        from: None,
        platform: None,
        tags: Vec::new(),
        artifacts: Vec::new(),
        items: Vec::new(),
    };
    let mut from_span: Option<Span> = None;
    let mut platform_span: Option<Span> = None;
    let mut single: Vec<(&'static str, Span)> = Vec::new();
    for child in children {
        let keyword = child.name().value();
        // Settings that a stage can only have once.
        if let Some(key) = ["entrypoint", "cmd", "healthcheck", "stopsignal"]
            .into_iter()
            .find(|k| *k == keyword)
        {
            if let Some((_, first)) = single.iter().find(|(k, _)| *k == key) {
                duplicate_node(d, child, *first);
                continue;
            }
            single.push((key, child.name().span()));
        }
        match keyword {
            "from" => {
                if let Some(first) = from_span {
                    duplicate_node(d, child, first);
                    continue;
                }
                from_span = Some(child.name().span());
                stage.from = decode_from(child, d);
            }
            "platform" => {
                if let Some(first) = platform_span {
                    duplicate_node(d, child, first);
                    continue;
                }
                platform_span = Some(child.name().span());
                let mut args = NodeArgs::new(child, d);
                let value = args.string(d, "a platform such as `linux/amd64`");
                args.finish(d);
                expect_no_children(child, d);
                if let Some(value) = value {
                    values::check_platform(&value, d);
                    stage.platform = Some(value);
                }
            }
            "tag" if kind == StageKind::Image => {
                let mut args = NodeArgs::new(child, d);
                let tags = args.rest_strings(d, "an image name and tag", 1);
                args.finish(d);
                expect_no_children(child, d);
                for tag in tags {
                    values::check_tag(&tag, d);
                    stage.tags.push(tag);
                }
            }
            "artifact" => {
                if let Some(artifact) = decode_artifact(child, d) {
                    stage.artifacts.push(artifact);
                }
            }
            _ => {
                if let Some(kind) = decode_item(child, kind, d) {
                    stage.items.push(Item {
                        kind,
                        span: child.span(),
                    });
                }
            }
        }
    }
    if from_span.is_none() {
        d.push(
            Diagnostic::error(
                Code::MissingNode,
                format!("{} `{}` has no base", kind.keyword(), stage.name.value),
            )
            .primary(stage.name.span, "needs a `from`")
            .help(
                "add `from \"debian:bookworm-slim\"`, `from \"scratch\"` or `from stage=\"name\"`",
            ),
        );
    }
    Some(stage)
}

fn decode_from(node: &KdlNode, d: &mut Diagnostics) -> Option<FromDecl> {
    let mut args = NodeArgs::new(node, d);
    let image = args.opt_string(d);
    let stage = args.prop_string(d, "stage");
    args.finish(d);
    expect_no_children(node, d);
    match (image, stage) {
        (Some(image), None) => {
            values::check_image_ref(&image, d);
            Some(FromDecl::Image(image))
        }
        (None, Some(stage)) => Some(FromDecl::Stage(stage)),
        (Some(image), Some(stage)) => {
            d.push(
                Diagnostic::error(Code::Conflict, "`from` names both an image and a stage")
                    .primary(image.span, "an image")
                    .secondary(stage.span, "a stage")
                    .help("keep one: `from \"image:tag\"` or `from stage=\"name\"`"),
            );
            None
        }
        (None, None) => {
            d.push(
                Diagnostic::error(Code::MissingArgument, "`from` needs an image or a stage")
                    .primary(node.span(), "nothing to build on")
                    .help("write `from \"debian:bookworm-slim\"` or `from stage=\"build\"`"),
            );
            None
        }
    }
}

fn decode_artifact(node: &KdlNode, d: &mut Diagnostics) -> Option<ArtifactDecl> {
    let mut args = NodeArgs::new(node, d);
    let name = args.string(d, "the artifact's name");
    let path = args.string(d, "the artifact's absolute path in the stage");
    let is_static = args.prop_bool(d, "static");
    args.finish(d);
    expect_no_children(node, d);
    let (name, path) = (name?, path?);
    values::check_name(&name, "artifact", d);
    values::check_absolute_path(&path, d);
    Some(ArtifactDecl {
        name,
        path,
        is_static,
        span: node.span(),
    })
}

fn decode_item(node: &KdlNode, stage_kind: StageKind, d: &mut Diagnostics) -> Option<ItemKind> {
    let keyword = node.name().value();
    if keyword == "step" {
        return decode_step(node, d).map(ItemKind::Step);
    }
    if keyword != "run" {
        expect_no_children(node, d);
    }
    let mut args = NodeArgs::new(node, d);
    let item = match keyword {
        "workdir" => args.string(d, "an absolute directory").map(|path| {
            values::check_absolute_path(&path, d);
            ItemKind::Workdir(path)
        }),
        "env" => {
            let name = args.string(d, "the variable's name");
            let value = args.string(d, "the variable's value");
            match (name, value) {
                (Some(name), Some(value)) => {
                    values::check_variable_name(&name, d);
                    Some(ItemKind::Env { name, value })
                }
                _ => None,
            }
        }
        "arg" => {
            let name = args.string(d, "the build argument's name");
            let default = args.opt_string(d);
            name.map(|name| {
                values::check_variable_name(&name, d);
                ItemKind::Arg { name, default }
            })
        }
        "label" => {
            let key = args.string(d, "the label's key");
            let value = args.string(d, "the label's value");
            match (key, value) {
                (Some(key), Some(value)) => {
                    values::check_label_key(&key, d);
                    Some(ItemKind::Label { key, value })
                }
                _ => None,
            }
        }
        "expose" => {
            let ports = args.rest_ports(d);
            (!ports.is_empty()).then_some(ItemKind::Expose(ports))
        }
        "user" => args
            .string(d, "a user, `user:group` or `uid:gid`")
            .map(|user| {
                values::check_user(&user, d);
                ItemKind::User(user)
            }),
        "volume" => {
            let paths = args.rest_strings(d, "an absolute path", 1);
            for path in &paths {
                values::check_absolute_path(path, d);
            }
            (!paths.is_empty()).then_some(ItemKind::Volume(paths))
        }
        "healthcheck" => decode_healthcheck(node, &mut args, d).map(ItemKind::Healthcheck),
        "shell" => {
            let words = args.rest_strings(d, "the shell's argv, such as \"/bin/bash\" \"-c\"", 1);
            (!words.is_empty()).then_some(ItemKind::Shell(words))
        }
        "stopsignal" => args.string(d, "a signal such as SIGTERM").map(|signal| {
            values::check_signal(&signal, d);
            ItemKind::StopSignal(signal)
        }),
        "entrypoint" => decode_command(node, &mut args, d, false).map(ItemKind::Entrypoint),
        "cmd" => decode_command(node, &mut args, d, false).map(ItemKind::Cmd),
        "run" => {
            expect_no_children(node, d);
            decode_run(node, &mut args, d).map(ItemKind::Run)
        }
        "copy" => decode_copy(node, &mut args, d).map(ItemKind::Copy),
        "add" => decode_add(node, &mut args, d).map(ItemKind::Add),
        _ => {
            let (candidates, place): (Vec<&str>, String) = match stage_kind {
                StageKind::Image => (BODY_NODES.to_vec(), "in an image".into()),
                StageKind::Stage => (
                    BODY_NODES.iter().copied().filter(|n| *n != "tag").collect(),
                    "in a stage".into(),
                ),
            };
            if keyword == "tag" {
                d.push(
                    Diagnostic::error(Code::UnknownNode, "`tag` is only for images")
                        .primary(node.name().span(), "a builder stage is never tagged")
                        .help("declare it with `image` instead of `stage` to make it an image"),
                );
            } else {
                unknown_node(d, node, &place, &candidates);
            }
            return None;
        }
    };
    args.finish(d);
    item
}

/// A command in exec form by default; `shell=#true` asks for shell form.
fn decode_command(
    node: &KdlNode,
    args: &mut NodeArgs<'_>,
    d: &mut Diagnostics,
    shell_by_default: bool,
) -> Option<CommandDecl> {
    let words = args.rest_strings(d, "the command", 1);
    let shell = args
        .prop_bool(d, "shell")
        .map_or(shell_by_default, |b| b.value);
    if words.is_empty() {
        return None;
    }
    if shell && words.len() > 1 {
        d.push(
            Diagnostic::error(Code::ExtraArgument, "a shell-form command is one string")
                .primary(words[1].span, "a second string")
                .help("join the command into one string, or drop `shell=#true` for exec form"),
        );
        return None;
    }
    if !shell {
        warn_spaced_program(&words[0], d);
    }
    Some(CommandDecl {
        words,
        shell,
        span: node.span(),
    })
}

/// In exec form the first word is a program name: `"node server.js"` looks
/// for a program with a space in its name, which is almost never meant.
fn warn_spaced_program(program: &Spanned<String>, d: &mut Diagnostics) {
    if program.value.trim().contains(char::is_whitespace) {
        d.push(
            Diagnostic::warning(
                Code::SpacedProgram,
                format!("exec form runs a program named `{}`", program.value.escape_debug()),
            )
            .primary(program.span, "one word with spaces in it")
            .help("write each word as its own string (\"node\" \"server.js\"), or add shell=#true to run it through the shell"),
        );
    }
}

fn decode_run(node: &KdlNode, args: &mut NodeArgs<'_>, d: &mut Diagnostics) -> Option<RunDecl> {
    let words = args.rest_strings(d, "the command to run", 1);
    let exec = args.prop_bool(d, "exec").is_some_and(|b| b.value);
    let network = args.prop_string(d, "network").and_then(|n| {
        let value = match n.value.as_str() {
            "default" => Network::Default,
            "none" => Network::None,
            "host" => Network::Host,
            _ => {
                d.push(
                    Diagnostic::error(Code::InvalidValue, format!("unknown network `{}`", n.value))
                        .primary(n.span, "not a network mode")
                        .help("the network modes are: default, none, host"),
                );
                return None;
            }
        };
        Some(Spanned::new(value, n.span))
    });
    let insecure = args.prop_bool(d, "insecure");
    if words.is_empty() {
        return None;
    }
    if !exec && words.len() > 1 {
        d.push(
            Diagnostic::error(Code::ExtraArgument, "`run` takes one shell script")
                .primary(words[1].span, "a second string")
                .help("join the words into one script, or add `exec=#true` to run an argv without a shell"),
        );
        return None;
    }
    if exec {
        warn_spaced_program(&words[0], d);
    }
    Some(RunDecl {
        command: CommandDecl {
            words,
            shell: !exec,
            span: node.span(),
        },
        network,
        insecure,
    })
}

fn decode_healthcheck(
    node: &KdlNode,
    args: &mut NodeArgs<'_>,
    d: &mut Diagnostics,
) -> Option<HealthcheckDecl> {
    if args.prop_bool(d, "none").is_some_and(|b| b.value) {
        return Some(HealthcheckDecl::None);
    }
    let interval = args.prop_string(d, "interval");
    let timeout = args.prop_string(d, "timeout");
    let start_period = args.prop_string(d, "start-period");
    let start_interval = args.prop_string(d, "start-interval");
    let retries = args.prop_int::<u32>(d, "retries");
    for duration in [&interval, &timeout, &start_period, &start_interval]
        .into_iter()
        .flatten()
    {
        values::check_duration(duration, d);
    }
    let command = decode_command(node, args, d, false)?;
    Some(HealthcheckDecl::Check(Box::new(CheckDecl {
        command,
        interval,
        timeout,
        start_period,
        start_interval,
        retries,
    })))
}

fn decode_copy(node: &KdlNode, args: &mut NodeArgs<'_>, d: &mut Diagnostics) -> Option<CopyDecl> {
    let paths = args.rest_strings(d, "", 0);
    let paths_written = args.arg_count() > 0;
    let artifact = args.prop_string(d, "artifact");
    let image = args.prop_string(d, "image");
    let to = args.prop_string(d, "to");
    let chown = args.prop_string(d, "chown");
    let chmod = args.prop_string(d, "chmod");
    let link = args.prop_bool(d, "link");
    if let Some(chown) = &chown {
        values::check_user(chown, d);
    }
    if let Some(chmod) = &chmod {
        values::check_chmod(chmod, d);
    }
    let source = match (artifact, image) {
        (Some(artifact), None) => {
            if let Some(extra) = paths.first() {
                d.push(
                    Diagnostic::error(Code::ExtraArgument, "an artifact copy takes no paths")
                        .primary(extra.span, "a path")
                        .secondary(artifact.span, "the artifact already says what to copy")
                        .help("copy context paths with a separate `copy \"path\" to=...`"),
                );
            }
            CopySourceDecl::Artifact(artifact)
        }
        (None, Some(image)) => {
            values::check_image_ref(&image, d);
            if !paths_written {
                missing_argument(d, node, "a path inside the image");
            }
            for path in &paths {
                values::check_absolute_path(path, d);
            }
            CopySourceDecl::Image { image, paths }
        }
        (None, None) => {
            if !paths_written {
                missing_argument(d, node, "a context path, or artifact=\"stage.name\"");
            }
            for path in &paths {
                values::check_context_path(path, d);
            }
            CopySourceDecl::Context(paths)
        }
        (Some(artifact), Some(image)) => {
            d.push(
                Diagnostic::error(Code::Conflict, "`copy` names both an artifact and an image")
                    .primary(artifact.span, "an artifact")
                    .secondary(image.span, "an image")
                    .help("use one `copy` for each source"),
            );
            return None;
        }
    };
    let Some(to) = to else {
        if !args.has("to") {
            missing_property(d, node, "to", "the destination, such as to=\"/app/\"");
        }
        return None;
    };
    values::check_destination(&to, d);
    let sources = match &source {
        CopySourceDecl::Context(paths) | CopySourceDecl::Image { paths, .. } => paths.len(),
        CopySourceDecl::Artifact(_) => 1,
    };
    values::check_directory_destination(sources, &to, d);
    Some(CopyDecl {
        source,
        to,
        chown,
        chmod,
        link,
        span: node.span(),
    })
}

fn decode_add(node: &KdlNode, args: &mut NodeArgs<'_>, d: &mut Diagnostics) -> Option<AddDecl> {
    let sources = args.rest_strings(d, "a URL or a context path", 1);
    let to = args.prop_string(d, "to");
    let chown = args.prop_string(d, "chown");
    let chmod = args.prop_string(d, "chmod");
    let checksum = args.prop_string(d, "checksum");
    for source in &sources {
        if !values::is_url(&source.value) {
            values::check_context_path(source, d);
        }
    }
    if let Some(chown) = &chown {
        values::check_user(chown, d);
    }
    if let Some(chmod) = &chmod {
        values::check_chmod(chmod, d);
    }
    if let Some(checksum) = &checksum {
        values::check_checksum(checksum, d);
    }
    let Some(to) = to else {
        if !args.has("to") {
            missing_property(d, node, "to", "the destination, such as to=\"/opt/\"");
        }
        return None;
    };
    values::check_destination(&to, d);
    values::check_directory_destination(sources.len(), &to, d);
    if let Some(checksum) = &checksum
        && let Some(local) = sources.iter().find(|s| !values::is_url(&s.value))
    {
        d.push(
            Diagnostic::error(Code::Conflict, "`checksum` only applies to downloads")
                .primary(checksum.span, "a checksum")
                .secondary(local.span, "a context file, not a URL")
                .help("add context files with a separate `add` or `copy`; keep checksum= for https:// sources"),
        );
    }
    if sources.is_empty() {
        return None;
    }
    Some(AddDecl {
        sources,
        to,
        chown,
        chmod,
        checksum,
        span: node.span(),
    })
}

fn decode_step(node: &KdlNode, d: &mut Diagnostics) -> Option<StepDecl> {
    let mut args = NodeArgs::new(node, d);
    let name = args.string(d, "the step's name");
    args.finish(d);
    let children = expect_children(node, d);
    let name = name?;
    values::check_name(&name, "step", d);
    let mut step = StepDecl {
        name,
        inputs: Vec::new(),
        runs: Vec::new(),
        mounts: Vec::new(),
        order: StepOrder::default(),
        span: node.span(),
    };
    for child in children {
        expect_no_children(child, d);
        let mut args = NodeArgs::new(child, d);
        match child.name().value() {
            "input" => {
                let paths = args.rest_strings(d, "a context path", 1);
                let to = args.prop_string(d, "to");
                if let Some(to) = &to {
                    values::check_destination(to, d);
                    values::check_directory_destination(paths.len(), to, d);
                }
                for path in paths {
                    values::check_context_path(&path, d);
                    values::check_input_glob(&path, d);
                    step.inputs.push(InputDecl {
                        path,
                        to: to.clone(),
                    });
                }
            }
            "run" => step.runs.extend(decode_run(child, &mut args, d)),
            // Declarations for the layer-order optimizer (spec/cache.md).
            "writes" | "reads" => {
                let paths = args.rest_strings(d, "an image path", 1);
                for path in &paths {
                    values::check_destination(path, d);
                }
                match child.name().value() {
                    "writes" => step.order.writes.extend(paths),
                    _ => step.order.reads.extend(paths),
                }
            }
            "cost" => step.order.cost = args.int::<u32>(d, "the cost in seconds"),
            "cache" => {
                let targets = args.rest_strings(d, "an absolute directory to cache", 1);
                let id = args.prop_string(d, "id");
                let sharing = args.prop_string(d, "sharing").and_then(|s| {
                    let value = match s.value.as_str() {
                        "shared" => Sharing::Shared,
                        "private" => Sharing::Private,
                        "locked" => Sharing::Locked,
                        _ => {
                            d.push(
                                Diagnostic::error(
                                    Code::InvalidValue,
                                    format!("unknown cache sharing `{}`", s.value),
                                )
                                .primary(s.span, "not a sharing mode")
                                .help("the sharing modes are: shared, private, locked"),
                            );
                            return None;
                        }
                    };
                    Some(Spanned::new(value, s.span))
                });
                if let Some(id) = &id {
                    values::check_mount_word(id, d);
                    if targets.len() > 1 {
                        d.push(
                            Diagnostic::error(
                                Code::Conflict,
                                "one cache `id` for several directories",
                            )
                            .primary(id.span, "shared by every target")
                            .help("write one `cache` node per directory when you name the cache"),
                        );
                    }
                }
                for target in targets {
                    values::check_absolute_path(&target, d);
                    values::check_mount_word(&target, d);
                    step.mounts.push(MountDecl {
                        kind: MountKind::Cache {
                            target,
                            id: id.clone(),
                            sharing: sharing.clone(),
                        },
                        span: child.span(),
                    });
                }
            }
            "secret" => {
                let id = args.string(d, "the secret's id");
                let target = args.prop_string(d, "target");
                let required = args.prop_bool(d, "required");
                if let Some(target) = &target {
                    values::check_absolute_path(target, d);
                    values::check_mount_word(target, d);
                }
                if let Some(id) = id {
                    values::check_mount_word(&id, d);
                    step.mounts.push(MountDecl {
                        kind: MountKind::Secret {
                            id,
                            target,
                            required,
                        },
                        span: child.span(),
                    });
                }
            }
            "bind" => {
                let source = args.string(d, "the path to bind");
                let target = args.prop_string(d, "target");
                let from_stage = args.prop_string(d, "stage");
                let rw = args.prop_bool(d, "rw");
                if target.is_none() && !args.has("target") {
                    missing_property(
                        d,
                        child,
                        "target",
                        "where to mount it, such as target=\"/src\"",
                    );
                }
                if let (Some(source), Some(target)) = (source, target) {
                    if from_stage.is_none() {
                        values::check_context_path(&source, d);
                    }
                    values::check_mount_word(&source, d);
                    values::check_absolute_path(&target, d);
                    values::check_mount_word(&target, d);
                    step.mounts.push(MountDecl {
                        kind: MountKind::Bind {
                            source,
                            target,
                            from_stage,
                            rw,
                        },
                        span: child.span(),
                    });
                }
            }
            "tmpfs" => {
                let target = args.string(d, "an absolute directory");
                let size = args.prop_int::<u64>(d, "size");
                if let Some(target) = target {
                    values::check_absolute_path(&target, d);
                    values::check_mount_word(&target, d);
                    step.mounts.push(MountDecl {
                        kind: MountKind::Tmpfs { target, size },
                        span: child.span(),
                    });
                }
            }
            "ssh" => {
                let id = args.prop_string(d, "id");
                let required = args.prop_bool(d, "required");
                if let Some(id) = &id {
                    values::check_mount_word(id, d);
                }
                step.mounts.push(MountDecl {
                    kind: MountKind::Ssh { id, required },
                    span: child.span(),
                });
            }
            _ => {
                unknown_node(d, child, "in a step", STEP_NODES);
                continue;
            }
        }
        args.finish(d);
    }
    if step.runs.is_empty() {
        d.push(
            Diagnostic::error(
                Code::MissingNode,
                format!("step `{}` runs nothing", step.name.value),
            )
            .primary(step.name.span, "needs at least one `run`")
            .help("add `run \"command\"` inside the step, or remove the step"),
        );
    }
    Some(step)
}

// ---------------------------------------------------------------- reading a node's entries

/// A node's arguments and properties, consumed one by one. `finish` reports
/// whatever the decoder did not ask for.
pub(crate) struct NodeArgs<'a> {
    node: &'a KdlNode,
    args: Vec<&'a KdlEntry>,
    next: usize,
    props: Vec<(&'a str, &'a KdlEntry)>,
    asked: Vec<&'static str>,
}

impl<'a> NodeArgs<'a> {
    pub(crate) fn new(node: &'a KdlNode, d: &mut Diagnostics) -> Self {
        let mut args = Vec::new();
        let mut props: Vec<(&'a str, &'a KdlEntry)> = Vec::new();
        for entry in node.entries() {
            if let Some(ty) = entry.ty() {
                d.push(
                    Diagnostic::error(Code::WrongType, "stowplan does not use type annotations")
                        .primary(ty.span(), "a type annotation")
                        .help("remove the `(...)` before the value"),
                );
            }
            match entry.name() {
                None => args.push(entry),
                Some(key) => {
                    if let Some((_, first)) = props.iter().find(|(k, _)| *k == key.value()) {
                        d.push(
                            Diagnostic::error(
                                Code::DuplicateProperty,
                                format!("property `{}` is set twice", key.value()),
                            )
                            .primary(entry.span(), "set again here")
                            .secondary(first.span(), "first set here")
                            .help("keep one of them"),
                        );
                        continue;
                    }
                    props.push((key.value(), entry));
                }
            }
        }
        NodeArgs {
            node,
            args,
            next: 0,
            props,
            asked: Vec::new(),
        }
    }

    fn take_arg(&mut self) -> Option<&'a KdlEntry> {
        let entry = self.args.get(self.next).copied();
        if entry.is_some() {
            self.next += 1;
        }
        entry
    }

    pub(crate) fn string(&mut self, d: &mut Diagnostics, what: &str) -> Option<Spanned<String>> {
        match self.take_arg() {
            Some(entry) => expect_string(entry, d),
            None => {
                missing_argument(d, self.node, what);
                None
            }
        }
    }

    pub(crate) fn opt_string(&mut self, d: &mut Diagnostics) -> Option<Spanned<String>> {
        self.take_arg().and_then(|e| expect_string(e, d))
    }

    fn rest_strings(
        &mut self,
        d: &mut Diagnostics,
        what: &str,
        min: usize,
    ) -> Vec<Spanned<String>> {
        let mut out = Vec::new();
        let mut seen = 0;
        while let Some(entry) = self.take_arg() {
            seen += 1;
            out.extend(expect_string(entry, d));
        }
        if seen < min {
            missing_argument(d, self.node, what);
        }
        out
    }

    fn rest_ports(&mut self, d: &mut Diagnostics) -> Vec<Spanned<Port>> {
        let mut out = Vec::new();
        let mut seen = false;
        while let Some(entry) = self.take_arg() {
            seen = true;
            out.extend(values::port(entry, d));
        }
        if !seen {
            missing_argument(d, self.node, "a port such as 8080 or \"53/udp\"");
        }
        out
    }

    fn int<T: TryFrom<i128>>(&mut self, d: &mut Diagnostics, what: &str) -> Option<Spanned<T>> {
        match self.take_arg() {
            Some(entry) => expect_int(entry, d),
            None => {
                missing_argument(d, self.node, what);
                None
            }
        }
    }

    /// How many arguments were written (even with bad values).
    fn arg_count(&self) -> usize {
        self.args.len()
    }

    /// Whether the property was written at all (even with a bad value).
    pub(crate) fn has(&self, key: &str) -> bool {
        self.props.iter().any(|(k, _)| *k == key)
    }

    pub(crate) fn prop(&mut self, key: &'static str) -> Option<&'a KdlEntry> {
        self.asked.push(key);
        self.props.iter().find(|(k, _)| *k == key).map(|(_, e)| *e)
    }

    pub(crate) fn prop_string(
        &mut self,
        d: &mut Diagnostics,
        key: &'static str,
    ) -> Option<Spanned<String>> {
        self.prop(key).and_then(|e| expect_string(e, d))
    }

    pub(crate) fn prop_bool(
        &mut self,
        d: &mut Diagnostics,
        key: &'static str,
    ) -> Option<Spanned<bool>> {
        let entry = self.prop(key)?;
        match entry.value() {
            KdlValue::Bool(b) => Some(Spanned::new(*b, entry.span())),
            other => {
                wrong_type(d, entry, "a boolean (#true or #false)", other);
                None
            }
        }
    }

    fn prop_int<T: TryFrom<i128>>(
        &mut self,
        d: &mut Diagnostics,
        key: &'static str,
    ) -> Option<Spanned<T>> {
        self.prop(key).and_then(|e| expect_int(e, d))
    }

    /// Reports arguments and properties nobody asked for.
    pub(crate) fn finish(self, d: &mut Diagnostics) {
        let keyword = self.node.name().value();
        for extra in &self.args[self.next..] {
            d.push(
                Diagnostic::error(
                    Code::ExtraArgument,
                    format!("too many arguments for `{keyword}`"),
                )
                .primary(extra.span(), "not expected")
                .help(format!(
                    "see `{keyword}` in spec/language.md for what it takes"
                )),
            );
        }
        for (key, entry) in &self.props {
            if self.asked.contains(key) {
                continue;
            }
            let mut diag = Diagnostic::error(
                Code::UnknownProperty,
                format!("`{keyword}` has no property `{key}`"),
            )
            .primary(entry.span(), "unknown property");
            diag = match did_you_mean(key, self.asked.iter().copied()) {
                Some(near) => diag.help(format!("did you mean `{near}`?")),
                None if self.asked.is_empty() => {
                    diag.help(format!("`{keyword}` takes no properties"))
                }
                None => diag.help(format!("`{keyword}` takes: {}", self.asked.join(", "))),
            };
            d.push(diag);
        }
    }
}

pub(crate) fn expect_string(entry: &KdlEntry, d: &mut Diagnostics) -> Option<Spanned<String>> {
    match entry.value() {
        // Argv, environment and paths are C strings in a container: NUL ends them.
        KdlValue::String(s) if s.contains('\0') => {
            d.push(
                Diagnostic::error(Code::InvalidValue, "a value holds a NUL character")
                    .primary(entry.span(), "contains \\u{0}")
                    .help("remove the NUL: commands, variables and paths cannot carry one"),
            );
            None
        }
        KdlValue::String(s) => Some(Spanned::new(s.clone(), entry.span())),
        other => {
            wrong_type(d, entry, "a string", other);
            None
        }
    }
}

fn expect_int<T: TryFrom<i128>>(entry: &KdlEntry, d: &mut Diagnostics) -> Option<Spanned<T>> {
    match entry.value() {
        KdlValue::Integer(i) => match T::try_from(*i) {
            Ok(v) => Some(Spanned::new(v, entry.span())),
            Err(_) => {
                d.push(
                    Diagnostic::error(Code::InvalidValue, format!("{i} is out of range"))
                        .primary(entry.span(), "out of range")
                        .help("use a smaller, non-negative number"),
                );
                None
            }
        },
        other => {
            wrong_type(d, entry, "an integer", other);
            None
        }
    }
}

pub(crate) fn wrong_type(d: &mut Diagnostics, entry: &KdlEntry, expected: &str, found: &KdlValue) {
    let found = match found {
        KdlValue::String(_) => "a string",
        KdlValue::Integer(_) => "an integer",
        KdlValue::Float(_) => "a number",
        KdlValue::Bool(_) => "a boolean",
        KdlValue::Null => "#null",
    };
    let help = if expected == "a string" {
        "quote the value: \"...\"".to_owned()
    } else {
        format!("write {expected} here")
    };
    d.push(
        Diagnostic::error(
            Code::WrongType,
            format!("expected {expected}, found {found}"),
        )
        .primary(entry.span(), format!("{found}, not {expected}"))
        .help(help),
    );
}

pub(crate) fn missing_argument(d: &mut Diagnostics, node: &KdlNode, what: &str) {
    let keyword = node.name().value();
    d.push(
        Diagnostic::error(
            Code::MissingArgument,
            format!("`{keyword}` is missing {what}"),
        )
        .primary(node.span(), format!("needs {what}"))
        .help(format!("see `{keyword}` in spec/language.md")),
    );
}

pub(crate) fn missing_property(d: &mut Diagnostics, node: &KdlNode, key: &str, what: &str) {
    let keyword = node.name().value();
    d.push(
        Diagnostic::error(
            Code::MissingProperty,
            format!("`{keyword}` is missing `{key}`"),
        )
        .primary(node.span(), format!("needs `{key}=`"))
        .help(format!("add {what}")),
    );
}

pub(crate) fn unknown_node(d: &mut Diagnostics, node: &KdlNode, place: &str, candidates: &[&str]) {
    let name = node.name().value();
    let mut diag = Diagnostic::error(Code::UnknownNode, format!("unknown node `{name}` {place}"))
        .primary(node.name().span(), "not a stowplan node here");
    diag = match did_you_mean(name, candidates.iter().copied()) {
        Some(near) => diag.help(format!("did you mean `{near}`?")),
        None => diag.help(format!("expected one of: {}", candidates.join(", "))),
    };
    d.push(diag);
}

pub(crate) fn duplicate_node(d: &mut Diagnostics, node: &KdlNode, first: Span) {
    let name = node.name().value();
    d.push(
        Diagnostic::error(Code::DuplicateNode, format!("`{name}` is given twice"))
            .primary(node.name().span(), "given again here")
            .secondary(first, "first given here")
            .help(format!("keep one `{name}`")),
    );
}

pub(crate) fn expect_no_children(node: &KdlNode, d: &mut Diagnostics) {
    if let Some(children) = node.children() {
        d.push(
            Diagnostic::error(
                Code::Children,
                format!("`{}` takes no children block", node.name().value()),
            )
            .primary(children.span(), "unexpected block")
            .help("remove the `{ ... }`"),
        );
    }
}

pub(crate) fn expect_children<'a>(node: &'a KdlNode, d: &mut Diagnostics) -> &'a [KdlNode] {
    match node.children() {
        Some(children) => children.nodes(),
        None => {
            d.push(
                Diagnostic::error(
                    Code::Children,
                    format!("`{}` needs a children block", node.name().value()),
                )
                .primary(node.span(), "no `{ ... }`")
                .help(format!(
                    "write `{} \"name\" {{ ... }}`",
                    node.name().value()
                )),
            );
            &[]
        }
    }
}
