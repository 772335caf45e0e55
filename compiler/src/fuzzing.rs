//! The oracles of the fuzz targets (`tests/fuzz/`): one function per
//! target, taking the raw input and panicking on a violation, so that the
//! targets, the unit tests and `tests/fastkdl.rs` check the same thing.
//! Not part of the API.

use kdl::{KdlDocument, KdlEntry, KdlIdentifier, KdlNode, KdlValue};

use crate::base::diagnostic::Diagnostic;
use crate::base::keywords::CacheBuilder;
use crate::base::source::{SourceFile, SourceResult};
use crate::cache::Change;
use crate::report::render::{Style, render};

/// Larger inputs are skipped. Real specs, image maps and Dockerfiles are a
/// few KiB; libFuzzer's mutations rarely need more, and at hundreds of KiB
/// the pipeline's linear-but-heavy phases (miette's rendering, the
/// optimizer) make each run slow enough to trip the per-input timeout
/// without any bug. Blow-ups show at small sizes; the benchmarks
/// (`compiler/benches/validate.rs`) cover scale.
pub const MAX_INPUT: usize = 64 * 1024;

/// The stack every oracle runs on, the binary's (`cli/main.rs`): in a
/// debug build the fast parser takes about 11 KiB a level to its limit of
/// 200, and the kdl crate 32 to 64 KiB a level to the nesting guard's 1000
/// (measured on `a{` nested), beyond a test thread's 2 MiB and libFuzzer's
/// 8 MiB. The stack is reserved, not used, until a deep input needs it.
const ORACLE_STACK: usize = 256 << 20;

/// Runs `f` on a thread with [`ORACLE_STACK`]; its panic is the caller's.
fn on_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(ORACLE_STACK)
            .spawn_scoped(scope, f)
            .expect("a thread for the oracle")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

fn text(data: &[u8]) -> Option<std::borrow::Cow<'_, str>> {
    (data.len() <= MAX_INPUT).then(|| String::from_utf8_lossy(data))
}

/// Renders every diagnostic as a user would see it, and returns a summary
/// to compare runs by.
fn rendered<T>(result: &SourceResult<T>) -> String {
    let diagnostics: &[Diagnostic] = match result {
        Ok(done) => &done.warnings,
        Err(errors) => errors,
    };
    let mut summary = String::new();
    for d in diagnostics {
        render(
            d,
            Style::Human {
                color: false,
                width: 100,
            },
        );
        render(d, Style::Json);
        summary += &format!("{} {} {:?} {:?}\n", d.code, d.message, d.labels, d.help);
    }
    summary
}

/// `spec`: any text through the whole pipeline, to both backends. Never
/// panics; the same spec always compiles to the same bytes and diagnostics.
pub fn spec(data: &[u8]) {
    on_big_stack(|| spec_here(data));
}

fn spec_here(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let source = SourceFile::new("fuzz.kdl", text.as_ref());
    let options = crate::Options::default();
    let checked = crate::driver::check(&source, &options);
    rendered(&checked);
    if checked.is_err() {
        // Everything below starts with `check` and stops where it did.
        return;
    }
    let compile = |target| {
        let result = crate::compile(&source, &options, &target);
        let summary = rendered(&result);
        (result.ok().map(|done| done.output), summary)
    };
    let first = compile(crate::Target::default());
    assert_eq!(first, compile(crate::Target::default()), "compiled twice");
    compile(crate::Target::Buildah(Default::default()));
    rendered(&crate::render_outputs(&source, &options));
    rendered(&crate::validate(&source, &options));
    rendered(&crate::driver::explain_spec(
        &source,
        &options,
        &Change::default(),
        &Default::default(),
    ));
}

/// `image_map`: any text as an `--image-map` file. Never panics; a map
/// that parses applies to a spec that uses a base and a copied image.
pub fn image_map(data: &[u8]) {
    on_big_stack(|| image_map_here(data));
}

