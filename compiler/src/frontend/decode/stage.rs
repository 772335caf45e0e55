//! A `stage` or `image` node and the items of its body.

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics, Span};
use crate::base::keywords::BodyNode;
use crate::frontend::ast::*;
use crate::frontend::decode::step::{decode_command, decode_run, decode_step};
use crate::frontend::entries::*;
use crate::frontend::values;
use kdl::KdlNode;

/// Settings that a stage can only have once, besides `from` and `platform`.
const ONCE: &[BodyNode] = &[
    BodyNode::Entrypoint,
    BodyNode::Cmd,
    BodyNode::Healthcheck,
    BodyNode::StopSignal,
    BodyNode::Context,
];

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
    values::check_name(&name, kind.name(), d);
    let mut stage = StageDecl {
        kind,
        name,
        span: node.span(),
        from: None,
        platform: None,
        platforms: Vec::new(),
        context: None,
        tags: Vec::new(),
        artifacts: Vec::new(),
        items: Vec::new(),
    };
    let mut from_span: Option<Span> = None;
    let mut platform_span: Option<Span> = None;
    let mut single: Vec<(BodyNode, Span)> = Vec::new();
    for child in children {
        let keyword = BodyNode::parse(child.name().value());
        // Settings that a stage can only have once.
        if let Some(key) = keyword.filter(|k| ONCE.contains(k)) {
            if let Some((_, first)) = single.iter().find(|(k, _)| *k == key) {
                duplicate_node(d, child, *first);
                continue;
            }
            single.push((key, child.name().span()));
        }
        match keyword {
            Some(BodyNode::From) => {
                if let Some(first) = from_span {
                    duplicate_node(d, child, first);
                    continue;
                }
                from_span = Some(child.name().span());
                stage.from = decode_from(child, d);
            }
            Some(BodyNode::Platform) => {
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
            Some(BodyNode::Context) => {
                let mut args = NodeArgs::new(child, d);
                let value = args.string(d, "a folder such as \"web/\"");
                args.finish(d);
                expect_no_children(child, d);
                if let Some(mut value) = value {
                    check_context_dir(&mut value, d);
                    stage.context = Some(value);
                }
            }
            Some(BodyNode::Platforms) if kind == StageKind::Image => {
                let mut args = NodeArgs::new(child, d);
                let platforms = args.rest_strings(d, "a platform such as `linux/amd64`", 1);
                args.finish(d);
                expect_no_children(child, d);
                for platform in platforms {
                    values::check_target_platform(&platform, d);
                    if let Some(first) = stage.platforms.iter().find(|p| p.value == platform.value)
                    {
                        d.push(
                            Diagnostic::error(
                                Code::DuplicateName,
                                format!("the platform `{}` is listed twice", platform.value),
                            )
                            .primary(platform.span, "listed again here")
                            .secondary(first.span, "first listed here")
                            .help("list each platform once"),
                        );
                        continue;
                    }
                    stage.platforms.push(platform);
                }
            }
            Some(BodyNode::Tag) if kind == StageKind::Image => {
                let mut args = NodeArgs::new(child, d);
                let tags = args.rest_strings(d, "an image name and tag", 1);
                args.finish(d);
                expect_no_children(child, d);
                for tag in tags {
                    values::check_tag(&tag, d);
                    stage.tags.push(tag);
                }
            }
            Some(BodyNode::Artifact) => {
                if let Some(artifact) = decode_artifact(child, d) {
                    stage.artifacts.push(artifact);
                }
            }
            Some(BodyNode::Env) if is_env_pairs(child) => {
                for kind in decode_env_pairs(child, d) {
                    stage.items.push(Item {
                        kind,
                        span: child.span(),
                    });
                }
            }
            _ => {
                if let Some(kind) = decode_item(child, keyword, kind, d) {
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
                format!("{} `{}` has no base", kind.name(), stage.name.value),
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
    let image = args.take_arg().and_then(|entry| expect_word(entry, d));
    let stage = args.prop_string(d, "stage");
    args.finish(d);
    expect_no_children(node, d);
    match (image, stage) {
        (Some(image), None) => match image.value.as_literal() {
            Some(text) => {
                let image = Spanned::new(text.to_owned(), image.span);
                values::check_image_ref(&image, d);
                Some(FromDecl::Image(image))
            }
            None => {
                values::check_image_ref_word(&image, d);
                Some(FromDecl::ImageArgs(image))
            }
        },
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
    values::check_no_parent(&path, d);
    Some(ArtifactDecl {
        name,
        path,
        is_static,
        span: node.span(),
    })
}

/// `env NAME=VALUE...`: the first argument is a string holding `=`,
/// which no variable name does (a template's list expands so).
fn is_env_pairs(node: &KdlNode) -> bool {
    node.entries()
        .iter()
        .find(|e| e.name().is_none())
        .and_then(|e| e.value().as_string())
        .is_some_and(|s| s.contains('='))
}

/// `env NAME=VALUE...`: one variable per argument, split at its first `=`.
fn decode_env_pairs(node: &KdlNode, d: &mut Diagnostics) -> Vec<ItemKind> {
    let mut args = NodeArgs::new(node, d);
    let pairs = args.rest_strings(d, "NAME=VALUE pairs", 1);
    args.finish(d);
    expect_no_children(node, d);
    let mut items = Vec::new();
    for pair in pairs {
        let Some((name, value)) = pair.value.split_once('=') else {
            d.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!(
                        "`{}` is not a NAME=VALUE pair",
                        pair.value.escape_debug()
                    ),
                )
                .primary(pair.span, "no `=`")
                .help("after a first `NAME=VALUE`, every argument of `env` is one: `env \"A=1\" \"B=2\"`"),
            );
            continue;
        };
        let name = Spanned {
            value: name.to_owned(),
            span: pair.span,
        };
        values::check_variable_name(&name, d);
        items.push(ItemKind::Env {
            name,
            value: Spanned {
                value: Word::text(value),
                span: pair.span,
            },
        });
    }
    items
}

/// A body item; `keyword` is the node's name, when it is one.
fn decode_item(
    node: &KdlNode,
    keyword: Option<BodyNode>,
    stage_kind: StageKind,
    d: &mut Diagnostics,
) -> Option<ItemKind> {
    if keyword == Some(BodyNode::Step) {
        return decode_step(node, d).map(ItemKind::Step);
    }
    if keyword != Some(BodyNode::Run) {
        expect_no_children(node, d);
    }
    let mut args = NodeArgs::new(node, d);
    let item = match keyword {
        Some(BodyNode::Workdir) => args.word(d, "an absolute directory").map(|path| {
            values::check_word(&path, true, d, values::check_absolute_path);
            ItemKind::Workdir(path)
        }),
        Some(BodyNode::Env) => {
            let name = args.string(d, "the variable's name");
            let value = args.word(d, "the variable's value");
            match (name, value) {
                (Some(name), Some(value)) => {
                    values::check_variable_name(&name, d);
                    Some(ItemKind::Env { name, value })
                }
                _ => None,
            }
        }
        Some(BodyNode::Arg) => {
            let name = args.string(d, "the build argument's name");
            let default = args.opt_string(d);
            name.map(|name| {
                values::check_variable_name(&name, d);
                ItemKind::Arg { name, default }
            })
        }
        Some(BodyNode::Label) => {
            let key = args.string(d, "the label's key");
            let value = args.word(d, "the label's value");
            match (key, value) {
                (Some(key), Some(value)) => {
                    values::check_label_key(&key, d);
                    Some(ItemKind::Label { key, value })
                }
                _ => None,
            }
        }
        Some(BodyNode::Expose) if args.any_arg_word() => {
            let ports = args.rest_arg_words(d);
            for port in &ports {
                values::check_port_word(port, d);
            }
            (!ports.is_empty()).then_some(ItemKind::ExposeArgs(ports))
        }
        Some(BodyNode::Expose) => {
            let ports = args.rest_ports(d);
            (!ports.is_empty()).then_some(ItemKind::Expose(ports))
        }
        Some(BodyNode::User) => args
            .word(d, "a user, `user:group` or `uid:gid`")
            .map(|user| {
                if !user.value.has_args() {
                    values::check_word(&user, false, d, values::check_user);
                }
                ItemKind::User(user)
            }),
        Some(BodyNode::Volume) => {
            let paths = args.rest_strings(d, "an absolute path", 1);
            for path in &paths {
                values::check_absolute_path(path, d);
                values::check_volume_path(path, d);
            }
            (!paths.is_empty()).then_some(ItemKind::Volume(paths))
        }
        Some(BodyNode::Healthcheck) => {
            decode_healthcheck(node, &mut args, d).map(ItemKind::Healthcheck)
        }
        Some(BodyNode::Shell) => {
            let words = args.rest_strings(d, "the shell's argv, such as \"/bin/bash\" \"-c\"", 1);
            (!words.is_empty()).then_some(ItemKind::Shell(words))
        }
        Some(BodyNode::StopSignal) => args.string(d, "a signal such as SIGTERM").map(|signal| {
            values::check_signal(&signal, d);
            ItemKind::StopSignal(signal)
        }),
        Some(BodyNode::Entrypoint) => {
            decode_command(node, &mut args, d, false).map(ItemKind::Entrypoint)
        }
        Some(BodyNode::Cmd) => decode_command(node, &mut args, d, false).map(ItemKind::Cmd),
        Some(BodyNode::Run) => {
            expect_no_children(node, d);
            decode_run(node, &mut args, d).map(ItemKind::Run)
        }
        Some(BodyNode::Copy) => decode_copy(node, &mut args, d).map(ItemKind::Copy),
        Some(BodyNode::Add) => decode_add(node, &mut args, d).map(ItemKind::Add),
        // Not a body node, or `tag` or `platforms` in a stage (`decode_stage`
        // reads `from`, `platform`, `artifact` and an image's `tag` and
        // `platforms` itself).
        _ => {
            let (candidates, place): (Vec<&str>, String) = match stage_kind {
                StageKind::Image => (BodyNode::names().collect(), "in an image".into()),
                StageKind::Stage => (
                    BodyNode::ALL
                        .iter()
                        .filter(|n| !matches!(n, BodyNode::Tag | BodyNode::Platforms))
                        .map(|n| n.name())
                        .collect(),
                    "in a stage".into(),
                ),
            };
            if keyword == Some(BodyNode::Tag) {
                d.push(
                    Diagnostic::error(Code::UnknownNode, "`tag` is only for images")
                        .primary(node.name().span(), "a builder stage is never tagged")
                        .help("declare it with `image` instead of `stage` to make it an image"),
                );
            } else if keyword == Some(BodyNode::Platforms) {
                d.push(
                    Diagnostic::error(Code::UnknownNode, "`platforms` is only for images")
                        .primary(node.name().span(), "a builder stage is built for its image's platforms")
                        .help("list the platforms on the image; `platform \"$BUILDPLATFORM\"` runs a builder on the build machine"),
                );
            } else {
                unknown_node(d, node, &place, candidates.into_iter());
            }
            return None;
        }
    };
    args.finish(d);
    item
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
    if let Some(retries) = &retries {
        values::check_retries(retries, d);
    }
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
    let to = args.prop_word(d, "to");
    let chown = args.prop_string(d, "chown");
    let chmod = args.prop_string(d, "chmod");
    let link = args.prop_bool(d, "link");
    let exclude = values::exclude_patterns(args.prop_string(d, "exclude"), d);
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
                values::check_no_parent(path, d);
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
    let to = match (to, &source) {
        (Some(to), _) => to,
        // Context paths without `to=` keep their place, like inputs.
        // A glob in a directory keeps each match's place (COPY --parents).
        (None, CopySourceDecl::Context(_)) if !args.has("to") => {
            return Some(CopyDecl {
                source,
                to: None,
                chown,
                chmod,
                link,
                exclude,
                span: node.span(),
            });
        }
        (None, _) => {
            if !args.has("to") {
                missing_property(d, node, "to", "the destination, such as to=\"/app/\"");
            }
            return None;
        }
    };
    values::check_word(&to, false, d, values::check_destination);
    let sources = match &source {
        CopySourceDecl::Context(paths) | CopySourceDecl::Image { paths, .. } => paths.len(),
        CopySourceDecl::Artifact(_) => 1,
    };
    values::check_word(&to, false, d, |to, d| {
        values::check_directory_destination(sources, to, d)
    });
    if let CopySourceDecl::Context(paths) | CopySourceDecl::Image { paths, .. } = &source {
        values::check_directory_globs(paths, sources, d);
    }
    let to = Some(to);
    Some(CopyDecl {
        source,
        to,
        chown,
        chmod,
        link,
        exclude,
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
    values::check_directory_globs(
        sources.iter().filter(|s| !values::is_url(&s.value)),
        sources.len(),
        d,
    );
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

/// `context DIR`: a folder under the spec's, written one way (`./web/` is
/// `web`, `.` the spec's folder) so that stages compare by value; no glob,
/// since a build has one context.
fn check_context_dir(dir: &mut Spanned<String>, d: &mut Diagnostics) {
    values::check_context_path(dir, d);
    if dir.value.contains(['*', '?', '[']) {
        d.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{}` is a glob", dir.value.escape_debug()),
            )
            .primary(dir.span, "a context is one folder")
            .help("name the folder, such as context \"web/\""),
        );
    }
    // The folder starts every path of the stage, bind mount sources too,
    // where these characters would end or change the mount's fields.
    let bad = dir.value.chars().find(|c| {
        c.is_whitespace() || c.is_control() || matches!(c, ',' | '"' | '\'' | '=' | '$' | '\\')
    });
    if let Some(c) = bad {
        d.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("the context `{}` holds {c:?}", dir.value.escape_debug()),
            )
            .primary(dir.span, "unsafe in a bind mount's source")
            .help("name the folder without spaces, commas, quotes, `=`, `$` or backslashes"),
        );
    }
    let parts: Vec<&str> = dir
        .value
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    dir.value = if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    };
}
