//! Shared objects with version scripts, against GNU ld's builds: named
//! versions with parents, `.symver` old and default versions bound by
//! programs, `local: *`, an anonymous script, several scripts read as one.

#[macro_use]
mod common;
mod shared_lib;

use common::*;
use shared_lib::*;
use std::collections::BTreeSet;
use std::path::Path;

// ---------------------------------------------------------------------------
// Version scripts

const VER_C: &str = r#"
int a(void) { return 1; }
int b(void) { return 2; }
int c(void) { return 3; }
int not_listed(void) { return 4; }
int old_impl(void) { return 10; }
int new_impl(void) { return 20; }
__asm__(".symver old_impl,compat@LIBDEMO_1.0");
__asm__(".symver new_impl,compat@@LIBDEMO_2.0");
"#;

/// `compat` must be listed in LIBDEMO_1.0: GNU ld applies that node's
/// `local: *` to `compat@LIBDEMO_1.0` otherwise, and drops it.
const VER_MAP: &str = "LIBDEMO_1.0 {\n  global: a; b; compat;\n  local: *;\n};\n\
LIBDEMO_2.0 {\n  global: c;\n} LIBDEMO_1.0;\n";

const VER_MAIN_C: &str = r#"
#include <stdio.h>
int a(void); int b(void); int c(void); int compat(void);
int main(void) { printf("%d %d %d %d\n", a(), b(), c(), compat()); return 0; }
"#;

const VER_OLD_MAIN_C: &str = r#"
#include <stdio.h>
int compat(void);
__asm__(".symver compat,compat@LIBDEMO_1.0");
int main(void) { printf("old %d\n", compat()); return 0; }
"#;

const KEEP_C: &str = r#"
int keep_one(void) { return 1; }
int keep_two(void) { return 2; }
int drop_me(void) { return 3; }
int keep_data = 40;
int dropped_data = 50;
"#;

const KEEP_MAIN_C: &str = r#"
#include <stdio.h>
int keep_one(void); int keep_two(void); extern int keep_data;
int main(void) { printf("%d\n", keep_one() + keep_two() + keep_data); return 0; }
"#;

/// The version definitions from `readelf -V`, without their offsets.
fn version_definitions(file: &Path) -> Vec<String> {
    readelf(&["-V", "-W"], file)
        .lines()
        .skip_while(|l| !l.starts_with("Version definition section"))
        .skip(2)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            l.split_once(": ")
                .map_or(l, |(_, rest)| rest)
                .trim()
                .to_string()
        })
        .collect()
}

