//! `PT_GNU_STACK` as GNU ld 2.40 decides it: from `-z execstack` /
//! `-z noexecstack`, else from the inputs' `.note.GNU-stack` sections (a
//! file without one means an executable stack, with a warning naming it).
//! Each case is linked directly by GNU ld and by the linker under test; the
//! segment, its flags, the warning's presence and the exit status must agree.

#[macro_use]
mod common;

use common::*;
use std::path::Path;
use std::process::Command;

const START: &str = ".text\n.globl _start\n_start:\n call helper\n mov $60, %eax\n xor %edi, %edi\n syscall\n.section .note.GNU-stack,\"\",@progbits\n";
const NO_NOTE: &str = ".text\n.globl helper\nhelper:\n ret\n";
const EXEC_NOTE: &str =
    ".text\n.globl helper\nhelper:\n ret\n.section .note.GNU-stack,\"x\",@progbits\n";
const BARE_START: &str =
    ".text\n.globl _start\n_start:\n mov $60, %eax\n xor %edi, %edi\n syscall\n";
const PLAIN_NOTE: &str =
    ".text\n.globl helper\nhelper:\n ret\n.section .note.GNU-stack,\"\",@progbits\n";

/// What a link gave: exit status, the PT_GNU_STACK flags (None: no such
/// segment), and whether stderr warned about an executable stack naming
/// `culprit`.
#[derive(Debug, PartialEq)]
struct Stack {
    code: i32,
    flags: Option<String>,
    warned: bool,
}

fn link(ws: &Workspace, ld: &Path, args: &[&str], out: &str, culprit: &str) -> Stack {
    let path = ws.join(out);
    let _ = std::fs::remove_file(&path);
    let o = run_with_timeout(
        Command::new(ld)
            .current_dir(ws.path())
            .args(args)
            .arg("-o")
            .arg(&path),
        std::time::Duration::from_secs(60),
    );
    let flags = path.exists().then(|| {
        readelf(&["-lW"], &path)
            .lines()
            .find(|l| l.trim_start().starts_with("GNU_STACK"))
            .map(|l| l.split_whitespace().nth(6).unwrap_or("").to_string())
    });
    let warned = o
        .stderr
        .lines()
        .any(|l| l.contains(culprit) && l.contains("executable stack"));
    if o.code() == 0 {
        assert_eq!(run_exe(&path).code(), 0, "{out} does not run");
    }
    Stack {
        code: o.code(),
        flags: flags.flatten(),
        warned,
    }
}

fn case(ws: &Workspace, args: &[&str], culprit: &str, name: &str) -> Stack {
    let reference = link(
        ws,
        Path::new("ld.bfd"),
        args,
        &format!("{name}.ref"),
        culprit,
    );
    let tested = link(ws, &linker(), args, &format!("{name}.test"), culprit);
    assert_eq!(
        tested, reference,
        "{name}: {args:?} (left: tested, right: GNU ld)"
    );
    tested
}