fn image_map_here(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let map = crate::plan::image_map::ImageMap::parse(&SourceFile::new("map.kdl", text.as_ref()));
    rendered(&map);
    let Ok(map) = map else { return };
    let spec = SourceFile::new(
        "stowplan.kdl",
        "stowplan 1\nimage \"app\" {\n    from \"golang:1.22\"\n    \
         copy image=\"busybox:1.36.1\" \"/bin/busybox\" to=\"/bin/\"\n}\n",
    );
    let options = crate::Options {
        image_map: map.output,
        ..Default::default()
    };
    rendered(&crate::compile(&spec, &options, &crate::Target::default()));
}

/// `explain_dockerfile`: any text as a Dockerfile for `explain
/// --dockerfile`. What changed comes from its comment lines as in
/// `tests/cases_cache` (`# changed: PATH...`, `# arg: NAME...`, `# base:
/// IMAGE...`; every path when none); text after a NUL byte is its
/// `.dockerignore`. Never panics.
pub fn explain_dockerfile(data: &[u8]) {
    on_big_stack(|| explain_dockerfile_here(data));
}

fn explain_dockerfile_here(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let (dockerfile, ignore) = match text.split_once('\0') {
        Some((dockerfile, ignore)) => (dockerfile, Some(ignore)),
        None => (text.as_ref(), None),
    };
    let mut change = Change::default();
    let mut options = crate::report::explain::ExplainOptions {
        dockerignore: ignore.map(str::to_owned),
        ..Default::default()
    };
    for line in dockerfile.lines() {
        let line = line.trim_start_matches(['#', ' ']);
        let Some((key, values)) = line.split_once(':') else {
            continue;
        };
        let mut values = values.split_whitespace().map(str::to_owned);
        match key {
            "changed" => change.paths.extend(values),
            "arg" => change.args.extend(values),
            "base" => change.images.extend(values),
            "builder" => {
                let builder = values.next_back().and_then(|b| CacheBuilder::parse(&b));
                options.builder = builder.unwrap_or_default();
            }
            _ => {}
        }
    }
    if change.paths.is_empty() && change.args.is_empty() && change.images.is_empty() {
        change.paths.push(".".to_owned());
    }
    let _ = crate::report::explain::explain_dockerfile(dockerfile, &options, &change);
}

/// `fastkdl`: whatever the fast parser accepts, the kdl crate accepts as
/// the same document, and node by node (`parse_each`) as a whole.
pub fn fastkdl(data: &[u8]) {
    on_big_stack(|| fastkdl_here(data));
}

fn fastkdl_here(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Err(e) = compare_kdl_here(&text) {
        panic!("fast parser differs from kdl on {text:?}: {e}");
    }
    let mut nodes = Vec::new();
    let each = crate::syntax::fastkdl::parse_each(&text, &mut |n| nodes.push(n));
    match (crate::syntax::fastkdl::parse(&text), each) {
        (None, Err(_)) => {}
        (Some(doc), Ok(())) => {
            assert_eq!(doc.nodes().len(), nodes.len(), "parse_each: node count");
            for (a, b) in nodes.iter().zip(doc.nodes()) {
                same_node("", a, b).unwrap_or_else(|e| panic!("parse_each: {e}"));
            }
        }
        (whole, each) => panic!(
            "parse {} but parse_each {}",
            if whole.is_some() {
                "accepts"
            } else {
                "declines"
            },
            if each.is_ok() { "accepts" } else { "declines" },
        ),
    }
}

/// How the fast parser and kdl agree on a text.
#[derive(Debug, PartialEq)]
pub enum KdlOutcome {
    /// Both accepted, with equal documents.
    Fast,
    /// kdl accepted; the fast parser declined.
    Fallback,
    /// Both rejected.
    Rejected,
    /// The nesting guard refuses it, so kdl never reads it (the product
    /// does not ask it either), and only the fast parser is run.
    Guarded,
}

