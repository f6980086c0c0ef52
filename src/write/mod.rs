//! The output file's table of contents — section headers, their order and
//! offsets — and the write phase: the mapped file is split into disjoint
//! slices along those offsets and every piece is written in parallel.

pub mod apply;
pub mod dynamic;
pub mod mapfile;
pub mod relocs;
pub mod symtab;

use crate::args::BuildId;
use crate::error::Result;
use crate::input::object::FileId;
use crate::layout::got::GotPlan;
use crate::layout::{
    align_up, Chunk, ChunkKind, OutputSection, Sections, Segment, Synthetic, EHDR_SIZE, PHDR_SIZE,
    SHDR_SIZE,
};
use crate::partition::{par_for_each_range, Filler, Partition};
use crate::resolve::Resolution;
use crate::write::apply::{copy_input, ApplyCtx};
use crate::write::relocs::{RecordCtx, RelaTable};
use crate::write::symtab::{SymtabCtx, SymtabPlan, SYM_SIZE};
use crate::{bail, err};
use object::elf;
use rayon::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    Null,
    Out(u32),
    Rela(u32),
    Group(u32),
    Symtab,
    SymtabShndx,
    Strtab,
    Shstrtab,
}

#[derive(Debug, Clone)]
pub struct Shdr {
    pub content: Content,
    pub name: Vec<u8>,
    pub name_off: u32,
    pub sh_type: u32,
    pub flags: u64,
    pub addr: u64,
    pub offset: u64,
    pub size: u64,
    pub link: u32,
    pub info: u32,
    pub align: u64,
    pub entsize: u64,
}

/// A COMDAT (or other) group kept under `-r`.
#[derive(Debug, Clone)]
pub struct GroupSection {
    pub file: FileId,
    pub group: u32,
    /// The input SHT_GROUP section's index.
    pub section: u32,
    pub members: Vec<u32>,
}

pub struct Toc {
    pub shdrs: Vec<Shdr>,
    /// Each output section's header index; an omitted section has its
    /// neighbour's (see [`omitted_neighbours`]), 0 until `finish` gives it.
    pub out_index: Vec<u32>,
    /// Under `-r`: the output header index of each kept input SHT_GROUP
    /// section, keyed by (file, section). GCC names groups by local symbols
    /// defined in the group section itself, so these must stay resolvable.
    pub group_headers: rustc_hash::FxHashMap<(FileId, u32), u32>,
    pub groups: Vec<GroupSection>,
    pub shstrtab: Vec<u8>,
    pub shdr_offset: u64,
    pub file_size: u64,
    pub symtab_index: u32,
}

fn shdr(content: Content, name: &[u8], sh_type: u32) -> Shdr {
    Shdr {
        content,
        name: name.to_vec(),
        name_off: 0,
        sh_type,
        flags: 0,
        addr: 0,
        offset: 0,
        size: 0,
        link: 0,
        info: 0,
        align: 1,
        entsize: 0,
    }
}

