//! Relocation records in the output: every `.rela.*` of `-r`, and of an
//! executable linked with `--emit-relocs`.
//!
//! [`for_each_record`] is the one description of what records an input
//! section yields; the count (phase one) and the write (phase three) both
//! call it, so they cannot disagree. An input relocation yields no record
//! when it lies in a dropped `.eh_frame` FDE, and one otherwise; relaxed TLS
//! sequences keep one record each, retyped to what was written.

use crate::arch::x86_64::{emitted_type, reloc_spec};
use crate::error::Result;
use crate::input::object::{SymPlace, E};
use crate::layout::{Chunk, ChunkKind, OutputSection, Sections};
use crate::partition::{CountSlots, Filler, PartialTotals, Partition};
use crate::resolve::Resolution;
use crate::write::symtab::SymtabPlan;
use object::elf;
use rayon::prelude::*;

pub const RELA_SIZE: u64 = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    pub offset: u64,
    pub sym: u32,
    pub r_type: u32,
    pub addend: i64,
}

/// The `.rela` table of one output section.
#[derive(Debug, Clone)]
pub struct RelaTable {
    /// Position of the section it applies to in `Sections::out`.
    pub target: u32,
    /// Bytes per chunk of the target section.
    pub partition: Partition,
    pub index: u32,
    pub offset: u64,
}

/// Where the symbol indices of records come from; under `-r` and
/// `--emit-relocs` alike, the output symbol table.
pub struct RecordCtx<'a> {
    pub res: &'a Resolution<'a>,
    pub sections: &'a Sections,
    pub symtab: Option<&'a SymtabPlan>,
    pub exe: bool,
    /// `targets[file][symbol]`, from [`record_targets`]; empty while counting.
    pub targets: &'a [Vec<RecordTarget>],
}

/// What a relocation against one input symbol becomes in a record: the
/// output symbol index (0 when the symbol was dropped), and what moves into
/// the addend (a section symbol's input section offset in its output section).
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordTarget {
    pub sym: u32,
    pub addend: i64,
}

/// The [`RecordTarget`] of every symbol of every file, once, so that writing
/// a record is a table lookup.
pub fn record_targets(
    res: &Resolution,
    sections: &Sections,
    symtab: &SymtabPlan,
) -> Vec<Vec<RecordTarget>> {
    res.objects
        .par_iter()
        .map(|obj| {
            (0..obj.symbols.len())
                .map(|idx| RecordTarget {
                    sym: symtab.out_index(sections, obj, idx),
                    addend: section_symbol_shift(sections, obj, idx),
                })
                .collect()
        })
        .collect()
}

/// Section symbols now name the output section: the input section's offset
/// inside it moves into the addend.
fn section_symbol_shift(
    sections: &Sections,
    obj: &crate::input::object::ObjectFile,
    idx: usize,
) -> i64 {
    if idx == 0 || idx >= obj.first_global || obj.symbols[idx].st_type() != elf::STT_SECTION {
        return 0;
    }
    match obj.place_of(idx) {
        SymPlace::Section(s) => {
            let p = sections.placement[obj.id as usize][s as usize];
            if p.is_placed() {
                sections.out[p.out as usize].chunks[p.chunk as usize].offset as i64
            } else {
                0
            }
        }
        _ => 0,
    }
}

