//! `--gc-sections`: the mark phase. Allocated sections reachable through
//! relocations from the roots stay, and with any section every other member
//! of its section group; the rest are dropped as a losing COMDAT copy is,
//! so nothing later needs to know about garbage collection.
//!
//! Roots: the entry symbol and `-u` symbols; sections the runtime finds by
//! name rather than by reference (`.init`, `.fini`, init/fini/preinit
//! arrays, `.ctors`/`.dtors`, notes, SHF_GNU_RETAIN). A section named like
//! a C identifier is no root: as with GNU ld's default `-z
//! nostart-stop-gc`, a live reference to `__start_X` or `__stop_X` keeps
//! every input section named X, and nothing else does. `.eh_frame` is
//! no root: an FDE keeps what it refers to (LSDA, personality) only when the
//! code it describes is live. Non-allocated sections (debug info) are kept
//! but do not keep anything alive, except notes (SystemTap's
//! `.note.stapsdt` refers to `.stapsdt.base`), as with GNU ld.

use crate::args::Args;
use crate::input::ehframe;
use crate::input::object::{FileId, ObjectFile, SymPlace, E};
use crate::input::version_script::VersionScript;
use crate::resolve::{Definition, Resolution};
use object::elf;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicBool, Ordering};

const SHF_GNU_RETAIN: u64 = 0x20_0000;

fn is_c_identifier(s: &[u8]) -> bool {
    !s.is_empty()
        && !s[0].is_ascii_digit()
        && s.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

fn is_root(s: &crate::input::object::InputSection) -> bool {
    let name = s.name;
    let prefixed =
        |p: &[u8]| name == p || (name.starts_with(p) && name.get(p.len()) == Some(&b'.'));
    s.sh_type == elf::SHT_NOTE
        || matches!(
            s.sh_type,
            elf::SHT_INIT_ARRAY | elf::SHT_FINI_ARRAY | elf::SHT_PREINIT_ARRAY
        )
        || s.flags & SHF_GNU_RETAIN != 0
        || [
            &b".init"[..],
            b".fini",
            b".init_array",
            b".fini_array",
            b".preinit_array",
            b".ctors",
            b".dtors",
            b".jcr",
        ]
        .iter()
        .any(|p| prefixed(p))
}

/// The section name X when symbol `idx` of `obj` is an undefined global
/// `__start_X`/`__stop_X` (the linker defines it after collection).
fn start_stop_section<'a>(res: &Resolution<'a>, obj: &ObjectFile, idx: usize) -> Option<&'a [u8]> {
    let g = &res.symbols[*obj.global_ids.get(idx.checked_sub(obj.first_global)?)? as usize];
    if g.def != Definition::Undefined {
        return None;
    }
    [&b"__start_"[..], &b"__stop_"[..]]
        .iter()
        .find_map(|p| g.name.strip_prefix(*p))
        .filter(|x| is_c_identifier(x))
}

/// The section symbol `idx` of `obj` lives in, resolved through the global
/// symbol table for globals.
fn target_section(res: &Resolution, obj: &ObjectFile, idx: usize) -> Option<(FileId, u32)> {
    let (file, sym) = if idx >= obj.first_global {
        match res.symbols[obj.global_ids[idx - obj.first_global] as usize].def {
            Definition::Object { file, sym, .. } => (file, sym as usize),
            _ => return None,
        }
    } else {
        (obj.id, idx)
    };
    match res.objects[file as usize].place_of(sym) {
        SymPlace::Section(s) => Some((file, s)),
        _ => None,
    }
}

