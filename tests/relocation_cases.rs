//! Relocation cases found by acceptance testing: each program is built with
//! the linker under test and with GNU ld, and both builds must behave the
//! same; where behaviour cannot tell, the rewritten code is compared.

#[macro_use]
mod common;

use common::programs::Source;
use common::*;
use std::process::Command;

/// Compiles and links `p` both ways (plus `flags` at link time) and
/// compares the runs.
fn compare(
    ws: &Workspace,
    p: &Program,
    flags: &[&str],
) -> (std::path::PathBuf, std::path::PathBuf) {
    let objs = ws.compile_program(p, &[]);
    ws.build_and_compare(p, &objs, flags)
}

/// The instructions of function `func` in `exe` (objdump's mnemonic and
/// operand columns), without addresses or comments.
fn disassembly(exe: &std::path::Path, func: &str) -> Vec<String> {
    let o = run_tool(
        Command::new("objdump")
            .arg("-d")
            .arg("--no-show-raw-insn")
            .arg(exe),
    );
    let head = format!("<{func}>:");
    o.stdout
        .lines()
        .skip_while(|l| !l.ends_with(&head))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_once('\t').map(|(_, insn)| insn))
        .map(|insn| insn.split('#').next().unwrap_or("").trim().to_owned())
        .collect()
}

static TLSDESC_ASM: Program = Program {
    name: "rl_tlsdesc_asm",
    lang: Lang::C,
    sources: &[Source {
        file: "rl_tlsdesc_regs.s",
        flags: &[],
    }],
    expected_status: 0,
};

static TLSDESC_CXX: Program = Program {
    name: "rl_tlsdesc_cxx",
    lang: Lang::Cxx,
    sources: &[Source {
        file: "rl_tlsdesc_regs.cpp",
        flags: &["-O2", "-fPIC", "-mtls-dialect=gnu2"],
    }],
    expected_status: 0,
};

linker_test! {
    /// `lea x@tlsdesc(%rip), %reg` into registers other than %rax (%r12,
    /// %rcx, %r15, %rdi, %r8) relaxes to `mov $tpoff, %reg` exactly as GNU
    /// ld writes it.
    fn tlsdesc_lea_into_any_register() {
        let ws = Workspace::new("tlsdesc_lea_into_any_register");
        let (reference, tested) = compare(&ws, &TLSDESC_ASM, &[]);
        let want = disassembly(&reference, "main");
        let got = disassembly(&tested, "main");
        assert!(
            want.iter().filter(|i| i.starts_with("mov    $0x")).count() >= 6,
            "GNU ld did not relax the leas: {want:#?}"
        );
        // Up to the `ret`, but for where printf and the format string are.
        let strip = |v: &[String]| -> Vec<String> {
            v.iter()
                .take_while(|i| *i != "ret")
                .filter(|i| !i.contains("(%rip)") && !i.starts_with("call "))
                .cloned()
                .collect()
        };
        assert_eq!(strip(&got), strip(&want), "main differs from GNU ld's");
    }
}

linker_test! {
    /// g++ -O2 -fPIC -mtls-dialect=gnu2 keeps descriptor addresses in
    /// callee-saved registers around inlined std::to_string.
    fn tlsdesc_cxx_callee_saved_registers() {
        let ws = Workspace::new("tlsdesc_cxx_callee_saved_registers");
        let obj = ws.compile(&programs::source_path(TLSDESC_CXX.sources[0].file), TLSDESC_CXX.sources[0].flags, "");
        let dump = run_tool(Command::new("objdump").arg("-dr").arg(&obj)).stdout;
        let lines: Vec<&str> = dump.lines().collect();
        let other_reg = lines.windows(2).any(|w| {
            w[1].contains("R_X86_64_GOTPC32_TLSDESC") && w[0].contains("lea") && !w[0].contains("%rax")
        });
        assert!(other_reg, "the compiler no longer puts a tlsdesc lea into another register; the test lost its point");
        ws.build_and_compare(&TLSDESC_CXX, &[obj], &[]);
    }
}

static TLS_MODULE_BASE: Program = Program {
    name: "rl_tls_module_base",
    lang: Lang::C,
    sources: &[Source {
        file: "rl_tls_module_base.s",
        flags: &[],
    }],
    expected_status: 0,
};

