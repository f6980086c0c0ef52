//! Dynamic executables: what gcc and g++ link by default on this system (a
//! PIE against `libc.so.6`) and `-no-pie`, built with the linker under test
//! and with GNU ld, run and compared; shared objects made by GNU ld whose
//! functions, variables (copy relocations), TLS and IFUNCs the program
//! uses; symbols the program exports to a `dlopen`ed object; the
//! dynamic tables read back with readelf; the errors GNU ld gives.

#[macro_use]
mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every test program, as a PIE and as `-no-pie`, behaves as with GNU ld.
fn every_program(kind: LinkKind) {
    let ws = Workspace::new(&format!("dyn-programs-{}", kind.tag()));
    let extra: &[&str] = match kind {
        LinkKind::NoPie => &["-fno-pie"],
        _ => &[],
    };
    for p in PROGRAMS {
        // Its hand-written assembly takes absolute addresses (R_X86_64_32),
        // which no PIE can hold (GNU ld refuses it too).
        if kind != LinkKind::NoPie && p.name == "asm" {
            continue;
        }
        let objs = ws.compile_program(p, extra);
        let (_, tested) = ws.build_and_compare_as(kind, p, &objs, &[]);
        let header = readelf(&["-h"], &tested);
        let want = if kind == LinkKind::NoPie {
            "EXEC"
        } else {
            "DYN"
        };
        assert!(
            header.contains(&format!("Type:                              {want}")),
            "{}: not an ET_{want} file:\n{header}",
            p.name
        );
    }
}

linker_test! {
    fn programs_as_pie() {
        every_program(LinkKind::Pie);
    }
}

linker_test! {
    fn programs_as_static_pie() {
        every_program(LinkKind::StaticPie);
    }
}

linker_test! {
    fn programs_as_no_pie() {
        every_program(LinkKind::NoPie);
    }
}

/// An IFUNC defined in the program itself: called directly and through a
/// pointer stored in data, in every kind of executable. (Whether the two
/// addresses compare equal is not checked: in a PIE, GNU ld gives the
/// data pointer the resolved function and the code the stub, while rivet
/// gives both the stub.)
const LOCAL_IFUNC_C: &str = r#"
#include <stdio.h>
static int fast(int x) { return x * 2; }
static int slow(int x) { return x + x; }
/* A resolver must not call into libc: a static PIE runs it while it is
   still relocating itself. */
static volatile int use_slow;
static void *pick(void) { return use_slow ? (void *)slow : (void *)fast; }
int twice(int) __attribute__((ifunc("pick")));
int (*volatile taken)(int) = twice;
int main(void) {
    printf("%d %d\n", twice(20), taken(1));
    return 0;
}
"#;

fn local_ifunc(kind: LinkKind) {
    let ws = Workspace::new(&format!("dyn-ifunc-{}", kind.tag()));
    let flags: &[&str] = if kind == LinkKind::NoPie {
        &["-fno-pie"]
    } else {
        &["-fPIE"]
    };
    let obj = ws.compile_text("ifunc.c", LOCAL_IFUNC_C, flags);
    let b = format!("-B{}/", ws.ld_dir().display());
    let exe = ws.join("ifunc");
    run_tool(
        Command::new("gcc")
            .args(kind.driver_flags())
            .arg(&b)
            .arg(&obj)
            .arg("-o")
            .arg(&exe),
    );
    let o = run_exe(&exe);
    assert_eq!(
        (o.code(), o.stdout.as_str()),
        (0, "40 2\n"),
        "{}",
        kind.tag()
    );
}

linker_test! {
    /// `-mcmodel=large` calls libc through `R_X86_64_PLTOFF64` (relative to
    /// the GOT, through a `.plt` entry) and takes addresses with 64-bit
    /// absolute relocations, in a PIE and not.
    fn large_code_model() {
        let ws = Workspace::new("dyn-large");
        let src = "#include <stdio.h>\nstatic const char *msg = \"large ok\";\nint main(void) { puts(msg); return 0; }\n";
        for kind in [LinkKind::Pie, LinkKind::NoPie] {
            let pic = if kind == LinkKind::Pie { "-fPIE" } else { "-fno-pie" };
            let obj = ws.compile_text(&format!("large-{}.c", kind.tag()), src, &["-mcmodel=large", pic]);
            let b = format!("-B{}/", ws.ld_dir().display());
            let exe = ws.join(format!("large-{}", kind.tag()));
            run_tool(Command::new("gcc").args(kind.driver_flags()).arg(&b).arg(&obj).arg("-o").arg(&exe));
            let o = run_exe(&exe);
            assert_eq!((o.code(), o.stdout.as_str()), (0, "large ok\n"), "{}", kind.tag());
        }
    }
}

