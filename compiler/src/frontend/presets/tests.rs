//! The built-in presets: every preset compiles cleanly for every
//! combination of its choices (flow rules, hadolint, BuildKit's parser),
//! its expansions are snapshotted, its bases are pinned and its image runs
//! as a non-root user, and its parameters are documented with defaults of
//! their type. The `presets` and `init` commands are `tests/suite/presets.rs`;
//! the template diagnostics are `tests/cases/err_template_*.kdl`.

use super::*;
use crate::driver::{self, Options};
use crate::frontend::template::Value;
use crate::plan::ir::{self as plan, Instruction};
use crate::plan::lower::Selection;
use crate::testkit;

/// Every combination of a preset's boolean and one-of parameters, as the
/// properties of a use; required parameters get a placeholder.
fn combinations(preset: &Preset) -> Vec<String> {
    let (template, _) = load(preset).expect("preset decodes");
    let mut uses = vec![String::new()];
    for param in &template.params {
        let choices: Vec<String> = match param.ty {
            ParamType::Boolean => vec!["#false".into(), "#true".into()],
            ParamType::OneOf => param.choices.iter().map(|c| format!("{c:?}")).collect(),
            _ if param.default.is_none() => vec![match param.name.value.as_str() {
                "main-class" => "\"com.example.Main\"".to_owned(),
                _ => "\"app\"".to_owned(),
            }],
            _ => continue,
        };
        uses = uses
            .iter()
            .flat_map(|u| {
                choices
                    .iter()
                    .map(move |c| format!("{u} {}={c}", param.name.value))
            })
            .collect();
    }
    uses.into_iter()
        // A cgo binary on an image without glibc is refused by design
        // (tests/cases/err_preset_cgo_static.kdl).
        .filter(|props| {
            !props.contains("cgo=#true") || props.contains("runtime=\"distroless-base\"")
        })
        .map(|props| format!("image \"app\" template=\"{}\"{props}", preset.name))
        .collect()
}

fn compile(spec_line: &str) -> (String, plan::Plan) {
    let text = format!("stowplan 1\n{spec_line}\n");
    let source = SourceFile::new("stowplan.kdl", text);
    let options = Options::default();
    let done = driver::compile(&source, &options, &driver::Target::default())
        .unwrap_or_else(|d| panic!("{spec_line}\n{}", testkit::render_all(&d)));
    assert!(
        done.warnings.is_empty(),
        "{spec_line} warns:\n{}",
        testkit::render_all(&done.warnings)
    );
    let checked = driver::check(&source, &options).expect("checked above");
    let plan = driver::plan(&source, &checked.output, &Selection::All);
    (done.output, plan)
}

/// The Dockerfile without its header, which names the spec file.
fn body(dockerfile: &str) -> &str {
    dockerfile.split_once("\n\n").map_or(dockerfile, |(_, b)| b)
}

#[test]
fn every_combination_compiles_cleanly_and_is_snapshotted() {
    for preset in PRESETS {
        let mut snapshot = String::new();
        for use_ in combinations(preset) {
            let (dockerfile, _) = compile(&use_);
            snapshot.push_str(&format!("==== {use_}\n{}\n", body(&dockerfile)));
        }
        insta::assert_snapshot!(format!("preset_{}", preset.name), snapshot);
    }
}

#[test]
fn every_combination_passes_hadolint_and_reads_back() {
    if !testkit::oracle_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut plans = Vec::new();
    for preset in PRESETS {
        for (i, use_) in combinations(preset).into_iter().enumerate() {
            let (dockerfile, plan) = compile(&use_);
            let file = dir
                .path()
                .join(format!("{}-{i:02}.Dockerfile", preset.name));
            std::fs::write(&file, dockerfile).unwrap();
            files.push(file);
            plans.push((use_, plan));
        }
    }
    for file in &files {
        let findings = testkit::hadolint(file);
        assert!(findings.trim().is_empty(), "hadolint:\n{findings}");
    }
    let parsed = testkit::parse_with_buildkit(&files);
    assert_eq!(parsed.len(), plans.len());
    for ((use_, plan), doc) in plans.iter().zip(&parsed) {
        testkit::assert_reads_back(plan, doc, use_);
    }
}

