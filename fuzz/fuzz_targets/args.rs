//! See `rivet_fuzz::args` (fuzz/src/lib.rs).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rivet_fuzz::args(data, common::scratch()));