linker_test! {
    /// `-rdynamic` with 10,000 exported functions: `.dynsym`, its names
    /// and `.gnu.version` span several shards written in parallel; every
    /// name resolves through `dlsym` (so `.gnu.hash` and the names agree),
    /// and the output is the same with 1 and 2 threads.
    fn many_exports() {
        let ws = Workspace::new("dyn-many-exports");
        let mut src = String::from("#include <dlfcn.h>\n#include <stdio.h>\n");
        for i in 0..10_000 {
            src.push_str(&format!("int export_fn_{i}(void) {{ return {i}; }}\n"));
        }
        src.push_str(
            "int main(void) {\n  long sum = 0;\n  char name[32];\n  for (int i = 0; i < 10000; i++) {\n    snprintf(name, sizeof name, \"export_fn_%d\", i);\n    int (*f)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, name);\n    if (!f) { printf(\"missing %s\\n\", name); return 1; }\n    sum += f();\n  }\n  printf(\"%ld\\n\", sum);\n  return 0;\n}\n",
        );
        let obj = ws.compile_text("many.c", &src, &["-O0"]);
        let b = format!("-B{}/", ws.ld_dir().display());
        let link = |out: &str, extra: &[&str]| {
            let exe = ws.join(out);
            run_tool(Command::new("gcc").arg(&b).arg(&obj).arg("-rdynamic").args(extra).arg("-o").arg(&exe));
            exe
        };
        let exe = link("many", &[]);
        let o = run_exe(&exe);
        assert_eq!((o.code(), o.stdout.as_str()), (0, "49995000\n"));
        if !linker_is_gnu_ld() {
            let one = link("many.1", &["-Wl,--threads=1"]);
            let two = link("many.2", &["-Wl,--threads=2"]);
            assert!(read(&one) == read(&two), "output differs between 1 and 2 threads");
        }
    }
}

linker_test! {
    /// A `.symver` reference to an older version of a libc function
    /// (`memcpy@GLIBC_2.2.5`, not the default `memcpy@@GLIBC_2.14`) binds
    /// to that version; `-z origin` sets `DF_ORIGIN`; `--no-eh-frame-hdr`
    /// after gcc's `--eh-frame-hdr` drops `PT_GNU_EH_FRAME`.
    fn versioned_reference_and_flags() {
        let ws = Workspace::new("dyn-symver");
        let obj = ws.compile_text(
            "sv.c",
            "#include <string.h>\n#include <stdio.h>\n__asm__(\".symver memcpy,memcpy@GLIBC_2.2.5\");\nint main(void){ char a[8] = \"abcdefg\", b[8]; memcpy(b, a, 8); puts(b); return 0; }\n",
            &["-O0", "-fno-builtin"],
        );
        let exe = ws.join("sv");
        run_tool(
            Command::new("gcc")
                .arg(format!("-B{}/", ws.ld_dir().display()))
                .arg(&obj)
                .args(["-Wl,-z,origin", "-Wl,--no-eh-frame-hdr", "-o"])
                .arg(&exe),
        );
        let o = run_exe(&exe);
        assert_eq!((o.code(), o.stdout.as_str()), (0, "abcdefg\n"));
        let dynsym = readelf(&["--dyn-syms", "-W"], &exe);
        assert!(dynsym.contains(" memcpy@GLIBC_2.2.5"), "{dynsym}");
        let d = readelf(&["-d", "-l", "-W"], &exe);
        assert!(d.contains("Flags: ORIGIN PIE"), "{d}");
        assert!(!d.contains("GNU_EH_FRAME"), "{d}");
    }
}

linker_test! {
    fn local_ifunc_in_every_kind() {
        for kind in [LinkKind::Pie, LinkKind::NoPie, LinkKind::StaticPie, LinkKind::Static] {
            local_ifunc(kind);
        }
    }
}

/// A shared object built by gcc and GNU ld, which the tests link against.
const LIB_C: &str = r#"
#include <stdlib.h>
int lib_counter = 40;
int lib_table[4] = {1, 2, 3, 4};
__thread int lib_tls = 7;
__thread int lib_tls_big[64] = {5};
int lib_add(int a, int b) { return a + b + lib_counter; }
const char *lib_name(void) { return "libdemo"; }
static int impl_one(void) { return 1; }
static int impl_two(void) { return 2; }
int lib_ifunc(void) __attribute__((ifunc("resolve_lib_ifunc")));
static void *resolve_lib_ifunc(void) { return getenv("NO_SUCH_VAR_XYZ") ? (void*)impl_one : (void*)impl_two; }
int *lib_counter_address(void) { return &lib_counter; }
int (*lib_add_address(void))(int, int) { return lib_add; }
extern __thread int exe_tls;
int lib_read_exe_tls(void) { return exe_tls; }
"#;

