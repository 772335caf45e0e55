//! Values chosen to break quoting: quotes, `$`, backslashes, line breaks,
//! heredoc markers, globs, leading dashes, unicode. One fixed list for
//! readable cases, one proptest strategy for the rest; the suites of both
//! backends draw from here.

use proptest::prelude::*;

/// A KDL v2 string for a value, as `init` writes one.
#[allow(unused_imports)]
pub(crate) use crate::frontend::starter::kdl_string as kdl;

pub(crate) const HOSTILE: [&str; 12] = [
    "it's",
    "say \"hi\" and 'bye'",
    "$HOME ${PATH} $(id) `id` $$ ${ $",
    "C:\\temp\\new\\",
    "two\nlines\r\n",
    "tab\there; rm -rf / && echo pwned | cat > /x",
    "",
    "-flag",
    "#not a comment",
    "'\\''",
    "café ✓ 日本 \u{2028} “quotes” ‘single’",
    "~/x *.txt [a] {a,b} !event ?",
];

/// Arbitrary strings built from the atoms that break Dockerfile lexers,
/// heredocs and shell words.
pub(crate) fn nasty() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        30 => "[a-zA-Z0-9_./-]{1,6}",
        3 => Just("EOF".to_owned()),
        3 => Just("<<EOF".to_owned()),
        3 => Just("<<-'X'".to_owned()),
        3 => Just("$HOME".to_owned()),
        3 => Just("${PATH:-x}".to_owned()),
        2 => Just("$(id)".to_owned()),
        3 => Just("\\".to_owned()),
        1 => Just("\\\n".to_owned()),
        3 => Just("\"".to_owned()),
        3 => Just("'".to_owned()),
        1 => Just("\n".to_owned()),
        1 => Just("\r\n".to_owned()),
        1 => Just("\r".to_owned()),
        3 => Just("\t".to_owned()),
        3 => Just(" ".to_owned()),
        3 => Just("#".to_owned()),
        3 => Just("[".to_owned()),
        3 => Just("]".to_owned()),
        3 => Just("--".to_owned()),
        2 => Just("-".to_owned()),
        3 => Just("&& rm -rf /".to_owned()),
        2 => Just(";|&<>".to_owned()),
        2 => Just("*?[]{}~!".to_owned()),
        3 => Just("`id`".to_owned()),
        3 => Just("é✓日本\u{200b}\u{2028}".to_owned()),
        1 => Just("\u{0}".to_owned()),
        1 => Just("\u{1}\u{7f}".to_owned()),
        3 => Just(",=:%".to_owned()),
    ];
    prop::collection::vec(atom, 0..6).prop_map(|parts| parts.concat())
}
