//! A whole dynamic link of the fuzzed object alone: a PIE exporting every
//! symbol, or a shared object, with or without `-z pack-relative-relocs`
//! (byte 9 chooses; see `rivet_fuzz::LinkKind::Dynamic`): any error is
//! fine, a panic or an abort is a bug.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use rivet_fuzz::LinkKind;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    rivet_fuzz::link(data, common::scratch(), LinkKind::Dynamic, Path::new(""))
});