/// Uses everything the library offers: calls through the PLT, a variable
/// read PC-relatively (a copy relocation), its address compared with the
/// library's view of it, TLS in the GD, IE and TLSDESC models, an IFUNC,
/// and a function pointer compared across the boundary (canonical PLT
/// in non-PIE code).
const MAIN_C: &str = r#"
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <stdlib.h>
extern int lib_counter;
extern int lib_table[4];
extern __thread int lib_tls;
extern __thread int lib_tls_big[64];
int lib_add(int, int);
const char *lib_name(void);
int lib_ifunc(void);
int *lib_counter_address(void);
int (*lib_add_address(void))(int, int);
int lib_read_exe_tls(void);
extern char **environ;
static int (*volatile fp)(int, int) = lib_add;
/* In read-only data: non-PIE code gets the canonical .plt entry here. */
static int (*const table[2])(int, int) = {lib_add, lib_add};
__thread int exe_tls = 99;
int main(void) {
    int bad = 0;
    if (lib_add(1, 2) != 43) bad |= 1;
    lib_counter = 50;
    if (lib_add(0, 0) != 50) bad |= 2;
    if (&lib_counter != lib_counter_address()) bad |= 4;
    if (fp != lib_add_address()) bad |= 8;
    if (lib_table[3] != 4) bad |= 16;
    lib_tls += 1;
    if (lib_tls != 8 || lib_tls_big[0] != 5) bad |= 32;
    if (lib_ifunc() != 2) bad |= 64;
    if (!environ || !environ[0]) bad |= 128;
    if (table[1] != lib_add_address() || (void *)lib_add != (void *)lib_add_address()) bad |= 256;
    if (lib_read_exe_tls() != 99) bad |= 512;
    errno = 0;
    printf("%s %d %d %d %zu\n", lib_name(), lib_add(2, 3), lib_tls, bad, strlen(lib_name()));
    return bad;
}
"#;

/// Builds `libdemo.so` with GNU ld into `ws`, compiled with `-fPIC` and
/// the given TLS dialect.
fn build_lib(ws: &Workspace, tls_dialect: &str) -> PathBuf {
    let src = ws.join("demo.c");
    std::fs::write(&src, LIB_C).unwrap();
    let lib = ws.join("libdemo.so");
    run_tool(
        Command::new("gcc")
            .current_dir(ws.path())
            .args(["-shared", "-fPIC", "-O1", "-fuse-ld=bfd", tls_dialect])
            .arg(&src)
            .arg("-o")
            .arg(&lib),
    );
    lib
}

/// Links `objs` against `-ldemo` from `ws` as `kind`, with the linker
/// under test (`tested`) or GNU ld.
fn link_against_lib(
    ws: &Workspace,
    kind: LinkKind,
    objs: &[PathBuf],
    out: &str,
    tested: bool,
    extra: &[&str],
) -> PathBuf {
    let exe = ws.join(out);
    let mut cmd = Command::new("gcc");
    cmd.current_dir(ws.path()).args(kind.driver_flags());
    if tested {
        cmd.arg(format!("-B{}/", ws.ld_dir().display()));
    } else {
        cmd.arg("-fuse-ld=bfd");
    }
    cmd.args(objs)
        .arg(format!("-L{}", ws.path().display()))
        .arg("-ldemo")
        .args(extra)
        .arg("-o")
        .arg(&exe);
    run_tool(&mut cmd);
    exe
}

fn run_with_lib(exe: &Path, dir: &Path) -> Outcome {
    run_with_timeout(
        Command::new(exe).env("LD_LIBRARY_PATH", dir),
        std::time::Duration::from_secs(60),
    )
}

