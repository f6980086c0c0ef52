//! `.note.gnu.property` and `PT_GNU_PROPERTY`: the inputs' property notes
//! merged as GNU ld merges them (X86_FEATURE_1_AND kept only when every
//! object has it, X86_ISA_1_NEEDED ORed, ...), `-z ibt`/`-z shstk`/
//! `-z x86-64-vN`/`-z stack-size=`, `-z cet-report=` messages, corrupt notes,
//! the IBT form of the IFUNC stubs, and `-r`. Every case is linked by GNU
//! ld and by the linker under test, and the notes, program headers,
//! messages and runs compared.

#[macro_use]
mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The property lines of `file`'s `.note.gnu.property` from `readelf -n`
/// (`Properties: x86 feature: IBT, SHSTK`, continuation lines), empty when
/// it has none.
fn properties(file: &Path) -> Vec<String> {
    let text = readelf(&["-n"], file);
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if let Some(sec) = line.strip_prefix("Displaying notes found in: ") {
            inside = sec.trim() == ".note.gnu.property";
            continue;
        }
        let l = line.trim();
        if inside && (l.starts_with("Properties:") || line.starts_with('\t')) {
            out.push(l.to_owned());
        }
    }
    out
}

/// (type, file size, alignment) of each program header, from `readelf -lW`.
fn segments(file: &Path) -> Vec<(String, u64, u64)> {
    let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or(u64::MAX);
    readelf(&["-lW"], file)
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("Type"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| !l.trim_start().starts_with('['))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0].to_owned(), hex(f[4]), hex(f[f.len() - 1]))
        })
        .collect()
}

/// The segments a property note shapes, in order: `NOTE`s and
/// `GNU_PROPERTY`, with `TLS`, `GNU_EH_FRAME` and `GNU_STACK` as landmarks
/// of where they sit (the `LOAD`s and `GNU_RELRO` of a direct link differ
/// for reasons of their own: rivet always has a RW segment).
fn note_segments(file: &Path) -> Vec<(String, u64, u64)> {
    segments(file)
        .into_iter()
        .filter(|(t, _, _)| t != "LOAD" && t != "GNU_RELRO")
        .map(|(t, size, align)| match t.as_str() {
            "NOTE" | "GNU_PROPERTY" => (t, size, align),
            _ => (t, 0, 0),
        })
        .collect()
}

/// Checks that `GNU_PROPERTY` covers exactly `.note.gnu.property`.
fn assert_property_segment_covers_section(file: &Path) {
    let text = readelf(&["-SW"], file);
    let sec = text
        .lines()
        .find(|l| l.contains(" .note.gnu.property "))
        .unwrap_or_else(|| panic!("{}: no .note.gnu.property", file.display()));
    let f: Vec<&str> = sec.split_whitespace().collect();
    let i = f.iter().position(|w| *w == ".note.gnu.property").unwrap();
    let (off, size) = (f[i + 3], f[i + 4]);
    let ph = readelf(&["-lW"], file);
    let seg = ph
        .lines()
        .find(|l| l.trim_start().starts_with("GNU_PROPERTY"))
        .unwrap_or_else(|| panic!("{}: no GNU_PROPERTY", file.display()));
    let g: Vec<&str> = seg.split_whitespace().collect();
    let num = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
    assert_eq!(
        (num(g[1]), num(g[4])),
        (num(off), num(size)),
        "{}: GNU_PROPERTY does not cover .note.gnu.property",
        file.display()
    );
}

/// The lines of a linker's stderr without the program name that starts
/// each (`ld.bfd: `, `rivet: `, a path), so GNU ld's and the tested
/// linker's messages compare.
fn messages(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .map(|l| l.split_once(": ").map_or(l, |(_, rest)| rest).to_owned())
        .collect()
}

