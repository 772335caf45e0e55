//! One plan instruction → its buildah commands or helper calls.

use std::fmt::Write as _;

use crate::backend::buildah::{Emitter, StageState, docker_reference, refuse, refuse_stage_ref};
use crate::backend::quote::bash::{bash_word, json_word, shellwords_line};
use crate::base::diagnostic::{Diagnostics, Span};
use crate::base::keywords::Network;
use crate::base::word::Piece;
use crate::plan::ir::{Add, Copy, CopySource, Healthcheck, Instruction, Run, Word};

/// The helper variable `set_env` spells `$` with; see `prelude/set_env.sh`.
const DOLLAR_VARIABLE: &str = "STOWPLAN_DOLLAR";

impl Emitter<'_> {
    /// Writes one instruction's lines; false when any part was refused.
    pub(super) fn instruction(
        &mut self,
        instruction: &Instruction,
        origin: Span,
        state: &mut StageState,
        out: &mut String,
        d: &mut Diagnostics,
    ) -> bool {
        let config = |out: &mut String, flags: &str| {
            let _ = writeln!(out, "  buildah config {flags} \"$c\"");
        };
        match instruction {
            Instruction::Workdir(path)
                if !path.starts_with_arg() && !path.sketch().starts_with('/') =>
            {
                refuse(
                    d,
                    origin,
                    "a relative working directory cannot be written in a Buildah script",
                    "not an absolute path",
                    "write the working directory as an absolute path",
                );
                return false;
            }
            Instruction::Workdir(path) => {
                self.uses.workdir = true;
                let path = self.word("\"$c\"", path, out);
                let _ = writeln!(out, "  set_workdir \"$c\" {path}");
            }
            Instruction::Env { name, value } => {
                if !is_identifier(name) {
                    refuse(
                        d,
                        origin,
                        "this ENV name cannot be written in a Buildah script",
                        "not a variable name",
                        "use letters, digits and `_`, not starting with a digit",
                    );
                    return false;
                }
                if name == DOLLAR_VARIABLE {
                    refuse(
                        d,
                        origin,
                        &format!("the Buildah script uses `{DOLLAR_VARIABLE}` for itself"),
                        "reserved by the Buildah script",
                        "choose another variable name",
                    );
                    return false;
                }
                self.uses.env = true;
                let value = self.word("\"$c\"", value, out);
                let _ = writeln!(out, "  set_env \"$c\" {} {value}", bash_word(name));
            }
            Instruction::Arg { name, default } => {
                if !is_identifier(name) {
                    refuse(
                        d,
                        origin,
                        "this ARG name cannot be written in a Buildah script",
                        "not a variable name",
                        "use letters, digits and `_`, not starting with a digit",
                    );
                    return false;
                }
                self.uses.args = true;
                self.arg_names.insert(name.clone());
                let global = default.is_none()
                    && (self.plan.args.iter().any(|a| &a.name == name)
                        || crate::base::word::is_automatic(name));
                if global {
                    // Declared before the stages: the stage's ARG takes its value.
                    self.uses.global_args = true;
                    let _ = writeln!(out, "  set_global_arg \"$c\" {}", bash_word(name));
                    return true;
                }
                let mut line = format!("  set_arg \"$c\" {}", bash_word(name));
                if let Some(default) = default {
                    let _ = write!(line, " {}", bash_word(default));
                }
                let _ = writeln!(out, "{line}");
            }
            Instruction::Label { key, value } => {
                let mut entry = Word::text(format!("{key}="));
                for piece in value.pieces() {
                    match piece {
                        Piece::Text(text) => entry.push_text(text),
                        Piece::Arg(name) => entry.push_arg(name),
                    }
                }
                let entry = self.word("\"$c\"", &entry, out);
                config(out, &format!("--label {entry}"));
            }
            Instruction::Expose(port) => {
                let protocol = match port.protocol {
                    crate::base::keywords::Protocol::Tcp => "tcp",
                    crate::base::keywords::Protocol::Udp => "udp",
                };
                // Docker records `8080/tcp`; buildah would record a bare `8080`.
                config(out, &format!("--port {}/{protocol}", port.number));
            }
            Instruction::ExposeArg(port) => {
                // Docker records `8080/tcp`; buildah would record a bare `8080`.
                let port = match port.as_literal() {
                    Some(text) if text.contains('/') => bash_word(text),
                    Some(text) => bash_word(&format!("{text}/tcp")),
                    None => {
                        let port = self.word("\"$c\"", port, out);
                        out.push_str("  [[ $w == */* ]] || w+=/tcp\n");
                        port
                    }
                };
                config(out, &format!("--port {port}"));
            }
            Instruction::User(user) => {
                let user = self.word("\"$c\"", user, out);
                config(out, &format!("--user {user}"));
            }
            Instruction::Volume(paths) => {
                // The decoder refuses these for both backends; a plan made
                // by hand must not reach buildah with them either.
                if paths.iter().any(|p| p.ends_with('-') || p.contains(',')) {
                    refuse(
                        d,
                        origin,
                        "this volume path cannot be written in a Buildah script",
                        "buildah splits `--volume` on `,` and reads a trailing `-` as \"remove this volume\"",
                        "write the path without `,`, and end it with `/` rather than `-`",
                    );
                    return false;
                }
                let flags: Vec<String> = paths
                    .iter()
                    .map(|p| format!("--volume {}", bash_word(p)))
                    .collect();
                config(out, &flags.join(" "));
            }
            Instruction::Healthcheck(None) => {
                config(
                    out,
                    "--healthcheck NONE --healthcheck-interval 0s --healthcheck-timeout 0s \
                     --healthcheck-start-period 0s --healthcheck-retries 0",
                );
            }
            Instruction::Healthcheck(Some(check)) => {
                let Some(flags) = healthcheck(check, origin, d) else {
                    return false;
                };
                config(out, &flags);
            }
            Instruction::Shell(words) => {
                config(
                    out,
                    &format!("--shell {}", bash_word(&shellwords_line(words))),
                );
            }
            Instruction::StopSignal(signal) => {
                config(out, &format!("--stop-signal {}", bash_word(signal)));
            }
            Instruction::Entrypoint(cmd) => {
                if !state.cmd_set {
                    // Docker resets an inherited CMD when ENTRYPOINT is set.
                    self.uses.clear_cmd = true;
                    out.push_str("  clear_cmd \"$c\"\n");
                }
                config(out, &format!("--entrypoint {}", json_word(&cmd.argv())));
            }
            Instruction::Cmd(cmd) => {
                state.cmd_set = true;
                config(out, &format!("--cmd {}", json_word(&cmd.argv())));
            }
            Instruction::Copy(copy) => return self.copy(copy, origin, out, d),
            Instruction::Add(add) => return self.add(add, origin, out, d),
            Instruction::Run(run) => return self.run(run, origin, out, d),
        }
        true
    }

    pub(super) fn context_path(&mut self, path: &str) -> String {
        self.uses.context = true;
        self.uses.from_context = true;
        format!("\"$context\"/{}", bash_word(path))
    }

    pub(super) fn copy(
        &mut self,
        copy: &Copy,
        origin: Span,
        out: &mut String,
        d: &mut Diagnostics,
    ) -> bool {
        if let CopySource::Stage(name) = &copy.source
            && !self.done.contains(name.as_str())
        {
            refuse_stage_ref(d, origin, name);
            return false;
        }
        // buildah 1.28's `copy` has neither flag; copying each match by
        // hand would glob on the host, outside the context's rules.
        if copy.parents {
            refuse(
                d,
                origin,
                "a glob in a directory cannot keep its matches' places in a Buildah script",
                "needs `COPY --parents`",
                "list the files (input \"packages/a/package.json\" \"packages/b/package.json\"), or compile a Dockerfile for BuildKit",
            );
            return false;
        }
        if !copy.exclude.is_empty() {
            refuse(
                d,
                origin,
                "`exclude=` cannot be written in a Buildah script",
                "needs `COPY --exclude`",
                "copy the directories you need by name, or leave the files out with .dockerignore",
            );
            return false;
        }
        if let CopySource::Named(name) = &copy.source {
            // The script reads the host's folders itself: it is planned
            // with one context, so this is never reached from the CLI.
            refuse(
                d,
                origin,
                "a named context cannot be read in a Buildah script",
                &format!("copies from the named context `{name}`"),
                "declare `contexts=\"named\"` on Dockerfile outputs only",
            );
            return false;
        }
        let mut line = String::from("  buildah copy -q");
        let sources: Vec<String> = match &copy.source {
            CopySource::Context | CopySource::Named(_) => {
                line.push_str(" \"${from_context[@]}\"");
                copy.paths.iter().map(|p| self.context_path(p)).collect()
            }
            CopySource::Stage(name) => {
                let _ = write!(line, " --from \"${{ctr[{name}]}}\"");
                copy.paths.iter().map(|p| bash_word(p)).collect()
            }
            CopySource::Image(image) => {
                let image = docker_reference(image);
                let next = self.external.len();
                let slot = *self.external.entry(image.clone()).or_insert(next);
                if slot == next {
                    // First use: a container of the image to copy from.
                    self.uses.external = true;
                    let _ = writeln!(
                        out,
                        "  external[{slot}]=$(buildah from --pull=\"$pull\" --format docker {})",
                        bash_word(&image)
                    );
                    let _ = writeln!(out, "  containers+=(\"${{external[{slot}]}}\")");
                }
                let _ = write!(line, " --from \"${{external[{slot}]}}\"");
                copy.paths.iter().map(|p| bash_word(p)).collect()
            }
        };
        owner_and_mode(&mut line, copy.chown.as_deref(), copy.chmod.as_deref());
        let dest = match copy.dest.as_literal() {
            Some(dest) => bash_word(&destination(dest)),
            None => {
                let mut dest = copy.dest.clone();
                if let Some(Piece::Text(first)) = copy.dest.pieces().first()
                    && first.starts_with('-')
                {
                    dest = Word::text("./");
                    for piece in copy.dest.pieces() {
                        match piece {
                            Piece::Text(text) => dest.push_text(text),
                            Piece::Arg(name) => dest.push_arg(name),
                        }
                    }
                }
                self.word("\"$c\"", &dest, out)
            }
        };
        let _ = write!(line, " \"$c\" {} {dest}", sources.join(" "));
        let _ = writeln!(out, "{line}");
        true
    }

    pub(super) fn add(
        &mut self,
        add: &Add,
        origin: Span,
        out: &mut String,
        d: &mut Diagnostics,
    ) -> bool {
        if let Some(checksum) = &add.checksum {
            let url = match add.sources.as_slice() {
                [url] if crate::base::keywords::is_url(url) => url,
                _ => {
                    refuse(
                        d,
                        origin,
                        "a checksum on this ADD cannot be checked in a Buildah script",
                        "the script checks the checksum of one downloaded URL",
                        "give `checksum=` only to an `add` of a single http(s) URL",
                    );
                    return false;
                }
            };
            let Some(name) = url_file_name(url) else {
                refuse(
                    d,
                    origin,
                    "the downloaded file's name cannot be told from this URL",
                    "the URL's path has no file name",
                    "end the URL with the file's name, or give `to=` a file path",
                );
                return false;
            };
            let hex = checksum.strip_prefix("sha256:").unwrap_or(checksum);
            self.uses.download = true;
            let _ = writeln!(
                out,
                "  download {} {} {}",
                bash_word(url),
                bash_word(&name),
                bash_word(hex)
            );
            let mut line = String::from("  buildah copy -q");
            // Docker gives a download mode 0600 unless told otherwise.
            owner_and_mode(
                &mut line,
                add.chown.as_deref(),
                Some(add.chmod.as_deref().unwrap_or("0600")),
            );
            let _ = writeln!(
                line,
                " \"$c\" \"$downloaded\" {}",
                bash_word(&destination(&add.dest))
            );
            out.push_str(&line);
            return true;
        }
        let mut line = String::from("  buildah add -q");
        let local = add
            .sources
            .iter()
            .any(|s| !crate::base::keywords::is_url(s));
        if local {
            line.push_str(" \"${from_context[@]}\"");
        }
        owner_and_mode(&mut line, add.chown.as_deref(), add.chmod.as_deref());
        let sources: Vec<String> = add
            .sources
            .iter()
            .map(|s| {
                if crate::base::keywords::is_url(s) {
                    bash_word(s)
                } else {
                    self.context_path(s)
                }
            })
            .collect();
        let _ = writeln!(
            line,
            " \"$c\" {} {}",
            sources.join(" "),
            bash_word(&destination(&add.dest))
        );
        out.push_str(&line);
        true
    }

    pub(super) fn run(
        &mut self,
        run: &Run,
        origin: Span,
        out: &mut String,
        d: &mut Diagnostics,
    ) -> bool {
        if run.insecure {
            refuse(
                d,
                origin,
                "an insecure run cannot be written in a Buildah script",
                "`buildah run` has no privileged mode",
                "remove `insecure=#true`, or build this spec from its Dockerfile",
            );
            return false;
        }
        let mut lines = String::new();
        let mut ssh_index = 0usize;
        // Every mount is tried, so that one run reports all it cannot say.
        let mut said = true;
        for mount in &run.mounts {
            said &= self.mount(&mount.value, mount.origin, &mut ssh_index, &mut lines, d);
        }
        if !said {
            return false;
        }
        self.uses.run = true;
        let mut line = String::from("  run_in \"$c\"");
        match run.network {
            None | Some(Network::Default) => {}
            Some(Network::None) => line.push_str(" --network=none"),
            Some(Network::Host) => line.push_str(" --network=host"),
        }
        line.push_str(" --");
        for word in run.command.argv() {
            let _ = write!(line, " {}", bash_word(&word));
        }
        out.push_str(&lines);
        let _ = writeln!(out, "{line}");
        true
    }
}

