//! `rivet -run CMD ARGS...`: runs a build command so that every link it
//! starts, through `ld`, `ld.bfd`, `ld.gold`, `ld.lld` or `mold`, directly
//! or from gcc, clang or rustc, is done by rivet (as `mold -run` does).
//!
//! The command runs with a preload library (`preload.c`, compiled by
//! build.rs and carried in the binary) that turns each exec of a linker
//! into an exec of rivet. rivet links that library itself, once, into a
//! cache directory (`$XDG_CACHE_HOME/rivet`, else `~/.cache/rivet`, else
//! the temporary directory), under a name that holds a hash of its object:
//! a new rivet with a changed wrapper makes a new file.

use crate::error::Result;
use crate::{bail, err};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

/// The preload library's object, as build.rs compiled it.
const PRELOAD_OBJECT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/preload.o"));

/// Where rivet's path reaches the preload library.
pub const PATH_VAR: &str = "RIVET_RUN_PATH";

/// Whether `argv` (without the program name) asks for `-run`.
pub fn is_run(argv: &[String]) -> bool {
    matches!(argv.first().map(String::as_str), Some("-run" | "--run"))
}

fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("rivet");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(h).join(".cache").join("rivet");
    }
    std::env::temp_dir().join("rivet")
}

/// The preload library, linked by rivet into `dir` unless it is there.
pub fn preload_library(dir: &Path) -> Result<PathBuf> {
    let hash = blake3::hash(PRELOAD_OBJECT).to_hex();
    let lib = dir.join(format!("rivet-run-{}.so", &hash[..16]));
    if lib.is_file() {
        return Ok(lib);
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| err!("rivet: -run: cannot create {}: {e}", dir.display()))?;
    // Each process writes its own object; the link's rename makes the
    // library appear whole, whoever wins.
    let obj = dir.join(format!(
        "rivet-run-{}.{}.o",
        &hash[..16],
        std::process::id()
    ));
    std::fs::write(&obj, PRELOAD_OBJECT)
        .map_err(|e| err!("rivet: -run: cannot write {}: {e}", obj.display()))?;
    let argv: Vec<String> = [
        "-shared",
        "-soname",
        "rivet-run.so",
        "-z",
        "now",
        "-o",
        &lib.to_string_lossy(),
        &obj.to_string_lossy(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let linked = crate::args::Args::parse(&argv).and_then(|a| crate::driver::link_args(&a));
    let _ = std::fs::remove_file(&obj);
    linked.map_err(|e| err!("rivet: -run: linking the preload library failed:\n{e}"))?;
    Ok(lib)
}

/// Runs `argv[1..]` (after `-run`) with every linker replaced by rivet;
/// returns only on failure (the command replaces this process).
pub fn run(argv: &[String]) -> Result<std::convert::Infallible> {
    let Some((cmd, rest)) = argv.get(1..).and_then(<[String]>::split_first) else {
        bail!("rivet: -run needs a command to run (rivet -run make, rivet -run cargo build)");
    };
    let rivet = std::env::current_exe()
        .map_err(|e| err!("rivet: -run: cannot find rivet's own path: {e}"))?;
    let lib = preload_library(&cache_dir())?;
    let preload = match std::env::var("LD_PRELOAD") {
        Ok(old) if !old.is_empty() => format!("{}:{old}", lib.display()),
        _ => lib.display().to_string(),
    };
    let e = std::process::Command::new(cmd)
        .args(rest)
        .env("LD_PRELOAD", preload)
        .env(PATH_VAR, rivet)
        .exec();
    bail!("rivet: -run: cannot run '{cmd}': {e}")
}
