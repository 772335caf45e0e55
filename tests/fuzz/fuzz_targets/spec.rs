#![no_main]
//! Any bytes as a spec, through the whole pipeline to both backends.
//! The oracle is `stowplan::fuzzing::spec`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| stowplan::fuzzing::spec(data));
