//! What the shared-object tests (`shared_object*.rs`) share: linking a
//! library or program with GNU ld or the linker under test, running it
//! against a library directory, and reading back `.dynamic` and `.dynsym`.

#![allow(dead_code)]

use super::common::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Time limit of one run of a test program.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Which linker makes a library or program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    /// GNU ld (`-fuse-ld=bfd`), the reference.
    Gnu,
    /// The linker under test (`-B DIR`, `DIR/ld` being it).
    Tested,
}

impl By {
    /// The compiler driver's option that picks this linker.
    pub fn flag(self, ws: &Workspace) -> String {
        match self {
            By::Gnu => "-fuse-ld=bfd".to_string(),
            By::Tested => format!("-B{}/", ws.ld_dir().display()),
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            By::Gnu => "gnu",
            By::Tested => "tested",
        }
    }
}

/// Runs `driver` (gcc or g++) with the linker `by` on `args`, writing
/// `out` (its directory is created); the link must succeed.
pub fn link(ws: &Workspace, driver: &str, by: By, args: &[String], out: &Path) -> PathBuf {
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    run_tool(
        Command::new(driver)
            .current_dir(ws.path())
            .arg(by.flag(ws))
            .args(args)
            .arg("-o")
            .arg(out),
    );
    out.to_path_buf()
}

/// `driver -shared` of `inputs` plus `extra` into `out`, linked by `by`.
pub fn link_shared(
    ws: &Workspace,
    driver: &str,
    by: By,
    inputs: &[&Path],
    extra: &[&str],
    out: &Path,
) -> PathBuf {
    let mut args = vec!["-shared".to_string()];
    args.extend(inputs.iter().map(|p| path_str(p)));
    args.extend(extra.iter().map(|s| s.to_string()));
    link(ws, driver, by, &args, out)
}

/// Runs `exe`, the shared objects looked up in `lib_dir` first.
pub fn run_in(exe: &Path, lib_dir: &Path) -> Outcome {
    run_with_timeout(
        Command::new(exe).env("LD_LIBRARY_PATH", lib_dir),
        RUN_TIMEOUT,
    )
}

/// Asserts a run exited 0 and printed `expected`.
pub fn assert_output(o: &Outcome, expected: &str, what: &str) {
    assert_eq!(
        (o.code(), o.stdout.as_str()),
        (0, expected),
        "{what}: unexpected result; stderr:\n{}",
        o.stderr
    );
}

/// The `.dynamic` entries as (tag name, value text), from `readelf -d`.
pub fn dynamic_tags(file: &Path) -> Vec<(String, String)> {
    readelf(&["-dW"], file)
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            if !l.starts_with("0x") {
                return None;
            }
            let open = l.find('(')?;
            let close = open + l[open..].find(')')?;
            Some((
                l[open + 1..close].to_string(),
                l[close + 1..].trim().to_string(),
            ))
        })
        .collect()
}

/// The value of the first `.dynamic` entry `tag`, if any.
pub fn dynamic_tag(file: &Path, tag: &str) -> Option<String> {
    dynamic_tags(file)
        .into_iter()
        .find(|(t, _)| t == tag)
        .map(|(_, v)| v)
}

/// The libraries named by `DT_NEEDED`, in order.
pub fn needed(file: &Path) -> Vec<String> {
    dynamic_tags(file)
        .into_iter()
        .filter(|(t, _)| t == "NEEDED")
        .map(|(_, v)| {
            v.trim_start_matches("Shared library: [")
                .trim_end_matches(']')
                .to_string()
        })
        .collect()
}

/// `.dynsym` read back: the defined symbols as `name type bind vis size
/// DEF|ABS` (names with their `@`/`@@` version) and the undefined ones as
/// `name bind` (without version: a library's version of an undefined
/// symbol depends on what libc happens to be needed for).
pub struct DynSyms {
    pub defined: BTreeSet<String>,
    pub undefined: BTreeSet<String>,
}

