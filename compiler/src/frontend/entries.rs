//! Reading a node's entries: arguments and properties consumed one by one,
//! with the user errors every decoder shares (wrong type, missing,
//! unknown, duplicate).

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics, Span};
use crate::base::word::Word;
use crate::frontend::ast::*;
use kdl::{KdlEntry, KdlNode, KdlValue};

/// A node's arguments and properties, consumed one by one. `finish` reports
/// whatever the decoder did not ask for.
pub(crate) struct NodeArgs<'a> {
    node: &'a KdlNode,
    args: Vec<&'a KdlEntry>,
    next: usize,
    props: Vec<(&'a str, &'a KdlEntry)>,
    asked: Vec<&'static str>,
}

impl<'a> NodeArgs<'a> {
    pub(crate) fn new(node: &'a KdlNode, d: &mut Diagnostics) -> Self {
        let mut args = Vec::new();
        let mut props: Vec<(&'a str, &'a KdlEntry)> = Vec::new();
        for entry in node.entries() {
            if let Some(ty) = entry.ty()
                && !(ty.value() == ARG_ANNOTATION && matches!(entry.value(), KdlValue::String(_)))
            {
                d.push(
                    Diagnostic::error(Code::WrongType, "stowplan does not use type annotations")
                        .primary(ty.span(), "a type annotation")
                        .help("remove the `(...)` before the value; only a string can be `(arg)`, to refer to build arguments"),
                );
            }
            match entry.name() {
                None => args.push(entry),
                Some(key) => {
                    if let Some((_, first)) = props.iter().find(|(k, _)| *k == key.value()) {
                        d.push(
                            Diagnostic::error(
                                Code::DuplicateProperty,
                                format!("property `{}` is set twice", key.value()),
                            )
                            .primary(entry.span(), "set again here")
                            .secondary(first.span(), "first set here")
                            .help("keep one of them"),
                        );
                        continue;
                    }
                    props.push((key.value(), entry));
                }
            }
        }
        NodeArgs {
            node,
            args,
            next: 0,
            props,
            asked: Vec::new(),
        }
    }