/// Orders the section headers and gives every output section and
/// relocation table its index. Under `-r`, groups come first (the ELF spec
/// wants a group before its members) and each section is followed by its
/// `.rela`; in an executable the `.rela` tables follow all sections.
pub fn assign_indices(
    res: &Resolution,
    sections: &Sections,
    relas: &mut [RelaTable],
    relocatable: bool,
    with_symtab: bool,
) -> Toc {
    // The null header is all zeros, alignment included, as GNU ld writes it.
    let mut shdrs = vec![Shdr {
        align: 0,
        ..shdr(Content::Null, b"", elf::SHT_NULL)
    }];
    let mut groups: Vec<GroupSection> = Vec::new();
    // Groups in order of first appearance, and each output section's group.
    let mut group_of: rustc_hash::FxHashMap<(FileId, u32), usize> =
        rustc_hash::FxHashMap::default();
    let mut group_headers = rustc_hash::FxHashMap::default();
    let mut out_index = vec![0u32; sections.out.len()];
    if relocatable {
        for o in &sections.out {
            if let Some((file, group)) = o.group {
                group_of.entry((file, group)).or_insert_with(|| {
                    groups.push(GroupSection {
                        file,
                        group,
                        section: 0,
                        members: Vec::new(),
                    });
                    groups.len() - 1
                });
            }
        }
        for g in groups.iter_mut() {
            g.section = res.objects[g.file as usize].groups[g.group as usize].section;
        }
        for (i, g) in groups.iter().enumerate() {
            group_headers.insert((g.file, g.section), shdrs.len() as u32);
            let mut h = shdr(Content::Group(i as u32), b".group", elf::SHT_GROUP);
            h.align = 4;
            h.entsize = 4;
            shdrs.push(h);
        }
    }
    let rela_of: rustc_hash::FxHashMap<u32, usize> = relas
        .iter()
        .enumerate()
        .map(|(i, t)| (t.target, i))
        .collect();
    for (i, o) in sections.out.iter().enumerate() {
        if o.omitted {
            continue;
        }
        out_index[i] = shdrs.len() as u32;
        shdrs.push(shdr(Content::Out(i as u32), &o.name, o.sh_type));
        if relocatable {
            if let Some(&t) = rela_of.get(&(i as u32)) {
                relas[t].index = shdrs.len() as u32;
                shdrs.push(shdr(
                    Content::Rela(t as u32),
                    &[b".rela", &o.name[..]].concat(),
                    elf::SHT_RELA,
                ));
            }
        }
    }
    if !relocatable {
        for (t, table) in relas.iter_mut().enumerate() {
            table.index = shdrs.len() as u32;
            let name = [b".rela", &sections.out[table.target as usize].name[..]].concat();
            shdrs.push(shdr(Content::Rela(t as u32), &name, elf::SHT_RELA));
        }
    }
    for (i, o) in sections.out.iter().enumerate() {
        if let Some(&g) = o.group.and_then(|k| group_of.get(&k)) {
            groups[g].members.push(out_index[i]);
            if let Some(&t) = rela_of.get(&(i as u32)) {
                groups[g].members.push(relas[t].index);
            }
        }
    }
    let mut symtab_index = 0;
    if with_symtab {
        symtab_index = shdrs.len() as u32;
        shdrs.push(shdr(Content::Symtab, b".symtab", elf::SHT_SYMTAB));
        // Extended section numbering needs the symbol table's shndx companion.
        if shdrs.len() + 3 >= usize::from(elf::SHN_LORESERVE) {
            shdrs.push(shdr(
                Content::SymtabShndx,
                b".symtab_shndx",
                elf::SHT_SYMTAB_SHNDX,
            ));
        }
        shdrs.push(shdr(Content::Strtab, b".strtab", elf::SHT_STRTAB));
    }
    shdrs.push(shdr(Content::Shstrtab, b".shstrtab", elf::SHT_STRTAB));
    // Section names, without deduplication.
    let mut shstrtab = vec![0u8];
    for h in shdrs.iter_mut().skip(1) {
        h.name_off = shstrtab.len() as u32;
        shstrtab.extend_from_slice(&h.name);
        shstrtab.push(0);
    }
    Toc {
        shdrs,
        out_index,
        group_headers,
        groups,
        shstrtab,
        shdr_offset: 0,
        file_size: 0,
        symtab_index,
    }
}

impl Toc {
    pub fn has_shndx(&self) -> bool {
        self.shdrs.iter().any(|h| h.content == Content::SymtabShndx)
    }

    /// Gives each omitted section the header index of the neighbour GNU ld
    /// moves its symbols to (`_bfd_nearby_section`: the section before or
    /// after, whichever would share its segment). Run once addresses are
    /// known; 0 if every section is omitted.
    fn index_omitted(&mut self, sections: &Sections) {
        const ALLOC: u32 = 1;
        const TLS: u32 = 2;
        const LOAD: u32 = 4;
        const READONLY: u32 = 8;
        const CODE: u32 = 16;
        let bfd_flags = |o: &OutputSection| {
            // A section GNU ld's script made only for a symbol assignment
            // (`add_empty`) never had an input section's flags
            // given to it: 0, not even SEC_ALLOC.
            if o.chunks.is_empty() {
                return 0;
            }
            let f = |bit: u32, on: bool| if on { bit } else { 0 };
            f(ALLOC, o.is_alloc())
                | f(TLS, o.flags & u64::from(elf::SHF_TLS) != 0)
                | f(LOAD, o.is_alloc() && !o.is_nobits())
                | f(READONLY, o.flags & u64::from(elf::SHF_WRITE) == 0)
                | f(CODE, o.flags & u64::from(elf::SHF_EXECINSTR) != 0)
        };
        for i in 0..sections.out.len() {
            if !sections.out[i].omitted {
                continue;
            }
            let prev = (0..i).rev().find(|&k| !sections.out[k].omitted);
            let next = (i + 1..sections.out.len()).find(|&k| !sections.out[k].omitted);
            let s = &sections.out[i];
            let best = match (prev, next) {
                (None, None) => None,
                (None, Some(n)) => Some(n),
                (Some(p), None) => Some(p),
                (Some(p), Some(n)) => {
                    let (po, no) = (&sections.out[p], &sections.out[n]);
                    let (pf, nf, sf) = (bfd_flags(po), bfd_flags(no), bfd_flags(s));
                    let prefer_prev = if (pf ^ nf) & (ALLOC | TLS | LOAD) != 0 {
                        (nf ^ sf) & (ALLOC | TLS) != 0 || (pf & LOAD != 0 && nf & LOAD == 0)
                    } else if (pf ^ nf) & READONLY != 0 {
                        (nf ^ sf) & READONLY != 0
                    } else if (pf ^ nf) & CODE != 0 {
                        (nf ^ sf) & CODE != 0
                    } else {
                        s.addr < no.addr
                    };
                    Some(if prefer_prev { p } else { n })
                }
            };
            self.out_index[i] = best.map_or(0, |k| self.out_index[k]);
        }
    }