impl Emitter<'_> {
    /// A value as one bash word: single-quoted when it names no build
    /// argument; else `"$w"`, after a line that calls the `word` helper
    /// with its pieces (`=TEXT`, or an argument's name) for the stage of
    /// container `ctr` (`''`: the arguments declared before the stages).
    pub(super) fn word(&mut self, ctr: &str, value: &Word, out: &mut String) -> String {
        if let Some(text) = value.as_literal() {
            return bash_word(text);
        }
        self.uses.words = true;
        let mut line = format!("  word {ctr}");
        for piece in value.pieces() {
            match piece {
                Piece::Text(text) => {
                    let _ = write!(line, " {}", bash_word(&format!("={text}")));
                }
                Piece::Arg(name) => {
                    let _ = write!(line, " {}", bash_word(name));
                }
            }
        }
        let _ = writeln!(out, "{line}");
        "\"$w\"".to_owned()
    }
}

/// A copy's destination as buildah reads it: buildah 1.28 takes any
/// argument starting with `-` for an option (even after `--`), so such a
/// relative destination is written `./-...`, the same place.
pub(super) fn destination(dest: &str) -> String {
    if dest.starts_with('-') {
        format!("./{dest}")
    } else {
        dest.to_owned()
    }
}

fn owner_and_mode(line: &mut String, chown: Option<&str>, chmod: Option<&str>) {
    if let Some(chown) = chown {
        let _ = write!(line, " --chown {}", bash_word(chown));
    }
    if let Some(chmod) = chmod {
        let _ = write!(line, " --chmod {}", bash_word(chmod));
    }
}