/// `pic` compiles the program with `-fPIC`, as code meant for a shared
/// object: its TLS accesses are then general dynamic (or TLSDESC), which
/// the link turns into initial exec.
fn against_shared_lib(
    kind: LinkKind,
    pic: bool,
    tls_dialect: &str,
    extra: &[&str],
) -> (Workspace, PathBuf, PathBuf) {
    let ws = Workspace::new(&format!("dyn-lib-{}", kind.tag()));
    build_lib(&ws, tls_dialect);
    let model = match (kind, pic) {
        (_, true) => "-fPIC",
        (LinkKind::NoPie, false) => "-fno-pie",
        _ => "-fPIE",
    };
    let flags = vec![model, "-O1", tls_dialect];
    let obj = ws.compile_text("main.c", MAIN_C, &flags);
    let reference = link_against_lib(
        &ws,
        kind,
        std::slice::from_ref(&obj),
        "main.ref",
        false,
        extra,
    );
    let tested = link_against_lib(&ws, kind, &[obj], "main.test", true, extra);
    let r = run_with_lib(&reference, ws.path());
    assert_eq!(
        r.code(),
        0,
        "GNU ld's build failed its checks: {}",
        r.stdout
    );
    let t = run_with_lib(&tested, ws.path());
    assert_same_run(&r, &t, "main");
    assert_eq!(t.stdout, "libdemo 55 8 0 7\n");
    // The libraries it needs, by DT_SONAME or file name, as GNU ld names them.
    let needed = |exe: &Path| {
        readelf(&["-d"], exe)
            .lines()
            .filter(|l| l.contains("(NEEDED)"))
            .map(|l| l.split_whitespace().last().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(needed(&tested), needed(&reference));
    (ws, reference, tested)
}

linker_test! {
    fn shared_lib_from_pie() {
        against_shared_lib(LinkKind::Pie, false, "-mtls-dialect=gnu", &[]);
    }
}

linker_test! {
    fn shared_lib_from_no_pie() {
        against_shared_lib(LinkKind::NoPie, false, "-mtls-dialect=gnu", &[]);
    }
}

linker_test! {
    fn shared_lib_tlsdesc_bind_now() {
        against_shared_lib(LinkKind::Pie, true, "-mtls-dialect=gnu2", &["-Wl,-z,now"]);
    }
}

linker_test! {
    fn shared_lib_general_dynamic_tls() {
        against_shared_lib(LinkKind::Pie, true, "-mtls-dialect=gnu", &[]);
    }
}

linker_test! {
    /// `-z pack-relative-relocs`: the RELATIVE records go to `.relr.dyn`
    /// (glibc applies them, so the program runs), with the
    /// `GLIBC_ABI_DT_RELR` version need GNU ld adds; the addresses it
    /// encodes are GNU ld's count of them.
    fn shared_lib_packed_relative_relocs() {
        let (_ws, reference, tested) =
            against_shared_lib(LinkKind::Pie, false, "-mtls-dialect=gnu", &["-Wl,-z,pack-relative-relocs"]);
        let offsets = |exe: &Path| -> String {
            let r = readelf(&["-r"], exe);
            r.lines()
                .find(|l| l.trim().ends_with(" offsets"))
                .unwrap_or_else(|| panic!("no .relr.dyn in {}:\n{r}", exe.display()))
                .trim()
                .to_string()
        };
        assert_eq!(offsets(&tested), offsets(&reference));
        let versions = readelf(&["-V"], &tested);
        assert!(versions.contains("Name: GLIBC_ABI_DT_RELR"), "{versions}");
        let dynamic = readelf(&["-d"], &tested);
        assert!(dynamic.contains("(RELR)"), "{dynamic}");
    }
}

linker_test! {
    /// `-z ibt`: the IBT form of the `.plt` (lazy entries start with
    /// `endbr64`, calls go to `.plt.sec`), lazily bound and not.
    fn shared_lib_ibt_plt() {
        for (kind, extra) in [
            (LinkKind::NoPie, &["-Wl,-z,ibt"][..]),
            (LinkKind::Pie, &["-Wl,-z,ibt", "-Wl,-z,now"][..]),
        ] {
            let (_ws, _, tested) = against_shared_lib(kind, false, "-mtls-dialect=gnu", extra);
            let sections = readelf(&["-S", "-W"], &tested);
            assert!(sections.contains(" .plt.sec "), "{sections}");
        }
    }
}

linker_test! {
    fn shared_lib_sysv_hash() {
        against_shared_lib(LinkKind::NoPie, false, "-mtls-dialect=gnu", &["-Wl,--hash-style=sysv"]);
    }
}

/// A plugin loaded with `dlopen` calls back into the executable, which
/// exports its symbols with `-rdynamic` (`-E`), `--dynamic-list` or
/// `--export-dynamic-symbol`; without them only what a linked shared
/// object refers to is exported.
const PLUGIN_C: &str = r#"
int host_value(void);
int plugin_entry(int x) { return host_value() * x; }
"#;

const HOST_C: &str = r#"
#include <dlfcn.h>
#include <stdio.h>
int host_value(void) { return 6; }
int main(int argc, char **argv) {
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
    int (*entry)(int) = (int (*)(int))dlsym(h, "plugin_entry");
    if (!entry) { printf("dlsym: %s\n", dlerror()); return 2; }
    printf("plugin says %d\n", entry(7));
    return 0;
}
"#;

linker_test! {
    fn exports_for_dlopen() {
        let ws = Workspace::new("dyn-dlopen");
        let plugin_src = ws.join("plugin.c");
        std::fs::write(&plugin_src, PLUGIN_C).unwrap();
        let plugin = ws.join("plugin.so");
        run_tool(
            Command::new("gcc")
                .args(["-shared", "-fPIC", "-fuse-ld=bfd"])
                .arg(&plugin_src)
                .arg("-o")
                .arg(&plugin),
        );
        let obj = ws.compile_text("host.c", HOST_C, &[]);
        std::fs::write(ws.join("list"), "/* exported */\n{\n  host_value; # for the plugin\n};\n").unwrap();
        let link = |out: &str, export: &[String]| {
            let exe = ws.join(out);
            let mut cmd = Command::new("gcc");
            cmd.arg(format!("-B{}/", ws.ld_dir().display())).arg(&obj);
            run_tool(cmd.args(export).arg("-o").arg(&exe));
            exe
        };
        let list = format!("-Wl,--dynamic-list={}", ws.join("list").display());
        for (what, flags) in [
            ("E", vec!["-rdynamic".to_string()]),
            ("list", vec![list]),
            ("symbol", vec!["-Wl,--export-dynamic-symbol=host_*".to_string()]),
        ] {
            let exported = link(&format!("host.{what}"), &flags);
            let o = run_with_timeout(
                Command::new(&exported).arg(&plugin),
                std::time::Duration::from_secs(60),
            );
            assert_eq!((o.code(), o.stdout.as_str()), (0, "plugin says 42\n"), "{what}");
            let dynsym = readelf(&["--dyn-syms", "-W"], &exported);
            assert!(dynsym.contains(" host_value"), "{what} left host_value out:\n{dynsym}");
            // `-E` exports the linker's `_edata`, `__bss_start` and `_end`
            // too, at their `.symtab` values (as GNU ld 2.40 does); the
            // lists do not.
            let symtab = readelf(&["-s", "-W"], &exported);
            for name in ["_edata", "__bss_start", "_end"] {
                let entry = |table: &str| {
                    table
                        .lines()
                        .find(|l| l.split_whitespace().last() == Some(name))
                        .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_string())
                };
                if what == "E" {
                    let value = entry(&dynsym);
                    assert!(value.is_some(), "-E left {name} out:\n{dynsym}");
                    let in_symtab = symtab
                        .split("Symbol table '.symtab'")
                        .nth(1)
                        .and_then(&entry);
                    assert_eq!(value, in_symtab, "{name}");
                } else {
                    assert!(entry(&dynsym).is_none(), "{what} exported {name}");
                }
            }
        }
        // Without any of them the plugin cannot find host_value.
        let plain = link("host.plain", &[]);
        let o = run_with_timeout(
            Command::new(&plain).arg(&plugin),
            std::time::Duration::from_secs(60),
        );
        assert_eq!(o.code(), 1, "without -E dlopen should fail: {}", o.stdout);
    }
}

linker_test! {
    /// The dynamic tables, as readelf reads them back: one `DT_NEEDED` per
    /// library actually needed (`--as-needed` drops libm when nothing uses
    /// it), `DT_RELACOUNT` equal to the leading RELATIVE records, the
    /// interpreter, `DF_1_PIE`, and `-z now`.
    fn dynamic_section_contents() {
        let ws = Workspace::new("dyn-tables");
        let obj = ws.compile_text(
            "m.c",
            "#include <stdio.h>\nint main(void){ puts(\"hi\"); return 0; }\n",
            &[],
        );
        let b = format!("-B{}/", ws.ld_dir().display());
        let link = |out: &str, flags: &[&str]| {
            let exe = ws.join(out);
            run_tool(Command::new("gcc").arg(&b).arg(&obj).args(flags).arg("-o").arg(&exe));
            let o = run_exe(&exe);
            assert_eq!((o.code(), o.stdout.as_str()), (0, "hi\n"), "{out}");
            (exe.clone(), readelf(&["-d", "-l", "-r", "-W"], &exe))
        };
        let (exe, as_needed) = link("as-needed", &["-Wl,--as-needed", "-lm"]);
        // crtbeginS.o both calls __cxa_finalize and loads it from the GOT:
        // it is called through that GOT entry (`.plt.got`), with no
        // JUMP_SLOT of its own, as GNU ld does.
        let sections = readelf(&["-S", "-W"], &exe);
        assert!(sections.contains(" .plt.got "), "{sections}");
        assert!(
            !as_needed.lines().any(|l| l.contains("JUMP_SLOT") && l.contains("__cxa_finalize")),
            "{as_needed}"
        );
        assert!(!as_needed.contains("libm.so"), "{as_needed}");
        let (_, no_as_needed) = link("no-as-needed", &["-Wl,--no-as-needed", "-lm", "-Wl,-z,now"]);
        assert!(no_as_needed.contains("Shared library: [libm.so.6]"), "{no_as_needed}");
        assert!(no_as_needed.contains("Shared library: [libc.so.6]"), "{no_as_needed}");
        assert!(no_as_needed.contains("BIND_NOW"), "{no_as_needed}");
        // -z now: the PLT's GOT slots are inside PT_GNU_RELRO (all of
        // `.got.plt`; GNU ld puts them in `.got` then).
        let sections = readelf(&["-S", "-W"], &ws.join("no-as-needed"));
        let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
        let section_end = |name: &str| {
            sections.lines().find_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let i = f.iter().position(|x| *x == name)?;
                Some(hex(f[i + 2]) + hex(f[i + 4]))
            })
        };
        let gotplt = section_end(".got.plt")
            .or_else(|| section_end(".got"))
            .expect(".got.plt or .got");
        let relro_end = no_as_needed
            .lines()
            .find(|l| l.trim_start().starts_with("GNU_RELRO"))
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                hex(f[2]) + hex(f[5])
            })
            .expect("PT_GNU_RELRO");
        assert!(relro_end >= gotplt, "RELRO ends at {relro_end:#x}, .got.plt at {gotplt:#x}");
        assert!(no_as_needed.contains("Flags: NOW PIE"), "{no_as_needed}");
        assert!(
            no_as_needed.contains("[Requesting program interpreter: /lib64/ld-linux-x86-64.so.2]"),
            "{no_as_needed}"
        );
        // DT_RELACOUNT: the RELATIVE records lead .rela.dyn.
        let count: usize = no_as_needed
            .lines()
            .find(|l| l.contains("(RELACOUNT)"))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|n| n.parse().ok())
            .expect("DT_RELACOUNT");
        let rela_dyn: Vec<&str> = no_as_needed
            .lines()
            .skip_while(|l| !l.starts_with("Relocation section '.rela.dyn'"))
            .skip(2)
            .take_while(|l| !l.is_empty())
            .collect();
        let leading = rela_dyn.iter().take_while(|l| l.contains("R_X86_64_RELATIVE")).count();
        let total = rela_dyn.iter().filter(|l| l.contains("R_X86_64_RELATIVE")).count();
        assert!(count > 0 && count == leading && count == total, "RELACOUNT {count}, leading {leading}, total {total}");
    }
}

