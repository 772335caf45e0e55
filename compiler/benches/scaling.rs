//! How stowplan scales on the shapes that once blew up: many copies in one
//! stage, many args and commands (the layer-order optimizer), many
//! diagnostics rendered, template
//! expansion up to its budget, a syntax error at the end of a large spec.
//!
//! `cargo bench --bench scaling` prints, per shape, the median time of 5
//! runs in this process and the peak memory of one run in a fresh one,
//! above what it held before the run and in all (Linux: writing 5 to
//! `/proc/self/clear_refs` resets the peak).
//! Growth shows in the "per unit" column: flat is linear.
//!
//! `cargo bench --bench scaling -- --write DIR` writes the specs to DIR
//! instead, to measure the binary (or an older one) on them with
//! `/usr/bin/time -v stowplan check DIR/NAME.kdl`.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use stowplan::{Options, SourceFile};
use stowplan::{Style, render};

#[path = "../src/testkit/generate.rs"]
mod generate;

/// What a shape measures: the whole pipeline to a Dockerfile, or `check`
/// and every diagnostic rendered as the binary prints them.
#[derive(Clone, Copy)]
enum Run {
    Compile,
    CheckAndRender,
}

struct Shape {
    name: String,
    /// What one unit is, for the "per unit" column.
    units: usize,
    unit: &'static str,
    text: String,
    run: Run,
}

/// `n` copies of distinct files in one stage; with `mixed`, lock files and
/// sources alternate, so the optimizer moves half of them.
fn copies(n: usize, mixed: bool) -> String {
    let mut s = String::from("stowplan 1\nimage \"app\" {\n    from \"alpine:3\"\n");
    for i in 0..n {
        if mixed && i % 2 == 1 {
            let _ = writeln!(s, "    copy \"deps{i}/go.mod\" to=\"/app/deps{i}/go.mod\"");
        } else {
            let _ = writeln!(s, "    copy \"src/f{i}.go\" to=\"/app/f{i}.go\"");
        }
    }
    s.push_str("    run \"true\"\n    cmd \"true\"\n}\n");
    s
}

/// `n` times: an arg, two copies, a run that reads the arg. Every run is a
/// barrier, and every arg before it is in its scope.
fn args_and_runs(n: usize) -> String {
    let mut s = String::from("stowplan 1\nimage \"app\" {\n    from \"alpine:3\"\n");
    for i in 0..n {
        let _ = writeln!(
            s,
            "    arg \"A{i}\"\n    copy \"src/f{i}.go\" to=\"/app/f{i}.go\"\n    \
             copy \"src/g{i}.go\" to=\"/app/g{i}.go\"\n    run \"echo $A{i}\""
        );
    }
    s.push_str("    cmd \"true\"\n}\n");
    s
}

/// One invalid label key per line: `n` errors.
fn diagnostics(n: usize) -> String {
    let mut s =
        String::from("stowplan 1\nimage \"app\" {\n    from \"alpine:3\"\n    cmd \"true\"\n");
    for i in 0..n {
        let _ = writeln!(s, "    label \"bad key {i}\" \"v\"");
    }
    s.push_str("}\n");
    s
}

/// `uses` uses of a template of 203 nodes: 98 stay under the budget of
/// 20,000 nodes, the 99th crosses it.
fn templates(uses: usize) -> String {
    let runs = "        run \"true\"\n".repeat(200);
    let mut s = format!(
        "stowplan 1\ntemplate \"t\" {{\n    image {{\n        from \"debian:bookworm-slim\"\n{runs}        cmd \"/app\"\n    }}\n}}\n"
    );
    for i in 0..uses {
        let _ = writeln!(s, "image \"app{i}\" template=\"t\"");
    }
    s
}

/// The validation benchmark's spec at 8.6 MB, then a stage never closed.
fn syntax_error_at_the_end() -> String {
    let mut s = generate::generate(13_000);
    s.push_str("stage \"broken\" {\n    from \"alpine:3\"\n");
    s
}