linker_test! {
    fn stack_follows_the_inputs_notes() {
        let ws = Workspace::new("exec_stack");
        ws.assemble("start", START);
        ws.assemble("nonote", NO_NOTE);
        ws.assemble("execnote", EXEC_NOTE);
        ws.assemble("plain", PLAIN_NOTE);
        ws.assemble("bare", BARE_START);
        let some = |s: &str| Some(s.to_string());

        // Every file has a plain note: a non-executable stack, no warning.
        let s = case(&ws, &["start.o", "plain.o"], "plain.o", "plain");
        assert_eq!((s.flags, s.warned), (some("RW"), false));
        // One file has none: executable, and the warning names it.
        let s = case(&ws, &["start.o", "nonote.o"], "nonote.o", "missing");
        assert_eq!((s.flags, s.warned), (some("RWE"), true));
        // An executable note: executable, and the warning names that file.
        let s = case(&ws, &["start.o", "execnote.o"], "execnote.o", "exec");
        assert_eq!((s.flags, s.warned), (some("RWE"), true));
        // The options decide alone, silently.
        let s = case(&ws, &["-z", "noexecstack", "start.o", "nonote.o"], "nonote.o", "noexec");
        assert_eq!((s.flags, s.warned), (some("RW"), false));
        let s = case(&ws, &["-z", "execstack", "start.o", "plain.o"], "plain.o", "execstack");
        assert_eq!((s.flags, s.warned), (some("RWE"), false));
        // No file has a note: no segment at all (the kernel's default).
        let s = case(&ws, &["bare.o"], "bare.o", "none");
        assert_eq!(s.flags, None);
        // GNU ld prints it even under -w; --fatal-warnings makes it fatal.
        let s = case(&ws, &["-w", "start.o", "nonote.o"], "nonote.o", "quiet");
        assert_eq!((s.flags, s.warned), (some("RWE"), true));
        let s = case(&ws, &["--fatal-warnings", "start.o", "nonote.o"], "nonote.o", "fatal");
        assert_eq!(s.code, 1);
        // --no-warn-execstack silences it (so it cannot be fatal);
        // --warn-execstack warns about -z execstack too.
        let args = ["--no-warn-execstack", "--fatal-warnings", "start.o", "nonote.o"];
        let s = case(&ws, &args, "nonote.o", "nowarn");
        assert_eq!((s.code, s.flags, s.warned), (0, some("RWE"), false));
        let args = ["--warn-execstack", "-z", "execstack", "start.o", "plain.o"];
        let s = case(&ws, &args, "-z execstack", "warnexec");
        assert_eq!((s.flags, s.warned), (some("RWE"), true));
    }
}

/// The flags `readelf -SW` shows for `.note.GNU-stack` in `file`, if any.
fn stack_note_flags(file: &Path) -> Option<String> {
    readelf(&["-SW"], file)
        .lines()
        .find(|l| l.contains(".note.GNU-stack"))
        .map(|l| {
            let after = &l[l.find(".note.GNU-stack").unwrap()..];
            // Name, type, address, offset, size, entsize, then the flags
            // (absent when empty, so the next field is a number).
            let f = after.split_whitespace().nth(6).unwrap_or("");
            if f.chars().all(|c| c.is_ascii_digit()) {
                String::new()
            } else {
                f.to_string()
            }
        })
}

linker_test! {
    /// `-r` carries the decision in the merged `.note.GNU-stack`: marked
    /// executable when an input lacks the note, not under -z noexecstack;
    /// a final link of the result then gets GNU ld's stack.
    fn relocatable_output_carries_the_decision() {
        let ws = Workspace::new("exec_stack_r");
        ws.assemble("start", START);
        ws.assemble("nonote", NO_NOTE);
        for (tag, extra) in [("r", &[][..]), ("rnoexec", &["-z", "noexecstack"][..])] {
            let mut flags = Vec::new();
            for (ld, out) in [(Path::new("ld.bfd").to_path_buf(), "ref"), (linker(), "test")] {
                let merged = ws.join(format!("{tag}.{out}.o"));
                let mut args: Vec<String> = vec!["-r".into()];
                args.extend(extra.iter().map(|s| s.to_string()));
                args.extend(["start.o".into(), "nonote.o".into(), "-o".into(), path_str(&merged)]);
                let o = run_with_timeout(
                    Command::new(&ld).current_dir(ws.path()).args(&args),
                    std::time::Duration::from_secs(60),
                );
                assert_eq!(o.code(), 0, "{tag} {out}: {}", o.stderr);
                flags.push(stack_note_flags(&merged));
            }
            assert_eq!(flags[1], flags[0], "{tag}: .note.GNU-stack flags (tested vs GNU ld)");
            let want = if extra.is_empty() { "X" } else { "" };
            assert_eq!(flags[0].as_deref(), Some(want), "{tag}: GNU ld's flags changed");
        }
        // The final link of each -r output, by the linker under test.
        let s = case(&ws, &["r.test.o"], "r.test.o", "final");
        assert_eq!(s.flags.as_deref(), Some("RWE"));
    }
}
