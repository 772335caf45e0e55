//! `stowplan init --preset NAME`: a starter spec for the folder it runs in.
//!
//! The preset is chosen by the user; the folder only fills in what a
//! lockfile or a manifest says (the package manager, the main package, the
//! binary's name), so that the starter compiles as written. Reading the
//! folder happens here, once: a spec's output never depends on files
//! other than the spec.

use std::path::Path;

use crate::base::generated;
use crate::frontend::presets;

/// A starter spec and what the user should look at before building.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Starter {
    pub text: String,
    /// The file the spec declares as its output: `Dockerfile`, or a free
    /// name beside a `Dockerfile` that stowplan did not generate.
    pub output: String,
    /// Things the folder did not say, to check by hand.
    pub notes: Vec<String>,
}

/// The starter spec for a preset in `dir`.
pub fn starter(preset: &str, dir: &Path) -> Result<Starter, String> {
    if presets::find(preset).is_none() {
        let names: Vec<&str> = presets::PRESETS.iter().map(|p| p.name).collect();
        return Err(format!(
            "there is no preset `{preset}`; the presets are: {}",
            names.join(", ")
        ));
    }
    let folder = Folder { dir };
    let output = folder.free_output();
    let mut params: Vec<(&str, Arg)> = Vec::new();
    let mut notes = Vec::new();
    match preset {
        "go" => go(&folder, &mut params, &mut notes),
        "node" => node(&folder, &output, &mut params, &mut notes),
        "python" => python(&folder, &output, &mut params, &mut notes),
        "rust" => rust(&folder, &mut params, &mut notes),
        "java" => java(&folder, &mut params, &mut notes),
        _ => static_site(&folder, &mut params, &mut notes),
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
         stowplan 1\n\n{beside}output {}\n\nimage {} template={}",
        kdl_string(&output),
        kdl_string(&name),
        kdl_string(preset),
    );
    for (key, value) in params {
        let value = match value {
            Arg::String(s) => kdl_string(&s),
            Arg::Bool(b) => format!("#{b}"),
        };
        text.push_str(&format!(" {key}={value}"));
    }
    text.push('\n');
    Ok(Starter {
        text,
        output,
        notes,
    })
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
}

fn string(s: impl Into<String>) -> Arg {
    Arg::String(s.into())
}

struct Folder<'a> {
    dir: &'a Path,
}

impl Folder<'_> {
    fn has(&self, path: &str) -> bool {
        self.dir.join(path).exists()
    }

    fn read(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.join(path)).ok()
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

    /// The folder's top-level paths that belong in the image, directories
    /// with a trailing `/`, for `sources=`. Without a `.dockerignore`
    /// (stowplan does not write one yet), `sources="."` would also copy
    /// installed dependencies, version control and `.env` files.
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
        ];
        let mut paths: Vec<String> = std::fs::read_dir(self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                let skipped = SKIP.contains(&name.as_str())
                    || also_skip.contains(&name.as_str())
                    || name.starts_with(".env")
                    || name.ends_with(".log")
                    || name.contains(char::is_whitespace);
                if skipped {
                    return None;
                }
                Some(if entry.path().is_dir() {
                    format!("{name}/")
                } else {
                    name
                })
            })
            .collect();
        paths.sort();
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

