//! Writing the tables of a dynamic output from its [`DynPlan`]: each
//! function fills exactly the slice the layout gave its table (or its
//! unit of `.rela.dyn`), reading only the plan and final addresses.

use super::plan::{DynEntry, DynPlan, DynValue, RelaUnit, DYNSYM_SIZE};
use super::relr::{write_relr, RelrPlan};
use crate::arch::x86_64::{got_record, reloc_spec, Action, GotRecord, PlaceRecord, SymClass};
use crate::err;
use crate::error::Result;
use crate::input::object::Rela64;
use crate::input::object::{SymPlace, E};
use crate::layout::got::{
    packs_relative, reloc_action, sym_ref, GotKind, GotPlan, SectionRecords, SymClasses, SymRef,
    GOTPLT_RESERVED, PLT_ENTRY,
};
use crate::layout::{ChunkKind, DynTable, Sections, Synthetic};
use crate::partition::Filler;
use crate::resolve::mode::OutputMode;
use crate::resolve::{Definition, Resolution, SymId};
use crate::write::apply::ApplyCtx;
use object::elf;
use rayon::prelude::*;

/// What the dynamic writers read.
pub struct DynWriter<'a> {
    pub apply: &'a ApplyCtx<'a>,
    pub plan: &'a DynPlan,
    pub mode: OutputMode,
    pub relr: Option<&'a RelrTable>,
    /// Each output section's header index.
    pub out_index: &'a [u32],
}

/// The places `.relr.dyn` relocates, sorted, with the plan that splits
/// their encoding into parallel chunks.
pub struct RelrTable {
    pub addrs: Vec<u64>,
    pub plan: RelrPlan,
}

impl RelrTable {
    pub fn new(addrs: Vec<u64>) -> RelrTable {
        let plan = RelrPlan::new(&addrs);
        RelrTable { addrs, plan }
    }
    pub fn size(&self) -> u64 {
        8 * self.plan.words() as u64
    }
}

/// Every place `.relr.dyn` relocates, as (output section, offset in it),
/// in address order: GOT entries holding a link-time address, and the
/// input sections' places that [`packs_relative`] chose, as the scan
/// noted them (`GotPlan::relr_offsets`). Found once, before addresses are
/// known; [`RelrPlaces::addresses`] then gives the addresses of each
/// layout tried while `.relr.dyn`'s size settles.
pub struct RelrPlaces {
    places: Vec<(u32, u64)>,
}

impl RelrPlaces {
    pub fn new(
        res: &Resolution,
        sections: &Sections,
        got: &GotPlan,
        mode: OutputMode,
    ) -> RelrPlaces {
        let got_out = sections.out.iter().position(|o| o.name == b".got");
        let mut places: Vec<(u32, u64)> = match got_out {
            Some(g) => got
                .got
                .iter()
                .enumerate()
                .filter(|(_, &(r, kind))| {
                    got_record(mode, got.classes.of(res, r), kind) == GotRecord::Relative
                })
                .map(|(i, _)| (g as u32, 8 * i as u64))
                .collect(),
            None => Vec::new(),
        };
        // Each record's offsets, from where the records before it end.
        let mut starts = Vec::with_capacity(got.place_records.len());
        let mut at = 0usize;
        for rec in &got.place_records {
            starts.push(at);
            at += rec.relr as usize;
        }
        let per_section: Vec<Vec<(u32, u64)>> = got
            .place_records
            .par_iter()
            .zip(starts)
            .filter(|(rec, _)| rec.relr > 0)
            .map(|(rec, start)| {
                let out = sections.placement[rec.file as usize][rec.sec as usize].out;
                let base = sections.out[out as usize].addr;
                got.relr_offsets[start..start + rec.relr as usize]
                    .iter()
                    .filter_map(|&off| place_address(sections, rec.file, rec.sec, off))
                    .map(|a| (out, a.wrapping_sub(base)))
                    .collect()
            })
            .collect();
        places.extend(per_section.into_iter().flatten());
        // Sections are laid out in their order, so this is address order
        // for every layout.
        places.par_sort_unstable();
        RelrPlaces { places }
    }