/// Runs GNU ld (`ld.bfd`) and the linker under test directly on `args`,
/// writing `NAME.ref` and `NAME.test`; returns both outcomes and paths.
fn link_both(ws: &Workspace, args: &[String], name: &str) -> [(Outcome, PathBuf); 2] {
    let run = |cmd: &mut Command, out: &str| {
        let path = ws.join(out);
        let o = run_with_timeout(
            cmd.current_dir(ws.path()).args(args).arg("-o").arg(&path),
            std::time::Duration::from_secs(180),
        );
        (o, path)
    };
    [
        run(&mut Command::new("ld.bfd"), &format!("{name}.ref")),
        run(&mut Command::new(linker()), &format!("{name}.test")),
    ]
}

/// Links directly both ways (both must succeed and say the same); runs
/// both programs and compares; returns (reference, tested).
fn direct(ws: &Workspace, objs: &[&PathBuf], flags: &[&str], name: &str) -> (PathBuf, PathBuf) {
    let mut args: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
    args.extend(objs.iter().map(|o| path_str(o)));
    let [(r, reference), (t, tested)] = link_both(ws, &args, name);
    assert!(r.status.success(), "{name}: GNU ld failed:\n{}", r.stderr);
    assert!(
        t.status.success(),
        "{name}: tested linker failed:\n{}",
        t.stderr
    );
    assert_eq!(messages(&t.stderr), messages(&r.stderr), "{name}: messages");
    let (rr, tr) = (run_exe(&reference), run_exe(&tested));
    assert_eq!(rr.stdout, "ok\n", "{name}: the GNU ld build does not run");
    assert_same_run(&rr, &tr, name);
    (reference, tested)
}

/// Asserts the tested output's properties and note segments are GNU ld's.
fn assert_same_notes(reference: &Path, tested: &Path, what: &str) {
    assert_eq!(
        properties(tested),
        properties(reference),
        "{what}: properties"
    );
    assert_eq!(
        note_segments(tested),
        note_segments(reference),
        "{what}: NOTE/GNU_PROPERTY segments (type, file size, alignment)"
    );
    if !properties(reference).is_empty() {
        assert_property_segment_covers_section(tested);
    }
}

/// Objects, linker flags, a name, and the X86_FEATURE_1_AND bits expected.
type ZCase<'a> = (&'a [&'a PathBuf], &'a [&'a str], &'a str, &'a [&'a str]);

/// A corrupt note: a name, its descriptor's assembly and size, what GNU ld
/// says about it, and the output's properties (rivet).
type CorruptCase<'a> = (&'a str, &'a str, u32, &'a str, &'a [&'a str]);

/// A program without libc: `_start` prints "ok" with a system call and
/// exits 0 if `twice` (another object) and `helper` (assembly) work.
const START: &str = r#"
extern int twice(int);
extern int helper(int);
static long sys(long n, long a, long b, long c) {
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}
void _start(void) {
    static const char msg[] = "ok\n";
    sys(1, 1, (long)msg, 3);
    sys(60, twice(21) == 42 && helper(7) == 7 ? 0 : 1, 0, 0);
    for (;;) {}
}
"#;

const TWICE: &str = "int twice(int x) { return 2 * x; }\n";

/// Assembly without any property note, as `as` writes it by default.
const HELPER: &str = ".section .note.GNU-stack,\"\",@progbits\n\
                      .text\n.globl helper\nhelper:\n\tmov %edi, %eax\n\tret\n";

const NOSSP: &str = "-fno-stack-protector";

/// `_start` and `twice` built with `cf` (`-fcf-protection=...`), and the
/// assembly helper.
fn freestanding(ws: &Workspace, cf: &str, tag: &str) -> (PathBuf, PathBuf) {
    let start = ws.compile_text(&format!("start_{tag}.c"), START, &["-O2", NOSSP, cf]);
    let twice = ws.compile_text(&format!("twice_{tag}.c"), TWICE, &["-O2", cf]);
    (start, twice)
}

