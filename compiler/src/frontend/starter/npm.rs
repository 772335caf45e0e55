//! What `init --preset node` reads in package.json beyond versions: the
//! program a package installs (`bin`), whether its build can run here,
//! whether its install scripts need dev dependencies, and whether a
//! Next.js app asks for standalone output.

use serde_json::Value;

use crate::frontend::starter::Folder;

/// The scripts `npm ci` runs for the root package, in its order.
const LIFECYCLE: &[&str] = &[
    "preinstall",
    "install",
    "postinstall",
    "prepublish",
    "preprepare",
    "prepare",
    "postprepare",
];

/// Programs every node image has: a script that runs only these needs no
/// package at all.
const SYSTEM: &[&str] = &[
    "node", "npm", "sh", "bash", "echo", "cd", "rm", "mkdir", "cp", "mv", "true", "exit", "test",
    "cat", "touch", "ln", "chmod", "[",
];

/// The package's program as `bin` names it.
pub(crate) struct Bin {
    /// The file, relative to the package.
    pub path: String,
    /// The command a user types (the package's name for a lone path).
    pub name: String,
    /// The other programs of `bin`.
    pub others: Vec<String>,
}

/// The file `bin` names for the package's program: a string, or the
/// entry named like the package (without its scope), or the first entry.
pub(crate) fn bin(package: &Value) -> Option<Bin> {
    let name = package["name"].as_str().unwrap_or_default();
    let name = name.rsplit('/').next().unwrap_or(name);
    match &package["bin"] {
        Value::String(path) => Some(Bin {
            path: clean(path),
            name: name.to_owned(),
            others: Vec::new(),
        }),
        Value::Object(map) => {
            let (chosen, path) = map
                .get_key_value(name)
                .and_then(|(k, v)| Some((k, v.as_str()?)))
                .or_else(|| map.iter().find_map(|(k, v)| Some((k, v.as_str()?))))?;
            let others = map.keys().filter(|k| *k != chosen).cloned().collect();
            Some(Bin {
                path: clean(path),
                name: chosen.clone(),
                others,
            })
        }
        _ => None,
    }
}

/// How the README runs the program: the first line of a fenced block
/// that is `NAME ARGS...` (after a `$ ` prompt or `npx `), with arguments.
pub(crate) fn documented_run(folder: &Folder<'_>, name: &str) -> Option<String> {
    let file = folder.first(&["README.md", "readme.md", "Readme.md"])?;
    let text = folder.read(file)?;
    let mut fenced = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            continue;
        }
        let command = line.trim_start_matches("$ ").trim_start_matches("npx ");
        let mut words = command.split_whitespace();
        if words.next() == Some(name) && words.next().is_some() {
            return Some(command.chars().take(120).collect());
        }
    }
    None
}

/// `./lib/x.js` as `lib/x.js`: the command runs in /app.
fn clean(path: &str) -> String {
    path.trim_start_matches("./").to_owned()
}

/// The source folders a build script reads that are not in the folder:
/// `babel src -d lib` in a published package that ships `lib/` only.
/// Only the usual names of a source folder count, as a word of the script.
pub(crate) fn missing_build_inputs(folder: &Folder<'_>, script: &str) -> Vec<String> {
    const SOURCES: &[&str] = &["src", "source", "client", "server", "app", "pages", "ts"];
    // What follows an output flag is written, not read (`-d server`).
    const OUTPUT_FLAGS: &[&str] = &[
        "-d",
        "-o",
        "--out-dir",
        "--outDir",
        "--outdir",
        "--out-file",
    ];
    let words: Vec<&str> = script.split_whitespace().collect();
    let mut missing: Vec<String> = words
        .iter()
        .enumerate()
        .filter(|(i, _)| *i == 0 || !OUTPUT_FLAGS.contains(&words[i - 1]))
        .map(|(_, w)| w.trim_start_matches("./").trim_end_matches('/'))
        .filter(|w| SOURCES.contains(w) && !folder.has(w))
        .map(str::to_owned)
        .collect();
    missing.dedup();
    missing
}

