//! Archive member selection as GNU ld makes it: which members load (thin
//! archives, COMMON symbols, versioned names) and in which order (the order
//! decides which COMDAT copy wins). Each case is linked by the linker under
//! test and by GNU ld; the programs must behave the same, and where the
//! order shows only in the layout, the symbol tables must agree.

#[macro_use]
mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn ar(ws: &Workspace, flags: &str, name: &str, members: &[&PathBuf]) -> PathBuf {
    let lib = ws.join(name);
    let _ = std::fs::remove_file(&lib);
    run_tool(
        Command::new("ar")
            .current_dir(ws.path())
            .arg(flags)
            .arg(&lib)
            .args(members),
    );
    lib
}

/// [`link_and_compare`] under a short name.
fn both(ws: &Workspace, driver: &str, args: &[String], what: &str) -> (PathBuf, PathBuf, String) {
    link_and_compare(ws, driver, args, what)
}

/// `nm` lines (address, kind, name) of the symbols whose names satisfy `keep`,
/// sorted by name.
fn nm_symbols(file: &Path, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let o = run_tool(Command::new("nm").arg(file));
    let mut v: Vec<String> = o
        .stdout
        .lines()
        .filter(|l| l.split_whitespace().nth(2).is_some_and(&keep))
        .map(str::to_owned)
        .collect();
    v.sort_by(|a, b| {
        a.split_whitespace()
            .nth(2)
            .cmp(&b.split_whitespace().nth(2))
    });
    v
}

linker_test! {
    /// A thin archive's symbol index names each member by its header; every
    /// member must be found, not just one.
    fn thin_archive_loads_the_members_it_names() {
        let ws = Workspace::new("thin_archive_members");
        let main = ws.compile_text(
            "main.c",
            "#include <stdio.h>\nint f1(void);int f3(void);extern int d4;\n\
             int main(void){printf(\"%d %d %d\\n\", f1(), f3(), d4);return 0;}\n",
            &["-O1"],
        );
        let f1 = ws.compile_text("f1.c", "int f1(void){return 1;}\n", &["-O1"]);
        let f2 = ws.compile_text(
            "f2.c",
            "#include <stdio.h>\n__attribute__((constructor)) static void c(void){puts(\"f2 loaded\");}\n\
             int f2(void){return 2;}\n",
            &["-O1"],
        );
        let f3 = ws.compile_text("f3.c", "extern int d4;\nint f3(void){return 3 + d4;}\n", &["-O1"]);
        let f4 = ws.compile_text("f4.c", "int d4 = 4;\nint f4(void){return 4;}\n", &["-O1"]);
        let lib = ar(&ws, "rcsT", "libthin.a", &[&f1, &f2, &f3, &f4]);
        assert!(read(&lib).starts_with(b"!<thin>\n"), "ar T did not make a thin archive");
        let (_, _, out) = both(&ws, "gcc", &[path_str(&main), path_str(&lib)], "thin");
        assert_eq!(out, "1 7 4\n");
    }
}

/// Runs `driver -static ARGS` with GNU ld or the linker under test and
/// returns its stdout (the `-t` listing).
fn link_stdout(ws: &Workspace, driver: &str, tested: bool, args: &[String], out: &str) -> String {
    let mut cmd = Command::new(driver);
    cmd.current_dir(ws.path()).arg("-static");
    if tested {
        cmd.arg("-B").arg(ws.ld_dir());
    } else {
        cmd.arg("-fuse-ld=bfd");
    }
    run_tool(cmd.args(args).arg("-o").arg(ws.join(out))).stdout
}

linker_test! {
    /// GNU ld walks an archive's symbol index and loads a member the moment
    /// an entry names a symbol undefined at that point, so m1 (wanted only
    /// once m0 is in) comes before m2 in the same pass. The members carry
    /// different copies of one COMDAT function: the first loaded wins.
    fn member_order_decides_the_comdat_winner() {
        let ws = Workspace::new("member_order_comdat");
        let flags = ["-O2"];
        let m0 = ws.compile_text("m0.cpp", "int y();\nint x() { return y(); }\n", &flags);
        let m1 = ws.compile_text(
            "m1.cpp",
            "inline __attribute__((noinline)) int g() { return 1; }\nint y() { return g(); }\n",
            &flags,
        );
        let m2 = ws.compile_text(
            "m2.cpp",
            "inline __attribute__((noinline)) int g() { return 2; }\nint z() { return g(); }\n",
            &flags,
        );
        let main = ws.compile_text(
            "main.cpp",
            "#include <cstdio>\nint x(); int z();\nint main() { std::printf(\"x=%d z=%d\\n\", x(), z()); }\n",
            &flags,
        );
        let lib = ar(&ws, "rcs", "liborder.a", &[&m0, &m1, &m2]);
        let (reference, tested, out) = both(&ws, "g++", &[path_str(&main), path_str(&lib)], "order");
        assert_eq!(out, "x=1 z=1\n");
        // The members' code is laid out in load order.
        let order = |exe: &Path| -> Vec<String> {
            let mut v: Vec<(u64, String)> = nm_symbols(exe, |n| ["_Z1xv", "_Z1yv", "_Z1zv"].contains(&n))
                .iter()
                .map(|l| {
                    let mut it = l.split_whitespace();
                    let addr = u64::from_str_radix(it.next().unwrap(), 16).unwrap();
                    (addr, it.nth(1).unwrap().to_owned())
                })
                .collect();
            v.sort();
            v.into_iter().map(|(_, n)| n).collect()
        };
        assert_eq!(order(&tested), order(&reference), "member order differs from GNU ld's");
    }
}

