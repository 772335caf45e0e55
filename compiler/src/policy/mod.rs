//! Policies (spec/policy.md): an organisation's rules, checked on the
//! resolved spec (and the image references `--image-map` puts in the
//! plan), never on text. A policy file is KDL, one `rule` node per rule
//! that is on; a spec waives a rule with `allow RULE reason=...`.
//!
//! `mod.rs` reads the policy file; `check.rs` checks a spec against it.

use kdl::KdlNode;

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics, Rule, Severity, Span};
use crate::base::source::{SourceFile, SourceResult, Spanned, Warned, finish};
use crate::frontend::entries::{NodeArgs, expect_no_children, unknown_node};

pub mod check;

/// The file a policy is found under, next to the spec or up the tree.
pub const FILE_NAME: &str = "stowplan.policy.kdl";

/// The rules a policy turns on, each with its settings.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub(crate) rules: Vec<Setting>,
}

/// One rule that is on.
#[derive(Clone, Debug)]
pub(crate) struct Setting {
    pub(crate) rule: Rule,
    pub(crate) severity: Severity,
    /// The policy's own words, shown as the help of every violation.
    pub(crate) message: Option<String>,
    pub(crate) params: Params,
}

/// What a rule is given in its block.
#[derive(Clone, Debug)]
pub(crate) enum Params {
    None,
    /// `allow "docker.io/library" "ghcr.io/acme"`: registry hosts or
    /// repository prefixes, normalized (`docker.io/library/golang`).
    Registries(Vec<String>),
    /// `label "KEY" pattern="REGEX"`.
    Labels(Vec<LabelRequirement>),
    /// `template "go" "node"`.
    Templates(Vec<String>),
}

#[derive(Clone, Debug)]
pub(crate) struct LabelRequirement {
    pub(crate) key: String,
    /// Must match the whole value (compiled only when a policy is read).
    pub(crate) pattern: Option<(String, regex::Regex)>,
}

impl Policy {
    /// Reads a policy file. Its diagnostics are placed in the policy file.
    pub fn parse(source: &SourceFile) -> SourceResult<Policy> {
        let mut d = Diagnostics::default();
        let document = match crate::syntax::parse_with_kdl(source.text()) {
            Ok(doc) => doc,
            Err(errors) => {
                for diag in errors {
                    d.push(diag.help(
                        "a policy is a KDL v2 file of `rule \"policy.ID\" { ... }` nodes (spec/policy.md)",
                    ));
                }
                return finish(source, None, d);
            }
        };
        let mut policy = Policy::default();
        let mut seen: Vec<(Rule, Span)> = Vec::new();
        for node in document.nodes() {
            if node.name().value() != "rule" {
                unknown_node(&mut d, node, "in a policy", ["rule"].into_iter());
                continue;
            }
            let Some((rule, span, setting)) = decode_rule(node, &mut d) else {
                continue;
            };
            if let Some((_, first)) = seen.iter().find(|(r, _)| *r == rule) {
                d.push(
                    Diagnostic::error(
                        Code::DuplicateNode,
                        format!("rule `{}` is given twice", rule.id),
                    )
                    .primary(span, "given again here")
                    .secondary(*first, "first given here")
                    .help("keep one `rule` node per rule"),
                );
                continue;
            }
            seen.push((rule, span));
            // `severity="off"`: read and checked, but not on.
            policy.rules.extend(setting);
        }
        if d.has_errors() {
            return finish(source, None, d);
        }
        Ok(Warned {
            output: policy,
            warnings: Vec::new(),
        })
    }

    /// The ids of the rules that are on, for `-v` and tests.
    pub fn rule_ids(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.rules.iter().map(|s| s.rule.id)
    }
}

