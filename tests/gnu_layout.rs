//! What `readelf` shows of a static executable's layout, against GNU ld's:
//! the order of the notes and their `PT_NOTE` segments, the segments a
//! program without writable data gets, and the attributes of the symbols
//! the linker defines. Programs linked with `gcc -static` and programs
//! linked directly (no libc) are built both ways, run, and compared.

#[macro_use]
mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Links `objs` directly with GNU ld and with the linker under test (both
/// must succeed), runs both and compares; returns (reference, tested).
fn direct(ws: &Workspace, objs: &[&Path], flags: &[&str], name: &str) -> (PathBuf, PathBuf) {
    let link = |ld: &Path, out: &str| {
        let path = ws.join(out);
        run_tool(
            Command::new(ld)
                .current_dir(ws.path())
                .args(flags)
                .args(objs)
                .arg("-o")
                .arg(&path),
        );
        path
    };
    let reference = link(Path::new("ld.bfd"), &format!("{name}.ref"));
    let tested = link(&linker(), &format!("{name}.test"));
    assert_same_run(&run_exe(&reference), &run_exe(&tested), name);
    (reference, tested)
}

/// Builds C source `src` with `gcc -static` both ways (extra link flags
/// `flags`), runs both and compares; returns (reference, tested).
fn static_c(ws: &Workspace, name: &str, src: &str, flags: &[&str]) -> (PathBuf, PathBuf) {
    let obj = ws.compile_text(&format!("{name}.c"), src, &["-O2"]);
    let objs = [obj];
    let reference = ws.link_reference(Lang::C, &objs, flags, &format!("{name}.ref"));
    let tested = ws.link_tested(Lang::C, &objs, flags, &format!("{name}.test"));
    let r = run_exe(&reference);
    assert!(r.status.success(), "{name}: the GNU ld build fails");
    assert_same_run(&r, &run_exe(&tested), name);
    (reference, tested)
}

/// Each program header's type and the sections it holds, from `readelf -lW`.
fn segment_map(file: &Path) -> Vec<(String, Vec<String>)> {
    let text = readelf(&["-lW"], file);
    let types = segment_types(file);
    let sections: Vec<Vec<String>> = text
        .lines()
        .skip_while(|l| !l.contains("Section to Segment mapping"))
        .skip(2)
        .take(types.len())
        .map(|l| l.split_whitespace().skip(1).map(str::to_owned).collect())
        .collect();
    types.into_iter().zip(sections).collect()
}

/// The allocated notes in section header order, and the sections of each
/// `PT_NOTE`.
fn notes(file: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = readelf(&["-SW"], file);
    let order = text
        .lines()
        .filter(|l| l.contains(" NOTE "))
        .filter_map(|l| {
            let l = l.trim_start().strip_prefix('[')?;
            l.split_once(']')?
                .1
                .split_whitespace()
                .next()
                .map(str::to_owned)
        })
        .collect();
    let segments = segment_map(file)
        .into_iter()
        .filter(|(t, _)| t == "NOTE")
        .map(|(_, s)| s)
        .collect();
    (order, segments)
}

fn assert_same_notes(reference: &Path, tested: &Path, what: &str) {
    assert_eq!(
        notes(tested),
        notes(reference),
        "{what}: notes and PT_NOTE segments"
    );
}

const HELLO: &str = "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n";

/// `_start` exits with status 7 (no libc, no data).
const EXIT7: &str = ".text\n.globl _start\n_start:\n\tmov $60, %eax\n\tmov $7, %edi\n\tsyscall\n";

/// `_start` exits with the status it loads from `x`, which `data` defines.
fn exit_with_x(data: &str) -> String {
    format!(
        ".section .note.GNU-stack,\"\",@progbits\n.text\n.globl _start\n_start:\n\t\
         mov x(%rip), %edi\n\tmov $60, %eax\n\tsyscall\n{data}\n"
    )
}

/// The allocated sections (name, type, flags, alignment), from `readelf -SW`.
fn alloc_sections(file: &Path) -> Vec<String> {
    readelf(&["-SW"], file)
        .lines()
        .filter_map(|l| {
            let l = l.trim_start().strip_prefix('[')?;
            let f: Vec<&str> = l.split_once(']')?.1.split_whitespace().collect();
            // name type addr off size es flags [lk inf al]
            (f.len() == 10 && f[6].contains('A'))
                .then(|| format!("{} {} {} align {}", f[0], f[1], f[6], f[9]))
        })
        .collect()
}

/// Asserts the tested output's program headers (types and the sections in
/// each) and allocated sections are GNU ld's.
fn assert_same_segments(reference: &Path, tested: &Path, what: &str) {
    assert_eq!(
        segment_map(tested),
        segment_map(reference),
        "{what}: program headers and their sections"
    );
    assert_eq!(
        alloc_sections(tested),
        alloc_sections(reference),
        "{what}: allocated sections"
    );
    let null_header = |f: &Path| {
        let text = readelf(&["-SW"], f);
        text.lines().find(|l| l.contains("[ 0]")).map(str::to_owned)
    };
    assert_eq!(
        null_header(tested),
        null_header(reference),
        "{what}: section header 0"
    );
}

/// Three notes of alignment 4, 8 and 4, in that order.
const NOTES: &str = r#"
.macro note name, align
.section \name, "a", @note
.p2align \align
.long 2, 4, 1
.asciz "x"
.balign 4
.long 0
.endm
note .note.a, 2
note .note.b, 3
note .note.c, 2
"#;

linker_test! {
    /// GNU ld's script names `.note.gnu.build-id`; every other note is an
    /// orphan placed by alignment: glibc's `.note.ABI-tag` after the build
    /// ID, the 8-aligned `.note.gnu.property` (and any 8-aligned note)
    /// before it, each alignment run in a `PT_NOTE` of its own.
    fn notes_in_gnu_order() {
        let ws = Workspace::new("notes_in_gnu_order");
        let (r, t) = static_c(&ws, "hello", HELLO, &["-Wl,--build-id"]);
        assert_same_notes(&r, &t, "gcc -static --build-id");
        let (r, t) = static_c(&ws, "hello_noid", HELLO, &["-Wl,--build-id=none"]);
        assert_same_notes(&r, &t, "gcc -static --build-id=none");
        let start = ws.assemble("exit7", EXIT7);
        let note_obj = ws.assemble("notes", NOTES);
        for (flags, name) in [(&["--build-id"][..], "notes_id"), (&[][..], "notes")] {
            let (r, t) = direct(&ws, &[&start, &note_obj], flags, name);
            assert_same_notes(&r, &t, name);
        }
        let (r, _) = direct(&ws, &[&start, &note_obj], &["--build-id"], "check");
        let order = notes(&r).0;
        assert_eq!(order, [".note.b", ".note.gnu.build-id", ".note.a", ".note.c"]);
    }
}

linker_test! {
    /// A program without writable data gets no RW `PT_LOAD` and no
    /// `PT_GNU_RELRO` (the empty `.data` and `.bss` every `as` object has
    /// are dropped, and so is an unused `.got.plt`); `.bss` alone gets a RW
    /// segment without `PT_GNU_RELRO`; `.tbss` alone only a `PT_TLS`.
    fn no_rw_data_no_rw_segment() {
        let ws = Workspace::new("no_rw_data_no_rw_segment");
        let cases = [
            ("nodata", ".section .rodata\nx: .long 7"),
            ("data", ".data\nx: .long 9"),
            ("bss", ".bss\nx: .long 0"),
            (
                "tbss",
                ".section .rodata\nx: .long 3\n.section .tbss,\"awT\",@nobits\n\
                 t: .long 0\n.text\nmov %fs:t@tpoff, %eax",
            ),
            ("tdata", ".section .rodata\nx: .long 4\n.section .tdata,\"awT\",@progbits\nt: .long 1"),
            ("relro", ".section .rodata\nx: .long 5\n.section .data.rel.ro,\"aw\"\ny: .quad x"),
        ];
        for (name, data) in cases {
            let obj = ws.assemble(name, &exit_with_x(data));
            let (r, t) = direct(&ws, &[&obj], &[], name);
            assert_same_segments(&r, &t, name);
        }
        // (GNU ld's IFUNC PLT has 8-byte entries and alignment 8, rivet's
        // 16: only the segments are compared here.)
        let (r, t) = static_c(&ws, "hello", HELLO, &[]);
        assert_eq!(segment_map(&t), segment_map(&r), "gcc -static: program headers");
    }
}

linker_test! {
    /// `.text` holds its input sections in the groups of GNU ld's script:
    /// cold code, exit code, startup code (`main`, constructors), hot code,
    /// then the rest. With -ffunction-sections too, where each function's
    /// section name carries the group (`.text.unlikely.f`, `.text.hot.h`).
    fn text_groups_in_gnu_order() {
        let ws = Workspace::new("text_groups");
        let src = "#include <stdio.h>\n\
            __attribute__((cold, noinline)) void cold_fn(void) { puts(\"cold\"); }\n\
            __attribute__((hot, noinline)) void hot_fn(void) { puts(\"hot\"); }\n\
            __attribute__((noinline)) void plain_fn(void) { puts(\"plain\"); }\n\
            __attribute__((constructor)) static void ctor_fn(void) { puts(\"ctor\"); }\n\
            __attribute__((destructor)) static void dtor_fn(void) { puts(\"dtor\"); }\n\
            int main(int argc, char **argv) { (void)argv; hot_fn(); plain_fn(); if (argc > 5) cold_fn(); return 0; }\n";
        let names = ["cold_fn", "hot_fn", "plain_fn", "ctor_fn", "dtor_fn", "main"];
        let order = |exe: &Path| {
            let mut by_addr: Vec<(u64, &str)> = names
                .iter()
                .map(|n| (symbol_address(exe, n).unwrap_or_else(|| panic!("no {n} in {}", exe.display())), *n))
                .collect();
            by_addr.sort();
            by_addr.into_iter().map(|(_, n)| n).collect::<Vec<_>>()
        };
        for (tag, flags) in [("plain", &[][..]), ("fsections", &["-ffunction-sections"][..])] {
            let obj = ws.compile_text(&format!("{tag}.c"), src, &[&["-O2"][..], flags].concat());
            let objs = [obj];
            let reference = ws.link_reference(Lang::C, &objs, &[], &format!("{tag}.ref"));
            let tested = ws.link_tested(Lang::C, &objs, &[], &format!("{tag}.test"));
            assert_same_run(&run_exe(&reference), &run_exe(&tested), tag);
            let want = order(&reference);
            assert_eq!(want.first(), Some(&"cold_fn"), "{tag}: GNU ld's order changed: {want:?}");
            assert_eq!(order(&tested), want, "{tag}: .text order differs from GNU ld's");
        }
    }
}