linker_test! {
    /// The same PIE link gives the same bytes with 1, 2 and 8 threads.
    fn pie_is_deterministic() {
        if linker_is_gnu_ld() {
            return;
        }
        let ws = Workspace::new("dyn-determinism");
        let p = program("exceptions");
        let objs = ws.compile_program(p, &[]);
        let outputs: Vec<PathBuf> = [1usize, 2, 8]
            .iter()
            .map(|&n| {
                let exe = ws.join(format!("exc.{n}"));
                let t = format!("-Wl,--threads={n}");
                run_tool(
                    Command::new("g++")
                        .arg(format!("-B{}/", ws.ld_dir().display()))
                        .args(&objs)
                        .arg(&t)
                        .arg("-o")
                        .arg(&exe),
                );
                exe
            })
            .collect();
        let first = read(&outputs[0]);
        for o in &outputs[1..] {
            assert!(read(o) == first, "{} differs from {}", o.display(), outputs[0].display());
        }
    }
}

/// Runs gcc with the linker under test on `args` (in `ws`), writing
/// `out`; the link must fail, say each of `needles`, and leave no `out`.
fn expect_link_error(ws: &Workspace, args: &[&std::ffi::OsStr], out: &str, needles: &[&str]) {
    let out = ws.join(out);
    let o = run_with_timeout(
        Command::new("gcc")
            .current_dir(ws.path())
            .arg(format!("-B{}/", ws.ld_dir().display()))
            .args(args)
            .arg("-o")
            .arg(&out),
        std::time::Duration::from_secs(60),
    );
    assert_ne!(o.code(), 0, "{args:?} linked");
    for n in needles {
        assert!(o.stderr.contains(n), "{args:?}: no '{n}' in:\n{}", o.stderr);
    }
    assert!(!out.exists(), "a failed link left {}", out.display());
}

