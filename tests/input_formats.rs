//! Input formats beyond plain objects: compressed debug sections (`-gz`
//! zlib, zstd, GNU's `.zdebug_*`), GCC LTO objects (IR only, and fat ones
//! that also hold code), LLVM bitcode, and SHF_EXCLUDE sections, which `-r`
//! keeps and a final link drops. Each is linked by the linker under test and
//! by GNU ld and compared; the files rivet cannot link must fail clearly.

#[macro_use]
mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How many sections of `file` are compressed, by kind ("ZLIB", "ZSTD").
fn compressed_sections(file: &Path, kind: &str) -> usize {
    readelf(&["-tW"], file)
        .lines()
        .filter(|l| l.trim_start().starts_with(&format!("{kind},")))
        .count()
}

/// Section names of `file` that start with `prefix`.
fn sections_named(file: &Path, prefix: &str) -> Vec<String> {
    section_names(file)
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .collect()
}

const DEBUG_SYMS: [&str; 5] = [
    "main",
    "debug_visible_function",
    "debug_local_helper",
    "debug_util_area",
    "debug_util_name",
];

/// The `debug` program's objects, built with `-g` plus `flags`, then
/// recompressed by `objcopy --compress-debug-sections=objcopy_kind` if given.
fn debug_objects(ws: &Workspace, flags: &[&str], objcopy_kind: Option<&str>) -> Vec<PathBuf> {
    let objs = ws.compile_program(program("debug"), flags);
    if let Some(kind) = objcopy_kind {
        for o in &objs {
            run_tool(
                Command::new("objcopy")
                    .arg(format!("--compress-debug-sections={kind}"))
                    .arg(o),
            );
        }
    }
    objs
}

/// The executable the linker under test makes from `objs` behaves as GNU
/// ld's, addr2line reads the same names and lines from both, readelf reads
/// its debug info cleanly, and nothing in it is compressed.
fn check_debug_exe(ws: &Workspace, objs: &[PathBuf]) {
    let p = program("debug");
    let (reference, tested) = ws.build_and_compare(p, objs, &[]);
    let want = locate(&reference, &DEBUG_SYMS);
    for (i, s) in DEBUG_SYMS.iter().enumerate() {
        assert_eq!(want[2 * i], *s, "reference addr2line output: {want:?}");
        assert!(
            !want[2 * i + 1].starts_with("??"),
            "reference has no line info: {want:?}"
        );
    }
    assert_eq!(
        locate(&tested, &DEBUG_SYMS),
        want,
        "addr2line of the tested build"
    );
    readelf_clean(&["--debug-dump=info,line,aranges,str,rawline"], &tested);
    assert_eq!(compressed_sections(&tested, "ZLIB"), 0);
    assert_eq!(compressed_sections(&tested, "ZSTD"), 0);
    assert!(
        sections_named(&tested, ".zdebug").is_empty(),
        "{:?}",
        section_names(&tested)
    );
}

/// `-r` of `objs`: the merged object holds uncompressed `.debug_*` sections,
/// and the program GNU ld links from it behaves and maps addresses to lines
/// as the one it links from `objs`.
fn check_debug_merge(ws: &Workspace, objs: &[PathBuf]) {
    let p = program("debug");
    let merged = ws.join("merged.o");
    let mut args = vec!["-r".to_string(), "-o".into(), path_str(&merged)];
    args.extend(objs.iter().map(|o| path_str(o)));
    link_direct(ws.path(), &args);
    assert_eq!(compressed_sections(&merged, "ZLIB"), 0);
    assert_eq!(compressed_sections(&merged, "ZSTD"), 0);
    assert!(sections_named(&merged, ".zdebug").is_empty());
    assert!(!sections_named(&merged, ".debug_info").is_empty());
    readelf_clean(&["--debug-dump=info,line"], &merged);
    let reference = ws.link_reference(p.lang, objs, &[], "debug.ref");
    let from_merged = ws.link_reference(p.lang, &[merged], &[], "debug.merged");
    let r = run_exe(&reference);
    assert_reference_ok(p, &r);
    assert_same_run(&r, &run_exe(&from_merged), "debug via -r");
    assert_eq!(
        locate(&from_merged, &DEBUG_SYMS),
        locate(&reference, &DEBUG_SYMS),
        "addr2line of the program linked from the -r output"
    );
}