    pub(crate) fn take_arg(&mut self) -> Option<&'a KdlEntry> {
        let entry = self.args.get(self.next).copied();
        if entry.is_some() {
            self.next += 1;
        }
        entry
    }

    pub(crate) fn string(&mut self, d: &mut Diagnostics, what: &str) -> Option<Spanned<String>> {
        match self.take_arg() {
            Some(entry) => expect_string(entry, d),
            None => {
                missing_argument(d, self.node, what);
                None
            }
        }
    }

    /// A string that may be written `(arg)"..."` to refer to build arguments.
    pub(crate) fn word(&mut self, d: &mut Diagnostics, what: &str) -> Option<Spanned<Word>> {
        match self.take_arg() {
            Some(entry) => expect_word(entry, d),
            None => {
                missing_argument(d, self.node, what);
                None
            }
        }
    }

    pub(crate) fn prop_word(
        &mut self,
        d: &mut Diagnostics,
        key: &'static str,
    ) -> Option<Spanned<Word>> {
        self.prop(key).and_then(|e| expect_word(e, d))
    }

    pub(crate) fn opt_string(&mut self, d: &mut Diagnostics) -> Option<Spanned<String>> {
        self.take_arg().and_then(|e| expect_string(e, d))
    }

    pub(crate) fn rest_strings(
        &mut self,
        d: &mut Diagnostics,
        what: &str,
        min: usize,
    ) -> Vec<Spanned<String>> {
        let mut out = Vec::new();
        let mut seen = 0;
        while let Some(entry) = self.take_arg() {
            seen += 1;
            out.extend(expect_string(entry, d));
        }
        if seen < min {
            missing_argument(d, self.node, what);
        }
        out
    }

    /// Whether any argument is an `(arg)` string.
    pub(crate) fn any_arg_word(&self) -> bool {
        self.args.iter().any(|e| is_arg_word(e))
    }

    /// The remaining arguments as `(arg)` strings (a plain one is refused).
    pub(crate) fn rest_arg_words(&mut self, d: &mut Diagnostics) -> Vec<Spanned<Word>> {
        let mut out = Vec::new();
        while let Some(entry) = self.take_arg() {
            if !is_arg_word(entry) {
                d.push(
                    Diagnostic::error(Code::Conflict, "an `expose` mixes ports and `(arg)` ports")
                        .primary(entry.span(), "a port")
                        .help("write the `(arg)` ports in an `expose` of their own"),
                );
                continue;
            }
            out.extend(expect_word(entry, d));
        }
        out
    }

    pub(crate) fn rest_ports(&mut self, d: &mut Diagnostics) -> Vec<Spanned<Port>> {
        let mut out = Vec::new();
        let mut seen = false;
        while let Some(entry) = self.take_arg() {
            seen = true;
            out.extend(port(entry, d));
        }
        if !seen {
            missing_argument(d, self.node, "a port such as 8080 or \"53/udp\"");
        }
        out
    }

    pub(crate) fn int<T: TryFrom<i128>>(
        &mut self,
        d: &mut Diagnostics,
        what: &str,
    ) -> Option<Spanned<T>> {
        match self.take_arg() {
            Some(entry) => expect_int(entry, d),
            None => {
                missing_argument(d, self.node, what);
                None
            }
        }
    }

    /// How many arguments were written (even with bad values).
    pub(crate) fn arg_count(&self) -> usize {
        self.args.len()
    }

    /// Whether the property was written at all (even with a bad value).
    pub(crate) fn has(&self, key: &str) -> bool {
        self.props.iter().any(|(k, _)| *k == key)
    }

    pub(crate) fn prop(&mut self, key: &'static str) -> Option<&'a KdlEntry> {
        self.asked.push(key);
        self.props.iter().find(|(k, _)| *k == key).map(|(_, e)| *e)
    }

    pub(crate) fn prop_string(
        &mut self,
        d: &mut Diagnostics,
        key: &'static str,
    ) -> Option<Spanned<String>> {
        self.prop(key).and_then(|e| expect_string(e, d))
    }

    pub(crate) fn prop_bool(
        &mut self,
        d: &mut Diagnostics,
        key: &'static str,
    ) -> Option<Spanned<bool>> {
        let entry = self.prop(key)?;
        match entry.value() {
            KdlValue::Bool(b) => Some(Spanned::new(*b, entry.span())),
            other => {
                wrong_type(d, entry, "a boolean (#true or #false)", other);
                None
            }
        }
    }

    pub(crate) fn prop_int<T: TryFrom<i128>>(
        &mut self,
        d: &mut Diagnostics,
        key: &'static str,
    ) -> Option<Spanned<T>> {
        self.prop(key).and_then(|e| expect_int(e, d))
    }

    /// Reports arguments and properties nobody asked for.
    pub(crate) fn finish(self, d: &mut Diagnostics) {
        let keyword = self.node.name().value();
        for extra in &self.args[self.next..] {
            d.push(
                Diagnostic::error(
                    Code::ExtraArgument,
                    format!("too many arguments for `{keyword}`"),
                )
                .primary(extra.span(), "not expected")
                .help(format!(
                    "see `{keyword}` in spec/language.md for what it takes"
                )),
            );
        }
        for (key, entry) in &self.props {
            if self.asked.contains(key) {
                continue;
            }
            let otherwise = if self.asked.is_empty() {
                format!("`{keyword}` takes no properties")
            } else {
                format!("`{keyword}` takes: {}", self.asked.join(", "))
            };
            d.push(
                Diagnostic::error(
                    Code::UnknownProperty,
                    format!("`{keyword}` has no property `{key}`"),
                )
                .primary(entry.span(), "unknown property")
                .suggest(key, self.asked.iter().copied(), otherwise),
            );
        }
    }
}

