//! `stowplan init --preset NAME`: a starter spec for the folder it runs in.
//!
//! The preset is chosen by the user; the folder fills in what its files
//! say (the package manager, versions, the entry point, the framework, the
//! port, what `.dockerignore` leaves out), so that the starter compiles as
//! written and says where each value came from. What the folder does not
//! tell is asked in a `// TODO(stowplan init): ...` comment, never a silent
//! default. Reading the folder happens here, once, and stays bounded: a
//! few named files, each at most [`MAX_FILE`] bytes, folders listed one or
//! two levels deep, no symlink followed out of the folder. A spec's output
//! never depends on files other than the spec.

mod npm;
mod scan;
mod stacks;

use std::path::{Path, PathBuf};

use crate::base::generated;
use crate::cache::Ignore;
use crate::frontend::presets;
use crate::frontend::template::Value;

use scan::{Version, Want};

/// The most `init` reads of one file; a larger one is not read.
const MAX_FILE: u64 = 256 * 1024;
/// The most entries `init` looks at in one folder.
const MAX_ENTRIES: usize = 500;
/// The most files `init` scans for a port.
const MAX_PORT_FILES: usize = 12;

/// A starter spec and what the user should look at before building.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Starter {
    pub text: String,
    /// The file the spec declares as its output: `Dockerfile`, or a free
    /// name beside a `Dockerfile` that stowplan did not generate.
    pub output: String,
    /// Things the folder did not say, to check by hand (each is also a
    /// `TODO(stowplan init)` comment in the spec).
    pub notes: Vec<String>,
}

/// The starter spec for a preset in `dir`.
pub fn starter(preset: &str, dir: &Path) -> Result<Starter, String> {
    let Some(found) = presets::find(preset) else {
        let names: Vec<&str> = presets::PRESETS.iter().map(|p| p.name).collect();
        return Err(format!(
            "there is no preset `{preset}`; the presets are: {}",
            names.join(", ")
        ));
    };
    let folder = Folder::new(dir);
    let output = folder.free_output();
    let mut draft = Draft::new(found);
    match preset {
        "go" => stacks::go(&folder, &mut draft),
        "node" => stacks::node(&folder, &output, &mut draft),
        "python" => stacks::python(&folder, &output, &mut draft),
        "rust" => stacks::rust(&folder, &mut draft),
        "java" => stacks::java(&folder, &mut draft),
        _ => stacks::static_site(&folder, &output, &mut draft),
    }
    let name = image_name(dir);
    let beside = if output == "Dockerfile" {
        String::new()
    } else {
        format!(
            "// The `Dockerfile` here was not written by stowplan, so this spec writes\n\
             // {output} beside it: `docker build -f {output} .` builds it.\n\
             // (`stowplan write --force` would replace the hand-written file.)\n"
        )
    };
    let mut text = format!(
        "// Written by `stowplan init --preset {preset}`. `stowplan presets show {preset}`\n\
         // prints the template; spec/presets.md explains each parameter.\n\
         stowplan 1\n\n{beside}output {}\n\n",
        kdl_string(&output),
    );
    for line in &draft.read {
        text.push_str(&comment(&format!("From {line}.")));
    }
    for line in &draft.comments {
        text.push_str(&comment(line));
    }
    for line in &draft.todos {
        text.push_str(&comment(&format!("TODO(stowplan init): {line}")));
    }
    text.push_str(&format!(
        "image {} template={}",
        kdl_string(&name),
        kdl_string(preset)
    ));
    for (key, value) in draft.params {
        let value = match value {
            Arg::String(s) => kdl_string(&s),
            Arg::Bool(b) => format!("#{b}"),
            Arg::Integer(n) => n.to_string(),
        };
        text.push_str(&format!(" {key}={value}"));
    }
    text.push('\n');
    Ok(Starter {
        text,
        output,
        notes: draft.todos,
    })
}

/// A `//` comment, one line per line of `text`, without control characters.
fn comment(text: &str) -> String {
    text.lines()
        .map(|line| {
            let clean: String = line
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            format!("// {}\n", clean.trim_end())
        })
        .collect()
}

