//! The optimizer against oracles: for segments of up to 8 movable units
//! its order is the brute-force optimum among the orders that keep every
//! dependency, under both probability models (independent volatility
//! classes and a commit history), on random problems and on random specs;
//! and on every case and example it only reorders.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use crate::base::source::SourceFile;
use crate::cache::history::{Volatility, classify};
use crate::driver::{self, Options};
use crate::middle::select::Selection;
use crate::plan::lower::lower_ordered;
use crate::plan::optimize::OrderOptions;
use crate::plan::optimize::solve::{Problem, expected, respects, solve_exact};
use crate::testkit::{self, render_all};

/// Units read atoms; P(nothing changed) for a set of units is the product
/// of its atoms' (1 - p), times the prefix's.
fn independent(n: usize) -> impl Strategy<Value = Vec<f64>> {
    (
        prop::collection::vec(0.0f64..=1.0, 1..6),
        prop::collection::vec(prop::collection::vec(any::<bool>(), 6), n),
        0.0f64..=1.0,
    )
        .prop_map(move |(p, uses, prefix)| {
            (0..1usize << n)
                .map(|mask| {
                    let mut stay = 1.0 - prefix * 0.5;
                    for (a, pa) in p.iter().enumerate() {
                        let used = (0..n).any(|u| mask & (1 << u) != 0 && uses[u][a]);
                        if used {
                            stay *= 1.0 - pa;
                        }
                    }
                    stay
                })
                .collect()
        })
}

/// Each commit touches a set of units; P(nothing changed) for a set is the
/// share of commits that touch none of it.
fn history(n: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(0usize..(1 << n), 1..40).prop_map(move |commits| {
        (0..1usize << n)
            .map(|mask| {
                commits.iter().filter(|c| **c & mask == 0).count() as f64 / commits.len() as f64
            })
            .collect()
    })
}

