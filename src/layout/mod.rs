//! Layout, in three phases, each a module that takes the previous one's
//! result by value and hands on its own, which nothing changes after:
//!
//! 1. [`assign`] → [`SectionMap`]: which output section every kept input
//!    section goes to, and the exact sizes of what inputs contribute.
//!    The scans that count GOT entries, PLT entries and dynamic records
//!    ([`got`], `write::dynamic::plan`) read it.
//! 2. [`order`] → [`SectionOrder`]: the linker's own tables
//!    ([`synthetic`]), sized from those counts, added; the sections in
//!    their final order; every chunk's offset (prefix sums).
//! 3. [`segments::place`] → [`OutputLayout`]: addresses, file offsets and
//!    segments.
//!
//! All three hold one [`Sections`] and lend it out read-only (`Deref`):
//! the data moves from phase to phase rather than being copied, and only
//! the phase that owns it can change it.

pub mod assign;
pub mod got;
pub mod merge;
pub mod order;
pub mod segments;
pub mod symvals;
pub mod synthetic;

pub use order::{RANK_BSS, RANK_NONALLOC, RANK_RODATA};

use crate::err;
use crate::input::ehframe::EhFrameRecords;
use crate::input::object::{FileId, ObjectFile, SymPlace};
use crate::partition::Partition;
use object::elf;

pub const PAGE: u64 = 4096;
pub const BASE_ADDR: u64 = 0x40_0000;
pub const EHDR_SIZE: u64 = 64;
pub const PHDR_SIZE: u64 = 56;
pub const SHDR_SIZE: u64 = 64;
/// Input section sizes and alignments come from untrusted files; their sum
/// is kept below this (x86-64's user address space), so no offset or
/// address computed from them later can overflow.
pub const MAX_TOTAL_SIZE: u64 = 1 << 47;

/// Sections the linker makes rather than copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synthetic {
    /// GOT entries: addresses and TLS offsets.
    Got,
    /// `.got.plt`: three reserved words, then one slot per IFUNC.
    GotPlt,
    /// `.iplt` stubs jumping through the IFUNC slots.
    Iplt,
    /// `.rela.iplt`: R_X86_64_IRELATIVE records glibc's startup applies.
    RelaIplt,
    /// COMMON symbols, allocated in `.bss`.
    Commons,
    EhFrameHdr,
    BuildIdNote,
    /// `.note.gnu.property`: the inputs' properties merged
    /// ([`crate::resolve::gnu_property`]).
    GnuProperty,
    /// rivet's own line in `.comment`, so a binary tells which linker made it.
    Comment,
    /// A table of a dynamic output ([`crate::write::dynamic`]).
    Dyn(DynTable),
}

/// The tables of a dynamic output, each written by
/// [`crate::write::dynamic::write`] from the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DynTable {
    /// `.interp`: the dynamic loader's path.
    Interp,
    /// A shard of `.dynsym`, of the names in `.dynstr` and of
    /// `.gnu.version` ([`crate::write::dynamic::plan::DYNSYM_SHARD`]).
    DynSym(u32),
    /// `.dynstr`'s head: needed names, run path, version names.
    DynStr,
    DynStrNames(u32),
    GnuHash,
    SysvHash,
    VerSym(u32),
    VerNeed,
    /// `.gnu.version_d`: a shared object's version definitions.
    VerDef,
    Dynamic,
    /// One unit of `.rela.dyn` ([`crate::write::dynamic::RelaUnit`]).
    RelaDyn(u32),
    /// `.rela.plt` of a dynamic output: JUMP_SLOT records, then IRELATIVE.
    RelaPlt,
    /// The lazy `.plt`: PLT0 and one entry per imported function.
    Plt,
    /// `.plt.sec`: the IBT form's entries that calls reach.
    PltSec,
    /// `.plt.got`: `jmp *got(%rip)` for functions with a GOT entry.
    PltGot,
    /// `.relr.dyn`: the packed RELATIVE records.
    Relr,
    /// Shared objects' variables copied into `.bss` (copy relocations).
    Copies,
}

