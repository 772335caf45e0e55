//! Validation speed and memory on a large generated spec.
//!
//! `cargo bench --bench validate` prints the median time to decode, resolve
//! and validate specs of growing size (the largest: 5,000 stages and 20,000
//! artifacts), and the peak memory of one such run as a multiple of the
//! spec's size. Linear growth shows as a flat "µs per stage" column.

use std::time::{Duration, Instant};

use stowplan::{Options, SourceFile};

#[path = "../src/testkit/generate.rs"]
mod generate;
use generate::generate;

fn validate(text: &str) -> usize {
    let source = SourceFile::new("bench.kdl", text.to_owned());
    match stowplan::benching::check(&source, &Options::default()) {
        Ok(done) => done.output.stages.len() + done.warnings.len(),
        Err(diagnostics) => panic!("the generated spec must be valid: {}", diagnostics[0]),
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Peak resident memory of this process so far, from /proc (Linux).
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn main() {
    // The biggest spec first, alone, so the peak-memory reading is its own.
    let largest = generate(5_000);
    let before = peak_rss_bytes();
    let kept = validate(&largest);
    let after = peak_rss_bytes();
    std::hint::black_box(kept);

    println!(
        "| stages | artifacts | spec size | kdl crate parse (reference) | fast parse | stowplan decode+resolve+validate | total | µs per stage |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for stages in [625, 1_250, 2_500, 5_000] {
        let text = generate(stages);
        let time = |f: &dyn Fn()| -> Duration {
            median(
                (0..11)
                    .map(|_| {
                        let start = Instant::now();
                        f();
                        start.elapsed()
                    })
                    .collect(),
            )
        };
        // The kdl crate's parse, for reference: decode uses it only for
        // documents the fast parser declines (errors, rare constructs).
        let reference = time(&|| {
            std::hint::black_box(kdl::KdlDocument::parse_v2(&text).expect("valid KDL"));
        });
        // The fast parser over the whole document; decode streams the same
        // parse node by node, so stowplan's share is the rest.
        let parse = time(&|| {
            std::hint::black_box(stowplan::benching::fast_parse(&text).expect("fast path"));
        });
        let total = time(&|| {
            std::hint::black_box(validate(&text));
        });
        let ours = total.saturating_sub(parse);
        println!(
            "| {stages} | {} | {:.1} MiB | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} |",
            stages * 4,
            text.len() as f64 / (1024.0 * 1024.0),
            reference.as_secs_f64() * 1e3,
            parse.as_secs_f64() * 1e3,
            ours.as_secs_f64() * 1e3,
            total.as_secs_f64() * 1e3,
            total.as_secs_f64() * 1e6 / stages as f64
        );
    }
    if let (Some(before), Some(after)) = (before, after) {
        let size = largest.len() as f64;
        // The text itself is held twice (the String and the SourceFile's copy).
        println!(
            "\npeak memory while validating 5,000 stages: {:.1} MiB over a {:.1} MiB spec = {:.1}x the spec's size",
            (after - before) as f64 / (1024.0 * 1024.0),
            size / (1024.0 * 1024.0),
            (after - before) as f64 / size
        );
    }
}
