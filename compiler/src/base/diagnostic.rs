//! Diagnostics: one type for every problem stowplan reports.
//!
//! A `Diagnostic` carries a stable [`Code`], a message, labels on the spec
//! and help. The code catalogue is closed (an enum) so that spec/ and the
//! snapshot suite can prove that every code is documented and exercised.

use std::fmt;

use miette::{LabeledSpan, SourceSpan};

use crate::base::text::IndexedSource;

/// Byte range in the spec text. Spans are data: every user-visible value keeps one.
pub type Span = SourceSpan;

/// How bad a diagnostic is. Warnings ride along with a successful result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

macro_rules! codes {
    ($($variant:ident => $code:literal,)*) => {
        /// Every diagnostic code stowplan can emit. Codes are stable: spec/
        /// documents each one and tests/ has an `err_` case for each.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }
        }
    };
}

codes! {
    KdlSyntax => "stowplan::syntax",
    Version => "stowplan::decode::version",
    UnknownNode => "stowplan::decode::unknown-node",
    UnknownProperty => "stowplan::decode::unknown-property",
    WrongType => "stowplan::decode::wrong-type",
    MissingArgument => "stowplan::decode::missing-argument",
    ExtraArgument => "stowplan::decode::extra-argument",
    MissingProperty => "stowplan::decode::missing-property",
    DuplicateProperty => "stowplan::decode::duplicate-property",
    MissingNode => "stowplan::decode::missing-node",
    DuplicateNode => "stowplan::decode::duplicate-node",
    Children => "stowplan::decode::children",
    InvalidValue => "stowplan::decode::invalid-value",
    SpacedProgram => "stowplan::decode::spaced-program",
    Conflict => "stowplan::decode::conflict",
    ImageRef => "stowplan::decode::image-ref",
    DuplicateName => "stowplan::resolve::duplicate-name",
    UnknownStage => "stowplan::resolve::unknown-stage",
    UnknownArtifact => "stowplan::resolve::unknown-artifact",
    UnknownImage => "stowplan::resolve::unknown-image",
    UnknownArg => "stowplan::resolve::unknown-arg",
    BakeDockerfile => "stowplan::resolve::bake-dockerfile",
    UnknownTemplate => "stowplan::template::unknown-template",
    UnknownParameter => "stowplan::template::unknown-parameter",
    MissingParameter => "stowplan::template::missing-parameter",
    ParameterValue => "stowplan::template::parameter-value",
    Reference => "stowplan::template::reference",
    Locked => "stowplan::template::locked",
    Include => "stowplan::template::include",
    ExpansionBudget => "stowplan::template::expansion-budget",
    Cycle => "stowplan::flow::cycle",
    OutsideContext => "stowplan::flow::outside-context",
    NoMatch => "stowplan::flow::no-match",
    UnusedArtifact => "stowplan::flow::unused-artifact",
    UnusedStage => "stowplan::flow::unused-stage",
    SameDestination => "stowplan::flow::same-destination",
    LibcMismatch => "stowplan::flow::libc-mismatch",
    RuntimeMismatch => "stowplan::flow::runtime-mismatch",
    DynamicIntoStatic => "stowplan::flow::dynamic-into-static",
    SecretLeak => "stowplan::flow::secret-leak",
    MountedArtifact => "stowplan::flow::mounted-artifact",
    NoCommand => "stowplan::flow::no-command",
    EmptyBase => "stowplan::flow::empty-base",
    NoShell => "stowplan::flow::no-shell",
    Ignored => "stowplan::flow::ignored",
    RootUser => "stowplan::flow::root-user",
    VolumeNotWritable => "stowplan::flow::volume-not-writable",
    Unrepresentable => "stowplan::emit::unrepresentable",
    Unsupported => "stowplan::emit::unsupported",
    OutputPath => "stowplan::write::output-path",
    HandWritten => "stowplan::write::hand-written",
    LockStale => "stowplan::lock::stale",
    LockNotFound => "stowplan::lock::not-found",
    LockRegistry => "stowplan::lock::registry",
    PolicyBaseRegistry => "stowplan::policy::base-registry",
    PolicyBasePinned => "stowplan::policy::base-pinned",
    PolicyBaseFloating => "stowplan::policy::base-floating",
    PolicyUser => "stowplan::policy::non-root",
    PolicyLabel => "stowplan::policy::label",
    PolicyAddChecksum => "stowplan::policy::add-checksum",
    PolicyHealthcheck => "stowplan::policy::healthcheck",
    PolicyTemplate => "stowplan::policy::template",
    UnknownRule => "stowplan::policy::unknown-rule",
    Waiver => "stowplan::policy::waiver",
}

/// A policy rule (spec/policy.md): its id, what it checks, and the code of
/// the diagnostics it reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rule {
    pub id: &'static str,
    pub code: Code,
    /// One sentence: what the rule requires.
    pub summary: &'static str,
}

