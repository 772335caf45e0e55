//! What the suites share: the repository root, diagnostics rendered as a
//! reviewer sees them, the BuildKit-parser and hadolint oracles, the
//! read-back check, hostile values, the generated large spec and the
//! repository's specs. Compiled for tests only.
#![allow(dead_code)]

pub(crate) mod generate;
pub(crate) mod hostile;
mod oracles;
pub(crate) mod specs;

pub(crate) use oracles::{
    hadolint, oracle_available, parse_with_buildkit, root, shellcheck, shellcheck_available,
};

use crate::plan::ir::{self as plan, Base, CopySource, Instruction, Mount, Plan};
use crate::report::render::{Style, render};
use serde_json::Value;

/// Diagnostics as a reviewer sees them: graphical, no colour, fixed width.
pub(crate) fn render_all(diagnostics: &[crate::Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| {
            render(
                d,
                Style::Human {
                    color: false,
                    width: 100,
                },
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What BuildKit must read back for each planned instruction, in the
/// oracle's vocabulary. Commands are compared by the argv that finally
/// runs, so either form (shell or exec) passes if it means the same thing.
pub(crate) fn expected_readback(plan: &Plan) -> Vec<Value> {
    use serde_json::json;
    let mut out = Vec::new();
    for arg in &plan.args {
        out.push(json!({"cmd": "arg", "args": [[arg.name, arg.default]]}));
    }
    for stage in &plan.stages {
        let image = match &stage.base {
            Base::Scratch => "scratch".to_owned(),
            Base::Image(i) | Base::Stage(i) => i.clone(),
            Base::ImageArgs(i) => i.sketch(),
        };
        let flags: Vec<String> = stage
            .platform
            .iter()
            .map(|p| format!("--platform={p}"))
            .collect();
        let mut from = json!({"cmd": "from", "image": image, "as": stage.name, "flags": flags});
        // BuildKit expands `--platform=$BUILDPLATFORM`, then the image.
        let mut expands: Vec<&str> = stage
            .platform
            .iter()
            .filter_map(|p| p.strip_prefix('$'))
            .collect();
        if let Base::ImageArgs(word) = &stage.base {
            expands.extend(word.args());
        }
        if !expands.is_empty() {
            from["expands"] = json!(expands);
        }
        out.push(from);
        for located in &stage.instructions {
            let expands: Vec<&str> = located
                .value
                .words()
                .into_iter()
                .flat_map(|w| w.args())
                .collect();
            out.push(match &located.value {
                Instruction::Workdir(v) => json!({"cmd": "workdir", "value": v.sketch()}),
                Instruction::User(v) => json!({"cmd": "user", "value": v.sketch()}),
                Instruction::StopSignal(v) => json!({"cmd": "stopsignal", "value": v}),
                Instruction::Env { name, value } => json!({"cmd": "env", "pairs": [[name, value.sketch()]]}),
                Instruction::Label { key, value } => {
                    json!({"cmd": "label", "pairs": [[key, value.sketch()]]})
                }
                Instruction::Arg { name, default } => {
                    json!({"cmd": "arg", "args": [[name, default]]})
                }
                Instruction::ExposeArg(port) => {
                    json!({"cmd": "expose", "ports": [port.sketch()]})
                }
                Instruction::Expose(port) => {
                    json!({"cmd": "expose", "ports": [port.to_dockerfile()]})
                }
                Instruction::Volume(paths) => json!({"cmd": "volume", "paths": paths}),
                Instruction::Shell(words) => json!({"cmd": "shell", "argv": words}),
                Instruction::Entrypoint(c) => json!({"cmd": "entrypoint", "argv": c.argv()}),
                Instruction::Cmd(c) => json!({"cmd": "cmd", "argv": c.argv()}),
                Instruction::Healthcheck(None) => json!({"cmd": "healthcheck", "kind": "NONE"}),
                Instruction::Healthcheck(Some(h)) => {
                    json!({"cmd": "healthcheck", "kind": "CMD", "argv": h.command.argv()})
                }
                Instruction::Run(run) => json!({
                    "cmd": "run",
                    "argv": run.command.argv(),
                    "mounts": run.mounts.iter().map(|m| mount_fields(&m.value)).collect::<Vec<_>>(),
                }),
                Instruction::Copy(copy) => {
                    let from = match &copy.source {
                        CopySource::Context => None,
                        CopySource::Stage(s) | CopySource::Image(s) | CopySource::Named(s) => Some(s.clone()),
                    };
                    json!({"cmd": "copy", "sources": copy.paths, "dest": copy.dest.sketch(), "from": from,
                           "chown": copy.chown, "chmod": copy.chmod, "link": copy.link})
                }
                Instruction::Add(add) => {
                    json!({"cmd": "add", "sources": add.sources, "dest": add.dest,
                           "chown": add.chown, "chmod": add.chmod, "checksum": add.checksum})
                }
            });
            if !expands.is_empty()
                && let Some(last) = out.last_mut()
            {
                last["expands"] = json!(expands);
            }
        }
    }
    out
}

fn mount_fields(mount: &Mount) -> Value {
    use serde_json::json;
    match mount {
        Mount::Cache {
            target,
            id,
            sharing,
            uid,
            gid,
            mode,
        } => json!({"type": "cache", "target": target, "id": id,
            "sharing": sharing.map(|s| format!("{s:?}").to_lowercase()),
            "uid": uid.map(|u| u.to_string()), "gid": gid.map(|g| g.to_string()), "mode": mode}),
        Mount::Secret {
            id,
            target,
            required,
            env,
        } => {
            json!({"type": "secret", "id": id, "target": target, "env": env, "required": required.then_some("true")})
        }
        Mount::Bind {
            source,
            target,
            from_stage,
            rw,
        } => json!({"type": "bind", "source": source,
            "target": target, "from": from_stage, "rw": rw.then_some("")}),
        Mount::Tmpfs { target, size } => {
            json!({"type": "tmpfs", "target": target, "size": size.map(|s| s.to_string())})
        }
        Mount::Ssh { id, required } => {
            json!({"type": "ssh", "id": id, "required": required.then_some("true")})
        }
    }
}

/// The oracle's view of one instruction, normalised to `expected_readback`'s shape.
pub(crate) fn observed_readback(instruction: &Value, shells: &mut ShellTracker) -> Value {
    let mut observed = observed_fields(instruction, shells);
    if let (Some(expands), Some(fields)) = (instruction.get("expands"), observed.as_object_mut()) {
        fields.insert("expands".to_owned(), expands.clone());
    }
    observed
}

fn observed_fields(instruction: &Value, shells: &mut ShellTracker) -> Value {
    use serde_json::json;
    let cmd = instruction["cmd"].as_str().unwrap_or_default();
    let flags: Vec<String> = instruction["flags"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let flag = |name: &str| -> Option<String> {
        flags
            .iter()
            .find_map(|f| f.strip_prefix(&format!("--{name}=")).map(str::to_owned))
    };
    let argv = |shells: &ShellTracker| -> Value {
        let args = instruction["args"].clone();
        if instruction["json"].as_bool() == Some(true) {
            args
        } else {
            let mut argv: Vec<Value> = shells.current().iter().map(|s| json!(s)).collect();
            argv.extend(args.as_array().cloned().unwrap_or_default());
            Value::Array(argv)
        }
    };
    match cmd {
        "from" => {
            shells.enter_stage(
                instruction["image"].as_str().unwrap_or_default(),
                instruction["as"].as_str(),
            );
            json!({"cmd": "from", "image": instruction["image"], "as": instruction["as"], "flags": flags})
        }
        "workdir" | "user" | "stopsignal" => json!({"cmd": cmd, "value": instruction["value"]}),
        "env" | "label" => json!({"cmd": cmd, "pairs": instruction["pairs"]}),
        "arg" => json!({"cmd": cmd, "args": instruction["args"]}),
        "expose" => json!({"cmd": cmd, "ports": instruction["ports"]}),
        "volume" => json!({"cmd": cmd, "paths": instruction["paths"]}),
        "shell" => {
            let words: Vec<String> = instruction["args"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|w| w.as_str().unwrap_or_default().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            shells.set(words.clone());
            json!({"cmd": cmd, "argv": words})
        }
        "entrypoint" | "cmd" => json!({"cmd": cmd, "argv": argv(shells)}),
        "healthcheck" if instruction["kind"] == "NONE" => json!({"cmd": cmd, "kind": "NONE"}),
        "healthcheck" => json!({"cmd": cmd, "kind": instruction["kind"], "argv": argv(shells)}),
        "run" => {
            let mounts: Vec<Value> = flags
                .iter()
                .filter_map(|f| f.strip_prefix("--mount="))
                .map(|m| {
                    let mut fields = serde_json::Map::new();
                    for part in m.split(',') {
                        let (k, v) = part.split_once('=').unwrap_or((part, ""));
                        fields.insert(k.to_owned(), json!(v));
                    }
                    let kind = fields.get("type").cloned().unwrap_or(Value::Null);
                    let get = |k: &str| fields.get(k).cloned().unwrap_or(Value::Null);
                    match kind.as_str() {
                        Some("cache") => json!({"type": "cache", "target": get("target"), "id": get("id"), "sharing": get("sharing"),
                            "uid": get("uid"), "gid": get("gid"), "mode": get("mode")}),
                        Some("secret") => json!({"type": "secret", "id": get("id"), "target": get("target"), "env": get("env"), "required": get("required")}),
                        Some("bind") => json!({"type": "bind", "source": get("source"), "target": get("target"), "from": get("from"), "rw": get("rw")}),
                        Some("tmpfs") => json!({"type": "tmpfs", "target": get("target"), "size": get("size")}),
                        _ => json!({"type": kind, "id": get("id"), "required": get("required")}),
                    }
                })
                .collect();
            json!({"cmd": cmd, "argv": argv(shells), "mounts": mounts})
        }
        "copy" => {
            json!({"cmd": cmd, "sources": instruction["sources"], "dest": instruction["dest"],
            "from": flag("from"), "chown": flag("chown"), "chmod": flag("chmod"),
            "link": flags.iter().any(|f| f == "--link")})
        }
        "add" => json!({"cmd": cmd, "sources": instruction["sources"], "dest": instruction["dest"],
            "chown": flag("chown"), "chmod": flag("chmod"), "checksum": flag("checksum")}),
        other => json!({"cmd": other, "unexpected": instruction}),
    }
}

/// Follows SHELL through stages (a stage built on another inherits it), so
/// shell-form commands can be compared by the argv they finally run.
#[derive(Default)]
pub(crate) struct ShellTracker {
    finished: Vec<(String, Vec<String>)>,
    name: Option<String>,
    shell: Vec<String>,
}

impl ShellTracker {
    fn enter_stage(&mut self, base: &str, name: Option<&str>) {
        self.finish();
        self.shell = self
            .finished
            .iter()
            .rev()
            .find(|(n, _)| n == base)
            .map_or_else(plan::default_shell, |(_, s)| s.clone());
        self.name = name.map(str::to_owned);
    }

    fn finish(&mut self) {
        if let Some(name) = self.name.take() {
            self.finished.push((name, self.shell.clone()));
        }
    }

    fn set(&mut self, shell: Vec<String>) {
        self.shell = shell;
    }

    fn current(&self) -> &[String] {
        &self.shell
    }
}

/// Checks that BuildKit reads `parsed` back exactly as `plan` says.
pub(crate) fn assert_reads_back(plan: &Plan, parsed: &Value, what: &str) {
    assert!(
        parsed.get("error").is_none(),
        "{what}: BuildKit's parser rejected it: {}",
        parsed["error"]
    );
    let instructions = parsed["instructions"].as_array().expect("instructions");
    let mut shells = ShellTracker::default();
    let observed: Vec<Value> = instructions
        .iter()
        .map(|i| {
            let is_platform_flag = i["flags"].as_array().is_some_and(|f| {
                f.iter()
                    .any(|f| f.as_str().is_some_and(|f| f.starts_with("--platform=$")))
            });
            // A build argument the plan names is expanded: which ones is
            // compared with the plan below (`expands`).
            assert!(
                i["unescaped_dollar"] == false || is_platform_flag || i.get("expands").is_some(),
                "{what}: BuildKit would expand a variable in {i}"
            );
            observed_readback(i, &mut shells)
        })
        .collect();
    let expected = expected_readback(plan);
    assert_eq!(
        serde_json::to_string_pretty(&observed).unwrap(),
        serde_json::to_string_pretty(&expected).unwrap(),
        "{what}: BuildKit reads back something other than the plan"
    );
}
