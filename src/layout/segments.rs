//! Layout, phase 3: addresses, file offsets and segments: where every
//! output section of an executable goes and which program headers
//! describe it (GNU ld's default script's order, RELRO, TLS, notes), and
//! the plain packing of `-r` output. Takes the [`SectionOrder`], whose
//! sizes are final but for one table that depends on the addresses
//! themselves (`.relr.dyn`), and hands on the [`OutputLayout`].

use crate::layout::{
    align_up, OutputLayout, OutputSection, SectionOrder, Sections, Segment, Synthetic, TlsInfo,
    EHDR_SIZE, PAGE, PHDR_SIZE,
};
use object::elf;

/// What placing an executable's sections depends on.
pub struct PlaceOptions {
    /// `PT_GNU_STACK`: none, or whether it is executable.
    pub exec_stack: Option<bool>,
    /// `-z stack-size=N`.
    pub stack_size: u64,
    /// `-z relro`.
    pub relro: bool,
    /// `-z now` in a dynamic output: `.got.plt` is read-only after startup too.
    pub bind_now: bool,
}

/// A synthetic table whose size depends on the addresses it describes
/// (`.relr.dyn` encodes them), and how to size it for given addresses.
pub type LateTable<'f> = (Synthetic, &'f mut dyn FnMut(&Sections) -> u64);

/// Builds the [`OutputLayout`].
pub fn place(order: SectionOrder, opts: &PlaceOptions, late: Option<LateTable>) -> OutputLayout {
    let mut s = order.0;
    if !s.mode.is_exe() {
        let end = s.place_relocatable(EHDR_SIZE);
        return OutputLayout {
            sections: s,
            phdrs: Vec::new(),
            tls: None,
            end,
        };
    }
    let place = |s: &mut Sections| {
        s.place_executable(opts.exec_stack, opts.stack_size, opts.relro, opts.bind_now)
    };
    let (mut phdrs, mut tls, mut end) = place(&mut s);
    if let Some((kind, size_of)) = late {
        // The table moves with the addresses it encodes: lay out again
        // until its size stays the same (RELR's encoding is the same under
        // a shift, so once or twice).
        for _ in 0..8 {
            let size = size_of(&s);
            if !s.resize_synthetic(kind, size) {
                break;
            }
            (phdrs, tls, end) = place(&mut s);
        }
    }
    OutputLayout {
        sections: s,
        phdrs,
        tls,
        end,
    }
}

/// The segment class of the RW data (TLS to `.bss`).
const RW_CLASS: u32 = 3;

/// Ranks inside the RELRO range: TLS, the init/fini arrays and `.ctors`/
/// `.dtors`, `.data.rel.ro`, `.dynamic`, `.got` (GNU ld's script puts them all before
/// `DATA_SEGMENT_RELRO_END`).
fn is_relro_rank(rank: u32) -> bool {
    (50..=59).contains(&rank)
}

/// What decides where the RELRO range of an executable goes.
struct RelroPlan {
    /// Size and alignment of each section in the range, in order; `.tbss`
    /// counts with its alignment only, as it takes no space.
    items: Vec<(u64, u64)>,
    /// Bytes of `.got.plt` inside the range: its three reserved words, as
    /// GNU ld's `DATA_SEGMENT_RELRO_END (SIZEOF (.got.plt) >= 24 ? 24 : 0, .)`.
    tail: u64,
}

