//! What `stowplan init` reads out of a project's files: versions, entry
//! points, frameworks and ports. Pure functions of the text they are
//! given (reading the folder, bounded, is `starter.rs`'s job), each a
//! small, line-based scan: no file is parsed further than these
//! signals need, and anything unclear is left to a question in the spec.

/// A version as dotted numbers: `1.24.4` is `[1, 24, 4]`.
pub(crate) type Version = Vec<u64>;

/// `1.24.4`, `v20.11.1`, `go1.23.1`: the dotted numbers at the start
/// (after a `v` or `go`), at most three; `None` without a number.
pub(crate) fn version(text: &str) -> Option<Version> {
    let text = text.trim();
    let text = text
        .strip_prefix("go")
        .or_else(|| text.strip_prefix('v'))
        .unwrap_or(text);
    let mut parts = Vec::new();
    for part in text.split('.') {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() || digits.len() > 9 {
            break;
        }
        parts.push(digits.parse().ok()?);
        if digits.len() != part.len() || parts.len() == 3 {
            break;
        }
    }
    (!parts.is_empty()).then_some(parts)
}

pub(crate) fn dotted(v: &[u64]) -> String {
    v.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
}

/// What a project asks of a version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Want {
    /// An exact release: `.nvmrc`'s `20.11.1`.
    Exact(Version),
    /// A release line: `20`, `3.12`, `^20`, `~3.11`, `20.x`.
    Line(Version),
    /// A range of comparators that all must hold: `>=3.10,<3.13`.
    Range(Vec<(Cmp, Version)>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmp {
    Ge,
    Gt,
    Le,
    Lt,
}

impl Want {
    /// Whether `v` (the preset's default) is what the project asks for.
    pub(crate) fn admits(&self, v: &[u64]) -> bool {
        match self {
            Want::Exact(want) => v == want.as_slice(),
            Want::Line(line) => v.len() >= line.len() && v[..line.len()] == line[..],
            Want::Range(cmps) => cmps.iter().all(|(cmp, bound)| {
                let order = compare(v, bound);
                match cmp {
                    Cmp::Ge => order.is_ge(),
                    Cmp::Gt => order.is_gt(),
                    Cmp::Le => order.is_le(),
                    Cmp::Lt => order.is_lt(),
                }
            }),
        }
    }
}

/// Versions compared component by component, a missing one as 0.
pub(crate) fn compare(a: &[u64], b: &[u64]) -> std::cmp::Ordering {
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| {
            a.get(i)
                .copied()
                .unwrap_or(0)
                .cmp(&b.get(i).copied().unwrap_or(0))
        })
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

/// A version file's content (`.nvmrc`, `.node-version`, `.python-version`,
/// a bare `rust-toolchain`): an exact release with three numbers, a line
/// with fewer. `lts/*`, `stable`, `system` say nothing.
pub(crate) fn version_file(text: &str) -> Option<Want> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    let v = version(line)?;
    // `3.12.4` exactly; `3.12` or `20` a line; `20.11.1-alpine` is not ours.
    let rest_is_version = line
        .trim_start_matches(['v', 'g', 'o'])
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.');
    if !rest_is_version {
        return None;
    }
    Some(if v.len() == 3 {
        Want::Exact(v)
    } else {
        Want::Line(v)
    })
}

/// An npm-style range (package.json `engines.node`), or a PEP 440 one
/// (`requires-python`), or poetry's (`^3.11`): the alternatives of `||`
/// (the first one that the default admits wins, else the last).
pub(crate) fn ranges(text: &str) -> Vec<Want> {
    text.split("||").filter_map(range).collect()
}

