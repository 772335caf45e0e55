//! What the resolver and its checks share: stage ids and the one check
//! that names are unique (a leaf, so that the checks beside `resolve` never
//! import it back).

use std::collections::BTreeMap;

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics, Span};
use crate::base::source::Spanned;

/// Index of a stage or image in [`Spec::stages`] (declaration order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StageId(pub usize);

/// Reports the second of any two names that are equal.
pub(crate) fn check_unique<'a>(
    d: &mut Diagnostics,
    names: impl Iterator<Item = &'a Spanned<String>>,
    what: &str,
    owner: &str,
) {
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    for name in names {
        if let Some(first) = seen.get(name.value.as_str()) {
            d.push(
                Diagnostic::error(
                    Code::DuplicateName,
                    format!("{owner} has two {what}s named `{}`", name.value),
                )
                .primary(name.span, "declared again here")
                .secondary(*first, "first declared here")
                .help(format!("rename one {what}")),
            );
        } else {
            seen.insert(&name.value, name.span);
        }
    }
}