/// The type annotation that marks a string with build-argument references.
pub(crate) const ARG_ANNOTATION: &str = "arg";

fn is_arg_word(entry: &KdlEntry) -> bool {
    entry.ty().is_some_and(|t| t.value() == ARG_ANNOTATION)
}

/// A string, or an `(arg)` string with its `${NAME}` references.
pub(crate) fn expect_word(entry: &KdlEntry, d: &mut Diagnostics) -> Option<Spanned<Word>> {
    let text = string_value(entry, d)?;
    if is_arg_word(entry) {
        crate::frontend::values::parse_arg_word(&text, d)
    } else {
        Some(Spanned::new(Word::text(text.value), text.span))
    }
}

pub(crate) fn expect_string(entry: &KdlEntry, d: &mut Diagnostics) -> Option<Spanned<String>> {
    if let Some(ty) = entry.ty().filter(|_| is_arg_word(entry)) {
        d.push(
            Diagnostic::error(
                Code::WrongType,
                "this value cannot refer to build arguments",
            )
            .primary(ty.span(), "an `(arg)` string")
            .help("`(arg)` strings go in `from`, `env` and `label` values, `workdir`, `user`, `expose` and a copy's `to=`; write the value without `(arg)`"),
        );
        return None;
    }
    string_value(entry, d)
}

fn string_value(entry: &KdlEntry, d: &mut Diagnostics) -> Option<Spanned<String>> {
    match entry.value() {
        // Argv, environment and paths are C strings in a container: NUL ends them.
        KdlValue::String(s) if s.contains('\0') => {
            d.push(
                Diagnostic::error(Code::InvalidValue, "a value holds a NUL character")
                    .primary(entry.span(), "contains \\u{0}")
                    .help("remove the NUL: commands, variables and paths cannot carry one"),
            );
            None
        }
        KdlValue::String(s) => Some(Spanned::new(s.clone(), entry.span())),
        other => {
            wrong_type(d, entry, "a string", other);
            None
        }
    }
}

pub(crate) fn expect_int<T: TryFrom<i128>>(
    entry: &KdlEntry,
    d: &mut Diagnostics,
) -> Option<Spanned<T>> {
    match entry.value() {
        KdlValue::Integer(i) => match T::try_from(*i) {
            Ok(v) => Some(Spanned::new(v, entry.span())),
            Err(_) => {
                d.push(
                    Diagnostic::error(Code::InvalidValue, format!("{i} is out of range"))
                        .primary(entry.span(), "out of range")
                        .help("use a smaller, non-negative number"),
                );
                None
            }
        },
        other => {
            wrong_type(d, entry, "an integer", other);
            None
        }
    }
}

pub(crate) fn wrong_type(d: &mut Diagnostics, entry: &KdlEntry, expected: &str, found: &KdlValue) {
    let found = match found {
        KdlValue::String(_) => "a string",
        KdlValue::Integer(_) => "an integer",
        KdlValue::Float(_) => "a number",
        KdlValue::Bool(_) => "a boolean",
        KdlValue::Null => "#null",
    };
    let help = if expected == "a string" {
        "quote the value: \"...\"".to_owned()
    } else {
        format!("write {expected} here")
    };
    d.push(
        Diagnostic::error(
            Code::WrongType,
            format!("expected {expected}, found {found}"),
        )
        .primary(entry.span(), format!("{found}, not {expected}"))
        .help(help),
    );
}

pub(crate) fn missing_argument(d: &mut Diagnostics, node: &KdlNode, what: &str) {
    let keyword = node.name().value();
    d.push(
        Diagnostic::error(
            Code::MissingArgument,
            format!("`{keyword}` is missing {what}"),
        )
        .primary(node.span(), format!("needs {what}"))
        .help(format!("see `{keyword}` in spec/language.md")),
    );
}

pub(crate) fn missing_property(d: &mut Diagnostics, node: &KdlNode, key: &str, what: &str) {
    let keyword = node.name().value();
    d.push(
        Diagnostic::error(
            Code::MissingProperty,
            format!("`{keyword}` is missing `{key}`"),
        )
        .primary(node.span(), format!("needs `{key}=`"))
        .help(format!("add {what}")),
    );
}