fn go(folder: &Folder<'_>, params: &mut Vec<(&str, Arg)>, notes: &mut Vec<String>) {
    match (folder.has("go.mod"), folder.has("go.sum")) {
        (true, true) => {}
        (true, false) => params.push(("deps", string("go.mod"))),
        (false, _) => {
            params.push(("deps", string("")));
            notes.push(
                "no go.mod here: run `go mod init` (the build runs `go build` on the folder)"
                    .into(),
            );
        }
    }
    if !folder.has("main.go") {
        let mains = std::fs::read_dir(folder.dir.join("cmd"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("main.go").exists())
            .map(|e| e.file_name().to_string_lossy().into_owned());
        match mains.min() {
            Some(command) => params.push(("package", string(format!("./cmd/{command}")))),
            None => {
                notes.push("no main.go here or in cmd/*/: set package= to the main package".into())
            }
        }
    }
}

fn node(
    folder: &Folder<'_>,
    output_file: &str,
    params: &mut Vec<(&str, Arg)>,
    notes: &mut Vec<String>,
) {
    match folder.first(&["pnpm-lock.yaml", "yarn.lock", "package-lock.json"]) {
        Some("pnpm-lock.yaml") => params.push(("manager", string("pnpm"))),
        Some("yarn.lock") => params.push(("manager", string("yarn"))),
        Some(_) => {}
        None => notes.push(
            "no lockfile here: run `npm install` to write package-lock.json (the build installs exactly what it says)".into(),
        ),
    }
    let package: Option<serde_json::Value> = folder
        .read("package.json")
        .and_then(|text| serde_json::from_str(&text).ok());
    let Some(package) = package else {
        notes.push("no package.json here".into());
        return;
    };
    let scripts = &package["scripts"];
    let builds = scripts["build"].is_string();
    let main = package["main"].as_str();
    if builds && main.is_none() && !scripts["start"].is_string() {
        // A build and nothing to start: a site.
        params.push(("mode", string("static")));
        let output = folder.first(&["dist", "build", "out"]).unwrap_or("dist");
        if output != "dist" {
            params.push(("output", string(output)));
        }
        params.push(("sources", string(folder.app_paths(&[output, output_file]))));
        if !folder.has(output) {
            notes.push(format!(
                "check output=: the folder `npm run build` writes (`{output}` does not exist yet)"
            ));
        }
        return;
    }
    if builds {
        params.push(("build", Arg::Bool(true)));
        let output = folder.first(&["dist", "build", "out"]).unwrap_or("dist");
        if output != "dist" {
            params.push(("output", string(output)));
        }
        params.push(("sources", string(folder.app_paths(&[output, output_file]))));
    } else {
        params.push(("sources", string(folder.app_paths(&[output_file]))));
    }
    match main {
        Some(main) if main != "server.js" => {
            params.push(("command", string(format!("node {main}"))));
        }
        Some(_) => {}
        None if folder.has("server.js") => {}
        None => notes
            .push("package.json names no `main`: set command= to what starts the server".into()),
    }
}

fn python(
    folder: &Folder<'_>,
    output_file: &str,
    params: &mut Vec<(&str, Arg)>,
    notes: &mut Vec<String>,
) {
    match folder.first(&["uv.lock", "poetry.lock", "requirements.txt"]) {
        Some("uv.lock") => params.push(("manager", string("uv"))),
        Some("poetry.lock") => params.push(("manager", string("poetry"))),
        Some(_) => {}
        None => notes.push(
            "no requirements.txt, uv.lock or poetry.lock here: the build needs one (pip freeze > requirements.txt)".into(),
        ),
    }
    params.push(("sources", string(folder.app_paths(&[output_file]))));
    match folder.first(&["app.py", "main.py"]) {
        Some("app.py") => {}
        Some(main) => params.push(("command", string(format!("python {main}")))),
        None => notes.push("no app.py or main.py here: set command= to what starts the app".into()),
    }
}

fn rust(folder: &Folder<'_>, params: &mut Vec<(&str, Arg)>, notes: &mut Vec<String>) {
    let name = folder.read("Cargo.toml").and_then(|manifest| {
        let mut in_package = false;
        for line in manifest.lines().map(str::trim) {
            if line.starts_with('[') {
                in_package = line == "[package]";
            } else if in_package && let Some(value) = line.strip_prefix("name") {
                let value = value.trim_start().strip_prefix('=')?.trim();
                return Some(value.trim_matches('"').to_owned());
            }
        }
        None
    });
    match name {
        Some(name) => params.push(("binary", string(name))),
        None => {
            params.push(("binary", string("app")));
            notes.push("no package name in Cargo.toml: check binary=".into());
        }
    }
    if !folder.has("Cargo.lock") {
        notes.push(
            "no Cargo.lock here: run `cargo generate-lockfile` (the build uses --locked)".into(),
        );
    }
}

fn java(folder: &Folder<'_>, params: &mut Vec<(&str, Arg)>, notes: &mut Vec<String>) {
    if !folder.has("pom.xml")
        && folder
            .first(&["build.gradle", "build.gradle.kts"])
            .is_some()
    {
        params.push(("build-tool", string("gradle")));
    } else if !folder.has("pom.xml") {
        notes.push("no pom.xml or build.gradle here".into());
    }
    params.push(("main-class", string("com.example.Main")));
    notes.push("set main-class= to the class whose main() starts the app".into());
}

fn static_site(folder: &Folder<'_>, params: &mut Vec<(&str, Arg)>, notes: &mut Vec<String>) {
    match folder.first(&["public", "dist", "site", "_site", "build", "www"]) {
        Some("public") => {}
        Some(dir) => params.push(("dir", string(format!("{dir}/")))),
        None => {
            notes.push("no public/, dist/ or site/ here: set dir= to the folder to serve".into())
        }
    }
}
