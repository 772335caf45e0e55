//! Context paths as builders match them: `COPY` sources, `.dockerignore`
//! patterns, Go's `filepath.Match` wildcards.

/// A context path without `./`, leading `/` or trailing `/`; the whole
/// context is the empty string.
pub fn normalize_context_path(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    parts.join("/")
}

pub fn is_glob(path: &str) -> bool {
    path.contains(['*', '?', '['])
}

/// Whether a change to `changed` (a file or a directory of the context)
/// can change what a COPY of `source` reads. Sources match as BuildKit
/// does: a directory brings everything under it, wildcards follow Go's
/// `filepath.Match` (a `*` never crosses `/`), a match on a directory
/// brings its content.
pub fn source_touches(source: &str, changed: &str) -> bool {
    let source = normalize_context_path(source);
    let changed = normalize_context_path(changed);
    if source.is_empty() || changed.is_empty() {
        return true;
    }
    let pattern: Vec<&str> = source.split('/').collect();
    let path: Vec<&str> = changed.split('/').collect();
    // One is inside the other, component by component.
    pattern
        .iter()
        .zip(&path)
        .all(|(p, c)| match_component(p, c))
}

/// Go's `filepath.Match` for one path component: `*`, `?`, `[...]`
/// classes (with `^` or `!` negation and ranges) and `\` escapes.
pub fn match_component(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    wildcard_match(&p, &n, |p| p == &'*', |p, c| one_char(p, *c))
}

/// How many pattern characters one token at the start of `p` (not `*`)
/// takes when it matches `c`; `None` when it does not match.
pub(crate) fn one_char(p: &[char], c: char) -> Option<usize> {
    match p[0] {
        '?' => Some(1),
        '[' => match match_class(&p[1..], c) {
            Some((matched, rest)) => matched.then_some(p.len() - rest.len()),
            // An unterminated class is a literal `[`.
            None => (c == '[').then_some(1),
        },
        '\\' if p.len() > 1 => (p[1] == c).then_some(2),
        literal => (literal == c).then_some(1),
    }
}

/// Matches `name` against `pattern`, where a star token matches any run
/// of items and every other token exactly one. Backtracks only to the
/// last star, so it takes O(pattern × name) steps whatever the input:
/// trying every split for every star took exponential time on patterns
/// like `a*****…*b` (found by fuzzing `explain --dockerfile`).
fn wildcard_match<P, N>(
    pattern: &[P],
    name: &[N],
    is_star: impl Fn(&P) -> bool,
    one: impl Fn(&[P], &N) -> Option<usize>,
) -> bool {
    let (mut p, mut n) = (0, 0);
    // After the last star seen: where its pattern continues, and the
    // name position its current attempt starts at.
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p < pattern.len() && is_star(&pattern[p]) {
            p += 1;
            star = Some((p, n));
            continue;
        }
        if n == name.len() && p == pattern.len() {
            return true;
        }
        if n < name.len()
            && p < pattern.len()
            && let Some(taken) = one(&pattern[p..], &name[n])
        {
            p += taken;
            n += 1;
            continue;
        }
        // A mismatch: the last star takes one more item, if there is one.
        match star {
            Some((after, from)) if from < name.len() => {
                star = Some((after, from + 1));
                (p, n) = (after, from + 1);
            }
            _ => return false,
        }
    }
}

/// Reads a class after `[`; returns whether `c` is in it and the rest of the pattern.
fn match_class(p: &[char], c: char) -> Option<(bool, &[char])> {
    let (negated, mut i) = match p.first() {
        Some('^') | Some('!') => (true, 1),
        _ => (false, 0),
    };
    let mut matched = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((matched != negated, &p[i + 1..]));
        }
        first = false;
        let mut lo = p[i];
        if lo == '\\' && i + 1 < p.len() {
            i += 1;
            lo = p[i];
        }
        let mut hi = lo;
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            hi = p[i + 2];
            i += 2;
        }
        if lo <= c && c <= hi {
            matched = true;
        }
        i += 1;
    }
    None
}

/// A `.dockerignore`: patterns in order, the last match wins, `!` re-includes.
#[derive(Clone, Debug, Default)]
pub struct Ignore {
    patterns: Vec<(bool, Vec<String>)>,
    /// The folder the file's context is, when paths are named from above
    /// it (a build from `web/` reads `web/.dockerignore`): a path outside
    /// it is not in the context, so no line of the file speaks for it.
    folder: Vec<String>,
}

impl Ignore {
    pub fn parse(text: &str) -> Ignore {
        let patterns = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                let (negated, pattern) = match l.strip_prefix('!') {
                    Some(rest) => (true, rest.trim()),
                    None => (false, l),
                };
                let parts = normalize_context_path(pattern)
                    .split('/')
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect();
                (negated, parts)
            })
            .filter(|(_, parts): &(bool, Vec<String>)| !parts.is_empty())
            .collect();
        Ignore {
            patterns,
            folder: Vec::new(),
        }
    }

    /// The same file in the context folder `folder` (`.` for where paths
    /// are named from).
    pub fn within(mut self, folder: &str) -> Ignore {
        self.folder = folder
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .map(str::to_owned)
            .collect();
        self
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether the path (or a directory above it) is left out of the context.
    pub fn excludes(&self, path: &str) -> bool {
        let mut parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        if !self.folder.is_empty() {
            if parts.len() <= self.folder.len()
                || self.folder.iter().zip(&parts).any(|(f, p)| f != p)
            {
                return false;
            }
            parts.drain(..self.folder.len());
        }
        let mut excluded = false;
        for (negated, pattern) in &self.patterns {
            let hit = (1..=parts.len()).any(|n| match_path(pattern, &parts[..n]));
            if hit {
                excluded = !negated;
            }
        }
        excluded
    }
}

/// Component-wise match where `**` spans any number of components.
pub(crate) fn match_path(pattern: &[String], path: &[&str]) -> bool {
    wildcard_match(
        pattern,
        path,
        |p| p == "**",
        |p, c| match_component(&p[0], c).then_some(1),
    )
}