/// Checks the fast parser against kdl on `text`: equal names, type
/// annotations, entries, values, children and spans (all decode reads),
/// or the fast parser declines. Where it declines, the nodes it took and
/// the kdl crate's reading of the rest are the whole document, or the
/// rest's errors are the whole's (`syntax::parse_tail_with_kdl`).
pub fn compare_kdl(text: &str) -> Result<KdlOutcome, String> {
    on_big_stack(|| compare_kdl_here(text))
}

fn compare_kdl_here(text: &str) -> Result<KdlOutcome, String> {
    let fast = crate::syntax::fastkdl::parse(text);
    // kdl's recursion overflows the stack where the guard says it may.
    if crate::syntax::check_nesting(text).is_err() {
        return Ok(KdlOutcome::Guarded);
    }
    let outcome = match (KdlDocument::parse_v2(text), fast) {
        (Ok(reference), Some(fast)) => {
            return same_doc("", &fast, &reference).map(|()| KdlOutcome::Fast);
        }
        (Ok(_), None) => KdlOutcome::Fallback,
        (Err(_), None) => KdlOutcome::Rejected,
        (Err(e), Some(_)) => {
            return Err(format!(
                "kdl rejects it ({e:?}), the fast parser accepts it"
            ));
        }
    };
    let mut nodes = Vec::new();
    let Err(from) = crate::syntax::fastkdl::parse_each(text, &mut |n| nodes.push(n)) else {
        return Err("parse declines it, parse_each takes it".to_owned());
    };
    if from == 0 {
        nodes.clear();
    }
    match (
        crate::syntax::parse_with_kdl(text),
        crate::syntax::parse_tail_with_kdl(text, from),
    ) {
        (Ok(whole), Ok(tail)) => {
            nodes.extend(tail.nodes().iter().cloned());
            let mut joined = KdlDocument::new();
            *joined.nodes_mut() = nodes;
            joined.set_span(whole.span());
            same_doc(&format!("from {from}"), &joined, &whole)?;
        }
        (Err(whole), Err(tail)) => {
            // The crate may report one error twice, depending on what came
            // before: the same errors, each once.
            let distinct = |errors: Vec<Diagnostic>| {
                let mut errors: Vec<String> = errors.iter().map(|e| format!("{e:?}")).collect();
                errors.dedup();
                errors.join("\n")
            };
            let (whole, tail) = (distinct(whole), distinct(tail));
            if whole != tail {
                return Err(format!("from {from}: errors {tail} instead of {whole}"));
            }
        }
        (whole, _) => {
            return Err(format!(
                "from {from}: the whole {} but the rest does not",
                if whole.is_ok() { "parses" } else { "fails" }
            ));
        }
    }
    Ok(outcome)
}

fn span(s: miette::SourceSpan) -> (usize, usize) {
    (s.offset(), s.len())
}

fn same_ident(path: &str, a: &KdlIdentifier, b: &KdlIdentifier) -> Result<(), String> {
    if a.value() != b.value() || span(a.span()) != span(b.span()) {
        return Err(format!(
            "{path}: identifier {:?}@{:?} vs {:?}@{:?}",
            a.value(),
            span(a.span()),
            b.value(),
            span(b.span())
        ));
    }
    Ok(())
}

fn same_opt_ident(
    path: &str,
    a: Option<&KdlIdentifier>,
    b: Option<&KdlIdentifier>,
) -> Result<(), String> {
    match (a, b) {
        (None, None) => Ok(()),
        (Some(a), Some(b)) => same_ident(path, a, b),
        _ => Err(format!("{path}: {a:?} vs {b:?}")),
    }
}