linker_test! {
    /// X86_FEATURE_1_AND survives only when every object has it: all
    /// objects built with `-fcf-protection=full` keep IBT and SHSTK, one
    /// object with `=return` keeps SHSTK, an assembly object without a note
    /// drops the property and, with nothing else left, the note.
    fn feature_and_needs_every_object() {
        let ws = Workspace::new("feature_and");
        let (start, twice) = freestanding(&ws, "-fcf-protection=full", "full");
        let (_, twice_ret) = freestanding(&ws, "-fcf-protection=return", "ret");
        let helper = ws.assemble("helper", HELPER);
        let helper_cf = ws.compile_text(
            "helper_cf.c",
            "int helper(int x) { return x; }\n",
            &["-O2", "-fcf-protection=full"],
        );

        let (r, t) = direct(&ws, &[&start, &twice, &helper_cf], &[], "all_cf");
        assert_eq!(properties(&r), ["Properties: x86 feature: IBT, SHSTK"], "GNU ld's rule changed");
        assert!(segments(&r).iter().any(|s| s.0 == "GNU_PROPERTY"), "GNU ld's rule changed");
        assert_same_notes(&r, &t, "every object with IBT and SHSTK");

        let (r, t) = direct(&ws, &[&start, &twice_ret, &helper_cf], &[], "one_return");
        assert_eq!(properties(&r), ["Properties: x86 feature: SHSTK"], "GNU ld's rule changed");
        assert_same_notes(&r, &t, "one object with SHSTK only");

        let (r, t) = direct(&ws, &[&start, &twice, &helper], &[], "with_asm");
        assert!(properties(&r).is_empty(), "GNU ld's rule changed: {:?}", properties(&r));
        assert!(!segments(&r).iter().any(|s| s.0 == "GNU_PROPERTY"), "GNU ld's rule changed");
        assert_same_notes(&r, &t, "an assembly object without a note");
        // The assembly object first: which object holds the note must not matter.
        let (r, t) = direct(&ws, &[&helper, &start, &twice], &[], "asm_first");
        assert_same_notes(&r, &t, "the assembly object first");
    }
}

linker_test! {
    /// `-z ibt` and `-z shstk` force their bits in even when an object
    /// lacks them (and create the note when none has one); `-z ibt` keeps
    /// the SHSTK the objects agree on.
    fn z_ibt_and_shstk_force_the_bits() {
        let ws = Workspace::new("z_ibt_shstk");
        let (start, twice) = freestanding(&ws, "-fcf-protection=full", "full");
        let (start_none, twice_none) = freestanding(&ws, "-fcf-protection=none", "none");
        let helper = ws.assemble("helper", HELPER);
        let cf = [&start, &twice, &helper];
        let none = [&start_none, &twice_none, &helper];
        let cases: [ZCase; 5] = [
            (&cf, &["-z", "ibt", "-z", "shstk"], "both", &["IBT, SHSTK"]),
            (&cf, &["-z", "ibt"], "ibt", &["IBT"]),
            (&none, &["-zshstk"], "shstk_no_notes", &["SHSTK"]),
            (&cf, &["-z", "shstk"], "shstk", &["SHSTK"]),
            (&none, &[], "none", &[]),
        ];
        for (objs, flags, name, features) in cases {
            let (r, t) = direct(&ws, objs, flags, name);
            let expected: Vec<String> = features
                .iter()
                .map(|f| format!("Properties: x86 feature: {f}"))
                .collect();
            assert_eq!(properties(&r), expected, "{name}: GNU ld's rule changed");
            assert_same_notes(&r, &t, name);
        }
        // `-z ibt` with objects that all have SHSTK: both bits.
        let (_, twice_ret) = freestanding(&ws, "-fcf-protection=return", "ret");
        let helper_cf = ws.compile_text(
            "helper_cf.c",
            "int helper(int x) { return x; }\n",
            &["-O2", "-fcf-protection=return"],
        );
        let (start_ret, _) = freestanding(&ws, "-fcf-protection=return", "ret2");
        let (r, t) = direct(&ws, &[&start_ret, &twice_ret, &helper_cf], &["-z", "ibt"], "ibt_keeps_shstk");
        assert_eq!(properties(&r), ["Properties: x86 feature: IBT, SHSTK"], "GNU ld's rule changed");
        assert_same_notes(&r, &t, "-z ibt over SHSTK objects");
    }
}

