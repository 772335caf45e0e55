#!/usr/bin/env bash
# Install (or reuse) the SARIF validators the suite runs on every SARIF
# log stowplan writes (tests/suite/sarif.rs, tests/oracle/sarif_validate.py):
#
# - Microsoft's SARIF Multitool (npm @microsoft/sarif-multitool, whose
#   Linux package ships the self-contained `Sarif.Multitool` binary: no
#   .NET install needed), for `Sarif.Multitool validate`;
# - the SARIF 2.1.0 JSON schema, as Microsoft's @microsoft/jest-sarif
#   ships it (lib/schemas/sarif-2.1.0-rtm.5.json), for the `jsonschema`
#   package of the oracle venv (tests/oracle/requirements.txt).
#
#   tests/oracle/sarif-setup.sh      # prints the tools' folder on stdout
#
# Idempotent: reinstalls only when the pinned versions change. Progress on stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="${STOWPLAN_SARIF_TOOLS:-$root/target/sarif-tools}"
multitool_version=5.7.0
jest_sarif_version=1.0.0-beta.0
want="multitool=$multitool_version jest-sarif=$jest_sarif_version"
stamp="$dir/.stowplan-sarif-stamp"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "$dir"
    exit 0
fi

echo "sarif setup: installing the SARIF Multitool $multitool_version into $dir" >&2
rm -rf "$dir"
mkdir -p "$dir"
# --ignore-scripts: the Linux package's only script makes its binary
# executable, which is done below.
npm install --prefix "$dir" --no-audit --no-fund --no-save --ignore-scripts --loglevel=error \
    "@microsoft/sarif-multitool@$multitool_version" \
    "@microsoft/sarif-multitool-linux@$multitool_version" >&2
multitool="$dir/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
chmod u+x "$multitool"

echo "sarif setup: the SARIF 2.1.0 schema from @microsoft/jest-sarif $jest_sarif_version" >&2
(cd "$dir" && npm pack --silent "@microsoft/jest-sarif@$jest_sarif_version" >/dev/null)
tar -xzf "$dir"/microsoft-jest-sarif-*.tgz -C "$dir" package/lib/schemas/sarif-2.1.0-rtm.5.json
mv "$dir/package/lib/schemas/sarif-2.1.0-rtm.5.json" "$dir/sarif-schema-2.1.0.json"
rm -rf "$dir/package" "$dir"/microsoft-jest-sarif-*.tgz

# Smoke-check before declaring the tools good.
"$multitool" --version >/dev/null
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$dir/sarif-schema-2.1.0.json"

echo "$want" > "$stamp"
echo "$dir"
