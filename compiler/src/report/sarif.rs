//! Diagnostics as one SARIF 2.1.0 log per run (`--message-format sarif`),
//! for code-scanning tools: every code and policy rule in
//! `tool.driver.rules`, each diagnostic a result with its rule, level,
//! message and places, a waived policy violation a result with an
//! in-source suppression and its justification.

use std::path::Path;

use serde_json::{Value, json};

use crate::base::diagnostic::{Code, Diagnostic, Severity, Span};
use crate::base::text::IndexedSource;

/// The schema the log names; the test suite validates logs against the
/// schema the SARIF SDK ships.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// A message about the run itself, not about a spec (an unreadable file).
#[derive(Clone, Debug)]
pub struct Notification {
    pub error: bool,
    pub text: String,
}

/// The id a result names its rule by: a policy rule's id
/// (`policy.base.pinned`, what a waiver names), else the code.
fn rule_id(code: Code) -> &'static str {
    code.rule().map_or(code.as_str(), |r| r.id)
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The SARIF log of one run. File names relative to `cwd` (the working
/// directory) become relative URIs; others absolute `file:` URIs.
pub fn to_sarif(diagnostics: &[Diagnostic], notifications: &[Notification], cwd: &Path) -> String {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|code| {
            let (text, help) = match code.rule() {
                Some(rule) => (
                    rule.summary.to_owned(),
                    format!("spec/policy.md, `{}`", rule.id),
                ),
                None => (
                    format!("stowplan diagnostic `{}`", code.as_str()),
                    format!("spec/diagnostics.md, `{}`", code.as_str()),
                ),
            };
            let mut rule = json!({
                "id": rule_id(*code),
                "shortDescription": { "text": text },
                "help": { "text": format!("See {help}.") },
            });
            // A policy rule's code is its name (SARIF wants a name unlike the id).
            if code.rule().is_some() {
                rule["name"] = json!(code.as_str());
            }
            rule
        })
        .collect();
    let results: Vec<Value> = diagnostics.iter().map(|d| result(d, cwd)).collect();
    let notes: Vec<Value> = notifications
        .iter()
        .map(|n| {
            json!({
                "level": if n.error { "error" } else { "note" },
                "message": { "text": n.text },
            })
        })
        .collect();
    let mut invocation = json!({
        "executionSuccessful": !notifications.iter().any(|n| n.error),
    });
    if !notes.is_empty() {
        invocation["toolExecutionNotifications"] = Value::Array(notes);
    }
    let mut driver = json!({
        "name": "stowplan",
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "rules": rules,
    });
    if let Some(home) = Some(env!("CARGO_PKG_HOMEPAGE")).filter(|h| !h.is_empty()) {
        driver["informationUri"] = json!(home);
    }
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver },
            "invocations": [invocation],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    let mut text = serde_json::to_string_pretty(&log).expect("a JSON value serializes");
    text.push('\n');
    text
}

fn result(d: &Diagnostic, cwd: &Path) -> Value {
    let index = Code::ALL.iter().position(|c| *c == d.code).unwrap_or(0);
    let mut message = d.message.clone();
    if let Some(help) = &d.help
        && d.waived.is_none()
    {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let mut result = json!({
        "ruleId": rule_id(d.code),
        "ruleIndex": index,
        "level": level(d.severity),
        "message": { "text": message },
    });
    if let Some(source) = d.source() {
        let primary = d.labels.iter().find(|l| l.primary).or(d.labels.first());
        let span = primary.map_or(Span::from(0..0), |l| l.span);
        let mut primary_location = location(source, span, cwd);
        if let Some(text) = primary.and_then(|l| l.text.as_ref()) {
            primary_location["message"] = json!({ "text": text });
        }
        result["locations"] = json!([primary_location]);
        let related: Vec<Value> = d
            .labels
            .iter()
            .filter(|l| primary.is_none_or(|p| !std::ptr::eq(*l, p)))
            .enumerate()
            .map(|(i, l)| {
                let mut related = location(source, l.span, cwd);
                related["id"] = json!(i);
                if let Some(text) = &l.text {
                    related["message"] = json!({ "text": text });
                }
                related
            })
            .collect();
        if !related.is_empty() {
            result["relatedLocations"] = Value::Array(related);
        }
        if let Some(waived) = &d.waived {
            result["suppressions"] = json!([{
                "kind": "inSource",
                "status": "accepted",
                "justification": waived.reason,
                "location": location(source, waived.span, cwd),
            }]);
        }
    } else if let Some(waived) = &d.waived {
        result["suppressions"] = json!([{
            "kind": "inSource",
            "status": "accepted",
            "justification": waived.reason,
        }]);
    }
    result
}

fn location(source: &IndexedSource, span: Span, cwd: &Path) -> Value {
    let (start_line, start_column) = source.line_column(span.offset());
    let (end_line, end_column) = source.line_column(span.offset() + span.len());
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri(source.name(), cwd) },
            "region": {
                "startLine": start_line,
                "startColumn": start_column,
                "endLine": end_line,
                "endColumn": end_column,
            }
        }
    })
}

/// A file name as a URI reference: relative to the working directory
/// when it can be, percent-encoded.
fn uri(name: &str, cwd: &Path) -> String {
    let path = Path::new(name);
    if path.is_absolute() {
        return match path.strip_prefix(cwd) {
            Ok(relative) => encode(&relative.to_string_lossy()),
            Err(_) => format!("file://{}", encode(name)),
        };
    }
    let relative = name.strip_prefix("./").unwrap_or(name);
    encode(relative)
}

/// Percent-encodes all but RFC 3986's unreserved characters and `/`.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
