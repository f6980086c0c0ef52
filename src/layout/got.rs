//! The relocation scan of an executable: which symbols need GOT entries
//! (addresses or TLS offsets) and which IFUNCs need an `.iplt` stub with an
//! IRELATIVE slot; undefined and unsupported references are found here too.
//!
//! Files are scanned in parallel; the needs are then ordered by symbol (global
//! id, then file and index), so every table's size and order is exact and
//! independent of thread count.

use crate::arch::x86_64::{
    action, got_relaxation, reloc_name, reloc_spec, GotRelax, PlaceRecord, Refusal, SymClass, Value,
};
use crate::err;
use crate::error::{Error, Result};
use crate::input::object::{FileId, ObjectFile, SymPlace, E};
use crate::layout::Sections;
use crate::resolve::mode::OutputMode;
use crate::resolve::{Definition, Resolution, SymId};
use object::elf;
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SymRef {
    Global(SymId),
    Local(FileId, u32),
    /// The output's own TLS block as a whole: the key of the
    /// local-dynamic GOT pair a shared object's `R_X86_64_TLSLD` uses.
    Module,
}

pub fn sym_ref(obj: &ObjectFile, idx: usize) -> SymRef {
    if idx >= obj.first_global {
        SymRef::Global(obj.global_ids[idx - obj.first_global])
    } else {
        SymRef::Local(obj.id, idx as u32)
    }
}

pub use crate::arch::x86_64::GotKind;

/// The dynamic records an input section's own places need (absolute
/// addresses in a PIE, references to shared objects' symbols), counted by
/// the scan from the action table and written, in relocation order, by
/// [`crate::write::dynamic::write`] from the same table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionRecords {
    pub file: FileId,
    pub sec: u32,
    pub relative: u32,
    /// Of the relative records, those `.relr.dyn` takes
    /// (`-z pack-relative-relocs`, [`packs_relative`]).
    pub relr: u32,
    pub symbolic: u32,
}

/// Whether a RELATIVE record for the place at `r_offset` of input section
/// `s` goes to `.relr.dyn`: with `-z pack-relative-relocs`, when the place
/// is certain to be 8-aligned in the output (its offset is, and so is its
/// section). Scan, `.relr.dyn`'s address list and the `.rela.dyn` writer
/// all decide through this.
pub fn packs_relative(pack: bool, s: &crate::input::object::InputSection, r_offset: u64) -> bool {
    pack && r_offset.is_multiple_of(8) && s.align >= 8
}

#[derive(Default)]
pub struct GotPlan {
    pub mode: Option<OutputMode>,
    /// `-z pack-relative-relocs`: RELATIVE records go to `.relr.dyn`
    /// where they can ([`packs_relative`]).
    pub pack_relative: bool,
    /// Functions of shared objects called through (or, canonical, named
    /// by) a lazy `.plt` entry, in symbol order.
    pub plt: Vec<SymId>,
    pub plt_index: FxHashMap<SymId, u32>,
    /// Functions called through their GOT entry (`.plt.got`), because
    /// their address is loaded from the GOT anyway.
    pub plt_got: Vec<SymId>,
    pub plt_got_index: FxHashMap<SymId, u32>,
    /// PLT entries whose address stands for the function everywhere.
    pub canonical: FxHashSet<SymId>,
    /// Shared objects' variables copied into the executable (with every
    /// alias at the same address), each with its offset in the copy area.
    pub copies: Vec<CopyReloc>,
    pub copy_of: FxHashMap<SymId, u32>,
    /// Bytes and alignment of the copy area (`.bss`).
    pub copy_size: u64,
    pub copy_align: u64,
    pub place_records: Vec<SectionRecords>,
    /// The input offsets of the places `.relr.dyn` takes, record after
    /// record of `place_records` (each record's `relr` of them), in
    /// relocation order: noted by the scan, so that `.relr.dyn`'s address
    /// list needs no second pass over the action table.
    pub relr_offsets: Vec<u64>,
    /// Every global's class, as the scan saw it.
    pub classes: SymClasses,
    /// A dynamic record lands in a read-only section: `DT_TEXTREL`.
    pub textrel: bool,
    /// The first such relocation of each file that has one, described
    /// for messages (`-z text` makes them errors).
    pub textrel_places: Vec<String>,
    /// Shared objects' symbols that relocations of kept allocated sections
    /// name: what `.dynsym` imports (code `--gc-sections` removed does not
    /// count, as in GNU ld).
    pub imports: Vec<SymId>,
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

/// A variable of a shared object copied into the executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReloc {
    /// The symbol the `R_X86_64_COPY` names; `aliases` are the others at
    /// its address (its strong and weak names), defined at the copy too.
    pub sym: SymId,
    pub aliases: Vec<SymId>,
    pub offset: u64,
    pub size: u64,
}

