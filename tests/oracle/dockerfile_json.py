#!/usr/bin/env python3
"""Describe Dockerfiles as BuildKit understands them, as JSON.

Usage: dockerfile_json.py FILE...      (FILE may be "-" for stdin)

For each FILE one JSON document is printed on its own line of stdout:

    {"file": F, "directives": {...}, "instructions": [...]}   on success
    {"file": F, "error": "line N: ..."}                        on failure

Exit status: 0 if every file parsed, 1 if any file failed, 2 on bad usage.

Parsing is done by the `dockerfile` package (BuildKit v0.12.5's own parser).
That parser leaves quotes and backslash escapes in ENV/LABEL/ARG/COPY/...
words; BuildKit removes them later with its shell lexer
(frontend/dockerfile/shell/lex.go, `ProcessWord`). `lex()` below re-implements
that lexer's quote/escape rules WITHOUT variable expansion: every `$` that is
neither escaped nor inside single quotes is kept literally and reported as
"unescaped_dollar": true (conservatively: even a `$` BuildKit would keep, as
in `5$`). Flags (--chown=..., --mount=..., --platform=...) are reported raw,
but a `$` in them sets "unescaped_dollar" too, as BuildKit expands most.

Which parts BuildKit lexes (and so which parts are unquoted here):
  ENV/LABEL keys and values, ARG names and defaults, FROM image,
  COPY/ADD sources and dest (shell AND JSON form), WORKDIR, USER,
  STOPSIGNAL, VOLUME paths (shell AND JSON form), EXPOSE ports (also split
  on whitespace), COPY/ADD heredoc bodies when the delimiter is unquoted
  (quotes are then NOT special, but `\\` escapes and `$` are).
Never lexed (reported verbatim): RUN/CMD/ENTRYPOINT/HEALTHCHECK shell form
  (given to the shell as one string), any exec/JSON form of those and SHELL
  (plain JSON strings), RUN heredoc bodies, MAINTAINER, ONBUILD, flags.
"""

import json
import re
import sys

import dockerfile

# ---------------------------------------------------------------------------
# BuildKit shell lexer (quote/escape handling only)
# ---------------------------------------------------------------------------


class LexError(Exception):
    pass


def _go_isspace(ch):
    """unicode.IsSpace from Go (Python's isspace also accepts \\x1c-\\x1f)."""
    return ch.isspace() and not "\x1c" <= ch <= "\x1f"


# The variables the lexer would expand in the instruction being described, in
# order: `$NAME` / `${NAME...}` give NAME, a `$` before anything else "".
# describe() resets it and reports it as "expands" when not empty.
_EXPANDS = []


def _record_expansion(word, i):
    """Notes the variable an unescaped `$` at word[i - 1] names."""
    m = re.match(r"\{?([A-Za-z_][A-Za-z0-9_]*)", word[i:])
    _EXPANDS.append(m.group(1) if m else "")