impl DynTable {
    /// The input section name GNU ld gives the table (link maps).
    pub fn input_name(self) -> &'static str {
        match self {
            DynTable::Interp => ".interp",
            DynTable::DynSym(_) => ".dynsym",
            DynTable::DynStr | DynTable::DynStrNames(_) => ".dynstr",
            DynTable::GnuHash => ".gnu.hash",
            DynTable::SysvHash => ".hash",
            DynTable::VerSym(_) => ".gnu.version",
            DynTable::VerNeed => ".gnu.version_r",
            DynTable::VerDef => ".gnu.version_d",
            DynTable::Dynamic => ".dynamic",
            DynTable::RelaDyn(_) => ".rela.dyn",
            DynTable::RelaPlt => ".rela.plt",
            DynTable::Plt => ".plt",
            DynTable::PltSec => ".plt.sec",
            DynTable::PltGot => ".plt.got",
            DynTable::Relr => ".relr.dyn",
            DynTable::Copies => ".dynbss",
        }
    }
}

/// What [`Synthetic::Comment`] adds to `.comment`.
pub const COMMENT: &[u8] = concat!("Linker: rivet ", env!("CARGO_PKG_VERSION"), "\0").as_bytes();

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkKind {
    Input { file: FileId, sec: u32 },
    Synthetic(Synthetic),
}

#[derive(Debug, Clone)]
pub struct Chunk {
    pub kind: ChunkKind,
    pub size: u64,
    pub align: u64,
    /// Offset inside the output section, set by `finalize`.
    pub offset: u64,
    /// For `.eh_frame` inputs: the records kept and where they go.
    pub eh: Option<Box<EhFrameRecords>>,
    /// A `.ctors`/`.dtors` input of more than one entry in `.init_array`/
    /// `.fini_array`: its 8-byte entries are written last to first, since
    /// `.ctors` runs backwards and `.init_array` forwards (GNU ld's
    /// SEC_ELF_REVERSE_COPY).
    pub reversed: bool,
    /// A merged `SHF_MERGE` input: where each of its pieces went
    /// ([`crate::layout::merge`]); the chunk holds only the pieces it owns.
    pub merge: Option<Box<crate::layout::merge::MergedPieces>>,
}

impl Chunk {
    /// Where input offset `off` of a [`Chunk::reversed`] chunk lands: the
    /// same place in the mirrored entry. Offsets past the end stay as they
    /// are (the caller's bounds check rejects them).
    pub fn reversed_offset(&self, off: u64) -> u64 {
        if !self.reversed || off >= self.size {
            return off;
        }
        let entry = off / 8;
        (self.size / 8 - 1 - entry) * 8 + off % 8
    }
}

#[derive(Debug, Clone)]
pub struct OutputSection {
    pub name: Vec<u8>,
    pub sh_type: u32,
    pub flags: u64,
    pub align: u64,
    pub entsize: u64,
    pub chunks: Vec<Chunk>,
    pub size: u64,
    pub addr: u64,
    pub offset: u64,
    /// Under `-r`, the COMDAT group (file, group) this section belongs to.
    pub group: Option<(FileId, u32)>,
    pub rank: u32,
    /// Each chunk's bytes, including the alignment padding before it.
    pub partition: Partition,
    /// An empty section of an executable that GNU ld would remove: it gets
    /// an address (its symbols keep their values) but no section header
    /// and no place in a segment; its symbols' header index is then a
    /// neighbour's, as GNU ld's `_bfd_nearby_section` picks it (see
    /// [`Sections::omit_empty`], `write::Toc`).
    pub omitted: bool,
}

impl OutputSection {
    /// An output section with nothing in it yet: its chunks, size, place
    /// and rank come later.
    pub fn new(name: &[u8], sh_type: u32, flags: u64) -> OutputSection {
        OutputSection {
            name: name.to_vec(),
            sh_type,
            flags,
            align: 1,
            entsize: 0,
            chunks: Vec::new(),
            size: 0,
            addr: 0,
            offset: 0,
            group: None,
            rank: 0,
            partition: Partition::default(),
            omitted: false,
        }
    }

