//! The template constructs: definitions, parameters, locks, includes and uses.

use crate::base::diagnostic::Span;
pub use crate::base::keywords::ParamType;
use crate::frontend::ast::Spanned;
use kdl::{KdlDocument, KdlNode, KdlValue};

/// Parameter names a template may not declare: `template` selects the
/// template at a use, `image` is the name of the image being made.
pub const RESERVED_PARAMETERS: &[&str] = &["template", "image"];

/// A `template "name" { ... }` definition.
#[derive(Clone, Debug)]
pub struct TemplateDecl {
    pub name: Spanned<String>,
    pub doc: Option<Spanned<String>>,
    pub params: Vec<ParamDecl>,
    pub locks: Vec<LockDecl>,
    /// The stages, the image and the `when` blocks, as written. They are
    /// decoded once the parameters have values.
    pub body: Vec<KdlNode>,
    pub span: Span,
}

impl TemplateDecl {
    pub fn param(&self, name: &str) -> Option<&ParamDecl> {
        self.params.iter().find(|p| p.name.value == name)
    }
}

/// `param "name" type=... default=... doc=... values=...`.
#[derive(Clone, Debug)]
pub struct ParamDecl {
    pub name: Spanned<String>,
    pub ty: ParamType,
    /// No default: the parameter must be given at every use.
    pub default: Option<Spanned<Value>>,
    pub doc: Option<String>,
    /// For `one-of`: the allowed values, in written order.
    pub choices: Vec<String>,
    pub span: Span,
}

/// A parameter's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    String(String),
    Integer(i128),
    Boolean(bool),
    List(Vec<String>),
}

impl Value {
    /// `when "name"` without `is=`: true, a non-empty string or list, a
    /// non-zero number.
    pub fn truthy(&self) -> bool {
        match self {
            Value::String(s) => !s.is_empty(),
            Value::Integer(i) => *i != 0,
            Value::Boolean(b) => *b,
            Value::List(items) => !items.is_empty(),
        }
    }

    /// The value as it reads in KDL, for listings and messages.
    pub fn kdl(&self) -> String {
        match self {
            Value::String(s) => format!("{s:?}"),
            Value::Integer(i) => i.to_string(),
            Value::Boolean(b) => format!("#{b}"),
            Value::List(items) => format!("{:?}", items.join(" ")),
        }
    }
}

/// `lock "user"`, `lock "label" "org.opencontainers.image.vendor"`,
/// `lock "registry"`: what a use of the template may not set.
#[derive(Clone, Debug)]
pub struct LockDecl {
    /// A parameter name or a body node such as `user` or `label`.
    pub target: Spanned<String>,
    /// Only the nodes whose first argument is this (a label key, a variable).
    pub key: Option<Spanned<String>>,
    pub reason: Option<Spanned<String>>,
    pub span: Span,
}

/// `include "path.kdl"`: a file of templates.
#[derive(Clone, Debug)]
pub struct IncludeDecl {
    pub path: Spanned<String>,
}

/// `image "api" template="go" go="1.22.5" { ... }`.
#[derive(Clone, Debug)]
pub struct UseDecl {
    /// The image's name; the template's stages are named `NAME-STAGE`.
    pub name: Spanned<String>,
    pub template: Spanned<String>,
    pub args: Vec<ArgDecl>,
    /// Body nodes added to the template's image.
    pub block: Option<KdlDocument>,
    /// Where the image's stages go in the spec's declaration order.
    pub position: usize,
    pub span: Span,
}

/// One `name=value` of a use.
#[derive(Clone, Debug)]
pub struct ArgDecl {
    pub name: Spanned<String>,
    pub value: KdlValue,
    /// The whole `name=value`.
    pub span: Span,
}
