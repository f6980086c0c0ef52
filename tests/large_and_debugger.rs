//! Outputs past ELF's small limits, and a debugger's view of an executable.

mod common;

use common::{link_direct, run_exe, run_tool, Workspace};
use std::process::Command;

/// More than 65,280 sections: `-r` must switch to extended section
/// numbering (e_shnum in section 0, SHT_SYMTAB_SHNDX), and GNU ld must
/// link the result into a program that still runs.
#[test]
fn relocatable_with_extended_section_numbering() {
    let ws = Workspace::new("extended_sections");
    let files = 34;
    let per_file = 2000;
    let mut objs = Vec::new();
    for f in 0..files {
        let mut s = String::new();
        for k in 0..per_file {
            s += &format!(
                ".section .text.f{f}_{k},\"ax\",@progbits\n.globl f{f}_{k}\nf{f}_{k}:\n  leal {}(%rdi), %eax\n  ret\n",
                k % 3
            );
        }
        // main sums one function of every file.
        if f == 0 {
            s += ".text\n.globl main\nmain:\n  xorl %esi, %esi\n";
            for g in 0..files {
                s += &format!(
                    "  movl %esi, %edi\n  call f{g}_{}\n  movl %eax, %esi\n",
                    (g * 7) % per_file
                );
            }
            s += "  movl %esi, %eax\n  andl $127, %eax\n  ret\n";
        }
        s += ".section .note.GNU-stack,\"\",@progbits\n";
        let src = ws.join(format!("s{f}.s"));
        std::fs::write(&src, s).unwrap();
        objs.push(ws.compile(&src, &[], ""));
    }
    let mut args = vec!["-r".to_string(), "-o".into(), "merged.o".into()];
    args.extend(objs.iter().map(|o| o.to_string_lossy().into_owned()));
    link_direct(ws.path(), &args);
    let header = run_tool(Command::new("readelf").arg("-hW").arg(ws.join("merged.o"))).stdout;
    assert!(
        header.contains("Number of section headers:         0 ("),
        "expected extended numbering in the ELF header:\n{header}"
    );
    // The symbol table is too long to capture whole; look for the last file's last symbol.
    let last = run_tool(
        Command::new("sh")
            .arg("-c")
            .arg("readelf -sW merged.o | grep -c ' f33_1999$'")
            .current_dir(ws.path()),
    );
    assert_eq!(
        last.stdout.trim(),
        "1",
        "the last file's last symbol is missing"
    );
    run_tool(
        Command::new("gcc")
            .arg("-o")
            .arg(ws.join("merged"))
            .arg(ws.join("merged.o")),
    );
    run_tool(
        Command::new("gcc")
            .arg("-o")
            .arg(ws.join("direct"))
            .args(&objs),
    );
    let a = run_exe(&ws.join("merged"));
    let b = run_exe(&ws.join("direct"));
    assert_eq!(
        a.code(),
        b.code(),
        "merged and direct builds exit differently"
    );
}

/// gdb loads a static rivet executable, stops at a breakpoint in main with
/// source lines from the debug info, and runs it to the end.
#[test]
fn gdb_breaks_in_main_with_line_info() {
    if Command::new("gdb").arg("--version").output().is_err() {
        eprintln!("gdb is not installed; skipping");
        return;
    }
    let ws = Workspace::new("gdb");
    let src = ws.join("prog.c");
    std::fs::write(
        &src,
        "#include <stdio.h>\nint twice(int x) {\n  return 2 * x;\n}\nint main(void) {\n  printf(\"%d\\n\", twice(21));\n  return 0;\n}\n",
    )
    .unwrap();
    let exe = ws.join("prog");
    run_tool(
        Command::new("gcc")
            .args(["-g", "-O0", "-static", "-B"])
            .arg(ws.ld_dir())
            .arg("-o")
            .arg(&exe)
            .arg(&src),
    );
    let out = run_tool(
        Command::new("gdb")
            .args([
                "-batch",
                "-nx",
                "-ex",
                "break twice",
                "-ex",
                "run",
                "-ex",
                "bt",
                "-ex",
                "continue",
            ])
            .arg(&exe),
    );
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(
        text.contains("Breakpoint 1, twice (x=21) at"),
        "gdb did not stop in twice():\n{text}"
    );
    assert!(
        text.contains("prog.c:3"),
        "no line info for twice():\n{text}"
    );
    assert!(
        text.contains("in main () at") && text.contains("prog.c:6"),
        "no backtrace into main:\n{text}"
    );
    assert!(
        text.contains("exited normally"),
        "program did not finish under gdb:\n{text}"
    );
}