linker_test! {
    /// `gcc -g -gz`: SHF_COMPRESSED sections, zlib.
    fn compressed_debug_zlib() {
        let ws = Workspace::new("compressed_debug_zlib");
        let objs = debug_objects(&ws, &["-gz"], None);
        assert!(compressed_sections(&objs[0], "ZLIB") > 0, "gcc -gz compressed nothing");
        check_debug_exe(&ws, &objs);
        check_debug_merge(&ws, &objs);
    }
}

linker_test! {
    /// SHF_COMPRESSED sections, zstd (gcc 12 has no `-gz=zstd`; objcopy
    /// makes them).
    fn compressed_debug_zstd() {
        let ws = Workspace::new("compressed_debug_zstd");
        let objs = debug_objects(&ws, &[], Some("zstd"));
        assert!(compressed_sections(&objs[0], "ZSTD") > 0, "objcopy compressed nothing");
        check_debug_exe(&ws, &objs);
        check_debug_merge(&ws, &objs);
    }
}

linker_test! {
    /// `-gz=zlib-gnu`: GNU's older `.zdebug_*` sections, which become
    /// `.debug_*`.
    fn compressed_debug_zdebug() {
        let ws = Workspace::new("compressed_debug_zdebug");
        let objs = debug_objects(&ws, &["-gz=zlib-gnu"], None);
        assert!(!sections_named(&objs[0], ".zdebug_info").is_empty());
        check_debug_exe(&ws, &objs);
        check_debug_merge(&ws, &objs);
    }
}

linker_test! {
    /// One object zlib, the other zstd, in a C++ program with COMDAT groups
    /// (their debug sections are group members too).
    fn compressed_debug_mixed_cxx() {
        let ws = Workspace::new("compressed_debug_mixed_cxx");
        let p = program("comdat");
        let objs = ws.compile_program(p, &["-g", "-gz"]);
        run_tool(Command::new("objcopy").arg("--compress-debug-sections=zstd").arg(&objs[1]));
        assert!(compressed_sections(&objs[0], "ZLIB") > 0);
        assert!(compressed_sections(&objs[1], "ZSTD") > 0);
        let (_, tested) = ws.build_and_compare(p, &objs, &[]);
        readelf_clean(&["--debug-dump=info,line"], &tested);
        let merged = ws.join("merged.o");
        let mut args = vec!["-r".to_string(), "-o".into(), path_str(&merged)];
        args.extend(objs.iter().map(|o| path_str(o)));
        link_direct(ws.path(), &args);
        let from_merged = ws.link_reference(p.lang, &[merged], &[], "comdat.merged");
        let r = run_exe(&ws.join("comdat.ref"));
        assert_same_run(&r, &run_exe(&from_merged), "comdat via -r");
    }
}

linker_test! {
    /// The output does not depend on the thread count when sections are
    /// decompressed in parallel.
    fn compressed_debug_deterministic() {
        let ws = Workspace::new("compressed_debug_deterministic");
        let objs = debug_objects(&ws, &["-gz"], None);
        let (mut relocatable, mut exes) = (Vec::new(), Vec::new());
        for n in [1, 2, 16] {
            let out = ws.join(format!("out{n}.o"));
            let mut args = vec!["-r".to_string(), "-o".into(), path_str(&out)];
            args.extend(threads_args(n));
            args.extend(objs.iter().map(|o| path_str(o)));
            link_direct(ws.path(), &args);
            relocatable.push(read(&out));
            let flags: Vec<String> = threads_args(n).iter().map(|a| format!("-Wl,{a}")).collect();
            let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
            exes.push(read(&ws.link_tested(Lang::C, &objs, &flags, &format!("out{n}"))));
        }
        assert!(relocatable.windows(2).all(|w| w[0] == w[1]), "-r outputs differ");
        assert!(exes.windows(2).all(|w| w[0] == w[1]), "executables differ");
    }
}

