//! The output symbol and string tables, counted per file and written in
//! parallel: `[null][section symbols][locals of each file][the linker's
//! locals][globals each file owns][the linker's globals]`, with `.strtab`
//! partitioned the same way. The linker's locals are the symbols GNU ld
//! defines hidden (`__init_array_start`, `_GLOBAL_OFFSET_TABLE_`, ...),
//! after an empty-named `STT_FILE` as GNU ld writes them; its globals are
//! `_end`, `__start_X`, ... and names only `-u` gave.
//!
//! A global is written by the file that defines it (or, if undefined, the
//! first file that refers to it), so ownership — and with it every count
//! and index — follows from the resolution alone.

use crate::args::Discard;
use crate::error::Result;
use crate::input::object::{ObjectFile, SymPlace, E};
use crate::layout::got::SymRef;
use crate::layout::symvals::{
    linker_sym_section, linker_sym_value, local_value, synthetic_value, Commons, LinkerName,
    LinkerSym, LinkerSyms,
};
use crate::layout::Sections;
use crate::partition::{Filler, Partition};
use crate::resolve::{Definition, Resolution, Strength, SymId};
use crate::write::Toc;
use object::elf;
use rayon::prelude::*;

pub const SYM_SIZE: u64 = 24;

pub struct SymtabPlan {
    /// (header index, output section) of each section given an
    /// STT_SECTION symbol, in order.
    pub section_syms: Vec<(u32, u32)>,
    /// `section_sym_of[out]`: the symbol index of output section `out`'s section symbol.
    pub section_sym_of: Vec<u32>,
    /// Entries: unit 0 is the null symbol and section symbols, then one unit
    /// per file for locals, one for the linker's locals, one per file for
    /// globals, one for the linker's globals.
    pub entries: Partition,
    /// Bytes of `.strtab`, partitioned like `entries`.
    pub strings: Partition,
    pub local_index: Vec<Vec<u32>>,
    pub global_index: Vec<u32>,
    pub first_global: u32,
    pub exe: bool,
    /// `omitted[id]`: global `id` has no entry (see [`omitted_globals`]);
    /// empty under `-r`.
    pub omitted: Vec<bool>,
    /// `file_symbol_made_up[file]`: the file's locals are preceded by an
    /// STT_FILE symbol rivet makes up (see [`needs_file_symbol`]).
    pub file_symbol_made_up: Vec<bool>,
    /// The symbols the linker defines (executables).
    pub linker: LinkerSyms,
    /// The linker's locals are preceded by an empty-named STT_FILE symbol
    /// (GNU ld's, so that they are not credited to the last file).
    pub linker_file_symbol: bool,
}

/// GNU ld's rule: when a file's first kept local is not an STT_FILE symbol
/// (glibc's objects have none), an STT_FILE symbol named after the file
/// (`assert.o`, the archive member) goes before its locals, so that tools
/// reading the table (gdb, perf, objdump) do not credit them to the file
/// before. Not under `-x`, where GNU ld writes no STT_FILE symbol at all,
/// even before the locals relocation records keep. Called with the file's
/// first kept local, if any.
fn needs_file_symbol(obj: &ObjectFile, discard: Discard, first_kept: Option<usize>) -> bool {
    discard != Discard::All && first_kept.is_some_and(|i| obj.symbols[i].st_type() != elf::STT_FILE)
}