linker_test! {
    /// `-z x86-64-v2` etc. add to X86_ISA_1_NEEDED (the last one given
    /// counts); `-z stack-size=N` sets the stack size property and
    /// `PT_GNU_STACK`'s size; a bad level is refused.
    fn isa_level_and_stack_size() {
        let ws = Workspace::new("isa_level");
        let (start, twice) = freestanding(&ws, "-fcf-protection=full", "full");
        let helper = ws.assemble("helper", HELPER);
        for (flags, name) in [
            (&["-z", "x86-64-v2"][..], "v2"),
            (&["-z", "x86-64-v4", "-z", "x86-64-v3"], "v3"),
            (&["-z", "stack-size=0x300000"], "stack"),
            (&["-z", "stack-size=0x300000", "-z", "ibt"], "stack_ibt"),
        ] {
            let (r, t) = direct(&ws, &[&start, &twice, &helper], flags, name);
            assert!(!properties(&r).is_empty(), "{name}: GNU ld's rule changed");
            assert_same_notes(&r, &t, name);
            let stack = |f: &Path| {
                readelf(&["-lW"], f)
                    .lines()
                    .find(|l| l.trim_start().starts_with("GNU_STACK"))
                    .map(|l| l.split_whitespace().nth(5).unwrap_or("").to_owned())
            };
            assert_eq!(stack(&t), stack(&r), "{name}: GNU_STACK size");
        }
        let o = run_linker(ws.path(), ["-z", "x86-64-v5", &path_str(&start), "-o", "bad"]);
        assert_eq!(o.code(), 1, "-z x86-64-v5 accepted");
        assert!(o.stderr.contains("invalid x86-64 ISA level: x86-64-v5"), "{}", o.stderr);
    }
}