/// The sections reachable from the roots, marked in parallel: each round
/// visits the sections the previous one found live (their relocations,
/// groups and FDEs) on every thread, and a section joins the next round
/// only through the one atomic swap that marks it. What is live is the
/// least fixpoint, whatever the order of the visits.
fn mark_live(args: &Args, res: &Resolution, script: Option<&VersionScript>) -> Vec<Vec<bool>> {
    let live: Vec<Vec<AtomicBool>> = res
        .objects
        .par_iter()
        .map(|o| o.sections.iter().map(|_| AtomicBool::new(false)).collect())
        .collect();
    // Whether section `s` of file `f` just became live, and is to be visited.
    let mark = |f: FileId, s: u32| -> bool {
        let sec = &res.objects[f as usize].sections[s as usize];
        // Non-allocated notes are roots whose references count, as in
        // GNU ld: `.note.stapsdt` keeps `.stapsdt.base`, which its
        // probes' addresses are relative to.
        let traced = sec.is_alloc() || sec.sh_type == elf::SHT_NOTE;
        sec.kept && traced && !live[f as usize][s as usize].swap(true, Ordering::Relaxed)
    };
    // Input sections by name, for `__start_X`/`__stop_X` references.
    let mut by_name: FxHashMap<&[u8], Vec<(FileId, u32)>> = FxHashMap::default();
    for obj in &res.objects {
        for (i, s) in obj.sections.iter().enumerate() {
            if s.kept && is_c_identifier(s.name) {
                by_name.entry(s.name).or_default().push((obj.id, i as u32));
            }
        }
    }
    // What symbol `idx` of `obj` keeps: the section defining it, or every
    // section X for `__start_X`/`__stop_X`. Newly live ones go to `next`.
    let reach = |obj: &ObjectFile, idx: usize, next: &mut Vec<(FileId, u32)>| {
        if let Some((f, t)) = target_section(res, obj, idx) {
            if mark(f, t) {
                next.push((f, t));
            }
        } else if let Some(secs) = start_stop_section(res, obj, idx).and_then(|x| by_name.get(x)) {
            next.extend(secs.iter().copied().filter(|&(f, t)| mark(f, t)));
        }
    };
    // FDEs by the section they describe, so that code becoming live brings
    // its LSDA and personality along.
    let fdes: Vec<Vec<(u32, usize)>> = res
        .objects
        .par_iter()
        .map(|obj| fde_targets(res, obj))
        .collect();

    // Roots: the entry and `-u` symbols, sections found by name, and every
    // CIE's relocations (personality routines).
    let mut frontier: Vec<(FileId, u32)> = Vec::new();
    let entry = args.entry.clone().unwrap_or_else(|| "_start".into());
    // Symbols a dynamic output exports stay too: shared objects may
    // reach them (`-E`, or a name a shared object defines or refers to;
    // in a shared object, every visible definition).
    let shared = args.kind == crate::args::OutputKind::Shared;
    let visible = |g: &crate::resolve::GlobalSymbol| match g.def {
        crate::resolve::Definition::Object { file, sym, .. } => {
            let obj = &res.objects[file as usize];
            matches!(
                obj.symbols[sym as usize].st_other & 3,
                object::elf::STV_DEFAULT | object::elf::STV_PROTECTED
            ) && !matches!(
                crate::resolve::exports::script_version(script, obj.name_of(sym as usize)),
                Ok(None)
            )
        }
        _ => false,
    };
    // Decided in parallel: a shared object's version script is consulted
    // for every global.
    let exported: Vec<crate::resolve::SymId> = res
        .symbols
        .par_iter()
        .enumerate()
        .filter(|(_, g)| {
            g.dso_ref
                || (shared && visible(g))
                || (args.export_dynamic && !res.dsos.is_empty())
                || args
                    .dynamic_list
                    .iter()
                    .any(|p| crate::args::glob_match(p.as_bytes(), g.name))
        })
        .map(|(id, _)| id as crate::resolve::SymId)
        .collect();
    let named = args
        .undefined
        .iter()
        .chain(std::iter::once(&entry))
        .chain(args.defsyms.iter().filter_map(|d| d.base.as_ref()))
        .filter_map(|name| res.lookup(name.as_bytes()));
    for id in named.chain(exported) {
        {
            if let Definition::Object { file, sym, .. } = res.symbols[id as usize].def {
                if let SymPlace::Section(s) = res.objects[file as usize].place_of(sym as usize) {
                    if mark(file, s) {
                        frontier.push((file, s));
                    }
                }
            }
        }
    }
    let roots: Vec<Vec<(FileId, u32)>> = res
        .objects
        .par_iter()
        .map(|obj| {
            let mut next = Vec::new();
            for (i, s) in obj.sections.iter().enumerate() {
                if is_root(s) && mark(obj.id, i as u32) {
                    next.push((obj.id, i as u32));
                }
            }
            for s in &obj.sections {
                if s.name == b".eh_frame" && s.kept {
                    for r in cie_relocs(s) {
                        reach(obj, r, &mut next);
                    }
                }
            }
            next
        })
        .collect();
    frontier.extend(roots.into_iter().flatten());

    // One round per distance from the roots.
    let visit = |mut next: Vec<(FileId, u32)>, &(f, s): &(FileId, u32)| {
        let obj = &res.objects[f as usize];
        // A live section keeps its whole group (GNU ld's
        // `_bfd_elf_gc_mark`): a class's VTT lives or dies with its
        // vtable, whichever is referenced.
        if let Some(g) = obj.sections[s as usize].group {
            for &m in &obj.groups[g as usize].members {
                if mark(f, m) {
                    next.push((f, m));
                }
            }
        }
        for r in obj.sections[s as usize].relocs {
            reach(obj, r.r_sym(E, false) as usize, &mut next);
        }
        let fde = &fdes[f as usize];
        let first = fde.partition_point(|&(t, _)| t < s);
        for &(_, idx) in fde[first..].iter().take_while(|&&(t, _)| t == s) {
            reach(obj, idx, &mut next);
        }
        next
    };
    while !frontier.is_empty() {
        frontier = frontier
            .par_iter()
            .fold(Vec::new, visit)
            .reduce(Vec::new, |mut a, mut b| {
                a.append(&mut b);
                a
            });
    }
    live.into_iter()
        .map(|l| l.into_iter().map(AtomicBool::into_inner).collect())
        .collect()
}

