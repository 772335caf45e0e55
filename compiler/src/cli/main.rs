//! The `stowplan` command line. Thin: parse arguments, call the library's
//! driver once per command, render diagnostics, choose the exit code. One
//! file per command; `common.rs` holds what they share.

mod affected;
mod check;
mod common;
mod compile;
mod completions;
mod explain;
mod graph;
mod init;
mod lock;
mod man;
mod presets;
mod write;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use stowplan::Style;

use crate::common::{Fatal, PolicyChoice, Reporter, load, read_policy};

const EXAMPLES: &str = "\
Examples:
  stowplan compile                         compile ./stowplan.kdl to stdout
  stowplan compile app.kdl --image api     only the `api` image and what it needs
  stowplan compile -o Dockerfile           write the Dockerfile (atomically)
  stowplan check                           validate only
  stowplan write                           write every `output` the spec declares
  stowplan check --outputs                 fail with a diff if a generated file drifted
  stowplan lock                            pin every base image to its digest (stowplan.lock)
  stowplan check --locked                  fail if stowplan.lock is missing or stale
  stowplan explain --changed src/main.go   what a change rebuilds, instruction by instruction
  stowplan affected --base-ref origin/main the images a branch's changes rebuild
  stowplan presets                         list the built-in runtime presets
  stowplan init --preset go                write a starter stowplan.kdl here
  stowplan completions bash                shell completions (also zsh, fish, ...)";

#[derive(Parser, Debug)]
#[command(name = "stowplan", version, about = "Compile KDL build specs into cache-optimal Dockerfiles.", after_help = EXAMPLES)]
struct Cli {
    /// When to colour diagnostics.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// How to print diagnostics.
    #[arg(long, global = true, value_enum, default_value_t = MessageFormat::Human)]
    message_format: MessageFormat,
    /// Treat warnings as errors: `--deny warnings`.
    #[arg(long, global = true, value_name = "LINTS", value_parser = ["warnings"])]
    deny: Option<String>,
    /// Say more: which stages were built and which were left out.
    #[arg(short, long, global = true)]
    verbose: bool,
    /// Replace image references with those of a mapping file
    /// (`map "golang:1.22" "mirror.local/golang:1.22"` per line).
    #[arg(long, global = true, value_name = "FILE")]
    image_map: Option<PathBuf>,
    /// Check specs against this policy (spec/policy.md) instead of the
    /// `stowplan.policy.kdl` found next to each spec or up to the repository's root.
    #[arg(long, global = true, value_name = "FILE")]
    policy: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum MessageFormat {
    Human,
    Json,
    /// One SARIF 2.1.0 log for the whole run, on stderr when it ends.
    Sarif,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Compile a spec to a Dockerfile.
    #[command(
        after_help = "Examples:\n  stowplan compile\n  stowplan compile examples/go-server/stowplan.kdl --image server -o Dockerfile"
    )]
    Compile(compile::Args),
    /// Say which instructions a change rebuilds, and why (the cache model).
    #[command(
        after_help = "Lines are those of the Dockerfile (`stowplan compile` prints a spec's).\n\nExamples:\n  stowplan explain --changed src/main.go\n  stowplan explain --dockerfile Dockerfile --changed package.json --arg VERSION\n  stowplan explain --changed go.mod --base golang"
    )]
    Explain(explain::Args),
    /// List the images whose build a change touches (the cache model), for CI.
    #[command(
        after_help = "An image is affected when the cache model rebuilds one of its instructions,\nwhen the spec or .dockerignore changed, when a template it comes from changed\n(an included file), or when a declared output holding it changed.\n\nExamples:\n  stowplan affected --changed services/api/main.go\n  stowplan affected --base-ref origin/main --format json examples/*/stowplan.kdl"
    )]
    Affected(affected::Args),
    /// Validate a spec, or compare declared outputs with the files on disk.
    #[command(
        after_help = "Exit status: 0 clean, 1 diagnostics or drift, 2 usage or I/O error.\n\nExamples:\n  stowplan check\n  stowplan check --outputs examples/go-server/stowplan.kdl"
    )]
    Check(check::Args),
    /// Draw the artifact flow graph, its critical path and parallel stages.
    #[command(
        after_help = "Examples:\n  stowplan graph --format mermaid\n  stowplan graph --format dot | dot -Tpng -o graph.png"
    )]
    Graph(graph::Args),
    /// Resolve every image the spec pulls to its digest and write stowplan.lock.
    #[command(
        after_help = "Asks each image's registry (OCI distribution API) for the manifest digest of its tag;\na multi-platform image keeps its index digest. compile, write and check then pin every\nlocked reference (FROM name:tag@sha256:...). Credentials come from $REGISTRY_AUTH_FILE,\n$XDG_RUNTIME_DIR/containers/auth.json, ~/.config/containers/auth.json or ~/.docker/config.json.\nThe lock is written only when every reference resolved.\n\nExamples:\n  stowplan lock\n  stowplan lock app/stowplan.kdl --update\n  stowplan lock --update golang:1.22.5-bookworm"
    )]
    Lock(lock::Args),
    /// Write every `output` the spec declares, next to the spec.
    #[command(
        after_help = "Each file is written to a temporary file and renamed into place;\nif any output fails to compile, nothing is written."
    )]
    Write(write::Args),
    /// List the built-in runtime presets, or print one's template.
    #[command(
        after_help = "Examples:\n  stowplan presets\n  stowplan presets show go\n\nUse a preset in a spec: image \"api\" template=\"go\" package=\"./cmd/api\""
    )]
    Presets(presets::Args),
    /// Write a starter stowplan.kdl for the current folder from a preset.
    #[command(
        after_help = "The package manager, main package or binary name come from the lockfile\nor manifest found here. An existing stowplan.kdl is never overwritten.\n\nExamples:\n  stowplan init --preset node\n  stowplan init --preset go"
    )]
    Init(init::Args),
    /// Print the completion script for a shell.
    #[command(
        after_help = "Examples:\n  stowplan completions bash > /etc/bash_completion.d/stowplan\n  stowplan completions zsh > \"${fpath[1]}/_stowplan\"\n  stowplan completions fish > ~/.config/fish/completions/stowplan.fish"
    )]
    Completions(completions::Args),
    /// Print the manual page (roff), or write one page per command.
    #[command(
        after_help = "Examples:\n  stowplan man | man -l -\n  stowplan man --out-dir /usr/local/share/man/man1"
    )]
    Man(man::Args),
}

