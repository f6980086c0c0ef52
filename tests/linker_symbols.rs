//! The symbols the linker defines, in `.symtab` as GNU ld 2.40 writes them:
//! binding, type, visibility, section and value (as an offset into that
//! section, since the layouts differ) of each, compared with GNU ld's
//! output for a C hello, a C++ program with exceptions and static
//! constructors, `__start_`/`__stop_` of a custom section and programs
//! linked directly without libc. GNU ld makes the hidden ones local, after
//! an empty-named `STT_FILE` at the end of the locals; `--emit-relocs`
//! records must name them.

#[macro_use]
mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Names the linker defines (the test programs define none of these).
fn linker_defined(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "__ehdr_start",
        "__executable_start",
        "__preinit_array_start",
        "__preinit_array_end",
        "__init_array_start",
        "__init_array_end",
        "__fini_array_start",
        "__fini_array_end",
        "__rela_iplt_start",
        "__rela_iplt_end",
        "_GLOBAL_OFFSET_TABLE_",
        "__GNU_EH_FRAME_HDR",
        "_TLS_MODULE_BASE_",
        "etext",
        "_etext",
        "__etext",
        "edata",
        "_edata",
        "end",
        "_end",
        "__bss_start",
    ];
    NAMES.contains(&name) || name.starts_with("__start_") || name.starts_with("__stop_")
}

/// One symbol of `readelf -sW`.
#[derive(Debug, Clone)]
struct Sym {
    value: u64,
    ty: String,
    bind: String,
    vis: String,
    ndx: String,
    name: String,
}

fn symbols(file: &Path) -> Vec<Sym> {
    let text = readelf(&["-sW"], file);
    let mut out = Vec::new();
    let mut in_symtab = false;
    for l in text.lines() {
        if l.starts_with("Symbol table") {
            in_symtab = l.contains("'.symtab'");
            continue;
        }
        let f: Vec<&str> = l.split_whitespace().collect();
        if !in_symtab || f.len() < 7 || !f[0].ends_with(':') || f[0] == "Num:" {
            continue;
        }
        out.push(Sym {
            value: u64::from_str_radix(f[1], 16).unwrap(),
            ty: f[3].into(),
            bind: f[4].into(),
            vis: f[5].into(),
            ndx: f[6].into(),
            name: f.get(7).copied().unwrap_or("").into(),
        });
    }
    out
}

/// Section header index → (name, address).
fn section_table(file: &Path) -> BTreeMap<usize, (String, u64)> {
    readelf(&["-SW"], file)
        .lines()
        .filter_map(|l| {
            let l = l.trim_start().strip_prefix('[')?;
            let (idx, rest) = l.split_once(']')?;
            let idx = idx.trim().parse::<usize>().ok()?;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let addr = u64::from_str_radix(f.get(2)?, 16).ok()?;
            Some((idx, (f[0].to_string(), addr)))
        })
        .collect()
}

/// `.symtab`'s `sh_info`: the index of its first global.
fn symtab_info(file: &Path) -> usize {
    let text = readelf(&["-SW"], file);
    let line = text
        .lines()
        .find(|l| l.contains(" .symtab "))
        .expect("no .symtab");
    let f: Vec<&str> = line.split_whitespace().collect();
    // ... Type Address Off Size ES [Flg] Lk Inf Al
    f[f.len() - 2].parse().unwrap()
}

/// Every linker-defined symbol of `file`: name → "bind type vis section
/// offset" (the offset from its section's address; an `STT_TLS` value is
/// an offset already).
fn linker_symbols(file: &Path) -> BTreeMap<String, String> {
    let secs = section_table(file);
    let mut out = BTreeMap::new();
    for s in symbols(file) {
        if !linker_defined(&s.name) || s.ndx == "UND" {
            continue;
        }
        let (sec, value) = match s.ndx.parse::<usize>() {
            Ok(i) => {
                let (name, addr) = secs.get(&i).cloned().unwrap_or_default();
                let v = if s.ty == "TLS" {
                    s.value as i64
                } else {
                    s.value.wrapping_sub(addr) as i64
                };
                (name, v)
            }
            Err(_) => (s.ndx.clone(), s.value as i64),
        };
        let prev = out.insert(
            s.name.clone(),
            format!("{} {} {} {sec} {value:+}", s.bind, s.ty, s.vis),
        );
        assert!(prev.is_none(), "{}: {} twice", file.display(), s.name);
    }
    out
}