// ---------------------------------------------------------------------------
// Corrupt compressed sections.

/// File offset and size of section `name` of the ELF64 object `bytes`.
fn find_section(bytes: &[u8], name: &str) -> (usize, usize) {
    let u16_at = |at: usize| u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap()) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
    let shoff = u64_at(0x28);
    let shnum = u16_at(0x3c);
    let shstrndx = u16_at(0x3e);
    let shdr = |i: usize| shoff + i * 64;
    let strtab = u64_at(shdr(shstrndx) + 0x18);
    for i in 0..shnum {
        let at = strtab + u32_at(shdr(i));
        let end = at + bytes[at..].iter().position(|&b| b == 0).unwrap();
        if &bytes[at..end] == name.as_bytes() {
            return (u64_at(shdr(i) + 0x18), u64_at(shdr(i) + 0x20));
        }
    }
    panic!("no section {name}");
}

/// Links `inputs` with `-r` and as an executable; both must fail with exit
/// status 1 and a message naming each of `needles`, and leave no output.
/// Against GNU ld (harness check) only the absence of a crash is required.
fn expect_failure(ws: &Workspace, what: &str, inputs: &[&str], needles: &[&str]) {
    for (mode, out) in [
        (&["-r"][..], "out.o"),
        (&["-static", "-e", "main"][..], "out"),
    ] {
        let mut args: Vec<String> = mode.iter().map(|a| a.to_string()).collect();
        args.extend(["-o".to_string(), out.to_string()]);
        args.extend(inputs.iter().map(|i| i.to_string()));
        let o = run_linker(ws.path(), &args);
        let ctx = format!("{what} {mode:?}: exit {}, stderr:\n{}", o.code(), o.stderr);
        if linker_is_gnu_ld() {
            assert!(o.code() == 0 || o.code() == 1, "{ctx}");
            let _ = std::fs::remove_file(ws.join(out));
            continue;
        }
        assert_eq!(o.code(), 1, "{ctx}");
        assert!(!o.stderr.contains("panicked"), "{ctx}");
        for n in needles {
            assert!(
                o.stderr.contains(n),
                "{ctx}: message does not mention '{n}'"
            );
        }
        assert!(!ws.join(out).exists(), "{ctx}: output left behind");
    }
}

/// Writes `bad.o`, the zlib-compressed `-g -gz` object of `main` changed by
/// `edit` (given the bytes and `.debug_info`'s offset and size), and expects
/// linking it to fail naming the file, the section and each of `needles`.
fn corrupt_compressed(name: &str, needles: &[&str], edit: impl FnOnce(&mut Vec<u8>, usize, usize)) {
    let ws = Workspace::new(name);
    let src = ws.join("m.c");
    std::fs::write(
        &src,
        "static int helper(int x) { return x * 3; }\nint main(void) { return helper(2) - 6; }\n",
    )
    .unwrap();
    let obj = ws.compile(&src, &["-g", "-gz"], "");
    let mut bytes = read(&obj);
    let (off, size) = find_section(&bytes, ".debug_info");
    edit(&mut bytes, off, size);
    std::fs::write(ws.join("bad.o"), &bytes).unwrap();
    let mut all = vec!["bad.o", ".debug_info"];
    all.extend_from_slice(needles);
    expect_failure(&ws, name, &["bad.o"], &all);
}

linker_test! {
    fn compressed_data_corrupt() {
        corrupt_compressed("compressed_data_corrupt", &["zlib"], |b, off, size| {
            // Past the 24-byte header and the 2-byte zlib header: deflate data.
            for x in &mut b[off + 26..off + size] {
                *x ^= 0x5a;
            }
        });
    }
}

