//! Relocatable links (`-r`): the linker under test merges a program's
//! objects into one, GNU ld then links that object into an executable, and
//! it must behave as the one GNU ld links from the original objects.

#[macro_use]
mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// `LINKER -r -o out objs...`; the output must be a relocatable object.
fn merge(ws: &Workspace, objs: &[PathBuf], out: &str) -> PathBuf {
    let merged = ws.join(out);
    let mut args = vec!["-r".into(), "-o".into(), merged.clone().into_os_string()];
    args.extend(objs.iter().map(|o| o.clone().into_os_string()));
    link_direct(ws.path(), args);
    let header = readelf(&["-hW"], &merged);
    assert!(
        header
            .lines()
            .any(|l| l.trim().starts_with("Type:") && l.contains("REL ")),
        "{} is not ET_REL:\n{header}",
        merged.display()
    );
    merged
}

/// Runs the program linked by GNU ld from `objs` and from `merged`; both
/// must behave the same.
fn compare_merged(ws: &Workspace, p: &Program, objs: &[PathBuf], merged: &Path, tag: &str) {
    let reference = ws.link_reference(p.lang, objs, &[], &format!("{}.ref", p.name));
    let from_merged = ws.link_reference(
        p.lang,
        &[merged.to_path_buf()],
        &[],
        &format!("{}.{tag}", p.name),
    );
    let r = run_exe(&reference);
    assert_reference_ok(p, &r);
    assert_same_run(&r, &run_exe(&from_merged), &format!("{} via -r", p.name));
}

fn merged_behaves_the_same(name: &str) {
    let p = program(name);
    let ws = Workspace::new(&format!("r_{name}"));
    let objs = ws.compile_program(p, &[]);
    let merged = merge(&ws, &objs, "merged.o");
    compare_merged(&ws, p, &objs, &merged, "merged");
}

macro_rules! merge_tests {
    ($($test:ident => $name:literal),* $(,)?) => {
        $( linker_test! { fn $test() { merged_behaves_the_same($name) } } )*
    };
}

merge_tests!(
    r_libc_basics => "libc_basics",
    r_tls => "tls",
    r_ctors => "ctors",
    r_cxx_ctors => "cxx_ctors",
    r_startstop => "startstop",
    r_weak => "weak",
    r_common => "common",
    r_exceptions => "exceptions",
    r_comdat => "comdat",
    r_multi => "multi",
    r_debug => "debug",
    r_optimized => "optimized",
    r_asm => "asm",
);

linker_test! {
    /// `-r` output fed back into `-r`: ((main + ops) + data).
    fn r_nested() {
        let p = program("multi");
        let ws = Workspace::new("r_nested");
        let objs = ws.compile_program(p, &[]);
        let first = merge(&ws, &objs[..2], "first.o");
        let second = merge(&ws, &[first, objs[2].clone()], "second.o");
        compare_merged(&ws, p, &objs, &second, "nested");
    }
}

linker_test! {
    /// Every input's COMDAT groups survive `-r` exactly once each, and no
    /// group member is left behind twice outside its group.
    fn comdat_groups_kept_once() {
        let p = program("comdat");
        let ws = Workspace::new("comdat_groups_kept_once");
        let objs = ws.compile_program(p, &[]);

        let mut seen_in: BTreeMap<String, usize> = BTreeMap::new();
        for o in &objs {
            for sig in comdat_signatures(o) {
                *seen_in.entry(sig).or_default() += 1;
            }
        }
        let shared = seen_in.values().filter(|&&n| n >= 3).count();
        assert!(shared >= 10, "the inputs share too few groups ({shared}) to test anything");

        let merged = merge(&ws, &objs, "merged.o");
        let out = comdat_signatures(&merged);
        let mut once = BTreeSet::new();
        let dups: Vec<_> = out.iter().filter(|s| !once.insert(s.as_str())).collect();
        assert!(dups.is_empty(), "groups kept more than once: {dups:?}");
        let want: BTreeSet<&str> = seen_in.keys().map(String::as_str).collect();
        let missing: Vec<_> = want.difference(&once).collect();
        let extra: Vec<_> = once.difference(&want).collect();
        assert!(missing.is_empty(), "groups dropped: {missing:?}");
        assert!(extra.is_empty(), "groups invented: {extra:?}");

        let mut names = BTreeSet::new();
        let twice: Vec<_> = section_names(&merged)
            .into_iter()
            .filter(|n| n != ".group" && !names.insert(n.clone()))
            .collect();
        assert!(twice.is_empty(), "sections present twice: {twice:?}");

        compare_merged(&ws, p, &objs, &merged, "merged");
    }
}

linker_test! {
    /// readelf reads every `-r` output completely without a warning.
    fn readelf_accepts_r_output() {
        let ws = Workspace::new("readelf_accepts_r_output");
        for p in PROGRAMS {
            let objs = ws.compile_program(p, &[]);
            let merged = merge(&ws, &objs, &format!("{}.merged.o", p.name));
            readelf_clean(&["-aW"], &merged);
            if p.name == "debug" {
                readelf_clean(&["--debug-dump=info,line,aranges,str"], &merged);
            }
        }
    }
}

linker_test! {
    /// The gaps that alignment leaves between input sections of a code
    /// section hold NOPs, the same bytes GNU ld writes (10-byte NOPs, then
    /// one of the remaining length), not zeros: `-r` of objects whose code
    /// is 64-byte aligned gives a `.text` identical to `ld -r`'s. The
    /// executables' padding is checked the same way by disassembly.
    fn code_gaps_hold_gnu_ld_nops() {
        let ws = Workspace::new("code_gaps_hold_gnu_ld_nops");
        let mut objs = Vec::new();
        for (i, body) in ["c: ret\n", "nop\nnop\nd: ret\n", "e: ret\n"].iter().enumerate() {
            let src = ws.join(format!("gap{i}.s"));
            let text = format!(".text\n.p2align 6\n.globl f{i}\nf{i}:\n{body}");
            std::fs::write(&src, text).unwrap();
            objs.push(ws.compile(&src, &[], ""));
        }
        let tested = merge(&ws, &objs, "tested.o");
        let reference = ws.join("reference.o");
        let mut ld = std::process::Command::new("ld.bfd");
        ld.arg("-r").arg("-o").arg(&reference).args(&objs);
        run_tool(&mut ld);
        // The dump's hex columns, joined.
        let text = |o: &Path| -> String {
            readelf(&["-x", ".text"], o)
                .lines()
                .filter(|l| l.trim_start().starts_with("0x"))
                .flat_map(|l| l.split_whitespace().skip(1).take(4).collect::<Vec<_>>())
                .filter(|w| w.chars().all(|c| c.is_ascii_hexdigit()))
                .collect()
        };
        let want = text(&reference);
        assert!(
            want.starts_with("c3662e0f1f84000000000066"),
            "GNU ld's fill changed: {want}"
        );
        assert_eq!(text(&tested), want);
    }
}
