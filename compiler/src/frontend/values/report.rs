//! The one shape of a bad value's diagnostic, shared by the value checks.

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::frontend::ast::Spanned;

/// An `invalid-value` error at the value, with its label and help.
pub(crate) fn invalid(
    d: &mut Diagnostics,
    value: &Spanned<String>,
    message: String,
    label: &str,
    help: &str,
) {
    d.push(
        Diagnostic::error(Code::InvalidValue, message)
            .primary(value.span, label)
            .help(help),
    );
}