/// Builds `lib{name}.so` in `ws` from C `text` with GNU ld.
fn gnu_shared_lib(ws: &Workspace, name: &str, text: &str, extra: &[&str]) {
    let src = ws.join(format!("{name}.c"));
    std::fs::write(&src, text).unwrap();
    run_tool(
        Command::new("gcc")
            .current_dir(ws.path())
            .args(["-shared", "-fPIC", "-fuse-ld=bfd"])
            .arg(&src)
            .args(extra)
            .arg("-o")
            .arg(ws.join(format!("lib{name}.so"))),
    );
}

linker_test! {
    /// Errors: an undefined symbol with shared objects present names the
    /// object referring to it; non-PIC code in a PIE; a copy of a
    /// protected variable; a symbol only a library's dependency defines;
    /// TLS/non-TLS mismatches; a library's undefined symbol nothing
    /// defines. Each exits non-zero and leaves no output.
    fn dynamic_link_errors() {
        let ws = Workspace::new("dyn-errors");
        let os = |s: &str| std::ffi::OsString::from(s);
        let undef = ws.compile_text(
            "u.c",
            "int missing_fn(void);\nint main(void){ return missing_fn(); }\n",
            &[],
        );
        expect_link_error(&ws, &[undef.as_os_str()], "u.out", &["missing_fn", "u.o"]);

        let abs32 = ws.assemble(
            "abs32",
            ".globl main\nmain:\n  movl $main, %eax\n  xorl %eax, %eax\n  ret\n",
        );
        let pie = os("-pie");
        expect_link_error(
            &ws,
            &[&pie, abs32.as_os_str()],
            "abs.out",
            &["recompile with -fPIE", "abs32.o"],
        );

        gnu_shared_lib(
            &ws,
            "prot",
            "__attribute__((visibility(\"protected\"))) int prot_var = 1;\n",
            &[],
        );
        let user = ws.compile_text(
            "useprot.c",
            "extern int prot_var;\nint main(void){ return prot_var - 1; }\n",
            &["-fPIE"],
        );
        let (libs, lprot) = (os("-L."), os("-lprot"));
        expect_link_error(
            &ws,
            &[user.as_os_str(), &libs, &lprot],
            "prot.out",
            &["protected symbol `prot_var'", "useprot.o"],
        );

        // GNU ld's "DSO missing from command line" (--no-copy-dt-needed-entries).
        gnu_shared_lib(&ws, "depb", "int depb_func(void) { return 4; }\n", &[]);
        gnu_shared_lib(
            &ws,
            "depa",
            "int depb_func(void);\nint depa_func(void) { return depb_func(); }\n",
            &["-L.", "-ldepb"],
        );
        let user = ws.compile_text(
            "usedeps.c",
            "int depa_func(void); int depb_func(void);\nint main(void){ return depa_func() + depb_func(); }\n",
            &[],
        );
        let (rpl, la, lb) = (os("-Wl,-rpath-link=."), os("-ldepa"), os("-ldepb"));
        expect_link_error(
            &ws,
            &[user.as_os_str(), &libs, &rpl, &la],
            "deps.out",
            &["depb_func", "libdepb.so", "DSO missing from command line"],
        );
        let o = run_with_timeout(
            Command::new("gcc")
                .current_dir(ws.path())
                .arg(format!("-B{}/", ws.ld_dir().display()))
                .args([user.as_os_str(), &libs, &rpl, &la, &lb])
                .arg("-o")
                .arg(ws.join("deps.out")),
            std::time::Duration::from_secs(60),
        );
        assert_eq!(o.code(), 0, "{}", o.stderr);

        gnu_shared_lib(&ws, "kinds", "int plain_var = 1;\n__thread int tls_var = 2;\n", &[]);
        let lkinds = os("-lkinds");
        for (name, text) in [
            ("tlsref", "extern __thread int plain_var;\nint main(void){ return plain_var; }\n"),
            ("plainref", "extern int tls_var;\nint main(void){ return tls_var; }\n"),
        ] {
            let user = ws.compile_text(&format!("{name}.c"), text, &[]);
            let obj = format!("{name}.o");
            expect_link_error(
                &ws,
                &[user.as_os_str(), &libs, &lkinds],
                &format!("{name}.out"),
                &["mismatches", &obj],
            );
        }

        gnu_shared_lib(
            &ws,
            "undef",
            "int nowhere(void);\nint undef_func(void) { return nowhere(); }\n",
            &[],
        );
        let user = ws.compile_text(
            "useundef.c",
            "int undef_func(void);\nint main(void){ return undef_func(); }\n",
            &[],
        );
        let lundef = os("-lundef");
        expect_link_error(
            &ws,
            &[user.as_os_str(), &libs, &rpl, &lundef],
            "undef.out",
            &["libundef.so: undefined reference to `nowhere'"],
        );
    }
}

