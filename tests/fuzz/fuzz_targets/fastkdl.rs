#![no_main]
//! Any bytes through the fast KDL parser and the kdl crate: the same document, or the fast parser declines.
//! The oracle is `stowplan::fuzzing::fastkdl`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| stowplan::fuzzing::fastkdl(data));
