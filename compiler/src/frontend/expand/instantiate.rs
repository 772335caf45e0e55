//! One use's expansion of a template body: `when` blocks evaluated,
//! references substituted inside strings, stage names prefixed, the use's
//! block merged into the image, and the result decoded.

use std::cell::Cell;
use std::collections::BTreeSet;

use kdl::{KdlDocument, KdlEntry, KdlNode, KdlValue};

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics, Span};
use crate::base::keywords::{BodyNode, StepNode, TemplateNode};
use crate::frontend::ast::{StageDecl, StageKind};
use crate::frontend::decode;
use crate::frontend::expand::bind::Values;
use crate::frontend::expand::home::{Defined, Home};
use crate::frontend::template::{self, Piece, Test, UseDecl, Value};

/// Body nodes that a use's block replaces instead of adding to: an image
/// has at most one of each.
const REPLACED_BY_USE: &[BodyNode] = &[
    BodyNode::Entrypoint,
    BodyNode::Cmd,
    BodyNode::Healthcheck,
    BodyNode::StopSignal,
    BodyNode::Platform,
    BodyNode::Context,
];

/// The most KDL nodes expansion makes for a whole spec, every use together.
pub(crate) const MAX_EXPANDED_NODES: usize = 20_000;
/// The most bytes of names and values expansion makes for a whole spec.
pub(crate) const MAX_EXPANDED_BYTES: usize = 2 * 1024 * 1024;

/// What expansion may still make, for the uses not yet expanded. A spec of
/// a few kilobytes could otherwise ask for gigabytes: many uses of a big
/// template, a long value referenced many times.
#[derive(Clone, Copy, Debug)]
pub(super) struct Budget {
    pub(super) nodes: usize,
    pub(super) bytes: usize,
    /// A use crossed it: the uses after it are not expanded.
    pub(super) crossed: bool,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            nodes: MAX_EXPANDED_NODES,
            bytes: MAX_EXPANDED_BYTES,
            crossed: false,
        }
    }
}

/// Makes the template's stages and image for one use, decoded. Stops, with
/// a diagnostic at the use, when the use would cross the budget.
pub(super) fn instantiate(
    template: &Defined,
    use_: &UseDecl,
    values: &Values,
    budget: &mut Budget,
    d: &mut Diagnostics,
) -> Option<Vec<StageDecl>> {
    let decl = &template.decl;
    let mut locals = BTreeSet::new();
    collect_stage_names(&decl.body, &mut locals);
    let maker = Maker {
        template,
        use_,
        values,
        locals,
        left: Cell::new(Some(*budget)),
    };
    let nodes = maker.nodes(&decl.body);
    let Some(left) = maker.left.get() else {
        budget.crossed = true;
        let diag = Diagnostic::error(
            Code::ExpansionBudget,
            format!(
                "the spec's templates expand past the budget of {} nodes and {} MiB of names and values",
                thousands(MAX_EXPANDED_NODES),
                MAX_EXPANDED_BYTES / (1024 * 1024)
            ),
        )
        .primary(use_.template.span, "this use crosses the budget")
        .help("a spec expands to at most this much, all uses together; use fewer or smaller templates, or shorter values");
        d.push(template.point_at(diag, decl.name.span, "the template is defined"));
        return None;
    };
    *budget = left;
    let is_image = |n: &KdlNode| TemplateNode::parse(n.name().value()) == Some(TemplateNode::Image);
    let images = nodes.iter().filter(|n| is_image(n)).count();
    if images != 1 {
        let diag = Diagnostic::error(
            if images == 0 {
                Code::MissingNode
            } else {
                Code::DuplicateNode
            },
            format!(
                "template `{}` makes {images} images with these parameters",
                decl.name.value
            ),
        )
        .primary(use_.template.span, "needs exactly one image")
        .help("a template's `when` blocks must leave exactly one `image` for every use");
        d.push(template.point_at(diag, decl.name.span, "the template is defined"));
        return None;
    }
    let mut stages = Vec::new();
    for mut node in nodes {
        let kind = if is_image(&node) {
            maker.finish_image(&mut node);
            StageKind::Image
        } else {
            maker.rename_stage(&mut node);
            StageKind::Stage
        };
        stages.extend(decode::decode_stage(&node, kind, d));
    }
    // A use's `context` is where the whole app is: its builder stages read
    // their inputs from there too, unless the template says otherwise.
    let context = stages
        .iter()
        .find(|s| s.kind == StageKind::Image)
        .and_then(|s| s.context.clone());
    if let Some(context) = context {
        for stage in &mut stages {
            stage.context.get_or_insert_with(|| context.clone());
        }
    }
    Some(stages)
}

fn collect_stage_names(nodes: &[KdlNode], out: &mut BTreeSet<String>) {
    for node in nodes {
        match TemplateNode::parse(node.name().value()) {
            Some(TemplateNode::Stage) => {
                if let Some(name) = node
                    .entries()
                    .iter()
                    .find(|e| e.name().is_none())
                    .and_then(|e| e.value().as_string())
                {
                    out.insert(name.to_owned());
                }
            }
            Some(TemplateNode::When) => {
                if let Some(children) = node.children() {
                    collect_stage_names(children.nodes(), out);
                }
            }
            _ => {}
        }
    }
}

