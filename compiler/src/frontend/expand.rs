//! `Ast` with templates → `Ast` of plain stages: includes read, every
//! template use turned into the stages and the image its template makes.
//!
//! Expansion works on the template's KDL tree. A parameter reference is
//! replaced inside one string value (quoted as one shell word when the
//! string is a script), never in KDL text, and the expanded nodes go
//! through the same decoder as hand-written ones. So a parameter value is
//! checked like any literal value and cannot add a node, an entry or an
//! instruction.
//!
//! Spans: a template written in the spec keeps its own spans, so a problem
//! in it points at the template. A template from another file (an include,
//! a built-in preset) cannot be shown in the spec, so its nodes point at the
//! use's `template=`, and a value that came from a parameter points at the
//! `name=value` that set it. [`Expansions::annotate`] later adds the other
//! end to diagnostics about expanded stages: the use, or where the template
//! is defined.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use kdl::{KdlDocument, KdlEntry, KdlNode, KdlValue};

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics, Span};
use crate::base::keywords::{BodyNode, StepNode, TemplateNode};
use crate::base::source::SourceFile;
use crate::frontend::ast::{Ast, StageDecl, StageKind};
use crate::frontend::decode;
use crate::frontend::presets;
use crate::frontend::template::{
    self, ParamDecl, ParamType, Piece, TemplateDecl, Test, UseDecl, Value,
};

/// Body nodes that a use's block replaces instead of adding to: an image
/// has at most one of each.
const REPLACED_BY_USE: &[BodyNode] = &[
    BodyNode::Entrypoint,
    BodyNode::Cmd,
    BodyNode::Healthcheck,
    BodyNode::StopSignal,
    BodyNode::Platform,
];

/// What expansion may read besides the spec.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExpandOptions<'a> {
    /// The spec's directory, which `include` paths are relative to. Without
    /// it, an `include` is an error.
    pub dir: Option<&'a Path>,
}

/// Where a template is written.
#[derive(Clone, Debug)]
enum Home {
    /// In the spec: its spans are the spec's.
    Spec,
    /// In an included file or a built-in preset.
    File(SourceFile),
}

#[derive(Clone, Debug)]
struct Defined {
    decl: TemplateDecl,
    home: Home,
}

impl Defined {
    /// `file:line:column` of a span of the template, for messages.
    fn locate(&self, span: Span) -> String {
        match &self.home {
            Home::Spec => String::new(),
            Home::File(source) => locate(source, span),
        }
    }

    /// Points a diagnostic about a use at a place in the template too: a
    /// label when the template is in the spec, the location in the help
    /// otherwise (`what` names the place: "`port` is declared").
    fn point_at(&self, mut diag: Diagnostic, span: Span, what: &str) -> Diagnostic {
        match &self.home {
            Home::Spec => diag.secondary(span, format!("{what} here")),
            Home::File(_) => {
                let place = format!("{what} at {}", self.locate(span));
                diag.help = Some(match diag.help.take() {
                    Some(help) => format!("{help} ({place})"),
                    None => place,
                });
                diag
            }
        }
    }
}