fn range(text: &str) -> Option<Want> {
    let text = text.trim();
    let mut cmps = Vec::new();
    // `>=3.10,<3.13` (PEP 440) or `>=18 <21` (npm).
    for part in text
        .split([',', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (op, rest) = if let Some(r) = part.strip_prefix(">=") {
            (Some(Cmp::Ge), r)
        } else if let Some(r) = part.strip_prefix("<=") {
            (Some(Cmp::Le), r)
        } else if let Some(r) = part.strip_prefix('>') {
            (Some(Cmp::Gt), r)
        } else if let Some(r) = part.strip_prefix('<') {
            (Some(Cmp::Lt), r)
        } else {
            (None, part)
        };
        match op {
            Some(op) => cmps.push((op, version(rest.trim())?)),
            None => {
                // `^20`, `~3.11`, `~=3.11`, `==3.11.*`, `20.x`, `20`: a line
                // (for `^` and bare majors, the major; for `~` the minor).
                let caret = part.starts_with('^');
                let bare = part.trim_start_matches(['^', '~', '=', 'v']);
                let v = version(bare)?;
                let wildcard = bare.contains(['x', 'X', '*']);
                let line = if caret && v[0] > 0 {
                    vec![v[0]]
                } else if part.starts_with("~=") && v.len() >= 2 {
                    v[..v.len() - 1].to_vec()
                } else if part.starts_with('~') && v.len() >= 2 {
                    v[..2].to_vec()
                } else if v.len() == 3 && !wildcard && !caret {
                    return Some(Want::Exact(v));
                } else {
                    v
                };
                return Some(Want::Line(line));
            }
        }
    }
    (!cmps.is_empty()).then_some(Want::Range(cmps))
}

/// `go.mod`'s `toolchain go1.23.1`, else its `go 1.22.5` line, with the
/// directive's name.
pub(crate) fn go_mod(text: &str) -> Option<(Version, &'static str)> {
    let mut go = None;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("toolchain ") {
            if let Some(v) = version(rest) {
                return Some((v, "toolchain"));
            }
        } else if let Some(rest) = line.strip_prefix("go ") {
            go = version(rest).map(|v| (v, "go"));
        }
    }
    go
}

/// A string value of `key = "value"` in a TOML section (`[package]`,
/// `[project]`, `[toolchain]`), by plain lines: enough for the keys `init`
/// reads, which are one line each.
pub(crate) fn toml_value(text: &str, section: &str, key: &str) -> Option<String> {
    let mut inside = section.is_empty();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == format!("[{section}]");
            continue;
        }
        if !inside {
            continue;
        }
        let Some(rest) = line.strip_prefix(key) else {
            continue;
        };
        let Some(value) = rest.trim_start().strip_prefix('=') else {
            continue;
        };
        let value = value.trim();
        let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let inner = &value[1..];
        return inner.find(quote).map(|end| inner[..end].to_owned());
    }
    None
}

/// `Cargo.toml`'s `[[bin]]` targets, in order: each name and its `path`
/// (`src/bin/NAME.rs` when it has none).
pub(crate) fn cargo_bins(text: &str) -> Vec<(String, String)> {
    let mut bins: Vec<(String, Option<String>)> = Vec::new();
    let mut in_bin = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
            if in_bin {
                bins.push((String::new(), None));
            }
            continue;
        }
        let Some(bin) = bins.last_mut().filter(|_| in_bin) else {
            continue;
        };
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches(['"', '\'']).to_owned();
        match key.trim() {
            "name" => bin.0 = value,
            "path" => bin.1 = Some(value),
            _ => {}
        }
    }
    bins.into_iter()
        .filter(|(name, _)| !name.is_empty())
        .map(|(name, path)| {
            let path = path.unwrap_or_else(|| format!("src/bin/{name}.rs"));
            (name, path)
        })
        .collect()
}

/// The Java release a pom compiles for: `maven.compiler.release`,
/// `<release>` (the compiler plugin's), `java.version` (Spring Boot's) or
/// `maven.compiler.target`, in that order.
pub(crate) fn pom_release(text: &str) -> Option<(u64, &'static str)> {
    for tag in [
        "maven.compiler.release",
        "release",
        "java.version",
        "maven.compiler.target",
    ] {
        if let Some(value) = xml_element(text, tag) {
            // `1.8` is Java 8.
            let v = version(&value)?;
            let feature = if v[0] == 1 && v.len() > 1 { v[1] } else { v[0] };
            return Some((feature, tag));
        }
    }
    None
}

/// The text of the first `<tag>...</tag>`, trimmed.
pub(crate) fn xml_element(text: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = text.find(&open)? + open.len();
    let end = text[start..].find("</")? + start;
    let value = text[start..end].trim();
    (!value.is_empty() && !value.contains('$')).then(|| value.to_owned())
}

