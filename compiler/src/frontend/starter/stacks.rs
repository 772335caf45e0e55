//! What `stowplan init` reads for each preset: the files a stack keeps
//! its versions, entry point, framework and port in, through the bounded
//! [`Folder`]; what the files do not say becomes a question.

use crate::frontend::starter::npm;
use crate::frontend::starter::scan::{self, Want};
use crate::frontend::starter::{Arg, Draft, Folder, string};

pub(crate) fn go(folder: &Folder<'_>, d: &mut Draft) {
    match (folder.has("go.mod"), folder.has("go.sum")) {
        (true, true) => {}
        (true, false) => d.set("deps", string("go.mod")),
        (false, _) => {
            d.set("deps", string(""));
            d.todo("no go.mod here: run `go mod init` (the build runs `go build` on the folder)");
        }
    }
    if let Some((v, directive)) = folder.read("go.mod").as_deref().and_then(scan::go_mod) {
        // `toolchain` names the release to build with; `go` the oldest
        // that builds the module.
        let want = match directive {
            "toolchain" if v.len() == 3 => Want::Exact(v.clone()),
            _ => Want::Range(vec![(scan::Cmp::Ge, v.clone())]),
        };
        d.version(
            "go",
            &[want],
            &format!("go.mod ({directive} {})", scan::dotted(&v)),
            2,
        );
    }
    // The main packages: the folder itself, cmd/*, then any other folder.
    let is_main = |dir: &str| {
        let main_go = if dir.is_empty() {
            "main.go".to_owned()
        } else {
            format!("{dir}/main.go")
        };
        folder.has(&main_go)
            || folder
                .entries(dir)
                .iter()
                .filter(|f| f.ends_with(".go") && !f.ends_with("_test.go"))
                .take(8)
                .any(|f| {
                    let path = if dir.is_empty() {
                        f.clone()
                    } else {
                        format!("{dir}/{f}")
                    };
                    folder.read(&path).is_some_and(|text| {
                        text.lines()
                            .map(str::trim)
                            .find(|l| l.starts_with("package "))
                            == Some("package main")
                    })
                })
    };
    let mut mains: Vec<String> = Vec::new();
    if is_main("") {
        mains.push(".".into());
    }
    let cmd: Vec<String> = folder
        .entries("cmd")
        .into_iter()
        .filter(|e| e.ends_with('/'))
        .collect();
    for sub in cmd.iter().take(50) {
        let dir = format!("cmd/{}", sub.trim_end_matches('/'));
        if is_main(&dir) {
            mains.push(format!("./{dir}"));
        }
    }
    for top in folder.entries("").into_iter().take(50) {
        let name = top.trim_end_matches('/');
        if top.ends_with('/')
            && !["cmd", "vendor", "testdata", "node_modules"].contains(&name)
            && !name.starts_with('.')
            && is_main(name)
        {
            mains.push(format!("./{name}"));
        }
    }
    match mains.first() {
        Some(main) => {
            if main != "." {
                d.set("package", string(main));
            }
            d.found(format!("the Go files: main package {main}"));
            if mains.len() > 1 {
                d.todo(format!(
                    "more main packages here: {}; one image per package (copy the image line with package=, and name it)",
                    mains[1..].join(", ")
                ));
            }
            let dir = main.trim_start_matches("./").trim_start_matches('.');
            let files: Vec<String> = folder
                .entries(dir)
                .into_iter()
                .filter(|f| f.ends_with(".go") && !f.ends_with("_test.go"))
                .map(|f| {
                    if dir.is_empty() {
                        f
                    } else {
                        format!("{dir}/{f}")
                    }
                })
                .collect();
            let found = folder.port_in(&files);
            d.port(found);
        }
        None => {
            d.todo(
                "no main package here, in cmd/*/ or in a folder: set package= to the main package",
            );
            d.port(folder.port_in(&[]));
        }
    }
}

/// package.json's dependencies and devDependencies have `name`.
fn npm_depends(package: &serde_json::Value, name: &str) -> bool {
    ["dependencies", "devDependencies"]
        .iter()
        .any(|key| package[key].get(name).is_some())
}

