//! The output symbol table, compared with GNU ld's: here, the STT_FILE
//! symbols GNU ld makes up for files that have none of their own (glibc's
//! libc.a members, hand-written assembly), named after the file or archive
//! member, so that tools reading the table (gdb, perf, objdump) credit each
//! file's local symbols to the right file.

#[macro_use]
mod common;

use common::*;
use std::path::Path;
use std::process::Command;

/// (type, name) of every local symbol but the null one and section
/// symbols, in table order.
fn locals(file: &Path) -> Vec<(String, String)> {
    readelf(&["-sW"], file)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 8 && f[4] == "LOCAL" && f[3] != "SECTION")
                .then(|| (f[3].to_string(), f[7].to_string()))
        })
        .collect()
}

/// `nofile.o` and the archive member `member.o` have local symbols and no
/// `.file`; `named.o` has its own; `late.o` gives its `.file` after a local.
fn setup(name: &str) -> Workspace {
    let ws = Workspace::new(name);
    let exit = "mov $60, %eax\n xor %edi, %edi\n syscall\n";
    ws.assemble(
        "nofile",
        &format!(
            ".text\nlocal_a: ret\n.globl _start\n_start: call local_a\n call fb\n call fc\n {exit}"
        ),
    );
    ws.assemble(
        "named",
        ".file \"named.c\"\n.text\nlocal_c: ret\n.globl fc\nfc: jmp local_c\n",
    );
    ws.assemble(
        "late",
        ".text\nlocal_d: ret\n.file \"late.c\"\nlocal_e: ret\n.globl fd\nfd: ret\n",
    );
    std::fs::create_dir_all(ws.join("sub")).unwrap();
    ws.assemble(
        "member",
        ".text\nlocal_b: ret\n.globl fb\nfb: jmp local_b\n",
    );
    std::fs::rename(ws.join("member.o"), ws.join("sub/member.o")).unwrap();
    let st = Command::new("ar")
        .current_dir(ws.path())
        .args(["rcs", "libm1.a", "sub/member.o"])
        .status()
        .unwrap();
    assert!(st.success());
    ws
}

linker_test! {
    /// `-r` and an executable from assembly: the same local symbols as
    /// GNU ld's, made-up STT_FILE symbols included, in the same order.
    fn made_up_file_symbols_match_gnu_ld() {
        let ws = setup("made_up_file_symbols_match_gnu_ld");
        let inputs = ["nofile.o", "named.o", "late.o", "libm1.a"];
        for (args, out) in [(&["-r"][..], "merged.o"), (&[][..], "exe")] {
            let mut tested: Vec<&str> = args.to_vec();
            tested.extend(["-o", out]);
            tested.extend(inputs);
            let o = run_linker(ws.path(), &tested);
            assert_eq!(o.code(), 0, "{tested:?}: {}", o.stderr);
            let reference = format!("{out}.gnu");
            let st = Command::new("ld.bfd")
                .current_dir(ws.path())
                .args(args)
                .args(["-o", &reference])
                .args(inputs)
                .status()
                .unwrap();
            assert!(st.success());
            let got = locals(&ws.join(out));
            assert_eq!(got, locals(&ws.join(&reference)), "{tested:?}");
            assert!(
                got.contains(&("FILE".into(), "nofile.o".into()))
                    && got.contains(&("FILE".into(), "member.o".into())),
                "{got:?}"
            );
        }
    }
}

linker_test! {
    /// A static C program: every member of libc.a that contributes local
    /// symbols has its STT_FILE symbol, as in GNU ld's output (GNU ld adds
    /// one with an empty name before the symbols it defines itself).
    fn static_program_has_gnu_ld_file_symbols() {
        let ws = Workspace::new("static_program_has_gnu_ld_file_symbols");
        let src = ws.join("p.c");
        std::fs::write(&src, "#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n").unwrap();
        let obj = ws.compile(&src, &["-O1"], "");
        let tested = ws.link_tested(Lang::C, std::slice::from_ref(&obj), &[], "p");
        let reference = ws.link_reference(Lang::C, &[obj], &[], "p.ref");
        let files = |f: &Path| {
            let mut v: Vec<String> = locals(f)
                .into_iter()
                .filter(|(t, n)| t == "FILE" && !n.is_empty())
                .map(|(_, n)| n)
                .collect();
            v.sort();
            v
        };
        let got = files(&tested);
        assert!(got.len() > 20, "too few STT_FILE symbols: {got:?}");
        assert_eq!(got, files(&reference));
        assert_eq!(run_exe(&tested).stdout, "hi\n");
    }
}