/// A Gradle build's Java release: `JavaLanguageVersion.of(17)`,
/// `JavaVersion.VERSION_17`, `sourceCompatibility = '17'`.
pub(crate) fn gradle_release(text: &str) -> Option<u64> {
    for needle in [
        "JavaLanguageVersion.of(",
        "JavaVersion.VERSION_",
        "sourceCompatibility",
    ] {
        if let Some(at) = text.find(needle) {
            let rest = text[at + needle.len()..].trim_start_matches([' ', '=', '\'', '"']);
            let rest = rest.replace('_', ".");
            let v = version(&rest)?;
            return Some(if v[0] == 1 && v.len() > 1 { v[1] } else { v[0] });
        }
    }
    None
}

/// The `web:` line of a Procfile.
pub(crate) fn procfile_web(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("web:"))
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
}

/// Whether a requirements file or a pyproject.toml depends on `name`.
pub(crate) fn depends_on(text: &str, name: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim().to_ascii_lowercase();
        let line = line.trim_start_matches(['"', '\'']);
        line.strip_prefix(name).is_some_and(|rest| {
            rest.is_empty()
                || rest.starts_with(['=', '<', '>', '~', '!', '[', ';', ' ', '"', '\'', ',', '@'])
        })
    })
}

/// The frameworks whose app object `init` looks for, with whether it is
/// an ASGI app (served by uvicorn) rather than a WSGI one (gunicorn).
const APPS: &[(&str, bool)] = &[
    ("FastAPI(", true),
    ("Starlette(", true),
    ("Litestar(", true),
    ("Quart(", true),
    ("Flask(", false),
    ("falcon.App(", false),
    ("Bottle(", false),
];

/// A module's app object: `app = Flask(__name__)` gives `("app", false)`.
pub(crate) fn app_object(text: &str) -> Option<(String, bool)> {
    for line in text.lines().take(2000) {
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let name = name.trim();
        let plain = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !line.starts_with([' ', '\t']);
        if !plain {
            continue;
        }
        let rhs = value.trim();
        for (call, asgi) in APPS {
            // `Flask(` or `flask.Flask(`.
            if rhs.starts_with(call) || rhs.contains(&format!(".{call}")) {
                return Some((name.to_owned(), *asgi));
            }
        }
    }
    None
}

/// The port a file says the app listens on, and the words that say it:
/// `.listen(3000`, `PORT || 8080`, `PORT", 5000`, `ListenAndServe(":8080"`,
/// `--port 8000`, `-b 0.0.0.0:8000`, `port=5000`, `EXPOSE 8080`,
/// `server.port=8081`, `internal_port = 8080`, `0.0.0.0:3000`. The first
/// in the file wins; only the first 2,000 lines are read.
pub(crate) fn port(text: &str) -> Option<(u16, String)> {
    for line in text.lines().take(2000) {
        let trimmed = line.trim();
        if trimmed.starts_with("//") || trimmed.starts_with('#') && !trimmed.starts_with("#!") {
            continue;
        }
        if let Some(found) = port_in_line(trimmed) {
            let shown: String = trimmed.chars().take(80).collect();
            return Some((found, shown));
        }
    }
    None
}

