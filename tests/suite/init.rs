//! `stowplan init` reads the project (issue 11 §2): versions, the entry
//! point, the framework, the port and the `.dockerignore`, one signal per
//! test, each in a folder of its own; every starter compiles as written
//! (`stowplan --deny warnings check`). What it cannot tell is a
//! `TODO(stowplan init)` comment in the spec. The lockfile cases are in
//! `presets.rs`.

use crate::common::stowplan;

/// `init --preset PRESET` in a folder `my-app` holding `files`; returns
/// the starter. The starter must compile without a warning.
fn init(preset: &str, files: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("my-app");
    std::fs::create_dir_all(&app).unwrap();
    for (path, text) in files {
        let path = app.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    init_in(preset, &app)
}

fn init_in(preset: &str, app: &std::path::Path) -> String {
    let out = stowplan(app, &["init", "--preset", preset]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let text = std::fs::read_to_string(app.join("stowplan.kdl")).unwrap();
    let checked = stowplan(app, &["--deny", "warnings", "check"]);
    assert!(
        checked.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    // Every question in the spec is said on stderr too.
    for line in text.lines() {
        if let Some(todo) = line.strip_prefix("// TODO(stowplan init): ") {
            assert!(stderr.contains(todo), "{todo} not on stderr:\n{stderr}");
        }
    }
    text
}

fn image_line(text: &str) -> &str {
    text.trim_end().lines().last().unwrap()
}

/// Asserts the image line and that each of `comments` is a line of the spec.
#[track_caller]
fn assert_starter(text: &str, image: &str, comments: &[&str]) {
    assert_eq!(image_line(text), image, "{text}");
    for comment in comments {
        assert!(
            text.lines().any(|l| l == *comment),
            "no line `{comment}` in\n{text}"
        );
    }
}

const NO_PORT: &str = "// TODO(stowplan init): which port does the app listen on?";

const GO_MAIN: &str = "package main\n\nfunc main() {}\n";

#[test]
fn go_versions_come_from_go_mod() {
    // `toolchain` names the release to build with.
    let text = init(
        "go",
        &[
            ("go.mod", "module x\n\ngo 1.22\n\ntoolchain go1.23.1\n"),
            ("main.go", GO_MAIN),
        ],
    );
    assert_starter(
        &text,
        r#"image "my-app" template="go" deps="go.mod" go="1.23.1""#,
        &[r#"// From go.mod (toolchain 1.23.1): go="1.23.1"."#],
    );
    // `go` is the oldest release that builds the module: the default
    // builds an older one, a newer one is asked for by its line.
    let text = init(
        "go",
        &[("go.mod", "module x\n\ngo 1.21.0\n"), ("main.go", GO_MAIN)],
    );
    assert_starter(
        &text,
        r#"image "my-app" template="go" deps="go.mod""#,
        &[r#"// From go.mod (go 1.21.0): the default go="1.24.4" fits."#],
    );
    let text = init(
        "go",
        &[("go.mod", "module x\n\ngo 1.26.0\n"), ("main.go", GO_MAIN)],
    );
    assert_starter(
        &text,
        r#"image "my-app" template="go" deps="go.mod" go="1.26""#,
        &[
            "// TODO(stowplan init): pin go= to a patch release of 1.26 (the tag `1.26` follows the line)",
        ],
    );
}

#[test]
fn go_main_packages_are_found_in_any_folder() {
    let text = init(
        "go",
        &[
            ("go.mod", "module x\n"),
            ("server/main.go", "// The server.\npackage main\n"),
            ("server/routes.go", "package main\n"),
            ("internal/db/db.go", "package db\n"),
            ("tools/gen/gen.go", "package main\n"),
        ],
    );
    assert_starter(
        &text,
        r#"image "my-app" template="go" deps="go.mod" package="./server""#,
        &["// From the Go files: main package ./server."],
    );
    // cmd/* first, and every other main package is named.
    let text = init(
        "go",
        &[
            ("go.mod", "module x\n"),
            ("cmd/worker/worker.go", "package main\n"),
            ("cmd/api/api.go", "package main\n"),
        ],
    );
    assert_starter(
        &text,
        r#"image "my-app" template="go" deps="go.mod" package="./cmd/api""#,
        &[
            "// TODO(stowplan init): more main packages here: ./cmd/worker; one image per package (copy the image line with package=, and name it)",
        ],
    );
}

#[test]
fn go_port_comes_from_the_main_package() {
    let text = init(
        "go",
        &[
            ("go.mod", "module x\n"),
            ("cmd/api/main.go", GO_MAIN),
            (
                "cmd/api/serve.go",
                "package main\n\nfunc serve() {\n\thttp.ListenAndServe(\":9090\", nil)\n}\n",
            ),
        ],
    );
    assert_starter(
        &text,
        r#"image "my-app" template="go" deps="go.mod" package="./cmd/api" port=9090"#,
        &[r#"// From cmd/api/serve.go: port 9090 (`http.ListenAndServe(":9090", nil)`)."#],
    );
    // Nothing says it: a question, not a silent default.
    let text = init("go", &[("go.mod", "module x\n"), ("main.go", GO_MAIN)]);
    assert!(text.contains(&format!("{NO_PORT} 8080 is a guess (the preset's default): set port= (port=0 for a command-line tool: no EXPOSE, no PORT)\n")), "{text}");
}

const LOCK: (&str, &str) = ("package-lock.json", "{}");

#[test]
fn node_versions_come_from_nvmrc_node_version_and_engines() {
    let package = r#"{"main": "server.js"}"#;
    let server = ("server.js", "app.listen(3000)\n");
    let text = init(
        "node",
        &[
            ("package.json", package),
            LOCK,
            server,
            (".nvmrc", "v20.11.1\n"),
        ],
    );
    assert!(image_line(&text).contains(r#" node="20.11.1""#), "{text}");
    let text = init(
        "node",
        &[
            ("package.json", package),
            LOCK,
            server,
            (".node-version", "18.20.4\n"),
        ],
    );
    assert!(image_line(&text).contains(r#" node="18.20.4""#), "{text}");
    // A range the default fits keeps it; one it does not, its line.
    let text = init(
        "node",
        &[
            (
                "package.json",
                r#"{"main": "server.js", "engines": {"node": ">=18"}}"#,
            ),
            LOCK,
            server,
        ],
    );
    assert!(!image_line(&text).contains(" node="), "{text}");
    assert!(
        text.contains(
            "// From package.json (engines.node >=18): the default node=\"22.16.0\" fits.\n"
        ),
        "{text}"
    );
    let text = init(
        "node",
        &[
            (
                "package.json",
                r#"{"main": "server.js", "engines": {"node": "^20.9.0"}}"#,
            ),
            LOCK,
            server,
        ],
    );
    assert!(image_line(&text).contains(r#" node="20""#), "{text}");
    assert!(
        text.contains("// TODO(stowplan init): pin node= to a patch release of 20"),
        "{text}"
    );
}

#[test]
fn node_package_manager_field_sets_the_manager_and_its_version() {
    let text = init(
        "node",
        &[
            (
                "package.json",
                r#"{"main": "server.js", "packageManager": "pnpm@9.12.3+sha512.abc"}"#,
            ),
            ("pnpm-lock.yaml", ""),
            ("server.js", "app.listen(3000)\n"),
        ],
    );
    assert_starter(
        &text,
        r#"image "my-app" template="node" manager="pnpm" pnpm="9.12.3" sources="package.json pnpm-lock.yaml server.js""#,
        &[r#"// From package.json (packageManager pnpm@9.12.3+sha512.abc): pnpm="9.12.3"."#],
    );
}

#[test]
fn node_entry_point_comes_from_start_script_or_procfile() {
    let text = init(
        "node",
        &[
            (
                "package.json",
                r#"{"scripts": {"start": "node src/app.js"}}"#,
            ),
            LOCK,
            ("src/app.js", "server.listen(process.env.PORT ?? 4000)\n"),
        ],
    );
    assert_starter(
        &text,
        r#"image "my-app" template="node" sources="package-lock.json package.json src/" command="node src/app.js" port=4000"#,
        &["// From package.json (scripts.start: node src/app.js)."],
    );
    let text = init(
        "node",
        &[
            (
                "package.json",
                r#"{"scripts": {"start": "nodemon web.js"}}"#,
            ),
            LOCK,
            ("Procfile", "web: node web.js\nworker: node worker.js\n"),
            ("web.js", "const port = process.env.PORT || 5000;\n"),
        ],
    );
    assert_starter(
        &text,
        r#"image "my-app" template="node" sources="Procfile package-lock.json package.json web.js" command="node web.js" port=5000"#,
        &[
            "// From Procfile (web: node web.js).",
            "// From web.js: port 5000 (`const port = process.env.PORT || 5000;`).",
        ],
    );
}

#[test]
fn node_vite_app_is_static() {
    let text = init(
        "node",
        &[
            (
                "package.json",
                r#"{"scripts": {"dev": "vite", "build": "vite build", "start": "vite preview"}, "devDependencies": {"vite": "^5.4.0"}}"#,
            ),
            LOCK,
            ("index.html", ""),
            ("src/main.js", ""),
        ],
    );
    assert_starter(
        &text,
        r#"image "my-app" template="node" mode="static" sources="index.html package-lock.json package.json src/""#,
        &[
            "// From package.json: a Vite app (vite and a build script): mode=\"static\", served by nginx.",
        ],
    );
    assert!(!text.contains(NO_PORT), "{text}");
}

#[test]
fn node_next_app_is_built_and_run_by_next_start() {
    let text = init(
        "node",
        &[
            (
                "package.json",
                r#"{"scripts": {"dev": "next dev", "build": "next build", "start": "next start"}, "dependencies": {"next": "15.0.0", "react": "19.0.0"}}"#,
            ),
            LOCK,
            ("app/page.js", ""),
        ],
    );
    assert_starter(
        &text,
        r#"image "my-app" template="node" build=#true output=".next" sources="app/ package-lock.json package.json" command="node_modules/.bin/next start""#,
        &[
            "// TODO(stowplan init): add `output: \"standalone\"` to next.config.js's config and set mode=\"standalone\" (with no other build=, output= or command=): the image then holds the traced server instead of every production dependency",
        ],
    );
    assert!(!text.contains(NO_PORT), "{text}");
}

#[test]
fn a_hand_written_dockerfile_expose_is_a_port_hint() {
    let text = init(
        "node",
        &[
            (
                "Dockerfile",
                "FROM node:14\nEXPOSE 7000\nCMD [\"node\", \"server.js\"]\n",
            ),
            ("package.json", r#"{"main": "server.js"}"#),
            LOCK,
            ("server.js", "const http = require('http');\n"),
        ],
    );
    assert!(image_line(&text).ends_with(" port=7000"), "{text}");
    assert!(
        text.contains("// From Dockerfile: port 7000 (`EXPOSE 7000`).\n"),
        "{text}"
    );
}

#[test]
fn python_versions_come_from_python_version_and_requires_python() {
    let files = |extra: (&'static str, &'static str)| {
        vec![
            ("requirements.txt", ""),
            ("app.py", "app.run(port=8000)\n"),
            extra,
        ]
    };
    let text = init("python", &files((".python-version", "3.11.9\n")));
    assert!(image_line(&text).contains(r#" python="3.11.9""#), "{text}");
    let text = init(
        "python",
        &files((
            "pyproject.toml",
            "[project]\nname = \"x\"\nrequires-python = \">=3.9\"\n",
        )),
    );
    assert!(!image_line(&text).contains(" python="), "{text}");
    let text = init(
        "python",
        &files((
            "pyproject.toml",
            "[project]\nrequires-python = \">=3.9,<3.12\"\n",
        )),
    );
    assert!(image_line(&text).contains(r#" python="3.11""#), "{text}");
    assert!(
        text.contains("// TODO(stowplan init): pin python= to a patch release of 3.11"),
        "{text}"
    );
}

#[test]
fn python_app_objects_are_served_by_gunicorn_or_uvicorn() {
    let text = init(
        "python",
        &[
            ("requirements.txt", "flask==3.0.3\ngunicorn==23.0.0\n"),
            (
                "web.py",
                "from flask import Flask\n\napp = Flask(__name__)\n",
            ),
        ],
    );
    assert_starter(
        &text,
        r#"image "my-app" template="python" sources="requirements.txt web.py" command="gunicorn --bind 0.0.0.0:8000 web:app""#,
        &["// From web.py: the app object web:app, served by gunicorn."],
    );
    let text = init(
        "python",
        &[
            ("requirements.txt", "fastapi\nuvicorn[standard]>=0.30\n"),
            ("api/__init__.py", ""),
            (
                "api/main.py",
                "from fastapi import FastAPI\napi = FastAPI()\n",
            ),
        ],
    );
    assert_eq!(
        image_line(&text),
        r#"image "my-app" template="python" sources="api/ requirements.txt" command="uvicorn api.main:api --host 0.0.0.0 --port 8000""#
    );
    assert!(!text.contains(NO_PORT), "{text}");
}

#[test]
fn python_django_is_served_from_its_wsgi_module() {
    let text = init(
        "python",
        &[
            ("requirements.txt", "Django>=5.0\ngunicorn\n"),
            ("manage.py", ""),
            ("mysite/__init__.py", ""),
            ("mysite/wsgi.py", "application = get_wsgi_application()\n"),
        ],
    );
    assert_starter(
        &text,
        r#"image "my-app" template="python" sources="manage.py mysite/ requirements.txt" command="gunicorn --bind 0.0.0.0:8000 mysite.wsgi:application""#,
        &["// From manage.py and mysite/wsgi.py: a Django project, served on port 8000."],
    );
}

#[test]
fn python_procfile_port_is_written_out() {
    let text = init(
        "python",
        &[
            ("requirements.txt", "gunicorn\n"),
            (
                "Procfile",
                "web: gunicorn --bind 0.0.0.0:$PORT --workers 2 app:app\n",
            ),
            ("app.py", "app = Flask(__name__)\n"),
        ],
    );
    assert_starter(
        &text,
        r#"image "my-app" template="python" sources="Procfile app.py requirements.txt" command="gunicorn --bind 0.0.0.0:8000 --workers 2 app:app""#,
        &["// The Procfile's $PORT is written out as 8000: an exec-form CMD expands no variables."],
    );
    let text = init(
        "python",
        &[
            ("requirements.txt", "uvicorn\n"),
            (
                "Procfile",
                "web: uvicorn main:app --host 0.0.0.0 --port 8080\n",
            ),
            ("main.py", "app = FastAPI()\n"),
        ],
    );
    assert!(
        image_line(&text)
            .ends_with(r#" command="uvicorn main:app --host 0.0.0.0 --port 8080" port=8080"#),
        "{text}"
    );
}

#[test]
fn python_port_comes_from_the_app() {
    let text = init(
        "python",
        &[
            ("requirements.txt", "flask\n"),
            (
                "app.py",
                "if __name__ == \"__main__\":\n    app.run(host=\"0.0.0.0\", port=5000)\n",
            ),
        ],
    );
    assert!(image_line(&text).ends_with(" port=5000"), "{text}");
}

const CARGO_LOCK: (&str, &str) = ("Cargo.lock", "version = 3\n");

#[test]
fn rust_versions_come_from_the_toolchain_file_or_rust_version() {
    let manifest = (
        "Cargo.toml",
        "[package]\nname = \"web\"\nrust-version = \"1.90\"\n",
    );
    let main = ("src/main.rs", "fn main() {}\n");
    let text = init(
        "rust",
        &[
            manifest,
            CARGO_LOCK,
            main,
            ("rust-toolchain.toml", "[toolchain]\nchannel = \"1.80.0\"\n"),
        ],
    );
    assert!(image_line(&text).contains(r#" rust="1.80.0""#), "{text}");
    let text = init(
        "rust",
        &[manifest, CARGO_LOCK, main, ("rust-toolchain", "1.81.0\n")],
    );
    assert!(image_line(&text).contains(r#" rust="1.81.0""#), "{text}");
    // The package's rust-version is the oldest release that builds it.
    let text = init("rust", &[manifest, CARGO_LOCK, main]);
    assert!(image_line(&text).contains(r#" rust="1.90""#), "{text}");
    assert!(
        text.contains("// TODO(stowplan init): pin rust= to a patch release of 1.90"),
        "{text}"
    );
}

#[test]
fn rust_binaries_come_from_bin_targets() {
    let text = init(
        "rust",
        &[
            (
                "Cargo.toml",
                "[package]\nname = \"tools\"\n\n[[bin]]\nname = \"api\"\npath = \"src/api.rs\"\n\n[[bin]]\nname = \"migrate\"\npath = \"src/migrate.rs\"\n",
            ),
            CARGO_LOCK,
            ("src/api.rs", "fn main() { let addr = \"0.0.0.0:3000\"; }\n"),
        ],
    );
    assert_starter(
        &text,
        r#"image "my-app" template="rust" binary="api" port=3000"#,
        &[
            "// From src/api.rs: port 3000 (`fn main() { let addr = \"0.0.0.0:3000\"; }`).",
            "// TODO(stowplan init): more binaries here: migrate; one image per binary (copy the image line with binary=, and name it)",
        ],
    );
    // The port of the package's own main.rs.
    let text = init(
        "rust",
        &[
            ("Cargo.toml", "[package]\nname = \"web\"\n"),
            CARGO_LOCK,
            (
                "src/main.rs",
                "let listener = TcpListener::bind(\"0.0.0.0:3000\").await?;\n",
            ),
        ],
    );
    assert_eq!(
        image_line(&text),
        r#"image "my-app" template="rust" binary="web" port=3000"#
    );
}

#[test]
fn java_release_main_class_and_port_come_from_the_project() {
    let pom = "<project>\n  <properties>\n    <maven.compiler.release>17</maven.compiler.release>\n    <start-class>com.acme.shop.ShopApplication</start-class>\n  </properties>\n</project>\n";
    let text = init(
        "java",
        &[
            ("pom.xml", pom),
            ("src/main/java/com/acme/shop/ShopApplication.java", ""),
            (
                "src/main/resources/application.properties",
                "server.port=8081\n",
            ),
        ],
    );
    assert_starter(
        &text,
        r#"image "my-app" template="java" java="17" jre="17.0.15_6" main-class="com.acme.shop.ShopApplication" port=8081"#,
        &[r#"// From pom.xml (maven.compiler.release 17): java="17", jre="17.0.15_6"."#],
    );
    assert!(!text.contains("TODO"), "{text}");
}

#[test]
fn sources_leave_out_what_the_dockerignore_leaves_out() {
    let text = init(
        "node",
        &[
            (".dockerignore", "# local only\ndocs/\n*.md\n!README.md\n"),
            ("package.json", r#"{"main": "server.js"}"#),
            LOCK,
            ("server.js", "app.listen(3000)\n"),
            ("docs/guide.txt", ""),
            ("CHANGELOG.md", ""),
            ("README.md", ""),
        ],
    );
    assert_eq!(
        image_line(&text),
        r#"image "my-app" template="node" sources="README.md package-lock.json package.json server.js""#
    );
}

/// Reads stay in the folder and small: a symlink out of it is not
/// followed, a file over 256 KiB is not read.
#[test]
fn reads_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("nvmrc"), "18.20.4\n").unwrap();
    let app = dir.path().join("my-app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("package.json"), r#"{"main": "server.js"}"#).unwrap();
    std::fs::write(app.join("package-lock.json"), "{}").unwrap();
    // The port is stated past 256 KiB of blank lines: not read.
    let mut server = "\n".repeat(300 * 1024);
    server.push_str("app.listen(4000)\n");
    std::fs::write(app.join("server.js"), server).unwrap();
    std::os::unix::fs::symlink(outside.join("nvmrc"), app.join(".nvmrc")).unwrap();
    let text = init_in("node", &app);
    assert!(!image_line(&text).contains(" node="), "{text}");
    assert!(!image_line(&text).contains(" port="), "{text}");
    assert!(text.contains(NO_PORT), "{text}");
}

/// A registry's credentials become a build secret for the install, never
/// a source; patches and a pnpm workspace file are install inputs.
#[test]
fn registry_config_is_a_secret_and_patches_are_install_inputs() {
    let text = init(
        "node",
        &[
            ("package.json", r#"{"main": "server.js"}"#),
            LOCK,
            ("server.js", "app.listen(3000)\n"),
            (".npmrc", "//npm.pkg.github.com/:_authToken=${NPM_TOKEN}\n"),
            ("patches/left-pad+1.3.0.patch", ""),
        ],
    );
    assert_starter(
        &text,
        r#"image "my-app" template="node" npmrc="npmrc" install-inputs="patches/" sources="package-lock.json package.json patches/ server.js""#,
        &[
            "// From .npmrc: mounted as the build secret `npmrc` for the install, never copied (build with `docker build --secret id=npmrc,src=.npmrc`).",
        ],
    );
    let text = init(
        "python",
        &[
            ("requirements.txt", ""),
            (
                "pip.conf",
                "[global]\nindex-url = https://user:secret@pypi.example.com/simple\n",
            ),
            ("app.py", "app.run(port=8000)\n"),
        ],
    );
    assert_eq!(
        image_line(&text),
        r#"image "my-app" template="python" pip-conf="pip-conf" sources="app.py requirements.txt""#
    );
}

/// A Dockerfile stowplan generated says what a spec said, not what the
/// app does: its EXPOSE is no hint.
#[test]
fn a_generated_dockerfile_is_no_port_hint() {
    let text = init(
        "node",
        &[
            (
                "Dockerfile",
                "# Generated by stowplan 0.1.0 from \"old.kdl\". Do not edit by hand:\n# change the spec and run `stowplan write`.\n\nFROM node:22.16.0-bookworm-slim\nEXPOSE 7000\n",
            ),
            ("package.json", r#"{"main": "server.js"}"#),
            LOCK,
            ("server.js", "const http = require('http');\n"),
        ],
    );
    assert!(!image_line(&text).contains(" port="), "{text}");
    assert!(text.contains(NO_PORT), "{text}");
}