#[test]
fn presets_pin_their_bases_and_run_as_non_root() {
    for preset in PRESETS {
        for use_ in combinations(preset) {
            let (_, plan) = compile(&use_);
            for stage in &plan.stages {
                if let plan::Base::Image(image) = &stage.base {
                    let (name, tag) = image.rsplit_once(':').unwrap_or((image, ""));
                    // Distroless publishes no version tags: its name pins
                    // the Debian release (spec/presets.md).
                    let pinned = tag.chars().any(|c| c.is_ascii_digit())
                        || (name.starts_with("gcr.io/distroless/") && name.ends_with("-debian12"));
                    assert!(pinned, "{use_}: `{image}` is not pinned to a version");
                }
            }
            let image = plan.stages.last().expect("an image");
            let user = image
                .instructions
                .iter()
                .rev()
                .find_map(|i| match &i.value {
                    Instruction::User(user) => user.as_literal(),
                    _ => None,
                });
            assert!(
                user.is_some_and(|u| !u.starts_with("0") && !u.starts_with("root")),
                "{use_}: the image does not run as a non-root user ({user:?})"
            );
        }
    }
}

#[test]
fn every_preset_declares_docs_and_defaults_of_its_type() {
    for preset in PRESETS {
        let (template, _) = load(preset).expect("preset decodes");
        assert!(template.doc.is_some(), "{} has no doc", preset.name);
        for param in &template.params {
            assert!(
                param.doc.is_some(),
                "{}: parameter `{}` has no doc",
                preset.name,
                param.name.value
            );
            if let Some(default) = &param.default {
                let fits = matches!(
                    (&default.value, param.ty),
                    (Value::String(_), ParamType::String | ParamType::OneOf)
                        | (Value::Integer(_), ParamType::Integer)
                        | (Value::Boolean(_), ParamType::Boolean)
                        | (Value::List(_), ParamType::List)
                );
                assert!(fits, "{}: default of `{}`", preset.name, param.name.value);
            }
        }
    }
}

