//! GNU ld's `.gnu.warning` link-time warnings: a `.gnu.warning.SYM`
//! section's text is printed when the link refers to SYM, a plain
//! `.gnu.warning` section's when its object is loaded. Only what GNU ld does
//! too is asserted (the warning text and the referring file in stderr, exit
//! status 0, the sections left out of executables and `.gnu.warning.SYM`
//! kept by `-r`), so the tests pass with `RIVET_LINKER=/usr/bin/ld.bfd`.

#[macro_use]
mod common;

use common::*;
use std::process::Command;

/// Defines `foo` (which warns) and `bar` (which does not).
const DEF_S: &str = "\
    .text
    .globl foo
    .type foo,@function
foo: ret
    .size foo,.-foo
    .globl bar
    .type bar,@function
bar: ret
    .size bar,.-bar
    .section .gnu.warning.foo,\"\",@progbits
    .string \"foo is deprecated, use bar\"
";

/// `_start` calls `foo` twice, then exits 0.
const USE_S: &str = "\
    .text
    .globl _start
    .type _start,@function
_start:
    call foo
    call foo
    mov $60, %eax
    xor %edi, %edi
    syscall
    .size _start,.-_start
";

/// Another caller of `foo`.
const USE2_S: &str = "\
    .text
    .globl other
    .type other,@function
other:
    call foo
    ret
";

/// Calls only `bar`.
const NOUSE_S: &str = "\
    .text
    .globl _start
    .type _start,@function
_start:
    call bar
    mov $60, %eax
    xor %edi, %edi
    syscall
";

/// Refers to `foo` only from `.text.dead`, which `--gc-sections` drops.
const DEADREF_S: &str = "\
    .text
    .globl _start
    .type _start,@function
_start:
    mov $60, %eax
    xor %edi, %edi
    syscall
    .section .text.dead,\"ax\",@progbits
    .globl dead
    .type dead,@function
dead:
    call foo
";

/// An object that warns when it is loaded.
const PLAIN_S: &str = "\
    .text
    .globl _start
_start:
    mov $60, %eax
    xor %edi, %edi
    syscall
    .section .gnu.warning,\"\",@progbits
    .string \"this object is haunted\"
";

const FOO_WARNING: &str = "warning: foo is deprecated, use bar";

/// Links `args` with the linker under test; it must succeed (exit 0).
fn link_ok(ws: &Workspace, args: &[&str]) -> Outcome {
    let o = run_linker(ws.path(), args);
    assert_eq!(o.code(), 0, "linking {args:?} failed:\n{}", o.stderr);
    o
}

fn has_warning_section(file: &std::path::Path) -> bool {
    section_names(file)
        .iter()
        .any(|n| n.starts_with(".gnu.warning"))
}

/// The exe must run and exit 0, and hold no `.gnu.warning*` section.
fn assert_clean_exe(ws: &Workspace, name: &str) {
    let exe = ws.join(name);
    assert!(
        !has_warning_section(&exe),
        "{name} holds a .gnu.warning section: {:?}",
        section_names(&exe)
    );
    let r = run_exe(&exe);
    assert_eq!(r.code(), 0, "{name} exited {}: {}", r.code(), r.stderr);
}

linker_test! {
    fn glibc_getaddrinfo_warns() {
        let ws = Workspace::new("glibc_getaddrinfo");
        let src = ws.join("g.c");
        std::fs::write(
            &src,
            "#include <netdb.h>\n#include <stdio.h>\n\
             int main(void) {\n  struct addrinfo *r;\n  \
             printf(\"%d\\n\", getaddrinfo(\"localhost\", 0, 0, &r) == 12345);\n  return 0;\n}\n",
        )
        .unwrap();
        let obj = ws.compile(&src, &["-O0"], "");
        let exe = ws.join("g");
        let b = format!("-B{}/", ws.ld_dir().display());
        let o = run_tool(
            Command::new("gcc")
                .current_dir(ws.path())
                .args(["-static", &b])
                .arg(&obj)
                .arg("-o")
                .arg(&exe),
        );
        assert!(
            o.stderr
                .contains("warning: Using 'getaddrinfo' in statically linked applications requires at runtime the shared libraries"),
            "no getaddrinfo warning:\n{}",
            o.stderr
        );
        assert!(o.stderr.contains("g.o"), "the warning does not name g.o:\n{}", o.stderr);
        assert!(o.stderr.contains("main"), "the warning does not name main:\n{}", o.stderr);
        assert_clean_exe(&ws, "g");
        assert_eq!(run_exe(&exe).stdout, "0\n");
    }
}

