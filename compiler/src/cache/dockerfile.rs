//! A Dockerfile, read with the `parse-dockerfile` crate, → [`CacheGraph`].
//!
//! Hand-written Dockerfiles and stowplan's own output go through this one
//! reader, so the cache model measures both the same way. Only what the
//! cache keys on is kept: what each instruction copies, mounts, expands and
//! declares, and its text for display.

use std::borrow::Cow;

use parse_dockerfile::{Command, Flag, Instruction, Source};

use crate::cache::{self, CacheBase, CacheGraph, CacheInstruction, CacheStage, Kind, Producer};

/// A Dockerfile that does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    pub message: String,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Reads a Dockerfile. Every stage that no other stage builds on or reads
/// from is a target (the images somebody builds with `--target`).
pub fn read(text: &str) -> Result<CacheGraph, ReadError> {
    let dockerfile = parse_dockerfile::parse(text).map_err(|e| ReadError {
        message: e.to_string(),
    })?;
    let starts: Vec<usize> = dockerfile.instructions.iter().map(keyword_start).collect();
    let mut graph = CacheGraph::default();
    let mut names: Vec<String> = Vec::new();
    // Per stage, how it was made: what a copy from it carries.
    let mut producers: Vec<Producer> = Vec::new();
    // ARGs before the first FROM: what a FROM line expands, with their defaults.
    let mut globals: Vec<(String, Option<String>)> = Vec::new();
    for (index, instruction) in dockerfile.instructions.iter().enumerate() {
        let start = starts[index];
        let end = starts.get(index + 1).copied().unwrap_or(text.len());
        let raw = instruction_text(&text[start..end]);
        let line = Some(text[..start].matches('\n').count() + 1);
        if let (Instruction::Arg(arg), true) = (instruction, graph.stages.is_empty()) {
            globals.extend(global_args(&arg.arguments.value));
            continue;
        }
        if let Instruction::From(from) = instruction {
            let written = from.image.value.as_ref();
            // The base as the global ARGs' defaults spell it: `--base
            // node:22-alpine` matches `FROM node:${V}` with `ARG V=22-alpine`.
            let spelled = expand_globals(written, &globals);
            let image = spelled.as_str();
            let base = if image.eq_ignore_ascii_case("scratch") {
                CacheBase::Scratch
            } else {
                match stage_index(&names, image) {
                    Some(parent) => CacheBase::Stage(parent),
                    None => CacheBase::Image(image.to_owned()),
                }
            };
            let name = from.as_.as_ref().map_or_else(
                || graph.stages.len().to_string(),
                |(_, n)| n.value.to_ascii_lowercase(),
            );
            names.push(name.clone());
            producers.push(match base {
                CacheBase::Stage(parent) => producers[parent].clone(),
                _ => Producer::default(),
            });
            graph.stages.push(CacheStage {
                name,
                target: true,
                base,
                from_expands: cache::expansions(written),
                from_text: raw,
                from_line: line,
                instructions: Vec::new(),
            });
            continue;
        }
        // Global ARGs only matter through the FROM lines that expand them.
        let Some(stage) = graph.stages.last_mut() else {
            continue;
        };
        let last = producers.len() - 1;
        let (done, current) = producers.split_at_mut(last);
        let mut cached = read_instruction(instruction, raw, &names, done, &mut current[0]);
        cached.line = line;
        stage.instructions.push(cached);
    }
    let mut used = vec![false; graph.stages.len()];
    for stage in &graph.stages {
        if let CacheBase::Stage(parent) = stage.base {
            used[parent] = true;
        }
        for instruction in &stage.instructions {
            for producer in &instruction.stages {
                used[*producer] = true;
            }
        }
    }
    for (stage, used) in graph.stages.iter_mut().zip(used) {
        stage.target = !used;
    }
    Ok(graph)
}

/// `ARG A=1 B` → `[(A, Some(1)), (B, None)]`; a default's quotes removed.
fn global_args(arguments: &str) -> Vec<(String, Option<String>)> {
    arguments
        .split_whitespace()
        .map(|a| match a.split_once('=') {
            Some((name, value)) => {
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                    .unwrap_or(value);
                (name.to_owned(), Some(value.to_owned()))
            }
            None => (a.to_owned(), None),
        })
        .collect()
}

