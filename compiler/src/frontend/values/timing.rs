//! Healthcheck and stop-signal values, as BuildKit and Docker read them:
//! Go durations, signal names and numbers, retry counts.

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::frontend::ast::Spanned;
use crate::frontend::values::report::invalid;

/// The shortest duration a healthcheck takes, other than 0 (BuildKit's
/// `container.MinimumDuration`).
const MIN_HEALTHCHECK_NS: u128 = 1_000_000;
/// The longest duration Go can hold: `time.Duration` is an `int64` of
/// nanoseconds, about 292 years.
const MAX_GO_DURATION_NS: u128 = i64::MAX as u128;

/// A healthcheck's durations, as BuildKit reads them: Go durations (`30s`,
/// `1m30s`, `500ms`) that Go can hold, 0 or at least 1ms.
pub fn check_duration(duration: &Spanned<String>, d: &mut Diagnostics) {
    let s = duration.as_str();
    let Some(ns) = duration_ns(s) else {
        invalid(
            d,
            duration,
            format!("`{}` is not a duration", s.escape_debug()),
            "invalid duration",
            "write a number with a unit: \"30s\", \"1m30s\", \"500ms\"",
        );
        return;
    };
    if ns > MAX_GO_DURATION_NS {
        invalid(
            d,
            duration,
            format!("`{}` is longer than a duration can be", s.escape_debug()),
            "over about 292 years",
            "BuildKit reads durations as Go's, at most 2562047h (about 292 years); write a shorter one",
        );
    } else if ns != 0 && ns < MIN_HEALTHCHECK_NS {
        invalid(
            d,
            duration,
            format!(
                "`{}` is shorter than a healthcheck allows",
                s.escape_debug()
            ),
            "under 1ms",
            "BuildKit refuses healthcheck durations under 1ms (0 means its default); write at least \"1ms\"",
        );
    }
}

/// The nanoseconds of a Go duration written with units, as Go counts them
/// (a fraction truncated per component); `None` when it is not one.
/// Saturates far above Go's range, so a long one is still measured.
pub(crate) fn duration_ns(s: &str) -> Option<u128> {
    if s.is_empty() {
        return None;
    }
    let mut rest = s;
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let number = &rest[..digits];
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty()
            || fraction.contains('.')
            || (number.contains('.') && fraction.is_empty())
        {
            return None;
        }
        rest = &rest[digits..];
        let (unit, scale) = [
            ("ns", 1u128),
            ("us", 1_000),
            ("ms", 1_000_000),
            ("s", 1_000_000_000),
            ("m", 60_000_000_000),
            ("h", 3_600_000_000_000),
        ]
        .into_iter()
        .find(|(u, _)| rest.starts_with(u) && !(*u == "m" && rest.starts_with("ms")))?;
        rest = &rest[unit.len()..];
        let cap = |n: u128| n.min(u128::from(u64::MAX));
        let whole = whole
            .bytes()
            .fold(0u128, |n, b| cap(n * 10 + u128::from(b - b'0')));
        let fraction: String = fraction.chars().take(18).collect();
        let fraction_ns = if fraction.is_empty() {
            0
        } else {
            let f: u128 = fraction.parse().ok()?;
            f * scale / 10u128.pow(fraction.len() as u32)
        };
        total = cap(total + whole * scale + fraction_ns);
    }
    Some(total)
}

/// Linux's signal names, without `SIG`, as Docker reads `STOPSIGNAL`
/// (moby's `signal.SignalMap`).
const SIGNALS: &[&str] = &[
    "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT", "KILL",
    "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP",
    "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ", "RTMIN", "RTMIN+1",
    "RTMIN+2", "RTMIN+3", "RTMIN+4", "RTMIN+5", "RTMIN+6", "RTMIN+7", "RTMIN+8", "RTMIN+9",
    "RTMIN+10", "RTMIN+11", "RTMIN+12", "RTMIN+13", "RTMIN+14", "RTMIN+15", "RTMAX-14", "RTMAX-13",
    "RTMAX-12", "RTMAX-11", "RTMAX-10", "RTMAX-9", "RTMAX-8", "RTMAX-7", "RTMAX-6", "RTMAX-5",
    "RTMAX-4", "RTMAX-3", "RTMAX-2", "RTMAX-1", "RTMAX",
];

/// A signal by name (`SIGTERM`) or by number, 1 to 64 (Linux has no
/// signal 0 and none above 64: the build or `docker stop` would fail).
pub fn check_signal(signal: &Spanned<String>, d: &mut Diagnostics) {
    let s = signal.as_str();
    let named = s
        .strip_prefix("SIG")
        .is_some_and(|rest| SIGNALS.contains(&rest));
    let numbered = !s.is_empty()
        && s.len() <= 3
        && s.chars().all(|c| c.is_ascii_digit())
        && s.parse::<u8>().is_ok_and(|n| (1..=64).contains(&n));
    if named || numbered {
        return;
    }
    let upper = s.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    if SIGNALS.contains(&bare) {
        d.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{}` is not a signal", s.escape_debug()),
            )
            .primary(signal.span, "invalid signal")
            .help(format!("did you mean `SIG{bare}`?")),
        );
        return;
    }
    let candidates: Vec<String> = SIGNALS.iter().map(|n| format!("SIG{n}")).collect();
    let help = if s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty() {
        "Linux signals are numbered 1 to 64; write a name such as \"SIGTERM\" or \"SIGQUIT\""
            .to_owned()
    } else {
        "write a signal name such as \"SIGTERM\" or \"SIGQUIT\", or its number (1 to 64)".to_owned()
    };
    d.push(
        Diagnostic::error(
            Code::InvalidValue,
            format!("`{}` is not a signal", s.escape_debug()),
        )
        .primary(signal.span, "invalid signal")
        .suggest(
            &s.to_ascii_uppercase(),
            candidates.iter().map(String::as_str),
            help,
        ),
    );
}

/// `retries=`: BuildKit reads it as a 32-bit signed number.
pub fn check_retries(retries: &Spanned<u32>, d: &mut Diagnostics) {
    if i32::try_from(retries.value).is_err() {
        d.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("{} retries is more than BuildKit can read", retries.value),
            )
            .primary(retries.span, "over 2147483647")
            .help("BuildKit reads retries as a 32-bit number; a few, such as 3, are usual"),
        );
    }
}
