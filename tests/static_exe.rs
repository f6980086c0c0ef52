//! Static executables: every test program built with `gcc/g++ -static` once
//! through the linker under test (`-B DIR`) and once with GNU ld; both must
//! behave identically. Plus structural checks of `--emit-relocs`,
//! `--build-id` and `--eh-frame-hdr` output, and of debug info.

#[macro_use]
mod common;

use common::*;
use std::process::Command;

fn same_behaviour(name: &str) {
    let p = program(name);
    let ws = Workspace::new(name);
    let objs = ws.compile_program(p, &[]);
    ws.build_and_compare(p, &objs, &[]);
}

macro_rules! behaviour_tests {
    ($($name:ident),* $(,)?) => {
        $( linker_test! { fn $name() { same_behaviour(stringify!($name)) } } )*
    };
}

behaviour_tests!(
    libc_basics,
    tls,
    ctors,
    cxx_ctors,
    startstop,
    weak,
    common,
    exceptions,
    comdat,
    multi,
    debug,
    optimized,
    asm,
);

#[test]
fn every_program_has_a_behaviour_test() {
    // behaviour_tests! above must list the whole table.
    let listed = [
        "libc_basics",
        "tls",
        "ctors",
        "cxx_ctors",
        "startstop",
        "weak",
        "common",
        "exceptions",
        "comdat",
        "multi",
        "debug",
        "optimized",
        "asm",
    ];
    for p in PROGRAMS {
        assert!(listed.contains(&p.name), "{} has no behaviour test", p.name);
    }
}

/// The harness itself must notice a behaviour change: linking the
/// constructor program's objects in the other order changes the order its
/// unprioritised constructors run in, and the comparison must fail.
#[test]
fn harness_notices_different_behaviour() {
    let p = program("ctors");
    let ws = Workspace::new("harness_notices_different_behaviour");
    let objs = ws.compile_program(p, &[]);
    let reversed: Vec<_> = objs.iter().rev().cloned().collect();
    let a = run_exe(&ws.link_reference(p.lang, &objs, &[], "a"));
    let b = run_exe(&ws.link_reference(p.lang, &reversed, &[], "b"));
    let caught = std::panic::catch_unwind(|| assert_same_run(&a, &b, "reordered"));
    assert!(
        caught.is_err(),
        "reordered link compared equal:\n{}",
        a.stdout
    );
}

linker_test! {
    /// `gcc -B DIR` must run our `ld`: its `--version` output shows up in
    /// gcc's output (collect2 echoes the command line, then the linker runs).
    fn gcc_runs_linker_under_test() {
        let ws = Workspace::new("gcc_runs_linker_under_test");
        let dir = ws.ld_dir();
        let direct = link_direct(ws.path(), ["--version"]);
        let first = direct.stdout.lines().next().unwrap_or("").trim().to_owned();
        assert!(!first.is_empty(), "`{} --version` printed nothing", linker().display());
        let obj = ws.compile(&programs::source_path("libc_basics.c"), &[], "");
        let via_gcc = run_tool(
            Command::new("gcc")
                .current_dir(ws.path())
                .arg(format!("-B{}/", dir.display()))
                .arg("-static")
                .arg("-Wl,--version")
                .arg(&obj),
        );
        let all = format!("{}{}", via_gcc.stdout, via_gcc.stderr);
        assert!(
            all.contains(&format!("{}/ld ", dir.display())),
            "gcc did not run {}/ld:\n{all}",
            dir.display()
        );
        assert!(all.contains(&first), "linker's --version line missing from gcc output:\n{all}");
    }
}

/// Builds a program both ways with `--emit-relocs` (spelt both ways GNU ld
/// accepts), and requires the same number of relocation records in every
/// output `.rela.*` section.
fn emit_relocs_counts(name: &str) {
    let p = program(name);
    let ws = Workspace::new(&format!("emit_relocs_{name}"));
    let objs = ws.compile_program(p, &[]);
    let (reference, tested) = ws.build_and_compare(p, &objs, &["-Wl,--emit-relocs", "-Wl,-q"]);
    let want = rela_counts(&reference);
    assert!(
        want.get(".rela.text").copied().unwrap_or(0) > 0,
        "GNU ld's --emit-relocs output has no .rela.text: {want:?}"
    );
    let got = rela_counts(&tested);
    assert_eq!(
        got, want,
        "relocation counts per section (left: linker under test)"
    );
}