/// A KDL string, always quoted (the spec's own style), escaped as KDL v2 reads it.
pub(crate) fn kdl_string(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // Controls, the line separators KDL v2 reads as newlines, and the
            // invisible code points it forbids
            // literally (direction marks, BOM) or a reader cannot see.
            c if c.is_control()
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}') =>
            {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

enum Arg {
    String(String),
    Bool(bool),
    Integer(u16),
}

fn string(s: impl Into<String>) -> Arg {
    Arg::String(s.into())
}

/// What `init` will write: parameters, where each came from, questions.
struct Draft {
    preset: &'static presets::Preset,
    params: Vec<(&'static str, Arg)>,
    /// `FILE: what it says`, one comment line each.
    read: Vec<String>,
    /// Remarks that are neither a finding nor a question.
    comments: Vec<String>,
    /// Questions for the user, in the spec and on stderr.
    todos: Vec<String>,
}

impl Draft {
    fn new(preset: &'static presets::Preset) -> Draft {
        Draft {
            preset,
            params: Vec::new(),
            read: Vec::new(),
            comments: Vec::new(),
            todos: Vec::new(),
        }
    }

    fn set(&mut self, key: &'static str, value: Arg) {
        self.params.retain(|(k, _)| *k != key);
        self.params.push((key, value));
    }

    fn found(&mut self, what: impl Into<String>) {
        self.read.push(what.into());
    }

    fn todo(&mut self, what: impl Into<String>) {
        self.todos.push(what.into());
    }

    /// The preset's default for a parameter, from the preset itself.
    fn default(&self, param: &str) -> Option<Value> {
        let (template, _) = presets::load(self.preset).ok()?;
        template
            .params
            .into_iter()
            .find(|p| p.name.value == param)
            .and_then(|p| p.default.map(|d| d.value))
    }

    fn default_string(&self, param: &str) -> String {
        match self.default(param) {
            Some(Value::String(s)) => s,
            _ => String::new(),
        }
    }

    fn default_port(&self) -> u16 {
        match self.default("port") {
            Some(Value::Integer(n)) => u16::try_from(n).unwrap_or(0),
            _ => 0,
        }
    }

    /// Sets a version parameter from what the project asks for (`wants`,
    /// said by `source`): nothing when the preset's default fits, the exact
    /// release when the project names one, else the release line, with a
    /// question to pin it. `line` is how many numbers name a line (node: 1).
    fn version(&mut self, param: &'static str, wants: &[Want], source: &str, line: usize) {
        let default = self.default_string(param);
        let Some(current) = scan::version(&default) else {
            return;
        };
        if wants.iter().any(|w| w.admits(&current)) {
            self.found(format!("{source}: the default {param}=\"{default}\" fits"));
            return;
        }
        let Some(want) = wants.last() else {
            return;
        };
        let chosen: Version = match want {
            Want::Exact(v) => {
                self.set(param, string(scan::dotted(v)));
                self.found(format!("{source}: {param}=\"{}\"", scan::dotted(v)));
                return;
            }
            Want::Line(v) => v.clone(),
            Want::Range(_) => match line_in(want, &current, line) {
                Some(v) => v,
                None => {
                    self.todo(format!(
                        "{source} admits no release line stowplan can name: set {param}= to a release it admits"
                    ));
                    return;
                }
            },
        };
        let tag = scan::dotted(&chosen);
        self.set(param, string(&tag));
        self.found(format!("{source}: {param}=\"{tag}\""));
        self.todo(format!(
            "pin {param}= to a patch release of {tag} (the tag `{tag}` follows the line)"
        ));
    }

    /// Sets `port=` from what a file says, or asks.
    fn port(&mut self, found: Option<(u16, String, String)>) {
        let default = self.default_port();
        match found {
            Some((port, file, words)) => {
                if port != default {
                    self.set("port", Arg::Integer(port));
                }
                self.found(format!("{file}: port {port} (`{words}`)"));
            }
            None => self.todo(format!(
                "which port does the app listen on? {default} is a guess (the preset's default): set port= (port=0 for a command-line tool: no EXPOSE, no PORT)"
            )),
        }
    }
}

/// A release line that a range admits, near the default: the range's
/// lower bound when it is above the default, else the lines below it.
fn line_in(want: &Want, current: &[u64], numbers: usize) -> Option<Version> {
    let Want::Range(cmps) = want else {
        return None;
    };
    let width = numbers.min(current.len());
    for (cmp, bound) in cmps {
        if matches!(cmp, scan::Cmp::Ge | scan::Cmp::Gt) && scan::compare(bound, current).is_gt() {
            let mut line: Version = bound.iter().copied().take(width).collect();
            line.resize(width, 0);
            if matches!(cmp, scan::Cmp::Gt) && bound.len() <= width {
                *line.last_mut()? += 1;
            }
            return Some(line);
        }
    }
    // Below the default: one line down at a time, the newest patch of each.
    let mut line: Version = current[..width].to_vec();
    for _ in 0..20 {
        let last = line.last_mut()?;
        if *last == 0 {
            return None;
        }
        *last -= 1;
        let mut newest = line.clone();
        newest.resize(3, 999);
        if want.admits(&newest) {
            return Some(line);
        }
    }
    None
}

/// The folder `init` reads, read only through these bounded functions.
struct Folder<'a> {
    dir: &'a Path,
    /// The folder, resolved: nothing outside it is read.
    root: Option<PathBuf>,
    ignore: Ignore,
}

impl<'a> Folder<'a> {
    fn new(dir: &'a Path) -> Folder<'a> {
        let mut folder = Folder {
            dir,
            root: dir.canonicalize().ok(),
            ignore: Ignore::default(),
        };
        if let Some(text) = folder.read(".dockerignore") {
            folder.ignore = Ignore::parse(&text);
        }
        folder
    }

    /// The path, resolved, when it stays inside the folder: a symlink to
    /// a file outside is not followed.
    fn inside(&self, path: &str) -> Option<PathBuf> {
        let real = self.dir.join(path).canonicalize().ok()?;
        real.starts_with(self.root.as_ref()?).then_some(real)
    }

    fn has(&self, path: &str) -> bool {
        self.inside(path).is_some()
    }

    fn is_dir(&self, path: &str) -> bool {
        self.inside(path).is_some_and(|p| p.is_dir())
    }

    /// A file's text: inside the folder, a file, at most [`MAX_FILE`] bytes.
    fn read(&self, path: &str) -> Option<String> {
        let real = self.inside(path)?;
        let meta = std::fs::metadata(&real).ok()?;
        if !meta.is_file() || meta.len() > MAX_FILE {
            return None;
        }
        std::fs::read_to_string(real).ok()
    }

    /// A folder's entries (names, folders with a trailing `/`), sorted, at
    /// most [`MAX_ENTRIES`], without those that lead outside the folder.
    fn entries(&self, path: &str) -> Vec<String> {
        let Some(real) = self.inside(path) else {
            return Vec::new();
        };
        let mut names: Vec<String> = std::fs::read_dir(real)
            .into_iter()
            .flatten()
            .flatten()
            .take(MAX_ENTRIES)
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                let relative = if path.is_empty() || path == "." {
                    name.clone()
                } else {
                    format!("{}/{name}", path.trim_end_matches('/'))
                };
                let real = self.inside(&relative)?;
                Some(if real.is_dir() {
                    format!("{name}/")
                } else {
                    name
                })
            })
            .collect();
        names.sort();
        names
    }

    /// `Dockerfile`, unless a file there is not stowplan's (see
    /// [`generated`]): then `Dockerfile.stowplan`, or the first of
    /// `Dockerfile.stowplan.2`, `.3`, ... that is free or stowplan's.
    fn free_output(&self) -> String {
        let ours = |name: &str| {
            use std::io::Read;
            match std::fs::File::open(self.dir.join(name)) {
                Err(e) => e.kind() == std::io::ErrorKind::NotFound,
                Ok(file) => {
                    let mut head = Vec::new();
                    file.take(generated::HEAD_BYTES)
                        .read_to_end(&mut head)
                        .is_ok()
                        && generated::is_generated(&String::from_utf8_lossy(&head))
                }
            }
        };
        ["Dockerfile".to_owned(), "Dockerfile.stowplan".to_owned()]
            .into_iter()
            .chain((2..100).map(|n| format!("Dockerfile.stowplan.{n}")))
            .find(|name| ours(name))
            // A folder that cannot be read: `write` refuses what is not its own.
            .unwrap_or_else(|| "Dockerfile.stowplan".to_owned())
    }

    fn first<'p>(&self, paths: &[&'p str]) -> Option<&'p str> {
        paths.iter().copied().find(|p| self.has(p))
    }

    /// The first port stated by one of `files` (those that exist, at most
    /// [`MAX_PORT_FILES`]), with the file and its words; then the hints a
    /// hand-written Dockerfile (`EXPOSE`; not one stowplan generated) or
    /// fly.toml (`internal_port`) give.
    fn port_in(&self, files: &[String]) -> Option<(u16, String, String)> {
        let hints = ["Dockerfile".to_owned(), "fly.toml".to_owned()];
        files
            .iter()
            .chain(&hints)
            .filter(|f| self.has(f))
            .take(MAX_PORT_FILES)
            .find_map(|file| {
                let text = self.read(file)?;
                // A Dockerfile stowplan wrote says what a spec said, not the app.
                if file == "Dockerfile" && generated::is_generated(&text) {
                    return None;
                }
                scan::port(&text).map(|(port, words)| (port, file.clone(), words))
            })
    }

    /// The folder's top-level paths that belong in the image, directories
    /// with a trailing `/`, for `sources=`: neither what `.dockerignore`
    /// leaves out of the context nor, whatever it says, installed
    /// dependencies, version control and `.env` files.
    fn app_paths(&self, also_skip: &[&str]) -> String {
        const SKIP: &[&str] = &[
            ".git",
            ".hg",
            ".svn",
            ".dockerignore",
            ".DS_Store",
            ".idea",
            ".vscode",
            "Dockerfile",
            "Dockerfile.stowplan",
            "stowplan.kdl",
            "node_modules",
            ".venv",
            "venv",
            "__pycache__",
            ".pytest_cache",
            ".mypy_cache",
            ".tox",
            "coverage",
            ".npmrc",
            ".pypirc",
            "pip.conf",
        ];
        let paths: Vec<String> = self
            .entries("")
            .into_iter()
            .filter(|entry| {
                let name = entry.trim_end_matches('/');
                !(SKIP.contains(&name)
                    || also_skip.contains(&name)
                    || name.starts_with(".env")
                    || name.ends_with(".log")
                    || name.contains(char::is_whitespace)
                    || self.ignore.excludes(name))
            })
            .collect();
        paths.join(" ")
    }
}

/// The folder's name as an image name: lowercase, `-` for anything else.
fn image_name(dir: &Path) -> String {
    let base = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut name: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    name = name
        .trim_start_matches(|c: char| !c.is_ascii_lowercase())
        .trim_end_matches('-')
        .to_owned();
    if name.is_empty() || name == "scratch" || name == "context" {
        "app".to_owned()
    } else {
        name
    }
}
