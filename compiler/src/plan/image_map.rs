//! Image mappings: point a spec's image references at mirrors or local
//! images without editing the spec (air-gapped builds, the e2e suite).
//!
//! A mapping file is KDL: one `map "FROM" "TO"` node per image.
//!
//! A lock (`plan/lock.rs`) pins through the same rewrite: a reference is
//! looked up as the spec writes it, in the lock for its digest and in the
//! map for its name, and becomes `NAME@DIGEST` (the mapped name when the
//! map has one: a mirror serves the same manifest under the same digest).
//! A map target that names a digest of its own keeps it.

use std::borrow::Cow;
use std::collections::BTreeMap;

use kdl::KdlValue;

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::base::source::{SourceFile, SourceResult, Warned, finish};
use crate::frontend::{ast::Spanned, values};
use crate::plan::ir::{Base, CopySource, Instruction, Plan};
use crate::plan::lock::Lock;

/// Exact image references and what to use instead.
#[derive(Clone, Debug, Default)]
pub struct ImageMap {
    entries: BTreeMap<String, String>,
    /// The lock's digests, by the reference as the spec writes it.
    pins: BTreeMap<String, String>,
}

impl ImageMap {
    pub fn parse(source: &SourceFile) -> SourceResult<ImageMap> {
        let mut d = Diagnostics::default();
        let mut map = ImageMap::default();
        // Through the nesting guard, like a spec: a hostile map must not
        // overflow the kdl crate's recursive parser.
        let document = match crate::syntax::parse_with_kdl(source.text()) {
            Ok(doc) => doc,
            Err(errors) => {
                for diag in errors {
                    d.push(
                        diag.help("an image map is a KDL v2 file of `map \"from\" \"to\"` nodes"),
                    );
                }
                return finish(source, None, d);
            }
        };
        for node in document.nodes() {
            if node.name().value() != "map" {
                d.push(
                    Diagnostic::error(
                        Code::UnknownNode,
                        format!("unknown node `{}` in an image map", node.name().value()),
                    )
                    .primary(node.name().span(), "not `map`")
                    .help("write one `map \"golang:1.22\" \"mirror.local/golang:1.22\"` per image"),
                );
                continue;
            }
            let strings: Vec<Spanned<String>> = node
                .entries()
                .iter()
                .filter_map(|e| match (e.name(), e.value()) {
                    (None, KdlValue::String(s)) => Some(Spanned::new(s.clone(), e.span())),
                    _ => None,
                })
                .collect();
            if strings.len() != 2 || node.entries().len() != 2 {
                d.push(
                    Diagnostic::error(Code::MissingArgument, "`map` takes two image references")
                        .primary(node.span(), "expected `map \"from\" \"to\"`")
                        .help(
                            "write the image as the spec names it, then the image to use instead",
                        ),
                );
                continue;
            }
            for image in &strings {
                values::check_image_ref(image, &mut d);
            }
            if let Some(previous) = map
                .entries
                .insert(strings[0].value.clone(), strings[1].value.clone())
            {
                d.push(
                    Diagnostic::error(
                        Code::DuplicateName,
                        format!("`{}` is mapped twice", strings[0].value),
                    )
                    .primary(strings[0].span, format!("also mapped to `{previous}`"))
                    .help("keep one mapping per image"),
                );
            }
        }
        if d.has_errors() {
            return finish(source, None, d);
        }
        Ok(Warned {
            output: map,
            warnings: Vec::new(),
        })
    }

    pub fn insert(&mut self, from: impl Into<String>, to: impl Into<String>) {
        self.entries.insert(from.into(), to.into());
    }

    /// This map with a lock's digests: each locked reference is pinned
    /// (under its mapped name, when the map maps it).
    pub(crate) fn pinned(&self, lock: &Lock) -> ImageMap {
        let mut map = self.clone();
        map.pins = lock
            .entries()
            .map(|(r, d)| (r.to_owned(), d.to_owned()))
            .collect();
        map
    }

    /// What an image reference is replaced with, when the map or the lock
    /// replaces it.
    pub(crate) fn mapped(&self, image: &str) -> Option<String> {
        match self.get(image) {
            Cow::Owned(to) => Some(to),
            Cow::Borrowed(to) if to != image => Some(to.to_owned()),
            Cow::Borrowed(_) => None,
        }
    }

    fn get<'a>(&'a self, image: &'a str) -> Cow<'a, str> {
        let to = self.entries.get(image).map_or(image, String::as_str);
        match self.pins.get(image) {
            // `scratch` is never locked, and a digest written in the map wins.
            Some(digest) if !to.contains('@') => Cow::Owned(format!("{to}@{digest}")),
            _ => Cow::Borrowed(to),
        }
    }

    /// Rewrites every external image reference of a plan.
    pub fn apply(&self, plan: &mut Plan) {
        if self.entries.is_empty() && self.pins.is_empty() {
            return;
        }
        for stage in &mut plan.stages {
            if let Base::Image(image) = &mut stage.base {
                *image = self.get(image).into_owned();
            }
            // A reference naming arguments is mapped by what its defaults
            // spell; the mapped image then replaces it (spec/language.md).
            if let Base::ImageArgs(word) = &stage.base {
                let defaults: Option<Vec<&str>> = word
                    .args()
                    .map(|name| {
                        plan.args
                            .iter()
                            .find(|a| a.name == name)
                            .and_then(|a| a.default.as_deref())
                    })
                    .collect();
                if defaults.is_some() {
                    let spelled = word.expand(|name| {
                        plan.args
                            .iter()
                            .find(|a| a.name == name)
                            .and_then(|a| a.default.clone())
                            .unwrap_or_default()
                    });
                    if let Some(mapped) = self.entries.get(&spelled) {
                        stage.base = Base::Image(mapped.clone());
                    }
                }
            }
            for instruction in &mut stage.instructions {
                if let Instruction::Copy(copy) = &mut instruction.value
                    && let CopySource::Image(image) = &mut copy.source
                {
                    *image = self.get(image).into_owned();
                }
            }
        }
    }
}