/// `rule "ID" [severity=...] [message=...] [{ ... }]`: the rule, where it
/// is named, and its setting unless it is off; `None` when the node is wrong.
fn decode_rule(node: &KdlNode, d: &mut Diagnostics) -> Option<(Rule, Span, Option<Setting>)> {
    let mut args = NodeArgs::new(node, d);
    let id = args.string(d, "the id of a policy rule");
    let severity = args.prop_string(d, "severity");
    let message = args.prop_string(d, "message");
    args.finish(d);
    let id = id?;
    let Some(rule) = Rule::find(&id.value) else {
        d.push(
            Diagnostic::error(
                Code::UnknownRule,
                format!("there is no policy rule `{}`", id.value),
            )
            .primary(id.span, "not a policy rule")
            .suggest(
                &id.value,
                Rule::ids(),
                format!(
                    "the rules are: {}",
                    Rule::ids().collect::<Vec<_>>().join(", ")
                ),
            ),
        );
        return None;
    };
    let severity: Option<Severity> = match severity.as_ref().map(|s| s.value.as_str()) {
        None | Some("error") => Some(Severity::Error),
        Some("warning") => Some(Severity::Warning),
        Some("off") => None,
        Some(other) => {
            let span = severity.as_ref().map_or(id.span, |s| s.span);
            d.push(
                Diagnostic::error(Code::InvalidValue, format!("unknown severity `{other}`"))
                    .primary(span, "not a severity")
                    .suggest(
                        other,
                        ["error", "warning", "off"],
                        "the severities are: error, warning, off",
                    ),
            );
            return None;
        }
    };
    let params = decode_params(node, rule, d)?;
    let setting = severity.map(|severity| Setting {
        rule,
        severity,
        message: message.map(|m| m.value),
        params,
    });
    Some((rule, id.span, setting))
}

/// The rule's block: what it allows or requires.
fn decode_params(node: &KdlNode, rule: Rule, d: &mut Diagnostics) -> Option<Params> {
    let child = match rule.code {
        Code::PolicyBaseRegistry => "allow",
        Code::PolicyLabel => "label",
        Code::PolicyTemplate => "template",
        _ => {
            expect_no_children(node, d);
            return Some(Params::None);
        }
    };
    let children = node.children().map(|c| c.nodes()).unwrap_or_default();
    let mut registries = Vec::new();
    let mut labels = Vec::new();
    let mut templates = Vec::new();
    let mut ok = true;
    for child_node in children {
        if child_node.name().value() != child {
            unknown_node(
                d,
                child_node,
                &format!("in rule `{}`", rule.id),
                [child].into_iter(),
            );
            ok = false;
            continue;
        }
        let mut args = NodeArgs::new(child_node, d);
        match rule.code {
            Code::PolicyBaseRegistry => {
                for prefix in args.rest_strings(d, "a registry or repository prefix", 1) {
                    match normalize_prefix(&prefix, d) {
                        Some(p) => registries.push(p),
                        None => ok = false,
                    }
                }
            }
            Code::PolicyLabel => {
                let key = args.string(d, "the label's key");
                let pattern = args.prop_string(d, "pattern");
                if let Some(key) = key {
                    let pattern = match pattern {
                        None => None,
                        Some(p) => match regex::Regex::new(&format!("^(?:{})$", p.value)) {
                            Ok(re) => Some((p.value, re)),
                            Err(e) => {
                                d.push(
                                    Diagnostic::error(
                                        Code::InvalidValue,
                                        "the pattern is not a regular expression",
                                    )
                                    .primary(p.span, first_line(&e.to_string()))
                                    .help("patterns use the syntax of Rust's `regex` crate and match the whole value"),
                                );
                                ok = false;
                                None
                            }
                        },
                    };
                    labels.push(LabelRequirement {
                        key: key.value,
                        pattern,
                    });
                }
            }
            _ => {
                for name in args.rest_strings(d, "a template's name", 1) {
                    templates.push(name.value);
                }
            }
        }
        args.finish(d);
        expect_no_children(child_node, d);
    }
    let empty = match rule.code {
        Code::PolicyBaseRegistry => registries.is_empty(),
        Code::PolicyLabel => labels.is_empty(),
        _ => templates.is_empty(),
    };
    if ok && empty {
        d.push(
            Diagnostic::error(
                Code::MissingArgument,
                format!("rule `{}` needs `{child}` nodes", rule.id),
            )
            .primary(node.name().span(), format!("no `{child}` in its block"))
            .help(format!(
                "write `rule \"{}\" {{ {child} \"...\" }}` (spec/policy.md)",
                rule.id
            )),
        );
        return None;
    }
    if !ok {
        return None;
    }
    Some(match rule.code {
        Code::PolicyBaseRegistry => Params::Registries(registries),
        Code::PolicyLabel => Params::Labels(labels),
        _ => Params::Templates(templates),
    })
}

