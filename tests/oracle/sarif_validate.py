#!/usr/bin/env python3
"""Validate SARIF logs two ways; exit 1 on any problem, printing each.

    sarif_validate.py TOOLS_DIR FILE.sarif...

1. Microsoft's SARIF Multitool (`Sarif.Multitool validate`, from
   tests/oracle/sarif-setup.sh): every result it reports at level error or
   warning is a failure, except those in EXPLAINED below. Its notes
   (advice such as "consider message ids") are not failures.
2. The SARIF 2.1.0 JSON schema (shipped by @microsoft/jest-sarif, also
   from sarif-setup.sh), with the `jsonschema` package of the oracle venv.
   Both are needed: the Multitool stops silently at a value its object
   model cannot read (a result with `"level": "bogus"` gives no finding
   and exit 0), which the schema refuses.

Run it with the oracle venv's python (tests/oracle/setup.sh).
"""
import json
import os
import subprocess
import sys
import tempfile

import jsonschema

# Multitool findings that are expected, with the reason. Nothing else at
# level error or warning may appear.
EXPLAINED = {
    # "The tool does not provide 'informationUri'": stowplan has no public
    # home page to link to. The log names one as soon as Cargo.toml has a
    # `homepage` (report/sarif.rs reads CARGO_PKG_HOMEPAGE).
    "SARIF2005": "no informationUri: the package declares no homepage",
}


def multitool(tools, path):
    exe = os.path.join(tools, "node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool")
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "validation.sarif")
        run = subprocess.run([exe, "validate", path, "-o", out, "--quiet"],
                             capture_output=True, text=True)
        if run.returncode != 0 or not os.path.exists(out):
            return [f"Sarif.Multitool exited {run.returncode}: {run.stdout}{run.stderr}"]
        log = json.load(open(out))
    problems = []
    for r in log["runs"]:
        for inv in r.get("invocations", []):
            if not inv.get("executionSuccessful", True):
                problems.append(f"Sarif.Multitool failed: {inv.get('toolExecutionNotifications')}")
        for res in r.get("results", []):
            level = res.get("level", "warning")
            rule = res.get("ruleId")
            if level in ("error", "warning") and rule not in EXPLAINED:
                msg = res.get("message", {})
                problems.append(f"{level} {rule}: {msg.get('text') or msg.get('arguments')}")
    return problems


def schema_problems(tools, path):
    schema = json.load(open(os.path.join(tools, "sarif-schema-2.1.0.json")))
    validator = jsonschema.Draft4Validator(schema)
    log = json.load(open(path))
    return [f"schema: {'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(log)]


def main():
    tools, files = sys.argv[1], sys.argv[2:]
    failed = False
    for path in files:
        problems = multitool(tools, path) + schema_problems(tools, path)
        for p in problems:
            print(f"{path}: {p}")
        failed = failed or bool(problems)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