/// Whether local symbol `i` of `obj` goes to the output. `needed` marks
/// the locals that output relocation records name: `-x`/`-X` keep those.
fn keep_local(
    obj: &ObjectFile,
    sections: &Sections,
    toc: &Toc,
    discard: Discard,
    exe: bool,
    needed: &[bool],
    i: usize,
) -> bool {
    if i == 0 || obj.symbols[i].st_type() == elf::STT_SECTION {
        return false;
    }
    let discarded = match discard {
        Discard::None => false,
        Discard::SecMerge => {
            exe && matches!(obj.place_of(i), SymPlace::Section(s)
                if obj.sections.get(s as usize).is_some_and(|s| s.flags & u64::from(elf::SHF_MERGE) != 0))
                && is_local_label(obj.name_of(i))
        }
        Discard::All => true,
        Discard::Locals => is_local_label(obj.name_of(i)),
    };
    if discarded && !needed.get(i).copied().unwrap_or(false) {
        return false;
    }
    match obj.place_of(i) {
        SymPlace::Section(s) => {
            sections.placement[obj.id as usize]
                .get(s as usize)
                .is_some_and(|p| p.is_placed())
                || toc.group_headers.contains_key(&(obj.id, s))
        }
        _ => true,
    }
}

/// bfd's `_bfd_elf_is_local_label_name`: the names `-X` discards, which
/// assemblers give their own labels (`.L...`, `..`, `_.L_`, `L0^A`,
/// `L<digits>^B<digits>`).
pub fn is_local_label(name: &[u8]) -> bool {
    if name.starts_with(b".L") || name.starts_with(b"..") || name.starts_with(b"_.L_") {
        return true;
    }
    if name.len() < 2 || name[0] != b'L' || !name[1].is_ascii_digit() {
        return false;
    }
    let mut ret = false;
    for (k, &c) in name.iter().enumerate().skip(2) {
        if c == 1 || c == 2 {
            if c == 1 && k == 2 {
                return true;
            }
            ret = true;
        } else if !c.is_ascii_digit() {
            return false;
        }
    }
    ret
}

/// Per file, which locals relocation records in the output name (only
/// needed when `-x`/`-X` drop locals and relocations are output).
fn locals_needed(res: &Resolution, sections: &Sections, relocs_out: bool) -> Vec<Vec<bool>> {
    if res.discard == Discard::None || !relocs_out {
        return Vec::new();
    }
    res.objects
        .par_iter()
        .map(|obj| {
            let mut needed = vec![false; obj.first_global];
            let placement = &sections.placement[obj.id as usize];
            for (k, sec) in obj.sections.iter().enumerate() {
                if !placement.get(k).is_some_and(|p| p.is_placed()) {
                    continue;
                }
                for r in sec.relocs {
                    let sym = r.r_sym(E, false) as usize;
                    if sym < needed.len() {
                        needed[sym] = true;
                    }
                }
            }
            needed
        })
        .collect()
}

/// Globals an executable's table leaves out, as GNU ld does: those defined
/// in a dropped (collected) section, and undefined ones. A static
/// executable's undefined symbols are weak and resolved to 0, and GNU ld
/// writes them only when a `--emit-relocs` record from a kept section
/// names them.
fn omitted_globals(res: &Resolution, emit_relocs: bool) -> Vec<bool> {
    // Per file and global: 1 = a relocation names it, 2 = one in a kept section does.
    let refs: Vec<Vec<u8>> = res
        .objects
        .par_iter()
        .map(|obj| {
            let mut v = vec![0u8; obj.symbols.len().saturating_sub(obj.first_global)];
            for sec in &obj.sections {
                let bit = if sec.kept { 3 } else { 1 };
                for r in sec.relocs {
                    let idx = r.r_sym(E, false) as usize;
                    if let Some(f) = idx.checked_sub(obj.first_global).and_then(|k| v.get_mut(k)) {
                        *f |= bit;
                    }
                }
            }
            v
        })
        .collect();
    let mut flags = vec![0u8; res.symbols.len()];
    for (obj, v) in res.objects.iter().zip(&refs) {
        for (&id, &f) in obj.global_ids.iter().zip(v) {
            flags[id as usize] |= f;
        }
    }
    res.symbols
        .par_iter()
        .zip(flags)
        .map(|(s, f)| match s.def {
            Definition::Object { file, sym, .. } => {
                let obj = &res.objects[file as usize];
                matches!(obj.place_of(sym as usize),
                    SymPlace::Section(k) if !obj.sections[k as usize].kept)
            }
            // A dynamic executable lists what it imports, and the weak
            // names the loader may yet bind, as GNU ld does.
            Definition::Shared { .. } => f & 2 == 0,
            Definition::Undefined if !res.dsos.is_empty() => f & 2 == 0,
            Definition::Undefined => !emit_relocs || f & 2 == 0,
            Definition::Synthetic => false,
        })
        .collect()
}