impl DynSyms {
    pub fn of(file: &Path) -> DynSyms {
        let text = readelf_clean(&["--dyn-syms", "-W"], file);
        let mut defined = BTreeSet::new();
        let mut undefined = BTreeSet::new();
        for line in text.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            let index = f
                .first()
                .and_then(|n| n.strip_suffix(':')?.parse::<usize>().ok());
            if f.len() < 8 || !matches!(index, Some(i) if i > 0) {
                continue;
            }
            let (size, ty, bind, vis, ndx, name) = (f[2], f[3], f[4], f[5], f[6], f[7]);
            match ndx {
                "UND" => {
                    let bare = name.split('@').next().unwrap();
                    undefined.insert(format!("{bare} {bind}"));
                }
                "ABS" => {
                    defined.insert(format!("{name} {ty} {bind} {vis} {size} ABS"));
                }
                _ => {
                    defined.insert(format!("{name} {ty} {bind} {vis} {size} DEF"));
                }
            }
        }
        DynSyms { defined, undefined }
    }

    /// The defined names (with versions).
    pub fn names(&self) -> BTreeSet<String> {
        self.defined
            .iter()
            .map(|s| s.split(' ').next().unwrap().to_string())
            .collect()
    }

    /// Asserts `tested` exports exactly what `reference` (GNU ld's) does,
    /// with the same types, bindings, visibilities and sizes, and refers
    /// to the same undefined names.
    pub fn assert_same(reference: &Path, tested: &Path) {
        let (r, t) = (DynSyms::of(reference), DynSyms::of(tested));
        for (what, r, t) in [
            ("defined", &r.defined, &t.defined),
            ("undefined", &r.undefined, &t.undefined),
        ] {
            let extra: Vec<&String> = t.difference(r).collect();
            let missing: Vec<&String> = r.difference(t).collect();
            assert!(
                extra.is_empty() && missing.is_empty(),
                "{what} .dynsym entries of {} differ from GNU ld's {}:\n\
                 only in the tested library: {extra:?}\n\
                 only in GNU ld's: {missing:?}",
                tested.display(),
                reference.display()
            );
        }
    }
}

/// Checks every shared object must pass: an `ET_DYN` file readelf reads
/// without complaint, entry point as GNU ld's (0), no `PT_INTERP`, the
/// same kinds of segments as GNU ld's, no text relocations.
pub fn assert_sane_library(reference: &Path, tested: &Path) {
    readelf_clean(&["-a", "-W"], tested);
    let header = |f: &Path| {
        let h = readelf(&["-h"], f);
        let field = |name: &str| {
            h.lines()
                .find(|l| l.trim_start().starts_with(name))
                .map(|l| l.split(':').nth(1).unwrap().trim().to_string())
                .unwrap_or_else(|| panic!("no {name} in readelf -h of {}", f.display()))
        };
        (field("Type"), field("Entry point address"))
    };
    let t = header(tested);
    assert_eq!(t, header(reference), "{}: ELF header", tested.display());
    assert!(t.0.starts_with("DYN"), "{}: {t:?}", tested.display());
    let kinds = |f: &Path| segment_types(f).into_iter().collect::<BTreeSet<_>>();
    let segments = kinds(tested);
    assert_eq!(
        segments,
        kinds(reference),
        "{}: segment types (left: tested)",
        tested.display()
    );
    assert!(!segments.contains("INTERP"), "{segments:?}");
    let tags = dynamic_tags(tested);
    assert!(
        !tags
            .iter()
            .any(|(t, v)| t == "TEXTREL" || v.contains("TEXTREL")),
        "{}: text relocations: {tags:?}",
        tested.display()
    );
}

/// The names of the files in `dir`.
pub fn listing(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Links `args` with `-shared` by the linker under test into `out`: the
/// link must fail with status 1, its message must contain one of each
/// group of `needles`, and it must leave no file behind.
pub fn expect_shared_error(ws: &Workspace, args: &[String], out: &str, needles: &[&[&str]]) {
    let flag = By::Tested.flag(ws);
    let before = listing(ws.path());
    let o = run_with_timeout(
        Command::new("gcc")
            .current_dir(ws.path())
            .arg(flag)
            .arg("-shared")
            .args(args)
            .arg("-o")
            .arg(ws.join(out)),
        Duration::from_secs(60),
    );
    assert_eq!(o.code(), 1, "{args:?}: exit status; stderr:\n{}", o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    for group in needles {
        assert!(
            group.iter().any(|n| o.stderr.contains(n)),
            "{args:?}: none of {group:?} in:\n{}",
            o.stderr
        );
    }
    assert!(!ws.join(out).exists(), "a failed link left {out}");
    assert_eq!(
        listing(ws.path()),
        before,
        "a failed link left files behind"
    );
}
