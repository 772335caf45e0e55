#!/usr/bin/env bash
# The test command: everything CI runs, runnable on a fresh machine.
#
#   tests/run.sh
#
# Installs what the suites need (the oracle venv: BuildKit's parser and
# hadolint; shellcheck when root), checks formatting and lints, runs every
# Rust suite, then the oracle self-check. Exits non-zero on any failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
step() { printf '\n==> %s\n' "$*"; }

step "oracle tools (BuildKit parser, hadolint, jsonschema)"
bash tests/oracle/setup.sh

step "SARIF validators (Microsoft's SARIF Multitool, the SARIF 2.1.0 schema)"
bash tests/oracle/sarif-setup.sh

if ! command -v shellcheck >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        step "installing shellcheck"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null 2>&1 \
            || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; }
    else
        echo "NOTE: shellcheck is missing and this is not a root Debian machine; its checks will say SKIPPED"
    fi
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --all-targets --locked -- -D warnings

step "cargo test"
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --locked --no-fail-fast
    # nextest does not run doctests.
    cargo test --locked --doc
else
    cargo test --locked --no-fail-fast
fi

# Coverage-guided fuzzing needs libFuzzer and a nightly toolchain: Linux.
fuzz_seconds="${FUZZ_SECONDS:-20}"
if [ "$(uname -s)" = Linux ]; then
    step "fuzzing (cargo fuzz, ${fuzz_seconds} s per target)"
    tests/fuzz/run.sh "$fuzz_seconds"
else
    echo
    echo "!!!! SKIPPED: fuzzing runs on Linux only (tests/fuzz/run.sh) !!!!"
fi

step "every example in spec/ and the README compiles as documented"
cargo build --locked --quiet
python3 tests/docs/check_examples.py spec/*.md README.md

step "the buildah replay's parsing and stand-ins (benchmarks/replay/test_replay.py)"
python3 benchmarks/replay/test_replay.py

step "oracle self-check"
bash tests/oracle/test_selfcheck.sh

step "examples: checked-in outputs match their specs"
cargo build --locked --quiet
for spec in examples/*/stowplan.kdl; do
    target/debug/stowplan check --outputs "$spec" --color never
done
# Every runtime preset passes the reference policy (found beside the spec).
target/debug/stowplan --deny warnings check examples/policy/presets.kdl --color never

if [ -x tests/e2e/run.sh ]; then
    if [ "$(id -u)" = 0 ] && [ "$(uname -s)" = Linux ]; then
        step "end-to-end builds with buildah"
        tests/e2e/run.sh
        step "real buildah builds of hostile values and paths (tests/suite/buildah.rs real_build*)"
        cargo test --locked --test suite -- --ignored buildah::real_build
        # A short replay of every shared history on buildah, compared step by step with the cache
        # model (spec/cache.md); fails on a disagreement benchmarks/replay/known.tsv does not list.
        # --seconds bounds it on a busy machine: the table says how many commits were replayed.
        step "the cache model against buildah (benchmarks/replay.sh --commits ${STOWPLAN_REPLAY_COMMITS:-8})"
        replay_start=$SECONDS
        benchmarks/replay.sh --commits "${STOWPLAN_REPLAY_COMMITS:-8}" --seconds 150
        echo "replay: $((SECONDS - replay_start)) s"
        step "every target of the monorepo's bake file, built as bake would (tests/e2e/bake.sh)"
        tests/e2e/bake.sh
        step "a monorepo of two contexts, each app from its folder (tests/e2e/contexts.sh)"
        tests/e2e/contexts.sh
        step "a generated .dockerignore sends only what the build reads (tests/e2e/dockerignore.sh)"
        tests/e2e/dockerignore.sh
        # Real open-source apps from the registries, on buildah, BuildKit and the script; a few
        # minutes (tests/corpus/README.md). The default leaves out the apps corpus.tsv marks
        # `slow`; STOWPLAN_CORPUS_APPS="a b" picks others, STOWPLAN_CORPUS_SLOW=1 adds them.
        step "real projects: tests/corpus/run.sh ${STOWPLAN_CORPUS_APPS:-(all but the slow apps)}"
        corpus_start=$SECONDS
        tests/corpus/run.sh
        echo "real projects: $((SECONDS - corpus_start)) s"
    else
        echo
        echo "!!!! SKIPPED: end-to-end builds need root on Linux (buildah); run tests/e2e/run.sh as root !!!!"
    fi
fi

if [ "$(id -u)" = 0 ] && [ "$(uname -s)" = Linux ]; then
    step "stowplan lock against real registries (tests/lock/registry.sh: distribution 2.8, open and htpasswd)"
    tests/lock/registry.sh
else
    echo
    echo "!!!! SKIPPED: stowplan lock's registry tests need root on Linux; run tests/lock/registry.sh as root !!!!"
fi

step "all tests passed"
