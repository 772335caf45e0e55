//! A resolved spec against a policy: each rule that is on finds its
//! violations, each with the images it concerns; the spec's waivers then
//! mark those they allow, which are reported and never fail.

use std::collections::{BTreeMap, BTreeSet};

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics, Severity, Span};
use crate::base::keywords::is_url;
use crate::frontend::ast::{HealthcheckDecl, ItemKind, Spanned, StageKind, WaiverDecl};
use crate::frontend::expand::Expansions;
use crate::middle::resolve::{BaseRef, ItemRefs, Spec, StageId};
use crate::middle::select::{Selection, needed_stages};
use crate::plan::image_map::ImageMap;
use crate::policy::{Params, Policy, Reference, Setting};

/// What a check may look at besides the spec.
pub struct Context<'a> {
    pub expansions: &'a Expansions,
    /// The references the plan will name instead of the written ones.
    pub image_map: &'a ImageMap,
}

/// One violation before waivers: the diagnostic and the stage it is in.
struct Found {
    stage: StageId,
    diagnostic: Diagnostic,
}

/// Checks a spec against a policy.
pub fn check(spec: &Spec, policy: &Policy, context: &Context<'_>) -> Diagnostics {
    let mut d = Diagnostics::default();
    // Which images each stage serves, for waivers with `image=`.
    let mut serves: BTreeMap<StageId, BTreeSet<StageId>> = BTreeMap::new();
    for image in spec.images() {
        for stage in needed_stages(spec, &Selection::Images(vec![image])) {
            serves.entry(stage).or_default().insert(image);
        }
    }
    for setting in &policy.rules {
        let mut found = Vec::new();
        match &setting.params {
            Params::Registries(_) => external_images(spec, context, &mut |stage, r, shown| {
                registry(setting, stage, r, shown, &mut found)
            }),
            Params::Labels(_) => labels(spec, setting, &mut found),
            Params::Templates(allowed) => templates(spec, context, allowed, &mut found),
            Params::None => match setting.rule.code {
                Code::PolicyBasePinned | Code::PolicyBaseFloating => {
                    external_images(spec, context, &mut |stage, r, shown| {
                        pinned(setting, stage, r, shown, &mut found)
                    })
                }
                Code::PolicyUser => non_root(spec, &mut found),
                Code::PolicyAddChecksum => add_checksum(spec, &mut found),
                Code::PolicyHealthcheck => healthcheck(spec, &mut found),
                _ => {}
            },
        }
        let waivers: Vec<&WaiverDecl> = spec
            .waivers
            .iter()
            .filter(|w| w.rule.value == setting.rule.id)
            .collect();
        for f in found {
            let diagnostic = finish(setting, f.diagnostic);
            let images = serves.get(&f.stage).cloned().unwrap_or_default();
            d.push(match waiver_for(spec, &waivers, f.stage, &images) {
                Some(w) => waive(diagnostic, w),
                None => diagnostic,
            });
        }
    }
    d
}

/// The waiver that allows a violation in `stage`: one for the whole spec,
/// or one per image the stage serves (a builder stage two images share is
/// allowed only when both are).
fn waiver_for<'a>(
    spec: &Spec,
    waivers: &[&'a WaiverDecl],
    stage: StageId,
    images: &BTreeSet<StageId>,
) -> Option<&'a WaiverDecl> {
    if let Some(w) = waivers.iter().find(|w| w.image.is_none()) {
        return Some(w);
    }
    let for_image = |id: StageId| {
        waivers.iter().copied().find(|w| {
            w.image
                .as_ref()
                .is_some_and(|i| i.value == spec.stage(id).name.value)
        })
    };
    let images: Vec<StageId> = if images.is_empty() {
        vec![stage]
    } else {
        images.iter().copied().collect()
    };
    let mut first = None;
    for image in images {
        let w = for_image(image)?;
        first.get_or_insert(w);
    }
    first
}

fn waive(diagnostic: Diagnostic, waiver: &WaiverDecl) -> Diagnostic {
    let reason = waiver.reason.value.clone();
    let mut diagnostic = diagnostic
        .secondary(waiver.span, "waived here")
        .waive(reason.clone(), waiver.span);
    diagnostic.help = Some(format!("waived: {reason}"));
    diagnostic
}

/// The rule's severity, its id in the message, and the policy's message
/// as the help when it has one.
fn finish(setting: &Setting, mut diagnostic: Diagnostic) -> Diagnostic {
    diagnostic.severity = setting.severity;
    diagnostic.message = format!("{} [{}]", diagnostic.message, setting.rule.id);
    if let Some(message) = &setting.message {
        diagnostic.help = Some(message.clone());
    }
    diagnostic
}

fn violation(code: Code, message: String) -> Diagnostic {
    // The severity is the policy's, set by `finish`.
    let mut d = Diagnostic::error(code, message);
    d.severity = Severity::Error;
    d
}

