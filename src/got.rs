//! The relocation scan of an executable: which symbols need GOT entries
//! (addresses or TLS offsets) and which IFUNCs need an `.iplt` stub with an
//! IRELATIVE slot; undefined and unsupported references are found here too.
//!
//! Files are scanned in parallel; the needs are then ordered by symbol (global
//! id, then file and index), so every table's size and order is exact and
//! independent of thread count.

use crate::arch::x86_64::{got_relaxation, reloc_name, reloc_spec, GotRelax, Value};
use crate::err;
use crate::error::{Error, Result};
use crate::layout::Sections;
use crate::object::{FileId, ObjectFile, SymPlace, E};
use crate::resolve::{Definition, Resolution, SymId};
use object::elf;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SymRef {
    Global(SymId),
    Local(FileId, u32),
}

pub fn sym_ref(obj: &ObjectFile, idx: usize) -> SymRef {
    if idx >= obj.first_global {
        SymRef::Global(obj.global_ids[idx - obj.first_global])
    } else {
        SymRef::Local(obj.id, idx as u32)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GotKind {
    /// The symbol's address.
    Address,
    /// The symbol's offset from the thread pointer (initial exec).
    TpOff,
}

#[derive(Default)]
pub struct GotPlan {
    pub got: Vec<(SymRef, GotKind)>,
    pub got_index: FxHashMap<(SymRef, GotKind), u32>,
    pub iplt: Vec<SymRef>,
    pub iplt_index: FxHashMap<SymRef, u32>,
    /// A relocation is relative to the GOT's base (`_GLOBAL_OFFSET_TABLE_`,
    /// the start of `.got.plt`: GOTPC32/64, GOTOFF64, GOT64-style) or names
    /// `_GLOBAL_OFFSET_TABLE_` itself. (`as` adds an undefined
    /// `_GLOBAL_OFFSET_TABLE_` to objects with TLS references; that alone
    /// does not count, as in GNU ld.)
    pub base_used: bool,
}

/// Size of one `.iplt` stub: `jmp *slot(%rip)` padded to 16 bytes.
pub const IPLT_ENTRY: u64 = 16;
/// `.got.plt` starts with three reserved words (GNU ld's layout).
pub const GOTPLT_RESERVED: u64 = 3;

impl GotPlan {
    pub fn got_size(&self) -> u64 {
        8 * self.got.len() as u64
    }
    pub fn gotplt_size(&self) -> u64 {
        8 * (GOTPLT_RESERVED + self.iplt.len() as u64)
    }
    pub fn iplt_size(&self) -> u64 {
        IPLT_ENTRY * self.iplt.len() as u64
    }
    pub fn rela_iplt_size(&self) -> u64 {
        24 * self.iplt.len() as u64
    }
    /// Whether the executable gets a `.got.plt`. GNU ld drops it (and
    /// `_GLOBAL_OFFSET_TABLE_`) when there are no GOT entries, no IFUNC
    /// slots and nothing refers to the GOT's base
    /// (`elf_x86_size_dynamic_sections`).
    pub fn gotplt_needed(&self) -> bool {
        !self.got.is_empty() || !self.iplt.is_empty() || self.base_used
    }
}

/// The definition of a symbol reference: (file, symbol index), if any.
pub fn definition(res: &Resolution, r: SymRef) -> Option<(FileId, u32)> {
    match r {
        SymRef::Local(f, i) => Some((f, i)),
        SymRef::Global(id) => match res.symbols[id as usize].def {
            Definition::Object { file, sym, .. } => Some((file, sym)),
            _ => None,
        },
    }
}

pub fn is_ifunc(res: &Resolution, r: SymRef) -> bool {
    definition(res, r).is_some_and(|(f, i)| {
        let obj = &res.objects[f as usize];
        obj.symbols[i as usize].st_type() == elf::STT_GNU_IFUNC
            && obj.place_of(i as usize) != SymPlace::Undefined
    })
}

/// Whether relocation `r` of section `sec` in `obj` is a GOT load that
/// will be relaxed to a direct reference: its instruction allows it and its
/// target is a defined, non-IFUNC symbol in a kept section. Scan, apply and
/// `--emit-relocs` all decide through this one function.
pub fn relaxed_got_load(
    res: &Resolution,
    sections: &Sections,
    obj: &ObjectFile,
    sec: usize,
    r: &crate::object::Rela64,
) -> Option<GotRelax> {
    let idx = r.r_sym(E, false) as usize;
    if idx == 0 {
        return None;
    }
    let relax = got_relaxation(
        r.r_type(E, false),
        obj.sections[sec].data,
        r.r_offset.get(E) as usize,
    )?;
    let target = sym_ref(obj, idx);
    let (f, i) = definition(res, target)?;
    let def = &res.objects[f as usize];
    let SymPlace::Section(s) = def.place_of(i as usize) else {
        return None;
    };
    let kept = sections.placement[f as usize]
        .get(s as usize)
        .is_some_and(|p| p.is_placed());
    (kept && def.symbols[i as usize].st_type() != elf::STT_GNU_IFUNC).then_some(relax)
}

/// Scans every relocation of every kept allocated section.
pub fn scan(res: &Resolution, sections: &Sections) -> Result<GotPlan> {
    type FileScan = (Vec<(SymRef, GotKind)>, Vec<SymRef>, Vec<Error>, bool);
    let per_file: Vec<FileScan> = res
        .objects
        .par_iter()
        .map(|obj| {
            let mut got = Vec::new();
            let mut iplt = Vec::new();
            let mut errors = Vec::new();
            let mut base_used = false;
            for (si, s) in obj.sections.iter().enumerate() {
                if s.relocs.is_empty() || !sections.placement[obj.id as usize][si].is_placed() {
                    continue;
                }
                let alloc = s.is_alloc();
                let mut consumed = false;
                for r in s.relocs {
                    // The call to __tls_get_addr in a relaxed TLS sequence is gone.
                    if std::mem::take(&mut consumed) {
                        continue;
                    }
                    let ty = r.r_type(E, false);
                    let Some(spec) = reloc_spec(ty) else {
                        errors.push(err!(
                            "{}: unsupported relocation {} in section {}",
                            obj.name,
                            reloc_name(ty),
                            String::from_utf8_lossy(s.name)
                        ));
                        continue;
                    };
                    consumed = spec.consumes_next();
                    if !alloc {
                        continue;
                    }
                    base_used |=
                        matches!(spec.value, Value::GotPc | Value::GotOff | Value::GotEntry);
                    let idx = r.r_sym(E, false) as usize;
                    if idx == 0 {
                        continue;
                    }
                    let target = sym_ref(obj, idx);
                    if let SymRef::Global(id) = target {
                        let g = &res.symbols[id as usize];
                        base_used |= g.name == b"_GLOBAL_OFFSET_TABLE_";
                        if g.def == Definition::Undefined
                            && obj.symbols[idx].st_bind() != elf::STB_WEAK
                        {
                            let off = r.r_offset.get(E);
                            let function = crate::warnings::enclosing_function(obj, si as u32, off)
                                .map(|f| {
                                    format!(" in function {}", crate::demangle::pretty(f, res.demangle))
                                })
                                .unwrap_or_default();
                            errors.push(err!(
                                "rivet: error: undefined symbol: {}\n>>> referenced by {}:({}+{off:#x}){function}",
                                crate::demangle::pretty(g.name, res.demangle),
                                obj.name,
                                String::from_utf8_lossy(s.name)
                            ));
                            continue;
                        }
                    }
                    if spec.needs_got() && relaxed_got_load(res, sections, obj, si, r).is_none() {
                        got.push((target, GotKind::Address));
                    }
                    if spec.needs_got_tpoff() {
                        got.push((target, GotKind::TpOff));
                    }
                    if spec.value != Value::None && !spec.is_tls() && is_ifunc(res, target) {
                        iplt.push(target);
                    }
                }
            }
            got.sort_unstable();
            got.dedup();
            iplt.sort_unstable();
            iplt.dedup();
            (got, iplt, errors, base_used)
        })
        .collect();
    let mut errors: Vec<Error> = per_file.iter().flat_map(|f| f.2.iter().cloned()).collect();
    if !errors.is_empty() {
        errors.dedup();
        let n = errors.len();
        let mut msg: Vec<String> = errors.into_iter().take(20).map(|e| e.0).collect();
        if n > 20 {
            msg.push(format!("... and {} more errors", n - 20));
        }
        return Err(Error(msg.join("\n")));
    }
    let mut got: Vec<(SymRef, GotKind)> =
        per_file.iter().flat_map(|f| f.0.iter().copied()).collect();
    got.sort_unstable();
    got.dedup();
    let mut iplt: Vec<SymRef> = per_file.iter().flat_map(|f| f.1.iter().copied()).collect();
    iplt.sort_unstable();
    iplt.dedup();
    let got_index = got
        .iter()
        .enumerate()
        .map(|(i, &k)| (k, i as u32))
        .collect();
    let iplt_index = iplt
        .iter()
        .enumerate()
        .map(|(i, &k)| (k, i as u32))
        .collect();
    Ok(GotPlan {
        got,
        got_index,
        iplt,
        iplt_index,
        base_used: per_file.iter().any(|f| f.3),
    })
}
