//! Layout cases found by acceptance testing: where GNU ld's default script
//! puts input sections (`.ctors` in `.init_array`, large-model data after
//! `.bss`), what `--gc-sections` keeps, and linker-defined symbols.

#[macro_use]
mod common;

use common::programs::Source;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

static CTORS: Program = Program {
    name: "rl_ctors",
    lang: Lang::C,
    sources: &[
        Source {
            file: "rl_ctors_main.c",
            flags: &[],
        },
        Source {
            file: "rl_ctors_other.c",
            flags: &[],
        },
    ],
    expected_status: 0,
};

/// `(name, type, flags)` of every section of `exe` whose name is in `names`.
fn section_rows(exe: &Path, names: &[&str]) -> Vec<(String, String, String)> {
    readelf(&["-SW"], exe)
        .lines()
        .filter_map(|l| {
            let l = l.trim_start().strip_prefix('[')?;
            let (_, rest) = l.split_once(']')?;
            let f: Vec<&str> = rest.split_whitespace().collect();
            // Name Type Address Off Size ES Flg Lk Inf Al
            (f.len() >= 10 && names.contains(&f[0]))
                .then(|| (f[0].to_owned(), f[1].to_owned(), f[6].to_owned()))
        })
        .collect()
}

linker_test! {
    /// `.ctors`, `.ctors.N`, `.dtors`, `.dtors.N` run as with GNU ld: folded
    /// into `.init_array`/`.fini_array`, sorted together with
    /// `.init_array.N` by priority, and a several-entry `.ctors` runs last
    /// entry first.
    fn ctors_and_dtors_join_the_init_and_fini_arrays() {
        let ws = Workspace::new("ctors_and_dtors_join_the_init_and_fini_arrays");
        let objs = ws.compile_program(&CTORS, &[]);
        let (reference, tested) = ws.build_and_compare(&CTORS, &objs, &[]);
        let names = [".init_array", ".fini_array", ".ctors", ".dtors"];
        assert_eq!(section_rows(&tested, &names), section_rows(&reference, &names));
        // Both orders of the objects, and with --gc-sections (.ctors are roots).
        let reversed: Vec<PathBuf> = objs.iter().rev().cloned().collect();
        ws.build_and_compare(&CTORS, &reversed, &["-Wl,--gc-sections"]);
        // --emit-relocs: the records of reversed entries move with them, so
        // each record still describes the word at its offset, as in GNU ld.
        let (reference, tested) = ws.build_and_compare(&CTORS, &objs, &["-Wl,--emit-relocs"]);
        for sec in [".init_array", ".fini_array"] {
            let want = array_records(&reference, sec);
            let got = array_records(&tested, sec);
            assert_eq!(got.len(), want.len(), "records of {sec}");
        }
    }
}

/// Every record of `.rela<sec>` as `(offset from the section's start,
/// type)`, after checking that the record's value (symbol value plus
/// addend) is the word stored at its offset.
fn array_records(exe: &Path, sec: &str) -> Vec<(u64, String)> {
    let (addr, off) = readelf(&["-SW"], exe)
        .lines()
        .find_map(|l| {
            let (_, rest) = l.trim_start().strip_prefix('[')?.split_once(']')?;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let hex = |s: &str| u64::from_str_radix(s, 16).unwrap();
            (f.first() == Some(&sec)).then(|| (hex(f[2]), hex(f[3])))
        })
        .unwrap_or_else(|| panic!("{} has no {sec}", exe.display()));
    let bytes = read(exe);
    let text = readelf(&["-rW"], exe);
    let header = format!("Relocation section '.rela{sec}'");
    let mut records = Vec::new();
    for block in text
        .split("\n\n")
        .filter(|b| b.trim_start().starts_with(&header))
    {
        for l in block.lines().skip(2) {
            // Offset Info Type Value Name + Addend
            let f: Vec<&str> = l.split_whitespace().collect();
            let hex = |s: &str| u64::from_str_radix(s, 16).ok();
            let (Some(at), Some(value), Some(addend)) = (
                f.first().and_then(|s| hex(s)),
                f.get(3).and_then(|s| hex(s)),
                f.last().and_then(|s| hex(s)),
            ) else {
                continue;
            };
            let sign = if f.get(f.len() - 2) == Some(&"-") {
                -1i64
            } else {
                1
            };
            let word_at = (off + at - addr) as usize;
            let word = u64::from_le_bytes(bytes[word_at..word_at + 8].try_into().unwrap());
            let target = value.wrapping_add_signed(sign * addend as i64);
            assert_eq!(
                target, word,
                "{}: the record at {at:#x} in .rela{sec} says {target:#x}, the word there is {word:#x}",
                exe.display()
            );
            records.push((at - addr, f[2].to_string()));
        }
    }
    assert!(
        !records.is_empty(),
        "{} has no records for {sec}",
        exe.display()
    );
    records
}