pub(crate) fn unknown_node<'a>(
    d: &mut Diagnostics,
    node: &KdlNode,
    place: &str,
    candidates: impl Iterator<Item = &'a str> + Clone,
) {
    let name = node.name().value();
    let expected = format!(
        "expected one of: {}",
        candidates.clone().collect::<Vec<_>>().join(", ")
    );
    d.push(
        Diagnostic::error(Code::UnknownNode, format!("unknown node `{name}` {place}"))
            .primary(node.name().span(), "not a stowplan node here")
            .suggest(name, candidates, expected),
    );
}

pub(crate) fn duplicate_node(d: &mut Diagnostics, node: &KdlNode, first: Span) {
    let name = node.name().value();
    d.push(
        Diagnostic::error(Code::DuplicateNode, format!("`{name}` is given twice"))
            .primary(node.name().span(), "given again here")
            .secondary(first, "first given here")
            .help(format!("keep one `{name}`")),
    );
}

pub(crate) fn expect_no_children(node: &KdlNode, d: &mut Diagnostics) {
    if let Some(children) = node.children() {
        d.push(
            Diagnostic::error(
                Code::Children,
                format!("`{}` takes no children block", node.name().value()),
            )
            .primary(children.span(), "unexpected block")
            .help("remove the `{ ... }`"),
        );
    }
}

pub(crate) fn expect_children<'a>(node: &'a KdlNode, d: &mut Diagnostics) -> &'a [KdlNode] {
    match node.children() {
        Some(children) => children.nodes(),
        None => {
            d.push(
                Diagnostic::error(
                    Code::Children,
                    format!("`{}` needs a children block", node.name().value()),
                )
                .primary(node.span(), "no `{ ... }`")
                .help(format!(
                    "write `{} \"name\" {{ ... }}`",
                    node.name().value()
                )),
            );
            &[]
        }
    }
}

/// A port: `8080`, or `"53/udp"`.
pub fn port(entry: &KdlEntry, d: &mut Diagnostics) -> Option<Spanned<Port>> {
    let span = entry.span();
    let (number, protocol): (i128, Protocol) = match entry.value() {
        KdlValue::Integer(i) => (*i, Protocol::Tcp),
        KdlValue::String(s) => {
            let (n, proto) = s
                .split_once('/')
                .unwrap_or((s.as_str(), Protocol::Tcp.name()));
            let protocol = match Protocol::parse(proto) {
                Some(protocol) => protocol,
                None => {
                    d.push(
                        Diagnostic::error(
                            Code::InvalidValue,
                            format!("`{}` is not a port", s.escape_debug()),
                        )
                        .primary(span, "unknown protocol")
                        .help(
                            "write a port number, optionally with /tcp or /udp: 8080, \"53/udp\"",
                        ),
                    );
                    return None;
                }
            };
            match n.parse::<i128>() {
                Ok(parsed) if parsed.to_string() == n => (parsed, protocol),
                _ => {
                    d.push(
                        Diagnostic::error(
                            Code::InvalidValue,
                            format!("`{}` is not a port", s.escape_debug()),
                        )
                        .primary(span, "not a port number")
                        .help(
                            "write a port number, optionally with /tcp or /udp: 8080, \"53/udp\"",
                        ),
                    );
                    return None;
                }
            }
        }
        other => {
            wrong_type(d, entry, "a port number", other);
            return None;
        }
    };
    match u16::try_from(number) {
        Ok(n) if n > 0 => Some(Spanned::new(
            Port {
                number: n,
                protocol,
            },
            span,
        )),
        _ => {
            d.push(
                Diagnostic::error(Code::InvalidValue, format!("{number} is not a port number"))
                    .primary(span, "out of range")
                    .help("ports run from 1 to 65535"),
            );
            None
        }
    }
}