pub(crate) fn node(folder: &Folder<'_>, output_file: &str, d: &mut Draft) {
    let package: Option<serde_json::Value> = folder
        .read("package.json")
        .and_then(|text| serde_json::from_str(&text).ok());
    let declared = package
        .as_ref()
        .and_then(|p| p["packageManager"].as_str())
        .map(str::to_owned);
    match folder.first(&["pnpm-lock.yaml", "yarn.lock", "package-lock.json"]) {
        Some("pnpm-lock.yaml") => d.set("manager", string("pnpm")),
        Some("yarn.lock") => d.set("manager", string("yarn")),
        Some(_) => {}
        None => {
            let manager = declared
                .as_deref()
                .and_then(|m| m.split('@').next())
                .unwrap_or("npm");
            if manager == "pnpm" || manager == "yarn" {
                d.set("manager", string(manager));
            }
            let install = match manager {
                "pnpm" => "`pnpm install` to write pnpm-lock.yaml",
                "yarn" => "`yarn install` to write yarn.lock",
                _ => "`npm install` to write package-lock.json",
            };
            d.todo(format!(
                "no lockfile here: run {install} (the build installs exactly what it says)"
            ));
        }
    }
    if let Some(declared) = &declared {
        let (manager, version) = declared.split_once('@').unwrap_or((declared, ""));
        let version = version.split('+').next().unwrap_or_default();
        match (manager, scan::version(version)) {
            ("pnpm", Some(v)) if v.len() == 3 => {
                if scan::dotted(&v) != d.default_string("pnpm") {
                    d.set("pnpm", string(scan::dotted(&v)));
                }
                d.found(format!("package.json (packageManager {declared}): pnpm=\"{}\"", scan::dotted(&v)));
            }
            ("yarn", Some(v)) if v[0] >= 2 => d.todo(format!(
                "package.json says {declared}: the preset installs with the image's Yarn 1 (`--frozen-lockfile`); Yarn 2 and later need a template of your own"
            )),
            _ => {}
        }
    }
    // The Node version: a version file, else package.json's engines.
    if let Some(file) = folder.first(&[".nvmrc", ".node-version"]) {
        match folder.read(file).as_deref().and_then(scan::version_file) {
            Some(want) => d.version("node", &[want], file, 1),
            None => d.found(format!(
                "{file}: no release number (the default node=\"{}\" stays)",
                d.default_string("node")
            )),
        }
    } else if let Some(engines) = package.as_ref().and_then(|p| p["engines"]["node"].as_str()) {
        let wants = scan::ranges(engines);
        if !wants.is_empty() {
            d.version(
                "node",
                &wants,
                &format!("package.json (engines.node {engines})"),
                1,
            );
        }
    }
    // What the install reads besides package.json and the lockfile.
    if folder.has(".npmrc") {
        d.set("npmrc", string("npmrc"));
        d.found(".npmrc: mounted as the build secret `npmrc` for the install, never copied (build with `docker build --secret id=npmrc,src=.npmrc`)");
    }
    let mut install_inputs: Vec<&str> = Vec::new();
    if folder.has("pnpm-workspace.yaml") {
        install_inputs.push("pnpm-workspace.yaml");
        d.todo("a pnpm workspace: add each workspace package's package.json to install-inputs=");
    }
    if folder.is_dir("patches") {
        install_inputs.push("patches/");
    }
    if !install_inputs.is_empty() {
        let list = install_inputs.join(" ");
        d.set("install-inputs", string(&list));
        d.found(format!(
            "the folder: install-inputs=\"{list}\" (read by the install)"
        ));
    }
    let Some(package) = package else {
        d.todo("no package.json here");
        d.port(None);
        return;
    };
    let scripts = &package["scripts"];
    // Install scripts that need what `--omit=dev` leaves out fail the
    // install: skip them (json-server's `prepare: husky install`).
    if let Some((script, text, program)) = npm::scripts_needing_dev(&package).into_iter().next() {
        d.set("ignore-scripts", Arg::Bool(true));
        d.found(format!(
            "package.json (scripts.{script}: {text}): the install would run `{program}`, which is not a production dependency: ignore-scripts=#true"
        ));
        let skipped = folder
            .read("package-lock.json")
            .map(|lock| npm::production_install_scripts(&lock))
            .unwrap_or_default();
        if !skipped.is_empty() {
            d.todo(format!(
                "--ignore-scripts also skips the install scripts of {}: check that they work without (or build them in a stage of your own)",
                skipped.join(", ")
            ));
        }
    }
    let mut builds = scripts["build"].is_string();
    if let Some(build) = scripts["build"].as_str() {
        let missing = npm::missing_build_inputs(folder, build);
        if !missing.is_empty() {
            builds = false;
            d.found(format!(
                "package.json (scripts.build: {build}): {} not here, the package ships what it builds: no build",
                missing.join(", ")
            ));
        }
    }
    let start = scripts["start"].as_str();
    let main = package["main"].as_str();
    let output_of =
        |default: &'static str| folder.first(&["dist", "build", "out"]).unwrap_or(default);

    // A Vite app builds to static files: the node preset's static mode.
    let vite =
        npm_depends(&package, "vite") && builds && start.is_none_or(|s| s.starts_with("vite"));
    if vite || (builds && main.is_none() && start.is_none()) {
        d.set("mode", string("static"));
        let output = if vite { "dist" } else { output_of("dist") };
        if output != "dist" {
            d.set("output", string(output));
        }
        d.set("sources", string(folder.app_paths(&[output, output_file])));
        if vite {
            d.found("package.json: a Vite app (vite and a build script): mode=\"static\", served by nginx");
        }
        if !folder.has(output) && !vite {
            d.todo(format!(
                "check output=: the folder `npm run build` writes (`{output}` does not exist yet)"
            ));
        }
        return;
    }
    // Next.js: standalone output when next.config asks for it, else
    // built and run by `next start`.
    if npm_depends(&package, "next") {
        let config = npm::next_config(folder);
        if let Some((file, true)) = config {
            d.set("mode", string("standalone"));
            if !folder.is_dir("public") {
                d.set("public", string(""));
            }
            d.set("sources", string(folder.app_paths(&[".next", output_file])));
            d.found(format!("package.json and {file}: a Next.js app with standalone output: mode=\"standalone\", run by .next/standalone/server.js"));
        } else {
            d.set("build", Arg::Bool(true));
            d.set("output", string(".next"));
            d.set("sources", string(folder.app_paths(&[".next", output_file])));
            d.set("command", string("node_modules/.bin/next start"));
            d.found("package.json: a Next.js app (next): build=#true, output=\".next\", run by `next start`");
            let file = config.map_or("next.config.js", |(f, _)| f);
            d.todo(format!(
                "add `output: \"standalone\"` to {file}'s config and set mode=\"standalone\" (with no other build=, output= or command=): the image then holds the traced server instead of every production dependency"
            ));
        }
        d.found("Next.js: port 3000 (its default; its server reads PORT)".to_owned());
        return;
    }
    if builds {
        d.set("build", Arg::Bool(true));
        let output = output_of("dist");
        if output != "dist" {
            d.set("output", string(output));
        }
        d.set("sources", string(folder.app_paths(&[output, output_file])));
    } else {
        d.set("sources", string(folder.app_paths(&[output_file])));
    }
    // The entry point: a Procfile's web process, the start script, main.
    let procfile = folder
        .read("Procfile")
        .as_deref()
        .and_then(scan::procfile_web);
    let mut entry: Option<String> = None;
    // `node FILE ...` in plain words (a variable would stay unexpanded).
    let node_command = |c: &str| {
        scan::plain_command(c, 0).filter(|plain| plain.starts_with("node ") && !c.contains('$'))
    };
    if let Some(command) = procfile.as_deref().and_then(node_command) {
        d.found(format!("Procfile (web: {command})"));
        entry = command.split_whitespace().nth(1).map(str::to_owned);
        if command != d.default_string("command") {
            d.set("command", string(&command));
        }
    } else if let Some(command) = start.and_then(node_command) {
        d.found(format!("package.json (scripts.start: {command})"));
        entry = command.split_whitespace().nth(1).map(str::to_owned);
        if command != "node server.js" {
            d.set("command", string(&command));
        }
    } else if let Some(bin) = npm::bin(&package) {
        // The program the package installs, not its library entry (`main`).
        d.found(format!("package.json (bin: {})", bin.path));
        entry = Some(bin.path.clone());
        d.set("command", string(format!("node {}", bin.path)));
        if !bin.others.is_empty() {
            d.todo(format!(
                "package.json names more programs in `bin` ({}): check command=",
                bin.others.join(", ")
            ));
        }
        // A program's arguments (a file to serve, an address) are the
        // user's to choose; the README's example is a hint, not an answer.
        let example = npm::documented_run(folder, &bin.name)
            .map(|run| format!("; its README runs `{run}`"))
            .unwrap_or_default();
        d.todo(format!(
            "command= runs the package's program `{}` without arguments{example}: add what it needs to serve (a file it reads or writes, in a folder its user can write: data=; a host of 0.0.0.0)",
            bin.path
        ));
    } else if let Some(main) = main {
        d.found(format!("package.json (main: {main})"));
        entry = Some(main.to_owned());
        if main != "server.js" {
            d.set("command", string(format!("node {main}")));
        }
        if let Some(start) = start {
            d.todo(format!(
                "scripts.start runs `{start}`; the image runs `node {main}`: check command="
            ));
        }
    } else if folder.has("server.js") {
        entry = Some("server.js".into());
    } else {
        match start {
            Some(start) => d.todo(format!(
                "scripts.start runs `{start}`, which is not a plain `node FILE`: set command= to what starts the server in production"
            )),
            None => d.todo("package.json names no `main` and no start script: set command= to what starts the server"),
        }
    }
    let mut files: Vec<String> = entry.into_iter().collect();
    files.extend(
        [
            "Procfile",
            "server.js",
            "index.js",
            "app.js",
            "main.js",
            "server.mjs",
            "index.mjs",
            "src/server.js",
            "src/index.js",
            "src/main.js",
            "src/server.ts",
            "src/index.ts",
            "src/main.ts",
        ]
        .map(str::to_owned),
    );
    files.dedup();
    d.port(folder.port_in(&files));
}

