#!/usr/bin/env bash
# Self-check of the oracle tools.
#
#   tests/oracle/test_selfcheck.sh            # check
#   tests/oracle/test_selfcheck.sh --update   # rewrite samples/*.expected.json
#
# 1. Every samples/NAME.Dockerfile is run through dockerfile_json.py and its
#    output (minus "file") must equal samples/NAME.expected.json; samples
#    named err_* must fail (exit 1, an "error" key), the others must pass.
# 2. stdin ("-") and several files in one call work.
# 3. A table of single words checks lex() directly against BuildKit's rules.
# 4. hadolint.sh passes a clean Dockerfile and fails on findings.
# Ends with a "N passed, N failed" line; exit status 1 if anything failed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$("$here/setup.sh")"

exec "$venv/bin/python" - "$here" "${1:-}" <<'PY'
import json, os, subprocess, sys, glob

here, mode = sys.argv[1], sys.argv[2]
sys.path.insert(0, here)
from dockerfile_json import lex, LexError

tool = [sys.executable, os.path.join(here, "dockerfile_json.py")]
passed = failed = 0

def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL %s %s" % (name, detail))

def run(args, stdin=None):
    p = subprocess.run(tool + args, input=stdin, capture_output=True)
    docs = [json.loads(l) for l in p.stdout.decode("utf-8").splitlines()]
    return p.returncode, docs

# 1. samples -----------------------------------------------------------------
for path in sorted(glob.glob(os.path.join(here, "samples", "*.Dockerfile"))):
    name = os.path.basename(path)[:-len(".Dockerfile")]
    rc, docs = run([path])
    doc = docs[0]
    del doc["file"]
    exp_path = path[:-len(".Dockerfile")] + ".expected.json"
    if mode == "--update":
        with open(exp_path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, ensure_ascii=False, indent=2)
            fh.write("\n")
    with open(exp_path, encoding="utf-8") as fh:
        expected = json.load(fh)
    want_err = name.startswith("err_")
    check(name + " exit", rc == (1 if want_err else 0), "rc=%d" % rc)
    check(name + " error-ness", ("error" in doc) == want_err, doc.get("error", ""))
    check(name + " output", doc == expected,
          "\n  got:  %s\n  want: %s" % (json.dumps(doc, ensure_ascii=False),
                                        json.dumps(expected, ensure_ascii=False)))

# 2. stdin and several files -------------------------------------------------
rc, docs = run(["-"], stdin='FROM scratch\nENV A="x y"\n'.encode())
check("stdin", rc == 0 and docs[0]["file"] == "-"
      and docs[0]["instructions"][1]["pairs"] == [["A", "x y"]], str(docs))
s = os.path.join(here, "samples")
rc, docs = run([os.path.join(s, "quoting.Dockerfile"),
                os.path.join(s, "err_copy_space.Dockerfile")])
check("multi-file", rc == 1 and len(docs) == 2 and "error" not in docs[0]
      and "error" in docs[1], str(rc))
rc, docs = run([os.path.join(s, "does-not-exist")])
check("missing file", rc == 1 and "error" in docs[0], str(docs))

# 3. lexer table: (word, ProcessWord result or None for an error, dollar) ---
BS = "\\"
cases = [
    ("plain", "plain", False),
    ("a" + BS + " b", "a b", False),          # escaped space, unquoted
    ("x" + BS + "y", "xy", False),            # unquoted: escape drops
    ("end" + BS, "end", False),               # trailing escape dropped
    ('"a b"', "a b", False),
    ('"q' + BS + '"q"', 'q"q', False),        # \" in double quotes
    ('"' + BS + BS + '"', BS, False),         # \\ in double quotes
    ('"' + BS + 't"', BS + "t", False),       # \t stays \t in dq
    ("'" + BS + "t'", BS + "t", False),       # single quotes: literal
    ("'a\"b'", 'a"b', False),
    ("\"a'b\"", "a'b", False),
    ("'it'" + BS + "''s'", "it's", False),
    ("'open", None, False),
    ('"open', None, False),
    ('"trail' + BS + '"', None, False),
    ("日本'語'", "日本語", False),
    ("$X", "$X", True),
    ("${X}", "${X}", True),
    ('"$X"', "$X", True),
    ("'$X'", "$X", False),
    (BS + "$X", "$X", False),
    ('"' + BS + '$X"', "$X", False),
    ("5$", "5$", True),                        # literal for BuildKit, still flagged
]
for word, want, want_dollar in cases:
    try:
        got, dollar = lex(word)
    except LexError:
        got, dollar = None, False
    check("lex %r" % word, (got, dollar) == (want, want_dollar),
          "got %r want %r" % ((got, dollar), (want, want_dollar)))
words, _ = lex('80 "81 82" \'83\'' + " 84" + BS + " 85", split=True)
check("lex split", words == ["80", "81 82", "83", "84 85"], str(words))
got, _ = lex('a "b" ' + BS + 'c ' + BS + BS + ' $d', skip_quotes=True)
check("lex skip_quotes", got == 'a "b" c ' + BS + ' $d', repr(got))

# 4. hadolint ----------------------------------------------------------------
import tempfile
hl = os.path.join(here, "hadolint.sh")
with tempfile.TemporaryDirectory() as tmp:
    clean = os.path.join(tmp, "clean.Dockerfile")
    dirty = os.path.join(tmp, "dirty.Dockerfile")
    with open(clean, "w") as fh:
        fh.write('FROM debian:12-slim\nWORKDIR /app\nCMD ["true"]\n')
    with open(dirty, "w") as fh:
        fh.write("FROM debian\nRUN echo `date`\n")
    p = subprocess.run([hl, clean], capture_output=True, text=True)
    check("hadolint clean", p.returncode == 0 and p.stdout == "", p.stdout)
    p = subprocess.run([hl, dirty], capture_output=True, text=True)
    check("hadolint dirty", p.returncode == 1 and "DL3006" in p.stdout
          and "SC2006" in p.stdout, p.stdout)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