/// What real apps need besides the defaults (issue 11 §2): OS packages
/// for the builder and the runtime (apt or apk, caches mounted), more
/// install inputs, a registry secret for the install, a writable data
/// folder for the non-root user, `PORT` beside `EXPOSE` and a command-line
/// mode (`port=0`) with neither.
#[test]
fn presets_take_what_real_apps_need() {
    const APT: &str = "--mount=type=cache,target=/var/cache/apt,sharing=locked \\\n    --mount=type=cache,target=/var/lib/apt,sharing=locked \\\n    rm -f /etc/apt/apt.conf.d/docker-clean && apt-get update && apt-get install -y --no-install-recommends";
    // A use, then what its Dockerfile must hold.
    let cases: &[(&str, &[&str])] = &[
        (
            r#"image "web" template="node" build=#true packages="python3 make g++" runtime-packages="libvips42" install-inputs="patches/ packages/a/package.json" npmrc="npmrc" data="/data""#,
            &[
                &format!("FROM web-base AS web-deps\nRUN {APT} python3 make g++\n"),
                &format!("FROM web-base AS web-build\nRUN {APT} python3 make g++\n"),
                "COPY package.json package-lock.json ./\nCOPY packages/a/package.json ./packages/a/\nCOPY patches/ ./patches/\nRUN --mount=type=secret,id=npmrc,target=/root/.npmrc \\\n    --mount=type=cache,target=/root/.npm \\\n    npm ci --omit=dev",
                "RUN --mount=type=secret,id=npmrc,target=/root/.npmrc \\\n    --mount=type=cache,target=/root/.npm \\\n    npm ci --include=dev",
                &format!(
                    "FROM web-base AS web\nRUN {APT} libvips42\nRUN mkdir -p /data && chown 1000:1000 /data\n"
                ),
                // With a build, the server's own files still ship.
                "COPY . ./\nCOPY --from=web-build /app/dist/ ./dist/\n",
                "ENV PORT=3000\n",
                "EXPOSE 3000\n",
            ],
        ),
        (
            r#"image "web" template="node" manager="pnpm" npmrc="npmrc" install-inputs="pnpm-workspace.yaml""#,
            &[
                "COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./\nRUN --mount=type=secret,id=npmrc,target=/root/.npmrc",
            ],
        ),
        (
            r#"image "api" template="python" packages="build-essential libpq-dev" runtime-packages="libpq5" install-inputs="constraints.txt" pip-conf="pipconf" data="/var/lib/api""#,
            &[
                &format!("WORKDIR /build\nRUN {APT} build-essential libpq-dev\n"),
                "COPY requirements.txt constraints.txt ./\nRUN --mount=type=secret,id=pipconf,target=/etc/pip.conf \\\n",
                &format!(
                    "RUN {APT} libpq5\nRUN mkdir -p /var/lib/api && chown 10001:10001 /var/lib/api\n"
                ),
                "ENV PORT=8000\n",
            ],
        ),
        (
            r#"image "api" template="python" variant="alpine3.20" packages="gcc musl-dev" runtime-packages="libpq""#,
            &[
                "RUN --mount=type=cache,target=/etc/apk/cache,sharing=locked \\\n    apk add gcc musl-dev\n",
                "RUN --mount=type=cache,target=/etc/apk/cache,sharing=locked \\\n    apk add libpq\n",
            ],
        ),
        (
            r#"image "api" template="go" packages="libsqlite3-dev" cgo=#true runtime="distroless-base" data="/data""#,
            &[
                &format!("WORKDIR /src\nRUN {APT} libsqlite3-dev\n"),
                "RUN mkdir -p /out/data\n",
                "COPY --from=api-build --chown=65532:65532 /out/data/ /data/\n",
                "ENV PORT=8080\nLABEL",
            ],
        ),
        (
            r#"image "api" template="rust" binary="api" packages="pkg-config libssl-dev" data="/data""#,
            &[
                &format!("WORKDIR /src\nRUN {APT} pkg-config libssl-dev\n"),
                "COPY --from=api-build --chown=65532:65532 /out/data/ /data/\n",
            ],
        ),
        (
            r#"image "api" template="java" main-class="A" packages="git" runtime-packages="fontconfig" data="/data""#,
            &[
                &format!("WORKDIR /src\nRUN {APT} git\n"),
                &format!("RUN {APT} fontconfig\nRUN mkdir -p /data && chown 10001:10001 /data\n"),
            ],
        ),
    ];
    for (use_, expected) in cases {
        let (dockerfile, _) = compile(use_);
        for part in *expected {
            assert!(
                dockerfile.contains(part),
                "{use_}\nlacks\n{part}\nin\n{dockerfile}"
            );
        }
    }
    // Builder environment: in every builder stage, never in the image.
    for (use_, builders) in [
        (
            r#"image "x" template="node" build=#true build-env="CI=true NODE_OPTIONS=--max-old-space-size=4096""#,
            2,
        ),
        (
            r#"image "x" template="node" mode="static" build-env="CI=true""#,
            1,
        ),
        (r#"image "x" template="python" build-env="CI=true""#, 1),
        (r#"image "x" template="go" build-env="CI=true""#, 1),
        (
            r#"image "x" template="rust" binary="x" build-env="CI=true""#,
            1,
        ),
        (
            r#"image "x" template="java" main-class="A" build-tool="gradle" build-env="CI=true""#,
            1,
        ),
    ] {
        let (dockerfile, _) = compile(use_);
        assert_eq!(
            dockerfile.matches("\nENV CI=true\n").count(),
            builders,
            "{use_}\n{dockerfile}"
        );
        let image = dockerfile.rsplit_once("\nFROM ").unwrap().1;
        assert!(!image.contains("CI=true"), "{use_}\n{dockerfile}");
    }
    // A command-line tool: no port, so neither EXPOSE nor PORT.
    for use_ in [
        r#"image "tool" template="node" port=0 command="node cli.js""#,
        r#"image "tool" template="python" port=0"#,
        r#"image "tool" template="go" port=0"#,
        r#"image "tool" template="rust" binary="tool" port=0"#,
        r#"image "tool" template="java" main-class="A" port=0"#,
    ] {
        let (dockerfile, _) = compile(use_);
        assert!(
            !dockerfile.contains("EXPOSE") && !dockerfile.contains("PORT"),
            "{use_}\n{dockerfile}"
        );
    }
}

/// What the corpus's apps needed (issue 11): an install that skips the
/// package's lifecycle scripts (json-server's `prepublish` needs Babel, a
/// dev dependency), Next.js's standalone output on its builder's base,
/// and a static site listed file by file (one at the top of its folder).
#[test]
fn presets_skip_install_scripts_ship_next_standalone_and_list_a_site() {
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            r#"image "web" template="node" ignore-scripts=#true build=#true"#,
            &[
                "npm ci --omit=dev --ignore-scripts && mkdir -p node_modules\n",
                "npm ci --include=dev --ignore-scripts\n",
            ],
            &[],
        ),
        (
            r#"image "web" template="node" ignore-scripts=#true manager="pnpm" mode="static""#,
            &["pnpm install --frozen-lockfile --ignore-scripts --store-dir /pnpm/store\n"],
            &[],
        ),
        (
            r#"image "web" template="node" ignore-scripts=#true manager="yarn""#,
            &["yarn install --frozen-lockfile --production --ignore-scripts --cache-folder"],
            &[],
        ),
        (
            r#"image "web" template="node" build=#true"#,
            &["npm ci --omit=dev && mkdir -p node_modules\n"],
            &["--ignore-scripts"],
        ),
        (
            r#"image "web" template="node" mode="standalone" sources="app/ next.config.mjs public/""#,
            &[
                "FROM web-base AS web-build\nENV NEXT_TELEMETRY_DISABLED=1\n",
                "npm ci --include=dev\n",
                "COPY app/ ./app/\nCOPY next.config.mjs ./\nCOPY public/ ./public/\nRUN npm run build\n",
                // The builder's base: the same Node and C library.
                "FROM web-base AS web\n",
                "COPY --from=web-build /app/.next/standalone/ ./\nCOPY --from=web-build /app/.next/static/ ./.next/static/\nCOPY --from=web-build /app/public/ ./public/\nRUN mkdir -p .next/cache && chown 1000:1000 .next/cache\nUSER 1000:1000\n",
                "ENV PORT=3000\nENV HOSTNAME=0.0.0.0\n",
                "ENV NODE_ENV=production\nENV NEXT_TELEMETRY_DISABLED=1\n",
                "CMD [\"node\",\"server.js\"]",
            ],
            // No deps stage: the traced server brings what it needs.
            &["AS web-deps", "node_modules/ ./node_modules/", "nginx"],
        ),
        (
            r#"image "web" template="node" mode="standalone" public="""#,
            &["COPY --from=web-build /app/.next/static/ ./.next/static/\nRUN mkdir"],
            &["public/"],
        ),
        (
            r#"image "site" template="static" sources="index.html css/""#,
            &[
                "WORKDIR /usr/share/nginx/html\nCOPY index.html ./\nCOPY css/ ./css/\nUSER 101:101\n",
            ],
            &["public/"],
        ),
        (
            // A lone folder keeps its name too.
            r#"image "site" template="static" sources="css/""#,
            &["WORKDIR /usr/share/nginx/html\nCOPY css/ ./css/\n"],
            &["public/"],
        ),
    ];
    for (use_, present, absent) in cases {
        let (dockerfile, _) = compile(use_);
        for part in *present {
            assert!(
                dockerfile.contains(part),
                "{use_}\nlacks\n{part}\nin\n{dockerfile}"
            );
        }
        for part in *absent {
            assert!(
                !dockerfile.contains(part),
                "{use_}\nhas\n{part}\nin\n{dockerfile}"
            );
        }
    }
}