linker_test! {
    /// The default script keeps crtbegin's and crtend's plain `.ctors` in an
    /// output `.ctors` (the old scheme's list ends) rather than
    /// `.init_array`, where glibc would call their -1 and 0 markers.
    fn crtbegin_ctors_stay_out_of_init_array() {
        let ws = Workspace::new("crtbegin_ctors_stay_out_of_init_array");
        let asm = |name: &str, body: &str| -> PathBuf {
            let src = ws.join(format!("{name}.s"));
            std::fs::write(&src, body).unwrap();
            let obj = ws.join(format!("{name}.o"));
            run_tool(Command::new("gcc").arg("-c").arg(&src).arg("-o").arg(&obj));
            obj
        };
        let begin = asm(
            "crtbeginX",
            ".section .ctors,\"aw\",@progbits\n.quad -1\n.section .dtors,\"aw\",@progbits\n.quad -1\n",
        );
        std::fs::rename(&begin, ws.join("crtbegin.o")).unwrap();
        let end = asm(
            "crtendX",
            ".section .ctors,\"aw\",@progbits\n.quad 0\n.section .dtors,\"aw\",@progbits\n.quad 0\n",
        );
        std::fs::rename(&end, ws.join("crtend.o")).unwrap();
        let main = ws.compile(&programs::source_path("rl_ctors_main.c"), &[], "");
        let other = ws.compile(&programs::source_path("rl_ctors_other.c"), &[], "");
        let objs = [ws.join("crtbegin.o"), main, other, ws.join("crtend.o")];
        let (reference, tested) = ws.build_and_compare(&CTORS, &objs, &[]);
        let names = [".init_array", ".fini_array", ".ctors", ".dtors"];
        let want = section_rows(&reference, &names);
        assert!(want.iter().any(|r| r.0 == ".ctors"), "GNU ld made no .ctors: {want:?}");
        assert_eq!(section_rows(&tested, &names), want);
        let words = |exe: &Path, sec: &str| readelf(&["-x", sec], exe).lines().skip(2).collect::<Vec<_>>().join("\n");
        let strip_addr = |s: String| -> String {
            s.lines().map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join("\n")
        };
        for sec in [".ctors", ".dtors"] {
            assert_eq!(strip_addr(words(&tested, sec)), strip_addr(words(&reference, sec)), "{sec} contents");
        }
    }
}

linker_test! {
    /// A `.ctors` of several entries must have one relocation per entry to
    /// be reversed; otherwise GNU ld and rivet refuse it, leaving no output.
    fn ctors_without_one_relocation_per_entry_is_an_error() {
        let ws = Workspace::new("ctors_without_one_relocation_per_entry_is_an_error");
        let src = ws.join("odd.s");
        std::fs::write(
            &src,
            ".text\n.globl _start\n_start: ret\nf1: ret\n\
             .section .ctors,\"aw\",@progbits\n.quad f1\n.long 1\n.long 2\n",
        )
        .unwrap();
        let obj = ws.compile(&src, &[], "");
        let out = ws.join("odd");
        let o = run_linker(ws.path(), [obj.as_os_str(), "-o".as_ref(), out.as_os_str()]);
        assert_eq!(o.code(), 1, "stderr: {}", o.stderr);
        assert!(o.stderr.contains("odd.o") && o.stderr.contains(".ctors"), "{}", o.stderr);
        assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
        assert!(!out.exists(), "a failed link left its output");
    }
}