/// Python modules `init` looks into for an app object: the top-level
/// `.py` files, and a package's `__init__.py`, `main.py`, `app.py`,
/// `asgi.py` or `wsgi.py` one level down; as (module, file).
fn python_modules(folder: &Folder<'_>) -> Vec<(String, String)> {
    let mut modules = Vec::new();
    for entry in folder.entries("").into_iter().take(100) {
        if let Some(stem) = entry.strip_suffix(".py") {
            if stem != "manage" && stem != "setup" && !stem.starts_with("test") {
                modules.push((stem.to_owned(), entry.clone()));
            }
        } else if let Some(dir) = entry.strip_suffix('/') {
            if dir.starts_with('.')
                || ["venv", "node_modules", "tests", "__pycache__"].contains(&dir)
            {
                continue;
            }
            for (file, module) in [
                ("__init__.py", dir.to_owned()),
                ("main.py", format!("{dir}.main")),
                ("app.py", format!("{dir}.app")),
                ("asgi.py", format!("{dir}.asgi")),
            ] {
                modules.push((module, format!("{dir}/{file}")));
            }
        }
    }
    modules.retain(|(module, _)| {
        module
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    });
    modules.truncate(60);
    modules
}

pub(crate) fn python(folder: &Folder<'_>, output_file: &str, d: &mut Draft) {
    match folder.first(&["uv.lock", "poetry.lock", "requirements.txt"]) {
        Some("uv.lock") => d.set("manager", string("uv")),
        Some("poetry.lock") => d.set("manager", string("poetry")),
        Some(_) => {}
        None => d.todo(
            "no requirements.txt, uv.lock or poetry.lock here: the build needs one (pip freeze > requirements.txt)",
        ),
    }
    let pyproject = folder.read("pyproject.toml").unwrap_or_default();
    if folder.has("pip.conf") && folder.first(&["uv.lock", "poetry.lock"]).is_none() {
        d.set("pip-conf", string("pip-conf"));
        d.found("pip.conf: mounted as the build secret `pip-conf` for pip, never copied (build with `docker build --secret id=pip-conf,src=pip.conf`)");
    }
    // The Python version: .python-version, else requires-python.
    if let Some(want) = folder
        .read(".python-version")
        .as_deref()
        .and_then(scan::version_file)
    {
        d.version("python", &[want], ".python-version", 2);
    } else if let Some((spec, key)) = scan::toml_value(&pyproject, "project", "requires-python")
        .map(|s| (s, "requires-python"))
        .or_else(|| {
            scan::toml_value(&pyproject, "tool.poetry.dependencies", "python")
                .map(|s| (s, "python"))
        })
    {
        let wants = scan::ranges(&spec);
        if !wants.is_empty() {
            d.version(
                "python",
                &wants,
                &format!("pyproject.toml ({key} {spec})"),
                2,
            );
        }
    }
    d.set("sources", string(folder.app_paths(&[output_file])));
    let requirements = format!(
        "{}\n{pyproject}",
        folder.read("requirements.txt").unwrap_or_default()
    );
    let gunicorn = scan::depends_on(&requirements, "gunicorn");
    let uvicorn = scan::depends_on(&requirements, "uvicorn");
    let default_port = d.default_port();

    // 1. A Procfile's web process, in plain words.
    if let Some(web) = folder
        .read("Procfile")
        .as_deref()
        .and_then(scan::procfile_web)
    {
        let stated = scan::port(&web).map(|(p, _)| p);
        let port = stated.unwrap_or(default_port);
        if let Some(command) = scan::plain_command(&web, port) {
            d.set("command", string(&command));
            d.found(format!("Procfile (web: {web})"));
            if web.contains("$PORT") || web.contains("${PORT}") {
                d.comments.push(format!(
                    "The Procfile's $PORT is written out as {port}: an exec-form CMD expands no variables."
                ));
            }
            match stated {
                Some(p) => d.port(Some((p, "Procfile".into(), web.clone()))),
                None if web.contains("PORT") => {
                    d.port(Some((port, "Procfile".into(), web.clone())))
                }
                None => d.port(None),
            }
            return;
        }
        d.todo(format!(
            "the Procfile's web process `{web}` uses the shell: set command= to its plain words"
        ));
    }
    // 2. Django: manage.py and a project's wsgi.py (or asgi.py).
    if folder.has("manage.py") {
        let project = folder
            .entries("")
            .into_iter()
            .filter_map(|e| e.strip_suffix('/').map(str::to_owned))
            .find(|dir| folder.has(&format!("{dir}/wsgi.py")));
        if let Some(project) = project {
            let port = default_port;
            let command = if uvicorn && !gunicorn && folder.has(&format!("{project}/asgi.py")) {
                format!("uvicorn {project}.asgi:application --host 0.0.0.0 --port {port}")
            } else {
                format!("gunicorn --bind 0.0.0.0:{port} {project}.wsgi:application")
            };
            d.set("command", string(&command));
            d.found(format!(
                "manage.py and {project}/wsgi.py: a Django project, served on port {port}"
            ));
            if !gunicorn && !uvicorn {
                d.todo("add gunicorn to the requirements: the image serves Django with it (runserver is for development)");
            }
            return;
        }
    }
    // 3. An app object, served by uvicorn (ASGI) or gunicorn (WSGI).
    let app = python_modules(folder)
        .into_iter()
        .find_map(|(module, file)| {
            let text = folder.read(&file)?;
            scan::app_object(&text).map(|(name, asgi)| (module, file, name, asgi, text))
        });
    if let Some((module, file, name, asgi, text)) = &app {
        let target = format!("{module}:{name}");
        let port = default_port;
        let command = if *asgi && uvicorn {
            Some(format!("uvicorn {target} --host 0.0.0.0 --port {port}"))
        } else if *asgi && gunicorn {
            Some(format!(
                "gunicorn --worker-class uvicorn.workers.UvicornWorker --bind 0.0.0.0:{port} {target}"
            ))
        } else if !*asgi && gunicorn {
            Some(format!("gunicorn --bind 0.0.0.0:{port} {target}"))
        } else {
            None
        };
        if let Some(command) = command {
            d.set("command", string(&command));
            d.found(format!(
                "{file}: the app object {target}, served by {}",
                command.split(' ').next().unwrap_or_default()
            ));
            return;
        }
        d.found(format!("{file}: the app object {target}"));
        let server = if *asgi { "uvicorn" } else { "gunicorn" };
        d.todo(format!("no {server} in the requirements: add it to serve {target} in production, and set command="));
        if file != "app.py" {
            d.set("command", string(format!("python {file}")));
        }
        let port = scan::port(text).map(|(p, w)| (p, file.clone(), w));
        d.port(port.or_else(|| folder.port_in(&[])));
        return;
    }
    // 4. A script.
    match folder.first(&["app.py", "main.py"]) {
        Some(main) => {
            if main != "app.py" {
                d.set("command", string(format!("python {main}")));
            }
            d.port(folder.port_in(&[main.to_owned()]));
        }
        None => {
            d.todo("no app.py or main.py here: set command= to what starts the app");
            d.port(folder.port_in(&[]));
        }
    }
}

