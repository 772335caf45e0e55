#!/usr/bin/env python3
"""Verify every ```kdl block in a markdown file against the compiler.

- a block whose first line is `// error: CODE` must fail with CODE;
- a block starting with `stowplan 1` is compiled as is;
- any other block is wrapped in `image "app" { from "debian:bookworm-slim" ... }`;
- a block whose first line is `// stowplan.policy.kdl` is a policy
  (spec/policy.md): it must read without error, and the blocks after it in
  the same file are compiled with it beside them, as `stowplan.policy.kdl`
  next to the spec, until the next policy block;
- a block's `// .dockerignore: LINE` comments are written, in order, to a
  `.dockerignore` beside the spec (the build context's);
- a block's `// compile: ARGS` comments add ARGS to its `stowplan compile`.
A ```dockerfile block right after a successful kdl block must equal the
output (full specs: without the header; wrapped: the lines after FROM).
A ```text block right after an error block must equal the human rendering.
"""
import os, re, subprocess, sys, tempfile

BIN = os.environ.get("STOWPLAN") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "target", "debug", "stowplan")
WRAP_HEAD = 'stowplan 1\nimage "app" {\n    from "debian:bookworm-slim"\n'

def blocks(text):
    out = []
    for m in re.finditer(r"^```(\w*)\n(.*?)^```\n", text, re.M | re.S):
        out.append((m.group(1), m.group(2), m.start(), m.end()))
    return out

POLICY = None

def run(spec, args=()):
    d = tempfile.mkdtemp()
    p = os.path.join(d, "stowplan.kdl")
    open(p, "w").write(spec)
    # A repository root here, so that the policy search stops in the folder.
    os.mkdir(os.path.join(d, ".git"))
    if POLICY is not None:
        open(os.path.join(d, "stowplan.policy.kdl"), "w").write(POLICY)
    ignore = [l.split(":", 1)[1].strip() for l in spec.splitlines() if l.strip().startswith("// .dockerignore:")]
    if ignore:
        open(os.path.join(d, ".dockerignore"), "w").write("".join(l + "\n" for l in ignore))
    r = subprocess.run([BIN, "--color", "never", "compile", "stowplan.kdl", *args],
                       cwd=d, capture_output=True, text=True)
    rj = subprocess.run([BIN, "--message-format", "json", "compile", "stowplan.kdl", *args],
                        cwd=d, capture_output=True, text=True)
    return r, rj

def main(path):
    import json
    global POLICY
    POLICY = None
    text = open(path).read()
    bs = blocks(text)
    fails = 0
    n = 0
    for i, (lang, body, start, end) in enumerate(bs):
        if lang != "kdl":
            continue
        n += 1
        line = text[:start].count("\n") + 1
        nxt = bs[i + 1] if i + 1 < len(bs) else None
        between = text[end:nxt[2]].strip() if nxt else ''
        adjacent = bool(nxt) and len(between) < 80
        first = body.splitlines()[0] if body else ""
        if first.strip() == "// stowplan.policy.kdl":
            POLICY = body
            r, _ = run('stowplan 1\nimage "app" {\n    from "debian:bookworm-slim"\n}\n', ["--image", "app"])
            if r.returncode == 2:
                print(f"{path}:{line}: the policy does not read:\n{r.stderr}")
                fails += 1
            continue
        em = re.match(r"//\s*(error|warning):\s*(\S+)", first)
        full = body.lstrip().startswith("stowplan 1") or bool(em)
        spec = body if full else WRAP_HEAD + "".join("    " + l + "\n" if l else "\n" for l in body.splitlines()) + "}\n"
        # `// compile: ARGS` in a block: compiled with those arguments.
        extra = [a for l in spec.splitlines() if l.strip().startswith("// compile:")
                 for a in l.split(":", 1)[1].split()]
        r, rj = run(spec, extra)
        codes = [json.loads(l)["code"] for l in rj.stderr.splitlines() if l.startswith("{")]
        if em:
            want_rc = 1 if em.group(1) == "error" else 0
            if r.returncode != want_rc or em.group(2) not in codes:
                print(f"{path}:{line}: expected {em.group(2)}, got rc={r.returncode} {codes}\n{r.stderr}")
                fails += 1
                continue
            if nxt and nxt[0] == "text" and adjacent:
                if nxt[1] != r.stderr:
                    print(f"{path}:{line}: rendered diagnostic differs:\n--- doc\n{nxt[1]}--- actual\n{r.stderr}")
                    fails += 1
            continue
        if r.returncode != 0:
            print(f"{path}:{line}: does not compile:\n{r.stderr}")
            fails += 1
            continue
        out = r.stdout
        warns = [c for c in codes if c != "stowplan::flow::no-match" and not (not full and c == "stowplan::flow::no-command")]
        if warns and os.environ.get("WARN"):
            print(f"{path}:{line}: warnings {warns}")
        if full:
            shown = out.split("\n\n", 1)[1]
        else:
            shown = out.split("AS app\n", 1)[1]
        if nxt and nxt[0] == "dockerfile" and adjacent:
            if nxt[1] != shown:
                print(f"{path}:{line}: output differs:\n--- doc\n{nxt[1]}--- actual\n{shown}")
                fails += 1
    print(f"{path}: {n} kdl blocks, {fails} failures")
    return fails

if __name__ == "__main__":
    sys.exit(1 if sum(main(p) for p in sys.argv[1:]) else 0)