/// `--healthcheck` and its settings, written the way the Dockerfile writes
/// HEALTHCHECK (always `CMD argv...`, a shell-form check through its shell)
/// so that the image records the same test. Settings left out are 0, as in
/// Docker's config (buildah would fill in its own defaults).
fn healthcheck(check: &Healthcheck, origin: Span, d: &mut Diagnostics) -> Option<String> {
    if check.start_interval.is_some() {
        refuse(
            d,
            origin,
            "a health check's start interval cannot be written in a Buildah script",
            "buildah 1.28 has no --healthcheck-start-interval",
            "remove `start-interval=`, or build this spec from its Dockerfile",
        );
        return None;
    }
    let test = format!("CMD {}", shellwords_line(&check.command.argv()));
    let mut flags = format!("--healthcheck {}", bash_word(&test));
    for (flag, value) in [
        ("interval", &check.interval),
        ("timeout", &check.timeout),
        ("start-period", &check.start_period),
    ] {
        let value = value.as_deref().unwrap_or("0s");
        let _ = write!(flags, " --healthcheck-{flag} {}", bash_word(value));
    }
    let _ = write!(
        flags,
        " --healthcheck-retries {}",
        check.retries.unwrap_or(0)
    );
    Some(flags)
}

/// The name Docker gives a file downloaded from `url`: the last segment of
/// its path, percent-decoded.
fn url_file_name(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let path = rest.split_once('/').map_or("", |(_, path)| path);
    let last = path.rsplit('/').next().unwrap_or_default();
    let bytes = last.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            decoded.push(byte);
            i += 3;
            continue;
        }
        decoded.push(bytes[i]);
        i += 1;
    }
    let name = String::from_utf8(decoded).ok()?;
    let usable = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains('/')
        && !name.chars().any(char::is_control);
    usable.then_some(name)
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