/// A FROM reference with `$NAME`, `${NAME}`, `${NAME:-WORD}` and
/// `${NAME-WORD}` replaced by the global ARGs' defaults (empty when none,
/// as BuildKit does without `--build-arg`).
fn expand_globals(text: &str, globals: &[(String, Option<String>)]) -> String {
    if !text.contains('$') {
        return text.to_owned();
    }
    let value = |name: &str| -> Option<String> {
        globals
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.clone())
    };
    let is_ident = |c: char| c == '_' || c.is_ascii_alphanumeric();
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(inner) = after.strip_prefix('{')
            && let Some(close) = inner.find('}')
        {
            let body = &inner[..close];
            let name_end = body.find(|c: char| !is_ident(c)).unwrap_or(body.len());
            let (name, op) = body.split_at(name_end);
            let found = value(name).filter(|v| !(op.starts_with(":-") && v.is_empty()));
            match (found, op) {
                (Some(v), _) => out.push_str(&v),
                (None, op) if op.starts_with(":-") => out.push_str(&op[2..]),
                (None, op) if op.starts_with('-') => out.push_str(&op[1..]),
                (None, _) => {}
            }
            rest = &inner[close + 1..];
            continue;
        }
        let end = after.find(|c: char| !is_ident(c)).unwrap_or(after.len());
        if end == 0 {
            out.push('$');
        } else if let Some(v) = value(&after[..end]) {
            out.push_str(&v);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// A stage defined so far, by name or by index (`--from=0`).
fn stage_index(names: &[String], reference: &str) -> Option<usize> {
    let lower = reference.to_ascii_lowercase();
    names
        .iter()
        .position(|n| *n == lower)
        .or_else(|| reference.parse::<usize>().ok().filter(|i| *i < names.len()))
}

/// One instruction of the stage whose making `current` follows; `done`
/// holds the stages before it.
fn read_instruction(
    instruction: &Instruction<'_>,
    text: String,
    names: &[String],
    done: &[Producer],
    current: &mut Producer,
) -> CacheInstruction {
    let kind = match instruction {
        Instruction::Run(_) => Kind::Run,
        Instruction::Copy(_) => Kind::Copy,
        Instruction::Add(_) => Kind::Add,
        Instruction::Arg(_) => Kind::Arg,
        Instruction::Env(_) => Kind::Env,
        Instruction::Workdir(_) => Kind::Workdir,
        Instruction::User(_) => Kind::User,
        Instruction::Shell(_) => Kind::Shell,
        Instruction::Volume(_) => Kind::Volume,
        _ => Kind::Metadata,
    };
    let mut out = CacheInstruction::new(kind, text);
    match instruction {
        Instruction::Run(run) => {
            // The command text is the RUN's; a RUN sees every arg in scope anyway.
            let command = match &run.arguments {
                Command::Exec(argv) => argv
                    .value
                    .iter()
                    .map(|w| w.value.as_ref())
                    .collect::<Vec<_>>()
                    .join(" "),
                Command::Shell(script) => script.value.to_owned(),
                _ => String::new(),
            };
            let heredocs: String = run.here_docs.iter().map(|h| h.value.as_ref()).collect();
            let script = format!("{command}\n{heredocs}");
            out.cost = cache::run_cost(&script);
            current.ran(&script);
            for flag in &run.options {
                if flag.name.value == "mount"
                    && let Some(value) = &flag.value
                {
                    read_mount(&value.value, names, &mut out);
                }
            }
        }
        Instruction::Copy(copy) => {
            let from = flag_value(&copy.options, "from");
            let sources = read_sources(&copy.src, from, names, false, &mut out);
            let producer = out.stages.first().and_then(|s| done.get(*s));
            out.cost = cache::copy_cost(&sources, producer);
            out.link = linked(&copy.options);
            out.exclude = flag_values(&copy.options, "exclude");
        }
        Instruction::Add(add) => {
            let sources = read_sources(&add.src, None, names, true, &mut out);
            out.cost = cache::copy_cost(&sources, None);
            out.link = linked(&add.options);
        }
        Instruction::Workdir(workdir) => {
            current.entered(workdir.arguments.value.trim());
            let args = out
                .text
                .split_once(char::is_whitespace)
                .map_or("", |(_, a)| a);
            out.expands = cache::expansions(args);
        }
        Instruction::Arg(arg) => {
            out.declares = arg
                .arguments
                .value
                .split_whitespace()
                .map(|a| a.split('=').next().unwrap_or(a).to_owned())
                .collect();
            out.expands = cache::expansions(&arg.arguments.value);
        }
        // These expand variables in their arguments.
        Instruction::Env(_)
        | Instruction::User(_)
        | Instruction::Volume(_)
        | Instruction::Label(_)
        | Instruction::Expose(_)
        | Instruction::Stopsignal(_) => {
            let args = out
                .text
                .split_once(char::is_whitespace)
                .map_or("", |(_, a)| a);
            out.expands = cache::expansions(args);
        }
        _ => {}
    }
    out
}

/// `--link` or `--link=true`.
fn linked(flags: &[Flag<'_>]) -> bool {
    flags.iter().any(|f| {
        f.name.value == "link" && f.value.as_ref().is_none_or(|v| v.value.as_ref() == "true")
    })
}

/// Every value of a flag that may be given more than once.
fn flag_values(flags: &[Flag<'_>], name: &str) -> Vec<String> {
    flags
        .iter()
        .filter(|f| f.name.value == name)
        .filter_map(|f| f.value.as_ref())
        .map(|v| v.value.as_ref().to_owned())
        .collect()
}

fn flag_value<'a>(flags: &'a [Flag<'_>], name: &str) -> Option<&'a str> {
    flags
        .iter()
        .find(|f| f.name.value == name)
        .and_then(|f| f.value.as_ref())
        .map(|v| v.value.as_ref())
}

/// Reads what a COPY or ADD copies into `out`; returns its source paths.
fn read_sources<'a>(
    sources: &'a [Source<'_>],
    from: Option<&str>,
    names: &[String],
    add: bool,
    out: &mut CacheInstruction,
) -> Vec<&'a str> {
    let mut texts: Vec<Cow<'_, str>> = Vec::new();
    let mut paths: Vec<&str> = Vec::new();
    for source in sources {
        if let Source::Path(path) = source {
            texts.push(path.value.clone());
            paths.push(path.value.as_ref());
        }
    }
    for path in &texts {
        out.expands.extend(cache::expansions(path));
    }
    match from {
        Some(from) => {
            out.expands.extend(cache::expansions(from));
            match stage_index(names, from) {
                Some(stage) => out.stages.push(stage),
                None => out.images.push(from.to_owned()),
            }
        }
        None => {
            for path in texts {
                let remote = path.starts_with("http://")
                    || path.starts_with("https://")
                    || path.starts_with("git@");
                if add && remote {
                    out.images.push(path.into_owned());
                } else {
                    out.context.push(path.into_owned());
                }
            }
        }
    }
    paths
}

/// `type=bind` mounts read the context (or a stage); other mounts never key the cache.
fn read_mount(value: &str, names: &[String], out: &mut CacheInstruction) {
    let mut kind = "bind";
    let mut source = ".";
    let mut from: Option<&str> = None;
    for part in value.split(',') {
        let (key, val) = part.split_once('=').unwrap_or((part, ""));
        match key {
            "type" => kind = val,
            "source" | "src" => source = val,
            "from" => from = Some(val),
            _ => {}
        }
    }
    if kind != "bind" {
        return;
    }
    match from {
        Some(from) => match stage_index(names, from) {
            Some(stage) => out.stages.push(stage),
            None => out.images.push(from.to_owned()),
        },
        None => out.context.push(source.to_owned()),
    }
}

fn keyword_start(instruction: &Instruction<'_>) -> usize {
    match instruction {
        Instruction::Add(i) => i.add.span.start,
        Instruction::Arg(i) => i.arg.span.start,
        Instruction::Cmd(i) => i.cmd.span.start,
        Instruction::Copy(i) => i.copy.span.start,
        Instruction::Entrypoint(i) => i.entrypoint.span.start,
        Instruction::Env(i) => i.env.span.start,
        Instruction::Expose(i) => i.expose.span.start,
        Instruction::From(i) => i.from.span.start,
        Instruction::Healthcheck(i) => i.healthcheck.span.start,
        Instruction::Label(i) => i.label.span.start,
        Instruction::Maintainer(i) => i.maintainer.span.start,
        Instruction::Onbuild(i) => i.onbuild.span.start,
        Instruction::Run(i) => i.run.span.start,
        Instruction::Shell(i) => i.shell.span.start,
        Instruction::Stopsignal(i) => i.stopsignal.span.start,
        Instruction::User(i) => i.user.span.start,
        Instruction::Volume(i) => i.volume.span.start,
        Instruction::Workdir(i) => i.workdir.span.start,
        _ => 0,
    }
}

/// The instruction on one line: continuations joined, comments and blank
/// lines that follow it dropped.
fn instruction_text(raw: &str) -> String {
    let mut lines: Vec<&str> = raw.lines().collect();
    while lines
        .last()
        .is_some_and(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        lines.pop();
    }
    let mut out = String::new();
    for line in lines {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let line = line.strip_suffix('\\').unwrap_or(line).trim_end();
        if !out.is_empty() && !line.is_empty() {
            out.push(' ');
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stages_sources_and_args() {
        let graph = read(
            "ARG GO=1.22\nFROM golang:${GO} AS build\nWORKDIR /app\nCOPY . .\n# build it\nRUN go mod download\nRUN --mount=type=bind,source=go.sum,target=/x \\\n    go build -o app\n\nFROM alpine:3.20\nARG VERSION\nCOPY --from=build /app/app /app\nLABEL v=$VERSION\n",
        )
        .unwrap();
        assert_eq!(graph.stages.len(), 2);
        let build = &graph.stages[0];
        assert_eq!(build.from_expands, vec!["GO"]);
        assert!(!build.target);
        assert_eq!(build.instructions[1].context, vec!["."]);
        assert_eq!(build.instructions[2].text, "RUN go mod download");
        assert_eq!(build.instructions[2].line, Some(6));
        assert_eq!(
            build.instructions[3].text,
            "RUN --mount=type=bind,source=go.sum,target=/x go build -o app"
        );
        assert_eq!(build.instructions[3].context, vec!["go.sum"]);
        let runtime = &graph.stages[1];
        assert!(runtime.target);
        assert_eq!(runtime.name, "1");
        assert_eq!(runtime.instructions[0].declares, vec!["VERSION"]);
        assert_eq!(runtime.instructions[1].stages, vec![0]);
        assert_eq!(runtime.instructions[2].expands, vec!["VERSION"]);
    }
}