fn problem() -> impl Strategy<Value = Problem> {
    (1usize..=8).prop_flat_map(|n| {
        let costs = prop::collection::vec(prop_oneof![Just(0.0), 0.0f64..100.0, Just(1.0)], n);
        // Dependencies point from earlier to later units, as in a written stage.
        let preds = prop::collection::vec(any::<u32>(), n).prop_map(move |raw| {
            raw.iter()
                .enumerate()
                .map(|(u, r)| r & ((1u32 << u) - 1) & 0x5555_5555u32.rotate_left(u as u32))
                .collect::<Vec<u32>>()
        });
        let stay = prop_oneof![independent(n), history(n)];
        (costs, preds, stay).prop_map(|(costs, preds, stay)| Problem { costs, preds, stay })
    })
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for rest in permutations(n - 1) {
        for at in 0..=rest.len() {
            let mut p = rest.clone();
            p.insert(at, n - 1);
            out.push(p);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn exact_order_is_the_brute_force_optimum(problem in problem()) {
        let n = problem.costs.len();
        let chosen = solve_exact(&problem);
        prop_assert!(respects(&problem, &chosen));
        let mut sorted = chosen.clone();
        sorted.sort_unstable();
        prop_assert_eq!(sorted, (0..n).collect::<Vec<_>>());
        let best = permutations(n)
            .into_iter()
            .filter(|order| respects(&problem, order))
            .map(|order| expected(&problem, &order))
            .fold(f64::INFINITY, f64::min);
        let ours = expected(&problem, &chosen);
        prop_assert!(ours <= best + 1e-9 * best.max(1.0), "chosen {ours} > optimum {best}");
        // Nothing moves without a strict gain: the written order, when optimal, is kept.
        let written: Vec<usize> = (0..n).collect();
        if expected(&problem, &written) <= best + 1e-12 {
            prop_assert_eq!(chosen, written);
        }
    }
}

// ---------------------------------------------------------------- whole specs

const INPUTS: &[&str] = &[
    "go.mod",
    "package.json",
    "main.go",
    "app.py",
    "nginx.conf",
    "settings.yaml",
    ".nvmrc",
    "src/",
];
const RUNS: &[(&str, f64)] = &[
    ("npm ci", 60.0),
    ("go build ./...", 30.0),
    ("echo hi", 5.0),
    ("pip install -r x", 60.0),
];
const PATHS: &[&str] = &["/out/a", "/out/b", "/out/a/x", "/var/c", "/out"];

#[derive(Clone, Debug)]
struct Step {
    input: usize,
    run: usize,
    writes: usize,
    reads: Option<usize>,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    (1usize..=8)
        .prop_flat_map(|n| {
            (
                Just(n),
                prop::collection::vec(
                    (
                        0..RUNS.len(),
                        0..PATHS.len(),
                        prop::option::of(0..PATHS.len()),
                    ),
                    n,
                ),
                Just((0..INPUTS.len()).collect::<Vec<_>>()).prop_shuffle(),
            )
        })
        .prop_map(|(n, picks, inputs)| {
            (0..n)
                .map(|i| Step {
                    input: inputs[i],
                    run: picks[i].0,
                    writes: picks[i].1,
                    reads: picks[i].2,
                })
                .collect()
        })
}

fn contains(a: &str, b: &str) -> bool {
    let (a, b) = (format!("{a}/"), format!("{b}/"));
    a.starts_with(&b) || b.starts_with(&a)
}

/// The oracle's own reading of the spec language: what each step writes
/// and reads, what it costs, how likely its input changes. Without a
/// history, a class is one event (the files of a class change together),
/// and configuration counts as sources (spec/cache.md).
fn oracle_cost(steps: &[Step], order: &[usize]) -> f64 {
    oracle_cost_read(steps, order, false)
}

/// The same, each input its own event with its class's probability: the
/// reading that vetoes a move (a move must pay under both).
fn oracle_cost_per_file(steps: &[Step], order: &[usize]) -> f64 {
    oracle_cost_read(steps, order, true)
}

fn oracle_cost_read(steps: &[Step], order: &[usize], per_file: bool) -> f64 {
    let base = 1.0 - Volatility::Toolchain.probability();
    let mut stay = base;
    let mut seen = Vec::new();
    let mut total = 0.0;
    for &s in order {
        let step = &steps[s];
        let class = match classify(INPUTS[step.input]) {
            Volatility::Config if !per_file => Volatility::Sources,
            class => class,
        };
        let event = if per_file { step.input } else { class as usize };
        if !seen.contains(&event) {
            seen.push(event);
            stay *= 1.0 - class.probability();
        }
        total += (RUNS[step.run].1 + 1.0) * (1.0 - stay);
    }
    total
}

fn oracle_respects(steps: &[Step], order: &[usize]) -> bool {
    let writes = |s: &Step| {
        let input = format!("/src/{}", INPUTS[s.input].trim_end_matches('/'));
        vec![PATHS[s.writes].to_owned(), input]
    };
    let reads = |s: &Step| {
        let mut r = writes(s);
        r.extend(s.reads.map(|p| PATHS[p].to_owned()));
        r
    };
    let overlap = |a: &[String], b: &[String]| a.iter().any(|x| b.iter().any(|y| contains(x, y)));
    for (pos, &j) in order.iter().enumerate() {
        for &i in &order[pos + 1..] {
            // `i` was written before `j` but now comes after it.
            if i < j {
                let (a, b) = (&steps[i], &steps[j]);
                if overlap(&writes(a), &reads(b)) || overlap(&writes(b), &reads(a)) {
                    return false;
                }
            }
        }
    }
    true
}

fn spec(steps: &[Step]) -> String {
    let mut text = String::from(
        "stowplan 1\nstage \"build\" {\n    from \"debian:bookworm-slim\"\n    workdir \"/src\"\n",
    );
    for (i, step) in steps.iter().enumerate() {
        text.push_str(&format!(
            "    step \"s{i}\" {{\n        input \"{}\"\n        run \"{} # s{i}\"\n        writes \"{}\"\n",
            INPUTS[step.input], RUNS[step.run].0, PATHS[step.writes]
        ));
        if let Some(r) = step.reads {
            text.push_str(&format!("        reads \"{}\"\n", PATHS[r]));
        }
        text.push_str("    }\n");
    }
    text.push_str("    artifact \"out\" \"/out/\"\n}\nimage \"app\" {\n    from \"debian:bookworm-slim\"\n    copy artifact=\"build.out\" to=\"/out/\"\n    cmd \"/out/a\"\n}\n");
    text
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// A stage of up to 8 steps that declare `writes`: the compiled order
    /// keeps every dependency; when it moved anything it costs no more
    /// than the best order that does, by the oracle's own count, and no
    /// more than the written order with each input read as its own event;
    /// it never costs more than the written order.
    #[test]
    fn compiled_stages_are_optimal(steps in steps()) {
        let source = SourceFile::new("p.kdl", spec(&steps));
        let text = match driver::compile(&source, &Options::default(), &driver::Target::default()) {
            Ok(done) => done.output,
            Err(d) => panic!("{:?}", d),
        };
        let mut order: Vec<(usize, usize)> = (0..steps.len())
            .map(|i| (text.find(&format!("# s{i}\n")).expect("every step is emitted"), i))
            .collect();
        order.sort_unstable();
        let order: Vec<usize> = order.into_iter().map(|(_, i)| i).collect();
        prop_assert!(oracle_respects(&steps, &order), "{order:?} breaks a dependency:\n{text}");
        let best = permutations(steps.len())
            .into_iter()
            .filter(|o| oracle_respects(&steps, o))
            .map(|o| oracle_cost(&steps, &o))
            .fold(f64::INFINITY, f64::min);
        let ours = oracle_cost(&steps, &order);
        let written: Vec<usize> = (0..steps.len()).collect();
        let kept = oracle_cost(&steps, &written);
        prop_assert!(ours <= kept + 1e-9 * kept.max(1.0), "{ours} > written {kept}:\n{text}");
        if order != written {
            prop_assert!(ours <= best + 1e-9 * best.max(1.0), "{ours} > {best} for {order:?}:\n{text}");
            let (ours, kept) = (oracle_cost_per_file(&steps, &order), oracle_cost_per_file(&steps, &written));
            prop_assert!(ours <= kept + 1e-9 * kept.max(1.0), "per file {ours} > written {kept}:\n{text}");
        }
    }
}

// ---------------------------------------------------------------- cases and examples

/// The optimizer only reorders: every stage keeps exactly its instructions,
/// and the expected rebuild cost never goes up.
#[test]
fn reordering_keeps_every_instruction() {
    let mut specs: Vec<PathBuf> = Vec::new();
    for dir in ["tests/cases", "tests/cases_cache", "tests/cases_history"] {
        for entry in std::fs::read_dir(testkit::root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".kdl") && !name.starts_with("err_") {
                specs.push(path);
            }
        }
    }
    for entry in std::fs::read_dir(testkit::root().join("examples")).unwrap() {
        specs.push(entry.unwrap().path().join("stowplan.kdl"));
    }
    specs.retain(|p| p.exists());
    assert!(specs.len() > 5);
    for path in specs {
        let source = SourceFile::new("s.kdl", std::fs::read_to_string(&path).unwrap());
        // A case's context is `NAME.context/` beside it, an example's its folder.
        let context = Some(path.with_extension("context"))
            .filter(|c| c.is_dir())
            .or_else(|| path.parent().map(Path::to_path_buf));
        let options = Options {
            context,
            ..Default::default()
        };
        let checked = driver::check(&source, &options)
            .unwrap_or_else(|d| panic!("{}:\n{}", path.display(), render_all(&d)));
        let spec = &checked.output;
        let all = Selection::All;
        let (optimized, report) = lower_ordered(spec, &all, "s.kdl", &Default::default());
        let (written, _) = lower_ordered(spec, &all, "s.kdl", &OrderOptions::written());
        let layered_options = OrderOptions {
            layer_per_instruction: true,
            ..Default::default()
        };
        let (layered, _) = lower_ordered(spec, &all, "s.kdl", &layered_options);
        let pairs = optimized
            .stages
            .iter()
            .zip(&written.stages)
            .chain(layered.stages.iter().zip(&written.stages));
        for (a, b) in pairs {
            let mut x: Vec<String> = a
                .instructions
                .iter()
                .map(|i| format!("{:?}", i.value))
                .collect();
            let mut y: Vec<String> = b
                .instructions
                .iter()
                .map(|i| format!("{:?}", i.value))
                .collect();
            x.sort();
            y.sort();
            assert_eq!(
                x,
                y,
                "{}: stage {} lost or gained an instruction",
                path.display(),
                a.name
            );
        }
        for stage in &report.stages {
            assert!(
                stage.after <= stage.before + 1e-9,
                "{}: {} got worse: {} -> {}",
                path.display(),
                stage.stage,
                stage.before,
                stage.after
            );
        }
    }
}

// ---------------------------------------------------------------- old against new

/// What a long segment is made of: copies and steps that read and write
/// overlapping paths, args their commands name, metadata in between.
const FILES: &[&str] = &[
    "go.mod",
    "package.json",
    "src/main.go",
    "README.md",
    "config.yaml",
    "src/",
    "Cargo.lock",
    "assets/",
];
const DESTS: &[&str] = &[
    "/app/",
    "/app/x{i}",
    "./",
    "lib/",
    "/app/lib/{i}/",
    "/etc/",
    "out{i}",
    "/app/{i}/",
];
const WRITES: &[&str] = &["/app/lib", "/app", "/app/x/y", "out", "/var/cache", "/etc"];
const ARGS: &[&str] = &["VERSION", "MODE", "CC"];

fn item() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (0..FILES.len(), 0..DESTS.len(), any::<bool>()).prop_map(|(f, d, chown)| {
            let chown = if chown { " chown=\"app\"" } else { "" };
            format!("copy \"{}\" to=\"{}\"{chown}", FILES[f], DESTS[d])
        }),
        4 => (
            0..FILES.len(),
            0..ARGS.len(),
            0..WRITES.len(),
            prop::option::of(0..WRITES.len()),
            0u32..50,
        )
            .prop_map(|(f, a, w, r, cost)| {
                let reads = r.map(|r| format!(" reads \"{}\";", WRITES[r])).unwrap_or_default();
                format!(
                    "step \"s\" {{ input \"{}\"; run \"make ${{{}}}\"; writes \"{}\";{reads} cost {cost}; }}",
                    FILES[f], ARGS[a], WRITES[w]
                )
            }),
        2 => (0..ARGS.len()).prop_map(|a| format!("arg \"{}\"", ARGS[a])),
        1 => Just("label \"k\" \"v\"".to_owned()),
        1 => Just("run \"true\"".to_owned()),
    ]
}

