//! GNU ld's link-time warnings from `.gnu.warning` sections (glibc's
//! libc.a: "Using 'getaddrinfo' in statically linked applications
//! requires ...").
//!
//! As in GNU ld (2.40, checked on small cases):
//! - a loaded object's `.gnu.warning.SYM` section attaches its text (up to
//!   the first NUL) to the name SYM, whichever object defines SYM;
//! - the warning is printed once per symbol, for the first object in load
//!   order whose symbol table refers to SYM with a non-weak undefined global
//!   (a weak reference, or one from the defining object itself, does not
//!   warn). It is a symbol-table matter: a reference only from a section
//!   `--gc-sections` drops still warns, as in GNU ld;
//! - a plain `.gnu.warning` section's text is printed when its object is
//!   loaded;
//! - warnings are printed under `-r` too, and do not change the exit status.
//!
//! The location is GNU's: the first relocation in the referencing object
//! against the symbol, as `FILE: in function `F':` then `(SECTION+0xOFF):
//! warning: TEXT`, F being the nearest function or untyped symbol at or
//! before the offset. Without such a relocation: `FILE: warning: TEXT`.

use crate::args::Args;
use crate::error::Result;
use crate::input::object::{ObjectFile, SymPlace, E};
use crate::resolve::Resolution;
use object::elf;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

/// Prints `warnings` to stderr as GNU ld does: not at all under `-w`, and
/// under `--fatal-warnings` as the link's failure (exit status 1, no
/// output).
pub fn report(args: &Args, warnings: &[String]) -> Result<()> {
    if args.no_warnings || warnings.is_empty() {
        return Ok(());
    }
    for w in warnings {
        eprintln!("{}", crate::error::printable(w));
    }
    if args.fatal_warnings {
        crate::bail!("rivet: warnings are fatal (--fatal-warnings)");
    }
    Ok(())
}

/// The warnings [`print`] prints, one string each (without "rivet: ").
pub fn collect(res: &Resolution) -> Vec<String> {
    let mut out = Vec::new();
    // SYM -> its warning text: the first `.gnu.warning.SYM` in load order.
    let mut texts: FxHashMap<&[u8], &[u8]> = FxHashMap::default();
    for obj in &res.objects {
        for s in &obj.sections {
            if s.name == b".gnu.warning" {
                out.push(format!(
                    "rivet: {}: warning: {}",
                    obj.name,
                    String::from_utf8_lossy(text(s.data))
                ));
            } else if let Some(sym) = s.name.strip_prefix(b".gnu.warning.") {
                texts.entry(sym).or_insert(text(s.data));
            }
        }
    }
    if texts.is_empty() {
        return out;
    }
    // The references to warned-about symbols, found in parallel (every
    // undefined global of every input is looked at), then taken in load
    // order.
    let refs: Vec<Vec<usize>> = res
        .objects
        .par_iter()
        .map(|obj| {
            (obj.first_global..obj.symbols.len())
                .filter(|&i| {
                    obj.place_of(i) == SymPlace::Undefined
                        && obj.symbols[i].st_bind() != elf::STB_WEAK
                        && texts.contains_key(obj.name_of(i))
                })
                .collect()
        })
        .collect();
    for (obj, refs) in res.objects.iter().zip(refs) {
        for i in refs {
            let name = obj.name_of(i);
            // Once per symbol: the entry is taken by the first reference.
            let Some(msg) = texts.remove(name) else {
                continue;
            };
            let msg = String::from_utf8_lossy(msg);
            out.push(match first_reloc(obj, i as u32) {
                Some((sec, off)) => {
                    let sname = String::from_utf8_lossy(obj.sections[sec].name);
                    let head = match enclosing_function(obj, sec as u32, off) {
                        Some(f) => {
                            format!(
                                "{}: in function `{}':",
                                obj.name,
                                crate::demangle::pretty(f, res.demangle)
                            )
                        }
                        None => format!("{}:", obj.name),
                    };
                    format!("rivet: {head}\n({sname}+{off:#x}): warning: {msg}")
                }
                None => format!("rivet: {}: warning: {msg}", obj.name),
            });
        }
    }
    out
}

/// A warning section's text: its bytes up to the first NUL.
fn text(data: &[u8]) -> &[u8] {
    data.split(|&b| b == 0).next().unwrap_or(b"")
}

/// The first relocation (section index, offset) in `obj` against symbol
/// `sym`, in section order.
fn first_reloc(obj: &ObjectFile, sym: u32) -> Option<(usize, u64)> {
    obj.sections.iter().enumerate().find_map(|(i, s)| {
        s.relocs
            .iter()
            .find(|r| r.r_sym(E, false) == sym)
            .map(|r| (i, r.r_offset.get(E)))
    })
}

/// The name of the function (or untyped symbol, as GNU's lookup takes)
/// defined in section `sec` at the highest value not above `off`.
pub(crate) fn enclosing_function<'a>(obj: &ObjectFile<'a>, sec: u32, off: u64) -> Option<&'a [u8]> {
    let mut best: Option<(u64, &[u8])> = None;
    for (i, sym) in obj.symbols.iter().enumerate().skip(1) {
        let ty = sym.st_type();
        if ty != elf::STT_FUNC && ty != elf::STT_NOTYPE {
            continue;
        }
        if obj.place_of(i) != SymPlace::Section(sec) {
            continue;
        }
        let value = sym.st_value.get(E);
        let name = obj.name_of(i);
        if value > off || name.is_empty() {
            continue;
        }
        if best.is_none_or(|(v, _)| value > v) {
            best = Some((value, name));
        }
    }
    best.map(|(_, name)| name)
}