pub(crate) fn rust(folder: &Folder<'_>, d: &mut Draft) {
    let manifest = folder.read("Cargo.toml").unwrap_or_default();
    let package = scan::toml_value(&manifest, "package", "name");
    // (name, main file): the package's own, `[[bin]]`s, `src/bin/*.rs`.
    let mut bins: Vec<(String, String)> = Vec::new();
    if folder.has("src/main.rs")
        && let Some(name) = &package
    {
        bins.push((name.clone(), "src/main.rs".into()));
    }
    bins.extend(scan::cargo_bins(&manifest));
    bins.extend(folder.entries("src/bin").into_iter().filter_map(|f| {
        let name = f.strip_suffix(".rs")?.to_owned();
        Some((name, format!("src/bin/{f}")))
    }));
    let mut seen = std::collections::BTreeSet::new();
    bins.retain(|(name, _)| seen.insert(name.clone()));
    let names: Vec<String> = bins.iter().map(|(n, _)| n.clone()).collect();
    let binary = names.first().cloned().or(package.clone());
    match &binary {
        Some(name) => {
            d.set("binary", string(name));
            d.found(format!("Cargo.toml: binary {name}"));
            if names.len() > 1 {
                d.todo(format!(
                    "more binaries here: {}; one image per binary (copy the image line with binary=, and name it)",
                    names[1..].join(", ")
                ));
            }
        }
        None => {
            d.set("binary", string("app"));
            if manifest.contains("[workspace]") {
                d.todo("a Cargo workspace: the rust preset builds one package; set binary=, or start a template from `stowplan presets show rust`");
            } else {
                d.todo("no package name in Cargo.toml: check binary=");
            }
        }
    }
    if !folder.has("Cargo.lock") {
        d.todo("no Cargo.lock here: run `cargo generate-lockfile` (the build uses --locked)");
    }
    // The toolchain: rust-toolchain(.toml), else the package's rust-version.
    let toolchain = folder
        .read("rust-toolchain.toml")
        .and_then(|t| scan::toml_value(&t, "toolchain", "channel"))
        .map(|c| (c, "rust-toolchain.toml"))
        .or_else(|| {
            folder.read("rust-toolchain").map(|t| {
                (
                    t.lines().next().unwrap_or_default().trim().to_owned(),
                    "rust-toolchain",
                )
            })
        });
    if let Some((channel, file)) = toolchain {
        match scan::version_file(&channel) {
            Some(want) => d.version("rust", &[want], &format!("{file} ({channel})"), 2),
            None if channel.starts_with("stable") => d.found(format!(
                "{file}: stable (the default rust=\"{}\")",
                d.default_string("rust")
            )),
            None => d.todo(format!(
                "{file} asks for `{channel}`: the rust image is a stable release; set rust="
            )),
        }
    } else if let Some(msrv) = scan::toml_value(&manifest, "package", "rust-version")
        && let Some(v) = scan::version(&msrv)
    {
        d.version(
            "rust",
            &[Want::Range(vec![(scan::Cmp::Ge, v)])],
            &format!("Cargo.toml (rust-version {msrv})"),
            2,
        );
    }
    let files: Vec<String> = match bins.first() {
        Some((_, main)) => vec![main.clone()],
        None => vec!["src/main.rs".to_owned()],
    };
    d.port(folder.port_in(&files));
}

