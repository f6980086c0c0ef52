//! The ELF header's OS/ABI byte: GNU ld writes ELFOSABI_GNU when a loaded
//! file has a global IFUNC or GNU_UNIQUE symbol or, under `-r`, an output
//! section is SHF_GNU_RETAIN (static glibc has IFUNCs), and ELFOSABI_NONE
//! otherwise (a PIE with a retained section included).

#[macro_use]
mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn osabi(file: &Path) -> String {
    readelf(&["-hW"], file)
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("OS/ABI:")
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no OS/ABI in {}", file.display()))
}

fn asm(ws: &Workspace, name: &str, body: &str) -> PathBuf {
    let src = ws.join(format!("{name}.s"));
    std::fs::write(&src, body).unwrap();
    ws.compile(&src, &[], "")
}

/// `-r` by the linker under test and by GNU ld; both headers' OS/ABI.
fn both_r(ws: &Workspace, objs: &[PathBuf], tag: &str) -> (String, String) {
    let tested = ws.join(format!("{tag}-tested.o"));
    let mut args = vec!["-r".into(), "-o".into(), tested.clone().into_os_string()];
    args.extend(objs.iter().map(|o| o.clone().into_os_string()));
    link_direct(ws.path(), args);
    let reference = ws.join(format!("{tag}-reference.o"));
    run_tool(
        Command::new("ld.bfd")
            .arg("-r")
            .arg("-o")
            .arg(&reference)
            .args(objs),
    );
    (osabi(&tested), osabi(&reference))
}

linker_test! {
    fn osabi_follows_gnu_ld() {
        let ws = Workspace::new("osabi_follows_gnu_ld");
        let plain = asm(&ws, "plain", ".text\n.globl f\nf: ret\n");
        let ifunc = asm(
            &ws,
            "ifunc",
            ".text\n.globl g\n.type g, @gnu_indirect_function\ng: lea f(%rip), %rax\nret\n",
        );
        let retain = asm(&ws, "retain", ".section .text.keep,\"axR\",@progbits\nret\n");
        let (t, r) = both_r(&ws, std::slice::from_ref(&plain), "plain");
        assert_eq!(r, "UNIX - System V", "GNU ld's rule changed");
        assert_eq!(t, r, "-r of plain code");
        let (t, r) = both_r(&ws, &[plain.clone(), ifunc], "ifunc");
        assert_eq!(r, "UNIX - GNU", "GNU ld's rule changed");
        assert_eq!(t, r, "-r with a global IFUNC");
        let (t, r) = both_r(&ws, &[plain, retain], "retain");
        assert_eq!(t, r, "-r with SHF_GNU_RETAIN");

        // A static C program: libc.a's IFUNCs make it GNU.
        let p = program("libc_basics");
        let objs = ws.compile_program(p, &[]);
        let (reference, tested) = ws.build_and_compare(p, &objs, &[]);
        assert_eq!(osabi(&reference), "UNIX - GNU", "GNU ld's rule changed");
        assert_eq!(osabi(&tested), osabi(&reference), "static executable");

        // A PIE (rustc's default output) with a retained section (Rust's
        // `#[used]`): still ELFOSABI_NONE.
        let keep = ws.compile_text(
            "keep.c",
            "__attribute__((used, retain, section(\".keepme\"))) int keep = 1;\nint main(void) { return 0; }\n",
            &[],
        );
        let link = |out: &str, linker: &str| {
            let exe = ws.join(out);
            run_tool(Command::new("gcc").arg(linker).arg(&keep).arg("-o").arg(&exe));
            exe
        };
        let reference = link("keep.ref", "-fuse-ld=bfd");
        let tested = link("keep.test", &format!("-B{}/", ws.ld_dir().display()));
        assert_eq!(osabi(&reference), "UNIX - System V", "GNU ld's rule changed");
        assert_eq!(osabi(&tested), osabi(&reference), "PIE with SHF_GNU_RETAIN");
    }
}