/// The locals after the last `STT_FILE` symbol when that one is GNU ld's
/// empty-named one (else an empty list), checking that the locals end
/// where `sh_info` says the globals start.
fn linker_locals(file: &Path) -> Vec<String> {
    let syms = symbols(file);
    let nlocal = syms.iter().take_while(|s| s.bind == "LOCAL").count();
    assert!(
        syms[nlocal..].iter().all(|s| s.bind != "LOCAL"),
        "{}: a local after the globals",
        file.display()
    );
    assert_eq!(symtab_info(file), nlocal, "{}: sh_info", file.display());
    let Some(last_file) = syms[..nlocal].iter().rposition(|s| s.ty == "FILE") else {
        return Vec::new();
    };
    if !syms[last_file].name.is_empty() {
        return Vec::new();
    }
    let mut v: Vec<String> = syms[last_file + 1..nlocal]
        .iter()
        .map(|s| s.name.clone())
        .collect();
    v.sort();
    v
}

/// Compares the linker-defined symbols of `tested` with GNU ld's
/// `reference`; returns GNU ld's, for the caller's own checks.
fn assert_same_linker_symbols(reference: &Path, tested: &Path) -> BTreeMap<String, String> {
    let r = linker_symbols(reference);
    let t = linker_symbols(tested);
    assert_eq!(
        t, r,
        "linker-defined symbols differ (left: linker under test, right: GNU ld)"
    );
    let (rl, tl) = (linker_locals(reference), linker_locals(tested));
    assert!(
        !rl.is_empty() || !r.values().any(|v| v.starts_with("LOCAL")),
        "GNU ld's locals are not after an empty STT_FILE: the test lost its point"
    );
    assert_eq!(
        tl, rl,
        "locals after the empty-named STT_FILE (left: linker under test)"
    );
    r
}

fn expect(symbols: &BTreeMap<String, String>, name: &str, want: &str) {
    let got = symbols
        .get(name)
        .unwrap_or_else(|| panic!("GNU ld did not define {name}: {symbols:#?}"));
    assert!(
        got.starts_with(want),
        "GNU ld's {name} is {got}, not {want}...; the test's premise changed"
    );
}

const HELLO: &str = "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n";

linker_test! {
    /// `gcc -static hello.c`: the hidden array bounds, `__rela_iplt_*`,
    /// `__ehdr_start` and `_GLOBAL_OFFSET_TABLE_` local; `_edata`,
    /// `__bss_start`, `_end` (hidden: glibc refers to it hidden) global;
    /// `__preinit_array_*` in the neighbour of the absent `.preinit_array`.
    fn c_hello() {
        let ws = Workspace::new("c_hello");
        ws.compile_text("hello.c", HELLO, &["-O1"]);
        let args = vec!["hello.o".to_string()];
        let (reference, tested, out) = link_and_compare(&ws, "gcc", &args, "hello");
        assert_eq!(out, "hello\n");
        let r = assert_same_linker_symbols(&reference, &tested);
        expect(&r, "__init_array_start", "LOCAL NOTYPE DEFAULT .init_array +0");
        expect(&r, "__preinit_array_start", "LOCAL NOTYPE DEFAULT .tbss");
        expect(&r, "_GLOBAL_OFFSET_TABLE_", "LOCAL OBJECT DEFAULT .got.plt +0");
        expect(&r, "__ehdr_start", "LOCAL NOTYPE DEFAULT");
        expect(&r, "_end", "GLOBAL NOTYPE HIDDEN");
        expect(&r, "_edata", "GLOBAL NOTYPE DEFAULT");
        expect(&r, "__bss_start", "GLOBAL NOTYPE DEFAULT .bss");
        expect(&r, "__start___libc_atexit", "GLOBAL NOTYPE PROTECTED __libc_atexit +0");
    }
}

const CXX: &str = r#"#include <cstdio>
#include <stdexcept>
struct Noisy {
    Noisy() { std::puts("constructed"); }
    ~Noisy() { std::puts("destroyed"); }
};
static Noisy noisy;
__attribute__((noinline)) static void thrower(int x) {
    if (x) throw std::runtime_error("thrown");
}
int main(int argc, char **) {
    try {
        thrower(argc);
    } catch (const std::exception &e) {
        std::printf("caught %s\n", e.what());
    }
    return 0;
}
"#;

linker_test! {
    /// `g++ -static` with exceptions and a static constructor, with and
    /// without `--eh-frame-hdr` (`__GNU_EH_FRAME_HDR`, local).
    fn cxx_exceptions_and_constructors() {
        let ws = Workspace::new("cxx_exceptions_and_constructors");
        ws.compile_text("cxx.cpp", CXX, &["-O1"]);
        for extra in [None, Some("-Wl,--eh-frame-hdr")] {
            let mut args = vec!["cxx.o".to_string()];
            args.extend(extra.map(str::to_string));
            let what = if extra.is_some() { "cxx_hdr" } else { "cxx" };
            let (reference, tested, out) = link_and_compare(&ws, "g++", &args, what);
            assert_eq!(out, "constructed\ncaught thrown\ndestroyed\n");
            let r = assert_same_linker_symbols(&reference, &tested);
            expect(&r, "__init_array_end", "LOCAL NOTYPE DEFAULT .init_array");
            expect(&r, "_end", "GLOBAL NOTYPE HIDDEN");
            if extra.is_some() {
                expect(&r, "__GNU_EH_FRAME_HDR", "LOCAL NOTYPE DEFAULT .eh_frame_hdr +0");
            } else {
                assert!(!r.contains_key("__GNU_EH_FRAME_HDR"));
            }
        }
    }
}

