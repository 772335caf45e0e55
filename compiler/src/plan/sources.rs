//! Several sources copied to one destination keep their names.
//!
//! `COPY a.json views/ src/ /app/` copies the *contents* of `views/` and
//! `src/` into `/app/`, merged with each other and with `a.json`. stowplan
//! copies the way `cp -r a.json views src /app/` does: among several
//! sources, a directory (a path ending in `/`) lands in `DEST/NAME/`, by a
//! copy of its own; files and globs keep sharing one copy. A single source
//! is copied as `COPY` copies it (a directory by its contents).

/// The name a directory source keeps: `src/` → `src`, `a/views/` → `views`.
/// `None` for a file or a glob, for the context (`.`, `./`) or an image's
/// root (`/`), and for `src/.`, which asks for the contents.
pub fn directory_name(path: &str) -> Option<&str> {
    let dir = path.strip_suffix('/')?;
    let name = dir.rsplit('/').next().unwrap_or(dir);
    (!name.is_empty() && name != "." && name != "..").then_some(name)
}

/// A directory source's destination among several: `DEST/NAME/`.
pub fn directory_destination(dest: &str, name: &str) -> String {
    format!("{}/{name}/", dest.trim_end_matches('/'))
}

/// Sources to one destination → `(paths, destination)` per copy, in the
/// written order: with two sources or more, each directory gets a copy of
/// its own into `DEST/NAME/`, and the other sources between two
/// directories share one copy into `DEST`. `local` says which sources are
/// paths at all (an `add`'s URLs are not).
pub fn keep_directory_names(
    paths: &[String],
    dest: &str,
    local: impl Fn(&str) -> bool,
) -> Vec<(Vec<String>, String)> {
    if paths.len() < 2 {
        return vec![(paths.to_vec(), dest.to_owned())];
    }
    let mut copies: Vec<(Vec<String>, String, bool)> = Vec::new();
    for path in paths {
        match directory_name(path).filter(|_| local(path)) {
            Some(name) => {
                copies.push((vec![path.clone()], directory_destination(dest, name), true))
            }
            None => match copies.last_mut() {
                Some((group, _, false)) => group.push(path.clone()),
                _ => copies.push((vec![path.clone()], dest.to_owned(), false)),
            },
        }
    }
    copies
        .into_iter()
        .map(|(paths, dest, _)| (paths, dest))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(paths: &[&str], dest: &str) -> Vec<(Vec<String>, String)> {
        let paths: Vec<String> = paths.iter().map(|p| (*p).to_owned()).collect();
        keep_directory_names(&paths, dest, |_| true)
    }

    fn copy(paths: &[&str], dest: &str) -> (Vec<String>, String) {
        (
            paths.iter().map(|p| (*p).to_owned()).collect(),
            dest.to_owned(),
        )
    }

    #[test]
    fn directories_among_several_sources_keep_their_names() {
        assert_eq!(
            split(&["package.json", "views/", "src/"], "./"),
            vec![
                copy(&["package.json"], "./"),
                copy(&["views/"], "./views/"),
                copy(&["src/"], "./src/"),
            ]
        );
        assert_eq!(
            split(&["a/views/", "b.txt", "*.md", "/opt/lib/"], "/app/"),
            vec![
                copy(&["a/views/"], "/app/views/"),
                copy(&["b.txt", "*.md"], "/app/"),
                copy(&["/opt/lib/"], "/app/lib/"),
            ]
        );
    }

    #[test]
    fn one_source_and_explicit_contents_are_left_as_written() {
        assert_eq!(split(&["src/"], "./"), vec![copy(&["src/"], "./")]);
        assert_eq!(
            split(&[".", "src/.", "go.mod"], "./"),
            vec![copy(&[".", "src/.", "go.mod"], "./")]
        );
        assert_eq!(directory_name("./"), None);
        assert_eq!(directory_name("/"), None);
        assert_eq!(directory_name("a/../"), None);
        assert_eq!(directory_name("src"), None);
    }
}