/// One use's expansion of a template body.
struct Maker<'a> {
    template: &'a Defined,
    use_: &'a UseDecl,
    values: &'a Values,
    /// The template's stage names: references to them get the image's prefix.
    locals: BTreeSet<String>,
    /// What may still be made; `None` once the budget is crossed.
    left: Cell<Option<Budget>>,
}

impl Maker<'_> {
    /// Takes `nodes` and `bytes` from the budget; false once it is crossed.
    fn spend(&self, nodes: usize, bytes: usize) -> bool {
        let left = self.left.get().and_then(|left| {
            Some(Budget {
                nodes: left.nodes.checked_sub(nodes)?,
                bytes: left.bytes.checked_sub(bytes)?,
                crossed: false,
            })
        });
        self.left.set(left);
        left.is_some()
    }

    fn nodes(&self, nodes: &[KdlNode]) -> Vec<KdlNode> {
        let mut out = Vec::new();
        for node in nodes {
            if self.left.get().is_none() {
                break;
            }
            if TemplateNode::parse(node.name().value()) == Some(TemplateNode::When) {
                if self.holds(node) {
                    let children = node.children().map(KdlDocument::nodes).unwrap_or_default();
                    out.extend(self.nodes(children));
                }
                continue;
            }
            out.push(self.node(node));
        }
        out
    }

    /// Whether a `when` holds for this use. The template was checked where
    /// it is defined; anything that still does not fit counts as false.
    fn holds(&self, node: &KdlNode) -> bool {
        let mut ignored = Diagnostics::default();
        let Some(condition) = template::condition(node, None, &mut ignored) else {
            return false;
        };
        let Some((value, _)) = self.values.get(&condition.param.value) else {
            return false;
        };
        let Some(param) = self.template.decl.param(&condition.param.value) else {
            return false;
        };
        match condition.test {
            Test::Truthy => value.truthy(),
            Test::Is(entry) => template::convert(entry.value(), param).is_ok_and(|v| &v == value),
            Test::Not(entry) => template::convert(entry.value(), param).is_ok_and(|v| &v != value),
        }
    }

    fn node(&self, original: &KdlNode) -> KdlNode {
        let written: usize = original
            .entries()
            .iter()
            .map(|e| {
                e.name().map_or(0, |n| n.value().len()) + e.value().as_string().map_or(8, str::len)
            })
            .sum();
        self.spend(1, original.name().value().len() + written);
        let mut node = original.clone();
        node.clear_children();
        if let Home::File(_) = self.template.home {
            relocate(&mut node, self.use_.template.span);
        }
        let scripts = template::takes_scripts(&node);
        let mut entries = Vec::with_capacity(node.entries().len());
        let mut set_at_use: Option<Span> = None;
        for entry in node.entries() {
            match entry.value() {
                KdlValue::String(s) if s.contains("{{") => {
                    let (substituted, at) =
                        self.substitute(entry, s, scripts && entry.name().is_none());
                    entries.extend(substituted);
                    set_at_use = set_at_use.or(at);
                }
                _ => entries.push(entry.clone()),
            }
        }
        *node.entries_mut() = entries;
        // A node from another file is best shown by the value its use gave
        // it: a problem found later in the whole node (a label the
        // Dockerfile cannot carry) then points at that `name=value`.
        if let (Home::File(_), Some(at)) = (&self.template.home, set_at_use) {
            node.set_span(at);
        }
        self.rewrite_stage_references(&mut node);
        if let Some(children) = original.children() {
            let mut doc = KdlDocument::new();
            doc.set_span(match self.template.home {
                Home::Spec => children.span(),
                Home::File(_) => self.use_.template.span,
            });
            *doc.nodes_mut() = self.nodes(children.nodes());
            node.set_children(doc);
        }
        node
    }

    /// One entry with its references replaced: one entry, or none or many
    /// for a list standing alone as an argument; and the `name=value` of
    /// the use that set a value in it, if any did.
    fn substitute(&self, entry: &KdlEntry, s: &str, script: bool) -> (Vec<KdlEntry>, Option<Span>) {
        let pieces = template::pieces(s);
        let value_of = |name: &str| self.values.get(name);
        // A value set at the use points there; a default, at the template.
        let at_use = pieces.iter().find_map(|p| match p {
            Piece::Ref(name, _) => value_of(name).and_then(|(_, at)| *at),
            Piece::Text(_) => None,
        });
        let span = at_use.unwrap_or(entry.span());
        if let [Piece::Ref(name, _)] = pieces.as_slice()
            && !script
            && entry.name().is_none()
            && let Some((Value::List(items), _)) = value_of(name)
        {
            self.spend(items.len(), items.iter().map(String::len).sum::<usize>());
            let entries = items
                .iter()
                .map(|item| {
                    let mut e = KdlEntry::new(KdlValue::String(item.clone()));
                    e.set_span(span);
                    e
                })
                .collect();
            return (entries, at_use);
        }
        // In a `(arg)` string a `$` of the value is a dollar sign, never a
        // reference: the value is written `$$` there.
        let in_arg_word = entry.ty().is_some_and(|t| t.value() == "arg");
        let mut text = String::new();
        let mut after_nothing = false;
        for piece in &pieces {
            match piece {
                Piece::Text(t) => {
                    // An empty list between two spaces of a script leaves one.
                    let t = match t.strip_prefix(' ') {
                        Some(rest) if after_nothing && text.ends_with(' ') => rest,
                        _ => t,
                    };
                    if !self.spend(0, t.len()) {
                        break;
                    }
                    text.push_str(t);
                    after_nothing = false;
                }
                Piece::Ref(name, range) => match value_of(name) {
                    Some((value, _)) => {
                        if !self.spend(0, rendered_len(value, script)) {
                            break;
                        }
                        let mut rendered = render(value, script);
                        if in_arg_word {
                            rendered = rendered.replace('$', "$$");
                        }
                        after_nothing = script && rendered.is_empty();
                        text.push_str(&rendered);
                    }
                    // Checked where the template is defined; left as written.
                    None => text.push_str(&s[range.clone()]),
                },
            }
        }
        let mut e = entry.clone();
        e.set_value(KdlValue::String(text));
        e.set_span(span);
        (vec![e], at_use)
    }

    fn rewrite_stage_references(&self, node: &mut KdlNode) {
        let name = node.name().value();
        let key = match (BodyNode::parse(name), StepNode::parse(name)) {
            (Some(BodyNode::From), _) | (_, Some(StepNode::Bind)) => "stage",
            (Some(BodyNode::Copy), _) => "artifact",
            _ => return,
        };
        let prefix = &self.use_.name.value;
        for entry in node.entries_mut() {
            if entry.name().is_none_or(|n| n.value() != key) {
                continue;
            }
            let Some(value) = entry.value().as_string() else {
                continue;
            };
            let (stage, rest) = match (key, value.split_once('.')) {
                ("artifact", Some((stage, artifact))) => (stage, format!(".{artifact}")),
                _ => (value, String::new()),
            };
            if self.locals.contains(stage) {
                let renamed = format!("{prefix}-{stage}{rest}");
                entry.set_value(KdlValue::String(renamed));
            }
        }
    }

    fn rename_stage(&self, node: &mut KdlNode) {
        let prefix = &self.use_.name.value;
        if let Some(entry) = node.entries_mut().iter_mut().find(|e| e.name().is_none())
            && let Some(name) = entry.value().as_string()
        {
            let renamed = format!("{prefix}-{name}");
            entry.set_value(KdlValue::String(renamed));
        }
    }

    /// Names the template's image after the use and adds the use's block.
    fn finish_image(&self, node: &mut KdlNode) {
        let mut name = KdlEntry::new(KdlValue::String(self.use_.name.value.clone()));
        name.set_span(self.use_.name.span);
        node.entries_mut().insert(0, name);
        let Some(block) = &self.use_.block else {
            return;
        };
        let children = node.ensure_children();
        let replaced: BTreeSet<&str> = block
            .nodes()
            .iter()
            .map(|n| n.name().value())
            .filter(|n| BodyNode::parse(n).is_some_and(|n| REPLACED_BY_USE.contains(&n)))
            .collect();
        children
            .nodes_mut()
            .retain(|n| !replaced.contains(n.name().value()));
        children.nodes_mut().extend(block.nodes().iter().cloned());
    }
}

/// A parameter's value inside a string: in a script, each item is one
/// shell word, quoted when needed.
fn render(value: &Value, script: bool) -> String {
    let word = |s: &str| {
        if script {
            template::shell_word(s)
        } else {
            s.to_owned()
        }
    };
    match value {
        Value::String(s) => word(s),
        Value::Integer(i) => i.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::List(items) => items.iter().map(|i| word(i)).collect::<Vec<_>>().join(" "),
    }
}

/// `20000` as `20,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// About the length of [`render`]'s result, without making it: the
/// budget is checked before a long value is copied.
fn rendered_len(value: &Value, script: bool) -> usize {
    let quoted = |s: &String| if script { s.len() + 2 } else { s.len() };
    match value {
        Value::String(s) => quoted(s),
        Value::Integer(_) | Value::Boolean(_) => 8,
        Value::List(items) => items.iter().map(|i| quoted(i) + 1).sum(),
    }
}

/// Points every span of a node (not its children) at `span`.
fn relocate(node: &mut KdlNode, span: Span) {
    node.set_span(span);
    node.name_mut().set_span(span);
    for entry in node.entries_mut() {
        entry.set_span(span);
        if let Some(name) = entry.name_mut() {
            name.set_span(span);
        }
    }
}