linker_test! {
    /// An absolute symbol (`.set sym, 0x1234`) keeps its value in a PIE and
    /// a static PIE, through the GOT and in data (no RELATIVE record adds
    /// the load address); a PC-relative reference to it in a PIE is an
    /// error, as in GNU ld.
    fn absolute_symbols_in_a_pie() {
        let ws = Workspace::new("dyn-absolute");
        let abs = ws.assemble(
            "abs",
            ".globl abssym\n.set abssym, 0x1234\n.section .note.GNU-stack,\"\",@progbits\n",
        );
        let got = ws.assemble(
            "gotload",
            ".text\n.globl get_abs\nget_abs:\n  movq abssym@GOTPCREL(%rip), %rax\n  ret\n.section .note.GNU-stack,\"\",@progbits\n",
        );
        let main = ws.compile_text(
            "absmain.c",
            "#include <stdio.h>\nextern char abssym[];\nchar *get_abs(void);\nchar *data = abssym;\nint main(void) { printf(\"%p %p\\n\", (void *)get_abs(), (void *)data); return 0; }\n",
            &["-fPIE"],
        );
        let b = format!("-B{}/", ws.ld_dir().display());
        for kind in [LinkKind::Pie, LinkKind::StaticPie, LinkKind::NoPie] {
            let exe = ws.join(format!("abs-{}", kind.tag()));
            run_tool(
                Command::new("gcc")
                    .args(kind.driver_flags())
                    .arg(&b)
                    .args([&main, &got, &abs])
                    .arg("-o")
                    .arg(&exe),
            );
            let o = run_exe(&exe);
            assert_eq!((o.code(), o.stdout.as_str()), (0, "0x1234 0x1234\n"), "{}", kind.tag());
        }
        let pcrel = ws.assemble(
            "pcrel",
            ".text\n.globl main\nmain:\n  leaq abssym(%rip), %rax\n  xorl %eax, %eax\n  ret\n.section .note.GNU-stack,\"\",@progbits\n",
        );
        let out = ws.join("pcrel.out");
        let o = run_with_timeout(
            Command::new("gcc").arg("-pie").arg(&b).args([&pcrel, &abs]).arg("-o").arg(&out),
            std::time::Duration::from_secs(60),
        );
        assert_ne!(o.code(), 0);
        assert!(o.stderr.contains("absolute symbol `abssym'"), "{}", o.stderr);
        assert!(!out.exists(), "a failed link left {}", out.display());
    }
}

