#!/usr/bin/env bash
# Seeds the fuzz corpora from the repository's own files, into
# tests/fuzz/target/seeds/TARGET/ (regenerated on every run, never
# committed: they would only duplicate the files they come from).
#
#   tests/fuzz/seed.sh        # then: cargo fuzz run spec corpus/spec target/seeds/spec
#
#   spec, fastkdl       every *.kdl of tests/, examples/, runtime-presets/,
#                       benchmarks/, and every ```kdl block of spec/*.md and
#                       README.md; fastkdl also gets the kdl crate's own
#                       compliance inputs when cargo has unpacked them
#   image_map           tests/e2e/images.kdl
#   explain_dockerfile  examples/*/Dockerfile, the benchmarks' Dockerfiles,
#                       tests/cases_cache/*.Dockerfile, each followed by a
#                       NUL and its .dockerignore when it has one
set -euo pipefail

fuzz="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$fuzz/../.." && pwd)"
seeds="$fuzz/target/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"/{spec,fastkdl,image_map,explain_dockerfile}

# One seed file per input, named after its path (a/b.kdl -> a_b.kdl).
seed() { # TARGET FILE [NAME]
    local name="${3:-${2#"$root"/}}"
    cp "$2" "$seeds/$1/${name//\//_}"
}

cd "$root"
while IFS= read -r -d '' f; do
    seed spec "$f"
    seed fastkdl "$f"
done < <(find tests examples runtime-presets benchmarks -name '*.kdl' -not -path 'tests/fuzz/*' -print0)

for doc in spec/*.md README.md; do
    awk -v out="$seeds/spec/${doc//\//_}" '
        /^[[:space:]]*```kdl/ { n++; file = out "." n ".kdl"; inside = 1; next }
        inside && /^[[:space:]]*```/ { inside = 0; close(file); next }
        inside { print > file }' "$doc"
done
cp "$seeds"/spec/*.md.*.kdl "$seeds/fastkdl/" 2>/dev/null || true

# The kdl crate's compliance suite, from the version Cargo.lock names.
kdl_version="$(awk '/^name = "kdl"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
for dir in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"kdl-$kdl_version"/tests/test_cases/input; do
    if [ -d "$dir" ]; then
        for f in "$dir"/*.kdl; do seed fastkdl "$f" "kdl-compliance_${f##*/}"; done
    fi
done

seed image_map tests/e2e/images.kdl

while IFS= read -r -d '' f; do
    name="${f//\//_}"
    if [ -f "$f.dockerignore" ]; then
        { cat "$f"; printf '\0'; cat "$f.dockerignore"; } > "$seeds/explain_dockerfile/$name"
    else
        seed explain_dockerfile "$f"
    fi
done < <(find examples benchmarks tests/cases_cache \( -name 'Dockerfile' -o -name 'Dockerfile.*' -o -name '*.Dockerfile' \) \
    -not -name '*.dockerignore' -print0)

for t in "$seeds"/*; do
    echo "seeds: $(find "$t" -type f | wc -l) for ${t##*/}"
done
