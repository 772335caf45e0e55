//! The rebuild benchmark: real commit histories replayed against
//! stowplan's output and a hand-written Dockerfile for the same app.
//!
//! `cargo bench --bench rebuild` reads every `benchmarks/histories/*.jsonl`
//! and, for each, `benchmarks/<name>/stowplan.kdl`, `Dockerfile.baseline`
//! (the seed tutorials' style: `COPY . .` before installing) and
//! `Dockerfile.manifests-first` (the manifests copied and installed
//! first, as seeds 000 and 004 do). For every commit the cache model says
//! what each Dockerfile rebuilds; the table sums the cost of it, beside the
//! oracle minimum (what the changed inputs force whatever the order,
//! `cache::oracle`, on the spec as written). Then the
//! speed check: a generated 1,000-image spec with 10,000 steps compiled
//! with `--history` over a generated 10,000-commit git repository.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use stowplan::benching::{self, CacheGraph, History};
use stowplan::{Change, HistorySource, Options, OrderOptions, SourceFile};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn dockerfile(path: &Path) -> Option<CacheGraph> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut graph =
        benching::read_dockerfile(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut ignore = path.as_os_str().to_owned();
    ignore.push(".dockerignore");
    if let Ok(text) = std::fs::read_to_string(PathBuf::from(ignore)) {
        graph.ignore = benching::Ignore::parse(&text);
    }
    Some(graph)
}

fn spec_graph(path: &Path, order: OrderOptions) -> CacheGraph {
    let source = SourceFile::new("stowplan.kdl", std::fs::read_to_string(path).unwrap());
    let options = Options {
        order,
        ..Options::default()
    };
    let checked =
        benching::check(&source, &options).unwrap_or_else(|d| panic!("{}: {d:?}", path.display()));
    let selection = benching::select(&checked.output, &[]).unwrap();
    let planned = benching::plan_with(&source, &checked.output, &selection, &options);
    let costs = benching::cost_overrides(&checked.output);
    benching::from_plan(&planned.plan, &costs).unwrap()
}

/// Σ over commits of the cost of what each commit rebuilds.
fn replay(graph: &CacheGraph, history: &History) -> f64 {
    replay_by(graph, history, benching::evaluate)
}

/// [`replay`] under other rules: the oracle minimum.
fn replay_by(
    graph: &CacheGraph,
    history: &History,
    rules: fn(&CacheGraph, &Change) -> benching::Outcome,
) -> f64 {
    let needed = graph.needed(&graph.targets());
    history
        .commits
        .iter()
        .map(|changed| {
            let change = Change {
                paths: changed.clone(),
                ..Change::default()
            };
            graph.rebuilt_cost(&rules(graph, &change), &needed)
        })
        .sum()
}

struct Row {
    name: String,
    commits: usize,
    baseline: f64,
    manifests_first: Option<f64>,
    ours: f64,
    written: f64,
    /// What the changed inputs force, whatever the order (`oracle`).
    oracle: f64,
    /// On the second half of the history: the baseline, stowplan by
    /// volatility class, stowplan with `--history` of the first half.
    late_baseline: f64,
    late_classes: f64,
    late_history: f64,
}