fn shapes() -> Vec<Shape> {
    let mut out = Vec::new();
    for n in [1_000, 5_000, 10_000] {
        out.push(Shape {
            name: format!("copies-{n}"),
            units: n,
            unit: "copy",
            text: copies(n, false),
            run: Run::Compile,
        });
    }
    out.push(Shape {
        name: "copies-10000-mixed".into(),
        units: 10_000,
        unit: "copy",
        text: copies(10_000, true),
        run: Run::Compile,
    });
    out.push(Shape {
        name: "args-and-runs-3000".into(),
        units: 3_000,
        unit: "arg",
        text: args_and_runs(3_000),
        run: Run::Compile,
    });
    out.push(Shape {
        name: "diagnostics-10000".into(),
        units: 10_000,
        unit: "diagnostic",
        text: diagnostics(10_000),
        run: Run::CheckAndRender,
    });
    for uses in [98, 150] {
        out.push(Shape {
            name: format!("template-uses-{uses}"),
            units: uses,
            unit: "use",
            text: templates(uses),
            run: Run::CheckAndRender,
        });
    }
    let text = syntax_error_at_the_end();
    out.push(Shape {
        name: "syntax-error-at-the-end".into(),
        units: text.len() / 1000,
        unit: "KB",
        text,
        run: Run::CheckAndRender,
    });
    out
}

/// Runs a shape once; what it returns keeps the work from being skipped.
fn run(shape: &Shape) -> usize {
    let source = SourceFile::new(format!("{}.kdl", shape.name), shape.text.clone());
    let options = Options::default();
    match shape.run {
        Run::Compile => match stowplan::compile(&source, &options, &Default::default()) {
            Ok(done) => done.output.len() + done.warnings.len(),
            Err(d) => panic!("{} must compile: {}", shape.name, d[0]),
        },
        Run::CheckAndRender => {
            let diagnostics = match stowplan::benching::check(&source, &options) {
                Ok(done) => done.warnings,
                Err(errors) => errors,
            };
            diagnostics
                .iter()
                .map(|d| {
                    render(
                        d,
                        Style::Human {
                            color: false,
                            width: 100,
                        },
                    )
                    .len()
                })
                .sum()
        }
    }
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Peak resident memory of one run of the shape named `name`, in a fresh
/// process (this one, with `--peak NAME`): above what it held before the
/// run, and in all, as `/usr/bin/time` counts. A process that has run
/// other shapes reuses memory it freed, which hides a peak.
fn peak_of(name: &str) -> Option<(u64, u64)> {
    let out = std::process::Command::new(std::env::current_exe().ok()?)
        .args(["--peak", name])
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let mut numbers = text.split_whitespace().map(|n| n.parse::<u64>());
    Some((numbers.next()?.ok()?, numbers.next()?.ok()?))
}

/// In the child: one run, then the peak above the start and in all (KiB).
fn print_peak(shape: &Shape) {
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = status_kib("VmRSS:").unwrap_or(0);
    std::hint::black_box(run(shape));
    let peak = status_kib("VmHWM:").unwrap_or(0);
    if reset {
        println!("{} {}", peak.saturating_sub(before), peak);
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--write") {
        let dir = std::path::Path::new(args.get(at + 1).expect("--write DIR"));
        std::fs::create_dir_all(dir).expect("the folder");
        for shape in shapes() {
            let path = dir.join(format!("{}.kdl", shape.name));
            std::fs::write(&path, &shape.text).expect("the spec");
            println!("{}", path.display());
        }
        return;
    }
    if let Some(at) = args.iter().position(|a| a == "--peak") {
        let name = args.get(at + 1).expect("--peak NAME");
        if let Some(shape) = shapes().into_iter().find(|s| &s.name == name) {
            print_peak(&shape);
        }
        return;
    }
    println!("| shape | spec size | median | per unit | peak memory (process) |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for shape in shapes() {
        let peak = peak_of(&shape.name);
        let samples: Vec<Duration> = (0..5)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(run(&shape));
                start.elapsed()
            })
            .collect();
        let time = median(samples);
        let size = shape.text.len() as f64;
        let size = if size >= 1e6 {
            format!("{:.1} MB", size / 1e6)
        } else {
            format!("{:.0} KB", size / 1e3)
        };
        println!(
            "| {} | {size} | {:.0} ms | {:.1} µs per {} | {} |",
            shape.name,
            time.as_secs_f64() * 1e3,
            time.as_secs_f64() * 1e6 / shape.units as f64,
            shape.unit,
            peak.map_or("n/a".to_owned(), |(run, all)| format!(
                "{:.1} MiB ({:.1} MiB)",
                run as f64 / 1024.0,
                all as f64 / 1024.0
            )),
        );
    }
}