    /// Fills in every header's fields and gives the tables after the
    /// sections their file offsets, starting at `end` (where the laid-out
    /// sections stop).
    #[allow(clippy::too_many_arguments)]
    pub fn finish(
        &mut self,
        sections: &Sections,
        relas: &mut [RelaTable],
        symtab: Option<&SymtabPlan>,
        res: &Resolution,
        relocatable: bool,
        end: u64,
        version_counts: (u32, u32),
    ) {
        self.index_omitted(sections);
        let dyn_links = DynLinks::new(sections, &self.out_index, version_counts);
        let mut off = end;
        let symtab_index = self.symtab_index;
        let strtab_index = self
            .shdrs
            .iter()
            .position(|h| h.content == Content::Strtab)
            .unwrap_or(0) as u32;
        let nsyms = symtab.map(|s| s.len()).unwrap_or(0);
        for h in self.shdrs.iter_mut() {
            match h.content {
                Content::Null => {}
                Content::Out(i) => {
                    let o = &sections.out[i as usize];
                    h.flags = o.flags
                        | if o.group.is_some() {
                            u64::from(elf::SHF_GROUP)
                        } else {
                            0
                        };
                    h.addr = o.addr;
                    h.offset = o.offset;
                    h.size = o.size;
                    h.align = o.align;
                    h.entsize = o.entsize;
                    if o.sh_type == elf::SHT_NOBITS && !o.is_alloc() {
                        h.offset = off;
                    }
                    // SHF_LINK_ORDER sections name the section they follow.
                    if o.flags & u64::from(elf::SHF_LINK_ORDER) != 0 {
                        h.link = link_order_target(res, sections, &self.out_index, o);
                    }
                    if let Some((link, info)) = dyn_links.as_ref().and_then(|d| d.of(o)) {
                        (h.link, h.info) = (link, info);
                    }
                    continue;
                }
                Content::Rela(t) => {
                    let table = &mut relas[t as usize];
                    off = align_up(off, 8);
                    table.offset = off;
                    h.offset = off;
                    h.size = table.partition.total();
                    h.align = 8;
                    h.entsize = 24;
                    h.link = symtab_index;
                    h.info = self.out_index[table.target as usize];
                    let in_group =
                        relocatable && sections.out[table.target as usize].group.is_some();
                    h.flags = u64::from(elf::SHF_INFO_LINK)
                        | if in_group {
                            u64::from(elf::SHF_GROUP)
                        } else {
                            0
                        };
                }
                Content::Group(g) => {
                    let gs = &self.groups[g as usize];
                    let obj = &res.objects[gs.file as usize];
                    let sig = obj.groups[gs.group as usize].signature_symbol as usize;
                    off = align_up(off, 4);
                    h.offset = off;
                    h.size = 4 * (1 + gs.members.len() as u64);
                    h.link = symtab_index;
                    h.info = symtab.map(|s| s.out_index(sections, obj, sig)).unwrap_or(0);
                }
                Content::Symtab => {
                    off = align_up(off, 8);
                    h.offset = off;
                    h.size = nsyms * SYM_SIZE;
                    h.align = 8;
                    h.entsize = SYM_SIZE;
                    h.link = strtab_index;
                    h.info = symtab.map(|s| s.first_global).unwrap_or(0);
                }
                Content::SymtabShndx => {
                    off = align_up(off, 4);
                    h.offset = off;
                    h.size = 4 * nsyms;
                    h.align = 4;
                    h.entsize = 4;
                    h.link = symtab_index;
                }
                Content::Strtab => {
                    h.offset = off;
                    h.size = symtab.map(|s| s.strings.total()).unwrap_or(0);
                }
                Content::Shstrtab => {
                    h.offset = off;
                    h.size = self.shstrtab.len() as u64;
                }
            }
            off += h.size;
        }
        self.shdr_offset = align_up(off, 8);
        self.file_size = self.shdr_offset + SHDR_SIZE * self.shdrs.len() as u64;
    }
}

/// Range `read` of `buf` to read and range `write` to write, if they are
/// disjoint and inside it.
fn read_and_write(
    buf: &mut [u8],
    read: std::ops::Range<u64>,
    write: std::ops::Range<u64>,
) -> Option<(&[u8], &mut [u8])> {
    let r = usize::try_from(read.start).ok()?..usize::try_from(read.end).ok()?;
    let w = usize::try_from(write.start).ok()?..usize::try_from(write.end).ok()?;
    if r.end.max(w.end) > buf.len() || r.start > r.end || w.start > w.end {
        return None;
    }
    if r.end <= w.start {
        let (lo, hi) = buf.split_at_mut(w.start);
        Some((lo.get(r)?, hi.get_mut(..w.end - w.start)?))
    } else if w.end <= r.start {
        let (lo, hi) = buf.split_at_mut(r.start);
        Some((hi.get(..r.end - r.start)?, lo.get_mut(w)?))
    } else {
        None
    }
}