    /// What placement calls for each layout it tries
    /// (`layout::segments::LateTable`): encodes the table for that layout
    /// into `table` and returns its size.
    pub fn encoder<'a>(
        &'a self,
        table: &'a mut Option<RelrTable>,
    ) -> impl FnMut(&Sections) -> u64 + 'a {
        move |sections| {
            let t = RelrTable::new(self.addresses(sections));
            let size = t.size();
            *table = Some(t);
            size
        }
    }

    /// The places' addresses in the layout `sections`, sorted.
    pub fn addresses(&self, sections: &Sections) -> Vec<u64> {
        let mut addrs: Vec<u64> = self
            .places
            .par_iter()
            .map(|&(out, off)| sections.out[out as usize].addr.wrapping_add(off))
            .collect();
        if !addrs.is_sorted() {
            addrs.par_sort_unstable();
        }
        addrs
    }
}

/// Calls `f` with every relocation of `rec`'s section that yields a
/// dynamic record, and its action, in relocation order: the relocations
/// the scan counted, skipped the way the scan skips them.
fn for_each_record(
    res: &Resolution,
    classes: &SymClasses,
    sections: &Sections,
    mode: OutputMode,
    rec: &SectionRecords,
    mut f: impl FnMut(&Rela64, Action),
) {
    let obj = &res.objects[rec.file as usize];
    let s = &obj.sections[rec.sec as usize];
    let mut consumed = false;
    for r in s.relocs {
        if std::mem::take(&mut consumed) {
            continue;
        }
        let Some(spec) = reloc_spec(r.r_type(E, false)) else {
            continue;
        };
        consumed = spec.consumes_next(mode);
        let sec = rec.sec as usize;
        let (class, act) = reloc_action(res, classes, sections, mode, obj, sec, r, spec);
        if act.record == PlaceRecord::None
            || act.refuse.is_some()
            || class == SymClass::NoSymbol
            || !sections.place_kept(rec.file, rec.sec, r.r_offset.get(E))
        {
            continue;
        }
        f(r, act);
    }
}

fn rela(f: &mut Filler, offset: u64, sym: u32, r_type: u32, addend: u64) -> Result<()> {
    f.put(&offset.to_le_bytes())?;
    f.put(&((u64::from(sym) << 32) | u64::from(r_type)).to_le_bytes())?;
    f.put(&addend.to_le_bytes())?;
    Ok(())
}

/// A 32-bit displacement from `next` (the end of the instruction) to
/// `target`.
fn rel32(target: u64, next: u64) -> Result<[u8; 4]> {
    i32::try_from(target.wrapping_sub(next) as i64)
        .map(i32::to_le_bytes)
        .map_err(|_| err!("rivet: .plt is out of range of .got.plt"))
}

/// The output address of input offset `off` of section `sec` of `file`,
/// as relocations reach it (`.ctors` entries mirrored, `.eh_frame` records
/// moved); None when the place was dropped.
pub fn place_address(sections: &Sections, file: u32, sec: u32, off: u64) -> Option<u64> {
    let p = *sections.placement.get(file as usize)?.get(sec as usize)?;
    if !p.is_placed() {
        return None;
    }
    let c = &sections.out[p.out as usize].chunks[p.chunk as usize];
    sections.input_address(file, sec, c.reversed_offset(off))
}

/// The header index of the section holding the first synthetic chunk of
/// `kind`.
fn synthetic_index(sections: &Sections, out_index: &[u32], kind: Synthetic) -> Option<u32> {
    sections
        .out
        .iter()
        .position(|o| {
            o.chunks
                .iter()
                .any(|c| c.kind == ChunkKind::Synthetic(kind))
        })
        .map(|i| out_index[i])
}