linker_test! {
    fn symbol_warning_once_per_symbol() {
        let ws = Workspace::new("symbol_warning");
        ws.assemble("def", DEF_S);
        ws.assemble("use", USE_S);
        ws.assemble("use2", USE2_S);
        // GNU ld warns once for the symbol, at the first object that refers
        // to it, whether the definition comes before or after.
        for (args, out) in [
            (["use.o", "use2.o", "def.o"], "a"),
            (["def.o", "use.o", "use2.o"], "b"),
        ] {
            let mut all = args.to_vec();
            all.extend(["-o", out]);
            let o = link_ok(&ws, &all);
            assert_eq!(
                o.stderr.matches(FOO_WARNING).count(),
                1,
                "{all:?}: want one warning:\n{}",
                o.stderr
            );
            let line = o.stderr.lines().find(|l| l.contains("use")).unwrap_or("");
            assert!(
                line.contains("use.o") && line.contains("_start"),
                "{all:?}: the warning should name use.o and _start:\n{}",
                o.stderr
            );
            assert!(!o.stderr.contains("use2.o"), "{all:?}:\n{}", o.stderr);
            assert_clean_exe(&ws, out);
        }
    }
}

linker_test! {
    fn plain_warning_when_loaded() {
        let ws = Workspace::new("plain_warning");
        ws.assemble("plain", PLAIN_S);
        let o = link_ok(&ws, &["plain.o", "-o", "p"]);
        let line = o
            .stderr
            .lines()
            .find(|l| l.contains("warning: this object is haunted"))
            .unwrap_or_else(|| panic!("no warning:\n{}", o.stderr));
        assert!(line.contains("plain.o"), "{}", o.stderr);
        assert_clean_exe(&ws, "p");
        // -r warns too and, as GNU ld, leaves the plain section out.
        let o = link_ok(&ws, &["-r", "plain.o", "-o", "merged.o"]);
        assert!(o.stderr.contains("this object is haunted"), "{}", o.stderr);
        assert!(!has_warning_section(&ws.join("merged.o")));
    }
}

linker_test! {
    fn defined_but_unreferenced_is_silent() {
        let ws = Workspace::new("unreferenced");
        ws.assemble("def", DEF_S);
        ws.assemble("nouse", NOUSE_S);
        // A weak reference does not warn either (GNU ld), nor one from the
        // defining object itself.
        ws.assemble(
            "weakref",
            "    .text\n    .weak foo\n    .globl _start\n_start:\n    call foo\n    mov $60, %eax\n    xor %edi, %edi\n    syscall\n",
        );
        ws.assemble(
            "selfref",
            &format!("{DEF_S}    .text\n    .globl _start\n_start:\n    call foo\n    mov $60, %eax\n    xor %edi, %edi\n    syscall\n"),
        );
        for (args, out) in [
            (&["nouse.o", "def.o"][..], "n"),
            (&["weakref.o", "def.o"][..], "w"),
            (&["selfref.o"][..], "s"),
        ] {
            let mut all = args.to_vec();
            all.extend(["-o", out]);
            let o = link_ok(&ws, &all);
            assert!(!o.stderr.contains("deprecated"), "{all:?} warned:\n{}", o.stderr);
            assert_clean_exe(&ws, out);
        }
    }
}

