//! The base-image lock (`stowplan.lock`, spec/lock.md): the manifest
//! digest each external image reference of a spec resolved to. This file
//! only reads, writes and applies the lock; `stowplan lock` asks the
//! registries through `registry/`, the one place that touches the network.
//!
//! A lock is KDL: one `image "REFERENCE" digest="sha256:..."` node per
//! reference, the reference as the spec writes it (after templates and
//! presets expand), sorted.

use std::collections::BTreeMap;

use kdl::KdlValue;

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics, Span};
use crate::base::source::{SourceFile, SourceResult, Warned, finish};
use crate::frontend::ast::Spanned;
use crate::middle::resolve::{BaseRef, ItemRefs, Spec};

/// The lock file's name, next to the spec.
pub const FILE_NAME: &str = "stowplan.lock";

/// References and the digests they resolved to.
#[derive(Clone, Debug, Default)]
pub struct Lock {
    entries: BTreeMap<String, Entry>,
    /// The file it was read from, for diagnostics on its entries.
    source: Option<SourceFile>,
}

#[derive(Clone, Debug)]
struct Entry {
    digest: String,
    /// The entry's node in the lock file (empty for a lock made in memory).
    span: Span,
}

/// Whether `digest` is `sha256:` and 64 lowercase hex digits (or `sha512:`
/// and 128): the digests registries answer with.
pub fn is_digest(digest: &str) -> bool {
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    match digest.split_once(':') {
        Some(("sha256", h)) => hex(h, 64),
        Some(("sha512", h)) => hex(h, 128),
        _ => false,
    }
}