fn locate(source: &SourceFile, span: Span) -> String {
    let before = &source.text()[..span.offset().min(source.text().len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("{}:{line}:{column}", source.name())
}

/// What expansion made, so that later passes' diagnostics about expanded
/// stages can name the template and the use.
#[derive(Debug, Default)]
pub struct Expansions {
    uses: Vec<UseRecord>,
}

#[derive(Debug)]
struct UseRecord {
    image: String,
    template: String,
    /// The whole use node, its `template=` and its block.
    node: Span,
    template_span: Span,
    block: Option<Span>,
    definition: Definition,
}

#[derive(Debug)]
enum Definition {
    /// In the spec: the template's name and whole node.
    Spec { body: Span },
    /// `file:line:column` of the template elsewhere.
    Elsewhere(String),
}

fn contains(outer: Span, inner: Span) -> bool {
    inner.offset() >= outer.offset() && inner.offset() + inner.len() <= outer.offset() + outer.len()
}

impl Expansions {
    /// Adds the template's side to diagnostics found in expanded stages:
    /// a label on each use of a template written in the spec, or where a
    /// template from another file is defined. Identical diagnostics (one
    /// per use of a template) are reported once.
    pub fn annotate(&self, d: Diagnostics) -> Diagnostics {
        let mut out = Diagnostics::default();
        // Code, message and label positions: what makes two reports the same.
        type Identity = (Code, String, Vec<(usize, usize)>);
        let mut seen: Vec<Identity> = Vec::new();
        for mut diag in d {
            let about_templates = diag.code.as_str().starts_with("stowplan::template::");
            if !self.uses.is_empty() && !about_templates && diag.source_name().is_none() {
                diag = self.annotate_one(diag);
            }
            let key = (
                diag.code,
                diag.message.clone(),
                diag.labels
                    .iter()
                    .map(|l| (l.span.offset(), l.span.len()))
                    .collect(),
            );
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            out.push(diag);
        }
        out
    }

    fn annotate_one(&self, mut diag: Diagnostic) -> Diagnostic {
        let spans: Vec<Span> = diag.labels.iter().map(|l| l.span).collect();
        let Some(primary) = diag.labels.iter().find(|l| l.primary).map(|l| l.span) else {
            return diag;
        };
        for record in &self.uses {
            match &record.definition {
                Definition::Spec { body } if spans.iter().any(|s| contains(*body, *s)) => {
                    diag = diag.secondary(
                        record.template_span,
                        format!("`{}` uses template `{}`", record.image, record.template),
                    );
                }
                Definition::Elsewhere(place)
                    if contains(record.node, primary)
                        && !record.block.is_some_and(|b| contains(b, primary)) =>
                {
                    let note = format!("in template `{}`, defined at {place}", record.template);
                    diag.help = Some(match diag.help.take() {
                        Some(help) => format!("{help} ({note})"),
                        None => note,
                    });
                    return diag;
                }
                _ => {}
            }
        }
        diag
    }
}

/// Reads includes and expands every template use in place.
pub fn expand(mut ast: Ast, options: &ExpandOptions<'_>) -> (Ast, Expansions, Diagnostics) {
    let mut d = Diagnostics::default();
    let mut defined: Vec<Defined> = std::mem::take(&mut ast.templates)
        .into_iter()
        .map(|decl| Defined {
            decl,
            home: Home::Spec,
        })
        .collect();
    let mut loader = Loader {
        dir: options.dir,
        stack: Vec::new(),
        seen: BTreeSet::new(),
        failed: false,
    };
    let includes = std::mem::take(&mut ast.includes);
    loader.load(&includes, None, Path::new(""), &mut defined, &mut d);

    // One namespace: the spec's templates, the included ones, the presets.
    let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
    for (i, t) in defined.iter().enumerate() {
        let name = &t.decl.name;
        if let Some(first) = by_name.get(&name.value) {
            let first = &defined[*first];
            let diag = Diagnostic::error(
                Code::DuplicateName,
                format!("two templates are named `{}`", name.value),
            )
            .primary(name.span, "declared again here")
            .help("rename one of them");
            push_in(
                &mut d,
                &t.home,
                first.point_at(diag, first.decl.name.span, "first declared"),
            );
            continue;
        }
        if presets::find(&name.value).is_some() {
            let diag = Diagnostic::error(
                Code::DuplicateName,
                format!("`{}` is the name of a built-in preset", name.value),
            )
            .primary(name.span, "a built-in preset has this name")
            .help(format!(
                "rename the template, such as `my-{}`; `stowplan presets` lists the presets",
                name.value
            ));
            push_in(&mut d, &t.home, diag);
            continue;
        }
        by_name.insert(name.value.clone(), i);
    }
    // A template with a mistake in its body is reported once, where it is
    // written; its uses are not expanded, so the mistake does not echo.
    let mut broken: BTreeSet<String> = BTreeSet::new();
    for t in &defined {
        let mut found = Diagnostics::default();
        template::check_body(&t.decl, &mut found);
        if found.has_errors() {
            broken.insert(t.decl.name.value.clone());
        }
        for diag in found {
            push_in(&mut d, &t.home, diag);
        }
    }

    let mut made: Vec<(usize, Vec<StageDecl>)> = Vec::new();
    let mut expansions = Expansions::default();
    let mut loaded_presets: BTreeMap<String, Defined> = BTreeMap::new();
    for use_ in std::mem::take(&mut ast.uses) {
        let name = use_.template.value.as_str();
        let template = match by_name.get(name) {
            Some(i) => &defined[*i],
            None => match presets::find(name) {
                Some(preset) => match loaded_presets.entry(name.to_owned()) {
                    std::collections::btree_map::Entry::Occupied(e) => &*e.into_mut(),
                    std::collections::btree_map::Entry::Vacant(e) => match presets::load(preset) {
                        Ok((decl, source)) => &*e.insert(Defined {
                            decl,
                            home: Home::File(source),
                        }),
                        Err(errors) => {
                            d.extend(errors);
                            continue;
                        }
                    },
                },
                // The template may be in the file that could not be read.
                None if loader.failed => continue,
                None => {
                    d.push(unknown_template(&use_, &defined));
                    continue;
                }
            },
        };
        expansions.uses.push(UseRecord {
            image: use_.name.value.clone(),
            template: template.decl.name.value.clone(),
            node: use_.span,
            template_span: use_.template.span,
            block: use_.block.as_ref().map(KdlDocument::span),
            definition: match &template.home {
                Home::Spec => Definition::Spec {
                    body: template.decl.span,
                },
                Home::File(_) => Definition::Elsewhere(template.locate(template.decl.span)),
            },
        });
        if broken.contains(&template.decl.name.value) {
            continue;
        }
        let Some(values) = bind(template, &use_, &mut d) else {
            continue;
        };
        if let Some(stages) = instantiate(template, &use_, &values, &mut d) {
            made.push((use_.position, stages));
        }
    }

    // Each use's stages go where the use is written, so that build order
    // keeps following declaration order.
    let mut stages = Vec::with_capacity(ast.stages.len());
    let mut made = made.into_iter().peekable();
    for (i, stage) in std::mem::take(&mut ast.stages).into_iter().enumerate() {
        while let Some((_, expanded)) = made.next_if(|(p, _)| *p <= i) {
            stages.extend(expanded);
        }
        stages.push(stage);
    }
    stages.extend(made.flat_map(|(_, expanded)| expanded));
    ast.stages = stages;
    (ast, expansions, d)
}

/// Adds a diagnostic found in a template to the file the template is in.
fn push_in(d: &mut Diagnostics, home: &Home, diag: Diagnostic) {
    d.push(match home {
        Home::Spec => diag,
        Home::File(source) => diag.with_source(&source.named),
    });
}

fn unknown_template(use_: &UseDecl, defined: &[Defined]) -> Diagnostic {
    let name = &use_.template.value;
    let own: Vec<&str> = defined.iter().map(|t| t.decl.name.value.as_str()).collect();
    let presets: Vec<&str> = presets::PRESETS.iter().map(|p| p.name).collect();
    let known = if own.is_empty() {
        format!("the built-in presets are: {}", presets.join(", "))
    } else {
        format!(
            "the spec's templates are: {}; the built-in presets: {}",
            own.join(", "),
            presets.join(", ")
        )
    };
    Diagnostic::error(
        Code::UnknownTemplate,
        format!("no template is named `{name}`"),
    )
    .primary(use_.template.span, "unknown template")
    .suggest(
        name,
        own.iter().chain(&presets).copied(),
        format!(
            "define it with `template \"{name}\" {{ ... }}` or include the file that does; {known}"
        ),
    )
}

/// A parameter's value, and the `name=value` that set it (none for a default).
type Values = BTreeMap<String, (Value, Option<Span>)>;

/// Gives every parameter its value: checks the use's arguments against the
/// template's parameters and locks, and its block against the locks.
fn bind(template: &Defined, use_: &UseDecl, d: &mut Diagnostics) -> Option<Values> {
    let decl = &template.decl;
    let mut values = Values::new();
    let mut failed = false;
    for arg in &use_.args {
        let Some(param) = decl.param(&arg.name.value) else {
            let names = decl.params.iter().map(|p| p.name.value.as_str());
            let otherwise = if decl.params.is_empty() {
                "the template takes no parameters".to_owned()
            } else {
                format!(
                    "the parameters are: {}",
                    names.clone().collect::<Vec<_>>().join(", ")
                )
            };
            let diag = Diagnostic::error(
                Code::UnknownParameter,
                format!(
                    "template `{}` has no parameter `{}`",
                    decl.name.value, arg.name.value
                ),
            )
            .primary(arg.span, "not a parameter")
            .suggest(&arg.name.value, names, otherwise);
            d.push(template.point_at(diag, decl.name.span, "the template is defined"));
            failed = true;
            continue;
        };
        if let Some(lock) = decl.locks.iter().find(|l| l.target.value == arg.name.value) {
            d.push(locked(
                template,
                lock,
                arg.span,
                &format!("parameter `{}`", arg.name.value),
            ));
            failed = true;
            continue;
        }
        match template::convert(&arg.value, param) {
            Ok(value) => {
                values.insert(arg.name.value.clone(), (value, Some(arg.span)));
            }
            Err(wrong) => {
                let diag = Diagnostic::error(
                    Code::ParameterValue,
                    format!("parameter `{}` is {wrong}", arg.name.value),
                )
                .primary(arg.span, format!("expects {}", describe(param)));
                // Only a one-of's choices are near misses of a string.
                let choices = param.choices.iter().map(String::as_str);
                let diag = match &arg.value {
                    KdlValue::String(s) if param.ty == ParamType::OneOf => {
                        diag.suggest(s, choices, template::expected(param))
                    }
                    _ => diag.help(template::expected(param)),
                };
                let what = format!("`{}` is declared", param.name.value);
                d.push(template.point_at(diag, param.span, &what));
                failed = true;
            }
        }
    }
    for param in &decl.params {
        if values.contains_key(&param.name.value)
            || use_.args.iter().any(|a| a.name.value == param.name.value)
        {
            continue;
        }
        match &param.default {
            Some(default) => {
                values.insert(param.name.value.clone(), (default.value.clone(), None));
            }
            None => {
                let mut diag = Diagnostic::error(
                    Code::MissingParameter,
                    format!(
                        "template `{}` needs parameter `{}`",
                        decl.name.value, param.name.value
                    ),
                )
                .primary(
                    use_.template.span,
                    format!("`{}=` is missing", param.name.value),
                );
                diag = diag.help(match &param.doc {
                    Some(doc) => format!("add {}=...: {doc}", param.name.value),
                    None => format!("add {}=...", param.name.value),
                });
                let what = format!("`{}` is declared", param.name.value);
                d.push(template.point_at(diag, param.span, &what));
                failed = true;
            }
        }
    }
    if let Some(block) = &use_.block {
        for node in block.nodes() {
            let keyword = node.name().value();
            // A template always decides its image's base and artifacts.
            if BodyNode::parse(keyword).is_some_and(|n| !n.lockable()) {
                let diag = Diagnostic::error(
                    Code::Locked,
                    format!("`{keyword}` is locked by template `{}`", decl.name.value),
                )
                .primary(node.name().span(), "a use cannot set it")
                .help("a template decides its image's base and artifacts; use its parameters, or write the image without a template");
                d.push(template.point_at(diag, decl.name.span, "the template is defined"));
                failed = true;
                continue;
            }
            let first_arg = node
                .entries()
                .iter()
                .find(|e| e.name().is_none())
                .and_then(|e| e.value().as_string());
            let lock = decl.locks.iter().find(|l| {
                l.target.value == keyword
                    && l.key
                        .as_ref()
                        .is_none_or(|k| Some(k.value.as_str()) == first_arg)
            });
            if let Some(lock) = lock {
                let what = match &lock.key {
                    Some(key) => format!("`{keyword} \"{}\"`", key.value),
                    None => format!("`{keyword}`"),
                };
                d.push(locked(template, lock, node.span(), &what));
                failed = true;
            }
        }
    }
    values.insert(
        "image".to_owned(),
        (Value::String(use_.name.value.clone()), Some(use_.name.span)),
    );
    (!failed).then_some(values)
}

fn describe(param: &ParamDecl) -> String {
    match param.ty {
        ParamType::OneOf => format!("one of: {}", param.choices.join(", ")),
        ParamType::Integer => "an integer".to_owned(),
        ty => format!("a {}", ty.name()),
    }
}

fn locked(template: &Defined, lock: &template::LockDecl, at: Span, what: &str) -> Diagnostic {
    let decl = &template.decl;
    let mut diag = Diagnostic::error(
        Code::Locked,
        format!("{what} is locked by template `{}`", decl.name.value),
    )
    .primary(at, "sets a locked field");
    diag = diag.help(match &lock.reason {
        Some(reason) => format!("the template decides it: {}", reason.value),
        None => "the template decides it; ask its owners to change it".to_owned(),
    });
    template.point_at(diag, lock.span, "locked")
}

/// Makes the template's stages and image for one use, decoded.
fn instantiate(
    template: &Defined,
    use_: &UseDecl,
    values: &Values,
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
    };
    let nodes = maker.nodes(&decl.body);
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
}

impl Maker<'_> {
    fn nodes(&self, nodes: &[KdlNode]) -> Vec<KdlNode> {
        let mut out = Vec::new();
        for node in nodes {
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
                    text.push_str(t);
                    after_nothing = false;
                }
                Piece::Ref(name, range) => match value_of(name) {
                    Some((value, _)) => {
                        let rendered = render(value, script);
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

/// Reads `include`d files of templates, each once, refusing cycles.
struct Loader<'a> {
    dir: Option<&'a Path>,
    /// Canonical paths of the files being read, outermost first.
    stack: Vec<PathBuf>,
    seen: BTreeSet<PathBuf>,
    /// Whether an include could not be read.
    failed: bool,
}

impl Loader<'_> {
    fn load(
        &mut self,
        includes: &[template::IncludeDecl],
        from: Option<&SourceFile>,
        from_path: &Path,
        defined: &mut Vec<Defined>,
        d: &mut Diagnostics,
    ) {
        for include in includes {
            if let Err(failure) = self.load_one(include, from_path, defined, d) {
                self.failed = true;
                let diag = Diagnostic::error(Code::Include, failure.message)
                    .primary(include.path.span, failure.label)
                    .help(failure.help);
                d.push(match from {
                    Some(source) => diag.with_source(&source.named),
                    None => diag,
                });
            }
        }
    }

    fn load_one(
        &mut self,
        include: &template::IncludeDecl,
        from_path: &Path,
        defined: &mut Vec<Defined>,
        d: &mut Diagnostics,
    ) -> Result<(), Failure> {
        let written = Path::new(&include.path.value);
        let Some(dir) = self.dir else {
            return Err(Failure {
                message: format!(
                    "cannot include `{}`: no directory to read it from",
                    include.path.value
                ),
                label: "not read",
                help: "includes are read relative to the spec's folder; pass the build context (Options::context) when calling the library",
            });
        };
        if written.is_absolute() || include.path.value.is_empty() {
            return Err(Failure {
                message: format!("`{}` is not a relative path", include.path.value),
                label: "not relative",
                help: "write the path relative to the spec's folder, so the spec builds the same on every machine",
            });
        }
        let relative = from_path.parent().unwrap_or(Path::new("")).join(written);
        let full = dir.join(&relative);
        let text = std::fs::read_to_string(&full).map_err(|e| Failure {
            message: format!("cannot read `{}`: {e}", relative.display()),
            label: "not read",
            help: "the path is relative to the folder of the file that includes it",
        })?;
        let canonical = full.canonicalize().unwrap_or(full.clone());
        if self.stack.contains(&canonical) {
            return Err(Failure {
                message: format!("`{}` includes itself", relative.display()),
                label: "an include cycle",
                help: "remove one of the includes; a file of templates is read once",
            });
        }
        if !self.seen.insert(canonical.clone()) {
            return Ok(());
        }
        let source = SourceFile::new(relative.display().to_string(), text);
        let (included, found) = decode::decode(source.text());
        for diag in found {
            d.push(diag.with_source(&source.named));
        }
        let not_templates = included
            .stages
            .iter()
            .map(|s| s.span)
            .chain(included.outputs.iter().map(|o| o.span))
            .chain(included.uses.iter().map(|u| u.span))
            .min_by_key(|s| s.offset());
        if let Some(span) = not_templates {
            d.push(
                Diagnostic::error(
                    Code::Include,
                    format!("`{}` holds more than templates", relative.display()),
                )
                .primary(span, "not a template")
                .help("an included file holds only `template`s and `include`s; declare stages, images and outputs in the spec")
                .with_source(&source.named),
            );
        }
        self.stack.push(canonical);
        self.load(&included.includes, Some(&source), &relative, defined, d);
        self.stack.pop();
        defined.extend(included.templates.into_iter().map(|decl| Defined {
            decl,
            home: Home::File(source.clone()),
        }));
        Ok(())
    }
}

/// Why an `include` could not be read.
struct Failure {
    message: String,
    label: &'static str,
    help: &'static str,
}
