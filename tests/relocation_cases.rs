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
