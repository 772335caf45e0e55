//! Quoting read back by its reader: bash for the Buildah script's words.

use std::process::Command;

use crate::backend::quote::bash::bash_word;
use crate::testkit::hostile::HOSTILE;

/// bash reads each quoted word back as exactly the value.
#[test]
fn bash_words_read_back() {
    let mut script = String::from("printf '%s\\0'");
    for value in HOSTILE {
        script.push(' ');
        script.push_str(&bash_word(value));
    }
    let output = Command::new("bash").args(["-c", &script]).output().unwrap();
    assert!(output.status.success());
    let words: Vec<&[u8]> = output.stdout.split(|&b| b == 0).collect();
    assert_eq!(words.len(), HOSTILE.len() + 1, "one word per value");
    for (word, value) in words.iter().zip(HOSTILE) {
        assert_eq!(*word, value.as_bytes());
    }
    // And the brief's spelling, one value at a time.
    for value in ["it's", "$(id)", "`id`", "a\nb", "\\", "'"] {
        let output = Command::new("bash")
            .args(["-c", &format!("printf %s {}", bash_word(value))])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8(output.stdout).unwrap(), value);
    }
}
