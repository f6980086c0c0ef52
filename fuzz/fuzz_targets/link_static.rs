//! A whole static link (`-static -e main`, no libc) of the fuzzed object
//! with a valid one, fuzz/support/support.c (see `rivet_fuzz::link`): any
//! error is fine, a panic or an abort is a bug.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use rivet_fuzz::LinkKind;

fuzz_target!(|data: &[u8]| {
    rivet_fuzz::link(data, common::scratch(), LinkKind::Static, common::support())
});