linker_test! {
    fn compressed_data_truncated_stream() {
        corrupt_compressed("compressed_data_truncated_stream", &["zlib"], |b, off, size| {
            b[off + 24 + (size - 24) / 2..off + size].fill(0);
        });
    }
}

linker_test! {
    fn compressed_size_larger_than_data() {
        corrupt_compressed("compressed_size_larger_than_data", &["zlib"], |b, off, _| {
            let size = u64::from_le_bytes(b[off + 8..off + 16].try_into().unwrap());
            b[off + 8..off + 16].copy_from_slice(&(size + 100).to_le_bytes());
        });
    }
}

linker_test! {
    fn compressed_size_smaller_than_data() {
        corrupt_compressed("compressed_size_smaller_than_data", &["zlib"], |b, off, _| {
            b[off + 8..off + 16].copy_from_slice(&16u64.to_le_bytes());
        });
    }
}

linker_test! {
    fn compressed_size_huge() {
        // A header may claim any size: nothing that large may be allocated.
        corrupt_compressed("compressed_size_huge", &["zlib"], |b, off, _| {
            b[off + 8..off + 16].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
        });
    }
}

linker_test! {
    fn compression_type_unknown() {
        corrupt_compressed("compression_type_unknown", &["compression type 7"], |b, off, _| {
            b[off..off + 4].copy_from_slice(&7u32.to_le_bytes());
        });
    }
}

linker_test! {
    fn compression_alignment_bad() {
        corrupt_compressed("compression_alignment_bad", &["alignment"], |b, off, _| {
            b[off + 16..off + 24].copy_from_slice(&3u64.to_le_bytes());
        });
    }
}

linker_test! {
    fn compression_header_truncated() {
        // The section holds less than a compression header.
        corrupt_compressed("compression_header_truncated", &["compression header"], |b, off, _| {
            let shoff = u64::from_le_bytes(b[0x28..0x30].try_into().unwrap()) as usize;
            let shnum = u16::from_le_bytes(b[0x3c..0x3e].try_into().unwrap()) as usize;
            let i = (0..shnum)
                .find(|&i| {
                    let at = shoff + i * 64 + 0x18;
                    u64::from_le_bytes(b[at..at + 8].try_into().unwrap()) as usize == off
                })
                .unwrap();
            let at = shoff + i * 64 + 0x20;
            b[at..at + 8].copy_from_slice(&10u64.to_le_bytes());
        });
    }
}

linker_test! {
    fn zstd_data_corrupt() {
        let ws = Workspace::new("zstd_data_corrupt");
        let src = ws.join("m.c");
        std::fs::write(&src, "int main(void) { return 0; }\n").unwrap();
        let obj = ws.compile(&src, &["-g"], "");
        run_tool(Command::new("objcopy").arg("--compress-debug-sections=zstd").arg(&obj));
        let mut bytes = read(&obj);
        let (off, size) = find_section(&bytes, ".debug_info");
        // Keep the frame header (magic and descriptor), break the blocks.
        for x in &mut bytes[off + 24 + 6..off + size] {
            *x ^= 0xa5;
        }
        std::fs::write(ws.join("bad.o"), &bytes).unwrap();
        expect_failure(&ws, "zstd_data_corrupt", &["bad.o"], &["bad.o", ".debug_info", "zstd"]);
    }
}

// ---------------------------------------------------------------------------
// LTO objects and bitcode.

const LTO_A: &str = "#include <stdio.h>\nint helper(int);\nint main(void){printf(\"%d\\n\", helper(20));return 0;}\n";
const LTO_B: &str = "int helper(int x){return x*2+2;}\n";