/// The stack the compiler runs on. Specs nest only a few levels, but a
/// hostile one may nest up to the limit `syntax` enforces, and the kdl
/// crate parses recursively (about 27 KiB a level in a debug build).
const STACK_BYTES: usize = 256 << 20;

fn main() -> ExitCode {
    match std::thread::Builder::new()
        .name("stowplan".into())
        .stack_size(STACK_BYTES)
        .spawn(cli_main)
    {
        Ok(thread) => thread.join().unwrap_or(ExitCode::from(101)),
        Err(e) => {
            eprintln!("stowplan: cannot start: {e}");
            ExitCode::from(2)
        }
    }
}

fn cli_main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let style = match cli.message_format {
        MessageFormat::Human => Style::Human { color, width: 100 },
        MessageFormat::Json | MessageFormat::Sarif => Style::Json,
    };
    let mut reporter = Reporter {
        style,
        sarif: matches!(cli.message_format, MessageFormat::Sarif).then(Default::default),
        deny_warnings: cli.deny.is_some(),
        verbose: cli.verbose,
        image_map: Default::default(),
        policy: PolicyChoice::Found(Default::default()),
    };
    let code = run(cli, &mut reporter);
    reporter.finish();
    code
}

fn run(cli: Cli, reporter: &mut Reporter) -> ExitCode {
    if let Some(path) = &cli.image_map {
        let loaded = load(path).map(|source| stowplan::ImageMap::parse(&source));
        match loaded {
            Ok(Ok(map)) => reporter.image_map = map.output,
            Ok(Err(diagnostics)) => {
                reporter.report(&diagnostics);
                return ExitCode::from(1);
            }
            Err(Fatal(message)) => {
                reporter.note(true, &message);
                return ExitCode::from(2);
            }
        }
    }
    if let Some(path) = &cli.policy {
        match read_policy(path, reporter) {
            Ok(policy) => reporter.policy = PolicyChoice::Given(policy),
            Err(Fatal(message)) => {
                reporter.note(true, &message);
                return ExitCode::from(2);
            }
        }
    }
    let reporter = &*reporter;
    let ran = match cli.command {
        Command::Compile(args) => compile::run(args, reporter),
        Command::Explain(args) => explain::run(args, reporter),
        Command::Affected(args) => affected::run(args, reporter),
        Command::Check(args) => check::run(args, reporter),
        Command::Graph(args) => graph::run(args, reporter),
        Command::Write(args) => write::run(args, reporter),
        Command::Lock(args) => lock::run(args, reporter),
        Command::Presets(args) => presets::run(args),
        Command::Init(args) => init::run(args),
        Command::Completions(args) => completions::run(args, Cli::command()),
        Command::Man(args) => man::run(args, Cli::command()),
    };
    match ran {
        Ok(code) => code,
        Err(Fatal(message)) => {
            reporter.note(true, &message);
            ExitCode::from(2)
        }
    }
}
