#!/usr/bin/env bash
# Lint Dockerfiles with the venv's hadolint (see setup.sh).
#
#   tests/oracle/hadolint.sh FILE...
#
# Prints hadolint's findings (tty format, no colour) on stdout. Exit status:
# 0 when there is no finding at all, 1 on any finding (whatever its severity:
# hadolint's default failure threshold ignores "style" findings for its own
# exit code, this script does not), 2 when hadolint is missing or fails.
#
# Configuration: <repo>/.hadolint.yaml when it exists, and nothing else: the
# user's own hadolint config files (~/.config/hadolint.yaml, ...) are hidden
# so results are the same on every machine.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${STOWPLAN_VENV:-$root/target/oracle-venv}"
hadolint="$venv/bin/hadolint"

if [[ $# -eq 0 ]]; then
    echo "usage: $0 FILE..." >&2
    exit 2
fi
if [[ ! -x "$hadolint" ]]; then
    echo "hadolint.sh: $hadolint not found; run tests/oracle/setup.sh" >&2
    exit 2
fi

files=()
for f in "$@"; do
    [[ -f "$f" ]] || { echo "hadolint.sh: no such file: $f" >&2; exit 2; }
    files+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")")
done

args=(--no-color)
[[ -f "$root/.hadolint.yaml" ]] && args+=(--config "$root/.hadolint.yaml")

empty_home="$(mktemp -d)"
trap 'rm -rf "$empty_home"' EXIT

set +e
out="$(cd "$root" && HOME="$empty_home" XDG_CONFIG_HOME="$empty_home" \
       "$hadolint" "${args[@]}" "${files[@]}" 2>&1)"
rc=$?
set -e

[[ -n "$out" ]] && printf '%s\n' "$out"
if [[ $rc -eq 0 && -n "$out" ]]; then
    rc=1        # findings below hadolint's failure threshold still fail
fi
# hadolint exits 1 for findings; anything else is a tool failure.
if [[ $rc -ne 0 && $rc -ne 1 ]]; then
    rc=2
fi
exit "$rc"