fn same_entry(path: &str, a: &KdlEntry, b: &KdlEntry) -> Result<(), String> {
    same_opt_ident(&format!("{path} key"), a.name(), b.name())?;
    same_opt_ident(&format!("{path} type"), a.ty(), b.ty())?;
    // KdlValue's equality treats every NaN as equal; compare floats by bits
    // otherwise, so -0.0 and 0.0 differ.
    let values_equal = match (a.value(), b.value()) {
        (KdlValue::Float(x), KdlValue::Float(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        (x, y) => x == y,
    };
    if !values_equal || span(a.span()) != span(b.span()) {
        return Err(format!(
            "{path}: value {:?}@{:?} vs {:?}@{:?}",
            a.value(),
            span(a.span()),
            b.value(),
            span(b.span())
        ));
    }
    Ok(())
}

fn same_node(path: &str, a: &KdlNode, b: &KdlNode) -> Result<(), String> {
    let path = format!("{path}/{}", a.name().value());
    same_ident(&format!("{path} name"), a.name(), b.name())?;
    same_opt_ident(&format!("{path} type"), a.ty(), b.ty())?;
    if span(a.span()) != span(b.span()) {
        return Err(format!(
            "{path}: node span {:?} vs {:?}",
            span(a.span()),
            span(b.span())
        ));
    }
    if a.entries().len() != b.entries().len() {
        return Err(format!(
            "{path}: {} entries vs {}",
            a.entries().len(),
            b.entries().len()
        ));
    }
    for (i, (x, y)) in a.entries().iter().zip(b.entries()).enumerate() {
        same_entry(&format!("{path} entry {i}"), x, y)?;
    }
    match (a.children(), b.children()) {
        (None, None) => Ok(()),
        (Some(x), Some(y)) => same_doc(&path, x, y),
        (x, y) => Err(format!(
            "{path}: children {:?} vs {:?}",
            x.is_some(),
            y.is_some()
        )),
    }
}

fn same_doc(path: &str, a: &KdlDocument, b: &KdlDocument) -> Result<(), String> {
    if span(a.span()) != span(b.span()) {
        return Err(format!(
            "{path}: document span {:?} vs {:?}",
            span(a.span()),
            span(b.span())
        ));
    }
    if a.nodes().len() != b.nodes().len() {
        return Err(format!(
            "{path}: {} nodes vs {}",
            a.nodes().len(),
            b.nodes().len()
        ));
    }
    for (x, y) in a.nodes().iter().zip(b.nodes()) {
        same_node(path, x, y)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The oracles hold on the repository's own inputs; findings of the
    /// fuzzers join these as regression tests.
    #[test]
    fn oracles_hold_on_known_inputs() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let read = |path: &str| std::fs::read(root.join(path)).unwrap();
        let spec_text = read("examples/go-server/stowplan.kdl");
        spec(&spec_text);
        spec(b"stowplan 1\nimage \"a\" { from \"alpine:3\"; run \"true\"; }\n");
        spec(b"\xff\0 { /- \"");
        fastkdl(&spec_text);
        fastkdl(b"a /-1 2 {b; c} /-{d}");
        image_map(&read("tests/e2e/images.kdl"));
        image_map(b"map \"golang:1.22\" \"mirror.local/golang:1.22\"");
        explain_dockerfile(&read("tests/cases_cache/stages.Dockerfile"));
        explain_dockerfile(b"FROM a\nCOPY . .\n\0*\n!x\n");
        // Findings, minimized: stars that cannot match took exponential
        // time (cache::model::match_component), in a .dockerignore and in a
        // step input the optimizer classifies.
        let stars = "*".repeat(40);
        explain_dockerfile(
            format!(
                "# changed: {}\nFROM a\nCOPY . .\n\0{stars}b\n",
                "a".repeat(40)
            )
            .as_bytes(),
        );
        spec(
            format!(
                "stowplan 1\nimage \"a\" {{\n    from \"alpine:3\"\n    \
                 step \"s\" {{\n        input \"p{stars}x\"\n        run \"true\"\n    }}\n}}\n"
            )
            .as_bytes(),
        );
        // Over the limit: skipped, not parsed.
        spec(&vec![b'{'; MAX_INPUT + 1]);
    }
}
