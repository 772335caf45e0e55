//! `stowplan explain`: which instructions a change rebuilds, for a spec
//! or a hand-written Dockerfile.

use std::path::PathBuf;
use std::process::ExitCode;

use stowplan::CacheBuilder;

use crate::common::{Fatal, OrderArgs, Reporter, history_read, load, options, print, spec_dir};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The spec file.
    #[arg(default_value = "stowplan.kdl")]
    spec: PathBuf,
    /// Explain this Dockerfile instead of a spec (its `FILE.dockerignore`
    /// or the folder's `.dockerignore` applies).
    #[arg(long, value_name = "FILE", conflicts_with = "spec")]
    dockerfile: Option<PathBuf>,
    /// Context paths that changed (files or folders).
    #[arg(long, value_name = "PATH", num_args = 1..)]
    changed: Vec<String>,
    /// A build arg whose value changed (repeatable).
    #[arg(long = "arg", value_name = "NAME")]
    args: Vec<String>,
    /// A base image that changed: a full reference, or a name for every tag (repeatable).
    #[arg(long = "base", value_name = "IMAGE")]
    bases: Vec<String>,
    /// Only this image and the stages it needs (repeatable).
    #[arg(long = "image", value_name = "NAME")]
    images: Vec<String>,
    /// Whose layer cache to follow: BuildKit's, the classic builder's, or buildah's.
    #[arg(long, value_enum, default_value_t = CacheBuilder::default())]
    builder: CacheBuilder,
    #[command(flatten)]
    order: OrderArgs,
}

pub fn run(args: Args, reporter: &Reporter) -> Result<ExitCode, Fatal> {
    let change = stowplan::Change {
        paths: args.changed,
        args: args.args,
        images: args.bases,
    };
    let text = match args.dockerfile {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Fatal(format!("cannot read {}: {e}", path.display())))?;
            // BuildKit reads `NAME.dockerignore` beside the Dockerfile first.
            let mut own = path.clone().into_os_string();
            own.push(".dockerignore");
            let explain = stowplan::ExplainOptions {
                builder: args.builder,
                dockerignore: [PathBuf::from(own), spec_dir(&path).join(".dockerignore")]
                    .iter()
                    .find_map(|p| std::fs::read_to_string(p).ok()),
                dir: None,
            };
            match stowplan::explain_dockerfile(&text, &explain, &change) {
                Ok(text) => text,
                Err(e) => {
                    reporter.note(false, &format!("{}: {e}", path.display()));
                    return Ok(ExitCode::from(1));
                }
            }
        }
        None => {
            let source = load(&args.spec)?;
            let mut options = options(&args.spec, args.images, reporter)?;
            options.order = args.order.options(&args.spec);
            // The `.dockerignore` is the one the builder reads for the
            // explained images: in the folder they build from, or a
            // declared `NAME.dockerignore` beside their Dockerfile output
            // `NAME`, which BuildKit reads first for `-f NAME`.
            let explain = stowplan::ExplainOptions {
                builder: args.builder,
                dockerignore: None,
                dir: Some(spec_dir(&args.spec)),
            };
            let explained = stowplan::explain_spec(&source, &options, &change, &explain);
            history_read(&options)?;
            match reporter.accept(explained) {
                Some(text) => text,
                None => return Ok(ExitCode::from(1)),
            }
        }
    };
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}
