//! Layout: which output section every kept input section goes to, the
//! synthetic sections, and then — from exact sizes — every chunk's offset,
//! every section's address and file offset, and the segments.

pub mod got;
pub mod merge;
pub mod segments;
pub mod symvals;

use crate::args::{Args, OutputKind, Strip};
use crate::err;
use crate::error::Result;
use crate::input::ehframe::{self, EhFrameRecords};
use crate::input::object::{FileId, ObjectFile, SymPlace};
use crate::partition::Partition;
use crate::resolve::Resolution;
use object::elf;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

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

pub fn align_up(v: u64, a: u64) -> u64 {
    if a <= 1 {
        v
    } else {
        (v + a - 1) & !(a - 1)
    }
}

/// GNU ld's default script, reduced to its section-name mapping.
pub fn output_name(name: &[u8]) -> &[u8] {
    const PREFIXES: &[&[u8]] = &[
        b".text",
        b".rodata",
        b".data.rel.ro",
        b".data",
        b".bss",
        b".tdata",
        b".tbss",
        b".init_array",
        b".fini_array",
        b".gcc_except_table",
        b".ldata",
        b".lrodata",
        b".lbss",
    ];
    for p in PREFIXES {
        if name == *p || (name.starts_with(p) && name.get(p.len()) == Some(&b'.')) {
            return p;
        }
    }
    const LINKONCE: &[(&[u8], &[u8])] = &[
        (b".gnu.linkonce.t.", b".text"),
        (b".gnu.linkonce.r.", b".rodata"),
        (b".gnu.linkonce.d.", b".data"),
        (b".gnu.linkonce.lb.", b".lbss"),
        (b".gnu.linkonce.lr.", b".lrodata"),
        (b".gnu.linkonce.l.", b".ldata"),
    ];
    for (prefix, out) in LINKONCE {
        if name.starts_with(prefix) {
            return out;
        }
    }
    name
}

/// The output section of input section `name` of file `file` in an
/// executable: [`output_name`], except that `.ctors`/`.dtors` (and their
/// `.N` priorities) join `.init_array`/`.fini_array`, as in GNU ld's default
/// script, but for the plain `.ctors`/`.dtors` of crtbegin and crtend, which
/// that script keeps in their own output sections.
pub fn exe_output_name<'a>(name: &'a [u8], file: &str) -> &'a [u8] {
    for (old, new) in [
        (&b".ctors"[..], &b".init_array"[..]),
        (b".dtors", b".fini_array"),
    ] {
        if name == old {
            return if is_crtbegin_or_end(file) { name } else { new };
        }
        if name.starts_with(old) && name.get(old.len()) == Some(&b'.') {
            return new;
        }
    }
    output_name(name)
}

fn is_ctors_or_dtors(name: &[u8]) -> bool {
    [&b".ctors"[..], b".dtors"]
        .iter()
        .any(|p| name.starts_with(p) && matches!(name.get(p.len()), None | Some(b'.')))
}

/// Whether `file` (a path, or `archive(member)`) matches the default
/// script's `*crtbegin.o *crtbegin?.o *crtend.o *crtend?.o`, which GNU ld
/// checks against an archive member's name and against its archive's.
fn is_crtbegin_or_end(file: &str) -> bool {
    let matches = |f: &str| {
        ["crtbegin", "crtend"].iter().any(|stem| {
            let Some(before) = f.strip_suffix(".o") else {
                return false;
            };
            before.ends_with(stem)
                || before
                    .char_indices()
                    .last()
                    .is_some_and(|(i, _)| before[..i].ends_with(stem))
        })
    };
    match file.strip_suffix(')').and_then(|f| f.split_once('(')) {
        Some((archive, member)) => matches(archive) || matches(member),
        None => matches(file),
    }
}

/// Where an output section sorts in an executable, and so which segment it
/// lands in: R (10-29), RX (30-39), R (40-49), RW (50-69), then the large
/// data of the medium and large code models in segments of their own, R
/// `.lrodata` (70-79) and RW `.ldata` (80-99), non-alloc (100). As in GNU
/// ld's default script, `.lbss` follows `.bss` and the large sections come
/// after both, so that they cannot push small data out of the ±2 GiB that
/// code reaches PC-relatively.
/// Ranks linker-defined symbols are placed by (`symvals::linker_sym_section`):
/// `.rodata`, `.bss`, and the first rank of non-allocated sections.
pub const RANK_RODATA: u32 = 40;
pub const RANK_BSS: u32 = 63;
pub const RANK_NONALLOC: u32 = 100;