fn rebuild_table() -> Vec<Row> {
    let mut histories: Vec<PathBuf> = std::fs::read_dir(root().join("benchmarks/histories"))
        .expect("benchmarks/histories/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    histories.sort();
    let mut rows = Vec::new();
    for path in histories {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let dir = root().join("benchmarks").join(&name);
        let history = History::from_jsonl(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let baseline = dockerfile(&dir.join("Dockerfile.baseline")).expect("a baseline Dockerfile");
        let manifests_first = dockerfile(&dir.join("Dockerfile.manifests-first"));
        let spec = dir.join("stowplan.kdl");
        let half = history.commits.len() / 2;
        let early = History {
            commits: history.commits[..half].to_vec(),
        };
        let late = History {
            commits: history.commits[half..].to_vec(),
        };
        let trained = OrderOptions {
            enabled: true,
            history: Some(HistorySource::ready(early)),
            layer_per_instruction: false,
        };
        rows.push(Row {
            late_baseline: replay(&baseline, &late),
            late_classes: replay(&spec_graph(&spec, OrderOptions::default()), &late),
            late_history: replay(&spec_graph(&spec, trained), &late),
            commits: history.commits.len(),
            baseline: replay(&baseline, &history),
            manifests_first: manifests_first.map(|g| replay(&g, &history)),
            ours: replay(&spec_graph(&spec, OrderOptions::default()), &history),
            written: replay(&spec_graph(&spec, OrderOptions::written()), &history),
            oracle: replay_by(
                &spec_graph(&spec, OrderOptions::written()),
                &history,
                benching::oracle,
            ),
            name,
        });
    }
    rows
}

// ---------------------------------------------------------------- speed

const IMAGES: usize = 1_000;
const STEPS_PER_IMAGE: usize = 10;
const COMMITS: usize = 10_000;

/// 1,000 images of 10 steps each; every step declares its outputs, so the
/// optimizer orders every stage.
fn generated_spec() -> String {
    let mut s = String::from("stowplan 1\n");
    for i in 0..IMAGES {
        let _ = writeln!(
            s,
            "image \"img{i}\" {{\n    from \"debian:bookworm-slim\"\n    workdir \"/src\""
        );
        for k in 0..STEPS_PER_IMAGE {
            let input = match k {
                0 => format!("svc{i}/go.mod"),
                1 => format!("svc{i}/config/"),
                _ => format!("svc{i}/pkg{k}/"),
            };
            let _ = writeln!(
                s,
                "    step \"s{k}\" {{\n        input \"{input}\"\n        run \"make -C svc{i} part{k}\"\n        writes \"/out/{k}/\"\n    }}"
            );
        }
        // A user: an image that runs as root is a warning, and the run checks stderr is empty.
        let _ = writeln!(s, "    user \"65532\"\n    cmd \"/out/0/app\"\n}}");
    }
    s
}

/// A git repository of 10,000 commits, each touching one to four files of
/// the generated services, written with `git fast-import`.
fn generated_repository(dir: &Path) {
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .current_dir(dir)
            .args(args)
            .status()
            .expect("git");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    let mut stream = String::new();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for c in 0..COMMITS {
        let _ = write!(
            stream,
            "commit refs/heads/main\ncommitter t <t@example.com> {} +0000\ndata 2\nc\n",
            1_700_000_000 + c
        );
        // The first commit adds every input, so that each one exists.
        if c == 0 {
            for service in 0..IMAGES {
                let _ = write!(stream, "M 100644 inline svc{service}/go.mod\ndata 2\nm\n");
                let _ = write!(
                    stream,
                    "M 100644 inline svc{service}/config/app.yaml\ndata 2\nc\n"
                );
                for k in 2..STEPS_PER_IMAGE {
                    let _ = write!(
                        stream,
                        "M 100644 inline svc{service}/pkg{k}/file0.go\ndata 2\ng\n"
                    );
                }
            }
        }
        for _ in 0..1 + next(4) {
            let service = next(IMAGES);
            let path = match next(10) {
                0 => format!("svc{service}/go.mod"),
                1 | 2 => format!("svc{service}/config/app.yaml"),
                k => format!("svc{service}/pkg{}/file{}.go", k.max(2), next(5)),
            };
            let content = format!("{c}\n");
            let _ = write!(
                stream,
                "M 100644 inline {path}\ndata {}\n{content}",
                content.len()
            );
        }
        stream.push('\n');
    }
    let mut child = Command::new("git")
        .current_dir(dir)
        .args(["fast-import", "--quiet"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("git fast-import");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stream.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    git(&["checkout", "-q", "main"]);
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    println!("Rebuild cost over each history (cache model, costs by kind; lower is better)\n");
    println!(
        "| history | commits | baseline (COPY . . first) | manifests first | stowplan | stowplan / baseline | stowplan / manifests first | stowplan, order kept | stowplan / order kept | kept / baseline | oracle | stowplan / oracle | kept / oracle |"
    );
    println!(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    let rows = rebuild_table();
    let (mut sum_ratio, mut sum_mf, mut n_mf, mut sum_kept) = (0.0, 0.0, 0, 0.0);
    let (mut sum_oracle, mut sum_kept_oracle, mut sum_moved) = (0.0, 0.0, 0.0);
    for row in &rows {
        let ratio = row.ours / row.baseline;
        let kept = row.written / row.baseline;
        sum_ratio += ratio;
        sum_kept += kept;
        sum_oracle += row.ours / row.oracle;
        sum_kept_oracle += row.written / row.oracle;
        sum_moved += row.ours / row.written;
        let (mf, mf_ratio) = match row.manifests_first {
            Some(mf) => {
                sum_mf += row.ours / mf;
                n_mf += 1;
                (format!("{mf:.0}"), format!("{:.2}", row.ours / mf))
            }
            None => ("-".into(), "-".into()),
        };
        println!(
            "| {} | {} | {:.0} | {mf} | {:.0} | {ratio:.2} | {mf_ratio} | {:.0} | {:.3} | {kept:.2} | {:.0} | {:.3} | {:.3} |",
            row.name,
            row.commits,
            row.baseline,
            row.ours,
            row.written,
            row.ours / row.written,
            row.oracle,
            row.ours / row.oracle,
            row.written / row.oracle
        );
    }
    let n = rows.len() as f64;
    println!(
        "| **mean** | | | | | **{:.2}** | **{:.2}** | | **{:.3}** | **{:.2}** | | **{:.3}** | **{:.3}** |",
        sum_ratio / n,
        if n_mf > 0 {
            sum_mf / n_mf as f64
        } else {
            f64::NAN
        },
        sum_moved / n,
        sum_kept / n,
        sum_oracle / n,
        sum_kept_oracle / n
    );

    println!(
        "\nThe optimizer's probabilities: by volatility class, or from `--history` (here the first half of each history), measured on the second half\n"
    );
    println!(
        "| history | commits | baseline | stowplan, classes | ratio | stowplan, history | ratio |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for row in &rows {
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.2} | {:.0} | {:.2} |",
            row.name,
            row.commits - row.commits / 2,
            row.late_baseline,
            row.late_classes,
            row.late_classes / row.late_baseline,
            row.late_history,
            row.late_history / row.late_baseline
        );
    }

    println!(
        "\nSpeed: {IMAGES} images, {} steps, {COMMITS} commits (`stowplan compile --history`, release)\n",
        IMAGES * STEPS_PER_IMAGE
    );
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    generated_repository(dir.path());
    let spec = generated_spec();
    std::fs::write(dir.path().join("stowplan.kdl"), &spec).unwrap();
    println!("(generated the repository in {})", ms(started.elapsed()));
    let mut runs = Vec::new();
    let mut stderr = String::new();
    for _ in 0..5 {
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_stowplan"))
            .current_dir(dir.path())
            .args(["compile", "--history", "-o", "Dockerfile"])
            .output()
            .expect("run stowplan");
        runs.push(started.elapsed());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    }
    assert!(stderr.is_empty(), "{stderr}");
    // The same work in-process, phase by phase.
    let source = SourceFile::new("stowplan.kdl", spec.clone());
    let mut phases: Vec<[Duration; 4]> = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        let history = History::from_git(dir.path()).unwrap();
        let t1 = Instant::now();
        let options = Options {
            order: OrderOptions {
                enabled: true,
                history: Some(HistorySource::ready(history)),
                layer_per_instruction: false,
            },
            ..Options::default()
        };
        let checked = benching::check(&source, &options).unwrap();
        let t2 = Instant::now();
        let selection = benching::select(&checked.output, &[]).unwrap();
        let planned = benching::plan_with(&source, &checked.output, &selection, &options);
        let t3 = Instant::now();
        let text = benching::emit_dockerfile(&planned.plan).unwrap();
        let t4 = Instant::now();
        assert!(text.len() > spec.len() / 2);
        phases.push([t1 - t0, t2 - t1, t3 - t2, t4 - t3]);
    }
    let phase = |k: usize| median(phases.iter().map(|p| p[k]).collect());
    println!(
        "In-process phases, one after the other; the binary reads the history while it parses the spec.\n"
    );
    println!(
        "| spec | read history (git) | parse + check | lower + optimize | emit | `stowplan compile --history` (median of 5) |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| {:.1} MiB | {} | {} | {} | {} | **{}** |",
        spec.len() as f64 / (1024.0 * 1024.0),
        ms(phase(0)),
        ms(phase(1)),
        ms(phase(2)),
        ms(phase(3)),
        ms(median(runs)),
    );
}