def lex(word, escape="\\", split=False, skip_quotes=False):
    """Unquote `word` like BuildKit's Lex.ProcessWord (no `$` expansion).

    Returns (result, dollar) or, with split=True, (words, dollar) like
    Lex.ProcessWords. Rules (lex.go):
      * outside quotes: ESC+c -> c for any c (ESC at the very end is dropped)
      * '...'  literal, no escapes at all
      * "..."  ESC+c -> c only for c in  " $ ESC ; otherwise ESC stays
      * skip_quotes: quotes are ordinary characters (COPY heredoc bodies)
    """
    # lex.go reads the word through Go's text/scanner, which skips a byte
    # order mark at the very start of its input.
    if word.startswith("\ufeff"):
        word = word[1:]
    out = []          # ProcessWord result
    words = []        # ProcessWords result
    cur = []
    in_word = False
    dollar = False
    i, n = 0, len(word)

    def add_char(c):              # wordsStruct.addChar
        nonlocal cur, in_word
        if _go_isspace(c):
            if in_word and cur:
                words.append("".join(cur))
                cur, in_word = [], False
        else:
            cur.append(c)
            in_word = True

    def add_raw(s):               # wordsStruct.addRawChar / addRawString
        nonlocal in_word
        cur.append(s)
        in_word = True

    while i < n:
        ch = word[i]
        if ch == "$":
            dollar = True
            _record_expansion(word, i + 1)
            out.append(ch)
            add_char(ch)
            i += 1
        elif ch == "'" and not skip_quotes:
            j = word.find("'", i + 1)
            if j < 0:
                raise LexError("unexpected end of statement while looking "
                               "for matching single-quote")
            out.append(word[i + 1:j])
            add_raw(word[i + 1:j])
            i = j + 1
        elif ch == '"' and not skip_quotes:
            i += 1
            buf = []
            while True:
                if i >= n:
                    raise LexError("unexpected end of statement while "
                                   "looking for matching double-quote")
                c = word[i]
                i += 1
                if c == '"':
                    break
                if c == "$":
                    dollar = True
                    _record_expansion(word, i)
                elif c == escape and i < n and word[i] in ('"', "$", escape):
                    c = word[i]
                    i += 1
                elif c == escape and i >= n:
                    continue      # ignored; the loop then reports EOF
                buf.append(c)
            out.append("".join(buf))
            add_raw("".join(buf))
        else:
            i += 1
            if ch == escape:
                if i >= n:
                    break
                ch = word[i]
                i += 1
                add_raw(ch)
            else:
                add_char(ch)
            out.append(ch)
    if cur:
        words.append("".join(cur))
    return (words if split else "".join(out)), dollar


# ---------------------------------------------------------------------------
# Instructions
# ---------------------------------------------------------------------------

KNOWN = set(dockerfile.all_cmds())
STAGE_NAME = re.compile(r"^[a-z][a-z0-9-_.]*$")
DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
HEREDOC_WORD = re.compile(r"""(?<!\S)(\d*)<<(-?)(?:(['"])(.*?)\3|([^\s'"<]+))""")


class BadInstruction(Exception):
    pass


def parse_directives(text):
    """Leading `# key=value` parser directives (escape, syntax, check)."""
    found = {}
    for line in text.splitlines():
        m = DIRECTIVE.match(line)
        if not m or m.group(1).lower() in found:
            break
        found[m.group(1).lower()] = m.group(2)
    return found


def heredocs_of(c, lexed_body, escape):
    """Heredocs of one instruction, with BuildKit's chomp/expand applied."""
    first_line = c.original.split("\n", 1)[0]
    specs = [(m.group(4) if m.group(3) else m.group(5), m.group(2) == "-",
              not m.group(3)) for m in HEREDOC_WORD.finditer(first_line)]
    docs, dollar = [], False
    for h in c.heredocs:
        chomp, expand = next(((ch, ex) for name, ch, ex in specs
                              if name == h.name), (False, True))
        content = h.content
        if chomp:
            content = re.sub(r"(?m)^\t+", "", content)
        if lexed_body and expand:
            # ExpandRaw: NewLex('\\') with SkipProcessQuotes, whatever the
            # file's escape directive says.
            content, d = lex(content, "\\", skip_quotes=True)
            dollar = dollar or d
        docs.append({"name": h.name, "fd": h.file_descriptor,
                     "chomp": chomp, "expand": expand, "content": content})
    return docs, dollar