/// Every policy rule, in the order spec/policy.md documents them.
pub const RULES: &[Rule] = &[
    Rule {
        id: "policy.base.registry",
        code: Code::PolicyBaseRegistry,
        summary: "Base images come from the allowed registries and repositories.",
    },
    Rule {
        id: "policy.base.pinned",
        code: Code::PolicyBasePinned,
        summary: "Base images are pinned by digest.",
    },
    Rule {
        id: "policy.base.floating",
        code: Code::PolicyBaseFloating,
        summary: "Base images without a digest name a full version, not `latest` or a floating tag.",
    },
    Rule {
        id: "policy.user.non-root",
        code: Code::PolicyUser,
        summary: "Every image sets a final user, and it is not root.",
    },
    Rule {
        id: "policy.label.required",
        code: Code::PolicyLabel,
        summary: "Every image carries the required labels, with values that match their patterns.",
    },
    Rule {
        id: "policy.add.checksum",
        code: Code::PolicyAddChecksum,
        summary: "An `add` from a URL carries a checksum.",
    },
    Rule {
        id: "policy.healthcheck.exposed",
        code: Code::PolicyHealthcheck,
        summary: "An image that exposes a port has a health check.",
    },
    Rule {
        id: "policy.image.template",
        code: Code::PolicyTemplate,
        summary: "Every image is made from one of the allowed templates (a preset or an included file).",
    },
];

impl Rule {
    pub fn find(id: &str) -> Option<Rule> {
        RULES.iter().copied().find(|r| r.id == id)
    }

    pub fn ids() -> impl Iterator<Item = &'static str> + Clone {
        RULES.iter().map(|r| r.id)
    }
}

impl Code {
    /// The policy rule whose violations carry this code.
    pub fn rule(self) -> Option<Rule> {
        RULES.iter().copied().find(|r| r.code == self)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One labelled place in the spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: Option<String>,
    pub primary: bool,
}

/// A problem found in a spec, with everything needed to render it.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// A policy violation the spec waives (`allow RULE reason=...`): the
    /// reason, and where the waiver is. It is reported and never fails.
    pub waived: Option<Box<Waived>>,
    source: Option<IndexedSource>,
}

/// Why a policy violation is allowed, and where the spec says so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waived {
    pub reason: String,
    pub span: Span,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            waived: None,
            source: None,
        }
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// The main place the problem is, with a short label.
    pub fn primary(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: Some(text.into()),
            primary: true,
        });
        self
    }

    /// Another place involved in the problem.
    pub fn secondary(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: Some(text.into()),
            primary: false,
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Helps with the candidate nearest to `wrong` ("did you mean `near`?"),
    /// or with `otherwise` when none is near enough to be a typo.
    pub fn suggest<'a>(
        self,
        wrong: &str,
        candidates: impl IntoIterator<Item = &'a str>,
        otherwise: impl Into<String>,
    ) -> Self {
        self.suggest_as(wrong, candidates, str::to_owned, otherwise)
    }

    /// [`Diagnostic::suggest`], the candidate written out by `shown` (an
    /// artifact's name as `stage.artifact`).
    pub fn suggest_as<'a>(
        self,
        wrong: &str,
        candidates: impl IntoIterator<Item = &'a str>,
        shown: impl FnOnce(&str) -> String,
        otherwise: impl Into<String>,
    ) -> Self {
        match did_you_mean(wrong, candidates) {
            Some(near) => self.help(format!("did you mean `{}`?", shown(near))),
            None => self.help(otherwise),
        }
    }

    /// Places the diagnostic in a file. One already placed in another file
    /// (a template in an included file) stays there.
    pub(crate) fn with_source(mut self, source: &IndexedSource) -> Self {
        if self.source.is_none() {
            self.source = Some(source.clone());
        }
        self
    }

    /// The text the diagnostic is placed in, once it is.
    pub(crate) fn source(&self) -> Option<&IndexedSource> {
        self.source.as_ref()
    }

    /// The file the diagnostic is placed in, once it is.
    pub fn source_name(&self) -> Option<&str> {
        self.source.as_ref().map(|s| s.name())
    }

    /// Where the diagnostic sorts: its primary label, then its code.
    pub fn offset(&self) -> usize {
        self.labels
            .iter()
            .find(|l| l.primary)
            .or(self.labels.first())
            .map_or(0, |l| l.span.offset())
    }

    /// An error that fails the run: not a waived policy violation.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error && self.waived.is_none()
    }

    /// A warning `--deny warnings` refuses: not a waived policy violation.
    pub fn is_warning(&self) -> bool {
        self.severity == Severity::Warning && self.waived.is_none()
    }

    /// Marks a policy violation as waived by the spec.
    pub fn waive(mut self, reason: impl Into<String>, span: Span) -> Self {
        self.waived = Some(Box::new(Waived {
            reason: reason.into(),
            span,
        }));
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            _ if self.waived.is_some() => miette::Severity::Advice,
            Severity::Warning => miette::Severity::Warning,
            Severity::Error => miette::Severity::Error,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().map(|l| {
            if l.primary {
                LabeledSpan::new_primary_with_span(l.text.clone(), l.span)
            } else {
                LabeledSpan::new_with_span(l.text.clone(), l.span)
            }
        })))
    }
}

/// Problems collected by one pass. Passes never stop at the first problem.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(other);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// Diagnostics in the order a reader meets them in the spec.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by(|a, b| {
            (a.offset(), a.severity, a.code, &a.message).cmp(&(
                b.offset(),
                b.severity,
                b.code,
                &b.message,
            ))
        });
        self.items
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// The candidate closest to `wrong`, if any is close enough to be a typo.
fn did_you_mean<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(wrong, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}