/// Marks live sections and drops the others (sets `kept = false`).
/// A shared object's definitions a version script (`script`) leaves
/// exported are roots.
pub fn collect_garbage(args: &Args, res: &mut Resolution, script: Option<&VersionScript>) {
    let live = mark_live(args, res, script);
    let removed: Vec<Vec<u32>> = res
        .objects
        .par_iter_mut()
        .zip(live)
        .map(|(obj, live)| {
            let mut removed = Vec::new();
            for (i, (s, l)) in obj.sections.iter_mut().zip(live).enumerate() {
                if s.kept && s.is_alloc() && !l && s.name != b".eh_frame" {
                    s.kept = false;
                    removed.push(i as u32);
                }
            }
            removed
        })
        .collect();
    if args.print_gc_sections {
        print_removed(res, &removed);
    }
}

/// `--print-gc-sections`: each removed section in GNU ld's words, in file
/// order and section order; empty sections are not named, as in GNU ld
/// (`elf_gc_sweep`). A member of a section group is named with its
/// group's signature in brackets, as GNU ld names it.
fn print_removed(res: &Resolution, removed: &[Vec<u32>]) {
    use std::io::Write;
    let mut text = String::new();
    for (obj, secs) in res.objects.iter().zip(removed) {
        if secs.is_empty() {
            continue;
        }
        // A section group whose members all went is removed too, and named
        // where its `.group` section stands.
        let mut named = secs.clone();
        for g in &obj.groups {
            if g.members.iter().all(|&m| !obj.sections[m as usize].kept)
                && g.members.iter().any(|m| secs.binary_search(m).is_ok())
            {
                named.push(g.section);
            }
        }
        named.sort_unstable();
        for i in named {
            let s = &obj.sections[i as usize];
            if s.size == 0 {
                continue;
            }
            let name = String::from_utf8_lossy(s.name);
            let group = s
                .group
                .filter(|_| s.sh_type != elf::SHT_GROUP)
                .and_then(|g| obj.groups.get(g as usize))
                .map(|g| format!("[{}]", String::from_utf8_lossy(g.signature)))
                .unwrap_or_default();
            text.push_str(&format!(
                "rivet: removing unused section '{name}{group}' in file '{}'\n",
                obj.name
            ));
        }
    }
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// For each FDE of `obj`, each symbol its relocations name other than the
/// code's own (the LSDA), paired with the section its pc_begin points into.
fn fde_targets(res: &Resolution, obj: &ObjectFile) -> Vec<(u32, usize)> {
    let mut out = Vec::new();
    for s in obj
        .sections
        .iter()
        .filter(|s| s.name == b".eh_frame" && s.kept)
    {
        let mut rel = 0usize;
        for (start, end, is_cie) in ehframe::walk(s.data) {
            let mut target = None;
            let others = out.len();
            while rel < s.relocs.len() && (s.relocs[rel].r_offset.get(E) as usize) < end {
                let r = &s.relocs[rel];
                let idx = r.r_sym(E, false) as usize;
                let off = r.r_offset.get(E) as usize;
                if !is_cie && off == start + 8 {
                    target = target_section(res, obj, idx)
                        .filter(|t| t.0 == obj.id)
                        .map(|t| t.1);
                } else if !is_cie && off > start + 8 {
                    out.push((u32::MAX, idx));
                }
                rel += 1;
            }
            match target {
                Some(t) => out[others..].iter_mut().for_each(|o| o.0 = t),
                None => out.truncate(others),
            }
        }
    }
    // Sorted by the section described, so that marking a section finds
    // its FDEs' references by binary search (a file can have thousands).
    out.sort_by_key(|&(t, _)| t);
    out
}

/// Symbols the CIEs of an `.eh_frame` section refer to.
fn cie_relocs(s: &crate::input::object::InputSection) -> Vec<usize> {
    let mut out = Vec::new();
    let mut rel = 0usize;
    for (start, end, is_cie) in ehframe::walk(s.data) {
        while rel < s.relocs.len() && (s.relocs[rel].r_offset.get(E) as usize) < end {
            let off = s.relocs[rel].r_offset.get(E) as usize;
            if is_cie && off >= start {
                out.push(s.relocs[rel].r_sym(E, false) as usize);
            }
            rel += 1;
        }
    }
    out
}