/// Whether file `obj` writes global symbol `i` (an index into its table).
fn owns(res: &Resolution, omitted: &[bool], obj: &ObjectFile, i: usize) -> bool {
    let id = obj.global_ids[i - obj.first_global];
    if omitted.get(id as usize).copied().unwrap_or(false) {
        return false;
    }
    match res.symbols[id as usize].def {
        Definition::Object { file, sym, .. } => file == obj.id && sym as usize == i,
        Definition::Undefined | Definition::Shared { .. } => {
            res.symbols[id as usize].first_ref == Some(obj.id)
        }
        Definition::Synthetic => false,
    }
}

/// The name global symbol `i` of `obj` is written with: the resolved
/// symbol's (an undefined `foo` under `--wrap=foo` is `__wrap_foo`).
fn global_name<'a>(res: &Resolution<'a>, obj: &ObjectFile<'a>, i: usize) -> &'a [u8] {
    res.symbols[obj.global_ids[i - obj.first_global] as usize].name
}

/// Undefined globals no file refers to (`-u NAME`): the linker writes them.
fn linker_owned<'r>(res: &'r Resolution<'_>) -> impl Iterator<Item = SymId> + 'r {
    res.symbols
        .iter()
        .enumerate()
        .filter_map(|(id, s)| match s.def {
            // Names only shared objects refer to are theirs, not the output's.
            Definition::Undefined if s.first_ref.is_none() && !s.dso_ref => Some(id as SymId),
            _ => None,
        })
}

