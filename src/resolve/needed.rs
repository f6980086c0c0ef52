//! The libraries the linked shared objects need themselves (their
//! `DT_NEEDED`), read only to check the link as GNU ld 2.40 checks it for
//! an executable: a regular object's undefined symbol that only such a
//! library defines is an error ("DSO missing from command line",
//! `--no-copy-dt-needed-entries`), and so is a linked shared object's
//! undefined symbol that nothing defines (`--no-allow-shlib-undefined`,
//! GNU ld's default for executables). They never bind symbols or get a
//! `DT_NEEDED` of the output.

use super::{Definition, Resolution};
use crate::args::Args;
use crate::error::{Error, Result};
use crate::input::dso::SharedObject;
use object::elf;
use rustc_hash::{FxHashMap, FxHashSet};
use std::path::PathBuf;

/// Where GNU ld looks for a shared object's `DT_NEEDED` after
/// `-rpath-link`, `-rpath` and `LD_LIBRARY_PATH` (its native default
/// search path; it does not look in the `-L` directories).
const SYSTEM_DIRS: &[&str] = &[
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
];

/// What the linked shared objects' own dependencies export.
#[derive(Default)]
pub struct Dependencies {
    /// Exported name → the dependency that defines it (first found).
    defined_by: FxHashMap<Vec<u8>, PathBuf>,
    /// Per linked shared object (as in `Resolution::dsos`): every library
    /// it needs, directly or not, was found, so its undefined symbols
    /// can be judged.
    complete: Vec<bool>,
    /// GNU ld's warning for each library that was not found.
    pub warnings: Vec<String>,
}

