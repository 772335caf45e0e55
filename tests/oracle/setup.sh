#!/usr/bin/env bash
# Create (or reuse) the Python venv holding the oracle tools.
#
#   tests/oracle/setup.sh            # prints the venv path on stdout
#   STOWPLAN_VENV=/some/dir tests/oracle/setup.sh
#
# Idempotent: the venv is (re)built only when it is missing or when
# requirements.txt (or the python3 version) changed since the last successful
# install, tracked by a stamp file inside the venv. Progress goes to stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${STOWPLAN_VENV:-$root/target/oracle-venv}"
req="$here/requirements.txt"
stamp="$venv/.stowplan-oracle-stamp"
python="${PYTHON:-python3}"

want="$(sha256sum "$req" | cut -d' ' -f1) $("$python" -c 'import sys; print(sys.version.split()[0])')"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "$venv"
    exit 0
fi

echo "oracle setup: creating venv at $venv" >&2
mkdir -p "$(dirname "$venv")"
rm -f "$stamp"
if ! "$python" -m venv --clear "$venv" >&2; then
    # Debian's python3 without python3-venv has no ensurepip: make a bare
    # venv and let the outer pip install into it.
    echo "oracle setup: python3 -m venv failed, retrying without pip" >&2
    "$python" -m venv --clear --without-pip "$venv" >&2
fi

pip_args=(install --disable-pip-version-check --no-input --quiet
          --only-binary=:all: -r "$req")
if [[ -x "$venv/bin/pip" ]]; then
    "$venv/bin/pip" "${pip_args[@]}" >&2
else
    "$python" -m pip --python "$venv/bin/python" "${pip_args[@]}" >&2
fi

# Smoke-check the tools before declaring the venv good.
"$venv/bin/python" -c 'import dockerfile; dockerfile.parse_string("FROM scratch\n")'
"$venv/bin/hadolint" --version >/dev/null
"$venv/bin/python" -c 'import jsonschema; jsonschema.Draft4Validator({})'

echo "$want" > "$stamp"
echo "$venv"
