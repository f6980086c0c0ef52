//! Layout, phase 2: the output sections in their final order, with the
//! linker's own tables among them, and every chunk's offset inside its
//! section.
//!
//! Takes the [`SectionMap`] (by value: from here on it is this phase's)
//! and the synthetic tables, sized from the counts of the scans that read
//! the map ([`crate::layout::synthetic`]). Hands on a [`SectionOrder`]:
//! sizes, order and chunk offsets final, no address or file offset yet.

use crate::layout::synthetic::SyntheticTable;
use crate::layout::{
    align_up, merge, symvals, Chunk, ChunkKind, DynTable, OutputSection, SectionMap, SectionOrder,
    Sections, Synthetic,
};
use crate::partition::Partition;
use crate::resolve::Resolution;
use object::elf;
use rayon::prelude::*;

/// What the order phase needs of the command line and earlier phases.
pub struct OrderOptions {
    /// `--emit-relocs`: empty sections made of input sections keep their
    /// headers, as GNU ld keeps them.
    pub emit_relocs: bool,
    /// `-r`: whether the merged `.note.GNU-stack` says the stack is
    /// executable ([`crate::resolve::exec_stack`]), if that was decided.
    pub exec_stack: Option<bool>,
}

/// Builds the [`SectionOrder`].
pub fn order(
    map: SectionMap,
    res: &Resolution,
    tables: &[SyntheticTable],
    opts: &OrderOptions,
) -> SectionOrder {
    let mut s = map.0;
    if s.mode.is_exe() {
        for t in tables {
            s.add_synthetic(t); //                                the linker's tables
        }
        s.plt_entries_first(); //                                 lazy PLT before the IFUNC stubs
        symvals::add_script_sections(res, &mut s); //            .preinit_array for __preinit_array_start, ...
        s.sort_for_executable(); //                              GNU ld's section order
        s.layout_chunks(); //                                    chunk offsets (prefix sums)
        merge::place_pieces(&mut s); //                          where merged pieces landed
        s.omit_empty(opts.emit_relocs); //                       no header for empty sections
    } else {
        s.mark_stack_note(opts.exec_stack); //                   the merged .note.GNU-stack's X flag
        for t in tables {
            s.add_synthetic_first(t); //                          the merged .note.gnu.property
        }
        s.layout_chunks(); //                                    chunk offsets (prefix sums)
    }
    SectionOrder(s)
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
pub(super) fn layout_section(o: &mut OutputSection) {
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

impl Sections {
    /// `-r`: the merged `.note.GNU-stack` (if an input had one) says
    /// whether the stack must be executable, as [`crate::resolve::exec_stack`]
    /// decided from `-z` or the inputs (GNU ld sets or clears its
    /// SHF_EXECINSTR the same way).
    fn mark_stack_note(&mut self, exec: Option<bool>) {
        let Some(exec) = exec else { return };
        if let Some(o) = self.out.iter_mut().find(|o| o.name == b".note.GNU-stack") {
            let x = u64::from(elf::SHF_EXECINSTR);
            o.flags = if exec { o.flags | x } else { o.flags & !x };
        }
    }

    /// Adds a synthetic chunk, creating its output section if needed.
    fn add_synthetic(&mut self, t: &SyntheticTable) {
        let SyntheticTable {
            name,
            sh_type,
            flags,
            kind,
            size,
            align,
            entsize,
        } = *t;
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
        if let Some(e) = entsize {
            o.entsize = e;
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
    fn add_synthetic_first(&mut self, t: &SyntheticTable) {
        let new = self.find(t.name).is_none();
        self.add_synthetic(t);
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

    /// The IFUNC stubs of a dynamic output come after the lazy entries in
    /// the same `.plt` (GNU ld's layout).
    fn plt_entries_first(&mut self) {
        if let Some(o) = self.out.iter_mut().find(|o| o.name == b".plt") {
            o.chunks
                .sort_by_key(|c| c.kind != ChunkKind::Synthetic(Synthetic::Dyn(DynTable::Plt)));
        }
    }

    /// Lays out chunks inside each section: offsets with alignment, sizes,
    /// and the partition the writers split the section by.
    fn layout_chunks(&mut self) {
        self.out.par_iter_mut().for_each(layout_section);
    }

    /// Gives synthetic chunk `kind` a new size and lays its section out
    /// again (`.relr.dyn`, whose size is known only from addresses).
    /// Returns whether the size changed.
    pub(super) fn resize_synthetic(&mut self, kind: Synthetic, size: u64) -> bool {
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
    fn sort_for_executable(&mut self) {
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
    fn omit_empty(&mut self, emit_relocs: bool) {
        for o in &mut self.out {
            o.omitted = o.size == 0 && (!emit_relocs || o.chunks.is_empty());
        }
    }

    /// Adds an output section without contents: one GNU ld's script makes
    /// for a symbol assignment inside it (`__preinit_array_start`) and then
    /// removes ([`Sections::omit_empty`]), so that the symbol has the
    /// address the section would have had.
    pub(super) fn add_empty(&mut self, name: &[u8], sh_type: u32, flags: u64) {
        self.out.push(OutputSection::new(name, sh_type, flags));
    }
}
