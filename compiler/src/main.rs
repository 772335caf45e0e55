//! The `stowplan` command line. Thin: parse arguments, call the library,
//! render diagnostics, choose the exit code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use stowplan::render::{Style, render};
use stowplan::{Diagnostic, SourceFile};

const EXAMPLES: &str = "\
Examples:
  stowplan compile                         compile ./stowplan.kdl to stdout
  stowplan compile app.kdl --image api     only the `api` image and what it needs
  stowplan compile -o Dockerfile           write the Dockerfile (atomically)
  stowplan check                           validate only
  stowplan write                           write every `output` the spec declares
  stowplan check --outputs                 fail with a diff if a generated file drifted";

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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Emit {
    Dockerfile,
    Buildah,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Pull {
    Always,
    Missing,
    Never,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum GraphFormat {
    Dot,
    Mermaid,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Compile a spec to a Dockerfile.
    #[command(
        after_help = "Examples:\n  stowplan compile\n  stowplan compile examples/go-server/stowplan.kdl --image server -o Dockerfile"
    )]
    Compile {
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
        #[arg(long, value_enum, default_value_t = Emit::Dockerfile)]
        emit: Emit,
        /// Dockerfile: the builder it must work with; what that builder cannot say is an error.
        #[arg(long, value_name = "BUILDER", default_value = "buildkit",
              value_parser = ["buildkit", "docker-20.10", "buildah-1.28", "buildah-1.28-docker"])]
        builder: String,
        /// Buildah script: the pull policy for base images (STOWPLAN_PULL overrides it at run time).
        #[arg(long, value_enum, default_value_t = Pull::Missing)]
        pull: Pull,
    },
    /// Validate a spec, or compare declared outputs with the files on disk.
    #[command(
        after_help = "Exit status: 0 clean, 1 diagnostics or drift, 2 usage or I/O error.\n\nExamples:\n  stowplan check\n  stowplan check --outputs examples/go-server/stowplan.kdl"
    )]
    Check {
        #[arg(default_value = "stowplan.kdl")]
        spec: PathBuf,
        /// Compare every `output` the spec declares with the file on disk and print a diff.
        #[arg(long)]
        outputs: bool,
    },
    /// Draw the artifact flow graph, its critical path and parallel stages.
    #[command(
        after_help = "Examples:\n  stowplan graph --format mermaid\n  stowplan graph --format dot | dot -Tpng -o graph.png"
    )]
    Graph {
        #[arg(default_value = "stowplan.kdl")]
        spec: PathBuf,
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
    /// Write every `output` the spec declares, next to the spec.
    #[command(
        after_help = "Each file is written to a temporary file and renamed into place;\nif any output fails to compile, nothing is written."
    )]
    Write {
        #[arg(default_value = "stowplan.kdl")]
        spec: PathBuf,
    },
}

/// A failure that is not about the spec: usage or I/O (exit 2).
struct Fatal(String);

struct Reporter {
    style: Style,
    deny_warnings: bool,
    verbose: bool,
    image_map: stowplan::image_map::ImageMap,
}

impl Reporter {
    fn report(&self, diagnostics: &[Diagnostic]) {
        let mut stderr = std::io::stderr().lock();
        for d in diagnostics {
            let _ = stderr.write_all(render(d, self.style).as_bytes());
            if matches!(self.style, Style::Human { .. }) {
                let _ = stderr.write_all(b"\n");
            }
        }
    }