/// Every external image a stage pulls (its base, `copy image=`), as the
/// plan names it after `--image-map`; `scratch` is none.
fn external_images(
    spec: &Spec,
    context: &Context<'_>,
    each: &mut dyn FnMut(StageId, &Spanned<String>, String),
) {
    for &id in &spec.order {
        let mut images = Vec::new();
        if let Some(BaseRef::Image(image)) = spec.base(id)
            && !image.is_scratch()
        {
            images.push(&image.written);
        }
        for i in 0..spec.stage(id).items.len() {
            if let ItemRefs::Image(image) = spec.item_refs(id, i) {
                images.push(&image.written);
            }
        }
        for written in images {
            let shown = match context.image_map.mapped(&written.value) {
                Some(to) => to,
                None => written.value.clone(),
            };
            each(id, written, shown);
        }
    }
}

/// "`x`", or "`x` (mapped to `y`)" when `--image-map` replaces it.
fn named(written: &Spanned<String>, shown: &str) -> String {
    if written.value == shown {
        format!("`{shown}`")
    } else {
        format!("`{}` (mapped to `{shown}`)", written.value)
    }
}

fn registry(
    setting: &Setting,
    stage: StageId,
    written: &Spanned<String>,
    shown: String,
    found: &mut Vec<Found>,
) {
    let Params::Registries(allowed) = &setting.params else {
        return;
    };
    let reference = Reference::parse(&shown);
    if reference.allowed_by(allowed) {
        return;
    }
    found.push(Found {
        stage,
        diagnostic: violation(
            Code::PolicyBaseRegistry,
            format!(
                "image {} comes from a registry the policy does not allow",
                named(written, &shown)
            ),
        )
        .primary(written.span, format!("from `{}`", reference.repository))
        .help(format!("the policy allows: {}", allowed.join(", "))),
    });
}

fn pinned(
    setting: &Setting,
    stage: StageId,
    written: &Spanned<String>,
    shown: String,
    found: &mut Vec<Found>,
) {
    let reference = Reference::parse(&shown);
    let diagnostic = match setting.rule.code {
        Code::PolicyBasePinned if reference.digest.is_none() => violation(
            Code::PolicyBasePinned,
            format!("image {} is not pinned by digest", named(written, &shown)),
        )
        .primary(written.span, "no `@sha256:...`")
        .help("add the digest (`crane digest IMAGE` prints it), here or with `--image-map`"),
        Code::PolicyBaseFloating if reference.digest.is_none() && reference.floating_tag() => {
            let tag = match &reference.tag {
                None => "no tag (`latest`)".to_owned(),
                Some(t) => format!("tag `{t}`"),
            };
            violation(
                Code::PolicyBaseFloating,
                format!("image {} names a floating tag", named(written, &shown)),
            )
            .primary(written.span, format!("{tag} is not a full version"))
            .help(
                "name a full version (`1.22.5-bookworm`, not `1.22` or `latest`), or pin a digest",
            )
        }
        _ => return,
    };
    found.push(Found { stage, diagnostic });
}

/// An image's stages from the image down to the first that builds on an
/// external image (`from stage=` chains): what the image inherits.
fn chain(spec: &Spec, image: StageId) -> Vec<StageId> {
    let mut out = vec![image];
    let mut at = image;
    while let Some(parent) = spec.parent(at) {
        if out.contains(&parent) {
            break;
        }
        out.push(parent);
        at = parent;
    }
    out
}

/// The last item of the chain (the image's own last) that `pick` takes.
fn last<'a, T>(
    spec: &'a Spec,
    chain: &[StageId],
    pick: impl Fn(&'a ItemKind, Span) -> Option<T>,
) -> Option<T> {
    chain.iter().find_map(|id| {
        spec.stage(*id)
            .items
            .iter()
            .rev()
            .find_map(|item| pick(&item.kind, item.span))
    })
}

fn non_root(spec: &Spec, found: &mut Vec<Found>) {
    for image in spec.images() {
        let decl = spec.stage(image);
        let chain = chain(spec, image);
        let user = last(spec, &chain, |kind, _| match kind {
            ItemKind::User(user) => Some(user),
            _ => None,
        });
        let diagnostic = match user {
            Some(user) => match user.value.as_literal() {
                Some(literal) => {
                    let name = literal.split(':').next().unwrap_or_default();
                    if name != "root" && name != "0" {
                        continue;
                    }
                    violation(
                        Code::PolicyUser,
                        format!("image `{}` runs as root", decl.name.value),
                    )
                    .primary(user.span, "the final user is root")
                    .help("end the image with a user that is not root, such as `user \"65532:65532\"`")
                }
                // A build argument may name root at build time: the policy
                // cannot vouch for it.
                None => violation(
                    Code::PolicyUser,
                    format!(
                        "image `{}` runs as `{}`, a build argument's value",
                        decl.name.value,
                        user.value.sketch()
                    ),
                )
                .primary(user.span, "the policy cannot check a user a build argument sets")
                .help("write the user as plain text, such as `user \"65532:65532\"`, or waive the rule with a reason"),
            },
            None => {
                let scratch = matches!(
                    spec.base(*chain.last().unwrap_or(&image)),
                    Some(BaseRef::Image(i)) if i.is_scratch()
                );
                let why = if scratch {
                    "on scratch, it runs as root"
                } else {
                    "it runs as its base image's user, which stowplan cannot see"
                };
                violation(
                    Code::PolicyUser,
                    format!("image `{}` sets no user: {why}", decl.name.value),
                )
                .primary(decl.name.span, "no `user`")
                .help("add `user \"65532:65532\"` (or another user that is not root)")
            }
        };
        found.push(Found {
            stage: image,
            diagnostic,
        });
    }
}