/// The root package's install scripts that run a program `--omit=dev`
/// leaves out: a dev dependency, or anything that is neither a production
/// dependency nor in every node image. Each as (script, its text, the
/// program). `npm run X`, `npm test` and `npx X` are followed.
pub(crate) fn scripts_needing_dev(package: &Value) -> Vec<(String, String, String)> {
    let scripts = &package["scripts"];
    let production = |program: &str| package["dependencies"].get(program).is_some();
    let mut found = Vec::new();
    for name in LIFECYCLE {
        let Some(text) = scripts[name].as_str() else {
            continue;
        };
        let mut programs = Vec::new();
        programs_of(scripts, text, 0, &mut programs);
        if let Some(program) = programs
            .into_iter()
            .find(|p| !SYSTEM.contains(&p.as_str()) && !production(p))
        {
            found.push(((*name).to_owned(), text.to_owned(), program));
        }
    }
    found
}

/// The programs a script runs, following `npm run`/`npm test` into the
/// scripts they name, at most four deep.
fn programs_of(scripts: &Value, text: &str, depth: usize, out: &mut Vec<String>) {
    if depth > 4 {
        return;
    }
    for command in text.split(['&', '|', ';']) {
        // `NODE_ENV=x prog`: the program is the first word without `=`.
        let mut words = command.split_whitespace().skip_while(|w| w.contains('='));
        let Some(program) = words.next() else {
            continue;
        };
        let rest: Vec<&str> = words.collect();
        let named = match (program, rest.first().copied()) {
            ("npm" | "yarn" | "pnpm", Some("run" | "run-script")) => rest.get(1).copied(),
            ("npm" | "yarn" | "pnpm", Some(s @ ("test" | "start"))) => Some(s),
            ("npx", Some(p)) => {
                out.push(p.to_owned());
                continue;
            }
            _ => None,
        };
        match named.and_then(|n| scripts[n].as_str()) {
            Some(inner) => programs_of(scripts, inner, depth + 1, out),
            None => out.push(program.to_owned()),
        }
    }
}

/// Production packages of package-lock.json that have install scripts,
/// which `--ignore-scripts` would skip too.
pub(crate) fn production_install_scripts(lock: &str) -> Vec<String> {
    let Ok(lock) = serde_json::from_str::<Value>(lock) else {
        return Vec::new();
    };
    let Some(packages) = lock["packages"].as_object() else {
        return Vec::new();
    };
    packages
        .iter()
        .filter(|(path, p)| {
            !path.is_empty()
                && p["hasInstallScript"].as_bool() == Some(true)
                && p["dev"].as_bool() != Some(true)
        })
        .map(|(path, _)| {
            path.rsplit("node_modules/")
                .next()
                .unwrap_or(path)
                .to_owned()
        })
        .collect()
}

/// The Next.js config file, and whether it asks for standalone output
/// (`output: "standalone"` on a line that is not a comment).
pub(crate) fn next_config(folder: &Folder<'_>) -> Option<(&'static str, bool)> {
    let file = folder.first(&[
        "next.config.js",
        "next.config.mjs",
        "next.config.ts",
        "next.config.cjs",
    ])?;
    let text = folder.read(file).unwrap_or_default();
    let standalone = text.lines().map(str::trim).any(|l| {
        !l.starts_with("//")
            && !l.starts_with('*')
            && l.contains("output")
            && l.contains("standalone")
    });
    Some((file, standalone))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_inputs_are_read_words_not_outputs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("lib")).unwrap();
        let folder = Folder::new(dir.path());
        assert_eq!(missing_build_inputs(&folder, "babel src -d lib"), ["src"]);
        // `server` is written by the build: nothing is missing.
        assert!(missing_build_inputs(&folder, "babel lib -d server").is_empty());
        assert!(missing_build_inputs(&folder, "tsc --outDir app").is_empty());
        assert!(missing_build_inputs(&folder, "next build").is_empty());
    }

    #[test]
    fn install_scripts_follow_npm_run_to_the_program() {
        let package: Value = serde_json::from_str(
            r#"{"scripts": {"prepare": "npm run build", "build": "NODE_ENV=x tsc"},
                "dependencies": {"patch-package": "1"}}"#,
        )
        .unwrap();
        assert_eq!(
            scripts_needing_dev(&package),
            [("prepare".into(), "npm run build".into(), "tsc".into())]
        );
        let production: Value = serde_json::from_str(
            r#"{"scripts": {"postinstall": "patch-package && node x.js"},
                "dependencies": {"patch-package": "1"}}"#,
        )
        .unwrap();
        assert!(scripts_needing_dev(&production).is_empty());
    }
}