    /// Reports warnings; false when `--deny warnings` makes them fatal.
    fn warnings_pass(&self, warnings: &[Diagnostic]) -> bool {
        self.report(warnings);
        if self.deny_warnings && !warnings.is_empty() {
            eprintln!(
                "stowplan: {} warning(s) denied by --deny warnings",
                warnings.len()
            );
            return false;
        }
        true
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let style = match cli.message_format {
        MessageFormat::Human => Style::Human { color, width: 100 },
        MessageFormat::Json => Style::Json,
    };
    let mut reporter = Reporter {
        style,
        deny_warnings: cli.deny.is_some(),
        verbose: cli.verbose,
        image_map: Default::default(),
    };
    if let Some(path) = &cli.image_map {
        let loaded = load(path).map(|source| stowplan::image_map::ImageMap::parse(&source));
        match loaded {
            Ok(Ok(map)) => reporter.image_map = map.output,
            Ok(Err(diagnostics)) => {
                reporter.report(&diagnostics);
                return ExitCode::from(1);
            }
            Err(Fatal(message)) => {
                eprintln!("stowplan: error: {message}");
                return ExitCode::from(2);
            }
        }
    }
    match run(cli.command, &reporter) {
        Ok(code) => code,
        Err(Fatal(message)) => {
            eprintln!("stowplan: error: {message}");
            ExitCode::from(2)
        }
    }
}

fn load(path: &Path) -> Result<SourceFile, Fatal> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Fatal(format!("cannot read {}: {e}", path.display())))?;
    Ok(SourceFile::new(path.display().to_string(), text))
}

/// The build context is the spec's directory.
fn options(spec: &Path, images: Vec<String>, reporter: &Reporter) -> stowplan::Options {
    stowplan::Options {
        images,
        context: Some(spec_dir(spec)),
        image_map: reporter.image_map.clone(),
    }
}