const START_STOP: &str = r#"#include <stdio.h>
__attribute__((used, section("my_items"))) static const int a = 1;
__attribute__((used, section("my_items"))) static const int b = 2;
extern const int __start_my_items[], __stop_my_items[];
int main(void) {
    int sum = 0;
    for (const int *p = __start_my_items; p < __stop_my_items; p++)
        sum += *p;
    printf("%d\n", sum);
    return sum == 3 ? 0 : 1;
}
"#;

linker_test! {
    /// `__start_X`/`__stop_X` of a custom section: global, protected, in X.
    fn start_stop_of_a_custom_section() {
        let ws = Workspace::new("start_stop_of_a_custom_section");
        ws.compile_text("startstop.c", START_STOP, &["-O1"]);
        let args = vec!["startstop.o".to_string()];
        let (reference, tested, out) = link_and_compare(&ws, "gcc", &args, "startstop");
        assert_eq!(out, "3\n");
        let r = assert_same_linker_symbols(&reference, &tested);
        expect(&r, "__start_my_items", "GLOBAL NOTYPE PROTECTED my_items +0");
        expect(&r, "__stop_my_items", "GLOBAL NOTYPE PROTECTED my_items +8");
    }
}

/// A program without libc that refers to most linker-defined symbols (the
/// script's `PROVIDE`d ones exist only then). It has TLS, so `as` gives it
/// an undefined `_GLOBAL_OFFSET_TABLE_`, which GNU ld drops with
/// `.got.plt`. Exits 0 when the symbols look right.
const NO_LIBC: &str = r#"
extern char __ehdr_start[], __executable_start[], etext[], _etext[], __etext[];
extern char edata[], _edata[], end[], _end[], __bss_start[];
extern char __init_array_start[], __init_array_end[], __fini_array_start[];
extern char __fini_array_end[], __preinit_array_start[], __preinit_array_end[];
extern char __rela_iplt_start[], __rela_iplt_end[];
__thread int tv = 7;
int counter = 1;
long zeroed[4];
volatile int never;
void *volatile refs[] = {
    __ehdr_start, __executable_start, etext, _etext, __etext, edata, _edata,
    end, _end, __bss_start, __init_array_start, __init_array_end,
    __fini_array_start, __fini_array_end, __preinit_array_start,
    __preinit_array_end, __rela_iplt_start, __rela_iplt_end,
};
static void leave(long c) {
    __asm__ volatile("syscall" ::"a"(60), "D"(c));
    __builtin_unreachable();
}
void _start(void) {
    if (never)
        leave(tv);
    leave(refs[0] == (void *)0x400000 && refs[8] >= (void *)&zeroed[4] &&
          refs[10] == refs[11] && counter == 1 ? 0 : 1);
}
"#;

/// A program without libc with nothing but `_start`: only the symbols GNU
/// ld's script always assigns.
const NO_LIBC_BARE: &str = r#"
int x = 5;
void _start(void) {
    __asm__ volatile("syscall" ::"a"(60), "D"(x == 5 ? 0 : 1));
    __builtin_unreachable();
}
"#;

/// Links `obj` directly with GNU ld and with the linker under test, runs
/// both; returns (reference, tested).
fn link_both_direct(
    ws: &Workspace,
    obj: &str,
    extra: &[&str],
) -> (std::path::PathBuf, std::path::PathBuf) {
    let stem = obj.trim_end_matches(".o");
    let (reference, tested) = (format!("{stem}.ref"), format!("{stem}.test"));
    run_tool(
        Command::new("ld.bfd")
            .current_dir(ws.path())
            .args(extra)
            .args(["-o", &reference, obj]),
    );
    let mut args: Vec<&str> = extra.to_vec();
    args.extend(["-o", &tested, obj]);
    link_direct(ws.path(), &args);
    let (r, t) = (ws.join(&reference), ws.join(&tested));
    let ro = run_exe(&r);
    assert_eq!(ro.code(), 0, "the GNU ld build of {obj} failed");
    assert_same_run(&ro, &run_exe(&t), obj);
    (r, t)
}