impl Lock {
    pub fn parse(source: &SourceFile) -> SourceResult<Lock> {
        let mut d = Diagnostics::default();
        let mut lock = Lock {
            entries: BTreeMap::new(),
            source: Some(source.clone()),
        };
        // Through the nesting guard, like a spec.
        let document = match crate::syntax::parse_with_kdl(source.text()) {
            Ok(doc) => doc,
            Err(errors) => {
                for diag in errors {
                    d.push(diag.help(
                        "a lock is a KDL v2 file of `image \"ref\" digest=\"sha256:...\"` nodes; `stowplan lock --update` writes it anew",
                    ));
                }
                return finish(source, None, d);
            }
        };
        for node in document.nodes() {
            if node.name().value() != "image" {
                d.push(
                    Diagnostic::error(
                        Code::UnknownNode,
                        format!("unknown node `{}` in a lock", node.name().value()),
                    )
                    .primary(node.name().span(), "not `image`")
                    .help("a lock holds one `image \"ref\" digest=\"sha256:...\"` per image; `stowplan lock --update` writes it anew"),
                );
                continue;
            }
            let mut reference = None;
            let mut digest = None;
            let mut fits = node.children().is_none();
            for entry in node.entries() {
                match (entry.name().map(|n| n.value()), entry.value()) {
                    (None, KdlValue::String(s)) if reference.is_none() => {
                        reference = Some(Spanned::new(s.clone(), entry.span()));
                    }
                    (Some("digest"), KdlValue::String(s)) if digest.is_none() => {
                        digest = Some(Spanned::new(s.clone(), entry.span()));
                    }
                    _ => fits = false,
                }
            }
            let (Some(reference), Some(digest), true) = (reference, digest, fits) else {
                d.push(
                    Diagnostic::error(
                        Code::MissingArgument,
                        "`image` takes a reference and a digest",
                    )
                    .primary(
                        node.span(),
                        "expected `image \"ref\" digest=\"sha256:...\"`",
                    )
                    .help("`stowplan lock --update` writes the lock anew"),
                );
                continue;
            };
            crate::frontend::values::check_image_ref(&reference, &mut d);
            if !is_digest(&digest.value) {
                d.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!("`{}` is not a manifest digest", digest.value.escape_debug()),
                    )
                    .primary(digest.span, "not sha256: and 64 hex digits")
                    .help(format!(
                        "`stowplan lock --update {}` resolves it again",
                        reference.value
                    )),
                );
                continue;
            }
            let entry = Entry {
                digest: digest.value,
                span: node.span(),
            };
            if lock
                .entries
                .insert(reference.value.clone(), entry)
                .is_some()
            {
                d.push(
                    Diagnostic::error(
                        Code::DuplicateName,
                        format!("`{}` is locked twice", reference.value),
                    )
                    .primary(reference.span, "locked again here")
                    .help(
                        "keep one entry per image; `stowplan lock --update` writes the lock anew",
                    ),
                );
            }
        }
        if d.has_errors() {
            return finish(source, None, d);
        }
        Ok(Warned {
            output: lock,
            warnings: Vec::new(),
        })
    }

    /// The file's name, as diagnostics show it.
    fn shown(&self) -> &str {
        self.source.as_ref().map_or(FILE_NAME, |s| s.name())
    }

    /// The digest a reference is locked to.
    pub fn digest(&self, reference: &str) -> Option<&str> {
        self.entries.get(reference).map(|e| e.digest.as_str())
    }

    pub fn insert(&mut self, reference: impl Into<String>, digest: impl Into<String>) {
        self.entries.insert(
            reference.into(),
            Entry {
                digest: digest.into(),
                span: Span::from(0..0),
            },
        );
    }

    /// Every locked reference and its digest, sorted.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|(r, e)| (r.as_str(), e.digest.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The lock file's text: sorted, one line per image, nothing that
    /// changes from run to run (no time, no path).
    pub fn render(&self, spec_name: &str) -> String {
        let mut text = format!(
            "// Generated by `stowplan lock` for {spec_name}: the manifest digest each image resolved to.\n\
             // Commit it beside the spec; `stowplan lock --update [IMAGE]` resolves again.\n"
        );
        for (reference, digest) in self.entries() {
            text.push_str(&format!("image \"{reference}\" digest=\"{digest}\"\n"));
        }
        text
    }

    /// What the spec uses and the lock does not pin (error with
    /// `--locked`, else a warning), and what the lock pins that the spec no
    /// longer uses.
    pub(crate) fn check(&self, spec: &Spec, locked: bool) -> Vec<Diagnostic> {
        let make = |code, message: String| {
            if locked {
                Diagnostic::error(code, message)
            } else {
                Diagnostic::warning(code, message)
            }
        };
        let mut found = Vec::new();
        let used = references(spec);
        for (reference, spans) in &used {
            if self.entries.contains_key(reference) {
                continue;
            }
            found.push(
                make(
                    Code::LockStale,
                    format!("`{reference}` is not in {}", self.shown()),
                )
                .primary(spans[0], "not locked")
                .help("run `stowplan lock` to resolve it (the lock is older than the spec)"),
            );
        }
        for (reference, entry) in &self.entries {
            if used.contains_key(reference) {
                continue;
            }
            let mut diagnostic = make(
                Code::LockStale,
                format!(
                    "{} locks `{reference}`, which the spec no longer uses",
                    self.shown()
                ),
            )
            .primary(entry.span, "unused entry")
            .help("run `stowplan lock` to drop it");
            if let Some(source) = &self.source {
                diagnostic = diagnostic.in_file(source);
            }
            found.push(diagnostic);
        }
        found
    }
}

/// A lock that must exist (`check --locked`) and does not: each image
/// the spec pulls, at its first use.
pub(crate) fn missing(spec: &Spec) -> Vec<Diagnostic> {
    references(spec)
        .iter()
        .map(|(reference, spans)| {
            Diagnostic::error(
                Code::LockStale,
                format!("`{reference}` is not locked: there is no {FILE_NAME} next to the spec"),
            )
            .primary(spans[0], "not locked")
            .help(format!("run `stowplan lock` to write {FILE_NAME}"))
        })
        .collect()
}

/// Every external image reference a spec pulls (bases, `copy image=`), as
/// written after expansion, with the places that use it; neither `scratch`
/// nor a reference that carries its own digest needs a lock.
pub(crate) fn references(spec: &Spec) -> BTreeMap<String, Vec<Span>> {
    let mut found: BTreeMap<String, Vec<Span>> = BTreeMap::new();
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
            if written.value.contains('@') {
                continue;
            }
            found
                .entry(written.value.clone())
                .or_default()
                .push(written.span);
        }
    }
    for spans in found.values_mut() {
        spans.sort_by_key(|s| s.offset());
    }
    found
}
