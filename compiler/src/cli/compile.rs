//! `stowplan compile`: one spec to a Dockerfile or a Buildah script.

use std::path::PathBuf;
use std::process::ExitCode;

use stowplan::{Builder, Format, PullPolicy};

use crate::common::{
    Fatal, OrderArgs, Reporter, history_read, load, make_executable, options, print,
    write_atomically,
};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The spec file.
    #[arg(default_value = "stowplan.kdl")]
    spec: PathBuf,
    /// Only this image and the stages it needs (repeatable).
    #[arg(long = "image", value_name = "NAME")]
    images: Vec<String>,
    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// What to emit: a Dockerfile, or a bash script of buildah commands.
    #[arg(long, value_enum, default_value_t = Format::Dockerfile)]
    emit: Format,
    /// Dockerfile: the builder it must work with; what that builder cannot say is an error.
    #[arg(long, value_name = "BUILDER", value_enum, default_value_t = Builder::default())]
    builder: Builder,
    /// Buildah script: the pull policy for base images (STOWPLAN_PULL overrides it at run time).
    #[arg(long, value_enum, default_value_t = PullPolicy::default())]
    pull: PullPolicy,
    /// Buildah script: commit each image as PREFIX + its name + `:latest` (then its tags);
    /// an empty PREFIX names images by their tags only.
    #[arg(long, value_name = "PREFIX", default_value = "localhost/")]
    image_prefix: String,
    /// Dockerfile: `named` reads each stage folder other than the build's through a named
    /// context (`--build-context`), as an output's `contexts="named"`; `one` (the default)
    /// builds from the folder that holds them all.
    #[arg(long, value_name = "MODE", value_parser = ["one", "named"], default_value = "one")]
    contexts: String,
    #[command(flatten)]
    order: OrderArgs,
    /// Print on stderr what the layer-order optimizer moved, and why.
    #[arg(long)]
    explain_order: bool,
}

pub fn run(args: Args, reporter: &Reporter) -> Result<ExitCode, Fatal> {
    let target = match args.emit {
        Format::Dockerfile => stowplan::Target::Dockerfile(args.builder),
        Format::Buildah => stowplan::Target::Buildah(stowplan::BuildahOptions {
            pull: args.pull,
            image_prefix: Some(args.image_prefix).filter(|p| !p.is_empty()),
            ..stowplan::BuildahOptions::default()
        }),
    };
    let source = load(&args.spec)?;
    let mut options = options(&args.spec, args.images, reporter)?;
    options.order = args.order.options(&args.spec);
    options.named_contexts = args.contexts == "named";
    if options.named_contexts && args.emit == Format::Buildah {
        return Err(Fatal(
            "--contexts named is for Dockerfiles: a Buildah script reads the folders itself".into(),
        ));
    }
    let compiled = stowplan::compile_with_report(&source, &options, &target);
    history_read(&options)?;
    if let Ok(done) = &compiled {
        if reporter.verbose {
            for (name, kept) in &done.output.stages {
                if *kept {
                    reporter.note(false, &format!("building `{name}`"));
                } else {
                    reporter.note(
                        false,
                        &format!("pruned `{name}`: no selected image needs it"),
                    );
                }
            }
        }
        if args.explain_order {
            if reporter.sarif.is_some() {
                reporter.note(false, done.output.order.trim_end());
            } else {
                eprint!("{}", done.output.order);
            }
        }
    }
    let Some(compiled) = reporter.accept(compiled) else {
        return Ok(ExitCode::from(1));
    };
    match args.output {
        Some(path) => {
            write_atomically(&path, &compiled.text)?;
            if args.emit == Format::Buildah {
                make_executable(&path)?;
            }
        }
        None => print(&compiled.text)?,
    }
    Ok(ExitCode::SUCCESS)
}