/// The header indices the tables of a dynamic output link to, found once
/// (a `-r` output can have tens of thousands of sections).
struct DynLinks {
    dynsym: u32,
    dynstr: u32,
    got_plt: u32,
    /// The entries of `.gnu.version_r` and `.gnu.version_d`.
    verneed_count: u32,
    verdef_count: u32,
}

impl DynLinks {
    /// None when the output has no `.dynsym`.
    fn new(sections: &Sections, out_index: &[u32], version_counts: (u32, u32)) -> Option<DynLinks> {
        let index = |name: &[u8]| {
            (sections.out.iter())
                .position(|s| s.name == name)
                .map(|i| out_index[i])
        };
        Some(DynLinks {
            dynsym: index(b".dynsym")?,
            dynstr: index(b".dynstr").unwrap_or(0),
            got_plt: index(b".got.plt").unwrap_or(0),
            verneed_count: version_counts.0,
            verdef_count: version_counts.1,
        })
    }

    /// `sh_link` and `sh_info` of table `o`: the string or symbol table it
    /// refers to (`.rela.plt` also names `.got.plt`, which it relocates).
    fn of(&self, o: &OutputSection) -> Option<(u32, u32)> {
        Some(match o.sh_type {
            elf::SHT_DYNSYM => (self.dynstr, 1),
            elf::SHT_GNU_HASH | elf::SHT_HASH | elf::SHT_GNU_VERSYM => (self.dynsym, 0),
            elf::SHT_GNU_VERNEED => (self.dynstr, self.verneed_count),
            elf::SHT_GNU_VERDEF => (self.dynstr, self.verdef_count),
            elf::SHT_DYNAMIC => (self.dynstr, 0),
            elf::SHT_RELA if o.name == b".rela.plt" => (self.dynsym, self.got_plt),
            elf::SHT_RELA if o.is_alloc() => (self.dynsym, 0),
            _ => return None,
        })
    }
}

/// The output section index an SHF_LINK_ORDER section's inputs link to
/// (that of its first chunk; 0 when that section was dropped).
fn link_order_target(
    res: &Resolution,
    sections: &Sections,
    out_index: &[u32],
    o: &OutputSection,
) -> u32 {
    o.chunks
        .iter()
        .find_map(|c| match c.kind {
            ChunkKind::Input { file, sec } => {
                let link = res.objects[file as usize].sections[sec as usize].link;
                let p = *sections.placement[file as usize].get(link as usize)?;
                p.is_placed().then(|| out_index[p.out as usize])
            }
            ChunkKind::Synthetic(_) => None,
        })
        .unwrap_or(0)
}

/// Everything the write phase reads.
pub struct WriteCtx<'a> {
    pub res: &'a Resolution<'a>,
    pub sections: &'a Sections,
    pub relas: &'a [RelaTable],
    pub toc: &'a Toc,
    pub symtab: Option<&'a SymtabPlan>,
    pub symtab_ctx: Option<SymtabCtx<'a>>,
    pub records: RecordCtx<'a>,
    pub apply: Option<ApplyCtx<'a>>,
    pub got: Option<&'a GotPlan>,
    pub phdrs: &'a [Segment],
    pub entry: u64,
    pub build_id: &'a BuildId,
    /// The merged `.note.gnu.property` ([`crate::resolve::gnu_property`]).
    pub gnu_property: &'a [u8],
    /// IFUNC stubs start with `endbr64` (IBT in the output's properties).
    pub ibt_plt: bool,
    pub mode: crate::resolve::mode::OutputMode,
    /// The dynamic tables' plan, in a dynamic output.
    pub dynamic: Option<&'a crate::write::dynamic::DynPlan>,
    /// `.relr.dyn`'s addresses, sorted, and how its writers split them.
    pub relr: Option<&'a crate::write::dynamic::write::RelrTable>,
}

/// A piece of the output file: a run of bytes written by one kind of writer.
#[derive(Clone, Copy)]
enum Piece {
    Header,
    Out(u32),
    Rela(u32),
    Group(u32),
    Symtab,
    Shndx,
    Strtab,
    Shstrtab,
    Shdrs,
}

fn scaled(p: &Partition, k: u64) -> Partition {
    let counts: Vec<u64> = (0..p.units()).map(|i| p.size(i) * k).collect();
    Partition::from_counts(&counts)
}

/// With RIVET_SCALING_MODEL set, the time of every unit of the write phase,
/// for [`crate::scaling::report`]; otherwise nothing is timed.
struct UnitTimes(Option<parking_lot::Mutex<Vec<std::time::Duration>>>);

