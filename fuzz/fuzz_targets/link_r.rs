//! A whole `-r` link of the fuzzed object (see `rivet_fuzz::link`): any
//! error is fine, a panic or an abort is a bug.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use rivet_fuzz::LinkKind;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    // `-r` takes no support object.
    rivet_fuzz::link(
        data,
        common::scratch(),
        LinkKind::Relocatable,
        Path::new(""),
    )
});