linker_test! {
    /// Without libc, linked directly: the `PROVIDE`d symbols exist when
    /// referred to; absent sections' symbols name GNU ld's neighbour; no
    /// `_GLOBAL_OFFSET_TABLE_` without `.got.plt`; and a program referring
    /// to none still gets `_edata`, `__bss_start` and `_end`.
    fn programs_without_libc() {
        let ws = Workspace::new("programs_without_libc");
        ws.compile_text("nolibc.c", NO_LIBC, &["-O1", "-fno-pie"]);
        ws.compile_text("bare.c", NO_LIBC_BARE, &["-O1", "-fno-pie"]);
        let (reference, tested) = link_both_direct(&ws, "nolibc.o", &[]);
        let r = assert_same_linker_symbols(&reference, &tested);
        expect(&r, "__preinit_array_start", "LOCAL NOTYPE DEFAULT .tdata");
        expect(&r, "__rela_iplt_start", "LOCAL NOTYPE DEFAULT .text");
        expect(&r, "etext", "GLOBAL NOTYPE DEFAULT .text");
        expect(&r, "__executable_start", "GLOBAL NOTYPE DEFAULT .text");
        expect(&r, "edata", "GLOBAL NOTYPE DEFAULT .data");
        expect(&r, "end", "GLOBAL NOTYPE DEFAULT .bss");
        assert!(!r.contains_key("_GLOBAL_OFFSET_TABLE_"), "{r:#?}");
        let (reference, tested) = link_both_direct(&ws, "bare.o", &[]);
        let r = assert_same_linker_symbols(&reference, &tested);
        let names: Vec<&str> = r.keys().map(String::as_str).collect();
        assert_eq!(names, ["__bss_start", "_edata", "_end"]);
        expect(&r, "_end", "GLOBAL NOTYPE DEFAULT .data +8");
        assert!(linker_locals(&tested).is_empty());
    }
}

/// Symbol names of the relocation records of `file` that name
/// linker-defined symbols, with their counts.
fn records_naming_linker_symbols(file: &Path) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for l in readelf(&["-rW"], file).lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 5 || u64::from_str_radix(f[0], 16).is_err() || !f[2].starts_with("R_") {
            continue;
        }
        if linker_defined(f[4]) {
            *out.entry(f[4].to_string()).or_insert(0) += 1;
        }
    }
    out
}

const EMIT: &str = r#"#include <stdio.h>
extern void (*__init_array_start[])(void), (*__init_array_end[])(void);
extern char __ehdr_start[], _end[];
static void hook(void) {}
__attribute__((used, section(".init_array"))) static void (*p)(void) = hook;
int main(void) {
    printf("%d %d\n", (int)(__init_array_end - __init_array_start) > 0,
           __ehdr_start[1] == 'E' && _end > __ehdr_start);
    return 0;
}
"#;

linker_test! {
    /// `--emit-relocs` records against linker-defined symbols name them
    /// (their output indices moved with them into the locals).
    fn emit_relocs_name_linker_symbols() {
        let ws = Workspace::new("emit_relocs_name_linker_symbols");
        ws.compile_text("emit.c", EMIT, &["-O1", "-fno-pie"]);
        let args: Vec<String> = ["-no-pie", "emit.o", "-Wl,--emit-relocs"]
            .map(str::to_string)
            .to_vec();
        let (reference, tested, out) = link_and_compare(&ws, "gcc", &args, "emit");
        assert_eq!(out, "1 1\n");
        assert_same_linker_symbols(&reference, &tested);
        let (r, t) = (
            records_naming_linker_symbols(&reference),
            records_naming_linker_symbols(&tested),
        );
        for name in ["__init_array_start", "__init_array_end", "__ehdr_start", "_end"] {
            assert!(r.contains_key(name), "GNU ld's records do not name {name}: {r:?}");
        }
        assert_eq!(t, r, "records naming linker-defined symbols (left: linker under test)");
    }
}

linker_test! {
    /// `-r` output defines none of them: references stay undefined, and no
    /// empty-named STT_FILE is written.
    fn relocatable_output_defines_none() {
        let ws = Workspace::new("relocatable_output_defines_none");
        ws.compile_text("emit.c", EMIT, &["-O1", "-fno-pie"]);
        run_tool(
            Command::new("ld.bfd")
                .current_dir(ws.path())
                .args(["-r", "-o", "merged.ref", "emit.o"]),
        );
        link_direct(ws.path(), ["-r", "-o", "merged.test", "emit.o"]);
        let listing = |f: &str| -> Vec<String> {
            symbols(&ws.join(f))
                .into_iter()
                .filter(|s| linker_defined(&s.name) || (s.ty == "FILE" && s.name.is_empty()))
                .map(|s| format!("{} {} {} {} {}", s.name, s.bind, s.ty, s.vis, s.ndx))
                .collect()
        };
        let mut r = listing("merged.ref");
        r.sort();
        assert!(r.iter().any(|s| s == "__init_array_start GLOBAL NOTYPE DEFAULT UND"), "{r:?}");
        let mut t = listing("merged.test");
        t.sort();
        assert_eq!(t, r);
    }
}