/// `(provider:name, base)` of every SystemTap probe note of `exe`.
fn stap_probes(exe: &Path) -> Vec<(String, u64)> {
    let text = readelf(&["-n"], exe);
    let mut out = Vec::new();
    let mut provider = String::new();
    let mut name = String::new();
    for l in text.lines().map(str::trim) {
        if let Some(p) = l.strip_prefix("Provider: ") {
            provider = p.to_owned();
        } else if let Some(n) = l.strip_prefix("Name: ") {
            name = n.to_owned();
        } else if let Some(rest) = l.strip_prefix("Location: ") {
            let base = rest
                .split("Base: ")
                .nth(1)
                .and_then(|b| b.split(',').next())
                .and_then(|b| u64::from_str_radix(b.trim().trim_start_matches("0x"), 16).ok())
                .unwrap_or_else(|| panic!("cannot parse probe line: {l}"));
            out.push((format!("{provider}:{name}"), base));
        }
    }
    out
}

/// The address of section `name` in `exe`.
fn section_addr(exe: &Path, name: &str) -> Option<u64> {
    readelf(&["-SW"], exe).lines().find_map(|l| {
        let l = l.trim_start().strip_prefix('[')?;
        let (_, rest) = l.split_once(']')?;
        let f: Vec<&str> = rest.split_whitespace().collect();
        (f.first() == Some(&name)).then(|| u64::from_str_radix(f[2], 16).ok())?
    })
}

linker_test! {
    /// `--gc-sections` keeps `.stapsdt.base`: the non-allocated
    /// `.note.stapsdt` is a root whose relocations count, as with GNU ld, so
    /// libstdc++'s throw/catch probes keep a real base address (gdb's
    /// `catch throw` and SystemTap use them).
    fn gc_sections_keeps_stapsdt_base() {
        let p = program("exceptions");
        let ws = Workspace::new("gc_sections_keeps_stapsdt_base");
        let objs = ws.compile_program(p, &["-O2", "-ffunction-sections", "-fdata-sections"]);
        let (reference, tested) = ws.build_and_compare(p, &objs, &["-Wl,--gc-sections"]);
        let want = stap_probes(&reference);
        assert!(!want.is_empty(), "the GNU ld build has no SystemTap probes; the test lost its point");
        let base = section_addr(&tested, ".stapsdt.base").expect("no .stapsdt.base in the rivet build");
        let got = stap_probes(&tested);
        let names = |v: &[(String, u64)]| v.iter().map(|p| p.0.clone()).collect::<Vec<_>>();
        assert_eq!(names(&got), names(&want));
        for (probe, b) in &got {
            assert_eq!(*b, base, "probe {probe}: base is not .stapsdt.base's address");
        }
    }
}

static LINKER_SYMS: Program = Program {
    name: "rl_linker_syms",
    lang: Lang::C,
    sources: &[Source {
        file: "rl_linker_syms.c",
        flags: &[],
    }],
    expected_status: 0,
};

linker_test! {
    /// Weak references to linker-defined symbols are set or left NULL as
    /// with GNU ld, with and without `--eh-frame-hdr`: `__GNU_EH_FRAME_HDR`
    /// exists only with `.eh_frame_hdr`.
    fn weak_linker_defined_symbols_as_gnu_ld() {
        let ws = Workspace::new("weak_linker_defined_symbols_as_gnu_ld");
        let objs = ws.compile_program(&LINKER_SYMS, &[]);
        let (reference, _) = ws.build_and_compare(&LINKER_SYMS, &objs, &[]);
        assert!(
            run_exe(&reference).stdout.contains("__GNU_EH_FRAME_HDR           null"),
            "GNU ld defined __GNU_EH_FRAME_HDR without --eh-frame-hdr; the test lost its point"
        );
        ws.build_and_compare(&LINKER_SYMS, &objs, &["-Wl,--eh-frame-hdr"]);
    }
}