/// a.o and b.o compiled with `-O2` plus `flags`.
fn lto_objects(ws: &Workspace, flags: &[&str]) -> Vec<PathBuf> {
    [("a.c", LTO_A), ("b.c", LTO_B)]
        .iter()
        .map(|(name, text)| {
            let src = ws.join(name);
            std::fs::write(&src, text).unwrap();
            let mut all = vec!["-O2"];
            all.extend_from_slice(flags);
            ws.compile(&src, &all, "")
        })
        .collect()
}

/// `gcc -static -O2 -flto objs -o out`, with GNU ld (`reference`) or the
/// linker under test.
fn gcc_link(ws: &Workspace, objs: &[PathBuf], out: &str, reference: bool) -> Outcome {
    let mut cmd = Command::new("gcc");
    cmd.current_dir(ws.path()).args(["-static", "-O2", "-flto"]);
    if reference {
        cmd.arg("-fuse-ld=bfd");
    } else {
        cmd.arg(format!("-B{}/", ws.ld_dir().display()));
    }
    run_with_timeout(
        cmd.args(objs).arg("-o").arg(ws.join(out)),
        std::time::Duration::from_secs(180),
    )
}

linker_test! {
    /// `-flto` objects hold only GCC's IR: without an LTO plugin nothing can
    /// link them, and the linker must say so rather than report `main` as
    /// undefined (or link an empty program). `-r` merges their IR, as GNU ld
    /// -r does, and GNU ld can then link the result.
    fn lto_ir_only_objects() {
        let ws = Workspace::new("lto_ir_only_objects");
        let objs = lto_objects(&ws, &["-flto"]);
        assert!(!sections_named(&objs[0], ".gnu.lto_").is_empty());
        let r = gcc_link(&ws, &objs, "t.ref", true);
        assert!(r.status.success(), "GNU ld with the plugin: {}", r.stderr);
        assert_eq!(run_exe(&ws.join("t.ref")).stdout, "42\n");

        let o = gcc_link(&ws, &objs, "t.test", false);
        if linker_is_gnu_ld() {
            assert!(o.status.success(), "{}", o.stderr);
        } else {
            assert!(!o.status.success(), "linked IR-only objects:\n{}", o.stderr);
            for n in ["a.o", "LTO", "-ffat-lto-objects"] {
                assert!(o.stderr.contains(n), "message does not mention '{n}':\n{}", o.stderr);
            }
            assert!(!o.stderr.contains("undefined symbol"), "{}", o.stderr);
            assert!(!ws.join("t.test").exists());
        }

        let merged = ws.join("merged.o");
        link_direct(ws.path(), ["-r", "-o", &path_str(&merged), &path_str(&objs[0]), &path_str(&objs[1])]);
        let ref_merged = ws.join("ref_merged.o");
        run_tool(
            Command::new("ld.bfd")
                .current_dir(ws.path())
                .args(["-r", "-o", &path_str(&ref_merged), &path_str(&objs[0]), &path_str(&objs[1])]),
        );
        assert_eq!(
            sections_named(&merged, ".gnu.lto_").len(),
            sections_named(&ref_merged, ".gnu.lto_").len(),
            "IR sections kept by -r"
        );
        let o = gcc_link(&ws, &[merged], "t.merged", true);
        assert!(o.status.success(), "GNU ld linking the -r output: {}", o.stderr);
        assert_eq!(run_exe(&ws.join("t.merged")).stdout, "42\n");
    }
}

