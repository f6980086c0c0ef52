//! The bodies of the fuzz targets (fuzz_targets/*.rs call them), kept in
//! one file so that the regression test of the inputs they found
//! (tests/fuzz_regressions.rs, which includes this file) runs each input
//! through exactly the code its target ran.
//!
//! Each function takes the fuzzed bytes; an `Err` from rivet is a fine
//! outcome, a panic, an abort, a hang or unbounded memory is a finding.

use rivet::args::Args;
use rivet::input::dso::{is_shared_object, SharedObject};
use rivet::input::ehframe;
use rivet::input::object::{ObjectFile, ParseCtx};
use rivet::input::{is_archive, parse_archive, version_script, MemberData};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `object`: `ObjectFile::parse` (with and without `-r`'s SHF_EXCLUDE
/// rule), every symbol accessor resolution uses, and the `.eh_frame`
/// splitting layout does.
pub fn object(data: &[u8]) {
    for keep_excluded in [false, true] {
        let mut ctx = ParseCtx::default();
        ctx.keep_excluded = keep_excluded;
        let Ok(obj) = ObjectFile::parse(0, "fuzz.o".into(), data, &ctx) else {
            return;
        };
        for i in 0..obj.symbols.len() {
            let _ = obj.symbol_name(i);
            let _ = obj.name_of(i);
            let _ = obj.place_of(i);
            if i >= obj.first_global {
                let _ = obj.is_global(i);
            }
        }
        for (i, s) in obj.sections.iter().enumerate() {
            let _ = (s.is_alloc(), s.is_nobits(), s.is_tls());
            if s.kept && s.name == b".eh_frame" {
                let _ = ehframe::walk(s.data).count();
                let _ = ehframe::split(&obj, i);
            }
        }
    }
}

/// `archive`: `parse_archive` (GNU and thin archives), then each inline
/// member as an object, as the link loads them.
pub fn archive(data: &[u8]) {
    let _ = is_archive(data);
    let Ok(ar) = parse_archive(Path::new("/nonexistent/fuzz.a"), data) else {
        return;
    };
    for &(_, m) in &ar.index {
        let _ = ar.members.get(m);
    }
    let ctx = ParseCtx::default();
    for m in &ar.members {
        if let MemberData::Inline(bytes) = m.data {
            let _ = ObjectFile::parse(0, format!("fuzz.a({})", m.name), bytes, &ctx);
        }
    }
}

/// `version_script`: `version_script::parse` of UTF-8 text, then a few
/// names classified (exact, glob and C++ patterns) as `-shared` does.
pub fn version_script(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(script) = version_script::parse("fuzz.map", text) else {
        return;
    };
    let _ = script.warnings();
    let _ = script.has_cxx_patterns();
    for (name, demangled) in [
        (&b"foo"[..], None),
        (b"foo_bar1", None),
        (b"_ZN2ns1fEi", Some("ns::f(int)")),
        (b"", None),
        (b"local", None),
    ] {
        let _ = script.classify(name, demangled);
    }
}

/// `dso`: `SharedObject::parse` and the accessors resolution and copy
/// relocations use.
pub fn dso(data: &[u8]) {
    let _ = is_shared_object(data);
    let Ok(so) = SharedObject::parse("fuzz.so".into(), b"fuzz.so", data) else {
        return;
    };
    for i in 0..so.symbols.len() {
        let _ = so.exports(i);
        let _ = so.section_of(i);
        let _ = so.copy_align(i);
        let _ = so.in_writable_section(i);
        let _ = so.version_name(so.symbols[i].version);
    }
    for v in 0..so.versions.len().min(64) as u16 + 2 {
        let _ = so.version_name(v);
    }
}

/// `args`: the command line. The first byte chooses what the rest is:
///
/// - 0 (mod 3): the argument list, one argument per line, to `Args::parse`;
/// - 1: a response file, `dir/args.rsp`, passed as `@FILE`;
/// - 2: a file, `dir/script`, named as the only input (with `-L dir`), for
///   `open_inputs` to read as a GNU ld script (`GROUP(...)`, `INPUT(...)`).
pub fn args(data: &[u8], dir: &Path) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            let text = String::from_utf8_lossy(rest);
            let argv: Vec<&str> = text.split('\n').collect();
            let _ = Args::parse(&argv);
        }
        1 => {
            let path = dir.join("args.rsp");
            std::fs::write(&path, rest).expect("write the response file");
            let _ = Args::parse(&[format!("@{}", path.display())]);
        }
        _ => {
            let path = dir.join("script");
            std::fs::write(&path, rest).expect("write the script");
            let argv = [
                path.display().to_string(),
                "-L".into(),
                dir.display().to_string(),
            ];
            if let Ok(args) = Args::parse(&argv) {
                let _ = rivet::input::open_inputs(&args);
            }
        }
    }
}