fn rank(name: &[u8], sh_type: u32, flags: u64) -> u32 {
    let alloc = flags & u64::from(elf::SHF_ALLOC) != 0;
    let exec = flags & u64::from(elf::SHF_EXECINSTR) != 0;
    let write = flags & u64::from(elf::SHF_WRITE) != 0;
    let tls = flags & u64::from(elf::SHF_TLS) != 0;
    if !alloc {
        return 100;
    }
    // Whatever its other flags, a TLS section must sit with the others: the
    // TLS segment is one contiguous range.
    if tls {
        return if sh_type == elf::SHT_NOBITS { 51 } else { 50 };
    }
    match name {
        b".interp" => return 9,
        b".hash" => return 11,
        b".gnu.hash" => return 12,
        b".dynsym" => return 13,
        b".dynstr" => return 14,
        b".gnu.version" => return 15,
        b".gnu.version_d" => return 16,
        b".gnu.version_r" => return 17,
        b".rela.dyn" => return 18,
        b".relr.dyn" => return 21,
        _ => {}
    }
    if sh_type == elf::SHT_NOTE {
        // Their order among themselves is GNU ld's orphan placement
        // (`Sections::note_order`).
        return 10;
    }
    match name {
        b".lbss" => return 65,
        b".lrodata" => return 70,
        b".ldata" => return 80,
        _ => {}
    }
    if exec {
        return match name {
            b".init" => 30,
            b".plt" | b".plt.got" | b".plt.sec" => 31,
            b".text" => 32,
            b".fini" => 35,
            _ => 33,
        };
    }
    if !write {
        return match name {
            b".rela.plt" => 20,
            b".rodata" => 40,
            b".eh_frame_hdr" => 42,
            b".eh_frame" => 43,
            b".gcc_except_table" => 44,
            _ => 41,
        };
    }
    if sh_type == elf::SHT_NOBITS {
        return if name == b".bss" { 63 } else { 64 };
    }
    match name {
        b".preinit_array" => 52,
        b".init_array" => 53,
        b".fini_array" => 54,
        b".ctors" => 55,
        b".dtors" => 56,
        b".data.rel.ro" => 57,
        b".dynamic" => 58,
        b".got" => 59,
        b".got.plt" => 60,
        b".data" => 61,
        _ => 62,
    }
}

/// Lays out the chunks inside one section: offsets with alignment, its
/// size, and the partition the writers split it by.
fn layout_section(o: &mut OutputSection) {
    let mut at = 0u64;
    let mut counts = Vec::with_capacity(o.chunks.len());
    for c in &mut o.chunks {
        let start = align_up(at, c.align);
        c.offset = start;
        counts.push(start - at + c.size);
        at = start + c.size;
    }
    o.size = at;
    o.partition = Partition::from_counts(&counts);
}

