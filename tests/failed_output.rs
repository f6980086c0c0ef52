//! What a failed link does to an output file already at its path: as GNU
//! ld, remove it (so that an old program cannot pass for the one that failed
//! to link), but only a regular file or a symlink, never a directory, never
//! a file that is also an input, and nothing when the link never got as far
//! as its output (no input files). Every case runs against GNU ld too
//! (`RIVET_LINKER=ld.bfd`), which behaves the same.

#[macro_use]
mod common;

use common::*;
use std::path::Path;

const OK_C: &str = "int f(void) { return 1; }\nint main(void) { return f() - 1; }\n";
const UNDEF_C: &str = "int missing(void);\nint main(void) { return missing(); }\n";

/// A workspace with ok.o (links alone), undef.o (calls an undefined
/// function) and notes.o (not an object).
fn setup(name: &str) -> Workspace {
    let ws = Workspace::new(name);
    for (file, text) in [("ok.c", OK_C), ("undef.c", UNDEF_C)] {
        std::fs::write(ws.join(file), text).unwrap();
        ws.compile(&ws.join(file), &[], "");
    }
    std::fs::write(ws.join("notes.o"), "these are notes, not an object\n").unwrap();
    ws
}

fn stale(path: &Path) {
    std::fs::write(path, "stale output of an earlier link\n").unwrap();
}

fn fails(ws: &Workspace, args: &[&str]) -> Outcome {
    let o = run_linker(ws.path(), args);
    assert_eq!(o.code(), 1, "{args:?}: stderr:\n{}", o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    o
}

linker_test! {
    /// An undefined symbol, an unreadable input, a missing input: the old
    /// output is gone, for `-r` and for an executable.
    fn failed_link_removes_old_output() {
        let ws = setup("failed_link_removes_old_output");
        let out = ws.join("out");
        let cases: [&[&str]; 4] = [
            &["-static", "-e", "main", "-o", "out", "undef.o"],
            &["-static", "-e", "main", "-o", "out", "ok.o", "notes.o"],
            &["-r", "-o", "out", "ok.o", "notes.o"],
            &["-r", "-o", "out", "ok.o", "no-such-file.o"],
        ];
        for args in cases {
            link_direct(ws.path(), ["-r", "-o", "out", "ok.o"]);
            assert!(out.exists());
            fails(&ws, args);
            assert!(!out.exists(), "{args:?}: the old output survived the failed link");
        }
        // A file that was never an output is removed as well (GNU ld does).
        stale(&out);
        fails(&ws, &["-static", "-e", "main", "-o", "out", "undef.o"]);
        assert!(!out.exists());
    }
}

linker_test! {
    /// A symlink at the output path is removed, not the file it points to.
    fn failed_link_removes_symlink_not_target() {
        let ws = setup("failed_link_removes_symlink_not_target");
        let target = ws.join("target");
        stale(&target);
        std::os::unix::fs::symlink("target", ws.join("out")).unwrap();
        fails(&ws, &["-static", "-e", "main", "-o", "out", "undef.o"]);
        assert!(std::fs::symlink_metadata(ws.join("out")).is_err(), "symlink kept");
        assert!(target.exists(), "the symlink's target was removed");
    }
}

linker_test! {
    /// A directory at the output path is never removed.
    fn failed_link_keeps_directory() {
        let ws = setup("failed_link_keeps_directory");
        let dir = ws.join("out");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("inside"), "x").unwrap();
        fails(&ws, &["-static", "-e", "main", "-o", "out", "undef.o"]);
        fails(&ws, &["-r", "-o", "out", "ok.o"]);
        assert!(dir.join("inside").exists(), "the directory was touched");
    }
}

linker_test! {
    /// An output that is also an input is not removed when the link fails.
    fn failed_link_keeps_output_that_is_an_input() {
        let ws = setup("failed_link_keeps_output_that_is_an_input");
        let before = read(&ws.join("ok.o"));
        fails(&ws, &["-r", "-o", "ok.o", "ok.o", "notes.o"]);
        assert_eq!(read(&ws.join("ok.o")), before);
    }
}

linker_test! {
    /// With no input files the link stops before its output: it stays.
    fn no_inputs_keeps_old_output() {
        let ws = setup("no_inputs_keeps_old_output");
        let out = ws.join("out");
        stale(&out);
        fails(&ws, &["-o", "out"]);
        assert!(out.exists());
    }
}

linker_test! {
    /// A bad command line fails before anything is linked: the output stays.
    fn bad_option_keeps_old_output() {
        let ws = setup("bad_option_keeps_old_output");
        let out = ws.join("out");
        stale(&out);
        fails(&ws, &["-r", "-o", "out", "ok.o", "--no-such-option"]);
        assert!(out.exists());
    }
}

linker_test! {
    /// An output that is a member of a thin archive among the inputs (or
    /// an input found by `-l`) is refused and left as it is. GNU ld 2.40
    /// links over the member (destroying the input), so there is nothing
    /// to check with `RIVET_LINKER` set.
    fn output_that_is_a_thin_archive_member_is_refused() {
        if !testing_built_rivet() {
            return;
        }
        let ws = setup("output_that_is_a_thin_archive_member_is_refused");
        let o = run_tool(
            std::process::Command::new("ar")
                .current_dir(ws.path())
                .args(["rcsT", "libthin.a", "ok.o"]),
        );
        assert!(o.status.success(), "{}", o.stderr);
        let before = read(&ws.join("ok.o"));
        for args in [
            &["-r", "-o", "ok.o", "libthin.a"][..],
            &["-r", "-o", "ok.o", "--whole-archive", "-L.", "-lthin"][..],
        ] {
            let o = fails(&ws, args);
            assert!(o.stderr.contains("is the same as output file"), "{}", o.stderr);
            assert_eq!(read(&ws.join("ok.o")), before, "{args:?}");
        }
    }
}