impl UnitTimes {
    fn run(&self, unit: impl FnOnce() -> Result<()>) -> Result<()> {
        let Some(times) = &self.0 else {
            return unit();
        };
        let start = std::time::Instant::now();
        let r = unit();
        times.lock().push(start.elapsed());
        r
    }
}

impl WriteCtx<'_> {
    /// Splits `buf` (the whole mapped output) into disjoint slices and
    /// writes them all in parallel, then the pieces that read others.
    pub fn write(&self, buf: &mut [u8]) -> Result<()> {
        if buf.len() as u64 != self.toc.file_size {
            bail!(
                "internal error: output mapped at {} bytes, laid out for {}",
                buf.len(),
                self.toc.file_size
            );
        }
        // The serial part of the phase: two passes over the section headers,
        // which stream. Output sections come first, then the tables rivet
        // builds (relocations, groups, symbols), each in header order, which
        // is file order: two sorted runs, which the sort merges in one pass.
        let header_len = EHDR_SIZE + PHDR_SIZE * self.phdrs.len() as u64;
        let mut pieces: Vec<(u64, u64, Piece)> = Vec::with_capacity(self.toc.shdrs.len() + 2);
        pieces.push((0, header_len, Piece::Header));
        for h in &self.toc.shdrs {
            match h.content {
                Content::Out(_) if h.sh_type == elf::SHT_NOBITS || h.size == 0 => {}
                Content::Out(i) => pieces.push((h.offset, h.size, Piece::Out(i))),
                _ => {}
            }
        }
        for h in &self.toc.shdrs {
            let p = match h.content {
                Content::Null | Content::Out(_) => continue,
                Content::Rela(t) => Piece::Rela(t),
                Content::Group(g) => Piece::Group(g),
                Content::Symtab => Piece::Symtab,
                Content::SymtabShndx => Piece::Shndx,
                Content::Strtab => Piece::Strtab,
                Content::Shstrtab => Piece::Shstrtab,
            };
            pieces.push((h.offset, h.size, p));
        }
        pieces.push((
            self.toc.shdr_offset,
            SHDR_SIZE * self.toc.shdrs.len() as u64,
            Piece::Shdrs,
        ));
        pieces.sort_by_key(|p| p.0);

        // The symbol table, its SHN_XINDEX table and its strings are written
        // together, unit by unit, once all three slices are out; every other
        // piece is written as soon as its slice is.
        let times = UnitTimes(crate::scaling::requested().then(Default::default));
        let symbol_slices = parking_lot::Mutex::new([None, None, None]);
        par_for_each_range(
            buf,
            0,
            &pieces,
            &|p| (p.0, p.1),
            &|&(_, _, piece), slice| {
                let at = match piece {
                    Piece::Symtab => 0,
                    Piece::Shndx => 1,
                    Piece::Strtab => 2,
                    _ => return self.write_piece(piece, slice, &times),
                };
                symbol_slices.lock()[at] = Some(slice);
                Ok(())
            },
        )?;
        let [symtab, shndx, strtab] = symbol_slices.into_inner();
        self.write_symbols(symtab, shndx, strtab, &times)?;
        if let Some(times) = times.0 {
            crate::scaling::report(&times.into_inner());
        }
        Ok(())
    }

    /// Writes one piece; a section's contents and its relocation records
    /// are split into their input sections' slices as they are written
    /// ([`Partition::par_for_each`]).
    fn write_piece(&self, piece: Piece, buf: &mut [u8], times: &UnitTimes) -> Result<()> {
        match piece {
            Piece::Header => times.run(|| self.write_headers(buf)),
            Piece::Out(i) => {
                let out = &self.sections.out[i as usize];
                out.partition.par_for_each(buf, &|c, b| {
                    times.run(|| self.write_chunk(out, &out.chunks[c], b))
                })
            }
            Piece::Rela(t) => {
                let out = &self.sections.out[self.relas[t as usize].target as usize];
                self.relas[t as usize].partition.par_for_each(buf, &|c, b| {
                    times.run(|| {
                        crate::write::relocs::write_chunk(&self.records, out, &out.chunks[c], b)
                    })
                })
            }
            Piece::Group(g) => times.run(|| {
                let gs = &self.toc.groups[g as usize];
                let obj = &self.res.objects[gs.file as usize];
                let flags = if obj.groups[gs.group as usize].comdat {
                    elf::GRP_COMDAT
                } else {
                    0
                };
                let mut f = Filler::new(buf);
                f.put(&flags.to_le_bytes())?;
                for m in &gs.members {
                    f.put(&m.to_le_bytes())?;
                }
                Ok(f.finish()?)
            }),
            Piece::Shstrtab => times.run(|| {
                let mut f = Filler::new(buf);
                f.put(&self.toc.shstrtab)?;
                Ok(f.finish()?)
            }),
            Piece::Shdrs => times.run(|| self.write_shdrs(buf)),
            Piece::Symtab | Piece::Shndx | Piece::Strtab => {
                bail!("internal error: symbol table piece written on its own")
            }
        }
    }

    /// `.symtab`, `.symtab_shndx` and `.strtab`, split alike into the
    /// symbol table's units, each unit written by one task.
    fn write_symbols(
        &self,
        symtab: Option<&mut [u8]>,
        shndx: Option<&mut [u8]>,
        strtab: Option<&mut [u8]>,
        times: &UnitTimes,
    ) -> Result<()> {
        let (Some(plan), Some(ctx), Some(syms), Some(strs)) =
            (self.symtab, &self.symtab_ctx, symtab, strtab)
        else {
            return Ok(());
        };
        let syms = scaled(&plan.entries, SYM_SIZE).split(syms);
        let strs = plan.strings.split(strs);
        let shndx: Vec<Option<&mut [u8]>> = match shndx {
            Some(x) => scaled(&plan.entries, 4)
                .split(x)
                .into_iter()
                .map(Some)
                .collect(),
            None => (0..plan.entries.units()).map(|_| None).collect(),
        };
        syms.into_par_iter()
            .zip(strs)
            .zip(shndx)
            .enumerate()
            .try_for_each(|(unit, ((sy, st), x))| times.run(|| ctx.write_unit(unit, sy, st, x)))
    }

    fn write_chunk(&self, out: &OutputSection, chunk: &Chunk, buf: &mut [u8]) -> Result<()> {
        let total = buf.len() as u64;
        let mut f = Filler::new(buf);
        let pad = total
            .checked_sub(chunk.size)
            .ok_or_else(|| err!("internal error: chunk larger than its slice"))?;
        if out.flags & u64::from(elf::SHF_EXECINSTR) != 0 {
            crate::arch::x86_64::code_fill(f.take(pad as usize)?);
        } else {
            f.zeros(pad as usize)?;
        }
        let data = f.take(chunk.size as usize)?;
        match chunk.kind {
            ChunkKind::Input { file, sec } => {
                let obj = &self.res.objects[file as usize];
                copy_input(obj, sec, chunk, data);
                if let Some(apply) = &self.apply {
                    apply.apply(obj, sec, out, chunk, data)?;
                }
            }
            ChunkKind::Synthetic(kind) => {
                self.write_synthetic(kind, out.addr + chunk.offset, data)?
            }
        }
        Ok(f.finish()?)
    }

    fn write_synthetic(&self, kind: Synthetic, addr: u64, data: &mut [u8]) -> Result<()> {
        if kind == Synthetic::GnuProperty {
            // Under `-r` too: its bytes do not depend on addresses.
            let mut f = Filler::new(data);
            f.put(self.gnu_property)?;
            return Ok(f.finish()?);
        }
        let (Some(got), Some(apply)) = (self.got, &self.apply) else {
            data.fill(0);
            return Ok(());
        };
        if let (Synthetic::Dyn(table), Some(plan)) = (kind, self.dynamic) {
            let w = crate::write::dynamic::write::DynWriter {
                apply,
                plan,
                mode: self.mode,
                relr: self.relr,
                out_index: &self.toc.out_index,
            };
            return w.write(table, addr, data);
        }
        let values = apply.values;
        let len = data.len();
        let mut f = Filler::new(data);
        match kind {
            Synthetic::Got => {
                let mode = got.mode.unwrap_or(crate::resolve::mode::OutputMode::Static);
                for &(r, k) in &got.got {
                    let class = got.classes.of(self.res, r);
                    let v = match crate::arch::x86_64::got_record(mode, class, k) {
                        // The loader writes it.
                        crate::arch::x86_64::GotRecord::Symbolic(_) => 0,
                        _ => apply.got_value(r, k),
                    };
                    f.put(&v.to_le_bytes())?;
                }
            }
            Synthetic::GotPlt => {
                // The first reserved word is `.dynamic`'s address (the
                // loader fills the other two); a static executable's
                // stay zero. Each lazy slot first points back at its
                // `.plt` entry's `push`.
                let dynamic = self.sections.find(b".dynamic").map_or(0, |o| o.addr);
                f.put(&dynamic.to_le_bytes())?;
                f.zeros(16)?;
                for i in 0..got.plt.len() as u64 {
                    let entry = values.plt_addr + crate::layout::got::PLT_ENTRY * (i + 1);
                    // The IBT form's lazy entry starts with its push
                    // after `endbr64`; the plain one's is 6 bytes in.
                    let push = if values.plt_sec_addr.is_some() {
                        entry
                    } else {
                        entry + 6
                    };
                    f.put(&push.to_le_bytes())?;
                }
                f.zeros(8 * got.iplt.len())?;
            }
            Synthetic::Iplt => {
                for slot in 0..got.iplt.len() as u64 {
                    let stub = addr + crate::layout::got::IPLT_ENTRY * slot;
                    let target = values.gotplt_addr + got.iplt_slot(slot);
                    // With IBT, GNU ld's stub: endbr64, then the jump
                    // (an indirect call to the stub must land on endbr64).
                    let jmp = if self.ibt_plt {
                        f.put(&[0xf3, 0x0f, 0x1e, 0xfa])?;
                        stub + 4
                    } else {
                        stub
                    };
                    let disp = target.wrapping_sub(jmp + 6) as i64;
                    let disp = i32::try_from(disp)
                        .map_err(|_| err!("IFUNC slot out of range of its stub"))?;
                    f.put(&[0xff, 0x25])?;
                    f.put(&disp.to_le_bytes())?;
                    if self.ibt_plt {
                        f.put(&[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00])?;
                    } else {
                        f.put(&[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00, 0x0f, 0x1f, 0x40, 0x00])?;
                    }
                }
            }
            Synthetic::RelaIplt => {
                for (slot, &r) in got.iplt.iter().enumerate() {
                    let target = values.gotplt_addr + got.iplt_slot(slot as u64);
                    let resolver = values.raw_value(self.res, self.sections, r);
                    f.put(&target.to_le_bytes())?;
                    f.put(&u64::from(elf::R_X86_64_IRELATIVE).to_le_bytes())?;
                    f.put(&resolver.to_le_bytes())?;
                }
            }
            Synthetic::Commons => f.zeros(len)?,
            // Written after everything else: they read the rest of the file.
            Synthetic::EhFrameHdr => f.zeros(len)?,
            Synthetic::Comment => f.put(crate::layout::COMMENT)?,
            Synthetic::GnuProperty => f.put(self.gnu_property)?,
            Synthetic::Dyn(_) => bail!("internal error: {kind:?} without a dynamic plan"),
            Synthetic::BuildIdNote => {
                let desc = len - 16;
                f.put(&4u32.to_le_bytes())?;
                f.put(&(desc as u32).to_le_bytes())?;
                f.put(&elf::NT_GNU_BUILD_ID.to_le_bytes())?;
                f.put(b"GNU\0")?;
                f.zeros(desc)?; // hashed as zeros, then filled in
            }
        }
        Ok(f.finish()?)
    }

    /// GNU ld's rule for ELFOSABI_GNU: a loaded file has a global IFUNC or
    /// GNU_UNIQUE symbol, or (`-r`) an output section is SHF_GNU_RETAIN.
    fn uses_gnu_extensions(&self) -> bool {
        // SHF_GNU_RETAIN only counts in a relocatable output: a PIE
        // keeps the flag and stays ELFOSABI_NONE, as with GNU ld.
        let retain = self.mode == crate::resolve::mode::OutputMode::Relocatable
            && self
                .sections
                .out
                .iter()
                .any(|o| o.flags & u64::from(elf::SHF_GNU_RETAIN) != 0);
        self.res.objects.iter().any(|o| o.uses_gnu_symbols) || retain
    }

    fn write_headers(&self, b: &mut [u8]) -> Result<()> {
        let relocatable = self.phdrs.is_empty();
        let shnum = self.toc.shdrs.len() as u64;
        let shstrndx = (self.toc.shdrs.len() - 1) as u64;
        let mut f = Filler::new(b);
        let mut ident = [0u8; 16];
        ident[..4].copy_from_slice(b"\x7fELF");
        ident[4] = elf::ELFCLASS64;
        ident[5] = elf::ELFDATA2LSB;
        ident[6] = elf::EV_CURRENT;
        if self.uses_gnu_extensions() {
            ident[7] = elf::ELFOSABI_GNU;
        }
        f.put(&ident)?;
        let e_type = match self.mode {
            crate::resolve::mode::OutputMode::Relocatable => elf::ET_REL,
            crate::resolve::mode::OutputMode::Pie
            | crate::resolve::mode::OutputMode::StaticPie
            | crate::resolve::mode::OutputMode::Shared => elf::ET_DYN,
            _ => elf::ET_EXEC,
        };
        f.put(&e_type.to_le_bytes())?;
        f.put(&elf::EM_X86_64.to_le_bytes())?;
        f.put(&u32::from(elf::EV_CURRENT).to_le_bytes())?;
        f.put(&self.entry.to_le_bytes())?;
        f.put(&(if relocatable { 0u64 } else { EHDR_SIZE }).to_le_bytes())?;
        f.put(&self.toc.shdr_offset.to_le_bytes())?;
        f.put(&0u32.to_le_bytes())?; // e_flags
        f.put(&(EHDR_SIZE as u16).to_le_bytes())?;
        f.put(&(if relocatable { 0u16 } else { PHDR_SIZE as u16 }).to_le_bytes())?;
        f.put(&(self.phdrs.len() as u16).to_le_bytes())?;
        f.put(&(SHDR_SIZE as u16).to_le_bytes())?;
        // Extended numbering: counts past SHN_LORESERVE live in section 0.
        let lo = u64::from(elf::SHN_LORESERVE);
        f.put(&(if shnum >= lo { 0 } else { shnum as u16 }).to_le_bytes())?;
        f.put(
            &(if shstrndx >= lo {
                elf::SHN_XINDEX
            } else {
                shstrndx as u16
            })
            .to_le_bytes(),
        )?;
        for p in self.phdrs {
            f.put(&p.p_type.to_le_bytes())?;
            f.put(&p.flags.to_le_bytes())?;
            f.put(&p.offset.to_le_bytes())?;
            f.put(&p.vaddr.to_le_bytes())?;
            f.put(&p.vaddr.to_le_bytes())?;
            f.put(&p.filesz.to_le_bytes())?;
            f.put(&p.memsz.to_le_bytes())?;
            f.put(&p.align.to_le_bytes())?;
        }
        Ok(f.finish()?)
    }

    fn write_shdrs(&self, b: &mut [u8]) -> Result<()> {
        let mut f = Filler::new(b);
        let lo = u64::from(elf::SHN_LORESERVE);
        let shnum = self.toc.shdrs.len() as u64;
        let shstrndx = shnum - 1;
        for (i, h) in self.toc.shdrs.iter().enumerate() {
            let (mut size, mut link) = (h.size, h.link);
            if i == 0 {
                size = if shnum >= lo { shnum } else { 0 };
                link = if shstrndx >= lo { shstrndx as u32 } else { 0 };
            }
            f.put(&h.name_off.to_le_bytes())?;
            f.put(&h.sh_type.to_le_bytes())?;
            f.put(&h.flags.to_le_bytes())?;
            f.put(&h.addr.to_le_bytes())?;
            f.put(&h.offset.to_le_bytes())?;
            f.put(&size.to_le_bytes())?;
            f.put(&link.to_le_bytes())?;
            f.put(&h.info.to_le_bytes())?;
            f.put(&h.align.to_le_bytes())?;
            f.put(&h.entsize.to_le_bytes())?;
        }
        Ok(f.finish()?)
    }

    /// The pieces that read the rest of the written file: `.eh_frame_hdr`
    /// (from the relocated `.eh_frame`) and the build ID (a hash of it all).
    pub fn write_late(&self, buf: &mut [u8]) -> Result<()> {
        if let (Some(hdr), Some(eh)) = (
            self.sections.find(b".eh_frame_hdr"),
            self.sections.find(b".eh_frame"),
        ) {
            // `.eh_frame_hdr` comes first, unless odd input flags moved
            // `.eh_frame` (a writable or executable one sorts later).
            let (eh_bytes, out) = read_and_write(
                buf,
                eh.offset..eh.offset + eh.size,
                hdr.offset..hdr.offset + hdr.size,
            )
            .ok_or_else(|| err!("internal error: .eh_frame and .eh_frame_hdr overlap"))?;
            let table = crate::input::ehframe::fde_table(eh_bytes, eh.addr)?;
            crate::input::ehframe::write_hdr(out, hdr.addr, eh.addr, table)?;
        }
        if let Some((off, len)) = self.build_id_desc() {
            let id = match self.build_id {
                BuildId::Fixed(v) => v.clone(),
                BuildId::Uuid => {
                    let mut v = vec![0u8; 16];
                    std::fs::File::open("/dev/urandom")
                        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut v))
                        .map_err(|e| {
                            err!("rivet: --build-id=uuid: cannot read /dev/urandom: {e}")
                        })?;
                    v[6] = (v[6] & 0x0f) | 0x40;
                    v[8] = (v[8] & 0x3f) | 0x80;
                    v
                }
                BuildId::Hash(n) => content_hash(buf)[..*n].to_vec(),
                BuildId::None => return Ok(()),
            };
            buf[off as usize..][..len as usize].copy_from_slice(&id);
        }
        Ok(())
    }

    fn build_id_desc(&self) -> Option<(u64, u64)> {
        self.sections.out.iter().find_map(|o| {
            o.chunks
                .iter()
                .find(|c| c.kind == ChunkKind::Synthetic(Synthetic::BuildIdNote))
                .map(|c| (o.offset + c.offset + 16, c.size - 16))
        })
    }
}

/// The hash a build ID is cut from: BLAKE3 of the whole output (with the
/// build ID's own bytes still zero), computed on every worker thread. A
/// stable function of the output's bytes; GNU ld's value is a SHA-1 or MD5
/// of them instead, which nothing can check without relinking.
pub fn content_hash(buf: &[u8]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update_rayon(buf);
    *h.finalize().as_bytes()
}

/// Size of the build-id note for `id`.
pub fn build_id_note_size(id: &BuildId) -> Option<u64> {
    match id {
        BuildId::None => None,
        BuildId::Hash(n) => Some(16 + align_up(*n as u64, 4)),
        BuildId::Uuid => Some(32),
        BuildId::Fixed(v) => Some(16 + align_up(v.len() as u64, 4)),
    }
}