fn first_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(text)
        .trim()
        .to_owned()
}

/// An allowed prefix as references are normalized: it starts with a
/// registry host (`docker.io`, `ghcr.io`, `localhost:5000`).
fn normalize_prefix(prefix: &Spanned<String>, d: &mut Diagnostics) -> Option<String> {
    let text = prefix.value.trim_end_matches('/');
    let host = text.split('/').next().unwrap_or_default();
    if !is_host(host) {
        d.push(Diagnostic::error(
            Code::InvalidValue,
            format!("`{}` does not start with a registry", prefix.value),
        )
        .primary(prefix.span, "expected a registry host first")
        .help(format!(
            "name the registry: `docker.io/library/{text}` for an official image, `docker.io/{text}` for another on Docker Hub"
        )));
        return None;
    }
    let host = if host == "index.docker.io" {
        "docker.io"
    } else {
        host
    };
    Some(match text.split_once('/') {
        Some((_, rest)) => format!("{host}/{rest}"),
        None => host.to_owned(),
    })
}

/// The first component of a reference is a registry when it has a dot or
/// a port, or is `localhost` (the distribution reference's rule).
fn is_host(component: &str) -> bool {
    component.contains('.') || component.contains(':') || component == "localhost"
}

/// An image reference split as a registry pulls it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Reference {
    /// `docker.io/library/golang`: the registry and the repository.
    pub(crate) repository: String,
    pub(crate) tag: Option<String>,
    pub(crate) digest: Option<String>,
}

impl Reference {
    pub(crate) fn parse(text: &str) -> Reference {
        let (rest, digest) = match text.split_once('@') {
            Some((r, d)) => (r, Some(d.to_owned())),
            None => (text, None),
        };
        let (name, tag) = match rest.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n, Some(t.to_owned())),
            _ => (rest, None),
        };
        let repository = match name.split_once('/') {
            Some((host, path)) if is_host(host) => {
                let host = if host == "index.docker.io" {
                    "docker.io"
                } else {
                    host
                };
                format!("{host}/{path}")
            }
            Some(_) => format!("docker.io/{name}"),
            None => format!("docker.io/library/{name}"),
        };
        Reference {
            repository,
            tag,
            digest,
        }
    }

    /// Allowed when an allowed prefix is the repository or a parent of it.
    pub(crate) fn allowed_by(&self, prefixes: &[String]) -> bool {
        prefixes.iter().any(|p| {
            self.repository == *p
                || self
                    .repository
                    .strip_prefix(p.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }

    /// A tag that names no full version: none (`latest`), `latest`, or one
    /// that does not start with `MAJOR.MINOR.PATCH` (optionally after a
    /// `v`), such as `22`, `3.12-slim`, `bookworm` or `nonroot`.
    pub(crate) fn floating_tag(&self) -> bool {
        let Some(tag) = &self.tag else {
            return true;
        };
        let version = tag.strip_prefix('v').unwrap_or(tag);
        let mut parts = version.splitn(3, '.');
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let (Some(major), Some(minor), Some(rest)) = (parts.next(), parts.next(), parts.next())
        else {
            return true;
        };
        let patch: String = rest.chars().take_while(char::is_ascii_digit).collect();
        !(numeric(major) && numeric(minor) && !patch.is_empty())
    }
}

#[cfg(test)]
mod tests;