fn port_in_line(line: &str) -> Option<u16> {
    // Each needle, then what may stand between it and the number.
    const NEEDLES: &[(&str, &str)] = &[
        (".listen(", " "),
        ("PORT ||", " '\""),
        ("PORT||", " '\""),
        ("PORT ??", " '\""),
        ("PORT\",", " '\""),
        ("PORT',", " '\""),
        ("PORT\") ||", " '\""),
        ("PORT') ||", " '\""),
        ("PORT\", default=", " '\""),
        ("--port", " ="),
        ("server.port", " =:"),
        ("internal_port", " ="),
        ("EXPOSE ", " "),
        ("port=", " "),
        ("port =", " "),
        ("port:", " "),
        ("Port:", " "),
        ("0.0.0.0:", ""),
        ("127.0.0.1:", ""),
        ("localhost:", ""),
        ("[::]:", ""),
        ("[0, 0, 0, 0],", " "),
        ("[127, 0, 0, 1],", " "),
    ];
    let mut best: Option<(usize, u16)> = None;
    for (needle, skip) in NEEDLES {
        for (at, _) in line.match_indices(needle) {
            if let Some(p) = number_after(&line[at + needle.len()..], skip)
                && best.is_none_or(|(b, _)| at < b)
            {
                best = Some((at, p));
            }
        }
    }
    // `ListenAndServe(":8080"`, `r.Run(":8080")`, `-b :8000`, `Addr: ":8080"`.
    let listens = ["Listen", "Run(", "Addr", "bind", "-b "]
        .iter()
        .any(|w| line.contains(w));
    if best.is_none() && listens {
        for (at, _) in line.match_indices("\":") {
            if let Some(p) = number_after(&line[at + 2..], "") {
                best = Some((at, p));
                break;
            }
        }
        if best.is_none()
            && let Some(at) = line.find(" :")
        {
            best = number_after(&line[at + 2..], "").map(|p| (at, p));
        }
    }
    best.map(|(_, p)| p)
}

/// The number at the start of `text` after any of `skip`, as a port:
/// 2 to 5 digits, not followed by another digit or a dot, 1 to 65535.
fn number_after(text: &str, skip: &str) -> Option<u16> {
    let text = text.trim_start_matches(|c| skip.contains(c));
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    let next = text[digits.len()..].chars().next();
    if !(2..=5).contains(&digits.len()) || next == Some('.') {
        return None;
    }
    digits.parse::<u16>().ok().filter(|p| *p > 0)
}

/// The command of a Procfile line or a script as a list parameter: plain
/// words only (no quoting, variables or shell operators, which an exec-form
/// `CMD` would not interpret), `$PORT` replaced by `port`.
pub(crate) fn plain_command(command: &str, port: u16) -> Option<String> {
    let replaced = command
        .replace("${PORT}", &port.to_string())
        .replace("$PORT", &port.to_string());
    let plain = !replaced.is_empty()
        && !replaced.contains(|c: char| "&|;<>'\"`$\\(){}*?~#".contains(c) || c.is_control());
    plain.then(|| replaced.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_ranges() {
        assert_eq!(version("v20.11.1"), Some(vec![20, 11, 1]));
        assert_eq!(version("go1.23.1"), Some(vec![1, 23, 1]));
        assert_eq!(version_file("lts/*\n"), None);
        assert_eq!(version_file("3.12\n"), Some(Want::Line(vec![3, 12])));
        let default = [22, 16, 0];
        assert!(ranges(">=18").iter().any(|w| w.admits(&default)));
        assert!(!ranges("^20.9.0").iter().any(|w| w.admits(&default)));
        assert!(ranges("18 || 20 || 22").iter().any(|w| w.admits(&default)));
        assert_eq!(ranges("~=3.11"), vec![Want::Line(vec![3])]);
        assert!(!ranges(">=3.9,<3.12")[0].admits(&[3, 12, 8]));
        assert!(ranges(">=3.9,<3.12")[0].admits(&[3, 11, 99]));
    }

    #[test]
    fn ports() {
        let cases = [
            ("app.listen(3000, () => {})", 3000),
            ("const port = process.env.PORT || 8080;", 8080),
            ("port = int(os.environ.get(\"PORT\", 5000))", 5000),
            ("log.Fatal(http.ListenAndServe(\":8081\", nil))", 8081),
            ("web: uvicorn main:app --host 0.0.0.0 --port 8001", 8001),
            ("web: gunicorn -b 0.0.0.0:8002 app:app", 8002),
            ("EXPOSE 9000", 9000),
            ("server.port=8082", 8082),
            ("let addr = SocketAddr::from(([0, 0, 0, 0], 3001));", 3001),
            ("    app.run(host=\"0.0.0.0\", port=5001)", 5001),
        ];
        for (line, want) in cases {
            assert_eq!(port(line).map(|(p, _)| p), Some(want), "{line}");
        }
        assert_eq!(port("version = 1.2.3\n// app.listen(3000)"), None);
    }
}