def describe(c, escape):
    """JSON-able dict for one dockerfile.Command."""
    cmd = c.cmd.lower()
    if cmd not in KNOWN:
        raise BadInstruction("unknown instruction: " + c.cmd)
    d = {"cmd": cmd, "line": c.start_line, "flags": list(c.flags)}
    dollar = False
    _EXPANDS.clear()

    def w(word):                        # lex one word, tracking `$`
        nonlocal dollar
        s, dl = lex(word, escape)
        dollar = dollar or dl
        return s

    for f in c.flags:                   # BuildKit expands most flag values
        try:
            dollar = lex(f, escape)[1] or dollar
        except LexError:
            dollar = dollar or "$" in f
    v = list(c.value)
    shellish = not c.json and bool(v) and v[0].lstrip().startswith("[")

    if cmd in ("env", "label"):
        d["pairs"] = [[w(v[k]), w(v[k + 1])] for k in range(0, len(v), 2)]
    elif cmd == "arg":
        args = []
        for a in v:
            name, eq, default = a.partition("=")
            if not name:
                raise BadInstruction("ARG names can not be blank")
            args.append([w(name), w(default) if eq else None])
        d["args"] = args
    elif cmd == "from":
        if not (len(v) == 1 or (len(v) == 3 and v[1].lower() == "as")):
            raise BadInstruction("FROM requires either one or three arguments")
        d["image"] = w(v[0])
        d["as"] = v[2].lower() if len(v) == 3 else None
        if d["as"] is not None and not STAGE_NAME.match(d["as"]):
            raise BadInstruction("invalid name for build stage: %r" % v[2])
    elif cmd in ("copy", "add"):
        if len(v) < 2:
            raise BadInstruction("%s requires at least two arguments"
                                 % cmd.upper())
        d["json"] = c.json
        d["maybe_broken_json"] = shellish
        d["sources"] = [w(s) for s in v[:-1]
                        if c.json or not (c.heredocs and HEREDOC_WORD.fullmatch(s))]
        d["dest"] = w(v[-1])
        d["heredocs"], hd = heredocs_of(c, True, escape)
        dollar = dollar or hd
    elif cmd in ("run", "cmd", "entrypoint", "shell"):
        if cmd == "shell" and not c.json:
            raise BadInstruction("SHELL requires the arguments to be in "
                                 "JSON form")
        d["json"] = c.json
        d["maybe_broken_json"] = shellish
        d["args"] = v if (c.json or v != [""]) else []
        if cmd == "run":
            d["heredocs"] = heredocs_of(c, False, escape)[0]
    elif cmd == "healthcheck":
        kind = v[0].upper() if v else ""
        if kind not in ("CMD", "NONE"):
            raise BadInstruction("Unknown type %r in HEALTHCHECK" % kind)
        d["kind"] = kind
        d["json"] = c.json
        d["args"] = v[1:]
    elif cmd == "expose":
        ports = []
        for p in v:
            words, dl = lex(p, escape, split=True)
            dollar = dollar or dl
            ports.extend(words)
        d["ports"] = ports
    elif cmd == "volume":
        d["json"] = c.json
        d["paths"] = [w(p) for p in v]
    elif cmd in ("user", "workdir", "stopsignal"):
        if len(v) != 1:
            raise BadInstruction("%s requires exactly one argument"
                                 % cmd.upper())
        d["value"] = w(v[0])
    elif cmd == "maintainer":
        d["value"] = v[0] if v else ""
    elif cmd == "onbuild":
        d["trigger"] = (c.sub_cmd or "").lower()
        d["expression"] = re.sub(r"(?i)^\s*ONBUILD\s*", "", c.original)
    d["unescaped_dollar"] = dollar
    if _EXPANDS:
        d["expands"] = list(_EXPANDS)
    return d


def convert(text):
    directives = parse_directives(text)
    escape = directives.get("escape", "\\")
    out, seen_from = [], False
    for c in dockerfile.parse_string(text):
        try:
            d = describe(c, escape)
            if d["cmd"] == "from":
                seen_from = True
            elif d["cmd"] != "arg" and not seen_from:
                raise BadInstruction("no build stage in current context")
        except (LexError, BadInstruction) as e:
            raise BadInstruction("line %d: %s" % (c.start_line, e)) from None
        out.append(d)
    return {"directives": directives, "instructions": out}


def main(argv):
    if not argv or any(a in ("-h", "--help") for a in argv):
        sys.stderr.write(__doc__)
        return 2
    status = 0
    for path in argv:
        doc = {"file": path}
        try:
            if path == "-":
                text = sys.stdin.buffer.read().decode("utf-8")
            else:
                with open(path, "rb") as fh:
                    text = fh.read().decode("utf-8")
            doc.update(convert(text))
        except (OSError, UnicodeDecodeError, BadInstruction,
                dockerfile.GoParseError) as e:
            doc["error"] = str(e)
            status = 1
        sys.stdout.buffer.write(
            (json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8"))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
