//! What the targets that write files share: one scratch directory per
//! process, reused by every run, and the support object of the static
//! links, compiled once.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// This process's scratch directory (`$RIVET_FUZZ_TMP` or the temp dir,
/// `rivet-fuzz-PID`).
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = std::env::var_os("RIVET_FUZZ_TMP")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let dir = base.join(format!("rivet-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the scratch directory");
        dir
    })
}

/// fuzz/support/support.c compiled in the scratch directory.
pub fn support() -> &'static Path {
    static OBJ: OnceLock<PathBuf> = OnceLock::new();
    OBJ.get_or_init(|| rivet_fuzz::support_object(scratch()))
}