linker_test! {
    fn relocatable_keeps_symbol_warning() {
        let ws = Workspace::new("relocatable_warning");
        ws.assemble("def", DEF_S);
        ws.assemble("use", USE_S);
        link_ok(&ws, &["-r", "def.o", "-o", "merged.o"]);
        let merged = ws.join("merged.o");
        assert!(
            section_names(&merged).iter().any(|n| n == ".gnu.warning.foo"),
            "-r dropped .gnu.warning.foo: {:?}",
            section_names(&merged)
        );
        // The warning reaches the final link.
        let o = link_ok(&ws, &["use.o", "merged.o", "-o", "e"]);
        assert!(o.stderr.contains(FOO_WARNING) && o.stderr.contains("use.o"), "{}", o.stderr);
        assert_clean_exe(&ws, "e");
        // GNU ld warns under -r as well.
        let o = link_ok(&ws, &["-r", "use.o", "def.o", "-o", "both.o"]);
        assert!(o.stderr.contains(FOO_WARNING), "{}", o.stderr);
    }
}

linker_test! {
    fn gc_sections_still_warns() {
        // GNU ld warns when symbols are read, before --gc-sections: a
        // reference from a collected section warns too.
        let ws = Workspace::new("gc_warning");
        ws.assemble("def", DEF_S);
        ws.assemble("deadref", DEADREF_S);
        let o = link_ok(&ws, &["--gc-sections", "deadref.o", "def.o", "-o", "g"]);
        assert!(
            o.stderr.contains(FOO_WARNING) && o.stderr.contains("deadref.o"),
            "{}",
            o.stderr
        );
        assert_clean_exe(&ws, "g");
        assert_eq!(symbol_address(&ws.join("g"), "dead"), None, "dead was not collected");
    }
}

linker_test! {
    fn warning_section_does_not_change_output() {
        // The same objects with and without the warning section link to
        // the same bytes.
        let ws = Workspace::new("warning_same_bytes");
        ws.assemble("use", USE_S);
        ws.assemble("defw", DEF_S);
        let plain = DEF_S.split("    .section .gnu.warning").next().unwrap();
        ws.assemble("defn", plain);
        let o = link_ok(&ws, &["use.o", "defw.o", "-o", "with"]);
        assert!(o.stderr.contains(FOO_WARNING), "{}", o.stderr);
        let o = link_ok(&ws, &["use.o", "defn.o", "-o", "without"]);
        assert!(!o.stderr.contains("deprecated"), "{}", o.stderr);
        assert!(read(&ws.join("with")) == read(&ws.join("without")), "outputs differ");
    }
}

linker_test! {
    /// `--fatal-warnings` fails the link (exit 1, the warning printed, no
    /// output, an old one removed); `--no-fatal-warnings` after it undoes
    /// it; `-w` and `--no-warnings` print nothing and succeed.
    fn fatal_warnings_and_no_warnings() {
        let ws = Workspace::new("fatal_warnings_and_no_warnings");
        ws.assemble("def", DEF_S);
        ws.assemble("use", USE_S);
        std::fs::write(ws.join("out"), "old output").unwrap();
        let o = run_linker(ws.path(), ["--fatal-warnings", "-static", "-o", "out", "use.o", "def.o"]);
        assert_eq!(o.code(), 1, "--fatal-warnings: {}", o.stderr);
        assert!(o.stderr.contains(FOO_WARNING), "{}", o.stderr);
        assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
        assert!(!ws.join("out").exists(), "--fatal-warnings left an output");

        let o = link_ok(
            &ws,
            &["--fatal-warnings", "--no-fatal-warnings", "-static", "-o", "out", "use.o", "def.o"],
        );
        assert!(o.stderr.contains(FOO_WARNING), "{}", o.stderr);
        assert_clean_exe(&ws, "out");

        for quiet in ["-w", "--no-warnings"] {
            let o = link_ok(&ws, &[quiet, "--fatal-warnings", "-static", "-o", "out", "use.o", "def.o"]);
            assert!(!o.stderr.contains("warning"), "{quiet}: {}", o.stderr);
            assert_clean_exe(&ws, "out");
        }
    }
}
