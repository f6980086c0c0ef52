//! Layout, phase 1: every kept input section in its output section.
//!
//! Output sections are named as GNU ld's default script names them, in
//! the order of their first input; inside `.text` and the init/fini
//! arrays, input sections are sorted as that script sorts them. The
//! sizes of what inputs contribute become exact here: `.eh_frame` is split
//! into records (dropped FDEs and inner terminators gone) and `SHF_MERGE`
//! sections into deduplicated pieces. The result, a [`SectionMap`], is
//! what the scans that count GOT entries and dynamic records read; it
//! has no synthetic section and no offset yet.

use crate::args::{Args, OutputKind, Strip};
use crate::error::Result;
use crate::input::ehframe;
use crate::input::object::FileId;
use crate::layout::{
    discarded_reference, discarded_target, merge, refuses_discarded_targets, Chunk, ChunkKind,
    OutputSection, Place, SectionMap, Sections, BASE_ADDR, MAX_TOTAL_SIZE,
};
use crate::resolve::mode::OutputMode;
use crate::resolve::Resolution;
use object::elf;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

/// Builds the [`SectionMap`]: assignment, sorting, `.eh_frame` records
/// and, in an executable, merged strings and constants.
pub fn assign(args: &Args, res: &Resolution, mode: OutputMode) -> Result<SectionMap> {
    let mut sections = assign_sections(args, res, mode)?; // output sections, .eh_frame records
    if mode.is_exe() {
        merge::merge_sections(res, &mut sections); //       SHF_MERGE strings and constants, each once
    }
    Ok(SectionMap(sections))
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

/// Assigns every kept input section to an output section, in input order.
fn assign_sections(args: &Args, res: &Resolution, mode: OutputMode) -> Result<Sections> {
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
        mode,
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
}