pub fn plan(
    res: &Resolution,
    sections: &Sections,
    toc: &Toc,
    with_section_syms: bool,
    exe: bool,
    linker: LinkerSyms,
) -> SymtabPlan {
    // Omitted sections (`Sections::omit_empty`) have no header to name.
    let mut section_syms = Vec::new();
    let mut section_sym_of = vec![0u32; sections.out.len()];
    if with_section_syms {
        for (i, o) in sections.out.iter().enumerate() {
            if !o.omitted {
                section_syms.push((toc.out_index[i], i as u32));
                section_sym_of[i] = section_syms.len() as u32;
            }
        }
    }
    let n = res.objects.len();
    let omitted = if exe {
        omitted_globals(res, with_section_syms)
    } else {
        Vec::new()
    };
    let needed = locals_needed(res, sections, with_section_syms);
    let keep = |obj: &ObjectFile, i: usize| {
        let needed = needed.get(obj.id as usize).map_or(&[][..], |v| &v[..]);
        keep_local(obj, sections, toc, res.discard, exe, needed, i)
    };
    // Count locals and globals per file, with their string bytes.
    let counts: Vec<(u64, u64, u64, u64, bool)> = res
        .objects
        .par_iter()
        .map(|obj| {
            let (mut nl, mut sl, mut ng, mut sg) = (0, 0, 0, 0);
            let mut first_kept = None;
            for i in 0..obj.symbols.len() {
                if i < obj.first_global {
                    if keep(obj, i) {
                        first_kept = first_kept.or(Some(i));
                        nl += 1;
                        sl += obj.name_of(i).len() as u64 + 1;
                    }
                } else if owns(res, &omitted, obj, i) {
                    ng += 1;
                    sg += global_name(res, obj, i).len() as u64 + 1;
                }
            }
            let made_up = needs_file_symbol(obj, res.discard, first_kept);
            if made_up {
                nl += 1;
                sl += obj.basename.len() as u64 + 1;
            }
            (nl, sl, ng, sg, made_up)
        })
        .collect();
    let (mut nlink, mut slink) = (0u64, 0u64);
    for id in linker_owned(res) {
        nlink += 1;
        slink += res.symbols[id as usize].name.len() as u64 + 1;
    }
    for g in &linker.globals {
        nlink += 1;
        slink += g.name(res).len() as u64 + 1;
    }
    let linker_file_symbol = !linker.locals.is_empty() && res.discard != Discard::All;
    let (mut nlocal, mut slocal) = (u64::from(linker_file_symbol), u64::from(linker_file_symbol));
    for l in &linker.locals {
        nlocal += 1;
        slocal += l.name(res).len() as u64 + 1;
    }
    let mut entries = Vec::with_capacity(2 * n + 2);
    let mut strings = Vec::with_capacity(2 * n + 2);
    entries.push(1 + section_syms.len() as u64);
    strings.push(1);
    for c in &counts {
        entries.push(c.0);
        strings.push(c.1);
    }
    entries.push(nlocal);
    strings.push(slocal);
    for c in &counts {
        entries.push(c.2);
        strings.push(c.3);
    }
    entries.push(nlink);
    strings.push(slink);
    let entries = Partition::from_counts(&entries);
    let strings = Partition::from_counts(&strings);
    let first_global = entries.offset(2 + n) as u32;
    let file_symbol_made_up: Vec<bool> = counts.iter().map(|c| c.4).collect();

    // Output indices of every kept local and every global.
    let local_index: Vec<Vec<u32>> = res
        .objects
        .par_iter()
        .map(|obj| {
            let made_up = u32::from(file_symbol_made_up[obj.id as usize]);
            let mut at = entries.offset(1 + obj.id as usize) as u32 + made_up;
            let mut v = vec![0u32; obj.first_global];
            for (i, slot) in v.iter_mut().enumerate() {
                if keep(obj, i) {
                    *slot = at;
                    at += 1;
                }
            }
            v
        })
        .collect();
    let mut global_index = vec![0u32; res.symbols.len()];
    let per_file: Vec<Vec<(SymId, u32)>> = res
        .objects
        .par_iter()
        .map(|obj| {
            let mut at = entries.offset(2 + n + obj.id as usize) as u32;
            let mut v = Vec::new();
            for i in obj.first_global..obj.symbols.len() {
                if owns(res, &omitted, obj, i) {
                    v.push((obj.global_ids[i - obj.first_global], at));
                    at += 1;
                }
            }
            v
        })
        .collect();
    for v in per_file {
        for (id, at) in v {
            global_index[id as usize] = at;
        }
    }
    let linker_local_ids = linker.locals.iter().map(|l| l.name);
    let first_linker_local = entries.offset(1 + n) as u32 + u32::from(linker_file_symbol);
    let linker_global_ids = linker_owned(res)
        .map(LinkerName::Id)
        .chain(linker.globals.iter().map(|g| g.name));
    for (at, name) in (first_linker_local..)
        .zip(linker_local_ids)
        .chain((entries.offset(2 + 2 * n) as u32..).zip(linker_global_ids))
    {
        if let LinkerName::Id(id) = name {
            global_index[id as usize] = at;
        }
    }
    // A name that stands for another symbol's definition (`foo` for
    // `foo@@V`, as GNU ld makes it) has no entry of its own: relocation
    // records name the definition's.
    for (id, s) in res.symbols.iter().enumerate() {
        if let Definition::Object { file, sym, .. } = s.def {
            let obj = &res.objects[file as usize];
            let owner = obj.global_ids[sym as usize - obj.first_global];
            if owner as usize != id {
                global_index[id] = global_index[owner as usize];
            }
        }
    }
    SymtabPlan {
        section_syms,
        section_sym_of,
        entries,
        strings,
        local_index,
        global_index,
        first_global,
        exe,
        omitted,
        file_symbol_made_up,
        linker,
        linker_file_symbol,
    }
}