linker_test! {
    /// A static C++ program pulls hundreds of libstdc++ and libc members;
    /// they must load in GNU ld's order (`-t -t` lists it), or other COMDAT
    /// copies win and `--emit-relocs` keeps other relocations.
    fn cxx_static_members_load_in_gnu_order() {
        let ws = Workspace::new("cxx_member_order");
        let obj = ws.compile(&common::programs::source_path("ar_cxx_locale.cpp"), &["-O2"], "");
        let args = vec![path_str(&obj), "-Wl,--emit-relocs".to_owned()];
        let (reference, tested, out) = both(&ws, "g++", &args, "locale");
        assert!(out.contains("12345 2.5 ff"), "{out}");
        assert_eq!(rela_counts(&tested), rela_counts(&reference), "--emit-relocs record counts");
        let traced = |tested: bool| {
            let args = vec![path_str(&obj), "-Wl,-t,-t".to_owned()];
            link_stdout(&ws, "g++", tested, &args, "traced")
        };
        let (r, t) = (traced(false), traced(true));
        assert!(r.lines().filter(|l| l.starts_with('(')).count() > 100, "{r}");
        assert_eq!(t, r, "-t -t (files and members in load order) differs from GNU ld's");
    }
}

linker_test! {
    /// A COMMON symbol loads an archive member that really defines it (an
    /// initialised variable), as bfd's archive rule for commons says; a
    /// member with only another COMMON, or a function of that name, does not.
    fn common_symbol_loads_a_member_defining_it() {
        let ws = Workspace::new("common_loads_member");
        let main = ws.compile_text(
            "main.c",
            "#include <stdio.h>\nint x; int y;\nint main(void){printf(\"x=%d y=%d\\n\", x, y);return 0;}\n",
            &["-O1", "-fcommon"],
        );
        let defines = ws.compile_text(
            "defines.c",
            "#include <stdio.h>\nint x = 42;\n\
             __attribute__((constructor)) static void c(void){puts(\"defining member loaded\");}\n",
            &["-O1"],
        );
        let common_only = ws.compile_text(
            "common_only.c",
            "#include <stdio.h>\nint y;\n\
             __attribute__((constructor)) static void c(void){puts(\"common member loaded\");}\n",
            &["-O1", "-fcommon"],
        );
        let lib = ar(&ws, "rcs", "libcommon.a", &[&common_only, &defines]);
        let (_, _, out) = both(&ws, "gcc", &[path_str(&main), path_str(&lib)], "common");
        assert_eq!(out, "defining member loaded\nx=42 y=0\n");
    }
}

linker_test! {
    /// `.symver foo_v2,foo@@V2` makes foo@@V2 the default version: in a
    /// static link it satisfies references to `foo` (and `foo@V2`), from an
    /// object or through an archive's index. The output symbol table names
    /// the versions, as GNU ld's, and has no plain `foo`.
    fn default_version_satisfies_plain_references() {
        let ws = Workspace::new("symver_default");
        let main = ws.compile_text(
            "main.c",
            "#include <stdio.h>\nint foo(void); int bar(void);\n__asm__(\".symver bar,foo@V2\");\n\
             int main(void){printf(\"%d %d\\n\", foo(), bar());return 0;}\n",
            &["-O1"],
        );
        let v = ws.compile_text(
            "v.c",
            "int foo_v1(void){ return 1; }\nint foo_v2(void){ return 2; }\n\
             __asm__(\".symver foo_v1,foo@V1\");\n__asm__(\".symver foo_v2,foo@@V2\");\n",
            &["-O1"],
        );
        let (reference, tested, out) = both(&ws, "gcc", &[path_str(&main), path_str(&v)], "object");
        assert_eq!(out, "2 2\n");
        let foos = |exe: &Path| -> Vec<String> {
            nm_symbols(exe, |n| n.starts_with("foo"))
                .iter()
                .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
                .collect()
        };
        assert_eq!(foos(&tested), foos(&reference));
        let lib = ar(&ws, "rcs", "libv.a", &[&v]);
        let (_, _, out) = both(&ws, "gcc", &[path_str(&main), path_str(&lib)], "archive");
        assert_eq!(out, "2 2\n");
    }
}
