//! Snapshots of the phases' intermediate forms for a few cases: the AST
//! after templates are expanded, and the plan the emitters walk. A change
//! in a phase shows here before it shows in any Dockerfile.

use std::path::Path;

use crate::base::source::SourceFile;
use crate::frontend::{decode, expand};
use crate::testkit::root;

fn case(name: &str) -> (SourceFile, std::path::PathBuf) {
    let path = root().join("tests/cases").join(name);
    let text = std::fs::read_to_string(&path).expect("the case exists");
    (SourceFile::new(name, text), path)
}

#[test]
fn expanded_ast() {
    for name in ["template_platform.kdl", "preset_go_cgo.kdl"] {
        let (source, path) = case(name);
        let (ast, d) = decode::decode(source.text());
        assert!(!d.has_errors(), "{name} decodes");
        let dir = path.parent().map(Path::to_path_buf);
        let options = expand::ExpandOptions {
            dir: dir.as_deref(),
        };
        let (expanded, _, d) = expand::expand(ast, &options);
        assert!(!d.has_errors(), "{name} expands");
        insta::assert_debug_snapshot!(format!("expanded_ast@{name}"), expanded.stages);
    }
}

#[test]
fn plans() {
    for name in [
        "go_api.kdl",
        "every_instruction.kdl",
        "template_platform.kdl",
    ] {
        let (source, _) = case(name);
        let options = crate::Options::default();
        let checked = crate::driver::check(&source, &options).expect("the case checks");
        let planned = crate::driver::plan_with(
            &source,
            &checked.output,
            &crate::middle::select::Selection::All,
            &options,
        );
        insta::assert_json_snapshot!(format!("plan@{name}"), planned.plan);
    }
}

/// The generated `.dockerignore` keeps exactly what the spec reads, as the
/// builders' matcher (the cache model's) reads it, and the spec's own
/// `flow::ignored` check finds nothing it drops.
#[test]
fn generated_dockerignore_keeps_exactly_what_is_read() {
    let (source, path) = case("dockerignore_output.kdl");
    let context = path.with_extension("context");
    let options = crate::driver::Options {
        context: Some(context.clone()),
        ..Default::default()
    };
    let rendered = crate::driver::validate(&source, &options).expect("the case compiles");
    let text = |name: &str| {
        rendered
            .output
            .iter()
            .find(|o| o.path == name)
            .map(|o| o.text.clone())
            .expect("the output is declared")
    };
    let all = crate::cache::Ignore::parse(&text(".dockerignore"));
    let web = crate::cache::Ignore::parse(&text("web.Dockerfile.dockerignore"));
    for kept in [
        "go.mod",
        "cmd/api/main.go",
        "internal/x.go",
        "configs/build.env",
        "web/public/index.html",
        "web/nginx/default.conf",
    ] {
        assert!(!all.excludes(kept), "{kept} left out");
    }
    for dropped in [
        "README.md",
        "cmd/tool/main.go",
        "configs/prod.env",
        "web/nginx/other.conf",
        ".git/HEAD",
        "dockerignore_output.kdl",
    ] {
        assert!(all.excludes(dropped), "{dropped} sent");
    }
    assert!(!web.excludes("web/public/index.html"));
    assert!(web.excludes("cmd/api/main.go") && web.excludes("go.mod"));

    let (ast, _) = decode::decode(source.text());
    let (ast, _, _) = expand::expand(ast, &Default::default());
    let (spec, _) = crate::middle::resolve::resolve(ast);
    let file = crate::middle::ignored::IgnoreFile::parse(&text(".dockerignore"));
    let mut d = crate::base::diagnostic::Diagnostics::default();
    let spec = spec.expect("resolves");
    let all = crate::middle::select::needed_stages(&spec, &Default::default());
    crate::middle::ignored::check_build(&spec, ".", &all, &file, ".dockerignore", &mut d);
    assert!(
        d.into_sorted().is_empty(),
        "the generated file drops what the spec reads"
    );
}

/// Paths that start with `!` or `#` mean themselves in the generated file,
/// as the builders' matcher reads it; a backslash cannot be written.
#[test]
fn generated_dockerignore_escapes_what_a_line_starts_with() {
    let spec = "stowplan 1\noutput \"Dockerfile\"\noutput \".dockerignore\"\nimage \"app\" {\n    from \"debian:bookworm-slim\"\n    copy \"!x/y\" \"#n/a\" to=\"/d/\"\n    user \"1\"\n    cmd \"true\"\n}\n";
    let source = SourceFile::new("stowplan.kdl", spec.to_owned());
    let rendered = crate::driver::validate(&source, &Default::default()).expect("compiles");
    let text = &rendered.output[1].text;
    let ignore = crate::cache::Ignore::parse(text);
    assert!(
        !ignore.excludes("!x/y") && !ignore.excludes("#n/a"),
        "{text}"
    );
    assert!(ignore.excludes("!x/z") && ignore.excludes("#n/b"), "{text}");
    let refused = crate::driver::validate(
        &SourceFile::new("stowplan.kdl", spec.replace("#n/a", "a\\\\b")),
        &Default::default(),
    );
    let errors = refused.expect_err("a backslash is refused");
    assert_eq!(
        errors[0].code,
        crate::base::diagnostic::Code::Unrepresentable
    );
}