/// A stage of up to 40 items, its steps numbered, with or without a workdir.
fn long_stage() -> impl Strategy<Value = String> {
    (prop::collection::vec(item(), 10..40), any::<bool>()).prop_map(|(items, workdir)| {
        let mut text =
            String::from("stowplan 1\nimage \"app\" {\n    from \"debian:bookworm-slim\"\n");
        if workdir {
            text.push_str("    workdir \"/app\"\n");
        }
        for (i, item) in items.iter().enumerate() {
            let item = item
                .replace("step \"s\"", &format!("step \"s{i}\""))
                .replace("{i}", &i.to_string());
            text.push_str(&format!("    {item}\n"));
        }
        text.push_str("    cmd \"/app/x\"\n}\n");
        text
    })
}

fn commits() -> impl Strategy<Value = Option<Vec<Vec<String>>>> {
    prop::option::of(prop::collection::vec(
        prop::collection::vec(0..FILES.len(), 0..3).prop_map(|files| {
            files
                .iter()
                .map(|f| FILES[*f].trim_end_matches('/').to_owned())
                .collect()
        }),
        1..12,
    ))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The optimizer orders, reports and costs every stage exactly as the
    /// one that compared every pair of units and scanned every unit per
    /// round did (`order::reference`), with and without a history.
    #[test]
    fn fast_optimizer_matches_the_reference(text in long_stage(), history in commits()) {
        let source = SourceFile::new("s.kdl", text.clone());
        let Ok(checked) = driver::check(&source, &Options::default()) else {
            return Ok(());
        };
        let spec = &checked.output;
        for layer_per_instruction in [false, true] {
            let options = OrderOptions {
                history: history.clone().map(|commits| {
                    crate::cache::history::HistorySource::ready(crate::cache::history::History { commits })
                }),
                layer_per_instruction,
                ..Default::default()
            };
            let run = || {
                let (plan, report) = lower_ordered(spec, &Selection::All, "s.kdl", &options);
                format!("{plan:?}\n{report:?}")
            };
            let fast = run();
            let reference = crate::plan::optimize::order::reference::with(run);
            prop_assert_eq!(fast, reference, "{}", text);
        }
    }
}
