//! Templates, includes and template uses, decoded from their KDL nodes.
//!
//! A `template` has typed parameters, locks and a body of stages and one
//! image. The body stays KDL until `expand` gives the parameters their
//! values: a parameter reference (`{{name}}`) is replaced inside one string
//! value of the KDL tree, and the result goes through the ordinary decoder,
//! so a value can never add a node, an entry or an instruction. This module
//! also checks a template's body once, where it is defined, so that a
//! mistake in a template is reported at the template and not at each use.

pub(crate) mod check;
pub(crate) mod decode;
pub(crate) mod types;

pub(crate) use check::*;
pub(crate) use decode::*;
pub use types::*;