linker_test! {
    /// `-z cet-report=warning|error` names each object without IBT or
    /// SHSTK in GNU ld's words (an archive member as `lib.a(member.o)`);
    /// `-z ibt` stops the IBT half; errors fail the link and leave no
    /// output; `-w` silences warnings and `--fatal-warnings` fails on them.
    fn cet_report_names_objects() {
        let ws = Workspace::new("cet_report");
        let (start, twice) = freestanding(&ws, "-fcf-protection=full", "full");
        let (_, twice_ret) = freestanding(&ws, "-fcf-protection=return", "ret");
        let (_, twice_br) = freestanding(&ws, "-fcf-protection=branch", "br");
        let helper = ws.assemble("helper", HELPER);
        let archive = ws.join("libhelper.a");
        run_tool(Command::new("ar").arg("rcs").arg(&archive).arg(&helper));
        let with = |v: &[&str], objs: &[&PathBuf]| -> Vec<String> {
            let mut a: Vec<String> = v.iter().map(|s| s.to_string()).collect();
            a.extend(objs.iter().map(|o| path_str(o)));
            a
        };

        let args = with(&["-z", "cet-report=warning"], &[&start, &twice_ret, &archive]);
        let [(r, reference), (t, tested)] = link_both(&ws, &args, "warn");
        assert!(r.status.success() && t.status.success(), "{}\n{}", r.stderr, t.stderr);
        let expected = messages(&r.stderr);
        assert_eq!(expected.len(), 2, "GNU ld's messages changed: {expected:?}");
        assert!(expected[0].ends_with("warning: missing IBT property"), "{expected:?}");
        assert!(expected[1].contains("libhelper.a(helper.o)"), "{expected:?}");
        assert_eq!(messages(&t.stderr), expected, "-z cet-report=warning");
        assert_same_run(&run_exe(&reference), &run_exe(&tested), "warn");

        let args = with(&["-z", "ibt", "-z", "cet-report=warning"], &[&start, &twice_br, &helper]);
        let [(r, _), (t, _)] = link_both(&ws, &args, "warn_ibt");
        assert!(r.stderr.contains("missing SHSTK property"), "GNU ld changed: {}", r.stderr);
        assert_eq!(messages(&t.stderr), messages(&r.stderr), "-z ibt -z cet-report=warning");

        let args = with(&["-z", "cet-report=error"], &[&start, &twice, &helper]);
        let [(r, rout), (t, tout)] = link_both(&ws, &args, "error");
        assert_eq!((r.code(), rout.exists()), (1, false), "GNU ld changed: {}", r.stderr);
        assert_eq!((t.code(), tout.exists()), (1, false), "-z cet-report=error: {}", t.stderr);
        assert_eq!(messages(&t.stderr), messages(&r.stderr), "-z cet-report=error");

        for (extra, name) in [(&["-w"][..], "quiet"), (&["--fatal-warnings"], "fatal")] {
            let mut flags = extra.to_vec();
            flags.extend(["-z", "cet-report=warning"]);
            let args = with(&flags, &[&start, &twice, &helper]);
            let [(r, rout), (t, tout)] = link_both(&ws, &args, name);
            assert_eq!(
                (t.status.success(), tout.exists()),
                (r.status.success(), rout.exists()),
                "{name}: {}\n{}",
                r.stderr,
                t.stderr
            );
            let warned = |s: &str| s.contains("missing IBT and SHSTK properties");
            assert_eq!(warned(&t.stderr), warned(&r.stderr), "{name}: {}", t.stderr);
        }
        // The last -z cet-report wins.
        let args = with(&["-z", "cet-report=error", "-z", "cet-report=none"], &[&start, &twice, &helper]);
        let [(r, _), (t, _)] = link_both(&ws, &args, "none");
        assert!(r.status.success(), "GNU ld changed: {}", r.stderr);
        assert!(t.status.success() && t.stderr.is_empty(), "{}", t.stderr);
        let o = run_linker(ws.path(), ["-z", "cet-report=loud", &path_str(&start)]);
        assert_eq!(o.code(), 1, "-z cet-report=loud accepted");
        assert!(o.stderr.contains("invalid option for -z cet-report=: loud"), "{}", o.stderr);
    }
}

/// An object whose `.note.gnu.property` holds one note with `desc` (the
/// assembler lines of its descriptor, `size` bytes).
fn note_object(ws: &Workspace, name: &str, desc: &str, size: u32) -> PathBuf {
    ws.assemble(
        name,
        &format!(
            ".section .note.GNU-stack,\"\",@progbits\n\
             .section .note.gnu.property,\"a\",@note\n.p2align 3\n\
             .long 4, {size}, 5\n.asciz \"GNU\"\n{desc}\n"
        ),
    )
}