    /// `.lrodata`/`.ldata` of an executable, in their segments after
    /// `.bss` (not `.lbss`, which ends the data segment).
    pub fn is_large_data(&self) -> bool {
        (70..100).contains(&self.rank)
    }
    pub fn is_alloc(&self) -> bool {
        self.flags & u64::from(elf::SHF_ALLOC) != 0
    }
    pub fn is_nobits(&self) -> bool {
        self.sh_type == elf::SHT_NOBITS
    }
    /// TLS without bytes in the file (`.tbss`): it takes no address space.
    pub fn is_tbss(&self) -> bool {
        self.is_nobits() && self.flags & u64::from(elf::SHF_TLS) != 0
    }
    pub fn file_size(&self) -> u64 {
        if self.is_nobits() {
            0
        } else {
            self.size
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub out: u32,
    pub chunk: u32,
}

impl Place {
    pub const NONE: Place = Place {
        out: u32::MAX,
        chunk: u32::MAX,
    };
    pub fn is_placed(&self) -> bool {
        self.out != u32::MAX
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Segment {
    pub p_type: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub align: u64,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct TlsInfo {
    pub start: u64,
    pub memsz: u64,
    pub align: u64,
}

impl TlsInfo {
    /// The thread pointer's distance past the TLS block's start (x86-64
    /// variant II: the block ends at the thread pointer).
    pub fn tp(&self) -> u64 {
        self.start + align_up(self.memsz, self.align.max(1))
    }
}

pub struct Sections {
    pub out: Vec<OutputSection>,
    /// `placement[file][section]`: where each input section went.
    pub placement: Vec<Vec<Place>>,
    /// `--eh-frame-hdr` was given for an executable.
    pub eh_frame_hdr_asked: bool,
    /// Address of the first segment (the ELF header): 0 for a PIE.
    pub base: u64,
    /// What kind of output this is (static, PIE, shared object, ...): set
    /// once the inputs are resolved.
    pub mode: crate::resolve::mode::OutputMode,
}

/// Phase 1's result ([`assign::assign`]): every kept input section in its
/// output section; no synthetic section, no offsets.
pub struct SectionMap(Sections);

/// Phase 2's result ([`order::order`]): every output section, synthetic
/// tables included, in output order, with chunk offsets and sizes; no
/// addresses.
pub struct SectionOrder(Sections);

/// Phase 3's result ([`segments::place`]): addresses and file offsets of
/// every section, and the program headers.
pub struct OutputLayout {
    sections: Sections,
    /// The program headers (none under `-r`).
    pub phdrs: Vec<Segment>,
    /// The TLS segment, if there is one.
    pub tls: Option<TlsInfo>,
    /// Where the laid-out sections end in the file: the tables the write
    /// phase places itself (`.symtab`, `.rela.*` of `-r`) start there.
    pub end: u64,
}

impl std::ops::Deref for SectionMap {
    type Target = Sections;
    fn deref(&self) -> &Sections {
        &self.0
    }
}

impl std::ops::Deref for SectionOrder {
    type Target = Sections;
    fn deref(&self) -> &Sections {
        &self.0
    }
}

impl std::ops::Deref for OutputLayout {
    type Target = Sections;
    fn deref(&self) -> &Sections {
        &self.sections
    }
}

pub fn align_up(v: u64, a: u64) -> u64 {
    if a <= 1 {
        v
    } else {
        (v + a - 1) & !(a - 1)
    }
}

impl Sections {
    /// Whether input offset `off` of section `sec` of `file` lands in the
    /// output: false inside an `.eh_frame` record that was dropped (the
    /// FDE of discarded code), whose relocations are not applied. The scan
    /// counts dynamic records, and their writers write them, only here.
    pub fn place_kept(&self, file: FileId, sec: u32, off: u64) -> bool {
        let Some(p) = self
            .placement
            .get(file as usize)
            .and_then(|v| v.get(sec as usize))
        else {
            return false;
        };
        p.is_placed()
            && self.out[p.out as usize].chunks[p.chunk as usize]
                .eh
                .as_ref()
                .is_none_or(|eh| eh.find(off).is_some())
    }

    /// The output is linked at a fixed address (not a PIE): an address
    /// fits in an instruction's immediate.
    pub fn fixed_address(&self) -> bool {
        self.base != 0
    }

    pub fn find(&self, name: &[u8]) -> Option<&OutputSection> {
        self.out.iter().find(|o| o.name == name)
    }

    /// Whether the executable gets an `.eh_frame_hdr`: asked for, and there
    /// is an `.eh_frame` to index.
    pub fn will_have_eh_frame_hdr(&self) -> bool {
        self.eh_frame_hdr_asked && self.find(b".eh_frame").is_some()
    }

    /// For a relocation against local STT_SECTION symbol `idx` of `obj`
    /// whose section was merged ([`crate::layout::merge`]): the output section and
    /// the offset in it that input offset `addend` went to. The addend names
    /// the piece (as in GNU ld and lld), so it is used up here.
    pub fn merged_section_target(
        &self,
        obj: &crate::input::object::ObjectFile,
        idx: usize,
        addend: i64,
    ) -> Option<(u32, u64)> {
        if idx == 0 || idx >= obj.first_global {
            return None;
        }
        if obj.symbols[idx].st_type() != elf::STT_SECTION {
            return None;
        }
        let crate::input::object::SymPlace::Section(s) = obj.place_of(idx) else {
            return None;
        };
        let p = *self.placement.get(obj.id as usize)?.get(s as usize)?;
        if !p.is_placed() {
            return None;
        }
        let o = &self.out[p.out as usize];
        let m = o.chunks[p.chunk as usize].merge.as_ref()?;
        Some((p.out, m.translate(u64::try_from(addend).ok()?)?))
    }

    /// The output address (executables) or section offset (`-r`) of an
    /// input section's byte `off`, if the section is kept.
    pub fn input_address(&self, file: FileId, sec: u32, off: u64) -> Option<u64> {
        let p = *self.placement.get(file as usize)?.get(sec as usize)?;
        if !p.is_placed() {
            return None;
        }
        let o = &self.out[p.out as usize];
        let c = &o.chunks[p.chunk as usize];
        if let Some(m) = &c.merge {
            return Some(o.addr.wrapping_add(m.translate(off)?));
        }
        let off = match &c.eh {
            Some(eh) => eh.translate(off)?,
            None => off,
        };
        // Symbol values are untrusted and, as in ELF, wrap around.
        Some(o.addr.wrapping_add(c.offset).wrapping_add(off))
    }
}

// Discarded sections: references to them from what the output keeps.

/// The section of symbol `idx` of `obj` when it is a local (or section)
/// symbol of a section the link dropped, such as a losing COMDAT copy.
/// Globals resolve elsewhere; a dropped copy's globals name the winner's.
pub fn discarded_target(sections: &Sections, obj: &ObjectFile, idx: usize) -> Option<u32> {
    if idx == 0 || idx >= obj.first_global {
        return None;
    }
    let SymPlace::Section(t) = obj.place_of(idx) else {
        return None;
    };
    let placed = sections
        .placement
        .get(obj.id as usize)
        .and_then(|p| p.get(t as usize))
        .is_some_and(|p| p.is_placed());
    (!placed).then_some(t)
}

/// Whether a reference from input section `s` to a discarded section is an
/// error, as GNU ld makes it for allocated sections: the code would reach
/// nothing. Debug sections, `.eh_frame` and `.gcc_except_table` get a
/// tombstone instead (GNU ld's `_bfd_elf_default_action_discarded`).
pub fn refuses_discarded_targets(s: &crate::input::object::InputSection) -> bool {
    s.is_alloc() && s.name != b".eh_frame" && !s.name.starts_with(b".gcc_except_table")
}

/// GNU ld's complaint about a reference to a symbol of a discarded section.
pub fn discarded_reference(obj: &ObjectFile, sec: u32, idx: usize) -> crate::error::Error {
    let t = discarded_target_section(obj, idx);
    let mut sym = String::from_utf8_lossy(obj.name_of(idx)).into_owned();
    if sym.is_empty() {
        sym = t.clone();
    }
    err!(
        "{}: '{}' referenced in section {} is defined in discarded section {} of {}",
        obj.name,
        sym,
        sec_name(obj, sec),
        t,
        obj.name
    )
}

/// `name[signature]` of the section symbol `idx` of `obj` is in, as GNU ld
/// names a COMDAT member.
fn discarded_target_section(obj: &ObjectFile, idx: usize) -> String {
    let SymPlace::Section(t) = obj.place_of(idx) else {
        return String::new();
    };
    let Some(s) = obj.sections.get(t as usize) else {
        return format!("#{t}");
    };
    let name = String::from_utf8_lossy(s.name);
    let signature = s
        .group
        .and_then(|g| obj.groups.get(g as usize))
        .map(|grp| String::from_utf8_lossy(grp.signature).into_owned());
    match signature {
        Some(sig) => format!("{name}[{sig}]"),
        None => name.into_owned(),
    }
}

fn sec_name(obj: &crate::input::object::ObjectFile, sec: u32) -> String {
    String::from_utf8_lossy(obj.sections[sec as usize].name).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reversed_chunk_offsets_mirror_entries() {
        let c = Chunk {
            kind: ChunkKind::Synthetic(Synthetic::Got),
            size: 24,
            align: 8,
            offset: 0,
            eh: None,
            reversed: true,
            merge: None,
        };
        assert_eq!(c.reversed_offset(0), 16);
        assert_eq!(c.reversed_offset(8), 8);
        assert_eq!(c.reversed_offset(20), 4);
        assert_eq!(c.reversed_offset(24), 24);
    }
}