/// Calls `f` with every record the input section of `chunk` yields.
pub fn for_each_record(
    ctx: &RecordCtx,
    out: &OutputSection,
    chunk: &Chunk,
    mut f: impl FnMut(Record),
) {
    let ChunkKind::Input { file, sec } = chunk.kind else {
        return;
    };
    let obj = &ctx.res.objects[file as usize];
    let relocs = obj.sections[sec as usize].relocs;
    let base = out.addr + chunk.offset;
    let mut consumed = false;
    // A reversed `.ctors`/`.dtors` chunk (its 8-byte entries written last
    // first) lists its records last first too, as GNU ld does.
    let n = relocs.len();
    for i in 0..n {
        let r = &relocs[if chunk.reversed { n - 1 - i } else { i }];
        let in_off = r.r_offset.get(E);
        let off = match &chunk.eh {
            Some(eh) => match eh.find(in_off) {
                Some(rec) => u64::from(rec.out_off) + in_off - u64::from(rec.in_off),
                // A dropped FDE: under -r its relocations go with it; an
                // executable keeps an R_X86_64_NONE in its place, as GNU ld does.
                None if ctx.exe => {
                    f(Record {
                        offset: base,
                        sym: 0,
                        r_type: elf::R_X86_64_NONE,
                        addend: 0,
                    });
                    continue;
                }
                None => continue,
            },
            None => chunk.reversed_offset(in_off),
        };
        let ty = r.r_type(E, false);
        let idx = r.r_sym(E, false) as usize;
        let mut addend = r.r_addend.get(E);
        let (mut r_type, delta) = match (ctx.exe, reloc_spec(ty)) {
            (true, Some(spec)) if !consumed => {
                consumed = spec.consumes_next(ctx.sections.mode);
                let relaxed = if spec.needs_got() {
                    crate::layout::got::relaxed_got_load(
                        ctx.res,
                        ctx.sections,
                        obj,
                        sec as usize,
                        r,
                    )
                } else {
                    None
                };
                let imported = idx != 0
                    && crate::layout::got::sym_class(
                        ctx.res,
                        crate::layout::got::sym_ref(obj, idx),
                    )
                    .is_imported();
                if relaxed.is_some_and(|r| r.is_immediate()) {
                    // The field holds the address itself now.
                    addend = 0;
                }
                if spec.value == crate::arch::x86_64::Value::GotTpOff
                    && crate::layout::got::relaxed_tls_ie(
                        ctx.res,
                        ctx.sections.mode,
                        obj,
                        sec as usize,
                        r,
                    )
                {
                    // Initial exec made local exec: the field is the TP offset.
                    addend = 0;
                    (elf::R_X86_64_TPOFF32, 0)
                } else {
                    emitted_type(
                        spec,
                        ty,
                        relaxed,
                        imported,
                        ctx.sections.mode == crate::resolve::mode::OutputMode::Shared,
                    )
                }
            }
            (true, _) if consumed => {
                consumed = false;
                (elf::R_X86_64_NONE, 0)
            }
            _ => (ty, 0),
        };
        let target = match ctx.targets.get(file as usize) {
            Some(t) => t[idx],
            None => RecordTarget {
                sym: ctx
                    .symtab
                    .map_or(0, |t| t.out_index(ctx.sections, obj, idx)),
                addend: section_symbol_shift(ctx.sections, obj, idx),
            },
        };
        let mut sym = target.sym;
        match ctx.sections.merged_section_target(obj, idx, addend) {
            // A section symbol of a merged section: the record names the
            // output section and the piece's place in it.
            Some((_, at)) if ctx.exe => addend = at as i64,
            _ => addend += target.addend,
        }
        if idx != 0 && sym == 0 {
            // The target was discarded (a losing COMDAT copy): nothing to relocate against.
            r_type = elf::R_X86_64_NONE;
            addend = 0;
        }
        if r_type == elf::R_X86_64_NONE {
            sym = 0;
            addend = 0;
        }
        f(Record {
            offset: (base + off).wrapping_add(delta as u64),
            sym,
            r_type,
            addend,
        });
    }
}

/// Counts the records of every output section (phase one), one input
/// section per task, and returns the tables of those that have any, in
/// section order, with the number of records in all of them.
pub fn plan(ctx: &RecordCtx) -> (Vec<RelaTable>, u64) {
    let totals = PartialTotals::for_current_pool();
    let tables = ctx
        .sections
        .out
        .par_iter()
        .enumerate()
        .filter_map(|(i, o)| {
            let slots = CountSlots::new(o.chunks.len());
            o.chunks.par_iter().enumerate().for_each(|(ci, c)| {
                let mut n = 0u64;
                for_each_record(ctx, o, c, |_| n += 1);
                slots.set(ci, n * RELA_SIZE);
                totals.add_current(n);
            });
            let partition = slots.into_partition();
            (partition.total() > 0).then_some(RelaTable {
                target: i as u32,
                partition,
                index: 0,
                offset: 0,
            })
        })
        .collect();
    (tables, totals.into_total())
}

/// Writes one chunk's records into its slice (phase three).
pub fn write_chunk(
    ctx: &RecordCtx,
    out: &OutputSection,
    chunk: &Chunk,
    buf: &mut [u8],
) -> Result<()> {
    let mut f = Filler::new(buf);
    let mut err = None;
    for_each_record(ctx, out, chunk, |r| {
        let mut b = [0u8; 24];
        b[0..8].copy_from_slice(&r.offset.to_le_bytes());
        b[8..16].copy_from_slice(&((u64::from(r.sym) << 32) | u64::from(r.r_type)).to_le_bytes());
        b[16..24].copy_from_slice(&r.addend.to_le_bytes());
        if let Err(e) = f.put(&b) {
            err.get_or_insert(e);
        }
    });
    if let Some(e) = err {
        return Err(e.into());
    }
    f.finish()?;
    Ok(())
}