/// Which whole link a `link_*` target makes of its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// `-r -o DIR/out.o DIR/in.o`
    Relocatable,
    /// `-static -e main -o DIR/out DIR/in.o SUPPORT.o`, where SUPPORT.o is
    /// fuzz/support/support.c compiled (see [`support_object`]).
    Static,
    /// A dynamic output of the input alone: `-pie -E --hash-style=both -e
    /// main -o DIR/out DIR/in.o`, or with byte 9's bit 4 `-shared -o
    /// DIR/out.so DIR/in.o`; bit 5 adds `-z pack-relative-relocs`.
    Dynamic,
}

/// Extra options of a whole link, chosen by byte 9 of the input (ELF
/// header padding, `e_ident[EI_PAD]`: 0 in real objects and ignored by
/// rivet) so that one input always means one link: bit 0 `--gc-sections`,
/// 1 `--emit-relocs`, 2 `--eh-frame-hdr`, 3 `--build-id`.
pub fn link_flags(data: &[u8]) -> Vec<&'static str> {
    let sel = data.get(9).copied().unwrap_or(0);
    [
        "--gc-sections",
        "--emit-relocs",
        "--eh-frame-hdr",
        "--build-id",
    ]
    .into_iter()
    .enumerate()
    .filter(|&(bit, _)| sel & (1 << bit) != 0)
    .map(|(_, f)| f)
    .collect()
}

/// Writes `data` to `dir/in.o` and returns the link's arguments (without
/// argv[0]); `support` is the compiled support object for
/// [`LinkKind::Static`].
pub fn link_argv(data: &[u8], dir: &Path, kind: LinkKind, support: &Path) -> Vec<String> {
    let input = dir.join("in.o");
    std::fs::write(&input, data).expect("write the input object");
    let mut argv: Vec<String> = match kind {
        LinkKind::Relocatable => vec!["-r".into(), "-o".into(), path(&dir.join("out.o"))],
        LinkKind::Static => vec![
            "-static".into(),
            "-e".into(),
            "main".into(),
            "-o".into(),
            path(&dir.join("out")),
        ],
        LinkKind::Dynamic => {
            let sel = data.get(9).copied().unwrap_or(0);
            let mut v: Vec<String> = if sel & 0x10 != 0 {
                vec!["-shared".into(), "-o".into(), path(&dir.join("out.so"))]
            } else {
                ["-pie", "-E", "--hash-style=both", "-e", "main", "-o"]
                    .iter()
                    .map(|s| s.to_string())
                    .chain([path(&dir.join("out"))])
                    .collect()
            };
            if sel & 0x20 != 0 {
                v.extend(["-z".into(), "pack-relative-relocs".into()]);
            }
            v
        }
    };
    argv.push("--threads=1".into());
    argv.extend(link_flags(data).iter().map(|s| s.to_string()));
    argv.push(path(&input));
    if kind == LinkKind::Static {
        argv.push(path(support));
    }
    argv
}

/// The whole-link targets: the link of [`link_argv`] through the library,
/// as the `rivet` program runs it (without its `catch_unwind`: a panic is
/// the finding).
pub fn link(data: &[u8], dir: &Path, kind: LinkKind, support: &Path) {
    let argv = link_argv(data, dir, kind, support);
    let Ok(args) = Args::parse(&argv) else {
        return;
    };
    let _ = rivet::driver::link_args(&args);
}

/// fuzz/support/support.c compiled into `dir/support.o` with `$CC` (or
/// `cc`): the valid second object of the static links.
pub fn support_object(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        if Path::new(env!("CARGO_MANIFEST_DIR")).ends_with("fuzz") {
            "support/support.c"
        } else {
            "fuzz/support/support.c"
        },
    );
    let out = dir.join("support.o");
    let st = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args([
            "-c",
            "-O1",
            "-fno-pic",
            "-fno-stack-protector",
            "-fcf-protection=none",
            "-o",
        ])
        .arg(&out)
        .arg(&src)
        .status()
        .expect("run cc");
    assert!(st.success(), "cc failed on {}", src.display());
    out
}

fn path(p: &Path) -> String {
    p.display().to_string()
}