/// The Eclipse Temurin JRE releases the java preset knows a tag of, by
/// feature release (reviewed with the defaults, spec/presets.md).
const JRES: &[(u64, &str)] = &[
    (8, "8u452-b09"),
    (11, "11.0.27_6"),
    (17, "17.0.15_6"),
    (21, "21.0.7_6"),
];

pub(crate) fn java(folder: &Folder<'_>, d: &mut Draft) {
    let pom = folder.read("pom.xml");
    let gradle = folder.first(&["build.gradle", "build.gradle.kts"]);
    if pom.is_none() && gradle.is_some() {
        d.set("build-tool", string("gradle"));
    } else if pom.is_none() && !folder.has("pom.xml") {
        d.todo("no pom.xml or build.gradle here");
    }
    let release = match (&pom, gradle) {
        (Some(pom), _) => {
            scan::pom_release(pom).map(|(r, tag)| (r, format!("pom.xml ({tag} {r})")))
        }
        (None, Some(file)) => folder
            .read(file)
            .as_deref()
            .and_then(scan::gradle_release)
            .map(|r| (r, format!("{file} (Java {r})"))),
        _ => None,
    };
    if let Some((release, source)) = release {
        let default = d.default_string("java");
        if release.to_string() == default {
            d.found(format!("{source}: the default java=\"{default}\" fits"));
        } else {
            d.set("java", string(release.to_string()));
            match JRES.iter().find(|(r, _)| *r == release) {
                Some((_, jre)) => {
                    d.set("jre", string(*jre));
                    d.found(format!("{source}: java=\"{release}\", jre=\"{jre}\""));
                }
                None => {
                    d.found(format!("{source}: java=\"{release}\""));
                    d.todo(format!("set jre= to an eclipse-temurin JRE {release} release (the tag VERSION-jre-jammy)"));
                }
            }
        }
    }
    let main_class = pom.as_deref().and_then(|pom| {
        ["start-class", "mainClass"]
            .iter()
            .find_map(|tag| scan::xml_element(pom, tag))
    });
    match main_class {
        Some(class) => {
            d.set("main-class", string(&class));
            d.found(format!("pom.xml: main class {class}"));
        }
        None => {
            d.set("main-class", string("com.example.Main"));
            d.todo("set main-class= to the class whose main() starts the app");
        }
    }
    let files = [
        "src/main/resources/application.properties",
        "src/main/resources/application.yml",
        "src/main/resources/application.yaml",
    ]
    .map(str::to_owned);
    d.port(folder.port_in(&files));
}

