//! The `stowplan` command line. Thin: parse arguments, call the library,
//! render diagnostics, choose the exit code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use stowplan::report::render::{Style, render};
use stowplan::{Diagnostic, SourceFile};

const EXAMPLES: &str = "\
Examples:
  stowplan compile                         compile ./stowplan.kdl to stdout
  stowplan compile app.kdl --image api     only the `api` image and what it needs
  stowplan compile -o Dockerfile           write the Dockerfile (atomically)
  stowplan check                           validate only
  stowplan write                           write every `output` the spec declares
  stowplan check --outputs                 fail with a diff if a generated file drifted
  stowplan explain --changed src/main.go   what a change rebuilds, instruction by instruction
  stowplan presets                         list the built-in runtime presets
  stowplan init --preset go                write a starter stowplan.kdl here";

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
        /// Buildah script: commit each image as PREFIX + its name + `:latest` (then its tags);
        /// an empty PREFIX names images by their tags only.
        #[arg(long, value_name = "PREFIX", default_value = "localhost/")]
        image_prefix: String,
        #[command(flatten)]
        order: OrderArgs,
        /// Print on stderr what the layer-order optimizer moved, and why.
        #[arg(long)]
        explain_order: bool,
    },
    /// Say which instructions a change rebuilds, and why (the cache model).
    #[command(
        after_help = "Lines are those of the Dockerfile (`stowplan compile` prints a spec's).\n\nExamples:\n  stowplan explain --changed src/main.go\n  stowplan explain --dockerfile Dockerfile --changed package.json --arg VERSION\n  stowplan explain --changed go.mod --base golang"
    )]
    Explain {
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
        #[command(flatten)]
        order: OrderArgs,
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
    /// List the built-in runtime presets, or print one's template.
    #[command(
        after_help = "Examples:\n  stowplan presets\n  stowplan presets show go\n\nUse a preset in a spec: image \"api\" template=\"go\" package=\"./cmd/api\""
    )]
    Presets {
        #[command(subcommand)]
        action: Option<PresetsAction>,
    },
    /// Write a starter stowplan.kdl for the current folder from a preset.
    #[command(
        after_help = "The package manager, main package or binary name come from the lockfile\nor manifest found here. An existing stowplan.kdl is never overwritten.\n\nExamples:\n  stowplan init --preset node\n  stowplan init --preset go"
    )]
    Init {
        /// The preset to start from (`stowplan presets` lists them).
        #[arg(long)]
        preset: String,
    },
}

#[derive(Subcommand, Debug)]
enum PresetsAction {
    /// Print a preset's template, as written in runtime-presets/.
    Show { name: String },
}

/// How the layer-order optimizer runs (spec/cache.md).
#[derive(clap::Args, Debug)]
struct OrderArgs {
    /// Keep the written order of every stage: no layer reordering.
    #[arg(long)]
    keep_order: bool,
    /// Weigh inputs by how often the spec's git history changed them,
    /// instead of by volatility class.
    #[arg(long)]
    history: bool,
}

impl OrderArgs {
    fn options(&self, spec: &Path) -> Result<stowplan::plan::optimize::OrderOptions, Fatal> {
        if self.keep_order {
            return Ok(stowplan::plan::optimize::OrderOptions::written());
        }
        // git reads the history while the spec is parsed.
        let history = self.history.then(|| {
            stowplan::cache::history::HistorySource::from_git_in_background(spec_dir(spec))
        });
        Ok(stowplan::plan::optimize::OrderOptions {
            enabled: true,
            history,
            layer_per_instruction: false,
        })
    }
}

/// A history asked for and not read is an error of its own (exit 2).
fn history_read(options: &stowplan::Options) -> Result<(), Fatal> {
    match options.order.history.as_ref().map(|h| h.get()) {
        Some(Err(e)) => Err(Fatal(format!("--history: {e}"))),
        _ => Ok(()),
    }
}

/// A failure that is not about the spec: usage or I/O (exit 2).
struct Fatal(String);

