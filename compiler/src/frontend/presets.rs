//! The built-in runtime presets: templates written in the language itself,
//! in `runtime-presets/*.kdl`, embedded in the binary.
//!
//! A preset is an ordinary template; only where it is written differs. Its
//! text is the documentation a user reads with `stowplan presets show`.

#[cfg(test)]
mod tests;

use crate::base::diagnostic::Diagnostic;
use crate::base::source::SourceFile;
use crate::frontend::template::{ParamType, TemplateDecl};

/// One built-in preset.
#[derive(Clone, Copy, Debug)]
pub struct Preset {
    pub name: &'static str,
    /// Where it lives in the repository; diagnostics name it.
    pub file: &'static str,
    pub text: &'static str,
}

macro_rules! presets {
    ($($name:literal),* $(,)?) => {
        /// Every built-in preset, by name.
        pub const PRESETS: &[Preset] = &[$(Preset {
            name: $name,
            file: concat!("runtime-presets/", $name, ".kdl"),
            text: include_str!(concat!("../../../runtime-presets/", $name, ".kdl")),
        },)*];
    };
}

presets!["go", "java", "node", "python", "rust", "static"];

pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// Decodes a preset. A preset that does not decode is a bug in stowplan;
/// it is still reported as diagnostics in its own file, never a panic.
pub(crate) fn load(preset: &Preset) -> Result<(TemplateDecl, SourceFile), Vec<Diagnostic>> {
    let source = SourceFile::new(preset.file, preset.text);
    let (ast, d) = crate::frontend::decode::decode(source.text());
    let template = ast
        .templates
        .into_iter()
        .find(|t| t.name.value == preset.name);
    match template {
        Some(template) if !d.has_errors() => Ok((template, source)),
        _ => {
            let mut errors: Vec<Diagnostic> = d
                .into_iter()
                .map(|diag| diag.with_source(&source.named))
                .collect();
            if errors.is_empty() {
                errors.push(Diagnostic::error(
                    crate::base::diagnostic::Code::UnknownTemplate,
                    format!("{} defines no template `{}`", preset.file, preset.name),
                ));
            }
            Err(errors)
        }
    }
}

/// `stowplan presets`: every preset with its parameters and their docs.
pub fn describe_all() -> String {
    let mut out = String::from(
        "Built-in presets. Use one with `image \"NAME\" template=\"PRESET\" param=value ...`;\n\
         `stowplan presets show PRESET` prints its template, spec/presets.md explains each.\n",
    );
    for preset in PRESETS {
        out.push('\n');
        out.push_str(&describe(preset));
    }
    out
}

/// One preset: its doc, then a line per parameter.
pub fn describe(preset: &Preset) -> String {
    let Ok((template, _)) = load(preset) else {
        return format!("{}  (does not decode: a bug in stowplan)\n", preset.name);
    };
    let mut out = format!(
        "{}  {}\n",
        preset.name,
        template.doc.as_ref().map_or("", |d| d.value.as_str())
    );
    let rows: Vec<(String, String)> = template
        .params
        .iter()
        .map(|p| {
            let value = match (&p.default, p.ty) {
                (Some(default), _) => format!("{}={}", p.name.value, default.value.kdl()),
                (None, ty) => format!("{}=<{}> (required)", p.name.value, ty.name()),
            };
            let mut doc = p.doc.clone().unwrap_or_default();
            if p.ty == ParamType::OneOf {
                doc = format!("[{}] {doc}", p.choices.join(" | "));
            } else if p.ty == ParamType::List {
                doc = format!("[list] {doc}");
            }
            (value, doc)
        })
        .collect();
    let width = rows
        .iter()
        .map(|(v, _)| v.chars().count())
        .max()
        .unwrap_or(0);
    for (value, doc) in rows {
        let pad = width - value.chars().count();
        out.push_str(&format!("    {value}{}  {doc}\n", " ".repeat(pad)));
    }
    out
}