linker_test! {
    /// `.symtab` of an executable gives a TLS symbol its offset in the TLS
    /// segment, as GNU ld does (debuggers read it so); `--emit-relocs`
    /// records name section symbols whose values are their sections'
    /// addresses; a static PIE with `--emit-relocs` still runs.
    fn symbol_values_for_tools() {
        let ws = Workspace::new("dyn-symvalues");
        let obj = ws.compile_text(
            "tv.c",
            "__thread int tpad = 1;\n__thread int tv = 99;\nint g;\nint main(void) { g++; return tv - 99; }\n",
            &[],
        );
        let b = format!("-B{}/", ws.ld_dir().display());
        for kind in [LinkKind::Pie, LinkKind::NoPie, LinkKind::Static, LinkKind::StaticPie] {
            let exe = ws.join(format!("tv-{}", kind.tag()));
            run_tool(
                Command::new("gcc")
                    .args(kind.driver_flags())
                    .arg(&b)
                    .arg(&obj)
                    .arg("-Wl,--emit-relocs")
                    .arg("-o")
                    .arg(&exe),
            );
            assert_eq!(run_exe(&exe).code(), 0, "{}", kind.tag());
            let syms = readelf(&["-sW"], &exe);
            let value = |name: &str| {
                syms.lines()
                    .find(|l| l.split_whitespace().last() == Some(name))
                    .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
                    .unwrap_or_else(|| panic!("no {name}"))
            };
            assert_eq!(value("tv"), "0000000000000004", "{}", kind.tag());
            // Every section symbol's value is its section's address.
            let sections = readelf(&["-SW"], &exe);
            let addr_of = |index: &str| {
                sections.lines().find_map(|l| {
                    let l = l.trim_start().strip_prefix('[')?;
                    let (n, rest) = l.split_once(']')?;
                    (n.trim() == index).then(|| rest.split_whitespace().nth(2).map(str::to_string))?
                })
            };
            for l in syms.lines().filter(|l| l.contains(" SECTION ")) {
                let f: Vec<&str> = l.split_whitespace().collect();
                assert_eq!(Some(f[1].to_string()), addr_of(f[6]), "{}: {l}", kind.tag());
            }
        }
    }
}

linker_test! {
    /// An absolute pointer (`.cfi_lsda 0x0`: `R_X86_64_64`) in the FDE of
    /// code `--gc-sections` removes: the FDE is dropped, and so is the
    /// RELATIVE record the PIE would have needed for it (it was counted,
    /// then had no place to go: an internal error).
    fn dropped_fde_needs_no_dynamic_record() {
        let ws = Workspace::new("dyn-dropped-fde");
        let obj = ws.assemble(
            "ehd",
            ".section .text.dead,\"ax\",@progbits\n.globl dead\ndead:\n.cfi_startproc\n.cfi_lsda 0x0, lsda_sym\nret\n.cfi_endproc\n.text\n.globl main\nmain:\n.cfi_startproc\nxorl %eax, %eax\nret\n.cfi_endproc\n.data\nlsda_sym: .quad 0\n.section .note.GNU-stack,\"\",@progbits\n",
        );
        let exe = ws.join("ehd");
        run_tool(
            Command::new("gcc")
                .arg(format!("-B{}/", ws.ld_dir().display()))
                .arg(&obj)
                .arg("-Wl,--gc-sections")
                .arg("-o")
                .arg(&exe),
        );
        assert_eq!(run_exe(&exe).code(), 0);
    }
}