/// Size of one `.iplt` stub: `jmp *slot(%rip)` padded to 16 bytes.
pub const IPLT_ENTRY: u64 = 16;
/// Bytes of one lazy `.plt` entry, and of PLT0 before them.
pub const PLT_ENTRY: u64 = 16;
/// `.got.plt` starts with three reserved words (GNU ld's layout).
pub const GOTPLT_RESERVED: u64 = 3;

impl GotPlan {
    pub fn got_size(&self) -> u64 {
        8 * self.got.len() as u64
    }
    pub fn gotplt_size(&self) -> u64 {
        8 * (GOTPLT_RESERVED + self.plt.len() as u64 + self.iplt.len() as u64)
    }
    pub fn iplt_size(&self) -> u64 {
        IPLT_ENTRY * self.iplt.len() as u64
    }
    /// The `.got.plt` slot of IFUNC stub `slot`: after the reserved words
    /// and the lazy `.plt`'s slots.
    pub fn iplt_slot(&self, slot: u64) -> u64 {
        8 * (GOTPLT_RESERVED + self.plt.len() as u64 + slot)
    }
    pub fn rela_iplt_size(&self) -> u64 {
        24 * self.iplt.len() as u64
    }
    /// Whether the executable gets a `.got.plt`. GNU ld drops it (and
    /// `_GLOBAL_OFFSET_TABLE_`) when there are no GOT entries, no IFUNC
    /// slots and nothing refers to the GOT's base
    /// (`elf_x86_size_dynamic_sections`).
    pub fn gotplt_needed(&self) -> bool {
        !self.got.is_empty() || !self.iplt.is_empty() || !self.plt.is_empty() || self.base_used
    }
}