/// Assigns every kept input section to an output section, in input order.
pub fn assign_sections(args: &Args, res: &Resolution) -> Result<Sections> {
    let exe = args.kind != OutputKind::Relocatable;
    let mut out: Vec<OutputSection> = Vec::new();
    // Name, COMDAT group (-r), and for SHF_LINK_ORDER sections under -r the
    // output section they are linked to.
    type Key = (Vec<u8>, Option<(FileId, u32)>, Option<u32>);
    let mut by_key: FxHashMap<Key, u32> = FxHashMap::default();
    let mut placement = Vec::with_capacity(res.objects.len());
    let mut total = 0u64;
    for obj in &res.objects {
        let mut places = vec![Place::NONE; obj.sections.len()];
        for (i, s) in obj.sections.iter().enumerate() {
            if !s.kept {
                continue;
            }
            if args.strip != Strip::None && !s.is_alloc() && is_debug(s.name) {
                continue;
            }
            // GNU ld drops `.gnu.warning` sections once it has warned, and
            // keeps `.gnu.warning.SYM` under `-r` for the final link.
            if s.name == b".gnu.warning"
                || exe && (s.name == b".note.GNU-stack" || s.name.starts_with(b".gnu.warning"))
            {
                continue;
            }
            let name: &[u8] = if exe {
                exe_output_name(s.name, &obj.name)
            } else {
                s.name
            };
            let group = if exe {
                None
            } else {
                s.group.map(|g| (obj.id, g))
            };
            let link_order = s.flags & u64::from(elf::SHF_LINK_ORDER) != 0;
            let linked = if !exe && link_order {
                places
                    .get(s.link as usize)
                    .filter(|p| p.is_placed())
                    .map(|p| p.out)
            } else {
                None
            };
            let key = (name.to_vec(), group, linked);
            let oi = match by_key.get(&key) {
                Some(&o) => o,
                None => {
                    let o = out.len() as u32;
                    out.push(OutputSection {
                        entsize: s.entsize,
                        group,
                        ..OutputSection::new(name, s.sh_type, 0)
                    });
                    by_key.insert(key, o);
                    o
                }
            };
            let o = &mut out[oi as usize];
            // Flags merge; a section that has any SHF_WRITE input is writable.
            // SHF_MERGE/SHF_STRINGS stay only while every input has the same
            // two with one entry size (`.debug_str`), as in GNU ld's output.
            let merge_bits = u64::from(elf::SHF_MERGE | elf::SHF_STRINGS);
            let first = o.chunks.is_empty();
            let same_merge = first || o.flags & merge_bits == s.flags & merge_bits;
            o.flags |= s.flags & !u64::from(elf::SHF_GROUP);
            if !same_merge || s.flags & u64::from(elf::SHF_MERGE) == 0 {
                o.flags &= !merge_bits;
            }
            if o.entsize != s.entsize {
                o.entsize = 0;
                o.flags &= !u64::from(elf::SHF_MERGE | elf::SHF_STRINGS);
            }
            if o.sh_type == elf::SHT_NOBITS && s.sh_type != elf::SHT_NOBITS {
                o.sh_type = s.sh_type;
            }
            total = total
                .checked_add(s.size)
                .and_then(|t| t.checked_add(s.align))
                .filter(|&t| t <= MAX_TOTAL_SIZE)
                .ok_or_else(|| {
                    crate::err!(
                        "{}: section {} (size {:#x}, alignment {:#x}) does not fit in the x86-64 address space",
                        obj.name,
                        String::from_utf8_lossy(s.name),
                        s.size,
                        s.align
                    )
                })?;
            o.align = o.align.max(s.align);
            let reversed = exe && name != s.name && is_ctors_or_dtors(s.name) && s.size > 8;
            if reversed && s.relocs.len() as u64 * 8 != s.size {
                crate::bail!(
                    "{}: size of section {} ({:#x} bytes, {} relocations) is not that of one 8-byte address per relocation",
                    obj.name,
                    String::from_utf8_lossy(s.name),
                    s.size,
                    s.relocs.len()
                );
            }
            places[i] = Place {
                out: oi,
                chunk: o.chunks.len() as u32,
            };
            o.chunks.push(Chunk {
                kind: ChunkKind::Input {
                    file: obj.id,
                    sec: i as u32,
                },
                size: s.size,
                align: s.align,
                offset: 0,
                eh: None,
                reversed,
                merge: None,
            });
        }
        placement.push(places);
    }
    for o in &mut out {
        if exe && o.name.starts_with(b".note") {
            o.sh_type = elf::SHT_NOTE;
        }
        if o.sh_type == elf::SHT_X86_64_UNWIND && o.name == b".eh_frame" {
            o.sh_type = elf::SHT_PROGBITS;
        }
        // Pointer arrays whatever their inputs (`.ctors` is SHT_PROGBITS).
        if exe {
            let array_type = match &o.name[..] {
                b".init_array" => Some(elf::SHT_INIT_ARRAY),
                b".fini_array" => Some(elf::SHT_FINI_ARRAY),
                b".preinit_array" => Some(elf::SHT_PREINIT_ARRAY),
                _ => None,
            };
            if let Some(t) = array_type {
                o.sh_type = t;
                o.entsize = 8;
            }
        }
    }
    // Split .eh_frame inputs into records, in parallel, so their sizes are exact.
    out.par_iter_mut()
        .filter(|o| o.name == b".eh_frame")
        .try_for_each(|o| {
            o.chunks.par_iter_mut().try_for_each(|c| -> Result<()> {
                if let ChunkKind::Input { file, sec } = c.kind {
                    let recs = ehframe::split(&res.objects[file as usize], sec as usize)?;
                    c.size = recs.size;
                    // Records follow each other with no padding: zeros between
                    // them would read as an end marker.
                    c.align = 4;
                    c.eh = Some(Box::new(recs));
                }
                Ok(())
            })
        })?;
    for o in out.iter_mut().filter(|o| o.name == b".eh_frame") {
        drop_inner_terminators(o);
    }
    let mut sections = Sections {
        out,
        placement,
        eh_frame_hdr_asked: exe && args.eh_frame_hdr,
        base: if args.pie || args.kind == OutputKind::Shared {
            0
        } else {
            BASE_ADDR
        },
        mode: crate::resolve::mode::OutputMode::Static,
    };
    if exe {
        sort_sections(&mut sections, res);
    } else {
        // Executables find these while applying relocations.
        refuse_discarded_targets(&sections, res)?;
    }
    Ok(sections)
}