impl SymtabPlan {
    pub fn len(&self) -> u64 {
        self.entries.total()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The output symbol index for symbol `idx` of `obj`, as relocation
    /// records refer to it (0 when the symbol was dropped).
    pub fn out_index(&self, sections: &Sections, obj: &ObjectFile, idx: usize) -> u32 {
        if idx == 0 {
            return 0;
        }
        if idx >= obj.first_global {
            return self.global_index[obj.global_ids[idx - obj.first_global] as usize];
        }
        if obj.symbols[idx].st_type() == elf::STT_SECTION {
            if let SymPlace::Section(s) = obj.place_of(idx) {
                let p = sections.placement[obj.id as usize][s as usize];
                if p.is_placed() {
                    return self.section_sym_of[p.out as usize];
                }
            }
            return 0;
        }
        self.local_index[obj.id as usize][idx]
    }
}

/// What writing a symbol needs to know of the output.
pub struct SymtabCtx<'a> {
    pub res: &'a Resolution<'a>,
    pub sections: &'a Sections,
    pub toc: &'a Toc,
    pub plan: &'a SymtabPlan,
    pub commons: &'a Commons,
    /// Global symbol values (executables); empty under `-r`.
    pub global_values: &'a [u64],
    /// Start of an executable's TLS segment: a TLS symbol's value is its
    /// offset from there, as in GNU ld's output (debuggers read it so).
    pub tls_start: u64,
}

struct Entry {
    name: u32,
    info: u8,
    other: u8,
    shndx: u32,
    value: u64,
    size: u64,
}

impl Entry {
    /// An `STT_FILE` symbol whose name is at `name` in `.strtab`.
    fn file(name: u32) -> Entry {
        Entry {
            name,
            info: (elf::STB_LOCAL << 4) | elf::STT_FILE,
            other: 0,
            shndx: ABS,
            value: 0,
            size: 0,
        }
    }
}

/// Section indices of symbols are kept as u32 so that real indices past
/// SHN_LORESERVE (extended numbering) never collide with these two.
const ABS: u32 = 0xffff_0000 | elf::SHN_ABS as u32;
const COMMON: u32 = 0xffff_0000 | elf::SHN_COMMON as u32;

fn put_sym(syms: &mut Filler, shndx_out: &mut Option<Filler>, e: Entry) -> Result<()> {
    let b = syms.take(24)?;
    b[0..4].copy_from_slice(&e.name.to_le_bytes());
    b[4] = e.info;
    b[5] = e.other;
    let short = match e.shndx {
        ABS => elf::SHN_ABS,
        COMMON => elf::SHN_COMMON,
        s if s >= u32::from(elf::SHN_LORESERVE) => elf::SHN_XINDEX,
        s => s as u16,
    };
    b[6..8].copy_from_slice(&short.to_le_bytes());
    b[8..16].copy_from_slice(&e.value.to_le_bytes());
    b[16..24].copy_from_slice(&e.size.to_le_bytes());
    if let Some(x) = shndx_out {
        let v = if short == elf::SHN_XINDEX { e.shndx } else { 0 };
        x.put(&v.to_le_bytes())?;
    }
    Ok(())
}