linker_test! {
    /// A strong reference to `__GNU_EH_FRAME_HDR` without `--eh-frame-hdr`
    /// is an undefined symbol, as with GNU ld.
    fn strong_eh_frame_hdr_reference_needs_the_header() {
        let ws = Workspace::new("strong_eh_frame_hdr_reference_needs_the_header");
        let src = ws.join("strong.c");
        std::fs::write(
            &src,
            "extern const char __GNU_EH_FRAME_HDR[];\n\
             int main(void) { return __GNU_EH_FRAME_HDR[0] == 1 ? 0 : 1; }\n",
        )
        .unwrap();
        let obj = ws.compile(&src, &[], "");
        let objs = [obj];
        let out = ws.join("strong");
        let o = run_with_timeout(
            Command::new("gcc")
                .arg(format!("-B{}/", ws.ld_dir().display()))
                .arg("-static")
                .args(&objs)
                .arg("-o")
                .arg(&out),
            std::time::Duration::from_secs(120),
        );
        assert_eq!(o.code(), 1, "stderr: {}", o.stderr);
        assert!(o.stderr.contains("__GNU_EH_FRAME_HDR"), "{}", o.stderr);
        assert!(!out.exists(), "a failed link left its output");
        let exe = ws.link_tested(Lang::C, &objs, &["-Wl,--eh-frame-hdr"], "strong_hdr");
        assert_eq!(run_exe(&exe).code(), 0, "__GNU_EH_FRAME_HDR is not the header");
    }
}

static LARGE_DATA: Program = Program {
    name: "rl_ldata",
    lang: Lang::C,
    sources: &[Source {
        file: "rl_ldata.c",
        flags: &["-O1", "-mcmodel=medium", "-mlarge-data-threshold=1000"],
    }],
    expected_status: 0,
};

/// `(name, address, flags)` of the allocated sections of `exe` in address
/// order.
fn alloc_sections(exe: &Path) -> Vec<(String, u64, String)> {
    let mut v: Vec<(String, u64, String)> = readelf(&["-SW"], exe)
        .lines()
        .filter_map(|l| {
            let l = l.trim_start().strip_prefix('[')?;
            let (_, rest) = l.split_once(']')?;
            let f: Vec<&str> = rest.split_whitespace().collect();
            if f.len() < 10 || !f[6].contains('A') {
                return None;
            }
            Some((
                f[0].to_owned(),
                u64::from_str_radix(f[2], 16).ok()?,
                f[6].to_owned(),
            ))
        })
        .collect();
    v.sort_by_key(|s| s.1);
    v
}

linker_test! {
    /// The medium code model's large sections come after `.bss` in GNU ld's
    /// order (`.bss`, `.lbss`, `.lrodata`, `.ldata`) with the large flag, and
    /// `_edata`/`__bss_start` stay with the small data; the program runs
    /// the same.
    fn large_data_after_bss() {
        let ws = Workspace::new("large_data_after_bss");
        let objs = ws.compile_program(&LARGE_DATA, &[]);
        let (reference, tested) = ws.build_and_compare(&LARGE_DATA, &objs, &[]);
        let names = |exe: &Path| -> Vec<(String, String)> {
            alloc_sections(exe)
                .into_iter()
                .filter(|s| [".data", ".bss", ".lbss", ".lrodata", ".ldata"].contains(&s.0.as_str()))
                .map(|s| (s.0, s.2))
                .collect()
        };
        let want = names(&reference);
        assert_eq!(
            want.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(),
            [".data", ".bss", ".lbss", ".lrodata", ".ldata"],
            "GNU ld's order changed"
        );
        assert_eq!(names(&tested), want);
        // The large sections start segments of their own, R and RW.
        let loads = |exe: &Path| -> Vec<String> {
            readelf(&["-lW"], exe)
                .lines()
                .filter(|l| l.trim_start().starts_with("LOAD"))
                .map(|l| l.split_whitespace().skip(6).take_while(|w| !w.starts_with("0x")).collect::<String>())
                .collect()
        };
        assert_eq!(loads(&tested), loads(&reference));
    }
}

linker_test! {
    /// An object whose only section is empty (a `_start` label and no
    /// code) links, as with GNU ld: the file is the headers alone, and the
    /// section headers do not overlap them.
    fn object_with_only_an_empty_section() {
        let ws = Workspace::new("empty_only_section");
        let obj = ws.assemble("empty", ".globl _start\n_start:\n");
        let out = ws.join("exe");
        let o = run_linker(
            ws.path(),
            ["-static".as_ref(), obj.as_os_str(), "-o".as_ref(), out.as_os_str()],
        );
        assert_eq!(o.code(), 0, "{}", o.stderr);
        let headers = readelf(&["-hSW"], &out);
        assert!(headers.contains(".shstrtab"), "{headers}");
    }
}