/// Under `-r`, as GNU ld: a kept allocated section may not refer to a local
/// symbol of a dropped section (a losing COMDAT copy). The first offender
/// in input order is reported, whatever the thread count.
fn refuse_discarded_targets(sections: &Sections, res: &Resolution) -> Result<()> {
    let first = res
        .objects
        .par_iter()
        .map(|obj| {
            for (i, s) in obj.sections.iter().enumerate() {
                if !s.kept || !refuses_discarded_targets(s) {
                    continue;
                }
                for r in s.relocs {
                    let idx = r.r_sym(crate::input::object::E, false) as usize;
                    if discarded_target(sections, obj, idx).is_some() {
                        return Err(discarded_reference(obj, i as u32, idx));
                    }
                }
            }
            Ok(())
        })
        .collect::<Vec<Result<()>>>();
    first.into_iter().collect()
}

/// A zero-length record ends `.eh_frame` for unwinders that walk it from
/// `__EH_FRAME_BEGIN__` (crtbeginT's registration in static programs); only
/// the last one (crtend's `__FRAME_END__`) may stay.
fn drop_inner_terminators(o: &mut OutputSection) {
    let last = o
        .chunks
        .iter()
        .rposition(|c| c.eh.as_ref().is_some_and(|e| !e.records.is_empty()));
    for (ci, c) in o.chunks.iter_mut().enumerate() {
        let Some(eh) = c.eh.as_mut() else { continue };
        let keep_last = Some(ci) == last;
        let n = eh.records.len();
        let mut out_off = 0u32;
        let mut kept = Vec::with_capacity(n);
        for (ri, r) in eh.records.iter().enumerate() {
            if r.is_terminator() && !(keep_last && ri == n - 1) {
                continue;
            }
            kept.push(ehframe::Record { out_off, ..*r });
            out_off += r.len;
        }
        eh.records = kept;
        eh.size = u64::from(out_off);
        c.size = eh.size;
    }
}

fn is_debug(name: &[u8]) -> bool {
    name.starts_with(b".debug")
        || name.starts_with(b".zdebug")
        || name.starts_with(b".gnu.debuglto")
}