impl RelroPlan {
    /// The plan for `out` (sorted), or None when there is nothing to protect.
    fn new(out: &[OutputSection], tls_align: u64, bind_now: bool) -> Option<RelroPlan> {
        let mut items = Vec::new();
        let mut tls_seen = false;
        // GNU ld drops the range when no section in it has bytes (`.tbss`
        // does not count: `lang_find_relro_sections`), `.got.plt` or not.
        let mut content = false;
        for o in out
            .iter()
            .filter(|o| o.is_alloc() && !o.omitted && is_relro_rank(o.rank))
        {
            let tbss = o.is_nobits() && o.flags & u64::from(elf::SHF_TLS) != 0;
            content |= o.size > 0 && !tbss;
            let mut align = o.align.max(1);
            if o.flags & u64::from(elf::SHF_TLS) != 0 && !tls_seen {
                tls_seen = true;
                align = align.max(tls_align);
            }
            let size = if o.is_nobits() { 0 } else { o.size };
            items.push((size, align));
        }
        let tail = match out.iter().find(|o| o.is_alloc() && o.name == b".got.plt") {
            // With `-z now` the loader fills every slot before the
            // range is protected (GNU ld's `-z now` script ends the range
            // after `.got.plt`).
            Some(g) if bind_now && segment_class(g.rank) == RW_CLASS => g.size,
            Some(g) if g.size >= 24 && segment_class(g.rank) == RW_CLASS => 24,
            _ => 0,
        };
        content.then_some(RelroPlan { items, tail })
    }

    /// Where the range starts if it must end at `end`: every section as
    /// late as its alignment allows (GNU ld's `lang_size_relro_segment`).
    fn start_for_end(&self, end: u64) -> u64 {
        let mut at = end.saturating_sub(self.tail);
        for &(size, align) in self.items.iter().rev() {
            at = at.saturating_sub(size) & !(align - 1);
        }
        at
    }

    /// The range (start, page-aligned end) with the lowest end whose start
    /// is at or after `lowest`.
    fn range(&self, lowest: u64) -> (u64, u64) {
        let total: u64 = self.items.iter().map(|i| i.0).sum::<u64>() + self.tail;
        let mut end = align_up(lowest + total, PAGE);
        while self.start_for_end(end) < lowest {
            end += PAGE;
        }
        (self.start_for_end(end), end)
    }
}

fn segment_class(rank: u32) -> u32 {
    match rank {
        0..=29 => 0,
        30..=39 => 1,
        40..=49 => 2,
        50..=69 => 3,
        70..=79 => 4,
        80..=99 => 5,
        _ => 6,
    }
}

