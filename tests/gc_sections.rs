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
