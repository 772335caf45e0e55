//! Who an image runs as: a final `user "root"`, or no `user` on a base
//! known to run as root (the `bases` table; `flow::root-user`, a warning),
//! and a `volume` the final user cannot write
//! (`flow::volume-not-writable`, a warning).
//!
//! The policy rule `policy.user.non-root` says the first as an
//! organisation's rule; when a policy turns it on, or the spec waives it
//! (`allow "policy.user.non-root" reason=...`), this warning stays silent
//! so that one finding is said once.

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::frontend::ast::*;
use crate::middle::bases;
use crate::middle::flow::absolute;
use crate::middle::resolve::{BaseRef, Spec, StageId};

/// The policy rule this warning defers to.
pub const NON_ROOT_RULE: &str = "policy.user.non-root";

/// The image's stages, the image first, then each stage it builds on.
fn chain(spec: &Spec, image: StageId) -> Vec<StageId> {
    let mut chain = vec![image];
    while let Some(parent) = spec.parent(*chain.last().unwrap()) {
        chain.push(parent);
    }
    chain
}

/// The final user's name or id, when it is plain text, and where it is set.
fn final_user<'a>(spec: &'a Spec, chain: &[StageId]) -> Option<&'a Spanned<Word>> {
    chain.iter().find_map(|id| {
        spec.stage(*id)
            .items
            .iter()
            .rev()
            .find_map(|item| match &item.kind {
                ItemKind::User(user) => Some(user),
                _ => None,
            })
    })
}

fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or_default();
    name == "root" || name == "0"
}

/// Checks every image; `deferred` says the policy reports root users itself.
pub fn validate(spec: &Spec, deferred: bool) -> Diagnostics {
    let mut d = Diagnostics::default();
    for image in spec.images() {
        let chain = chain(spec, image);
        let user = final_user(spec, &chain);
        let waived = spec.waivers.iter().any(|w| {
            w.rule.value == NON_ROOT_RULE
                && w.image
                    .as_ref()
                    .is_none_or(|i| i.value == spec.stage(image).name.value)
        });
        if !deferred && !waived {
            root_user(spec, image, &chain, user, &mut d);
        }
        if let Some(user) = user.and_then(|u| u.value.as_literal())
            && !is_root(user)
        {
            volumes(spec, &chain, user, &mut d);
        }
    }
    d
}

fn root_user(
    spec: &Spec,
    image: StageId,
    chain: &[StageId],
    user: Option<&Spanned<Word>>,
    d: &mut Diagnostics,
) {
    let decl = spec.stage(image);
    let help = format!(
        "end the image with a user that is not root, such as `user \"65532:65532\"`; if it must run as root, say why with `allow \"{NON_ROOT_RULE}\" reason=\"...\"`"
    );
    match user {
        Some(user) => {
            if user.value.as_literal().is_some_and(is_root) {
                d.push(
                    Diagnostic::warning(
                        Code::RootUser,
                        format!("image `{}` runs as root", decl.name.value),
                    )
                    .primary(user.span, "the final user is root")
                    .help(help),
                );
            }
        }
        None => {
            let Some(BaseRef::Image(base)) = spec.base(*chain.last().unwrap()) else {
                return;
            };
            if bases::known(base).root == Some(true) {
                d.push(
                    Diagnostic::warning(
                        Code::RootUser,
                        format!(
                            "image `{}` sets no user, and `{}` runs as root",
                            decl.name.value, base.written.value
                        ),
                    )
                    .primary(decl.name.span, "no `user`")
                    .secondary(base.written.span, "runs as root")
                    .help(help),
                );
            }
        }
    }
}

/// Whether a command makes `path` writable by someone else than root: it
/// names the path and changes an owner or a mode, or creates it with one.
fn grants(command: &CommandDecl, path: &str) -> bool {
    let text = command.text();
    text.contains(path)
        && ["chown", "chmod", "install -d", "install -o", "setfacl"]
            .iter()
            .any(|w| text.contains(w))
}

/// Folders any user may write, or the named user's home.
fn writable_by_all(path: &str, user: &str) -> bool {
    let below = |dir: &str| path == dir || path.starts_with(&format!("{dir}/"));
    let name = user.split(':').next().unwrap_or_default();
    below("/tmp") || below("/var/tmp") || below("/dev/shm") || below(&format!("/home/{name}"))
}

fn volumes(spec: &Spec, chain: &[StageId], user: &str, d: &mut Diagnostics) {
    // Every item of the chain, base first, with its working directory.
    let mut items: Vec<(&Item, String)> = Vec::new();
    for id in chain.iter().rev() {
        let mut workdir = "/".to_owned();
        for item in &spec.stage(*id).items {
            if let ItemKind::Workdir(w) = &item.kind {
                workdir = absolute(&workdir, &w.value.sketch());
            }
            items.push((item, workdir.clone()));
        }
    }
    for (item, _) in &items {
        let ItemKind::Volume(paths) = &item.kind else {
            continue;
        };
        for path in paths {
            let volume = absolute("/", &path.value);
            let below = |to: &str| to == volume || to.starts_with(&format!("{volume}/"));
            let granted = writable_by_all(&volume, user)
                || items.iter().any(|(other, workdir)| match &other.kind {
                    ItemKind::Copy(CopyDecl {
                        to: Some(to),
                        chown: Some(_),
                        ..
                    }) => below(&absolute(workdir, &to.value.sketch())),
                    ItemKind::Add(AddDecl {
                        to, chown: Some(_), ..
                    }) => below(&absolute(workdir, &to.value)),
                    ItemKind::Run(run) => grants(&run.command, &volume),
                    ItemKind::Step(step) => step.runs.iter().any(|r| grants(&r.command, &volume)),
                    _ => false,
                });
            if !granted {
                d.push(
                    Diagnostic::warning(
                        Code::VolumeNotWritable,
                        format!("user `{user}` cannot write volume `{volume}`"),
                    )
                    .primary(path.span, "created by root")
                    .help(format!(
                        "make it the user's before the image ends: `run \"mkdir -p {volume} && chown {user} {volume}\"` in this image, or `copy ... to=\"{volume}/\" chown=\"{user}\"`"
                    )),
                );
            }
        }
    }
}