impl Sections {
    /// Which segments an executable needs and where every section goes:
    /// assigns file offsets and addresses and returns the program headers.
    ///
    /// With `relro` (`-z relro`) the RW segment starts with the sections GNU
    /// ld's default script puts before `DATA_SEGMENT_RELRO_END` (TLS, the
    /// init/fini arrays, `.data.rel.ro`, `.got`) and the first 24 bytes of
    /// `.got.plt`, and a `PT_GNU_RELRO` covers them: static glibc makes that
    /// range read-only once its IRELATIVE relocations are applied. As GNU
    /// ld does, the segment's start is chosen so that the range ends on a
    /// page boundary.
    fn place_executable(
        &mut self,
        // `PT_GNU_STACK`: none, or whether it is executable.
        exec_stack: Option<bool>,
        stack_size: u64,
        relro: bool,
        // `-z now`: `.got.plt` is read-only after startup too.
        bind_now: bool,
    ) -> (Vec<Segment>, Option<TlsInfo>, u64) {
        // Segments present, to know how many program headers there are.
        // A segment of nothing but `.tbss` takes no memory: GNU ld makes no
        // `PT_LOAD` for it (only the `PT_TLS`).
        let classes: Vec<u32> = self
            .out
            .iter()
            .filter(|o| o.is_alloc() && !o.omitted && !o.is_tbss())
            .map(|o| segment_class(o.rank))
            .collect();
        let mut loads: Vec<u32> = vec![0];
        for c in &classes {
            if loads.last() != Some(c) {
                loads.push(*c);
            }
        }
        let has = |f: &dyn Fn(&OutputSection) -> bool| self.out.iter().any(f);
        let has_tls = has(&|o| o.flags & u64::from(elf::SHF_TLS) != 0 && !o.omitted);
        let note_runs = self.note_runs();
        let has_property = has(&|o| {
            o.is_alloc()
                && o.sh_type == elf::SHT_NOTE
                && o.name == crate::resolve::gnu_property::SECTION
        });
        let has_hdr = has(&|o| o.name == b".eh_frame_hdr");
        // A dynamic executable's loader reads its own program headers
        // (`PT_PHDR`), the interpreter's path and `.dynamic`.
        // An empty `.interp` (kept under `--emit-relocs`, or an input's)
        // names no interpreter: the kernel refuses a `PT_INTERP` of it.
        let is_interp =
            |o: &OutputSection| o.is_alloc() && !o.omitted && o.size > 0 && o.name == b".interp";
        let has_interp = has(&is_interp);
        let has_dynamic = has(&|o| o.is_alloc() && !o.omitted && o.sh_type == elf::SHT_DYNAMIC);
        // The TLS block starts aligned to its largest member, so that the
        // thread pointer offsets need no first-byte correction.
        let tls_align = self
            .out
            .iter()
            .filter(|o| o.flags & u64::from(elf::SHF_TLS) != 0 && !o.omitted)
            .map(|o| o.align)
            .max()
            .unwrap_or(1);
        let relro = if relro {
            RelroPlan::new(&self.out, tls_align, bind_now)
        } else {
            None
        };
        let nphdr = loads.len()
            + 2 * usize::from(has_interp)
            + usize::from(has_dynamic)
            + usize::from(exec_stack.is_some())
            + usize::from(has_tls)
            + note_runs.len()
            + usize::from(has_property)
            + usize::from(has_hdr)
            + usize::from(relro.is_some());
        let mut off = EHDR_SIZE + PHDR_SIZE * nphdr as u64;
        // Address minus file offset: constant inside a segment. A segment
        // after NOBITS sections (the large data after .bss) starts its file
        // bytes where the last ones ended rather than past the NOBITS.
        let mut delta = self.base;
        let mut file_end = off;
        let mut class = 0u32;
        let mut tls = None::<TlsInfo>;
        let mut tbss_end = 0u64;
        // The RELRO range: its start, and its page-aligned end once chosen.
        let mut relro_range = None::<(u64, u64)>;
        let mut relro_done = false;
        // Omitted sections since the last placed one.
        let mut pending: Vec<usize> = Vec::new();
        for i in 0..self.out.len() {
            let o = &mut self.out[i];
            if !o.is_alloc() {
                continue;
            }
            if o.omitted {
                // No bytes, no segment: its symbols take the address here.
                o.offset = off;
                o.addr = delta + off;
                pending.push(i);
                continue;
            }
            let c = segment_class(o.rank);
            if c != class {
                let addr = align_up(delta + off, PAGE);
                match &relro {
                    Some(plan) if c == RW_CLASS => {
                        // The segment starts where the RELRO range must
                        // start to end on a page boundary; its file offset
                        // only needs to be congruent with that address.
                        let (start, end) = plan.range(addr);
                        off = file_end + (start % PAGE + PAGE - file_end % PAGE) % PAGE;
                        delta = start - off;
                        relro_range = Some((start, end));
                    }
                    _ => {
                        off = align_up(file_end, PAGE);
                        delta = addr - off;
                    }
                }
                class = c;
                // Omitted sections of the new segment before its first
                // section start with it, as GNU ld's `.` is there already
                // (`__preinit_array_start` of a program without arrays).
                for &k in &pending {
                    let e = &mut self.out[k];
                    if segment_class(e.rank) == c {
                        e.offset = off;
                        e.addr = delta + off;
                    }
                }
            }
            pending.clear();
            let o = &mut self.out[i];
            if let (Some(plan), Some((_, end)), false) = (&relro, relro_range, relro_done) {
                if c == RW_CLASS && !is_relro_rank(o.rank) {
                    // GNU ld's DATA_SEGMENT_RELRO_END: pad so that the range
                    // (which takes in the first bytes of `.got.plt`) ends
                    // on the page boundary.
                    let at = end - plan.tail;
                    if delta + off <= at {
                        off = at - delta;
                    } else {
                        relro_range = relro_range.map(|(s, _)| (s, delta + off + plan.tail));
                    }
                    relro_done = true;
                }
            }
            off = align_up(off, o.align);
            if o.flags & u64::from(elf::SHF_TLS) != 0 && tls.is_none() {
                off = align_up(off, tls_align);
            }
            o.offset = off;
            o.addr = delta + off;
            if !o.is_nobits() {
                file_end = off + o.size;
            }
            let is_tls = o.flags & u64::from(elf::SHF_TLS) != 0;
            if is_tls {
                let t = tls.get_or_insert(TlsInfo {
                    start: o.addr,
                    memsz: 0,
                    align: 1,
                });
                t.align = t.align.max(o.align);
                if o.is_nobits() {
                    // .tbss takes no space in the image: the next section
                    // starts where it does.
                    o.addr = align_up(o.addr.max(tbss_end), o.align);
                    t.memsz = o.addr + o.size - t.start;
                    tbss_end = o.addr + o.size;
                    continue;
                }
                t.memsz = o.addr + o.size - t.start;
                tbss_end = o.addr + o.size;
            }
            // NOBITS advances the address too; its file space is trimmed below.
            off += o.size;
        }
        // NOBITS sections end their segment: give back their file space.
        // The headers come first even when no section has bytes (an
        // object whose only section is empty).
        let mut file_end = EHDR_SIZE + PHDR_SIZE * nphdr as u64;
        for o in &self.out {
            if o.is_alloc() && !o.is_nobits() && !o.omitted {
                file_end = file_end.max(o.offset + o.size);
            }
        }
        let mut off = file_end;
        for o in self.out.iter_mut().filter(|o| !o.is_alloc()) {
            off = align_up(off, o.align);
            o.offset = off;
            o.addr = 0;
            off += o.file_size();
        }
        // Program headers.
        let mut phdrs = Vec::new();
        let table = |p_type: u32, o: &OutputSection, align: u64| Segment {
            p_type,
            flags: elf::PF_R,
            offset: o.offset,
            vaddr: o.addr,
            filesz: o.size,
            memsz: o.size,
            align,
        };
        if let Some(interp) = self.out.iter().find(|o| is_interp(o)) {
            let size = PHDR_SIZE * nphdr as u64;
            phdrs.push(Segment {
                p_type: elf::PT_PHDR,
                flags: elf::PF_R,
                offset: EHDR_SIZE,
                vaddr: self.base + EHDR_SIZE,
                filesz: size,
                memsz: size,
                align: 8,
            });
            phdrs.push(table(elf::PT_INTERP, interp, 1));
        }
        for &c in &loads {
            let members: Vec<&OutputSection> = self
                .out
                .iter()
                .filter(|o| o.is_alloc() && !o.omitted && segment_class(o.rank) == c)
                .collect();
            let (start_off, start_addr) = if c == 0 {
                (0u64, self.base)
            } else {
                (members[0].offset, members[0].addr)
            };
            let mut fend = start_off;
            let mut mend = start_addr;
            for o in &members {
                if !o.is_nobits() {
                    fend = fend.max(o.offset + o.size);
                }
                if !(o.is_nobits() && o.flags & u64::from(elf::SHF_TLS) != 0) {
                    mend = mend.max(o.addr + o.size);
                }
            }
            if c == 0 {
                fend = fend.max(EHDR_SIZE + PHDR_SIZE * nphdr as u64);
                mend = mend.max(self.base + fend);
            }
            let flags = match c {
                1 => elf::PF_R | elf::PF_X,
                3 | 5 => elf::PF_R | elf::PF_W,
                _ => elf::PF_R,
            };
            phdrs.push(Segment {
                p_type: elf::PT_LOAD,
                flags,
                offset: start_off,
                vaddr: start_addr,
                filesz: fend - start_off,
                memsz: mend - start_addr,
                align: PAGE,
            });
        }
        if let Some(d) = self
            .out
            .iter()
            .find(|o| o.is_alloc() && !o.omitted && o.sh_type == elf::SHT_DYNAMIC)
        {
            let mut seg = table(elf::PT_DYNAMIC, d, 8);
            seg.flags = elf::PF_R | elf::PF_W;
            phdrs.push(seg);
        }
        for &(start, end) in &note_runs {
            let (first, last) = (&self.out[start], &self.out[end - 1]);
            phdrs.push(Segment {
                p_type: elf::PT_NOTE,
                flags: elf::PF_R,
                offset: first.offset,
                vaddr: first.addr,
                filesz: last.offset + last.size - first.offset,
                memsz: last.addr + last.size - first.addr,
                align: first.align,
            });
        }
        if let Some(t) = tls {
            let t_offset = self
                .out
                .iter()
                .find(|o| o.flags & u64::from(elf::SHF_TLS) != 0 && !o.omitted && o.addr == t.start)
                .map_or(t.start - self.base, |o| o.offset);
            let tdata: u64 = self
                .out
                .iter()
                .filter(|o| o.flags & u64::from(elf::SHF_TLS) != 0 && !o.is_nobits() && !o.omitted)
                .map(|o| o.addr + o.size - t.start)
                .max()
                .unwrap_or(0);
            phdrs.push(Segment {
                p_type: elf::PT_TLS,
                flags: elf::PF_R,
                offset: t_offset,
                vaddr: t.start,
                filesz: tdata,
                memsz: t.memsz,
                align: t.align,
            });
        }
        if let Some(p) = self
            .find(crate::resolve::gnu_property::SECTION)
            .filter(|_| has_property)
        {
            phdrs.push(Segment {
                p_type: elf::PT_GNU_PROPERTY,
                flags: elf::PF_R,
                offset: p.offset,
                vaddr: p.addr,
                filesz: p.size,
                memsz: p.size,
                align: p.align,
            });
        }
        if let Some(h) = self.find(b".eh_frame_hdr") {
            phdrs.push(Segment {
                p_type: elf::PT_GNU_EH_FRAME,
                flags: elf::PF_R,
                offset: h.offset,
                vaddr: h.addr,
                filesz: h.size,
                memsz: h.size,
                align: 4,
            });
        }
        if let Some(exec) = exec_stack {
            phdrs.push(Segment {
                p_type: elf::PT_GNU_STACK,
                flags: if exec {
                    elf::PF_R | elf::PF_W | elf::PF_X
                } else {
                    elf::PF_R | elf::PF_W
                },
                offset: 0,
                vaddr: 0,
                filesz: 0,
                // `-z stack-size=N`, as GNU ld records it.
                memsz: stack_size,
                align: 16,
            });
        }
        if let Some((start, end)) = relro_range {
            let first = self
                .out
                .iter()
                .find(|o| o.is_alloc() && !o.omitted && segment_class(o.rank) == RW_CLASS)
                .expect("the RW segment has a section");
            phdrs.push(Segment {
                p_type: elf::PT_GNU_RELRO,
                flags: elf::PF_R,
                offset: first.offset,
                vaddr: start,
                filesz: end - start,
                memsz: end - start,
                align: 1,
            });
        }
        debug_assert_eq!(phdrs.len(), nphdr);
        (phdrs, tls, off)
    }