/// Orders the input sections of the output sections GNU ld's default
/// script sorts, as it does; the others keep input order.
///
/// `.init_array` gets `SORT_BY_INIT_PRIORITY(.init_array.*)
/// SORT_BY_INIT_PRIORITY(.ctors.*)` first, then `.init_array` and `.ctors`
/// in input order (`.fini_array` likewise with `.dtors`). `.text` gets its
/// groups in the script's order: cold code (`.text.unlikely`), exit code,
/// startup code (where gcc puts `main` and static constructors), hot
/// code, `SORT(.text.sorted.*)`, then everything else in input order, so
/// that a program's code is laid out as with GNU ld.
fn sort_sections(s: &mut Sections, res: &Resolution) {
    for (oi, o) in s.out.iter_mut().enumerate() {
        let init = o.name == b".init_array" || o.name == b".fini_array";
        if !init && o.name != b".text" {
            continue;
        }
        let key = |c: &Chunk| -> (u8, u64, &[u8]) {
            let ChunkKind::Input { file, sec } = c.kind else {
                // The linker's own chunks stay among the unsorted ones.
                return (if init { 1 } else { TextGroup::Rest as u8 }, 0, &[]);
            };
            let name = res.objects[file as usize].sections[sec as usize].name;
            if init {
                return match init_priority(name) {
                    Some(prio) => (0, prio, name),
                    None => (1, 0, &[]),
                };
            }
            match text_group(name) {
                TextGroup::Sorted => (TextGroup::Sorted as u8, 0, name),
                g => (g as u8, 0, &[]),
            }
        };
        if o.chunks.windows(2).all(|w| key(&w[0]) <= key(&w[1])) {
            continue;
        }
        o.chunks.sort_by_key(key);
        for (ci, c) in o.chunks.iter().enumerate() {
            if let ChunkKind::Input { file, sec } = c.kind {
                s.placement[file as usize][sec as usize] = Place {
                    out: oi as u32,
                    chunk: ci as u32,
                };
            }
        }
    }
}

/// The statements of GNU ld's `.text` output section, in their order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextGroup {
    /// `.text.unlikely .text.*_unlikely .text.unlikely.*`
    Unlikely,
    /// `.text.exit .text.exit.*`
    Exit,
    /// `.text.startup .text.startup.*`
    Startup,
    /// `.text.hot .text.hot.*`
    Hot,
    /// `SORT(.text.sorted.*)`
    Sorted,
    /// `.text .stub .text.* .gnu.linkonce.t.*`, and anything else
    Rest,
}

/// Which statement of GNU ld's `.text` takes input section `name`: the
/// first that matches, as in a linker script.
fn text_group(name: &[u8]) -> TextGroup {
    let family = |base: &[u8]| {
        name == base || (name.starts_with(base) && name.get(base.len()) == Some(&b'.'))
    };
    if family(b".text.unlikely") || (name.starts_with(b".text.") && name.ends_with(b"_unlikely")) {
        TextGroup::Unlikely
    } else if family(b".text.exit") {
        TextGroup::Exit
    } else if family(b".text.startup") {
        TextGroup::Startup
    } else if family(b".text.hot") {
        TextGroup::Hot
    } else if name.starts_with(b".text.sorted.") {
        TextGroup::Sorted
    } else {
        TextGroup::Rest
    }
}

/// The sort key of a section `SORT_BY_INIT_PRIORITY` sorts, as GNU ld's
/// `get_init_priority` computes it: the number after the last dot, and for
/// `.ctors.N`/`.dtors.N` (which run last to first) 65535 - N. `None` for
/// the plain, unsorted names. A name the sort matches but without a number
/// sorts after every number (by name; GNU ld compares those by name alone).
fn init_priority(name: &[u8]) -> Option<u64> {
    let sorted = [
        &b".init_array."[..],
        b".fini_array.",
        b".ctors.",
        b".dtors.",
    ]
    .iter()
    .any(|p| name.starts_with(p));
    if !sorted {
        return None;
    }
    const NO_NUMBER: u64 = 1 << 32;
    let dot = name.iter().rposition(|&b| b == b'.')?;
    let digits = &name[dot + 1..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Some(NO_NUMBER);
    }
    let n = std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse::<u64>().ok());
    let ctors = dot == 6 && (name.starts_with(b".ctors") || name.starts_with(b".dtors"));
    let prio = match (n, ctors) {
        (Some(n), true) => 65535u64.checked_sub(n),
        (n, false) => n,
        (None, true) => None,
    };
    Some(prio.filter(|&p| p <= i32::MAX as u64).unwrap_or(NO_NUMBER))
}

impl Sections {
    /// `-r`: the merged `.note.GNU-stack` (if an input had one) says
    /// whether the stack must be executable, as [`crate::resolve::exec_stack`]
    /// decided from `-z` or the inputs (GNU ld sets or clears its
    /// SHF_EXECINSTR the same way).
    pub fn mark_stack_note(&mut self, exec: Option<bool>) {
        let Some(exec) = exec else { return };
        if let Some(o) = self.out.iter_mut().find(|o| o.name == b".note.GNU-stack") {
            let x = u64::from(elf::SHF_EXECINSTR);
            o.flags = if exec { o.flags | x } else { o.flags & !x };
        }
    }

