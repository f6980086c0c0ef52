//! How inputs are found and loaded: archives (GNU and thin), members loaded
//! only when they resolve something, --whole-archive, group rescanning,
//! response files, -l/-L searching, linker-script stand-ins for libraries.
//! Each case is linked by the linker under test and by GNU ld, and the two
//! programs must behave the same.

mod common;

use common::{link_and_compare, path_str, run_tool, Workspace};
use std::path::PathBuf;
use std::process::Command;

fn c(ws: &Workspace, name: &str, src: &str) -> PathBuf {
    let path = ws.join(format!("{name}.c"));
    std::fs::write(&path, src).unwrap();
    ws.compile(&path, &["-O1"], "")
}

fn ar(ws: &Workspace, flags: &str, name: &str, members: &[&PathBuf]) -> PathBuf {
    let lib = ws.join(name);
    run_tool(Command::new("ar").arg(flags).arg(&lib).args(members));
    lib
}

/// [`link_and_compare`] through gcc, returning the tested program's stdout.
fn both(ws: &Workspace, args: &[String], what: &str) -> String {
    link_and_compare(ws, "gcc", args, what).2
}

/// Archive members are loaded only when they define something undefined,
/// so a member's constructor runs only if the member is pulled in; under
/// --whole-archive every member comes in.
#[test]
fn archive_members_load_on_demand_and_whole_archive() {
    let ws = Workspace::new("archive_members");
    let main = c(&ws, "main", "#include <stdio.h>\nint used(void);\nint main(void){printf(\"used=%d\\n\", used());return 0;}\n");
    let used = c(&ws, "used", "int used(void){return 42;}\n");
    let unused = c(
        &ws,
        "unused",
        "#include <stdio.h>\n__attribute__((constructor)) static void hello(void){puts(\"unused member loaded\");}\nint unused_fn(void){return 1;}\n",
    );
    let lib = ar(&ws, "rcs", "libparts.a", &[&used, &unused]);
    let out = both(&ws, &[path_str(&main), path_str(&lib)], "on_demand");
    assert_eq!(out, "used=42\n");
    let out = both(
        &ws,
        &[
            path_str(&main),
            "-Wl,--whole-archive".into(),
            path_str(&lib),
            "-Wl,--no-whole-archive".into(),
        ],
        "whole",
    );
    assert!(
        out.contains("unused member loaded"),
        "--whole-archive did not load every member: {out}"
    );
}

/// Two archives that need each other load fully only when grouped; a thin
/// archive's members are read from the files it names.
#[test]
fn groups_rescan_and_thin_archives() {
    let ws = Workspace::new("groups_thin");
    let main = c(
        &ws,
        "main",
        "#include <stdio.h>\nint a1(void);\nint main(void){printf(\"%d\\n\", a1());return 0;}\n",
    );
    let a1 = c(&ws, "a1", "int b1(void);\nint a1(void){return b1()+1;}\n");
    let a2 = c(&ws, "a2", "int a2(void){return 100;}\n");
    let b1 = c(&ws, "b1", "int a2(void);\nint b1(void){return a2()*2;}\n");
    ar(&ws, "rcs", "liba.a", &[&a1, &a2]);
    let libb = ar(&ws, "rcsT", "libb.a", &[&b1]);
    let head = std::fs::read(&libb).unwrap();
    assert!(
        head.starts_with(b"!<thin>\n"),
        "ar T did not make a thin archive"
    );
    let out = both(
        &ws,
        &[
            path_str(&main),
            "-L.".into(),
            "-Wl,--start-group".into(),
            "-la".into(),
            "-lb".into(),
            "-Wl,--end-group".into(),
        ],
        "grouped",
    );
    assert_eq!(out, "201\n");
    // Without the group, a2 is wanted only after liba.a was passed: both
    // linkers must refuse the link, naming the symbol.
    let tested = run_tool_status(
        Command::new("gcc")
            .current_dir(ws.path())
            .arg("-static")
            .arg("-B")
            .arg(ws.ld_dir())
            .args(["-o", "ungrouped", &path_str(&main), "-L.", "-la", "-lb"]),
    );
    assert_ne!(tested.0, Some(0), "link without a group succeeded");
    assert!(
        tested.1.contains("a2"),
        "the error does not name a2: {}",
        tested.1
    );
}

fn run_tool_status(cmd: &mut Command) -> (Option<i32>, String) {
    let o = cmd.output().expect("run");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Arguments from an @file, -l:FILE, and a GNU ld script standing in for a
/// library (`GROUP(...)`, as libm.a and libc.so are).
#[test]
fn response_files_exact_names_and_scripts() {
    let ws = Workspace::new("response_scripts");
    let main = c(&ws, "main", "#include <stdio.h>\nint f(void);int g(void);\nint main(void){printf(\"%d %d\\n\", f(), g());return 0;}\n");
    let f = c(&ws, "f", "int f(void){return 7;}\n");
    let g = c(&ws, "g", "int g(void){return 8;}\n");
    ar(&ws, "rcs", "libf.a", &[&f]);
    ar(&ws, "rcs", "libgimpl.a", &[&g]);
    std::fs::write(
        ws.join("libg.a"),
        "/* GNU ld script */\nGROUP ( libgimpl.a )\n",
    )
    .unwrap();
    std::fs::write(
        ws.join("args.rsp"),
        format!("{}\n-L.\n'-l:libf.a'\n", path_str(&main)),
    )
    .unwrap();
    // The script names libgimpl.a relative to the working directory.
    let out = both(
        &ws,
        &["-Wl,@args.rsp".into(), "-L.".into(), "-lg".into()],
        "rsp",
    );
    assert_eq!(out, "7 8\n");
}

/// `--version`, `--help` and an unknown option, as a build system probes them.
#[test]
fn version_help_and_unknown_options() {
    let ws = Workspace::new("cli");
    if common::linker_is_gnu_ld() {
        return;
    }
    let v = common::run_linker(ws.path(), ["--version"]);
    assert_eq!(v.code(), 0);
    assert!(v.stdout.contains("compatible with GNU ld"), "{}", v.stdout);
    let h = common::run_linker(ws.path(), ["--help"]);
    assert_eq!(h.code(), 0);
    assert!(h.stdout.contains("--relocatable"), "{}", h.stdout);
    let u = common::run_linker(ws.path(), ["--no-such-option", "x.o"]);
    assert_eq!(u.code(), 1);
    assert!(u.stderr.contains("--no-such-option"), "{}", u.stderr);
    // An unknown -z keyword is ignored with a warning, as GNU ld does; the
    // link then fails only because x.o does not exist.
    let z = common::run_linker(ws.path(), ["-z", "bogus-keyword", "x.o"]);
    assert_eq!(z.code(), 1);
    assert!(
        z.stderr.contains("-z bogus-keyword ignored"),
        "{}",
        z.stderr
    );
    assert!(z.stderr.contains("x.o"), "{}", z.stderr);
    // ... and fatal under --fatal-warnings, before any input is read.
    let f = common::run_linker(
        ws.path(),
        ["--fatal-warnings", "-z", "bogus-keyword", "x.o"],
    );
    assert_eq!(f.code(), 1);
    assert!(!f.stderr.contains("x.o"), "{}", f.stderr);
}
