//! See `rivet_fuzz::object` (fuzz/src/lib.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rivet_fuzz::object(data));
