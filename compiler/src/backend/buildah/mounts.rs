//! Mounts for a run: what each holds, where it is mounted, and where the
//! script reads secrets and SSH sockets from.

use crate::plan::ir::Mount;

/// The environment variable a secret or SSH id is read from.
pub(super) fn id_variable(prefix: &str, id: &str) -> String {
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

pub(super) fn mount_words(mount: &Mount) -> Vec<&str> {
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
pub(super) fn clean_path(path: &str) -> String {
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