linker_test! {
    /// `_TLS_MODULE_BASE_@tlsdesc` (local-dynamic descriptors) relaxes to
    /// the thread pointer's offset from itself, 0, as GNU ld's symbol sits
    /// at the thread pointer; variables are then reached by @dtpoff.
    fn tlsdesc_of_tls_module_base() {
        let ws = Workspace::new("tlsdesc_of_tls_module_base");
        let (reference, tested) = compare(&ws, &TLS_MODULE_BASE, &[]);
        assert_eq!(run_exe(&reference).stdout, "a=49\n");
        let first = |exe: &std::path::Path| disassembly(exe, "main").into_iter().next();
        assert_eq!(first(&tested), first(&reference));
    }
}

/// A program of `rl_discarded_main.c`, `rl_discarded_a.s` and `second`.
fn discarded_program(second: &'static str) -> Program {
    Program {
        name: "rl_discarded",
        lang: Lang::C,
        sources: Box::leak(Box::new([
            Source {
                file: "rl_discarded_main.c",
                flags: &[],
            },
            Source {
                file: "rl_discarded_a.s",
                flags: &[],
            },
            Source {
                file: second,
                flags: &[],
            },
        ])),
        expected_status: 0,
    }
}

/// Files in `dir` other than `keep`, to see that a failed link left none.
fn leftovers(dir: &std::path::Path, keep: &[std::path::PathBuf]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !keep.contains(p) && p.file_name().is_some_and(|n| n != "ld-under-test"))
        .map(|p| p.display().to_string())
        .collect()
}

linker_test! {
    /// A reference from `.text` to a local symbol of a discarded COMDAT copy
    /// is an error naming the symbol, both sections and the file, as with
    /// GNU ld, in an executable and under `-r`; nothing is left behind.
    fn reference_to_discarded_comdat_local_is_an_error() {
        let ws = Workspace::new("reference_to_discarded_comdat_local_is_an_error");
        let p = discarded_program("rl_discarded_b.s");
        let objs = ws.compile_program(&p, &[]);
        let b = objs[2].file_name().unwrap().to_string_lossy().into_owned();
        let gnu = run_with_timeout(
            Command::new("gcc").current_dir(ws.path()).args(["-static", "-fuse-ld=bfd"]).args(&objs).args(["-o", "gnu"]),
            std::time::Duration::from_secs(120),
        );
        assert_eq!(gnu.code(), 1, "GNU ld accepted the reference; the test lost its point");
        let _ = std::fs::remove_file(ws.join("gnu"));
        let out = ws.join("tested");
        let o = run_with_timeout(
            Command::new("gcc")
                .current_dir(ws.path())
                .arg(format!("-B{}/", ws.ld_dir().display()))
                .arg("-static")
                .args(&objs)
                .arg("-o")
                .arg(&out),
            std::time::Duration::from_secs(120),
        );
        assert_eq!(o.code(), 1, "stderr: {}", o.stderr);
        for part in ["local_in_group", ".text", ".text.g[g]", b.as_str(), "discarded"] {
            assert!(o.stderr.contains(part), "message lacks {part}: {}", o.stderr);
        }
        assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
        assert_eq!(leftovers(ws.path(), &objs), Vec::<String>::new(), "a failed link left files");
        // -r: GNU ld refuses it too.
        let rel = ws.join("merged.o");
        let mut args: Vec<std::ffi::OsString> = vec!["-r".into(), "-o".into(), rel.clone().into()];
        args.extend(objs[1..].iter().map(|o| o.clone().into_os_string()));
        let o = run_linker(ws.path(), &args);
        assert_eq!(o.code(), 1, "-r: stderr: {}", o.stderr);
        assert!(o.stderr.contains("local_in_group") && o.stderr.contains(".text.g[g]"), "{}", o.stderr);
        assert_eq!(leftovers(ws.path(), &objs), Vec::<String>::new(), "a failed -r link left files");
    }
}

linker_test! {
    /// Debug sections may refer to a discarded copy's locals: they get
    /// tombstones (1 in `.debug_ranges`, 0 elsewhere), as with GNU ld.
    fn debug_reference_to_discarded_comdat_local_is_a_tombstone() {
        let ws = Workspace::new("debug_reference_to_discarded_comdat_local_is_a_tombstone");
        let p = discarded_program("rl_discarded_debug.s");
        let (reference, tested) = compare(&ws, &p, &[]);
        let dump = |exe: &std::path::Path, sec: &str| readelf(&["-x", sec], exe);
        for sec in [".debug_ranges", ".debug_info"] {
            assert_eq!(dump(&tested, sec), dump(&reference, sec), "{sec}");
        }
    }
}