linker_test! {
    /// `-flto -ffat-lto-objects` objects hold code besides the IR: they link
    /// as ordinary objects, the IR (SHF_EXCLUDE) left out of the program;
    /// `-r` keeps both, as GNU ld -r does.
    fn lto_fat_objects() {
        let ws = Workspace::new("lto_fat_objects");
        let objs = lto_objects(&ws, &["-flto", "-ffat-lto-objects", "-g"]);
        let r = gcc_link(&ws, &objs, "t.ref", true);
        assert!(r.status.success(), "{}", r.stderr);
        let t = gcc_link(&ws, &objs, "t.test", false);
        assert!(t.status.success(), "{}", t.stderr);
        let (r, t) = (run_exe(&ws.join("t.ref")), run_exe(&ws.join("t.test")));
        assert_same_run(&r, &t, "fat LTO");
        assert_eq!(t.stdout, "42\n");
        let names = section_names(&ws.join("t.test"));
        assert!(
            !names.iter().any(|n| n.starts_with(".gnu.lto_") || n.starts_with(".gnu.debuglto_")),
            "{names:?}"
        );

        let merged = ws.join("merged.o");
        link_direct(ws.path(), ["-r", "-o", &path_str(&merged), &path_str(&objs[0]), &path_str(&objs[1])]);
        let ref_merged = ws.join("ref_merged.o");
        run_tool(
            Command::new("ld.bfd")
                .current_dir(ws.path())
                .args(["-r", "-o", &path_str(&ref_merged), &path_str(&objs[0]), &path_str(&objs[1])]),
        );
        for prefix in [".gnu.lto_", ".gnu.debuglto_"] {
            let sorted = |f: &Path| {
                let mut v = sections_named(f, prefix);
                v.sort();
                v
            };
            assert!(!sorted(&merged).is_empty(), "-r dropped the {prefix} sections");
            assert_eq!(sorted(&merged), sorted(&ref_merged), "{prefix} sections kept by -r");
        }
        let o = gcc_link(&ws, &[merged], "t.merged", true);
        assert!(o.status.success(), "GNU ld linking the -r output: {}", o.stderr);
        assert_eq!(run_exe(&ws.join("t.merged")).stdout, "42\n");
    }
}

linker_test! {
    /// LLVM bitcode (clang -flto), raw or wrapped, is not an object: the
    /// message names the file.
    fn llvm_bitcode_rejected() {
        let ws = Workspace::new("llvm_bitcode_rejected");
        let mut raw = b"BC\xc0\xde\x35\x14\x00\x00\x05\x00\x00\x00\x62\x0c\x30\x24".to_vec();
        raw.resize(256, 0);
        std::fs::write(ws.join("raw.o"), &raw).unwrap();
        let mut wrapped = vec![0xde, 0xc0, 0x17, 0x0b, 0, 0, 0, 0, 0x14, 0, 0, 0];
        wrapped.extend_from_slice(&raw);
        std::fs::write(ws.join("wrapped.o"), &wrapped).unwrap();
        let mut inputs = vec!["raw.o", "wrapped.o"];
        let has_clang = Command::new("clang").arg("--version").output().is_ok_and(|o| o.status.success());
        if has_clang {
            let src = ws.join("c.c");
            std::fs::write(&src, "int main(void){return 0;}\n").unwrap();
            run_tool(
                Command::new("clang")
                    .current_dir(ws.path())
                    .args(["-flto", "-c", "c.c", "-o", "clang.o"]),
            );
            inputs.push("clang.o");
        }
        for input in inputs {
            expect_failure(&ws, input, &[input], &[input, "file format not recognized"]);
        }
    }
}

// ---------------------------------------------------------------------------
// SHF_EXCLUDE.

const EXCLUDE_S: &str = r#"
    .section .myexcl,"e",@progbits
    .globl excluded_sym
excluded_sym:
    .long 1, 2, 3
    .quad f
    .text
    .globl f
f:  ret
    .section .note.GNU-stack,"",@progbits
"#;