linker_test! {
    fn emit_relocs_multi() {
        emit_relocs_counts("multi")
    }
}

linker_test! {
    /// TLS relaxations rewrite instructions; the kept records must still match.
    fn emit_relocs_tls() {
        emit_relocs_counts("tls")
    }
}

linker_test! {
    fn emit_relocs_exceptions() {
        emit_relocs_counts("exceptions")
    }
}

linker_test! {
    fn emit_relocs_asm() {
        emit_relocs_counts("asm")
    }
}

/// The build ID from `readelf -n`, if the file has one.
fn build_id(file: &std::path::Path) -> Option<String> {
    readelf(&["-nW"], file).lines().find_map(|l| {
        l.split_once("Build ID:")
            .map(|(_, id)| id.trim().to_owned())
    })
}

fn assert_hex_id(id: &Option<String>, hex_len: usize, what: &str) -> String {
    let id = id
        .clone()
        .unwrap_or_else(|| panic!("{what}: no build ID note"));
    assert_eq!(
        id.len(),
        hex_len,
        "{what}: build ID {id} has the wrong length"
    );
    assert!(
        id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{what}: build ID {id}"
    );
    assert!(id.bytes().any(|b| b != b'0'), "{what}: all-zero build ID");
    id
}

linker_test! {
    /// `--build-id` writes a `.note.gnu.build-id` whose SHA-1 depends on the
    /// output and only on it; `--build-id=none` writes none.
    fn build_id_note() {
        let ws = Workspace::new("build_id_note");
        let basics = program("libc_basics");
        let multi = program("multi");
        let basics_objs = ws.compile_program(basics, &[]);
        let multi_objs = ws.compile_program(multi, &[]);
        let flag = ["-Wl,--build-id"];

        let one = ws.link_tested(basics.lang, &basics_objs, &flag, "one");
        let again = ws.link_tested(basics.lang, &basics_objs, &flag, "again");
        let other = ws.link_tested(multi.lang, &multi_objs, &flag, "other");
        assert!(
            section_names(&one).iter().any(|s| s == ".note.gnu.build-id"),
            "no .note.gnu.build-id section"
        );
        let id_one = assert_hex_id(&build_id(&one), 40, "one");
        let id_again = assert_hex_id(&build_id(&again), 40, "again");
        let id_other = assert_hex_id(&build_id(&other), 40, "other");
        assert_eq!(id_one, id_again, "same inputs, different build IDs");
        assert_ne!(id_one, id_other, "different programs, same build ID");
        assert_same_run(&run_exe(&one), &run_exe(&again), "build-id twice");

        let none = ws.link_tested(basics.lang, &basics_objs, &["-Wl,--build-id=none"], "none");
        assert_eq!(build_id(&none), None, "--build-id=none still wrote a build ID");
        assert!(!section_names(&none).iter().any(|s| s == ".note.gnu.build-id"));
        let reference = ws.link_reference(basics.lang, &basics_objs, &[], "reference");
        assert_same_run(&run_exe(&reference), &run_exe(&none), "--build-id=none");
    }
}

linker_test! {
    /// The other `--build-id` styles GNU ld offers.
    fn build_id_styles() {
        let ws = Workspace::new("build_id_styles");
        let p = program("libc_basics");
        let objs = ws.compile_program(p, &[]);
        let link = |style: &str, out: &str| {
            let exe = ws.link_tested(p.lang, &objs, &[&format!("-Wl,--build-id={style}")], out);
            build_id(&exe)
        };
        assert_hex_id(&link("sha1", "sha1"), 40, "sha1");
        let md5 = assert_hex_id(&link("md5", "md5"), 32, "md5");
        assert_eq!(md5, assert_hex_id(&link("md5", "md5b"), 32, "md5"), "md5 not deterministic");
        let uuid1 = assert_hex_id(&link("uuid", "uuid1"), 32, "uuid");
        let uuid2 = assert_hex_id(&link("uuid", "uuid2"), 32, "uuid");
        assert_ne!(uuid1, uuid2, "two uuid build IDs are equal");
        assert_eq!(link("0x0123456789abcdef", "hex").as_deref(), Some("0123456789abcdef"));
    }
}