impl DynWriter<'_> {
    fn sections(&self) -> &Sections {
        self.apply.sections
    }

    fn section_addr(&self, name: &[u8]) -> u64 {
        self.sections().find(name).map_or(0, |o| o.addr)
    }

    /// Writes table `kind` (one chunk of it) at `addr` into `data`.
    pub fn write(&self, kind: DynTable, addr: u64, data: &mut [u8]) -> Result<()> {
        let mut f = Filler::new(data);
        match kind {
            DynTable::Interp => f.put(&self.plan.interp)?,
            DynTable::DynStr => f.put(&self.plan.dynstr)?,
            DynTable::DynSym(k) => self.write_dynsym(k as usize, &mut f)?,
            DynTable::DynStrNames(k) => {
                let names = &self.apply.res.symbols;
                for e in &self.plan.symbols[self.plan.shard(k as usize)] {
                    // A version's name is the one `.gnu.version_d` has.
                    match *e {
                        DynEntry::Global(id) => {
                            f.put(crate::resolve::dynamic_name(names[id as usize].name))?;
                            f.put(&[0])?;
                        }
                        DynEntry::Linker(n) => {
                            f.put(n.as_bytes())?;
                            f.put(&[0])?;
                        }
                        DynEntry::Version(_) => {}
                    }
                }
            }
            DynTable::GnuHash => {
                if let Some((shape, hashes)) = &self.plan.gnu_hash {
                    let out = f.take(shape.size() as usize)?;
                    super::gnu_hash::write_gnu_hash(shape, hashes, out);
                }
            }
            DynTable::SysvHash => {
                if let Some(hashes) = &self.plan.sysv_hash {
                    let out = f.take(self.plan.sysv_hash_size() as usize)?;
                    super::gnu_hash::write_sysv_hash(hashes, out);
                }
            }
            DynTable::VerSym(k) => {
                // `versym[0]` is the null entry's; shard 0 starts with it.
                let r = self.plan.shard(k as usize);
                let from = if k == 0 { 0 } else { r.start + 1 };
                for v in &self.plan.versym[from..r.end + 1] {
                    f.put(&v.to_le_bytes())?;
                }
            }
            DynTable::VerNeed => f.put(&self.plan.verneed)?,
            DynTable::VerDef => f.put(&self.plan.verdef)?,
            DynTable::Dynamic => self.write_dynamic(&mut f)?,
            DynTable::RelaDyn(u) => self.write_rela_unit(u, &mut f)?,
            DynTable::RelaPlt => self.write_rela_plt(&mut f)?,
            DynTable::Plt => self.write_plt(addr, &mut f)?,
            DynTable::PltSec => self.write_plt_sec(addr, &mut f)?,
            DynTable::PltGot => self.write_plt_got(addr, &mut f)?,
            DynTable::Relr => {
                let t = self
                    .relr
                    .ok_or_else(|| err!("internal error: .relr.dyn without its addresses"))?;
                write_relr(&t.plan, &t.addrs, f.take(t.size() as usize)?);
            }
            DynTable::Copies => {
                let n = f.remaining();
                f.zeros(n)?
            }
        }
        Ok(f.finish()?)
    }

    /// Shard `shard` of `.dynsym` (the null entry first in shard 0).
    fn write_dynsym(&self, shard: usize, f: &mut Filler) -> Result<()> {
        let res = self.apply.res;
        let values = self.apply.values;
        if shard == 0 {
            f.zeros(DYNSYM_SIZE as usize)?;
        }
        let copies = synthetic_index(
            self.sections(),
            self.out_index,
            Synthetic::Dyn(DynTable::Copies),
        )
        .unwrap_or(0);
        for k in self.plan.shard(shard) {
            let id = match self.plan.symbols[k] {
                DynEntry::Global(id) => id,
                // A version's name: an absolute object of value 0.
                DynEntry::Version(_) => {
                    f.put(&self.plan.name_off[k].to_le_bytes())?;
                    f.put(&[(elf::STB_GLOBAL << 4) | elf::STT_OBJECT, 0])?;
                    f.put(&elf::SHN_ABS.to_le_bytes())?;
                    f.put(&0u64.to_le_bytes())?;
                    f.put(&0u64.to_le_bytes())?;
                    continue;
                }
                // Where `.symtab` puts it too.
                DynEntry::Linker(n) => {
                    let sections = self.sections();
                    let shndx = crate::layout::symvals::linker_sym_section(sections, n.as_bytes())
                        .map_or(elf::SHN_ABS, |o| self.out_index[o] as u16);
                    let value = crate::layout::symvals::synthetic_value(sections, n.as_bytes());
                    f.put(&self.plan.name_off[k].to_le_bytes())?;
                    f.put(&[(elf::STB_GLOBAL << 4) | elf::STT_NOTYPE, 0])?;
                    f.put(&shndx.to_le_bytes())?;
                    f.put(&value.to_le_bytes())?;
                    f.put(&0u64.to_le_bytes())?;
                    continue;
                }
            };
            let g = &res.symbols[id as usize];
            let (bind, ty, other, shndx, size) = match g.def {
                Definition::Shared { dso, sym } => {
                    let s = &res.dsos[dso as usize].so.symbols[sym as usize];
                    let ty = match s.st_type {
                        elf::STT_GNU_IFUNC => elf::STT_FUNC,
                        t => t,
                    };
                    if self.apply.got.copy_of.contains_key(&id) {
                        (s.bind, ty, 0, copies, s.size)
                    } else {
                        let bind = if g.strong_ref {
                            elf::STB_GLOBAL
                        } else {
                            elf::STB_WEAK
                        };
                        (bind, ty, 0, 0, 0)
                    }
                }
                Definition::Object { file, sym, .. } => {
                    let obj = &res.objects[file as usize];
                    let s = &obj.symbols[sym as usize];
                    let shndx = match obj.place_of(sym as usize) {
                        SymPlace::Section(t) => {
                            // A section the output leaves out (`.gnu.warning`):
                            // no header to name, as in `.symtab`.
                            let p = self.sections().placement[file as usize][t as usize];
                            match p.is_placed() {
                                true => self.out_index[p.out as usize],
                                false => 0,
                            }
                        }
                        SymPlace::Common => {
                            synthetic_index(self.sections(), self.out_index, Synthetic::Commons)
                                .unwrap_or(0)
                        }
                        _ => u32::from(elf::SHN_ABS),
                    };
                    let ty = s.st_type();
                    (s.st_bind(), ty, s.st_other & 3, shndx, s.st_size.get(E))
                }
                // Left to the loader: weak unless some reference is strong,
                // of the type the references give it.
                _ => {
                    let bind = if g.strong_ref {
                        elf::STB_GLOBAL
                    } else {
                        elf::STB_WEAK
                    };
                    (bind, g.ref_type, 0, 0, 0)
                }
            };
            let mut value = values.global[id as usize];
            if ty == elf::STT_TLS && shndx != 0 {
                // A TLS symbol's value is its offset in the TLS segment.
                value = value.wrapping_sub(self.apply.tls.start);
            }
            f.put(&self.plan.name_off[k].to_le_bytes())?;
            f.put(&[(bind << 4) | ty, other])?;
            f.put(&(shndx.min(u32::from(elf::SHN_ABS)) as u16).to_le_bytes())?;
            f.put(&value.to_le_bytes())?;
            f.put(&size.to_le_bytes())?;
        }
        Ok(())
    }

    fn write_dynamic(&self, f: &mut Filler) -> Result<()> {
        for &(tag, v) in &self.plan.dynamic {
            let value = match v {
                DynValue::Num(n) => n,
                DynValue::Str(s) => u64::from(s),
                DynValue::Addr(name) => self.section_addr(name),
                DynValue::Size(name) => self.sections().find(name).map_or(0, |o| o.size),
                DynValue::Sym(id) => self.apply.values.global[id as usize],
            };
            f.put(&tag.to_le_bytes())?;
            f.put(&value.to_le_bytes())?;
        }
        Ok(())
    }

    /// The `.dynsym` index of global `id`, which the plan must list.
    fn dynsym_index(&self, id: SymId) -> Result<u32> {
        self.plan.index.get(&id).copied().ok_or_else(|| {
            err!(
                "internal error: '{}' needs a dynamic record but is not in .dynsym",
                String::from_utf8_lossy(self.apply.res.symbols[id as usize].name)
            )
        })
    }

    fn write_rela_unit(&self, unit: u32, f: &mut Filler) -> Result<()> {
        let (unit, _) = self.plan.rela_units[unit as usize];
        let got = self.apply.got;
        let res = self.apply.res;
        let values = self.apply.values;
        match unit {
            RelaUnit::GotRelative | RelaUnit::GotSymbolic => {
                for (i, &(r, kind)) in got.got.iter().enumerate() {
                    let at = values.got_addr + 8 * i as u64;
                    match (
                        unit,
                        got_record(self.mode, self.apply.got.classes.of(res, r), kind),
                    ) {
                        (RelaUnit::GotRelative, GotRecord::Relative) if !got.pack_relative => {
                            let v = self.apply.got_value(r, kind);
                            rela(f, at, 0, elf::R_X86_64_RELATIVE, v)?;
                        }
                        (RelaUnit::GotSymbolic, GotRecord::Symbolic(ty)) => {
                            let SymRef::Global(id) = r else {
                                return Err(err!("internal error: local symbol imported"));
                            };
                            rela(f, at, self.dynsym_index(id)?, ty, 0)?;
                        }
                        (RelaUnit::GotSymbolic, GotRecord::Local(ty)) => {
                            rela(f, at, 0, ty, self.apply.got_value(r, kind))?;
                        }
                        _ => {}
                    }
                }
            }
            RelaUnit::SectionRelative(i) | RelaUnit::SectionSymbolic(i) => {
                let want = match unit {
                    RelaUnit::SectionRelative(_) => PlaceRecord::Relative,
                    _ => PlaceRecord::Symbolic,
                };
                self.write_place_records(i, want, f)?;
            }
            RelaUnit::Copies => {
                for c in &got.copies {
                    let at = values.global[c.sym as usize];
                    rela(f, at, self.dynsym_index(c.sym)?, elf::R_X86_64_COPY, 0)?;
                }
            }
        }
        Ok(())
    }

    /// The records of kind `want` for the places of input section
    /// `got.place_records[i]`, in relocation order: the scan counted them
    /// with the same action table ([`reloc_action`]).
    fn write_place_records(&self, i: u32, want: PlaceRecord, f: &mut Filler) -> Result<()> {
        let a = self.apply;
        let rec = a.got.place_records[i as usize];
        let obj = &a.res.objects[rec.file as usize];
        let s = &obj.sections[rec.sec as usize];
        let mut result = Ok(());
        for_each_record(
            a.res,
            &a.got.classes,
            a.sections,
            self.mode,
            &rec,
            |r, act| {
                let off = r.r_offset.get(E);
                if act.record != want
                    || result.is_err()
                    || (want == PlaceRecord::Relative
                        && packs_relative(a.got.pack_relative, s, off))
                {
                    return;
                }
                result = self.write_place_record(obj, &rec, r, want, f);
            },
        );
        result
    }

    fn write_place_record(
        &self,
        obj: &crate::input::object::ObjectFile,
        rec: &SectionRecords,
        r: &Rela64,
        want: PlaceRecord,
        f: &mut Filler,
    ) -> Result<()> {
        let a = self.apply;
        let off = r.r_offset.get(E);
        let at = place_address(a.sections, rec.file, rec.sec, off)
            .ok_or_else(|| err!("internal error: dynamic record at a dropped place"))?;
        let idx = r.r_sym(E, false) as usize;
        let addend = r.r_addend.get(E) as u64;
        match want {
            PlaceRecord::Relative => {
                let v = match a.sections.merged_section_target(obj, idx, addend as i64) {
                    Some((o, at)) => a.sections.out[o as usize].addr + at,
                    None => a
                        .values
                        .reloc_value(a.res, a.sections, a.got, obj, idx)
                        .wrapping_add(addend),
                };
                rela(f, at, 0, elf::R_X86_64_RELATIVE, v)
            }
            PlaceRecord::Symbolic => {
                let SymRef::Global(id) = sym_ref(obj, idx) else {
                    return Err(err!("internal error: local symbol imported"));
                };
                rela(f, at, self.dynsym_index(id)?, elf::R_X86_64_64, addend)
            }
            PlaceRecord::None => Ok(()),
        }
    }

    /// `.rela.plt`: a JUMP_SLOT per `.plt` entry, then an IRELATIVE per
    /// IFUNC slot, in `.got.plt` order.
    fn write_rela_plt(&self, f: &mut Filler) -> Result<()> {
        let a = self.apply;
        let slot = |i: usize| a.values.gotplt_addr + 8 * (GOTPLT_RESERVED + i as u64);
        for (i, &id) in a.got.plt.iter().enumerate() {
            rela(
                f,
                slot(i),
                self.dynsym_index(id)?,
                elf::R_X86_64_JUMP_SLOT,
                0,
            )?;
        }
        let nplt = a.got.plt.len();
        for (k, &r) in a.got.iplt.iter().enumerate() {
            let resolver = a.values.raw_value(a.res, a.sections, r);
            rela(f, slot(nplt + k), 0, elf::R_X86_64_IRELATIVE, resolver)?;
        }
        Ok(())
    }

    /// The lazy `.plt`: PLT0 pushes the link map (`.got.plt[1]`) and jumps
    /// to the loader's resolver (`.got.plt[2]`); entry i jumps through its
    /// slot, which first points at its `push i; jmp PLT0`. In the IBT form
    /// (`.plt.sec` present) an entry is `endbr64; push i; jmp PLT0` only,
    /// and calls go to `.plt.sec` ([`Self::write_plt_sec`]).
    fn write_plt(&self, addr: u64, f: &mut Filler) -> Result<()> {
        let gotplt = self.apply.values.gotplt_addr;
        let ibt = self.apply.values.plt_sec_addr.is_some();
        f.put(&[0xff, 0x35])?;
        f.put(&rel32(gotplt + 8, addr + 6)?)?;
        f.put(&[0xff, 0x25])?;
        f.put(&rel32(gotplt + 16, addr + 12)?)?;
        f.put(&[0x0f, 0x1f, 0x40, 0x00])?;
        for i in 0..self.apply.got.plt.len() as u64 {
            let entry = addr + PLT_ENTRY * (i + 1);
            if ibt {
                f.put(&[0xf3, 0x0f, 0x1e, 0xfa, 0x68])?;
                f.put(&(i as u32).to_le_bytes())?;
                f.put(&[0xe9])?;
                f.put(&rel32(addr, entry + 14)?)?;
                f.put(&[0x66, 0x90])?;
                continue;
            }
            f.put(&[0xff, 0x25])?;
            f.put(&rel32(gotplt + 8 * (GOTPLT_RESERVED + i), entry + 6)?)?;
            f.put(&[0x68])?;
            f.put(&(i as u32).to_le_bytes())?;
            f.put(&[0xe9])?;
            f.put(&rel32(addr, entry + 16)?)?;
        }
        Ok(())
    }

    /// `.plt.got`: `jmp *entry(%rip)` through each function's own GOT
    /// entry (which `GLOB_DAT` fills), preceded by `endbr64` in the IBT
    /// form, as GNU ld lays it out.
    fn write_plt_got(&self, addr: u64, f: &mut Filler) -> Result<()> {
        let a = self.apply;
        let ibt = a.values.plt_got_entry == 16;
        for (i, &id) in a.got.plt_got.iter().enumerate() {
            let entry = addr + a.values.plt_got_entry * i as u64;
            let slot = a
                .got
                .got_index
                .get(&(SymRef::Global(id), GotKind::Address))
                .ok_or_else(|| err!("internal error: .plt.got entry without a GOT entry"))?;
            let target = a.values.got_addr + 8 * u64::from(*slot);
            if ibt {
                f.put(&[0xf3, 0x0f, 0x1e, 0xfa, 0xff, 0x25])?;
                f.put(&rel32(target, entry + 10)?)?;
                f.put(&[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00])?;
            } else {
                f.put(&[0xff, 0x25])?;
                f.put(&rel32(target, entry + 6)?)?;
                f.put(&[0x66, 0x90])?;
            }
        }
        Ok(())
    }

    /// `.plt.sec`: `endbr64; jmp *slot(%rip)` per imported function, so
    /// that an indirect branch to a function's address lands on `endbr64`.
    fn write_plt_sec(&self, addr: u64, f: &mut Filler) -> Result<()> {
        let gotplt = self.apply.values.gotplt_addr;
        for i in 0..self.apply.got.plt.len() as u64 {
            let entry = addr + PLT_ENTRY * i;
            f.put(&[0xf3, 0x0f, 0x1e, 0xfa, 0xff, 0x25])?;
            f.put(&rel32(gotplt + 8 * (GOTPLT_RESERVED + i), entry + 10)?)?;
            f.put(&[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00])?;
        }
        Ok(())
    }
}
