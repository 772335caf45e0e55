//! Single values at the edges of what BuildKit and Docker accept.

use crate::base::diagnostic::Diagnostics;
use crate::frontend::ast::Spanned;
use crate::frontend::values::{check_duration, check_signal, duration_ns};

fn refused(check: fn(&Spanned<String>, &mut Diagnostics), value: &str) -> bool {
    let mut d = Diagnostics::default();
    check(&Spanned::new(value.to_owned(), (0..0).into()), &mut d);
    d.has_errors()
}

#[test]
fn durations_count_as_go_counts() {
    assert_eq!(duration_ns("1m30s"), Some(90_000_000_000));
    assert_eq!(duration_ns("1.5h"), Some(5_400_000_000_000));
    assert_eq!(duration_ns("0.0000000019s"), Some(1));
    assert_eq!(duration_ns("1h1ms"), Some(3_600_001_000_000));
    for bad in ["", "30", "1..5s", ".5s", "5.s", "1d", "1 s", "-1s"] {
        assert_eq!(duration_ns(bad), None, "{bad}");
    }
}

#[test]
fn healthcheck_durations_are_0_or_1ms_to_go_s_range() {
    for ok in [
        "0s",
        "0ms",
        "1ms",
        "1000us",
        "30s",
        "2562047h47m16.854775807s",
    ] {
        assert!(!refused(check_duration, ok), "{ok}");
    }
    for bad in [
        "1ns",
        "999us",
        "0.5ms",
        "2562047h47m16.854775808s",
        "2562048h",
        "99999999999999999999999h",
    ] {
        assert!(refused(check_duration, bad), "{bad}");
    }
}

#[test]
fn signals_are_linux_s() {
    for ok in [
        "SIGTERM",
        "SIGQUIT",
        "SIGRTMIN+3",
        "SIGRTMAX",
        "1",
        "15",
        "64",
    ] {
        assert!(!refused(check_signal, ok), "{ok}");
    }
    for bad in [
        "0",
        "00",
        "65",
        "999",
        "SIGFOO",
        "SIG",
        "TERM",
        "sigterm",
        "SIGRTMIN+16",
    ] {
        assert!(refused(check_signal, bad), "{bad}");
    }
}

#[test]
fn arg_strings_name_arguments_only_as_braces() {
    use crate::base::word::{Piece, Word};
    use crate::frontend::values::parse_arg_word;
    let parse = |text: &str| {
        let mut d = Diagnostics::default();
        let word = parse_arg_word(&Spanned::new(text.to_owned(), (0..0).into()), &mut d);
        (word.map(|w| w.value), d.has_errors())
    };
    let (word, failed) = parse("node:${V}-alpine $$HOME ${_A1}");
    assert!(!failed);
    let pieces = word.as_ref().map(Word::pieces).unwrap().to_vec();
    assert_eq!(
        pieces,
        vec![
            Piece::Text("node:".into()),
            Piece::Arg("V".into()),
            Piece::Text("-alpine $HOME ".into()),
            Piece::Arg("_A1".into()),
        ]
    );
    assert_eq!(parse("$$").0, Some(Word::text("$")));
    assert_eq!(parse("plain").0, Some(Word::text("plain")));
    for bad in ["$V", "${V", "${1V}", "${V:-x}", "${}", "end$", "$ {V}"] {
        assert!(parse(bad).1, "{bad} must be refused");
    }
}
