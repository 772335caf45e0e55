//! `stowplan affected`: the images whose build a change touches, as names
//! or as a CI matrix (README.md, "stowplan affected").

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;

use crate::common::{Fatal, Reporter, load, options, print, spec_dir};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The specs, each with its own folder as the context (a monorepo's).
    #[arg(default_value = "stowplan.kdl", value_name = "SPEC")]
    specs: Vec<PathBuf>,
    /// Paths that changed (files or folders), relative to each spec's folder.
    #[arg(long, value_name = "PATH", num_args = 1.., required_unless_present = "base_ref")]
    changed: Vec<String>,
    /// Take the changed paths from `git diff --name-only REF`, run in each
    /// spec's folder (a range such as `origin/main...HEAD` works too).
    #[arg(long, value_name = "REF")]
    base_ref: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One image name per line (`SPEC<TAB>IMAGE` for several specs).
    Text,
    /// `{"include":[{"spec":...,"context":...,"image":...,...}]}`, a CI matrix.
    Json,
}

/// One affected image, as the JSON form lists it.
#[derive(serde::Serialize)]
struct Entry {
    spec: String,
    context: String,
    image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    dockerfile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bake: Option<String>,
    /// `--build-context NAME=FOLDER` for each (`contexts="named"`).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    contexts: std::collections::BTreeMap<String, String>,
}

pub fn run(args: Args, reporter: &Reporter) -> Result<ExitCode, Fatal> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut failed = false;
    for spec in &args.specs {
        match affected_one(spec, &args, reporter)? {
            Some(found) => entries.extend(found),
            None => failed = true,
        }
    }
    if failed {
        return Ok(ExitCode::from(1));
    }
    let text = match args.format {
        Format::Text => {
            let several = args.specs.len() > 1;
            entries
                .iter()
                .map(|e| {
                    if several {
                        format!("{}\t{}\n", e.spec, e.image)
                    } else {
                        format!("{}\n", e.image)
                    }
                })
                .collect()
        }
        Format::Json => {
            let matrix = serde_json::json!({ "include": entries });
            let mut text = serde_json::to_string(&matrix).expect("JSON values serialize");
            text.push('\n');
            text
        }
    };
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// The affected images of one spec; `None` when it has errors (reported).
fn affected_one(
    spec: &Path,
    args: &Args,
    reporter: &Reporter,
) -> Result<Option<Vec<Entry>>, Fatal> {
    let source = load(spec)?;
    let dir = spec_dir(spec);
    let mut changed = args.changed.clone();
    if let Some(base) = &args.base_ref {
        changed.extend(
            stowplan::changed_since(&dir, base).map_err(|e| Fatal(format!("--base-ref: {e}")))?,
        );
    }
    let options = options(spec, Vec::new(), reporter)?;
    // The `.dockerignore` of the folder the images build from applies.
    let explain = stowplan::ExplainOptions {
        builder: Default::default(),
        dockerignore: None,
        dir: Some(dir.clone()),
    };
    let found = stowplan::affected(&source, &options, &changed, &explain);
    let Some(images) = reporter.accept(found) else {
        return Ok(None);
    };
    let shown = |relative: &str| {
        if dir == Path::new(".") {
            relative.to_owned()
        } else {
            dir.join(relative).display().to_string()
        }
    };
    Ok(Some(
        images
            .into_iter()
            .map(|image| Entry {
                spec: spec.display().to_string(),
                context: match image.context.as_str() {
                    "." => dir.display().to_string(),
                    folder => shown(folder),
                },
                contexts: image
                    .contexts
                    .iter()
                    .map(|(name, folder)| (name.clone(), shown(folder)))
                    .collect(),
                dockerfile: image.dockerfile.as_deref().map(shown),
                bake: image.bake.as_deref().map(shown),
                image: image.name,
            })
            .collect(),
    ))
}
