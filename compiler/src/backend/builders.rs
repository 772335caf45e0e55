//! Which builder a Dockerfile is for, and what each can say.
//!
//! The Dockerfile backend writes current BuildKit syntax. Older or other
//! builders reject some of it, and some drop instructions silently; a
//! feature the chosen builder cannot express is an error at the spec node,
//! never a silent loss. spec/builders.md has the table.

use crate::base::diagnostic::{Code, Diagnostic, Span};
use crate::base::keywords::Builder;
use crate::plan::ir::{CopySource, Instruction, Mount, Plan};

/// Checks a plan against a builder; one error per feature use it lacks.
pub(crate) fn check(plan: &Plan, builder: Builder) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    let mut refuse = |origin: Span, feature: &str, help: &str| {
        errors.push(
            Diagnostic::error(
                Code::Unsupported,
                format!("{} cannot build {feature}", builder.name()),
            )
            .primary(origin, format!("needs {feature}"))
            .help(help.to_owned()),
        );
    };
    let named = |name: &str| plan.named_contexts.iter().any(|c| c.name == name);
    // A step lowers to several copies: one refusal per spec node.
    let mut refused_named: Vec<Span> = Vec::new();
    for stage in &plan.stages {
        for instruction in &stage.instructions {
            let origin = instruction.origin;
            let reads_named = match &instruction.value {
                Instruction::Copy(copy) => matches!(copy.source, CopySource::Named(_)),
                Instruction::Run(run) => run.mounts.iter().any(|m| {
                    matches!(&m.value, Mount::Bind { from_stage: Some(from), .. } if named(from))
                }),
                _ => false,
            };
            if reads_named && builder == Builder::Docker2010 && !refused_named.contains(&origin) {
                refused_named.push(origin);
                refuse(
                    origin,
                    "a named context (`COPY --from=NAME`, `--build-context`)",
                    "remove `contexts=\"named\"` from the output (one context holds every folder), or build with BuildKit or buildah",
                );
            }
            match &instruction.value {
                Instruction::Copy(copy) if copy.link && builder != Builder::BuildKit => refuse(
                    origin,
                    "`COPY --link`",
                    "drop `link=#true` (it changes layer reuse, not the image), or build with BuildKit",
                ),
                Instruction::Copy(copy) if copy.parents && builder != Builder::BuildKit => refuse(
                    origin,
                    "`COPY --parents` (a glob in a directory)",
                    "list the files (input \"packages/a/package.json\" \"packages/b/package.json\"), or build with BuildKit",
                ),
                Instruction::Copy(copy)
                    if !copy.exclude.is_empty() && builder != Builder::BuildKit =>
                {
                    refuse(
                        origin,
                        "`COPY --exclude`",
                        "copy the directories you need by name, or leave the files out with .dockerignore; or build with BuildKit",
                    )
                }
                Instruction::Add(add) if add.checksum.is_some() && builder != Builder::BuildKit => {
                    refuse(
                        origin,
                        "`ADD --checksum`",
                        "download in a `run` step and check the sum there (sha256sum -c), or build with BuildKit",
                    )
                }
                Instruction::Run(run) => {
                    if run.network.is_some() && builder != Builder::BuildKit {
                        refuse(
                            origin,
                            "`RUN --network`",
                            "remove `network=`; with buildah, pass --network to `buildah build` for the whole build",
                        );
                    }
                    if run.insecure && builder != Builder::BuildKit {
                        refuse(
                            origin,
                            "`RUN --security=insecure`",
                            "only BuildKit with the security.insecure entitlement runs privileged steps",
                        );
                    }
                    for mount in &run.mounts {
                        let origin = mount.origin;
                        match &mount.value {
                            Mount::Tmpfs { size: Some(_), .. } if builder.is_buildah() => refuse(
                                origin,
                                "a tmpfs mount with `size`",
                                "remove `size=` (buildah 1.28 spells it tmpfs-size), or build with BuildKit",
                            ),
                            Mount::Cache {
                                sharing: Some(crate::base::keywords::Sharing::Private),
                                ..
                            } if builder.is_buildah() => refuse(
                                origin,
                                "a private cache mount",
                                "use sharing=\"locked\": buildah 1.28 has no private caches",
                            ),
                            // Dockerfile frontend 1.10 (2024) added it; docker
                            // 20.10 embeds 1.2, and buildah 1.28 refuses the key.
                            Mount::Secret {
                                id,
                                target,
                                env: Some(env),
                                ..
                            } if builder != Builder::BuildKit => refuse(
                                origin,
                                "a secret in an environment variable (`env=`)",
                                &format!(
                                    "drop `env=` and read the secret's file in the command, such as `{env}=\"$(cat {})\" ...`, or build with BuildKit",
                                    secret_file(id, target.as_deref())
                                ),
                            ),
                            _ => {}
                        }
                    }
                }
                Instruction::Healthcheck(Some(check))
                    if check.start_interval.is_some() && builder != Builder::BuildKit =>
                {
                    refuse(
                        origin,
                        "`HEALTHCHECK --start-interval`",
                        "remove `start-interval=`; it needs BuildKit and Docker Engine 25",
                    )
                }
                // The OCI image config has no field for these: buildah drops them.
                Instruction::Healthcheck(_) if builder == Builder::Buildah128 => refuse(
                    origin,
                    "`HEALTHCHECK` into an OCI image",
                    "build with `buildah build --format docker` and choose the builder buildah-1.28-docker",
                ),
                Instruction::Shell(_) if builder == Builder::Buildah128 => refuse(
                    origin,
                    "`SHELL` into an OCI image",
                    "build with `buildah build --format docker` and choose the builder buildah-1.28-docker",
                ),
                _ => {}
            }
        }
    }
    errors
}

/// Where a secret's file is mounted: its target, else BuildKit's default.
pub(crate) fn secret_file(id: &str, target: Option<&str>) -> String {
    target.map_or_else(|| format!("/run/secrets/{id}"), str::to_owned)
}
