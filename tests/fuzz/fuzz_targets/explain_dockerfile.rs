#![no_main]
//! Any bytes as a Dockerfile (and a change, a .dockerignore) for `explain --dockerfile`.
//! The oracle is `stowplan::fuzzing::explain_dockerfile`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| stowplan::fuzzing::explain_dockerfile(data));