fn find(name: &[u8], dirs: &[PathBuf]) -> Option<PathBuf> {
    let name = std::str::from_utf8(name).ok()?;
    if name.contains('/') {
        let p = PathBuf::from(name);
        return p.is_file().then_some(p);
    }
    dirs.iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// Reads the `DT_NEEDED` libraries of the linked shared objects, and
/// theirs in turn, that are not linked themselves. A library that cannot
/// be found, opened or parsed only makes the objects needing it
/// incomplete: GNU ld then does not judge their undefined symbols either.
/// One that opens but cannot be mapped (no address space left) is an
/// error: calling it "not found" would be wrong.
pub fn load(args: &Args, res: &Resolution) -> Result<Dependencies> {
    let mut dirs: Vec<PathBuf> = args.rpath_link.iter().map(PathBuf::from).collect();
    dirs.extend(args.rpath.iter().map(PathBuf::from));
    if let Some(p) = std::env::var_os("LD_LIBRARY_PATH") {
        dirs.extend(std::env::split_paths(&p).filter(|d| !d.as_os_str().is_empty()));
    }
    dirs.extend(SYSTEM_DIRS.iter().map(PathBuf::from));
    let linked: FxHashSet<&[u8]> = res.dsos.iter().map(|d| d.so.soname.as_slice()).collect();
    let mut deps = Dependencies::default();
    // Soname → its own needed list, or None when it was not found.
    let mut seen: FxHashMap<Vec<u8>, Option<Vec<Vec<u8>>>> = FxHashMap::default();
    // (needed name, the object needing it), depth first in order.
    let mut queue: Vec<(Vec<u8>, String)> = res
        .dsos
        .iter()
        .rev()
        .flat_map(|d| {
            d.so.needed
                .iter()
                .rev()
                .map(|n| (n.to_vec(), d.so.path.clone()))
        })
        .collect();
    while let Some((name, needer)) = queue.pop() {
        if linked.contains(name.as_slice()) || seen.contains_key(&name) {
            continue;
        }
        let opened = find(&name, &dirs)
            .and_then(|path| std::fs::File::open(&path).ok().map(|file| (path, file)));
        let mapped = match opened {
            Some((path, file)) => {
                let bytes = crate::input::map_opened(&file, &path)
                    .map_err(|e| Error(format!("{} (needed by {needer})", e.0)))?;
                Some((bytes, path))
            }
            None => None,
        };
        let parsed = mapped.and_then(|(bytes, path)| {
            let display = path.display().to_string();
            let so = SharedObject::parse(display, &name, &bytes).ok()?;
            for (i, s) in so.symbols.iter().enumerate() {
                if so.exports(i) && !s.hidden {
                    deps.defined_by
                        .entry(s.name.to_vec())
                        .or_insert_with(|| path.clone());
                }
            }
            Some(so.needed.iter().map(|n| n.to_vec()).collect::<Vec<_>>())
        });
        match &parsed {
            Some(needed) => {
                let by = String::from_utf8_lossy(&name).into_owned();
                queue.extend(needed.iter().rev().map(|n| (n.clone(), by.clone())));
            }
            None => deps.warnings.push(format!(
                "rivet: warning: {}, needed by {needer}, not found (try using -rpath or -rpath-link)",
                String::from_utf8_lossy(&name)
            )),
        }
        seen.insert(name, parsed);
    }
    // An object is complete when everything it needs, transitively, was
    // linked or found.
    let found = |n: &[u8]| linked.contains(n) || seen.get(n).is_some_and(|p| p.is_some());
    deps.complete = res
        .dsos
        .iter()
        .map(|d| {
            let mut stack: Vec<&[u8]> = d.so.needed.to_vec();
            let mut visited: FxHashSet<&[u8]> = FxHashSet::default();
            while let Some(n) = stack.pop() {
                if !visited.insert(n) {
                    continue;
                }
                if !found(n) {
                    return false;
                }
                if let Some(Some(more)) = seen.get(n) {
                    stack.extend(more.iter().map(Vec::as_slice));
                }
            }
            true
        })
        .collect();
    Ok(deps)
}

impl Dependencies {
    /// Regular objects' undefined, non-weak references that only a
    /// dependency of a linked shared object defines: GNU ld's "DSO missing
    /// from command line".
    pub fn check_missing(&self, res: &Resolution) -> Result<()> {
        let mut errors: Vec<String> = Vec::new();
        for g in &res.symbols {
            if g.def != Definition::Undefined || !g.strong_ref {
                continue;
            }
            let (Some(path), Some(file)) = (self.defined_by.get(g.name), g.first_ref) else {
                continue;
            };
            errors.push(format!(
                "rivet: error: {}: undefined reference to symbol '{}'\nrivet: error: {}: error adding symbols: DSO missing from command line (it is only a dependency of a linked library: add it to the command line)",
                res.objects[file as usize].name,
                crate::demangle::pretty(g.name, res.demangle),
                path.display()
            ));
        }
        report(errors)
    }

    /// Linked shared objects' undefined, non-weak symbols that nothing
    /// defines: neither the executable, nor a linked shared object, nor
    /// any of their dependencies (`--no-allow-shlib-undefined`).
    pub fn check_shlib_undefined(&self, res: &Resolution) -> Result<()> {
        let mut errors: Vec<String> = Vec::new();
        for (d, dso) in res.dsos.iter().enumerate() {
            if !self.complete[d] {
                continue;
            }
            let so = &dso.so;
            for s in &so.symbols {
                if s.defined || s.bind == elf::STB_WEAK || s.name.is_empty() {
                    continue;
                }
                let bound = res.lookup(s.name).is_some_and(|id| {
                    !matches!(res.symbols[id as usize].def, Definition::Undefined)
                });
                if bound || self.defined_by.contains_key(s.name) {
                    continue;
                }
                errors.push(format!(
                    "rivet: error: {}: undefined reference to `{}'",
                    so.path,
                    crate::demangle::pretty(s.name, res.demangle)
                ));
            }
        }
        report(errors)
    }
}

fn report(mut errors: Vec<String>) -> Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    let n = errors.len();
    errors.truncate(20);
    if n > 20 {
        errors.push(format!("... and {} more errors", n - 20));
    }
    Err(Error(errors.join("\n")))
}