linker_test! {
    /// Corrupt property notes: GNU ld's warnings (and its one "error",
    /// which does not fail the link), printed even under `-w`; the object
    /// counts as having no properties and the program still links and runs.
    fn corrupt_notes_are_reported_not_fatal() {
        let ws = Workspace::new("corrupt_notes");
        let (start, twice) = freestanding(&ws, "-fcf-protection=full", "full");
        let helper_cf = ws.compile_text(
            "helper_cf.c",
            "int helper(int x) { return x; }\n",
            &["-O2", "-fcf-protection=full"],
        );
        // The last column: the output's properties. Only the unsupported
        // type leaves the object's other properties in force.
        let cet: &[&str] = &["Properties: x86 feature: IBT, SHSTK"];
        let cases: [CorruptCase; 7] = [
            ("odd_size", ".long 0xc0000002, 4, 3", 12,
             "corrupt GNU_PROPERTY_TYPE (5) size: 0xc", &[]),
            ("empty", "", 0, "corrupt GNU_PROPERTY_TYPE (5) size: 0", &[]),
            ("overrun", ".long 0xc0000002, 40, 3, 0", 16,
             "type (0xc0000002) datasz: 0x28", &[]),
            ("x86_size", ".long 0xc0000002, 8, 3, 0", 16,
             "<corrupt x86 property (0xc0000002) size: 0x8>", &[]),
            ("stack_size", ".long 1, 4, 5, 0", 16, "corrupt stack size: 0x4", &[]),
            ("no_copy", ".long 2, 4, 1, 0", 16, "corrupt no copy on protected size: 0x4", &[]),
            ("unknown", ".long 0xc0000002, 4, 3, 0\n.long 0x1234, 4, 3, 0", 32,
             "unsupported GNU_PROPERTY_TYPE (5) type: 0x1234", cet),
        ];
        for (name, desc, size, says, props) in cases {
            let bad = note_object(&ws, name, desc, size);
            for quiet in [false, true] {
                let flags: &[&str] = if quiet { &["-w"] } else { &[] };
                let tag = format!("{name}{}", if quiet { "_w" } else { "" });
                // Links, runs and compares the messages (also under -w).
                direct(&ws, &[&start, &twice, &helper_cf, &bad], flags, &tag);
            }
            let args = vec![path_str(&start), path_str(&twice), path_str(&helper_cf), path_str(&bad)];
            let [(r, _), (t, tested)] = link_both(&ws, &args, &format!("{name}_msg"));
            assert!(r.stderr.contains(says), "{name}: GNU ld changed: {}", r.stderr);
            assert_eq!(messages(&t.stderr), messages(&r.stderr), "{name}: messages");
            // GNU ld copies a corrupt note into its output as it is; rivet
            // leaves it out, so that the kernel never reads a corrupt
            // PT_GNU_PROPERTY.
            if testing_built_rivet() {
                readelf_clean(&["-n"], &tested);
                assert_eq!(properties(&tested), props, "{name}: properties");
            }
        }
    }
}

linker_test! {
    /// `gcc -static` programs built with and without `-fcf-protection`,
    /// with an assembly object, with `-z ibt -z shstk`, `--eh-frame-hdr`:
    /// the notes and segments are GNU ld's (glibc's objects have no
    /// X86_FEATURE_1_AND on this system, crt1.o needs the baseline ISA), the
    /// programs run alike, and with IBT the IFUNC stubs start with endbr64.
    fn static_programs_match_gnu_ld() {
        let ws = Workspace::new("static_programs");
        let src = "#include <stdio.h>\n#include <string.h>\nextern int helper(int);\n\
                   int main(void) {\n  char b[32];\n  strcpy(b, \"ok\");\n\
                   printf(\"%s %d %zu\\n\", b, helper(5), strlen(b));\n  return 0;\n}\n";
        let helper = ws.assemble("helper", HELPER);
        let helper_c = ws.compile_text(
            "helper_c.c",
            "int helper(int x){return x;}\n",
            &["-O2", "-fcf-protection=full"],
        );
        for (cf, with_asm) in [("none", true), ("full", false), ("full", true)] {
            let cf_flag = format!("-fcf-protection={cf}");
            let main = ws.compile_text(&format!("main_{cf}.c"), src, &["-O2", &cf_flag]);
            let h = if with_asm { &helper } else { &helper_c };
            let variants = [&[][..], &["-Wl,-z,ibt,-z,shstk"], &["-Wl,--eh-frame-hdr,-z,x86-64-v2"]];
            for flags in variants {
                let asm = if with_asm { "_asm" } else { "" };
                let what = format!("{cf}{asm}{}", flags.join("").replace([',', '-', '='], "_"));
                let mut args = vec![path_str(&main), path_str(h)];
                args.extend(flags.iter().map(|s| s.to_string()));
                let (r, t, out) = link_and_compare(&ws, "gcc", &args, &what);
                assert_eq!(out, "ok 5 2\n", "{what}");
                assert!(!properties(&r).is_empty(), "{what}: GNU ld's output has no properties");
                let types = |f: &Path| segments(f).into_iter().map(|s| s.0).collect::<Vec<_>>();
                assert_eq!(types(&t), types(&r), "{what}: program header types");
                assert_same_notes(&r, &t, &what);
                let endbr = |f: &Path| {
                    let o = run_tool(Command::new("objdump").args(["-d", "-j", ".plt"]).arg(f));
                    o.stdout.matches("endbr64").count()
                };
                let ibt = flags.iter().any(|f| f.contains("ibt"));
                assert_eq!(endbr(&r) > 0, ibt, "{what}: GNU ld's IFUNC stubs changed");
                assert_eq!(endbr(&t), endbr(&r), "{what}: IFUNC stubs with endbr64");
            }
        }
    }
}