/// The Dockerfile's instructions, each with its continuation lines joined.
fn instructions(dockerfile: &str) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    let mut open = false;
    for line in dockerfile.lines() {
        match all.last_mut() {
            Some(last) if open => last.push_str(line),
            _ => all.push(line.to_owned()),
        }
        open = line.ends_with('\\');
    }
    all
}

/// Builds behind a TLS-intercepting proxy (issue 11 §1): with `ca-bundle=`,
/// every step that reaches a registry mounts the secret over the system
/// bundle, the builder stage names it in the variable its tool reads, and
/// neither the mount nor the variable reaches the image. Rust's registry
/// settings (`cargo-config=`) come the same way.
#[test]
fn presets_take_a_ca_bundle_on_every_step_that_reaches_a_registry() {
    const CA: &str = "--mount=type=secret,id=ca,target=/etc/ssl/certs/ca-certificates.crt";
    const CARGO: &str = "--mount=type=secret,id=cc,target=/usr/local/cargo/config.toml";
    // A use, the commands that reach a registry, the mounts each needs,
    // the variables its builder sets.
    type Case<'a> = (&'a str, &'a [&'a str], &'a [&'a str], &'a [&'a str]);
    let cases: &[Case] = &[
        (
            r#"image "x" template="node" build=#true ca-bundle="ca""#,
            &["npm ci --omit=dev", "npm ci --include=dev"],
            &[CA],
            &["NODE_EXTRA_CA_CERTS"],
        ),
        (
            r#"image "x" template="node" manager="pnpm" mode="static" ca-bundle="ca""#,
            &["corepack prepare", "pnpm install"],
            &[CA],
            &["NODE_EXTRA_CA_CERTS"],
        ),
        (
            r#"image "x" template="node" manager="yarn" ca-bundle="ca""#,
            &["yarn install"],
            &[CA],
            &["NODE_EXTRA_CA_CERTS"],
        ),
        (
            r#"image "x" template="python" ca-bundle="ca""#,
            &["pip --python"],
            &[CA],
            &["PIP_CERT"],
        ),
        (
            r#"image "x" template="python" manager="uv" ca-bundle="ca""#,
            &["uv sync"],
            &[CA],
            &["SSL_CERT_FILE"],
        ),
        (
            r#"image "x" template="python" manager="poetry" ca-bundle="ca""#,
            &["pip install poetry", "poetry install"],
            &[CA],
            &["PIP_CERT", "REQUESTS_CA_BUNDLE"],
        ),
        (
            r#"image "x" template="rust" binary="x" ca-bundle="ca" cargo-config="cc""#,
            &["cargo build --release --locked &&", "--locked --bin x"],
            &[CA, CARGO],
            &["CARGO_HTTP_CAINFO"],
        ),
        (
            r#"image "x" template="go" ca-bundle="ca""#,
            &["go mod download", "go build"],
            &[CA],
            &["SSL_CERT_FILE"],
        ),
    ];
    for (use_, commands, mounts, vars) in cases {
        let (dockerfile, _) = compile(use_);
        for command in *commands {
            let runs: Vec<String> = instructions(&dockerfile)
                .into_iter()
                .filter(|i| i.starts_with("RUN ") && i.contains(command))
                .collect();
            assert!(
                !runs.is_empty(),
                "{use_}: no RUN of `{command}`\n{dockerfile}"
            );
            for run in &runs {
                for mount in *mounts {
                    assert!(run.contains(mount), "{use_}: {run}\nlacks {mount}");
                }
            }
        }
        for var in *vars {
            let env = format!("\nENV {var}=/etc/ssl/certs/ca-certificates.crt\n");
            assert!(dockerfile.contains(&env), "{use_}: no {env}\n{dockerfile}");
        }
        let image = dockerfile.rsplit_once("\nFROM ").unwrap().1;
        assert!(
            !image.contains("ca-certificates.crt") && !image.contains("id=cc"),
            "{use_}: the image names the bundle\n{image}"
        );
    }
}