struct Reporter {
    style: Style,
    deny_warnings: bool,
    verbose: bool,
    image_map: stowplan::plan::image_map::ImageMap,
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
    /// A pipeline result's output, once its diagnostics are reported; `None`
    /// when it failed or `--deny warnings` refused its warnings (exit 1).
    fn accept<T>(&self, result: stowplan::SourceResult<T>) -> Option<T> {
        match result {
            Ok(done) => self.warnings_pass(&done.warnings).then_some(done.output),
            Err(diagnostics) => {
                self.report(&diagnostics);
                None
            }
        }
    }

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

/// The stack the compiler runs on. Specs nest only a few levels, but a
/// hostile one may nest up to the limit `decode` enforces, and the kdl
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
        MessageFormat::Json => Style::Json,
    };
    let mut reporter = Reporter {
        style,
        deny_warnings: cli.deny.is_some(),
        verbose: cli.verbose,
        image_map: Default::default(),
    };
    if let Some(path) = &cli.image_map {
        let loaded = load(path).map(|source| stowplan::plan::image_map::ImageMap::parse(&source));
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
        order: Default::default(),
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
            image_prefix,
            order,
            explain_order,
        } => {
            let target = match emit {
                Emit::Dockerfile => stowplan::Target::Dockerfile(
                    stowplan::base::keywords::Builder::parse(&builder)
                        .expect("clap checked the builder name"),
                ),
                Emit::Buildah => {
                    use stowplan::backend::buildah::{BuildahOptions, PullPolicy};
                    stowplan::Target::Buildah(BuildahOptions {
                        pull: match pull {
                            Pull::Always => PullPolicy::Always,
                            Pull::Missing => PullPolicy::Missing,
                            Pull::Never => PullPolicy::Never,
                        },
                        image_prefix: Some(image_prefix).filter(|p| !p.is_empty()),
                        ..BuildahOptions::default()
                    })
                }
            };
            let source = load(&spec)?;
            let mut options = options(&spec, images, reporter);
            options.order = order.options(&spec)?;
            if reporter.verbose {
                explain_selection(&source, &options);
            }
            if explain_order && let Ok(done) = stowplan::explain_order(&source, &options, &target) {
                eprint!("{}", done.output);
            }
            let compiled = stowplan::compile(&source, &options, &target);
            history_read(&options)?;
            let Some(text) = reporter.accept(compiled) else {
                return Ok(ExitCode::from(1));
            };
            match output {
                Some(path) => {
                    write_atomically(&path, &text)?;
                    if emit == Emit::Buildah {
                        make_executable(&path)?;
                    }
                }
                None => {
                    let mut stdout = std::io::stdout().lock();
                    stdout
                        .write_all(text.as_bytes())
                        .and_then(|()| stdout.flush())
                        .map_err(|e| Fatal(format!("cannot write to stdout: {e}")))?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { spec, outputs } => {
            let source = load(&spec)?;
            if !outputs {
                let compiled =
                    stowplan::compile_dockerfile(&source, &options(&spec, Vec::new(), reporter));
                return Ok(match reporter.accept(compiled) {
                    Some(_) => ExitCode::SUCCESS,
                    None => ExitCode::from(1),
                });
            }
            let rendered = stowplan::render_outputs(&source, &options(&spec, Vec::new(), reporter));
            let Some(rendered) = reporter.accept(rendered) else {
                return Ok(ExitCode::from(1));
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
        Command::Explain {
            spec,
            dockerfile,
            changed,
            args,
            bases,
            images,
            order,
        } => {
            let change = stowplan::cache::Change {
                paths: changed,
                args,
                images: bases,
            };
            explain(spec, dockerfile, images, &order, &change, reporter)
        }
        Command::Presets { action } => presets(action),
        Command::Init { preset } => init(&preset),
        Command::Write { spec } => {
            let source = load(&spec)?;
            let rendered = stowplan::render_outputs(&source, &options(&spec, Vec::new(), reporter));
            let Some(rendered) = reporter.accept(rendered) else {
                return Ok(ExitCode::from(1));
            };
            let dir = spec_dir(&spec);
            for output in &rendered {
                write_atomically(&dir.join(&output.path), &output.text)?;
            }
            Ok(ExitCode::SUCCESS)
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
        GraphFormat::Dot => stowplan::report::graph::to_dot(&checked.output),
        GraphFormat::Mermaid => stowplan::report::graph::to_mermaid(&checked.output),
        GraphFormat::Json => stowplan::report::graph::to_json(&checked.output),
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .map_err(|e| Fatal(format!("cannot write to stdout: {e}")))?;
    Ok(ExitCode::SUCCESS)
}

fn explain(
    spec: PathBuf,
    dockerfile: Option<PathBuf>,
    images: Vec<String>,
    order: &OrderArgs,
    change: &stowplan::cache::Change,
    reporter: &Reporter,
) -> Result<ExitCode, Fatal> {
    let text = match dockerfile {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Fatal(format!("cannot read {}: {e}", path.display())))?;
            // BuildKit reads `NAME.dockerignore` beside the Dockerfile first.
            let mut own = path.clone().into_os_string();
            own.push(".dockerignore");
            let ignore = [PathBuf::from(own), spec_dir(&path).join(".dockerignore")]
                .iter()
                .find_map(|p| std::fs::read_to_string(p).ok());
            match stowplan::report::explain::explain_dockerfile(&text, ignore.as_deref(), change) {
                Ok(text) => text,
                Err(e) => {
                    eprintln!("stowplan: {}: {e}", path.display());
                    return Ok(ExitCode::from(1));
                }
            }
        }
        None => {
            let source = load(&spec)?;
            let mut options = options(&spec, images, reporter);
            options.order = order.options(&spec)?;
            let explained = stowplan::explain_spec(&source, &options, change);
            history_read(&options)?;
            match reporter.accept(explained) {
                Some(text) => text,
                None => return Ok(ExitCode::from(1)),
            }
        }
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
    let kept = stowplan::plan::lower::needed_stages(spec, &selection);
    for id in &spec.order {
        let name = &spec.stage(*id).name.value;
        if kept.contains(id) {
            eprintln!("stowplan: building `{name}`");
        } else {
            eprintln!("stowplan: pruned `{name}`: no selected image needs it");
        }
    }
}

fn presets(action: Option<PresetsAction>) -> Result<ExitCode, Fatal> {
    let text = match action {
        None => stowplan::frontend::presets::describe_all(),
        Some(PresetsAction::Show { name }) => match stowplan::frontend::presets::find(&name) {
            Some(preset) => preset.text.to_owned(),
            None => {
                let names: Vec<&str> = stowplan::frontend::presets::PRESETS
                    .iter()
                    .map(|p| p.name)
                    .collect();
                return Err(Fatal(format!(
                    "there is no preset `{name}`; the presets are: {}",
                    names.join(", ")
                )));
            }
        },
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .map_err(|e| Fatal(format!("cannot write to stdout: {e}")))?;
    Ok(ExitCode::SUCCESS)
}

/// `init`: the starter spec, written only if no stowplan.kdl is there.
fn init(preset: &str) -> Result<ExitCode, Fatal> {
    let starter = stowplan::frontend::starter::starter(preset, Path::new(".")).map_err(Fatal)?;
    let path = Path::new("stowplan.kdl");
    if path.exists() {
        return Err(Fatal(
            "stowplan.kdl already exists here; init never overwrites it".to_owned(),
        ));
    }
    let fail = |e: std::io::Error| Fatal(format!("cannot write stowplan.kdl: {e}"));
    let mut file = tempfile::NamedTempFile::new_in(".").map_err(fail)?;
    file.write_all(starter.text.as_bytes()).map_err(fail)?;
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(fail)?;
    }
    file.as_file().sync_all().map_err(fail)?;
    // Linking, not renaming: a stowplan.kdl that appeared meanwhile is kept.
    file.persist_noclobber(path).map_err(|e| fail(e.error))?;
    eprintln!("stowplan: wrote stowplan.kdl from preset `{preset}`");
    for note in &starter.notes {
        eprintln!("stowplan: note: {note}");
    }
    eprintln!("stowplan: next: `stowplan write` writes the Dockerfile");
    Ok(ExitCode::SUCCESS)
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
