#!/usr/bin/env bash
# Coverage-guided fuzzing with cargo fuzz (libFuzzer): builds the four
# targets, seeds their corpora from the repository (seed.sh), runs each
# for SECONDS, and fails on any crash, printing the input that caused it.
#
#   tests/fuzz/run.sh [SECONDS]     # per target; default 20
#
# The corpora libFuzzer grows stay in tests/fuzz/corpus/ (git-ignored), so
# local runs pick up where the last one stopped; crashes land in
# tests/fuzz/artifacts/TARGET/. See tests/README.md, "Fuzzing".
set -euo pipefail

seconds="${1:-20}"
fuzz="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$fuzz/../.." && pwd)"
cd "$root"
targets=(spec fastkdl image_map explain_dockerfile)

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo
    echo "!!!! SKIPPED: fuzzing needs a nightly toolchain (rustup toolchain install nightly) !!!!"
    if [ "${CI:-}" = true ]; then exit 1; fi
    exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

cargo fmt --manifest-path tests/fuzz/Cargo.toml -- --check

# Fuzz the library with exactly the dependency versions it ships with:
# start the fuzz crate's lockfile from the main one (cargo then only adds
# libfuzzer-sys and what it needs).
if [ ! -f tests/fuzz/Cargo.lock ] || [ Cargo.lock -nt tests/fuzz/Cargo.lock ]; then
    cp Cargo.lock tests/fuzz/Cargo.lock
fi

# --sanitizer none: the library forbids unsafe code, so AddressSanitizer
# would find nothing that a panic does not, at 2-3x the cost per run.
# --debug-assertions: integer overflow and debug_assert! are findings too.
flags=(--fuzz-dir tests/fuzz --sanitizer none --debug-assertions)
cargo +nightly fuzz build "${flags[@]}"

bash tests/fuzz/seed.sh

marker="$(mktemp)"
trap 'rm -f "$marker"' EXIT
failed=()
for t in "${targets[@]}"; do
    mkdir -p "tests/fuzz/corpus/$t" "tests/fuzz/artifacts/$t"
    dict=()
    if [ "$t" != explain_dockerfile ]; then dict=(-dict=tests/fuzz/kdl.dict); fi
    log="tests/fuzz/target/$t.log"
    # -timeout: one input running 10 s is a hang; -rss_limit_mb: a blow-up.
    if cargo +nightly fuzz run "${flags[@]}" "$t" \
        "tests/fuzz/corpus/$t" "tests/fuzz/target/seeds/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "${dict[@]}" >"$log" 2>&1; then
        runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')"
        echo "fuzz $t: ${seconds} s, $runs runs, no crash"
    else
        failed+=("$t")
        echo
        echo "!!!! fuzz $t FAILED; the end of its log ($log):"
        tail -n 60 "$log"
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo
    echo "!!!! fuzzing found crashes in: ${failed[*]}"
    while IFS= read -r -d '' input; do
        t="$(basename "$(dirname "$input")")"
        echo "---- $input; reproduce with:"
        echo "     cargo +nightly fuzz run ${flags[*]} $t $input"
        od -c "$input" | head -n 40
    done < <(find tests/fuzz/artifacts -type f -newer "$marker" -print0)
    exit 1
fi
