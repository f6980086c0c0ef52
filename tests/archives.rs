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

fn write(ws: &Workspace, name: &str, src: &str) -> PathBuf {
    let path = ws.join(name);
    std::fs::write(&path, src).unwrap();
    path
}

fn cc(ws: &Workspace, name: &str, src: &str, flags: &[&str]) -> PathBuf {
    let path = write(ws, name, src);
    ws.compile(&path, flags, "")
}

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

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Links `args` with `driver -static` through GNU ld and through the linker
/// under test, runs both and compares; returns (reference, tested) paths and
/// the tested program's stdout.
fn both(ws: &Workspace, driver: &str, args: &[String], what: &str) -> (PathBuf, PathBuf, String) {
    let reference = ws.join(format!("{what}.ref"));
    let tested = ws.join(format!("{what}.test"));
    run_tool(
        Command::new(driver)
            .current_dir(ws.path())
            .args(["-static", "-fuse-ld=bfd", "-o"])
            .arg(&reference)
            .args(args),
    );
    run_tool(
        Command::new(driver)
            .current_dir(ws.path())
            .arg("-static")
            .arg("-B")
            .arg(ws.ld_dir())
            .arg("-o")
            .arg(&tested)
            .args(args),
    );
    let r = run_exe(&reference);
    let t = run_exe(&tested);
    assert_same_run(&r, &t, what);
    (reference, tested, t.stdout)
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
        let main = cc(
            &ws,
            "main.c",
            "#include <stdio.h>\nint f1(void);int f3(void);extern int d4;\n\
             int main(void){printf(\"%d %d %d\\n\", f1(), f3(), d4);return 0;}\n",
            &["-O1"],
        );
        let f1 = cc(&ws, "f1.c", "int f1(void){return 1;}\n", &["-O1"]);
        let f2 = cc(
            &ws,
            "f2.c",
            "#include <stdio.h>\n__attribute__((constructor)) static void c(void){puts(\"f2 loaded\");}\n\
             int f2(void){return 2;}\n",
            &["-O1"],
        );
        let f3 = cc(&ws, "f3.c", "extern int d4;\nint f3(void){return 3 + d4;}\n", &["-O1"]);
        let f4 = cc(&ws, "f4.c", "int d4 = 4;\nint f4(void){return 4;}\n", &["-O1"]);
        let lib = ar(&ws, "rcsT", "libthin.a", &[&f1, &f2, &f3, &f4]);
        assert!(read(&lib).starts_with(b"!<thin>\n"), "ar T did not make a thin archive");
        let (_, _, out) = both(&ws, "gcc", &[s(&main), s(&lib)], "thin");
        assert_eq!(out, "1 7 4\n");
    }
}