/// The version needs `Name: X` from `readelf -V`, for `file_name`.
fn version_needs(file: &Path, file_name: &str) -> BTreeSet<String> {
    readelf(&["-V", "-W"], file)
        .lines()
        .skip_while(|l| !l.starts_with("Version needs section"))
        .skip_while(|l| !l.contains(&format!("File: {file_name}")))
        .skip(1)
        .take_while(|l| l.contains("Name:") && !l.contains("File:"))
        .filter_map(|l| l.split("Name: ").nth(1))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

linker_test! {
    /// `--version-script` with named versions, a parent, `local: *` and
    /// `.symver` old and default versions; an anonymous version script:
    /// the same version definitions and exports as GNU ld's; programs
    /// bind to the default or the old version and run against either
    /// library.
    fn version_scripts() {
        let ws = Workspace::new("so-versions");
        let ver = ws.compile_text("ver.c", VER_C, &["-fPIC", "-O1"]);
        let keep = ws.compile_text("keep.c", KEEP_C, &["-fPIC", "-O1"]);
        std::fs::write(ws.join("ver.map"), VER_MAP).unwrap();
        std::fs::write(ws.join("keep.map"), "{ global: keep_*; local: *; };\n").unwrap();
        let ver_script = format!("-Wl,--version-script={}", ws.join("ver.map").display());
        let keep_script = format!("-Wl,--version-script={}", ws.join("keep.map").display());
        let libs = |by: By| {
            let dir = ws.join(by.tag());
            link_shared(
                &ws,
                "gcc",
                by,
                &[&ver],
                &[&ver_script],
                &dir.join("libver.so"),
            );
            link_shared(
                &ws,
                "gcc",
                by,
                &[&keep],
                &[&keep_script],
                &dir.join("libkeep.so"),
            );
            dir
        };
        let (gnu, tested) = (libs(By::Gnu), libs(By::Tested));

        let main = ws.compile_text("vermain.c", VER_MAIN_C, &["-O1"]);
        let old_main = ws.compile_text("veroldmain.c", VER_OLD_MAIN_C, &["-O1"]);
        let args = |obj: &Path, dir: &Path| {
            vec![
                path_str(obj),
                format!("-L{}", dir.display()),
                "-lver".into(),
            ]
        };
        for (i, (by, dir)) in [(By::Gnu, &gnu), (By::Gnu, &tested), (By::Tested, &tested)]
            .into_iter()
            .enumerate()
        {
            let what = format!("a program linked by {} against {}", by.tag(), dir.display());
            let exe = link(
                &ws,
                "gcc",
                by,
                &args(&main, dir),
                &ws.join(format!("vermain.{i}")),
            );
            for lib_dir in [&gnu, &tested] {
                let o = run_in(&exe, lib_dir);
                assert_output(
                    &o,
                    "1 2 3 20\n",
                    &format!("{what}, run with {}", lib_dir.display()),
                );
            }
            let syms = readelf(&["--dyn-syms", "-W"], &exe);
            assert!(syms.contains(" compat@LIBDEMO_2.0"), "{what}:\n{syms}");
            let needs = version_needs(&exe, "libver.so");
            assert!(
                needs.contains("LIBDEMO_1.0") && needs.contains("LIBDEMO_2.0"),
                "{what}: {needs:?}"
            );
            let old = link(
                &ws,
                "gcc",
                by,
                &args(&old_main, dir),
                &ws.join(format!("veroldmain.{i}")),
            );
            for lib_dir in [&gnu, &tested] {
                let o = run_in(&old, lib_dir);
                assert_output(
                    &o,
                    "old 10\n",
                    &format!("{what}, run with {}", lib_dir.display()),
                );
            }
            let syms = readelf(&["--dyn-syms", "-W"], &old);
            assert!(syms.contains(" compat@LIBDEMO_1.0"), "{what}:\n{syms}");
        }

        let (g, t) = (gnu.join("libver.so"), tested.join("libver.so"));
        let defs = version_definitions(&t);
        assert_eq!(
            defs,
            version_definitions(&g),
            "version definitions (left: tested)"
        );
        for want in [
            "Name: libver.so",
            "Name: LIBDEMO_1.0",
            "Name: LIBDEMO_2.0",
            "Parent 1: LIBDEMO_1.0",
        ] {
            assert!(
                defs.iter().any(|d| d.ends_with(want)),
                "no '{want}' in {defs:?}"
            );
        }
        let names = DynSyms::of(&t).names();
        for want in [
            "a@@LIBDEMO_1.0",
            "b@@LIBDEMO_1.0",
            "c@@LIBDEMO_2.0",
            "compat@@LIBDEMO_2.0",
            "compat@LIBDEMO_1.0",
        ] {
            assert!(names.contains(want), "{want} is not exported: {names:?}");
        }
        for gone in ["not_listed", "old_impl", "new_impl"] {
            assert!(
                !names.iter().any(|n| n.split('@').next() == Some(gone)),
                "{gone} is exported: {names:?}"
            );
        }
        // Last, as the least specific: exactly GNU ld's exports (which
        // include an ABS symbol per version name).
        assert_sane_library(&g, &t);
        DynSyms::assert_same(&g, &t);

        // The anonymous version script: exports only keep_*, no versions.
        let (g, t) = (gnu.join("libkeep.so"), tested.join("libkeep.so"));
        assert_sane_library(&g, &t);
        DynSyms::assert_same(&g, &t);
        let names = DynSyms::of(&t).names();
        let want: BTreeSet<String> = ["keep_data", "keep_one", "keep_two"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(names, want);
        let has_verdef = |f: &Path| section_names(f).iter().any(|s| s == ".gnu.version_d");
        assert_eq!(
            has_verdef(&t),
            has_verdef(&g),
            ".gnu.version_d in libkeep.so"
        );
        let keep_main = ws.compile_text("keepmain.c", KEEP_MAIN_C, &["-O1"]);
        let exe = link(
            &ws,
            "gcc",
            By::Tested,
            &[
                path_str(&keep_main),
                format!("-L{}", tested.display()),
                "-lkeep".into(),
            ],
            &ws.join("keepmain"),
        );
        assert_output(&run_in(&exe, &tested), "43\n", "keep_* program");
    }
}

linker_test! {
    /// Several `--version-script`s are read as one, in order (the second
    /// names the first's version as its parent), as GNU ld reads them; a
    /// syntax error in the second names that file and its own line.
    fn two_version_scripts() {
        let ws = Workspace::new("so-two-scripts");
        let obj = ws.compile_text(
            "fb.c",
            "int foo(void) { return 1; }\nint bar(void) { return 2; }\nint baz(void) { return 3; }\n",
            &["-fPIC"],
        );
        std::fs::write(ws.join("m1.map"), "V1 { global: foo; local: *; };\n").unwrap();
        std::fs::write(ws.join("m2.map"), "V2 {\n  global: bar;\n} V1;\n").unwrap();
        std::fs::write(ws.join("bad.map"), "\nV3 { global: baz }\n").unwrap();
        let flags = |second: &str| {
            vec![
                format!("-Wl,--version-script={}", ws.join("m1.map").display()),
                format!("-Wl,--version-script={}", ws.join(second).display()),
            ]
        };
        let mut libs = Vec::new();
        for (by, dir) in [(By::Gnu, "gnu"), (By::Tested, "tested")] {
            let out = ws.join(format!("{dir}/libfb.so"));
            std::fs::create_dir_all(out.parent().unwrap()).unwrap();
            let f = flags("m2.map");
            let f: Vec<&str> = f.iter().map(String::as_str).collect();
            libs.push(link_shared(&ws, "gcc", by, &[&obj], &f, &out));
        }
        DynSyms::assert_same(&libs[0], &libs[1]);
        let names = DynSyms::of(&libs[1]).names();
        assert!(names.contains("bar@@V2") && !names.contains("baz"), "{names:?}");
        let mut args = vec![path_str(&obj)];
        args.extend(flags("bad.map"));
        expect_shared_error(&ws, &args, "libbad.so", &[&["bad.map:2"], &["syntax error"]]);
    }
}