    /// Adds a synthetic chunk, creating its output section if needed.
    pub fn add_synthetic(
        &mut self,
        name: &[u8],
        sh_type: u32,
        flags: u64,
        kind: Synthetic,
        size: u64,
        align: u64,
    ) {
        let oi = match self.out.iter().position(|o| o.name == name) {
            Some(i) => i,
            None => {
                self.out.push(OutputSection::new(name, sh_type, flags));
                self.out.len() - 1
            }
        };
        let o = &mut self.out[oi];
        o.align = o.align.max(align);
        o.flags |= flags;
        if sh_type == elf::SHT_RELA {
            o.entsize = 24;
        }
        o.chunks.push(Chunk {
            kind: ChunkKind::Synthetic(kind),
            size,
            align,
            offset: 0,
            eh: None,
            reversed: false,
            merge: None,
        });
    }

    /// Adds a synthetic section of one chunk before every other output
    /// section (`-r`, whose sections otherwise follow their inputs' order):
    /// GNU ld puts the merged `.note.gnu.property` first.
    pub fn add_synthetic_first(
        &mut self,
        name: &[u8],
        sh_type: u32,
        flags: u64,
        kind: Synthetic,
        size: u64,
        align: u64,
    ) {
        let new = self.find(name).is_none();
        self.add_synthetic(name, sh_type, flags, kind, size, align);
        if !new {
            return; // the section was there already: it stays where it is
        }
        let o = self.out.remove(self.out.len() - 1);
        self.out.insert(0, o);
        self.placement.par_iter_mut().for_each(|places| {
            for p in places.iter_mut().filter(|p| p.is_placed()) {
                p.out += 1;
            }
        });
    }

    /// Lays out chunks inside each section: offsets with alignment, sizes,
    /// and the partition the writers split the section by.
    pub fn layout_chunks(&mut self) {
        self.out.par_iter_mut().for_each(layout_section);
    }

    /// Gives synthetic chunk `kind` a new size and lays its section out
    /// again (`.relr.dyn`, whose size is known only from addresses).
    /// Returns whether the size changed.
    pub fn resize_synthetic(&mut self, kind: Synthetic, size: u64) -> bool {
        for o in &mut self.out {
            if let Some(c) = o
                .chunks
                .iter_mut()
                .find(|c| c.kind == ChunkKind::Synthetic(kind))
            {
                if c.size == size {
                    return false;
                }
                c.size = size;
                layout_section(o);
                return true;
            }
        }
        false
    }

