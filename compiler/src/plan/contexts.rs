//! Build contexts: each stage's context paths are written relative to its
//! `context` folder; a plan is built with one context, the deepest folder
//! that holds every context its stages read, and each stage's paths are
//! prefixed with where its folder is inside that one.
//!
//! So a Dockerfile of one image whose stages read `web/` is built with
//! `web` as its context (and its `.dockerignore`), and one that holds
//! images of `api/` and `web/` with the spec's folder: every builder has
//! the one context `docker build` takes. An output with `contexts="named"`
//! gives each other folder a named context instead (BuildKit and buildah).

use std::collections::{BTreeMap, BTreeSet};

use crate::middle::contexts::{Read, build_folder, folder, prefix, prefixed, reads};
use crate::middle::resolve::{Spec, StageId};
use crate::plan::ir::{CopySource, Instruction, Mount, NamedContext, Plan};

/// Sets the plan's context to the folder its stages (`stages`, in plan
/// order) build from and rewrites their context paths against it. With
/// `named`, a stage in another folder copies and binds from that folder
/// as a named context instead (its paths stay as written); `add` has no
/// `--from`, so its local sources stay in the build's context.
pub(crate) fn apply(plan: &mut Plan, spec: &Spec, stages: &[StageId], named: bool) {
    let build = build_folder(spec, stages);
    let names = if named {
        context_names(plan, spec, stages, &build)
    } else {
        BTreeMap::new()
    };
    for (stage, id) in plan.stages.iter_mut().zip(stages) {
        let own = folder(spec, *id);
        let prefix = prefix(&build, own);
        if prefix.is_empty() {
            continue;
        }
        let name = names.get(own);
        for instruction in &mut stage.instructions {
            match &mut instruction.value {
                Instruction::Copy(copy) if copy.source == CopySource::Context => match name {
                    Some(name) => copy.source = CopySource::Named(name.clone()),
                    None => {
                        for path in &mut copy.paths {
                            *path = prefixed(&prefix, path, copy.parents);
                        }
                    }
                },
                Instruction::Add(add) => {
                    for source in &mut add.sources {
                        if !crate::base::keywords::is_url(source) {
                            *source = prefixed(&prefix, source, false);
                        }
                    }
                }
                Instruction::Run(run) => {
                    for mount in &mut run.mounts {
                        if let Mount::Bind {
                            source,
                            from_stage: from_stage @ None,
                            ..
                        } = &mut mount.value
                        {
                            match name {
                                Some(name) => *from_stage = Some(name.clone()),
                                None => *source = prefixed(&prefix, source, false),
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    plan.named_contexts = names
        .into_iter()
        .map(|(folder, name)| NamedContext { name, folder })
        .collect();
    plan.named_contexts.sort_by(|a, b| a.name.cmp(&b.name));
    plan.context = build;
}

/// A name for each stage folder other than the build's that a stage
/// copies or binds from: `context-` and the folder in the characters a
/// `--from` name may hold (`apps/Web` is `context-apps-web`), made unique
/// against the plan's stages and each other by a number.
fn context_names(
    plan: &Plan,
    spec: &Spec,
    stages: &[StageId],
    build: &str,
) -> BTreeMap<String, String> {
    // `add` has no `--from`: a stage that only adds stays in the build's context.
    let folders: BTreeSet<&str> = stages
        .iter()
        .filter(|id| {
            reads(spec, **id)
                .iter()
                .any(|(_, read)| *read != Read::Added)
        })
        .map(|id| folder(spec, *id))
        .filter(|own| !prefix(build, own).is_empty())
        .collect();
    let mut taken: BTreeSet<String> = plan.stages.iter().map(|s| s.name.to_lowercase()).collect();
    let mut names = BTreeMap::new();
    for own in folders {
        let slug: String = own
            .chars()
            .map(|c| match c.to_ascii_lowercase() {
                c @ ('a'..='z' | '0'..='9' | '.' | '_' | '-') => c,
                _ => '-',
            })
            .collect();
        let base = format!("context-{slug}");
        let mut name = base.clone();
        let mut n = 2;
        while !taken.insert(name.clone()) {
            name = format!("{base}-{n}");
            n += 1;
        }
        names.insert(own.to_owned(), name);
    }
    names
}
