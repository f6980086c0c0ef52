//! The sections the linker makes itself, described before they are added:
//! each a [`SyntheticTable`] sized from the counts the scans made
//! ([`crate::layout::got::GotPlan`], COMMON symbols, the merged property
//! note; the dynamic tables are described by `write::dynamic`). The order
//! phase ([`crate::layout::order`]) adds them, in the order given here,
//! which is also the order ties in rank keep.

use crate::input::ehframe;
use crate::layout::got::GotPlan;
use crate::layout::symvals::Commons;
use crate::layout::{SectionMap, Synthetic, COMMENT};
use crate::resolve::gnu_property;
use crate::resolve::mode::OutputMode;
use object::elf;

/// One synthetic chunk, and the output section it goes to (made if
/// no input section made it).
#[derive(Debug, Clone, Copy)]
pub struct SyntheticTable {
    pub name: &'static [u8],
    pub sh_type: u32,
    pub flags: u64,
    pub kind: Synthetic,
    pub size: u64,
    pub align: u64,
    /// The section's `sh_entsize`, when the table sets it (else the
    /// inputs' or 24 for `SHT_RELA`).
    pub entsize: Option<u64>,
}

impl SyntheticTable {
    pub fn new(
        name: &'static [u8],
        sh_type: u32,
        flags: u64,
        kind: Synthetic,
        size: u64,
        align: u64,
    ) -> SyntheticTable {
        SyntheticTable {
            name,
            sh_type,
            flags,
            kind,
            size,
            align,
            entsize: None,
        }
    }

    pub fn entsize(self, entsize: u64) -> SyntheticTable {
        SyntheticTable {
            entsize: Some(entsize),
            ..self
        }
    }
}

pub const ALLOC: u64 = elf::SHF_ALLOC as u64;
pub const WRITE: u64 = elf::SHF_WRITE as u64;
pub const EXEC: u64 = elf::SHF_EXECINSTR as u64;

/// What the tables are sized from.
pub struct TableCounts<'a> {
    pub mode: OutputMode,
    pub got: &'a GotPlan,
    pub commons: &'a Commons,
    /// The merged `.note.gnu.property` (empty: none).
    pub gnu_property: &'a [u8],
    /// The size of `.note.gnu.build-id`, if `--build-id` asks for one.
    pub build_id_size: Option<u64>,
}

/// The synthetic tables of every output but a dynamic one's own (those
/// come from `write::dynamic`): under `-r` only the merged property note.
pub fn tables(map: &SectionMap, c: &TableCounts) -> Vec<SyntheticTable> {
    let property = (!c.gnu_property.is_empty()).then(|| {
        SyntheticTable::new(
            gnu_property::SECTION,
            elf::SHT_NOTE,
            ALLOC,
            Synthetic::GnuProperty,
            c.gnu_property.len() as u64,
            8,
        )
    });
    if !c.mode.is_exe() {
        return property.into_iter().collect();
    }
    let merge_strings = u64::from(elf::SHF_MERGE | elf::SHF_STRINGS);
    let mut t = vec![SyntheticTable::new(
        b".comment",
        elf::SHT_PROGBITS,
        merge_strings,
        Synthetic::Comment,
        COMMENT.len() as u64,
        1,
    )
    .entsize(1)];
    t.extend(property);
    if let Some(size) = c.build_id_size {
        t.push(SyntheticTable::new(
            b".note.gnu.build-id",
            elf::SHT_NOTE,
            ALLOC,
            Synthetic::BuildIdNote,
            size,
            4,
        ));
    }
    let got = c.got;
    let dynamic = c.mode.is_dynamic();
    if !got.iplt.is_empty() {
        // A dynamic output's IRELATIVE records go with its JUMP_SLOTs
        // (`write::dynamic`).
        if !dynamic {
            t.push(SyntheticTable::new(
                b".rela.plt",
                elf::SHT_RELA,
                ALLOC | u64::from(elf::SHF_INFO_LINK),
                Synthetic::RelaIplt,
                got.rela_iplt_size(),
                8,
            ));
        }
        t.push(SyntheticTable::new(
            b".plt",
            elf::SHT_PROGBITS,
            ALLOC | EXEC,
            Synthetic::Iplt,
            got.iplt_size(),
            16,
        ));
    }
    if !got.got.is_empty() {
        t.push(SyntheticTable::new(
            b".got",
            elf::SHT_PROGBITS,
            ALLOC | WRITE,
            Synthetic::Got,
            got.got_size(),
            8,
        ));
    }
    if got.gotplt_needed() || dynamic {
        t.push(SyntheticTable::new(
            b".got.plt",
            elf::SHT_PROGBITS,
            ALLOC | WRITE,
            Synthetic::GotPlt,
            got.gotplt_size(),
            8,
        ));
    }
    if c.commons.size > 0 {
        t.push(SyntheticTable::new(
            b".bss",
            elf::SHT_NOBITS,
            ALLOC | WRITE,
            Synthetic::Commons,
            c.commons.size,
            c.commons.align,
        ));
    }
    if map.will_have_eh_frame_hdr() {
        let fdes: u64 = map
            .find(b".eh_frame")
            .map(|o| {
                o.chunks
                    .iter()
                    .filter_map(|c| c.eh.as_ref())
                    .map(|e| e.records.iter().filter(|r| r.is_fde()).count() as u64)
                    .sum()
            })
            .unwrap_or(0);
        t.push(SyntheticTable::new(
            b".eh_frame_hdr",
            elf::SHT_PROGBITS,
            ALLOC,
            Synthetic::EhFrameHdr,
            ehframe::hdr_size(fdes),
            4,
        ));
    }
    t
}