    /// Orders the output sections of an executable (stable by rank) and
    /// rewrites the placement table to match.
    pub fn sort_for_executable(&mut self) {
        for o in &mut self.out {
            o.rank = rank(&o.name, o.sh_type, o.flags);
        }
        let note_pos = self.note_order();
        let mut order: Vec<usize> = (0..self.out.len()).collect();
        order.sort_by_key(|&i| (self.out[i].rank, note_pos[i]));
        let mut new_index = vec![0u32; self.out.len()];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = new as u32;
        }
        let mut taken: Vec<Option<OutputSection>> = std::mem::take(&mut self.out)
            .into_iter()
            .map(Some)
            .collect();
        self.out = order.iter().map(|&i| taken[i].take().unwrap()).collect();
        self.placement.par_iter_mut().for_each(|places| {
            for p in places.iter_mut() {
                if p.is_placed() {
                    p.out = new_index[p.out as usize];
                }
            }
        });
    }

    /// The position of each allocated note among the notes, as GNU ld
    /// 2.40 orders them: its default script names only
    /// `.note.gnu.build-id`; every other note is an orphan, placed in input
    /// order (the merged `.note.gnu.property` first: it stands for the
    /// first input's) after the last note placed so far whose alignment is
    /// at least its own, or before all of them when none is
    /// (`lang_insert_orphan`). So notes of larger alignment come first and
    /// the 8-aligned property note precedes the build ID. 0 for the rest.
    fn note_order(&self) -> Vec<usize> {
        let is_note = |o: &OutputSection| o.is_alloc() && o.sh_type == elf::SHT_NOTE;
        let build_id = self
            .out
            .iter()
            .position(|o| is_note(o) && o.name == b".note.gnu.build-id");
        let property = self
            .out
            .iter()
            .position(|o| is_note(o) && o.name == crate::resolve::gnu_property::SECTION);
        let orphans = property.into_iter().chain(
            (0..self.out.len())
                .filter(|&i| is_note(&self.out[i]) && Some(i) != build_id && Some(i) != property),
        );
        let mut placed: Vec<usize> = build_id.into_iter().collect();
        for i in orphans {
            let align = self.out[i].align;
            match placed.iter().rposition(|&p| self.out[p].align >= align) {
                Some(k) => placed.insert(k + 1, i),
                None => placed.insert(0, i),
            }
        }
        let mut pos = vec![0usize; self.out.len()];
        for (k, &i) in placed.iter().enumerate() {
            pos[i] = k;
        }
        pos
    }

    /// Marks the empty sections of an executable omitted: GNU ld removes
    /// an output section that ends up with no bytes (`as` gives every
    /// object an empty `.data` and `.bss`; crtbegin's `.tm_clone_table` is
    /// empty), so a program without writable data gets no RW segment.
    /// Under `--emit-relocs` GNU ld keeps empty sections made of input
    /// sections, and removes only those with none ([`Sections::add_empty`]).
    pub fn omit_empty(&mut self, emit_relocs: bool) {
        for o in &mut self.out {
            o.omitted = o.size == 0 && (!emit_relocs || o.chunks.is_empty());
        }
    }

    /// Adds an output section without contents: one GNU ld's script makes
    /// for a symbol assignment inside it (`__preinit_array_start`) and then
    /// removes ([`Sections::omit_empty`]), so that the symbol has the
    /// address the section would have had.
    pub fn add_empty(&mut self, name: &[u8], sh_type: u32, flags: u64) {
        self.out.push(OutputSection::new(name, sh_type, flags));
    }

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
    fn ctors_and_dtors_go_to_the_arrays() {
        assert_eq!(exe_output_name(b".ctors", "a.o"), b".init_array");
        assert_eq!(exe_output_name(b".ctors.00100", "a.o"), b".init_array");
        assert_eq!(exe_output_name(b".dtors", "lib.a(x.o)"), b".fini_array");
        assert_eq!(
            exe_output_name(b".ctors", "/usr/lib/gcc/crtbegin.o"),
            b".ctors"
        );
        assert_eq!(exe_output_name(b".ctors", "crtbeginT.o"), b".ctors");
        assert_eq!(exe_output_name(b".dtors", "x/crtendS.o"), b".dtors");
        assert_eq!(exe_output_name(b".dtors", "libcrt.a(crtend.o)"), b".dtors");
        assert_eq!(exe_output_name(b".ctors", "crtbeginXY.o"), b".init_array");
        // Their prioritised sections go to the arrays even from crtbegin.
        assert_eq!(
            exe_output_name(b".ctors.65535", "crtbegin.o"),
            b".init_array"
        );
        assert_eq!(exe_output_name(b".ctorsx", "a.o"), b".ctorsx");
    }

    #[test]
    fn init_priorities_as_gnu_ld() {
        assert_eq!(init_priority(b".init_array"), None);
        assert_eq!(init_priority(b".ctors"), None);
        assert_eq!(init_priority(b".init_array.00100"), Some(100));
        assert_eq!(init_priority(b".fini_array.65535"), Some(65535));
        assert_eq!(init_priority(b".ctors.65435"), Some(100));
        assert_eq!(init_priority(b".dtors.00101"), Some(65434));
        // The number after the last dot; 65535 - N only for `.ctors.N`.
        assert_eq!(init_priority(b".init_array.foo.7"), Some(7));
        assert_eq!(init_priority(b".ctors.foo.7"), Some(7));
        assert_eq!(init_priority(b".ctors.70000"), Some(1 << 32));
        assert_eq!(init_priority(b".init_array.foo"), Some(1 << 32));
    }

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