/// What a site at the top of the folder does not serve: the project's own
/// files (besides those every spec leaves out, see `Folder::app_paths`).
const NOT_SITE: &[&str] = &[
    "package.json",
    "package-lock.json",
    "pnpm-lock.yaml",
    "yarn.lock",
    "stowplan.lock",
    "stowplan.policy.kdl",
    "Procfile",
    "fly.toml",
    "docker-compose.yml",
    "compose.yaml",
];

pub(crate) fn static_site(folder: &Folder<'_>, output_file: &str, d: &mut Draft) {
    match folder.first(&["public", "dist", "site", "_site", "build", "www"]) {
        Some("public") => {}
        Some(dir) => d.set("dir", string(format!("{dir}/"))),
        // A site at the top of the folder: its files, listed, so that the
        // spec, the Dockerfile and the project's papers are not served.
        None if folder.has("index.html") => {
            let mut skip: Vec<&str> = NOT_SITE.to_vec();
            skip.push(output_file);
            let all = folder.app_paths(&skip);
            let paths: Vec<&str> = all
                .split_whitespace()
                .filter(|p| {
                    let upper = p.to_ascii_uppercase();
                    !(p.starts_with('.')
                        || [
                            "README",
                            "LICENSE",
                            "LICENCE",
                            "NOTICE",
                            "CHANGELOG",
                            "DOCKERFILE",
                            "CONTAINERFILE",
                        ]
                        .iter()
                        .any(|n| upper.starts_with(n)))
                })
                .collect();
            d.set("sources", string(paths.join(" ")));
            d.found("index.html: the site is the folder itself: sources= lists its files and folders, without the spec, Dockerfiles, package files, dotfiles, README, LICENSE and NOTICE");
        }
        None => d.todo("no public/, dist/ or site/ here: set dir= to the folder to serve"),
    }
    if folder.is_dir("public") && folder.ignore.excludes("public") {
        d.todo("the .dockerignore leaves public/ out of the build context: the image would have nothing to serve");
    }
}