fn run(command: Command, reporter: &Reporter) -> Result<ExitCode, Fatal> {
    match command {
        Command::Compile {
            spec,
            images,
            output,
            emit,
            builder,
            pull,
        } => {
            let target = match emit {
                Emit::Dockerfile => stowplan::Target::Dockerfile(
                    stowplan::builders::Builder::parse(&builder)
                        .expect("clap checked the builder name"),
                ),
                Emit::Buildah => {
                    use stowplan::emit::buildah::{BuildahOptions, PullPolicy};
                    stowplan::Target::Buildah(BuildahOptions {
                        pull: match pull {
                            Pull::Always => PullPolicy::Always,
                            Pull::Missing => PullPolicy::Missing,
                            Pull::Never => PullPolicy::Never,
                        },
                        ..BuildahOptions::default()
                    })
                }
            };
            let source = load(&spec)?;
            let options = options(&spec, images, reporter);
            if reporter.verbose {
                explain_selection(&source, &options);
            }
            match stowplan::compile(&source, &options, &target) {
                Ok(done) => {
                    if !reporter.warnings_pass(&done.warnings) {
                        return Ok(ExitCode::from(1));
                    }
                    match output {
                        Some(path) => {
                            write_atomically(&path, &done.output)?;
                            if emit == Emit::Buildah {
                                make_executable(&path)?;
                            }
                        }
                        None => {
                            let mut stdout = std::io::stdout().lock();
                            stdout
                                .write_all(done.output.as_bytes())
                                .and_then(|()| stdout.flush())
                                .map_err(|e| Fatal(format!("cannot write to stdout: {e}")))?;
                        }
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(diagnostics) => {
                    reporter.report(&diagnostics);
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Check { spec, outputs } => {
            let source = load(&spec)?;
            if !outputs {
                return Ok(
                    match stowplan::compile_dockerfile(
                        &source,
                        &options(&spec, Vec::new(), reporter),
                    ) {
                        Ok(done) if reporter.warnings_pass(&done.warnings) => ExitCode::SUCCESS,
                        Ok(_) => ExitCode::from(1),
                        Err(diagnostics) => {
                            reporter.report(&diagnostics);
                            ExitCode::from(1)
                        }
                    },
                );
            }
            let rendered =
                match stowplan::render_outputs(&source, &options(&spec, Vec::new(), reporter)) {
                    Ok(done) => {
                        if !reporter.warnings_pass(&done.warnings) {
                            return Ok(ExitCode::from(1));
                        }
                        done.output
                    }
                    Err(diagnostics) => {
                        reporter.report(&diagnostics);
                        return Ok(ExitCode::from(1));
                    }
                };
            let dir = spec_dir(&spec);
            let mut drifted = false;
            let mut stdout = std::io::stdout().lock();
            for output in rendered {
                let path = dir.join(&output.path);
                let current = match std::fs::read_to_string(&path) {
                    Ok(text) => text,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                    Err(e) => return Err(Fatal(format!("cannot read {}: {e}", path.display()))),
                };
                if current != output.text {
                    drifted = true;
                    let shown = path.display().to_string();
                    let diff = similar::TextDiff::from_lines(&current, &output.text);
                    let text = diff
                        .unified_diff()
                        .header(
                            &format!("{shown} (on disk)"),
                            &format!("{shown} (from the spec)"),
                        )
                        .to_string();
                    let _ = write!(stdout, "{text}");
                    eprintln!(
                        "stowplan: {shown} is out of date; run `stowplan write {}`",
                        spec.display()
                    );
                }
            }
            Ok(if drifted {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Graph { spec, format } => graph(&spec, format, reporter),
        Command::Write { spec } => {
            let source = load(&spec)?;
            match stowplan::render_outputs(&source, &options(&spec, Vec::new(), reporter)) {
                Ok(done) => {
                    if !reporter.warnings_pass(&done.warnings) {
                        return Ok(ExitCode::from(1));
                    }
                    let dir = spec_dir(&spec);
                    for output in &done.output {
                        write_atomically(&dir.join(&output.path), &output.text)?;
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(diagnostics) => {
                    reporter.report(&diagnostics);
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}

fn graph(spec: &Path, format: GraphFormat, reporter: &Reporter) -> Result<ExitCode, Fatal> {
    let source = load(spec)?;
    let checked = match stowplan::check(&source, &options(spec, Vec::new(), reporter)) {
        Ok(done) => done,
        Err(diagnostics) => {
            reporter.report(&diagnostics);
            return Ok(ExitCode::from(1));
        }
    };
    if !reporter.warnings_pass(&checked.warnings) {
        return Ok(ExitCode::from(1));
    }
    let text = match format {
        GraphFormat::Dot => stowplan::graph::to_dot(&checked.output),
        GraphFormat::Mermaid => stowplan::graph::to_mermaid(&checked.output),
        GraphFormat::Json => stowplan::graph::to_json(&checked.output),
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .map_err(|e| Fatal(format!("cannot write to stdout: {e}")))?;
    Ok(ExitCode::SUCCESS)
}

/// `-v`: which stages the output holds and which it leaves out.
fn explain_selection(source: &SourceFile, options: &stowplan::Options) {
    let Ok(checked) = stowplan::check(source, options) else {
        return;
    };
    let spec = &checked.output;
    let Ok(selection) = stowplan::select(spec, &options.images) else {
        return;
    };
    let kept = stowplan::lower::needed_stages(spec, &selection);
    for id in &spec.order {
        let name = &spec.stage(*id).name.value;
        if kept.contains(id) {
            eprintln!("stowplan: building `{name}`");
        } else {
            eprintln!("stowplan: pruned `{name}`: no selected image needs it");
        }
    }
}

fn make_executable(path: &Path) -> Result<(), Fatal> {
    use std::os::unix::fs::PermissionsExt;
    let fail = |e: std::io::Error| Fatal(format!("cannot make {} executable: {e}", path.display()));
    let mut permissions = std::fs::metadata(path).map_err(fail)?.permissions();
    permissions.set_mode(permissions.mode() | 0o111);
    std::fs::set_permissions(path, permissions).map_err(fail)
}

fn spec_dir(spec: &Path) -> PathBuf {
    match spec.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes through a temporary file in the same directory and renames it
/// into place, so a reader never sees half a file.
fn write_atomically(path: &Path, text: &str) -> Result<(), Fatal> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let fail = |e: std::io::Error| Fatal(format!("cannot write {}: {e}", path.display()));
    std::fs::create_dir_all(&dir).map_err(fail)?;
    let mut file = tempfile::NamedTempFile::new_in(&dir).map_err(fail)?;
    file.write_all(text.as_bytes()).map_err(fail)?;
    // Temporary files are private (0600); a generated file keeps the mode
    // of the file it replaces, or gets the usual 0644.
    let permissions = match std::fs::metadata(path) {
        Ok(meta) => meta.permissions(),
        Err(_) => {
            use std::os::unix::fs::PermissionsExt;
            std::fs::Permissions::from_mode(0o644)
        }
    };
    file.as_file().set_permissions(permissions).map_err(fail)?;
    file.as_file().sync_all().map_err(fail)?;
    file.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