/// The definition of a symbol reference: (file, symbol index), if any.
pub fn definition(res: &Resolution, r: SymRef) -> Option<(FileId, u32)> {
    match r {
        SymRef::Local(f, i) => Some((f, i)),
        SymRef::Module => None,
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

/// What the target of a relocation is, for the action table.
pub fn sym_class(res: &Resolution, r: SymRef) -> SymClass {
    if let SymRef::Global(id) = r {
        match res.symbols[id as usize].def {
            Definition::Shared { dso, sym } => {
                let t = res.dsos[dso as usize].so.symbols[sym as usize].st_type;
                return match t {
                    elf::STT_FUNC | elf::STT_GNU_IFUNC => SymClass::ImportedFunc,
                    _ => SymClass::ImportedData,
                };
            }
            // A shared object's undefined symbol: the loader binds it.
            Definition::Undefined if res.symbols[id as usize].preemptible => {
                return SymClass::ImportedData
            }
            Definition::Undefined => return SymClass::UndefWeak,
            Definition::Synthetic => return SymClass::Defined,
            // A shared object's interposable definition: referred to as
            // another module's would be.
            Definition::Object { file, sym, .. } if res.symbols[id as usize].preemptible => {
                let t = res.objects[file as usize].symbols[sym as usize].st_type();
                return match t {
                    elf::STT_FUNC | elf::STT_GNU_IFUNC => SymClass::ImportedFunc,
                    _ => SymClass::ImportedData,
                };
            }
            Definition::Object { .. } => {}
        }
    }
    if r == SymRef::Module {
        return SymClass::Defined;
    }
    if is_ifunc(res, r) {
        return SymClass::Ifunc;
    }
    match definition(res, r) {
        Some((f, i)) if res.objects[f as usize].place_of(i as usize) == SymPlace::Absolute => {
            SymClass::Absolute
        }
        _ => SymClass::Defined,
    }
}

/// Each global symbol's [`SymClass`] and whether its definition is
/// thread-local, decided once by the scan (nothing changes a definition
/// after it): the scan and the writers of dynamic records ask for every
/// relocation, and for a global each answer otherwise takes two scattered
/// reads (the symbol, then its defining object's symbol table).
#[derive(Default)]
pub struct SymClasses(Vec<(SymClass, Option<bool>)>);

impl SymClasses {
    pub fn new(res: &Resolution) -> SymClasses {
        SymClasses(
            (0..res.symbols.len() as SymId)
                .into_par_iter()
                .map(|id| {
                    let r = SymRef::Global(id);
                    (sym_class(res, r), defined_as_tls(res, r))
                })
                .collect(),
        )
    }

    fn cached(&self, r: SymRef) -> Option<(SymClass, Option<bool>)> {
        match r {
            SymRef::Global(id) => self.0.get(id as usize).copied(),
            _ => None,
        }
    }

    /// [`sym_class`] of `r`.
    pub fn of(&self, res: &Resolution, r: SymRef) -> SymClass {
        match self.cached(r) {
            Some((c, _)) => c,
            None => sym_class(res, r),
        }
    }

    /// [`defined_as_tls`] of `r`.
    fn tls(&self, res: &Resolution, r: SymRef) -> Option<bool> {
        match self.cached(r) {
            Some((_, t)) => t,
            None => defined_as_tls(res, r),
        }
    }
}

/// The action for relocation `r` of allocated section `sec` of `obj`, and
/// its target's class. Scan and write both decide through this.
#[allow(clippy::too_many_arguments)]
pub fn reloc_action(
    res: &Resolution,
    classes: &SymClasses,
    sections: &Sections,
    mode: OutputMode,
    obj: &ObjectFile,
    sec: usize,
    r: &crate::input::object::Rela64,
    spec: &crate::arch::x86_64::RelocSpec,
) -> (SymClass, crate::arch::x86_64::Action) {
    let idx = r.r_sym(E, false) as usize;
    let class = if idx == 0 {
        SymClass::NoSymbol
    } else {
        classes.of(res, sym_ref(obj, idx))
    };
    let relaxed = match spec.value {
        Value::GotTpOff => relaxed_tls_ie(res, mode, obj, sec, r),
        _ => spec.needs_got() && relaxed_got_load(res, sections, obj, sec, r).is_some(),
    };
    let writable = obj.sections[sec].flags & u64::from(elf::SHF_WRITE) != 0;
    (class, action(spec, mode, class, relaxed, writable))
}

/// Whether relocation `r` of section `sec` in `obj` is a GOT load that
/// will be relaxed to a direct reference: its instruction allows it and its
/// target is a defined, non-IFUNC symbol in a kept section or one the
/// linker defines (`__start_X`), or, in a static executable, an undefined
/// weak symbol (its `mov` becomes `mov $0`). Scan, apply and
/// `--emit-relocs` all decide through this one function.
pub fn relaxed_got_load(
    res: &Resolution,
    sections: &Sections,
    obj: &ObjectFile,
    sec: usize,
    r: &crate::input::object::Rela64,
) -> Option<GotRelax> {
    let idx = r.r_sym(E, false) as usize;
    // Only the plain form `foo@GOTPCREL(%rip)` (addend -4: the field ends
    // the instruction) reads the GOT slot of `foo` itself; a plain
    // GOTPCREL only in code, where its bytes are an instruction.
    let r_type = r.r_type(E, false);
    let code = obj.sections[sec].flags & u64::from(elf::SHF_EXECINSTR) != 0;
    if idx == 0 || r.r_addend.get(E) != -4 || (r_type == elf::R_X86_64_GOTPCREL && !code) {
        return None;
    }
    let relax = got_relaxation(
        r_type,
        obj.sections[sec].data,
        r.r_offset.get(E) as usize,
        sections.fixed_address(),
    )?;
    let target = sym_ref(obj, idx);
    if let SymRef::Global(id) = target {
        match res.symbols[id as usize].def {
            Definition::Synthetic => return Some(relax),
            // Nothing can define it later in a static executable: the
            // load is of 0.
            Definition::Undefined if !sections.mode.is_dynamic() && relax == GotRelax::MovToLea => {
                return sections.fixed_address().then_some(GotRelax::MovToZero);
            }
            _ => {}
        }
    }
    // Another module may define it: the GOT entry stays.
    if sym_class(res, target).is_imported() {
        return None;
    }
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

/// Whether initial-exec relocation `r` (`R_X86_64_GOTTPOFF`) becomes
/// local exec: its target is the executable's own TLS (whose offset from
/// the thread pointer is known at link time) and its instruction allows
/// it. Scan, apply and `--emit-relocs` decide through this.
pub fn relaxed_tls_ie(
    res: &Resolution,
    mode: OutputMode,
    obj: &ObjectFile,
    sec: usize,
    r: &crate::input::object::Rela64,
) -> bool {
    let idx = r.r_sym(E, false) as usize;
    idx != 0
        && mode.is_executable()
        && r.r_type(E, false) == elf::R_X86_64_GOTTPOFF
        && matches!(sym_class(res, sym_ref(obj, idx)), SymClass::Defined)
        && crate::arch::x86_64::ie_to_le_ok(obj.sections[sec].data, r.r_offset.get(E) as usize)
}

/// What the scan of one file found.
#[derive(Default)]
struct FileScan {
    got: Vec<(SymRef, GotKind)>,
    iplt: Vec<SymRef>,
    plt: Vec<SymId>,
    canonical: Vec<SymId>,
    copies: Vec<SymId>,
    imports: Vec<SymId>,
    records: Vec<SectionRecords>,
    relr_offsets: Vec<u64>,
    errors: Vec<Error>,
    base_used: bool,
    textrel: bool,
    textrel_place: Option<String>,
}

/// Scans every relocation of every kept allocated section.
pub fn scan(
    res: &Resolution,
    sections: &Sections,
    mode: OutputMode,
    pack_relative: bool,
) -> Result<GotPlan> {
    let pack_relative = pack_relative && mode.is_dynamic();
    let classes = SymClasses::new(res);
    let per_file: Vec<FileScan> = res
        .objects
        .par_iter()
        .map(|obj| scan_file(res, &classes, sections, mode, pack_relative, obj))
        .collect();
    let mut errors: Vec<Error> = per_file
        .iter()
        .flat_map(|f| f.errors.iter().cloned())
        .collect();
    if !errors.is_empty() {
        errors.dedup();
        let n = errors.len();
        let mut msg: Vec<String> = errors.into_iter().take(20).map(|e| e.0).collect();
        if n > 20 {
            msg.push(format!("... and {} more errors", n - 20));
        }
        return Err(Error(msg.join("\n")));
    }
    fn merged<T: Ord + Copy>(per_file: &[FileScan], f: impl Fn(&FileScan) -> &[T]) -> Vec<T> {
        let mut v: Vec<T> = per_file.iter().flat_map(|s| f(s).iter().copied()).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
    let got = merged(&per_file, |f| &f.got);
    let imports = merged(&per_file, |f| &f.imports);
    let iplt = merged(&per_file, |f| &f.iplt);
    let all_plt = merged(&per_file, |f| &f.plt);
    let canonical: FxHashSet<SymId> = per_file
        .iter()
        .flat_map(|f| f.canonical.iter().copied())
        .collect();
    // A function whose address is also loaded from the GOT is called
    // through that GOT entry (`.plt.got`, as GNU ld does): no lazy entry,
    // no JUMP_SLOT. Not a canonical one, whose `.plt` entry is its address.
    let got_index: FxHashMap<(SymRef, GotKind), u32> = got
        .iter()
        .enumerate()
        .map(|(i, &k)| (k, i as u32))
        .collect();
    let (plt_got, plt): (Vec<SymId>, Vec<SymId>) = all_plt.into_iter().partition(|&id| {
        got_index.contains_key(&(SymRef::Global(id), GotKind::Address)) && !canonical.contains(&id)
    });
    let index = |v: &[SymId]| -> FxHashMap<SymId, u32> {
        v.iter().enumerate().map(|(i, &k)| (k, i as u32)).collect()
    };
    let (copies, copy_size, copy_align) = plan_copies(res, &merged(&per_file, |f| &f.copies));
    let mut copy_of = FxHashMap::default();
    for (i, c) in copies.iter().enumerate() {
        for &id in std::iter::once(&c.sym).chain(&c.aliases) {
            copy_of.insert(id, i as u32);
        }
    }
    Ok(GotPlan {
        mode: Some(mode),
        pack_relative,
        got_index,
        got,
        iplt_index: iplt
            .iter()
            .enumerate()
            .map(|(i, &k)| (k, i as u32))
            .collect(),
        iplt,
        plt_index: index(&plt),
        imports,
        plt,
        plt_got_index: index(&plt_got),
        plt_got,
        canonical,
        copies,
        copy_of,
        copy_size,
        copy_align,
        place_records: per_file
            .iter()
            .flat_map(|f| f.records.iter().copied())
            .collect(),
        relr_offsets: per_file
            .iter()
            .flat_map(|f| f.relr_offsets.iter().copied())
            .collect(),
        classes,
        textrel: per_file.iter().any(|f| f.textrel),
        textrel_places: per_file
            .iter()
            .filter_map(|f| f.textrel_place.clone())
            .collect(),
        base_used: per_file.iter().any(|f| f.base_used),
    })
}

fn scan_file(
    res: &Resolution,
    classes: &SymClasses,
    sections: &Sections,
    mode: OutputMode,
    pack_relative: bool,
    obj: &ObjectFile,
) -> FileScan {
    let mut out = FileScan::default();
    for (si, s) in obj.sections.iter().enumerate() {
        if s.relocs.is_empty() || !sections.placement[obj.id as usize][si].is_placed() {
            continue;
        }
        let alloc = s.is_alloc();
        let writable = s.flags & u64::from(elf::SHF_WRITE) != 0;
        let mut counts = SectionRecords {
            file: obj.id,
            sec: si as u32,
            relative: 0,
            relr: 0,
            symbolic: 0,
        };
        let mut consumed = false;
        for r in s.relocs {
            // The call to __tls_get_addr in a relaxed TLS sequence is gone.
            if std::mem::take(&mut consumed) {
                continue;
            }
            let ty = r.r_type(E, false);
            let Some(spec) = reloc_spec(ty) else {
                out.errors.push(err!(
                    "{}: unsupported relocation {} in section {}",
                    obj.name,
                    reloc_name(ty),
                    String::from_utf8_lossy(s.name)
                ));
                continue;
            };
            consumed = spec.consumes_next(mode);
            if !alloc {
                // Nothing is allocated for a section that is not loaded:
                // a GOT entry or a TLS sequence there is a corrupt input
                // (GNU ld 2.40 stops with an internal error).
                if needs_loaded_section(spec.value) {
                    let idx = r.r_sym(E, false) as usize;
                    out.errors.push(err!(
                        "rivet: error: {}: relocation {} against `{}' in section {} needs a GOT entry or code, which a non-allocated section cannot have",
                        obj.name,
                        spec.name,
                        target_name(res, obj, idx),
                        String::from_utf8_lossy(s.name)
                    ));
                }
                continue;
            }
            out.base_used |= matches!(spec.value, Value::GotPc | Value::GotOff | Value::GotEntry);
            let idx = r.r_sym(E, false) as usize;
            let target = sym_ref(obj, idx);
            if idx != 0 {
                if let SymRef::Global(id) = target {
                    let g = &res.symbols[id as usize];
                    out.base_used |= g.name == b"_GLOBAL_OFFSET_TABLE_";
                    if g.def == Definition::Undefined
                        && obj.symbols[idx].st_bind() != elf::STB_WEAK
                        // A shared object leaves it to the loader.
                        && !g.preemptible
                    {
                        out.errors
                            .push(undefined_reference(res, obj, si, r, g.name));
                        continue;
                    }
                }
            }
            if let Some(e) = tls_mismatch(res, classes, obj, si, idx, spec) {
                out.errors.push(e);
                continue;
            }
            let (class, act) = reloc_action(res, classes, sections, mode, obj, si, r, spec);
            if let Some(refusal) = act.refuse {
                out.errors
                    .push(refused(res, obj, si, idx, spec.name, refusal, mode));
                continue;
            }
            if idx == 0 {
                continue;
            }
            if let Some(k) = act.got {
                let key = if k == GotKind::TlsLdModule {
                    SymRef::Module
                } else {
                    target
                };
                out.got.push((key, k));
                if let Some(second) = k.second_word() {
                    out.got.push((key, second));
                }
            }
            if let SymRef::Global(id) = target {
                let def = res.symbols[id as usize].def;
                if class.is_imported() && !matches!(def, Definition::Object { .. }) {
                    out.imports.push(id);
                }
                if act.plt {
                    out.plt.push(id);
                }
                if act.canonical {
                    out.canonical.push(id);
                }
                if act.copy {
                    if let Some(e) = protected_copy(res, obj, id) {
                        out.errors.push(e);
                        continue;
                    }
                    out.copies.push(id);
                }
            }
            let kept = sections.place_kept(obj.id, si as u32, r.r_offset.get(E));
            match act.record {
                _ if !kept => {}
                PlaceRecord::None => {}
                PlaceRecord::Relative => {
                    counts.relative += 1;
                    if packs_relative(pack_relative, s, r.r_offset.get(E)) {
                        counts.relr += 1;
                        out.relr_offsets.push(r.r_offset.get(E));
                    }
                }
                PlaceRecord::Symbolic => counts.symbolic += 1,
            }
            if act.record != PlaceRecord::None && kept && !writable {
                out.textrel = true;
                if out.textrel_place.is_none() {
                    out.textrel_place = Some(format!(
                        "{}: relocation {} against `{}' in read-only section `{}'",
                        obj.name,
                        spec.name,
                        target_name(res, obj, idx),
                        String::from_utf8_lossy(s.name)
                    ));
                }
            }
            if spec.value != Value::None && !spec.is_tls() && class == SymClass::Ifunc {
                out.iplt.push(target);
            }
        }
        if counts.relative + counts.symbolic > 0 {
            out.records.push(counts);
        }
    }
    for v in [
        &mut out.plt,
        &mut out.canonical,
        &mut out.copies,
        &mut out.imports,
    ] {
        v.sort_unstable();
        v.dedup();
    }
    out.got.sort_unstable();
    out.got.dedup();
    out.iplt.sort_unstable();
    out.iplt.dedup();
    out
}

/// GNU ld's message for an undefined symbol, naming where it is referenced.
fn undefined_reference(
    res: &Resolution,
    obj: &ObjectFile,
    si: usize,
    r: &crate::input::object::Rela64,
    name: &[u8],
) -> Error {
    let off = r.r_offset.get(E);
    let function = crate::resolve::warnings::enclosing_function(obj, si as u32, off)
        .map(|f| format!(" in function {}", crate::demangle::pretty(f, res.demangle)))
        .unwrap_or_default();
    err!(
        "rivet: error: undefined symbol: {}\n>>> referenced by {}:({}+{off:#x}){function}",
        crate::demangle::pretty(name, res.demangle),
        obj.name,
        String::from_utf8_lossy(obj.sections[si].name)
    )
}

/// Whether symbol `idx` of `obj` is thread-local where it is defined:
/// `Some(true/false)` for a definition (in an object, a shared object, or
/// a section symbol of a TLS section), `None` when that is not known (an
/// undefined or linker-defined symbol).
fn defined_as_tls(res: &Resolution, r: SymRef) -> Option<bool> {
    if let SymRef::Global(id) = r {
        if let Definition::Shared { dso, sym } = res.symbols[id as usize].def {
            let t = res.dsos[dso as usize].so.symbols[sym as usize].st_type;
            return Some(t == elf::STT_TLS);
        }
    }
    let (f, i) = definition(res, r)?;
    let def = &res.objects[f as usize];
    let sym = &def.symbols[i as usize];
    match (sym.st_type(), def.place_of(i as usize)) {
        (elf::STT_TLS, _) => Some(true),
        (elf::STT_SECTION, SymPlace::Section(s)) => {
            Some(def.sections[s as usize].flags & u64::from(elf::SHF_TLS) != 0)
        }
        (_, SymPlace::Section(_)) => Some(false),
        _ => None,
    }
}

/// A TLS relocation against a variable that is not thread-local, or an
/// address taken of one that is: GNU ld's "mismatches" error, naming both
/// sides. (A copy relocation would otherwise copy a TLS template.)
fn tls_mismatch(
    res: &Resolution,
    classes: &SymClasses,
    obj: &ObjectFile,
    si: usize,
    idx: usize,
    spec: &crate::arch::x86_64::RelocSpec,
) -> Option<Error> {
    let addressing = matches!(
        spec.value,
        Value::Abs | Value::Pc | Value::Plt | Value::GotPcRel | Value::GotEntry
    );
    let tls_access = matches!(
        spec.value,
        Value::TpOff | Value::GotTpOff | Value::TlsGdToLe | Value::TlsDescToLe
    );
    if idx == 0 || !(addressing || tls_access) || !obj.sections[si].is_alloc() {
        return None;
    }
    let is_tls = classes.tls(res, sym_ref(obj, idx))?;
    if is_tls == tls_access {
        return None;
    }
    let name = crate::demangle::pretty(obj.name_of(idx), res.demangle);
    let (want, have) = if tls_access {
        ("TLS", "non-TLS")
    } else {
        ("non-TLS", "TLS")
    };
    Some(err!(
        "rivet: error: {}: relocation {} against `{name}' in section {}: {want} reference to a {have} symbol (its definition mismatches this {want} reference)",
        obj.name,
        spec.name,
        String::from_utf8_lossy(obj.sections[si].name)
    ))
}

/// A copy of a shared object's protected variable would not be the one
/// the object itself uses (its references bind within it): GNU ld refuses.
fn protected_copy(res: &Resolution, obj: &ObjectFile, id: SymId) -> Option<Error> {
    let Definition::Shared { dso, sym } = res.symbols[id as usize].def else {
        return None;
    };
    let so = &res.dsos[dso as usize].so;
    (so.symbols[sym as usize].visibility == elf::STV_PROTECTED).then(|| {
        err!(
            "rivet: error: {}: copy relocation against non-copyable protected symbol `{}' in {}; recompile with -fPIC",
            obj.name,
            crate::demangle::pretty(res.symbols[id as usize].name, res.demangle),
            so.path
        )
    })
}

/// How messages name relocation target `idx` of `obj`: a section
/// symbol by its section's name, others demangled.
fn target_name(res: &Resolution, obj: &ObjectFile, idx: usize) -> String {
    if idx < obj.first_global && obj.symbols[idx].st_type() == elf::STT_SECTION {
        match obj.place_of(idx) {
            SymPlace::Section(t) => {
                String::from_utf8_lossy(obj.sections[t as usize].name).into_owned()
            }
            _ => String::new(),
        }
    } else {
        crate::demangle::pretty(obj.name_of(idx), res.demangle)
    }
}

/// Relocations that only mean something in loaded code: they need a GOT
/// entry or rewrite a TLS code sequence.
fn needs_loaded_section(v: Value) -> bool {
    matches!(
        v,
        Value::GotPcRel
            | Value::GotEntry
            | Value::GotTpOff
            | Value::TlsGdToLe
            | Value::TlsLdToLe
            | Value::TlsDescToLe
            | Value::TlsDescCallToNop
    )
}

/// GNU ld's message for a relocation the output kind cannot hold.
fn refused(
    res: &Resolution,
    obj: &ObjectFile,
    si: usize,
    idx: usize,
    rname: &str,
    why: Refusal,
    mode: OutputMode,
) -> Error {
    let target = target_name(res, obj, idx);
    let sec = String::from_utf8_lossy(obj.sections[si].name);
    match why {
        Refusal::NeedsPic if mode == OutputMode::Shared => {
            let what = match sym_ref(obj, idx) {
                SymRef::Global(id) if res.symbols[id as usize].def == Definition::Undefined => {
                    "undefined symbol "
                }
                SymRef::Global(_) => "symbol ",
                _ => "",
            };
            err!(
                "rivet: error: {}: relocation {rname} against {what}`{target}' in section {sec} can not be used when making a shared object; recompile with -fPIC",
                obj.name
            )
        }
        Refusal::NeedsPic => err!(
            "rivet: error: {}: relocation {rname} against `{target}' in section {sec} can not be used when making a PIE object; recompile with -fPIE",
            obj.name
        ),
        Refusal::AbsolutePcRel => err!(
            "rivet: error: {}: relocation {rname} against absolute symbol `{target}' in section {sec} is disallowed in a PIE",
            obj.name
        ),
        Refusal::LocalExecImported => err!(
            "rivet: error: {}: relocation {rname} against `{target}' in section {sec}: a local-exec TLS access cannot reach a shared object's variable; recompile with -fPIC",
            obj.name
        ),
    }
}

/// Lays out the copy area: one copy per shared object's variable that
/// executable code addresses directly, with its aliases (the other names
/// the object exports at the same address: `environ` and `__environ`) so
/// that the object's own references, which bind to any of them, reach the
/// copy too.
fn plan_copies(res: &Resolution, wanted: &[SymId]) -> (Vec<CopyReloc>, u64, u64) {
    let mut by_place: FxHashMap<(u32, u64), usize> = FxHashMap::default();
    let mut copies: Vec<CopyReloc> = Vec::new();
    let mut size = 0u64;
    let mut align = 1u64;
    for &id in wanted {
        let Definition::Shared { dso, sym } = res.symbols[id as usize].def else {
            continue;
        };
        let so = &res.dsos[dso as usize].so;
        let s = &so.symbols[sym as usize];
        if by_place.contains_key(&(dso, s.value)) {
            continue;
        }
        let a = so.copy_align(sym as usize).max(1);
        align = align.max(a);
        size = crate::layout::align_up(size, a);
        let mut aliases = Vec::new();
        for (k, other) in so.symbols.iter().enumerate() {
            if k == sym as usize || other.value != s.value || !other.defined || other.hidden {
                continue;
            }
            if !so.exports(k) || other.st_type == elf::STT_FUNC {
                continue;
            }
            if let Some(aid) = res.lookup(other.name) {
                if res.symbols[aid as usize].def == (Definition::Shared { dso, sym: k as u32 }) {
                    aliases.push(aid);
                }
            }
        }
        aliases.sort_unstable();
        aliases.dedup();
        by_place.insert((dso, s.value), copies.len());
        copies.push(CopyReloc {
            sym: id,
            aliases,
            offset: size,
            size: s.size,
        });
        size += s.size;
    }
    (copies, size, align)
}