linker_test! {
    /// `-r` keeps SHF_EXCLUDE sections with their flag and relocations, as
    /// GNU ld -r does; a final link drops them, and a symbol defined in one
    /// is undefined there, as with GNU ld.
    fn exclude_sections() {
        let ws = Workspace::new("exclude_sections");
        std::fs::write(ws.join("ex.s"), EXCLUDE_S).unwrap();
        let ex = ws.compile(&ws.join("ex.s"), &[], "");
        let merged = ws.join("r.o");
        link_direct(ws.path(), ["-r", "-o", &path_str(&merged), &path_str(&ex)]);
        let reference = ws.join("g.o");
        run_tool(Command::new("ld.bfd").args(["-r", "-o", &path_str(&reference), &path_str(&ex)]));
        let line = |f: &Path, name: &str| {
            readelf(&["-SW"], f)
                .lines()
                .find(|l| l.contains(&format!(" {name} ")))
                .map(|l| {
                    // Type, size, entry size, flags, link, info, alignment.
                    let f: Vec<&str> = l.split(']').nth(1).unwrap().split_whitespace().collect();
                    let mut v = vec![f[1].to_string()];
                    v.extend(f[4..].iter().map(|x| x.to_string()));
                    v
                })
        };
        let got = line(&merged, ".myexcl");
        assert!(got.is_some(), "-r dropped .myexcl:\n{}", readelf(&["-SW"], &merged));
        assert_eq!(got, line(&reference, ".myexcl"));
        assert_eq!(rela_counts(&merged).get(".rela.myexcl"), Some(&1));
        assert_eq!(rela_counts(&merged), rela_counts(&reference));

        // A final link leaves it out.
        let m = ws.join("m.c");
        std::fs::write(&m, "void f(void);\nint main(void){f();return 0;}\n").unwrap();
        let mo = ws.compile(&m, &[], "");
        let exe = ws.link_tested(Lang::C, &[ex.clone(), mo.clone()], &[], "t.test");
        assert!(!section_names(&exe).iter().any(|n| n == ".myexcl"));
        assert_eq!(run_exe(&exe).code(), 0);

        // What is defined there is not defined in a final link.
        let u = ws.join("u.c");
        std::fs::write(&u, "extern int excluded_sym;\nint main(void){return excluded_sym;}\n").unwrap();
        let uo = ws.compile(&u, &[], "");
        let o = run_with_timeout(
            Command::new("gcc")
                .current_dir(ws.path())
                .arg("-static")
                .arg(format!("-B{}/", ws.ld_dir().display()))
                .args([&ex, &uo])
                .arg("-o")
                .arg(ws.join("u.test")),
            std::time::Duration::from_secs(180),
        );
        assert!(!o.status.success(), "linked a reference to an excluded section's symbol");
        assert!(o.stderr.contains("excluded_sym"), "{}", o.stderr);
    }
}

linker_test! {
    /// A compressed section claiming far more than its stream could hold in
    /// real debug info (64 MiB of zeros in 64 KiB of zlib) is refused as a
    /// decompression bomb, naming the file and section, before anything is
    /// allocated for it. GNU ld inflates it; nothing to check with
    /// `RIVET_LINKER` set.
    fn decompression_bomb_is_refused() {
        if !testing_built_rivet() {
            return;
        }
        let ws = Workspace::new("decompression_bomb");
        let obj = ws.compile_text("z.c", "int x;\n", &[]);
        std::fs::write(ws.join("zeros.bin"), vec![0u8; 64 << 20]).unwrap();
        let with = ws.join("with.o");
        let bomb = ws.join("bomb.o");
        for args in [
            vec![
                "--add-section".to_string(),
                ".debug_junk=zeros.bin".into(),
                path_str(&obj),
                path_str(&with),
            ],
            vec![
                "--compress-debug-sections=zlib".into(),
                path_str(&with),
                path_str(&bomb),
            ],
        ] {
            let o = run_tool(Command::new("objcopy").current_dir(ws.path()).args(&args));
            assert!(o.status.success(), "objcopy {args:?}: {}", o.stderr);
        }
        let o = run_linker(ws.path(), ["-r", "-o", "out.o", "bomb.o"]);
        assert_eq!(o.code(), 1, "{}", o.stderr);
        for needle in ["bomb.o", ".debug_junk", "decompression bomb"] {
            assert!(o.stderr.contains(needle), "{needle}: {}", o.stderr);
        }
        assert!(!ws.join("out.o").exists());
    }
}
