//! `--gc-sections`: every test program, compiled with per-function and
//! per-data sections and linked with garbage collection, behaves as GNU
//! ld's build; dead code may refer to symbols no one defines; and the
//! collected output is smaller than the uncollected one; a live section
//! keeps its whole section group, as GNU ld's collector does.

mod common;

use common::*;
use std::process::Command;

#[test]
fn every_program_behaves_the_same_with_gc_sections() {
    for p in PROGRAMS {
        let ws = Workspace::new(&format!("gc_{}", p.name));
        let objs = ws.compile_program(p, &["-ffunction-sections", "-fdata-sections"]);
        ws.build_and_compare(p, &objs, &["-Wl,--gc-sections"]);
    }
}

#[test]
fn dead_code_may_refer_to_undefined_symbols() {
    let ws = Workspace::new("gc_dead_code");
    let src = ws.join("gc.c");
    std::fs::write(
        &src,
        "#include <stdio.h>\nextern int not_defined_anywhere(void);\nint dead(void) { return not_defined_anywhere(); }\n\
         int live(int x) { return x * 3; }\nint main(void) { printf(\"%d\\n\", live(14)); return 0; }\n",
    )
    .unwrap();
    let obj = ws.compile(&src, &["-O1", "-ffunction-sections"], "");
    let gc = ws.join("gc");
    let nogc = ws.join("nogc");
    let link = |out: &std::path::Path, extra: &[&str]| {
        Command::new("gcc")
            .arg("-static")
            .arg("-B")
            .arg(ws.ld_dir())
            .args(extra)
            .arg("-o")
            .arg(out)
            .arg(&obj)
            .output()
            .expect("run gcc")
    };
    let o = link(&gc, &["-Wl,--gc-sections"]);
    assert!(
        o.status.success(),
        "--gc-sections link failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(run_exe(&gc).stdout, "42\n");
    // Without collection the reference from dead() is an error, as with GNU ld.
    let o = link(&nogc, &[]);
    assert!(
        !o.status.success(),
        "the link without --gc-sections should fail"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("not_defined_anywhere"));
    assert!(!nogc.exists(), "a failed link left its output");
}

#[test]
fn collected_output_is_smaller() {
    let p = program("exceptions");
    let ws = Workspace::new("gc_smaller");
    let objs = ws.compile_program(p, &["-ffunction-sections", "-fdata-sections"]);
    let full = ws.link_tested(p.lang, &objs, &[], "full");
    let collected = ws.link_tested(p.lang, &objs, &["-Wl,--gc-sections"], "collected");
    let size = |f: &std::path::Path| std::fs::metadata(f).unwrap().len();
    assert!(
        size(&collected) < size(&full),
        "--gc-sections did not shrink the output ({} vs {} bytes)",
        size(&collected),
        size(&full)
    );
}

#[test]
fn live_section_keeps_its_group_as_gnu_ld() {
    // libstdc++'s istream-inst.o puts `_ZTVSi` (the vtable) and `_ZTTSi`
    // (the VTT) in one COMDAT group: GNU ld keeps the VTT with the live
    // vtable even though nothing refers to it, and so its relocation
    // records under --emit-relocs.
    let ws = Workspace::new("gc_group");
    let obj = ws.compile(
        &programs::source_path("ar_cxx_locale.cpp"),
        &["-O2", "-ffunction-sections", "-fdata-sections"],
        "",
    );
    let objs = [obj];
    let flags = ["-Wl,--gc-sections", "-Wl,--emit-relocs"];
    let reference = ws.link_reference(Lang::Cxx, &objs, &flags, "locale.ref");
    let tested = ws.link_tested(Lang::Cxx, &objs, &flags, "locale.test");
    let r = run_exe(&reference);
    assert!(r.stdout.contains("12345 2.5 ff"), "{}", r.stdout);
    assert_same_run(&r, &run_exe(&tested), "ar_cxx_locale");
    assert!(
        symbol_address(&reference, "_ZTTSi").is_some(),
        "GNU ld no longer keeps _ZTTSi"
    );
    assert!(
        symbol_address(&tested, "_ZTTSi").is_some(),
        "the VTT _ZTTSi was collected although its group's vtable is live"
    );
    assert_eq!(
        rela_counts(&tested),
        rela_counts(&reference),
        "--gc-sections --emit-relocs record counts per section (left: linker under test)"
    );
}

/// Links one C object per source both ways with `flags`, in a fresh
/// workspace (returned: dropping it removes the files).
fn link_both(
    name: &str,
    sources: &[&str],
    cflags: &[&str],
    flags: &[&str],
) -> (Workspace, std::path::PathBuf, std::path::PathBuf) {
    let ws = Workspace::new(name);
    let objs: Vec<_> = sources
        .iter()
        .map(|s| ws.compile(&programs::source_path(s), cflags, ""))
        .collect();
    let reference = ws.link_reference(Lang::C, &objs, flags, "ref");
    let tested = ws.link_tested(Lang::C, &objs, flags, "test");
    (ws, reference, tested)
}

#[test]
fn c_identifier_sections_are_collected_unless_start_stop_refers_to_them() {
    // Nothing refers to `my_hooks`: GNU ld collects it, and with it the
    // call to an undefined function (`-z nostart-stop-gc`, the default).
    let (_ws, reference, tested) = link_both(
        "gc2_hooks_dead",
        &["gc2_hooks.c"],
        &["-O2"],
        &["-Wl,--gc-sections"],
    );
    let r = run_exe(&reference);
    assert_eq!(r.stdout, "ok\n");
    assert_same_run(&r, &run_exe(&tested), "gc2_hooks");
    assert!(!section_names(&reference).iter().any(|s| s == "my_hooks"));
    assert!(
        !section_names(&tested).iter().any(|s| s == "my_hooks"),
        "my_hooks was kept although nothing refers to it"
    );
    // A live reference to __start_my_hooks keeps every section named so,
    // including one in an object nothing else refers to.
    let (_ws, reference, tested) = link_both(
        "gc2_hooks_live",
        &["gc2_hooks.c", "gc2_hooks_other.c"],
        &["-O2", "-DUSE_START"],
        &["-Wl,--gc-sections"],
    );
    let r = run_exe(&reference);
    assert_eq!(
        r.stdout,
        "hook in gc2_hooks.c\nhook in gc2_hooks_other.c\nok\n"
    );
    assert_same_run(&r, &run_exe(&tested), "gc2_hooks -DUSE_START");
}

#[test]
fn hello_world_emit_relocs_counts_match_gnu_ld() {
    // glibc's `__libc_freeres_fn` sections are collected by GNU ld (no
    // __start_ reference); so are their records and their FDEs'.
    let ws = Workspace::new("gc2_hello");
    let src = ws.join("hello.c");
    std::fs::write(
        &src,
        "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n",
    )
    .unwrap();
    let objs = [ws.compile(&src, &["-O2"], "")];
    let flags = ["-Wl,--gc-sections", "-Wl,--emit-relocs"];
    let reference = ws.link_reference(Lang::C, &objs, &flags, "ref");
    let tested = ws.link_tested(Lang::C, &objs, &flags, "test");
    assert_same_run(&run_exe(&reference), &run_exe(&tested), "hello");
    assert_eq!(
        rela_counts(&tested),
        rela_counts(&reference),
        "--gc-sections --emit-relocs record counts per section (left: linker under test)"
    );
}

/// The names `nm` lists with type letter `kind` (`U`: strong undefined).
fn nm_names(file: &std::path::Path, kind: &str) -> std::collections::BTreeSet<String> {
    let out = Command::new("nm").arg(file).output().expect("run nm");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace().rev();
            let name = w.next()?;
            (w.next()? == kind).then(|| name.to_owned())
        })
        .collect()
}

#[test]
fn collected_globals_and_their_references_leave_the_symbol_table() {
    let (_ws, reference, tested) = link_both(
        "gc2_dead",
        &["gc2_dead.c"],
        &["-O2", "-ffunction-sections", "-fdata-sections"],
        &["-Wl,--gc-sections"],
    );
    let r = run_exe(&reference);
    assert_eq!(r.stdout, "42\n");
    assert_same_run(&r, &run_exe(&tested), "gc2_dead");
    // Strong undefined symbols: the same set as GNU ld's (libc's dead code
    // refers to many that its live code does not).
    assert_eq!(nm_names(&tested, "U"), nm_names(&reference, "U"));
    let all = |f: &std::path::Path| {
        let out = Command::new("nm").arg(f).output().expect("run nm");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for name in ["gc2_dead_global", "gc2_dead_data", "gc2_never_defined"] {
        assert!(!all(&reference).contains(name), "GNU ld kept {name}");
        assert!(
            !all(&tested).contains(name),
            "{name} is in the symbol table"
        );
    }
    assert!(symbol_address(&tested, "gc2_live_global").is_some());
}
