//! Mounts for a run: what each holds, where it is mounted, and where the
//! script reads secrets and SSH sockets from.

use std::fmt::Write as _;

use crate::backend::buildah::{Emitter, refuse, refuse_stage_ref};
use crate::backend::builders::secret_file;
use crate::backend::quote::bash::{bash_word, is_mount_word};
use crate::base::diagnostic::{Diagnostics, Span};
use crate::base::keywords::Sharing;
use crate::plan::ir::Mount;

impl Emitter<'_> {
    /// Writes the helper call that adds `mount` to the next run: the one
    /// place a mount is rendered. `ssh_index` numbers the run's SSH
    /// sockets. False when the mount was refused.
    pub(super) fn mount(
        &mut self,
        mount: &Mount,
        origin: Span,
        ssh_index: &mut usize,
        out: &mut String,
        d: &mut Diagnostics,
    ) -> bool {
        if let Some(bad) = mount_words(mount).into_iter().find(|w| !is_mount_word(w)) {
            refuse(
                d,
                origin,
                "this mount cannot be written in a Buildah script",
                &format!(
                    "{} holds a character buildah's --mount reads specially",
                    serde_json::to_string(bad).expect("strings serialize")
                ),
                "mount paths and ids cannot hold whitespace, control characters, `,` or `=`",
            );
            return false;
        }
        self.uses.mounts = true;
        match mount {
            Mount::Cache {
                target,
                id,
                sharing,
                uid,
                gid,
                mode,
            } => {
                let mut spec = format!("type=cache,target={target}");
                if let Some(id) = id {
                    let _ = write!(spec, ",id={id}");
                }
                match sharing {
                    None => {}
                    Some(Sharing::Shared) => spec.push_str(",sharing=shared"),
                    // buildah 1.28 has no private caches; locked keeps writers apart too.
                    Some(Sharing::Private | Sharing::Locked) => spec.push_str(",sharing=locked"),
                }
                // buildah creates the cache directory with this owner and
                // mode, as BuildKit does, the first time the id is used.
                if let Some(uid) = uid {
                    let _ = write!(spec, ",uid={uid}");
                }
                if let Some(gid) = gid {
                    let _ = write!(spec, ",gid={gid}");
                }
                if let Some(mode) = mode {
                    let _ = write!(spec, ",mode={mode}");
                }
                let _ = writeln!(
                    out,
                    "  add_mount {} {}",
                    bash_word(&clean_path(target)),
                    bash_word(&spec)
                );
            }
            Mount::Tmpfs { target, size } => {
                let mut spec = format!("type=tmpfs,target={target}");
                if let Some(size) = size {
                    let _ = write!(spec, ",tmpfs-size={size}");
                }
                let _ = writeln!(
                    out,
                    "  add_mount {} {}",
                    bash_word(&clean_path(target)),
                    bash_word(&spec)
                );
            }
            Mount::Secret {
                env: Some(env),
                id,
                target,
                ..
            } => {
                // `buildah run --env` takes the value in its arguments, where
                // any user of the machine can read it: never a secret's place.
                refuse(
                    d,
                    origin,
                    "a secret in an environment variable cannot be given to `buildah run`",
                    &format!("`env=\"{env}\"`"),
                    &format!(
                        "drop `env=` and read the secret's file in the command, such as `{env}=\"$(cat {})\" ...`",
                        secret_file(id, target.as_deref())
                    ),
                );
                return false;
            }
            Mount::Secret {
                id,
                target,
                required,
                env: None,
            } => {
                self.uses.secrets = true;
                let var = id_variable("STOWPLAN_SECRET_", id);
                self.secret_vars
                    .entry(var.clone())
                    .or_default()
                    .entry(id.clone())
                    .or_insert(origin);
                let target = secret_file(id, target.as_deref());
                let _ = writeln!(
                    out,
                    "  add_secret {} {var} {} {}",
                    bash_word(id),
                    bash_word(&clean_path(&target)),
                    if *required { "required" } else { "optional" }
                );
            }
            Mount::Ssh { id, required } => {
                self.uses.ssh = true;
                let id = id.clone().unwrap_or_else(|| "default".to_owned());
                let var = id_variable("STOWPLAN_SSH_", &id);
                self.ssh_vars
                    .entry(var.clone())
                    .or_default()
                    .entry(id.clone())
                    .or_insert(origin);
                let _ = writeln!(
                    out,
                    "  add_ssh {} {var} {ssh_index} {}",
                    bash_word(&id),
                    if *required { "required" } else { "optional" }
                );
                *ssh_index += 1;
            }
            Mount::Bind {
                source,
                target,
                from_stage,
                rw,
            } => {
                self.uses.binds = true;
                let mode = if *rw { "rw" } else { "ro" };
                match from_stage {
                    None => {
                        self.uses.context = true;
                        let _ = writeln!(
                            out,
                            "  add_bind \"$context\" {} {} {mode}",
                            bash_word(source),
                            bash_word(&clean_path(target))
                        );
                    }
                    Some(stage) if !self.done.contains(stage.as_str()) => {
                        refuse_stage_ref(d, origin, stage);
                        return false;
                    }
                    Some(stage) => {
                        self.uses.stage_binds = true;
                        let _ = writeln!(
                            out,
                            "  add_bind_stage \"${{ctr[{stage}]}}\" {} {} {mode}",
                            bash_word(source),
                            bash_word(&clean_path(target))
                        );
                    }
                }
            }
        }
        true
    }
}

/// The environment variable a secret or SSH id is read from.
fn id_variable(prefix: &str, id: &str) -> String {
    let mut var = prefix.to_owned();
    var.extend(id.chars().map(|c| {
        if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        }
    }));
    var
}

fn mount_words(mount: &Mount) -> Vec<&str> {
    match mount {
        Mount::Cache { target, id, .. } => [Some(target.as_str()), id.as_deref()]
            .into_iter()
            .flatten()
            .collect(),
        Mount::Secret { id, target, .. } => [Some(id.as_str()), target.as_deref()]
            .into_iter()
            .flatten()
            .collect(),
        Mount::Bind { source, target, .. } => vec![source, target],
        Mount::Tmpfs { target, .. } => vec![target],
        Mount::Ssh { id, .. } => id.iter().map(String::as_str).collect(),
    }
}

/// A path with `.`, `..`, empty segments and trailing slashes resolved, as
/// the runtime resolves a mount target.
fn clean_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}
