#![no_main]
//! Any bytes as an `--image-map` file.
//! The oracle is `stowplan::fuzzing::image_map`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| stowplan::fuzzing::image_map(data));
