#!/usr/bin/env python3
"""Replays a shared history against buildah's layer cache and compares, step
by step, with the cache model (`stowplan explain --builder buildah`).

Run it through benchmarks/replay.sh, which takes the e2e lock and checks it
runs as root. For one history NAME (benchmarks/histories/NAME.jsonl and
benchmarks/NAME/stowplan.kdl):

1. a context tree holds every path the history touches (one line of text
   each), and whatever the spec's copies and bind mounts name that the
   history does not;
2. the spec is compiled for buildah (`--builder buildah-1.28-docker`, base
   images mapped to the local ones of tests/e2e/setup.sh); each RUN's
   command is replaced by a stand-in that hashes what the stage copied and
   bound and writes the digest into every path another stage copies from
   it, so a copy from a stage changes exactly when that stage's inputs did
   (the real commands need their registries and real sources). Everything
   else in the Dockerfile, the mounts of each RUN included, is left as it
   is, on the same lines;
3. the Dockerfile is built once with `buildah build --layers`; then, for
   each sampled commit, the paths it touched get new content and the image
   is rebuilt: a step is cached when buildah says `Using cache` for it;
4. `stowplan explain --builder buildah --changed PATHS` says the same of
   every instruction; FROM lines are left out (buildah has no verdict for
   them: the step after says it).

Prints a table per history and every disagreement; exits 1 when one is not
listed in the known file (benchmarks/replay/known.tsv).
"""

import argparse
import concurrent.futures
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SPEC_NAME = "stowplan.kdl"
# Files whose content is read as a list of patterns: they get a comment,
# never a line that would exclude something.
IGNORE_FILES = {".dockerignore", ".containerignore"}