linker_test! {
    /// `-r` merges the notes too, into one `.note.gnu.property` ahead of
    /// every other section but the groups, and the result links as the
    /// objects would.
    fn relocatable_merges_notes() {
        let ws = Workspace::new("relocatable_notes");
        let (start, twice) = freestanding(&ws, "-fcf-protection=full", "full");
        let (_, twice_ret) = freestanding(&ws, "-fcf-protection=return", "ret");
        let helper = ws.assemble("helper", HELPER);
        let cxx = ws.compile_text(
            "inline.cpp",
            "inline int f(int x) { return x + 1; }\nint use(int y) { return f(y); }\n",
            &["-O0", "-fcf-protection=full"],
        );
        let first_sections = |f: &Path| -> Vec<String> {
            section_names(f)
                .into_iter()
                .filter(|n| n != ".group" && n != "NULL")
                .take(1)
                .collect()
        };
        for (objs, flags, name) in [
            (vec![&start, &twice], &[][..], "cf"),
            (vec![&start, &twice_ret, &cxx], &[], "ret_cxx"),
            (vec![&twice, &start, &helper], &[], "asm"),
            (vec![&helper, &start], &["-z", "ibt"], "z_ibt"),
        ] {
            let mut args: Vec<String> = vec!["-r".into()];
            args.extend(flags.iter().map(|s| s.to_string()));
            args.extend(objs.iter().map(|o| path_str(o)));
            let [(r, reference), (t, tested)] = link_both(&ws, &args, name);
            assert!(r.status.success() && t.status.success(), "{name}: {}\n{}", r.stderr, t.stderr);
            assert_eq!(properties(&tested), properties(&reference), "{name}: -r properties");
            let has = !properties(&reference).is_empty();
            assert_eq!(has, name != "asm", "{name}: GNU ld's rule changed");
            if has {
                assert_eq!(first_sections(&reference), [".note.gnu.property"], "GNU ld changed");
                assert_eq!(first_sections(&tested), first_sections(&reference), "{name}: section order");
            }
            assert_eq!(
                section_names(&tested).iter().filter(|n| *n == ".note.gnu.property").count(),
                usize::from(has),
                "{name}: one merged note"
            );
        }
        // The merged object links like its parts.
        let r_obj = ws.join("cf.test");
        let helper_cf = ws.compile_text(
            "helper_cf.c",
            "int helper(int x){return x;}\n",
            &["-O2", "-fcf-protection=full"],
        );
        let (r, t) = direct(&ws, &[&r_obj, &helper_cf], &[], "from_r");
        assert_eq!(properties(&r), ["Properties: x86 feature: IBT, SHSTK"], "GNU ld's rule changed");
        assert_same_notes(&r, &t, "linked from -r output");
    }
}