fn labels(spec: &Spec, setting: &Setting, found: &mut Vec<Found>) {
    let Params::Labels(required) = &setting.params else {
        return;
    };
    for image in spec.images() {
        let decl = spec.stage(image);
        let chain = chain(spec, image);
        for requirement in required {
            let value = last(spec, &chain, |kind, _| match kind {
                ItemKind::Label { key, value } if key.value == requirement.key => Some(value),
                _ => None,
            });
            let diagnostic = match (value, &requirement.pattern) {
                (None, _) => violation(
                    Code::PolicyLabel,
                    format!(
                        "image `{}` has no label `{}`",
                        decl.name.value, requirement.key
                    ),
                )
                .primary(decl.name.span, "the label is missing")
                .help(format!("add `label \"{}\" \"...\"`", requirement.key)),
                // A value with build arguments is checked as written
                // (`${NAME}` in place of each reference).
                (Some(value), Some((text, pattern)))
                    if !pattern.is_match(&value.value.sketch()) =>
                {
                    violation(
                        Code::PolicyLabel,
                        format!(
                            "label `{}` of image `{}` does not match the policy's pattern",
                            requirement.key, decl.name.value
                        ),
                    )
                    .primary(value.span, format!("does not match `{text}`"))
                    .help(format!(
                        "the policy wants the whole value of `{}` to match `{text}`",
                        requirement.key
                    ))
                }
                _ => continue,
            };
            found.push(Found {
                stage: image,
                diagnostic,
            });
        }
    }
}

fn add_checksum(spec: &Spec, found: &mut Vec<Found>) {
    for &id in &spec.order {
        for item in &spec.stage(id).items {
            let ItemKind::Add(add) = &item.kind else {
                continue;
            };
            if add.checksum.is_some() {
                continue;
            }
            for source in add.sources.iter().filter(|s| is_url(&s.value)) {
                found.push(Found {
                    stage: id,
                    diagnostic: violation(
                        Code::PolicyAddChecksum,
                        format!("`add` downloads `{}` without a checksum", source.value),
                    )
                    .primary(source.span, "a URL")
                    .help("add `checksum=\"sha256:...\"`: the build then fails if the download changes"),
                });
            }
        }
    }
}

fn healthcheck(spec: &Spec, found: &mut Vec<Found>) {
    for image in spec.images() {
        let decl = spec.stage(image);
        let chain = chain(spec, image);
        let Some(expose) = last(spec, &chain, |kind, span| match kind {
            ItemKind::Expose(_) => Some(span),
            _ => None,
        }) else {
            continue;
        };
        let check = last(spec, &chain, |kind, span| match kind {
            ItemKind::Healthcheck(h) => Some((h, span)),
            _ => None,
        });
        let diagnostic = match check {
            Some((HealthcheckDecl::Check(_), _)) => continue,
            Some((HealthcheckDecl::None, span)) => violation(
                Code::PolicyHealthcheck,
                format!(
                    "image `{}` exposes a port and turns its health check off",
                    decl.name.value
                ),
            )
            .primary(span, "no health check")
            .secondary(expose, "a port is exposed here"),
            None => violation(
                Code::PolicyHealthcheck,
                format!(
                    "image `{}` exposes a port but has no health check",
                    decl.name.value
                ),
            )
            .primary(expose, "a port, and no `healthcheck`"),
        }
        .help("add `healthcheck \"CMD\" ...` to the image: a probe of the port it serves");
        found.push(Found {
            stage: image,
            diagnostic,
        });
    }
}

fn templates(spec: &Spec, context: &Context<'_>, allowed: &[String], found: &mut Vec<Found>) {
    for image in spec.images() {
        let decl = spec.stage(image);
        debug_assert_eq!(decl.kind, StageKind::Image);
        let (label, detail) = match context.expansions.template_of(&decl.name.value) {
            Some((name, false)) if allowed.iter().any(|a| a == name) => continue,
            Some((name, true)) => (
                format!("template `{name}` is written in the spec"),
                "the policy's templates are the platform's: a preset or an included file",
            ),
            Some((name, false)) => (
                format!("made from template `{name}`"),
                "the template is not one the policy allows",
            ),
            None => ("written by hand".to_owned(), "it is written by hand"),
        };
        found.push(Found {
            stage: image,
            diagnostic: violation(
                Code::PolicyTemplate,
                format!(
                    "image `{}` is not made from an allowed template: {detail}",
                    decl.name.value
                ),
            )
            .primary(decl.name.span, label)
            .help(format!(
                "write `image \"{}\" template=\"NAME\" ...` with one of: {}",
                decl.name.value,
                allowed.join(", ")
            )),
        });
    }
}