def log(msg):
    print(f"[replay {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def read_history(name):
    with open(os.path.join(ROOT, "benchmarks", "histories", f"{name}.jsonl")) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    return lines[0], lines[1:]


def sample(commits, n):
    """n commits spread evenly over the history, oldest first (all when n
    is at least its length)."""
    if n >= len(commits):
        return list(commits)
    return [commits[i * len(commits) // n] for i in range(n)]


def context_paths(commits):
    """Every path the history touches that can be a file: a path that is
    also a folder of another (a file replaced by a folder over time) stays
    a folder."""
    paths = {p for c in commits for p in c["changed"]}
    folders = set()
    for p in paths:
        parts = p.split("/")
        for i in range(1, len(parts)):
            folders.add("/".join(parts[:i]))
    return {p for p in paths if p not in folders and p != SPEC_NAME}


def content(path, version, nonce):
    name = os.path.basename(path)
    if name in IGNORE_FILES:
        return f"# {version} {nonce}\n"
    return f"{path} {version} {nonce}\n"


def write(ctx, path, text):
    full = os.path.join(ctx, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)


# ---------------------------------------------------------------- Dockerfile


def instructions(text):
    """(first line, physical line count, keyword, logical text) of every
    instruction; continuation lines joined."""
    out = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.lstrip().startswith("#"):
            i += 1
            continue
        start, parts = i, []
        while True:
            cur = lines[i].rstrip()
            if cur.endswith("\\"):
                parts.append(cur[:-1].strip())
                i += 1
            else:
                parts.append(cur.strip())
                i += 1
                break
        logical = " ".join(parts)
        out.append((start + 1, i - start, logical.split()[0].upper(), logical))
    return out


def stages(text):
    """Stages in order: name, and its instructions (line, keyword, text); the
    FROM is instruction 0."""
    result = []
    for line, count, kw, logical in instructions(text):
        if kw == "FROM":
            m = re.search(r"\sAS\s+(\S+)\s*$", logical, re.I)
            result.append({"name": m.group(1) if m else str(len(result)), "steps": []})
        result[-1]["steps"].append({"line": line, "count": count, "kw": kw, "text": logical})
    return result


def split_flags(logical):
    """`RUN --a --b cmd` -> (['--a', '--b'], 'cmd')."""
    rest = logical.split(None, 1)[1]
    flags = []
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        flags.append(flag)
        rest = rest.lstrip()
    return flags, rest


def resolve(workdir, dest):
    if dest.startswith("/"):
        return dest
    return os.path.normpath(os.path.join(workdir or "/", dest))


def stand_in(text):
    """The Dockerfile with each RUN's command replaced by its stand-in, on
    the same lines."""
    parsed = stages(text)
    by_name = {s["name"]: k for k, s in enumerate(parsed)}
    # What other stages copy out of each stage: the stand-in writes there.
    exported = {k: [] for k in range(len(parsed))}
    for s in parsed:
        for st in s["steps"]:
            if st["kw"] == "COPY":
                flags, rest = split_flags(st["text"])
                src = [f.split("=", 1)[1] for f in flags if f.startswith("--from=")]
                if src and src[0] in by_name:
                    exported[by_name[src[0]]].extend(rest.split()[:-1])
    lines = text.split("\n")
    reads_of = {}
    for k, s in enumerate(parsed):
        base = s["steps"][0]["text"].split()[1]
        workdir, reads = None, []
        if base in by_name:
            workdir, reads = reads_of[by_name[base]]
            reads = list(reads)
        for n, st in enumerate(s["steps"]):
            if st["kw"] == "WORKDIR":
                workdir = resolve(workdir, st["text"].split(None, 1)[1])
            elif st["kw"] in ("COPY", "ADD"):
                _, rest = split_flags(st["text"])
                *srcs, dest = rest.split()
                for src in srcs:
                    # A file lands as DEST/NAME; a folder's content, or what
                    # a wildcard matched, in DEST.
                    if dest.endswith("/") and not src.endswith("/") and "*" not in src:
                        reads.append(resolve(workdir, dest + os.path.basename(src)))
                    else:
                        reads.append(resolve(workdir, dest))
            elif st["kw"] == "RUN":
                flags, _ = split_flags(st["text"])
                binds = [
                    m.group(1)
                    for f in flags
                    if f.startswith("--mount=") and "type=bind" in f
                    for m in [re.search(r"target=([^,]+)", f)]
                    if m
                ]
                # Never the whole file system: a folder copied into `/`.
                hashed = " ".join(sorted(set(reads + binds) - {"/"})) or "/.replay"
                writes = []
                for path in exported[k]:
                    if path.endswith("/"):
                        writes.append(f"mkdir -p {path} && cp /.replay/state {path}.replay-state")
                    else:
                        writes.append(f"mkdir -p {os.path.dirname(path) or '/'} && cp /.replay/state {path}")
                cmd = (
                    "set -e; mkdir -p /.replay; "
                    f"{{ cat /.replay/state 2>/dev/null || :; echo {s['name']}.{n}; "
                    f"find {hashed} -type f 2>/dev/null | LC_ALL=C sort | xargs -r sha256sum; }}"
                    " | sha256sum > /.replay/state.new; mv /.replay/state.new /.replay/state"
                    + "".join(f"; {w}" for w in writes)
                )
                first = st["line"] - 1
                lines[first] = " ".join(["RUN"] + flags + [cmd])
                for extra in range(1, st["count"]):
                    lines[first + extra] = ""
        reads_of[k] = (workdir, reads)
    return "\n".join(lines)


def sources(text):
    """Context paths the Dockerfile's copies and bind mounts name."""
    out = []
    for line, count, kw, logical in instructions(text):
        if kw in ("COPY", "ADD"):
            flags, rest = split_flags(logical)
            if not any(f.startswith("--from=") for f in flags):
                out.extend(rest.split()[:-1])
        elif kw == "RUN":
            flags, _ = split_flags(logical)
            for f in flags:
                if f.startswith("--mount=") and "type=bind" in f and "from=" not in f:
                    m = re.search(r"source=([^,]+)", f)
                    if m:
                        out.append(m.group(1))
    return out


def fill_sources(ctx, text, nonce):
    """Creates what a copy or bind names and the history never touched, so
    that the build does not fail on it (never changed afterwards)."""
    made = []
    for src in sources(text):
        if src in (".", "./") or glob.glob(os.path.join(ctx, src)):
            continue
        path = src.rstrip("/")
        if src.endswith("/"):
            path += "/.replay-keep"
        path = path.replace("*", "replay")
        write(ctx, path, content(path, "initial", nonce))
        made.append(path)
    return made


# ---------------------------------------------------------------- builder and model


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


STEP = re.compile(r"^(?:\[(\d+)/\d+\] )?STEP (\d+)/\d+: ")


def build(args, name, dockerfile, ctx, tag, logfile):
    """Builds; returns {(stage, step): cached} for every step buildah ran."""
    cmd = [
        "buildah", "build", "--format", "docker", "--pull=never", "--layers",
        "--network=host", "-f", dockerfile, "-t", tag, ctx,
    ]
    env = dict(os.environ)
    if args.stores:
        env["CONTAINERS_STORAGE_CONF"] = os.path.join(args.stores, name, "storage.conf")
    done = run(cmd, env=env)
    with open(logfile, "a") as f:
        f.write(f"=== {' '.join(cmd)}\n" + done.stdout + done.stderr)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit(f"buildah build failed (log: {logfile})")
    # Layers of the build before that this one did not reuse can never be
    # reused (every commit's content is new): removing them keeps buildah's
    # cache lookup, which reads every image in the store, fast.
    ids = {line.split()[-1][:11] for line in done.stdout.splitlines() if line.startswith("--> ")}
    stale = sorted(args.ids.get(name, set()) - ids)
    args.ids[name] = ids
    if stale:
        run(["buildah", "rmi", *stale], env=env)
    return read_verdicts(done.stdout)


def read_verdicts(stdout):
    """{(stage, step): cached} from buildah's output. Every step but a FROM
    ends with a `--> ID` line, after `--> Using cache ID` when cached. A
    stage is built where a later one first needs it (`COPY --from`): its
    steps come between that step's line and its end, so open steps are a
    stack."""
    verdicts, open_steps = {}, []
    for line in stdout.splitlines():
        m = STEP.match(line)
        if m:
            key = (int(m.group(1) or 1) - 1, int(m.group(2)) - 1)
            verdicts[key] = False
            if not line[m.end():].startswith("FROM "):
                open_steps.append(key)
        elif line.startswith("--> Using cache "):
            if open_steps:
                verdicts[open_steps[-1]] = True
        elif line.startswith("--> ") and open_steps:
            open_steps.pop()
    return verdicts


VERDICT = re.compile(r"^\s+L(\d+)\s+(cached|rebuilt)\b")


def explain(args, spec, changed):
    cmd = [
        args.stowplan, "explain", spec, "--builder", "buildah",
        "--image-map", args.image_map, "--color", "never",
    ]
    if changed:
        cmd += ["--changed", *changed]
    done = run(cmd)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit("stowplan explain failed")
    return read_explain(done.stdout)


def read_explain(text):
    """{line: cached} from explain's output."""
    out = {}
    for line in text.splitlines():
        m = VERDICT.match(line)
        if m:
            out[int(m.group(1))] = m.group(2) == "cached"
    return out


def load_known(path):
    """(history, line, model, buildah) of the disagreements spec/cache.md
    explains."""
    known = set()
    if os.path.exists(path):
        for line in open(path):
            line = line.split("#", 1)[0].strip()
            if line:
                h, ln, model, builder = line.split()[:4]
                known.add((h, int(ln), model, builder))
    return known


def replay(args, name):
    _, commits = read_history(name)
    picked = sample(commits, args.commits)
    work = os.path.join(args.work, name)
    ctx = os.path.join(work, "context")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(ctx)
    files = context_paths(commits)
    for p in sorted(files):
        write(ctx, p, content(p, "initial", args.nonce))
    shutil.copy(os.path.join(ROOT, "benchmarks", name, SPEC_NAME), os.path.join(ctx, SPEC_NAME))
    spec = os.path.join(ctx, SPEC_NAME)
    compiled = run([
        args.stowplan, "compile", spec, "--builder", "buildah-1.28-docker",
        "--image-map", args.image_map, "--color", "never",
    ])
    if compiled.returncode != 0:
        sys.stderr.write(compiled.stderr)
        raise SystemExit("stowplan compile failed")
    model_df = compiled.stdout
    filled = fill_sources(ctx, model_df, args.nonce)
    # The Dockerfile lives outside the context: a history may touch one.
    with open(os.path.join(work, "Dockerfile.model"), "w") as f:
        f.write(model_df)
    built_df = os.path.join(work, "Dockerfile")
    with open(built_df, "w") as f:
        f.write(stand_in(model_df))
    parsed = stages(model_df)
    where = {}  # (stage, step) -> (line, text)
    for k, s in enumerate(parsed):
        for n, st in enumerate(s["steps"]):
            where[(k, n)] = (st["line"], st["text"])
    tag = f"localhost/stowplan-replay/{name}:t"
    logfile = os.path.join(work, "build.log")
    log(f"{name}: {len(files)} paths, {len(filled)} made for the spec, {len(picked)} of {len(commits)} commits")
    build(args, name, built_df, ctx, tag, logfile)
    records = []
    result = {"history": name, "commits": len(picked), "of": len(commits),
              "compared": 0, "agreed": 0, "disagreements": []}
    started = time.time()
    for i, c in enumerate(picked):
        if args.seconds and time.time() > args.started + args.seconds:
            log(f"{name}: out of time after {i} commits")
            result["commits"] = i
            break
        changed = sorted(p for p in set(c["changed"]) if p in files)
        for p in changed:
            write(ctx, p, content(p, c["commit"][:12], args.nonce))
        actual = build(args, name, built_df, ctx, tag, logfile)
        # FROM has no verdict of its own: the step after it says.
        record = {
            "history": name, "commit": c["commit"][:12], "changed": changed,
            "buildah": {str(where[k][0]): v for k, v in sorted(actual.items()) if k[1] != 0},
            "text": {str(where[k][0]): where[k][1] for k in actual if k[1] != 0},
        }
        records.append(record)
        compare(result, record, explain(args, spec, changed))
        agreed, compared = result["agreed"], result["compared"]
        disagreements = result["disagreements"]
        if (i + 1) % 20 == 0:
            log(f"{name}: {i + 1}/{len(picked)} commits, {agreed}/{compared} agree, "
                f"{len(disagreements)} disagreements, {time.time() - started:.0f} s")
    result["seconds"] = time.time() - started
    result["records"] = records
    return result


def compare(result, record, model):
    """Adds one commit's comparison to a history's result."""
    verdict = lambda cached: "cached" if cached else "rebuilt"
    for line, cached in record["buildah"].items():
        line = int(line)
        if line not in model:
            continue  # a stage no image needs: the model lists none
        result["compared"] += 1
        if model[line] == cached:
            result["agreed"] += 1
            continue
        result["disagreements"].append({
            "commit": record["commit"], "line": line, "text": record["text"][str(line)],
            "model": verdict(model[line]), "buildah": verdict(cached),
            "changed": record["changed"],
        })


def recheck(args):
    """Compares recorded builds (`--record`) with the model as it is now:
    a change to the model is measured without building again."""
    results = {}
    for line in open(args.recheck):
        record = json.loads(line)
        name = record["history"]
        if name not in results:
            results[name] = {"history": name, "commits": 0, "of": len(read_history(name)[1]),
                             "compared": 0, "agreed": 0, "disagreements": [], "seconds": 0}
        results[name]["commits"] += 1
        spec = os.path.join(ROOT, "benchmarks", name, SPEC_NAME)
        compare(results[name], record, explain(args, spec, record["changed"]))
    return list(results.values())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--commits", type=int, default=200)
    p.add_argument("--stowplan", default=os.path.join(ROOT, "target", "debug", "stowplan"))
    p.add_argument("--image-map", default=os.path.join(HERE, "images.kdl"))
    p.add_argument("--known", default=os.path.join(HERE, "known.tsv"))
    p.add_argument("--work")
    p.add_argument("--nonce", help="in every file's content: no cache from an earlier run")
    p.add_argument("--jobs", type=int, default=4, help="histories replayed at once")
    p.add_argument("--seconds", type=float, help="stop replaying after this long (the table says how many)")
    p.add_argument("--stores", help="a containers store per history: STORES/HISTORY/storage.conf")
    p.add_argument("--record", help="write buildah's verdicts per commit here (JSON lines)")
    p.add_argument("--recheck", help="compare a --record file with the model, building nothing")
    p.add_argument("histories", nargs="*")
    args = p.parse_args()
    args.ids = {}  # the image ids of each history's last build
    args.started = time.time()
    known = load_known(args.known)
    if args.recheck:
        return report(recheck(args), known, args)
    # The histories are independent (an image tag and a context each): they
    # replay side by side, so the builder's waits on one overlap another's work.
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda h: replay(args, h), args.histories))
    if args.record:
        with open(args.record, "w") as f:
            for r in results:
                for record in r["records"]:
                    f.write(json.dumps(record, sort_keys=True) + "\n")
    return report(results, known, args)


def report(results, known, args):
    print("| history | commits replayed | steps compared | agree | agreement |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for r in results:
        pct = 100.0 * r["agreed"] / r["compared"] if r["compared"] else 100.0
        print(f"| {r['history']} | {r['commits']} of {r['of']} | {r['compared']:,} | {r['agreed']:,} | {pct:.1f}% |")
    unknown = 0
    for r in results:
        for d in r["disagreements"]:
            key = (r["history"], d["line"], d["model"], d["buildah"])
            mark = "known" if key in known else "NEW"
            unknown += key not in known
            print(
                f"{mark}: {r['history']} commit {d['commit']} L{d['line']} `{d['text'][:60]}`: "
                f"model {d['model']}, buildah {d['buildah']} (changed {', '.join(d['changed'][:5])}"
                f"{' ...' if len(d['changed']) > 5 else ''})"
            )
    for r in results:
        log(f"{r['history']}: {r['seconds']:.0f} s")
    if unknown:
        print(f"{unknown} disagreement(s) not in {os.path.relpath(args.known, ROOT)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