linker_test! {
    /// `--eh-frame-hdr` adds `.eh_frame_hdr` and a PT_GNU_EH_FRAME segment,
    /// which the unwinder then uses: exceptions must still work.
    fn eh_frame_hdr() {
        let p = program("exceptions");
        let ws = Workspace::new("eh_frame_hdr");
        let objs = ws.compile_program(p, &[]);
        let (reference, tested) = ws.build_and_compare(p, &objs, &["-Wl,--eh-frame-hdr"]);
        for exe in [&reference, &tested] {
            assert!(
                segment_types(exe).iter().any(|t| t == "GNU_EH_FRAME"),
                "{}: no PT_GNU_EH_FRAME: {:?}",
                exe.display(),
                segment_types(exe)
            );
            assert!(section_names(exe).iter().any(|s| s == ".eh_frame_hdr"));
        }
        readelf_clean(&["--debug-dump=frames"], &tested);

        // Without the option a static link gets whatever GNU ld gives it.
        let plain_ref = ws.link_reference(p.lang, &objs, &[], "plain.ref");
        let plain = ws.link_tested(p.lang, &objs, &[], "plain.test");
        let has_hdr = |f| segment_types(f).iter().any(|t| t == "GNU_EH_FRAME");
        assert_eq!(has_hdr(&plain), has_hdr(&plain_ref), "PT_GNU_EH_FRAME without --eh-frame-hdr");
    }
}

linker_test! {
    /// Debug info must be relocated to the final addresses: addr2line maps
    /// each function's address back to its own name and source line.
    fn debug_info_maps_addresses() {
        let p = program("debug");
        let ws = Workspace::new("debug_info_maps_addresses");
        let objs = ws.compile_program(p, &[]);
        let (reference, tested) = ws.build_and_compare(p, &objs, &[]);
        let syms = [
            "main",
            "debug_visible_function",
            "debug_local_helper",
            "debug_util_area",
            "debug_util_name",
        ];
        let want = locate(&reference, &syms);
        for (i, s) in syms.iter().enumerate() {
            assert_eq!(want[2 * i], *s, "reference addr2line output: {want:?}");
            assert!(!want[2 * i + 1].starts_with("??"), "reference has no line info: {want:?}");
        }
        assert_eq!(locate(&tested, &syms), want);
        readelf_clean(&["--debug-dump=info,line,aranges,str,rawline"], &tested);
    }
}

/// `(type letter, name)` of every undefined symbol `nm` lists.
fn undefined_symbols(exe: &std::path::Path) -> Vec<String> {
    let out = run_tool(Command::new("nm").arg(exe)).stdout;
    let mut v: Vec<String> = out
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 2 && matches!(f[0], "U" | "w" | "v")).then(|| l.trim().to_owned())
        })
        .collect();
    v.sort();
    v
}

linker_test! {
    /// A static executable's undefined symbols are weak ones resolved to 0:
    /// GNU ld leaves them out of `.symtab`, except those a `--emit-relocs`
    /// record names; rivet writes the same set.
    fn undefined_symbols_as_gnu_ld() {
        let p = program("cxx_ctors");
        let ws = Workspace::new("undefined_symbols_as_gnu_ld");
        let objs = ws.compile_program(p, &[]);
        let (reference, tested) = ws.build_and_compare(p, &objs, &[]);
        assert_eq!(undefined_symbols(&tested), undefined_symbols(&reference));
        let (reference, tested) = ws.build_and_compare(p, &objs, &["-Wl,--emit-relocs"]);
        let want = undefined_symbols(&reference);
        assert!(!want.is_empty(), "GNU ld's --emit-relocs rule changed");
        assert_eq!(undefined_symbols(&tested), want);
    }
}