    /// The runs of allocated notes that share one `PT_NOTE` each, as
    /// `[start, end)` ranges of output sections (sorted): GNU ld gives
    /// consecutive notes one segment while their alignment stays the same,
    /// so the 8-aligned `.note.gnu.property` gets a segment of its own.
    fn note_runs(&self) -> Vec<(usize, usize)> {
        let mut runs: Vec<(usize, usize)> = Vec::new();
        let mut prev: Option<usize> = None;
        for (i, o) in self
            .out
            .iter()
            .enumerate()
            .filter(|(_, o)| o.is_alloc() && !o.omitted)
        {
            if o.sh_type == elf::SHT_NOTE {
                match (prev, runs.last_mut()) {
                    (Some(p), Some(run)) if run.1 == p + 1 && self.out[p].align == o.align => {
                        run.1 = i + 1;
                    }
                    _ => runs.push((i, i + 1)),
                }
            }
            prev = Some(i);
        }
        runs
    }

    /// Places the sections of a relocatable output one after another after
    /// the ELF header; returns the end offset.
    fn place_relocatable(&mut self, start: u64) -> u64 {
        let mut off = start;
        for o in self.out.iter_mut() {
            off = align_up(off, o.align);
            o.offset = off;
            o.addr = 0;
            off += o.file_size();
        }
        off
    }
}