impl SymtabCtx<'_> {
    /// An executable's TLS symbol defined in a section has its offset in
    /// the TLS segment as value; other symbols their address.
    fn tls_relative(&self, sym: &crate::input::object::Sym64, value: u64) -> u64 {
        let shndx = sym.st_shndx.get(E);
        let in_section = shndx != elf::SHN_UNDEF && shndx != elf::SHN_ABS;
        if self.plan.exe && sym.st_type() == elf::STT_TLS && in_section {
            value.wrapping_sub(self.tls_start)
        } else {
            value
        }
    }

    /// A shared object's variable copied into the executable's `.bss`
    /// (it has an address there; a function's canonical `.plt` entry
    /// leaves it undefined).
    fn copied(&self, id: SymId) -> bool {
        let Definition::Shared { dso, sym } = self.res.symbols[id as usize].def else {
            return false;
        };
        let t = self.res.dsos[dso as usize].so.symbols[sym as usize].st_type;
        self.global_values[id as usize] != 0 && !matches!(t, elf::STT_FUNC | elf::STT_GNU_IFUNC)
    }

    fn section_index(&self, obj: &ObjectFile, i: usize) -> u32 {
        match obj.place_of(i) {
            SymPlace::Section(s) => {
                let p = self.sections.placement[obj.id as usize][s as usize];
                if p.is_placed() {
                    self.toc.out_index[p.out as usize]
                } else {
                    self.toc
                        .group_headers
                        .get(&(obj.id, s))
                        .copied()
                        .unwrap_or(0)
                }
            }
            SymPlace::Absolute => ABS,
            SymPlace::Common => COMMON,
            SymPlace::Undefined => 0,
        }
    }

    /// The entry of linker-defined symbol `sym`, named by string offset `name`.
    fn linker_entry(&self, sym: &LinkerSym, bind: u8, name: u32) -> Entry {
        let sym_name = sym.name(self.res);
        let addr = match sym.name {
            LinkerName::Id(id) => self.global_values.get(id as usize).copied().unwrap_or(0),
            LinkerName::Always(n) => synthetic_value(self.sections, n.as_bytes()),
        };
        Entry {
            name,
            info: (bind << 4) | sym.st_type,
            other: sym.vis,
            shndx: linker_sym_section(self.sections, sym_name)
                .map_or(ABS, |k| self.toc.out_index[k]),
            value: linker_sym_value(self.sections, sym_name, addr),
            size: 0,
        }
    }

    /// Writes unit `unit` of the table: its symbols and their names.
    pub fn write_unit(
        &self,
        unit: usize,
        syms: &mut [u8],
        strs: &mut [u8],
        shndx: Option<&mut [u8]>,
    ) -> Result<()> {
        let n = self.res.objects.len();
        let mut s = Filler::new(syms);
        let mut t = Filler::new(strs);
        let mut x = shndx.map(Filler::new);
        let mut name_at = self.plan.strings.offset(unit) as u32;
        let mut name = |t: &mut Filler, bytes: &[u8]| -> Result<u32> {
            t.put(bytes)?;
            t.put(&[0])?;
            let at = name_at;
            name_at += bytes.len() as u32 + 1;
            Ok(at)
        };
        if unit == 0 {
            t.put(&[0])?;
            put_sym(
                &mut s,
                &mut x,
                Entry {
                    name: 0,
                    info: 0,
                    other: 0,
                    shndx: 0,
                    value: 0,
                    size: 0,
                },
            )?;
            // An omitted section before a named one has no symbol: the
            // value is that of the section the symbol names.
            for &(idx, out) in &self.plan.section_syms {
                let o = &self.sections.out[out as usize];
                put_sym(
                    &mut s,
                    &mut x,
                    Entry {
                        name: 0,
                        info: elf::STT_SECTION,
                        other: 0,
                        shndx: idx,
                        value: o.addr,
                        size: 0,
                    },
                )?;
            }
        } else if unit <= n {
            let obj = &self.res.objects[unit - 1];
            if self.plan.file_symbol_made_up[obj.id as usize] {
                let nm = name(&mut t, obj.basename.as_bytes())?;
                put_sym(&mut s, &mut x, Entry::file(nm))?;
            }
            let kept = &self.plan.local_index[obj.id as usize];
            for (i, &at) in kept.iter().enumerate().skip(1) {
                if at == 0 {
                    continue;
                }
                let sym = &obj.symbols[i];
                let nm = name(&mut t, obj.name_of(i))?;
                let value = self.tls_relative(sym, local_value(self.sections, obj, i));
                put_sym(
                    &mut s,
                    &mut x,
                    Entry {
                        name: nm,
                        info: sym.st_info,
                        other: sym.st_other,
                        shndx: self.section_index(obj, i),
                        value,
                        size: sym.st_size.get(E),
                    },
                )?;
            }
        } else if unit == n + 1 {
            if self.plan.linker_file_symbol {
                let nm = name(&mut t, b"")?;
                put_sym(&mut s, &mut x, Entry::file(nm))?;
            }
            for l in &self.plan.linker.locals {
                let nm = name(&mut t, l.name(self.res))?;
                put_sym(&mut s, &mut x, self.linker_entry(l, elf::STB_LOCAL, nm))?;
            }
        } else if unit <= 2 * n + 1 {
            let obj = &self.res.objects[unit - 2 - n];
            for i in obj.first_global..obj.symbols.len() {
                if !owns(self.res, &self.plan.omitted, obj, i) {
                    continue;
                }
                let sym = &obj.symbols[i];
                let id = obj.global_ids[i - obj.first_global];
                let nm = name(&mut t, global_name(self.res, obj, i))?;
                let common = matches!(
                    self.res.symbols[id as usize].def,
                    Definition::Object {
                        strength: Strength::Common,
                        ..
                    }
                );
                let copied = self.plan.exe && self.copied(id);
                let (shndx, value) = if (common || copied) && self.plan.exe {
                    let bss = (self.sections.out.iter())
                        .position(|o| o.name == b".bss")
                        .map_or(0, |k| self.toc.out_index[k]);
                    (bss, self.global_values[id as usize])
                } else if self.plan.exe {
                    let value = self.tls_relative(sym, self.global_values[id as usize]);
                    (self.section_index(obj, i), value)
                } else {
                    (
                        self.section_index(obj, i),
                        local_value(self.sections, obj, i),
                    )
                };
                let mut info = sym.st_info;
                if (common || copied) && self.plan.exe {
                    info = (sym.st_bind() << 4) | elf::STT_OBJECT;
                }
                put_sym(
                    &mut s,
                    &mut x,
                    Entry {
                        name: nm,
                        info,
                        other: sym.st_other,
                        shndx,
                        value,
                        size: sym.st_size.get(E),
                    },
                )?;
            }
        } else {
            for id in linker_owned(self.res) {
                let nm = name(&mut t, self.res.symbols[id as usize].name)?;
                put_sym(
                    &mut s,
                    &mut x,
                    Entry {
                        name: nm,
                        info: (elf::STB_GLOBAL << 4) | elf::STT_NOTYPE,
                        other: 0,
                        shndx: 0,
                        value: 0,
                        size: 0,
                    },
                )?;
            }
            for g in &self.plan.linker.globals {
                let nm = name(&mut t, g.name(self.res))?;
                put_sym(&mut s, &mut x, self.linker_entry(g, elf::STB_GLOBAL, nm))?;
            }
        }
        s.finish()?;
        t.finish()?;
        if let Some(x) = x {
            x.finish()?;
        }
        Ok(())
    }
}

/// The symbol a relocation record names, for the symbol table's owner.
pub fn describe(r: SymRef, res: &Resolution) -> String {
    match r {
        SymRef::Global(id) => res.name(id),
        SymRef::Local(f, i) => {
            String::from_utf8_lossy(res.objects[f as usize].name_of(i as usize)).into_owned()
        }
        SymRef::Module => "(the TLS module)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::is_local_label;

    #[test]
    fn local_label_names() {
        for yes in [
            &b".LC0"[..],
            b".L.str",
            b"..x",
            b"_.L_1",
            b"L0\x01",
            b"L12\x0234",
        ] {
            assert!(is_local_label(yes), "{}", String::from_utf8_lossy(yes));
        }
        for no in [&b"main"[..], b"L", b"Lfoo", b"L12", b".text", b"_L1"] {
            assert!(!is_local_label(no), "{}", String::from_utf8_lossy(no));
        }
    }
}
