//! Inputs the fuzz targets (`fuzz/`, see fuzz/README.md) found crashing,
//! hanging or exhausting memory, kept as `tests/fuzz_regressions/
//! <target>-<hash>.bin`, each run through the same path as its target, plus
//! a few valid inputs made here (which must keep working):
//!
//! - the parser targets (`object`, `archive`, `version_script`, `dso`,
//!   `args`) run the very code of their target (fuzz/src/lib.rs, included
//!   here) in a child process (this test binary again, `replay_one`), so
//!   that an abort or a runaway allocation fails one input, not the suite;
//! - the whole-link targets (`link_r`, `link_static`, `link_dynamic`) run the `rivet`
//!   program with the arguments their target links with.
//!
//! An input passes when its process ends within a minute with status 0 or 1
//! and no "panicked" or "internal error" in its output.

#[macro_use]
mod common;

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod fuzz_bodies;

use common::*;
use fuzz_bodies::LinkKind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);
/// Address space of a replaying child: a parser that wants more is a bug.
const CHILD_MEMORY: u64 = 8 << 30;

/// The saved inputs of `target`, in name order.
fn saved(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let prefix = format!("{target}-");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    let n = p.file_name().unwrap().to_string_lossy();
                    n.starts_with(&prefix) && n.ends_with(".bin")
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// What is wrong with a finished run, if anything.
fn verdict(o: &Outcome) -> Result<(), String> {
    let out = format!("{}{}", o.stdout, o.stderr);
    if !matches!(o.code(), 0 | 1) {
        return Err(format!("exit status {}:\n{}", o.code(), tail(&out)));
    }
    if out.contains("panicked") || out.contains("internal error") {
        return Err(format!("panic:\n{}", tail(&out)));
    }
    Ok(())
}

fn tail(s: &str) -> &str {
    let mut at = s.len().saturating_sub(3000);
    while !s.is_char_boundary(at) {
        at += 1;
    }
    &s[at..]
}

/// Runs `cmd`, turning a timeout (a panic of the harness) into an error.
fn run(cmd: &mut Command) -> Result<Outcome, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_with_timeout(cmd, LIMIT)
    }))
    .map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .unwrap_or_else(|| "timed out".into())
    })
}

/// Runs one input through `target`'s path in `dir`; `Err` says what went
/// wrong.
fn replay(target: &str, input: &Path, dir: &Path, seed: bool) -> Result<(), String> {
    std::fs::create_dir_all(dir).unwrap();
    let o = match target {
        "link_r" | "link_static" | "link_dynamic" => {
            let data = std::fs::read(input).unwrap();
            let (kind, support) = match target {
                "link_r" => (LinkKind::Relocatable, PathBuf::new()),
                "link_dynamic" => (LinkKind::Dynamic, PathBuf::new()),
                _ => (LinkKind::Static, fuzz_bodies::support_object(dir)),
            };
            let mut argv = fuzz_bodies::link_argv(&data, dir, kind, &support);
            if linker_is_gnu_ld() {
                argv.retain(|a| a != "--threads=1");
            }
            let o = run(Command::new(linker()).current_dir(dir).args(&argv))?;
            // The valid programs made here must link.
            if seed && !o.status.success() {
                return Err(format!("a valid seed failed to link:\n{}", tail(&o.stderr)));
            }
            o
        }
        _ => {
            let mut cmd = Command::new(std::env::current_exe().unwrap());
            cmd.args(["replay_one", "--exact", "--nocapture", "--test-threads=1"])
                .env("RIVET_FUZZ_REPLAY", target)
                .env("RIVET_FUZZ_REPLAY_INPUT", input)
                .env("RIVET_FUZZ_REPLAY_DIR", dir)
                .env("RUST_BACKTRACE", "0");
            use std::os::unix::process::CommandExt;
            // SAFETY: setrlimit is async-signal-safe; nothing else runs
            // between fork and exec.
            unsafe {
                cmd.pre_exec(|| {
                    let lim = libc::rlimit {
                        rlim_cur: CHILD_MEMORY,
                        rlim_max: CHILD_MEMORY,
                    };
                    libc::setrlimit(libc::RLIMIT_AS, &lim);
                    Ok(())
                });
            }
            let o = run(&mut cmd)?;
            if !o.status.success() {
                // The panic message first, then the test harness's lines.
                let out = format!("{}{}", o.stderr, o.stdout);
                return Err(format!("exit status {}:\n{}", o.code(), tail(&out)));
            }
            o
        }
    };
    verdict(&o)
}

/// The child half of [`replay`]: runs the input named by the environment
/// through its target's body. Does nothing in a plain `cargo test`.
#[test]
fn replay_one() {
    let Some(target) = std::env::var_os("RIVET_FUZZ_REPLAY") else {
        return;
    };
    let input = std::env::var_os("RIVET_FUZZ_REPLAY_INPUT").unwrap();
    let dir = PathBuf::from(std::env::var_os("RIVET_FUZZ_REPLAY_DIR").unwrap());
    let data = std::fs::read(input).unwrap();
    match target.to_str().unwrap() {
        "object" => fuzz_bodies::object(&data),
        "archive" => fuzz_bodies::archive(&data),
        "version_script" => fuzz_bodies::version_script(&data),
        "dso" => fuzz_bodies::dso(&data),
        "args" => fuzz_bodies::args(&data, &dir),
        t => panic!("unknown fuzz target {t}"),
    }
}

/// Replays the seeds made by `seeds` and every saved input of `target`;
/// fails listing each input that failed.
fn check(ws: &Workspace, target: &str, seeds: Vec<(String, Vec<u8>)>) {
    let mut inputs = Vec::new();
    let nseeds = seeds.len();
    for (name, data) in seeds {
        let p = ws.join(format!("seed-{name}"));
        std::fs::write(&p, data).unwrap();
        inputs.push(p);
    }
    inputs.extend(saved(target));
    let mut failed = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        if let Err(e) = replay(target, input, &ws.join(format!("run{i}")), i < nseeds) {
            failed.push(format!("{}: {e}", input.display()));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} {target} inputs failed:\n\n{}",
        failed.len(),
        inputs.len(),
        failed.join("\n\n")
    );
}

/// A freestanding program for the static links: it uses what
/// fuzz/support/support.c defines (as the fuzz seeds do).
const PROGRAM: &str = r#"
extern int support_fn(int);
extern int support_data;
extern __thread int support_tls;
static __thread int my_tls = 3;
static const char *names[] = { "one", "two" };
__attribute__((section("fuzzsec"))) int in_fuzzsec = 4;
int main(void) { my_tls += support_tls; return support_fn(my_tls) + support_data + names[1][0] + in_fuzzsec; }
"#;

fn objects(ws: &Workspace) -> Vec<(String, Vec<u8>)> {
    let flags: [(&str, &[&str]); 3] = [
        ("plain.o", &["-O1", "-fno-stack-protector"]),
        ("pie_g.o", &["-O0", "-g", "-fPIE", "-fno-stack-protector"]),
        ("gz.o", &["-O1", "-g", "-gz", "-ffunction-sections"]),
    ];
    let mut v = Vec::new();
    for (name, f) in flags {
        let o = ws.compile_text(&format!("{}.c", &name[..name.len() - 2]), PROGRAM, f);
        v.push((name.to_string(), read(&o)));
    }
    // The same with every option of byte 9 (see fuzz_bodies::link_flags).
    let mut all = v[0].1.clone();
    all[9] = 0x0f;
    v.push(("options.o".into(), all));
    v
}

linker_test! {
    fn object_inputs() {
        let ws = Workspace::new("fuzz_regressions::object");
        let mut seeds = objects(&ws);
        seeds.push(("empty".into(), Vec::new()));
        check(&ws, "object", seeds);
    }
}

linker_test! {
    fn archive_inputs() {
        let ws = Workspace::new("fuzz_regressions::archive");
        let objs = objects(&ws);
        std::fs::write(ws.join("m.o"), &objs[0].1).unwrap();
        run_tool(Command::new("ar").current_dir(ws.path()).args(["rcs", "m.a", "m.o"]));
        run_tool(Command::new("ar").current_dir(ws.path()).args(["rcsT", "t.a", "m.o"]));
        let seeds = vec![
            ("m.a".into(), read(&ws.join("m.a"))),
            ("t.a".into(), read(&ws.join("t.a"))),
            ("empty.a".into(), b"!<arch>\n".to_vec()),
        ];
        check(&ws, "archive", seeds);
    }
}

linker_test! {
    fn version_script_inputs() {
        let ws = Workspace::new("fuzz_regressions::version_script");
        let seeds = [
            "{ global: foo; bar*; local: *; };",
            "V1 { global: f; local: *; };\nV2 { g[a-z]?; } V1;\n",
            "V { global: extern \"C++\" { \"ns::f(int)\"; ns::*; }; local: *; };",
            "{ /* unterminated",
        ];
        let seeds = seeds
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("{i}.map"), s.as_bytes().to_vec()))
            .collect();
        check(&ws, "version_script", seeds);
    }
}

linker_test! {
    fn dso_inputs() {
        let ws = Workspace::new("fuzz_regressions::dso");
        let src = ws.join("lib.c");
        std::fs::write(&src, "int lib_var = 1; __thread int lib_tls; int lib_fn(int x) { return x + lib_var + lib_tls; }\n").unwrap();
        run_tool(Command::new("gcc").current_dir(ws.path()).args(["-shared", "-fPIC", "-o", "lib.so", "lib.c"]));
        check(&ws, "dso", vec![("lib.so".into(), read(&ws.join("lib.so")))]);
    }
}

linker_test! {
    fn args_inputs() {
        let ws = Workspace::new("fuzz_regressions::args");
        let seeds = [
            &b"\x00-r\n-o\nout\na.o\nb.o"[..],
            b"\x00-static\n-e\nmain\n--gc-sections\n--threads=2\n-L/tmp\n-lc",
            b"\x01-r -o 'out file' \"a.o\" b\\ c.o @args.rsp",
            b"\x02/* script */ GROUP ( a.o AS_NEEDED ( b.o ) )\nINPUT(script)",
        ];
        let seeds = seeds
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("{i}.args"), s.to_vec()))
            .collect();
        check(&ws, "args", seeds);
    }
}

linker_test! {
    fn link_r_inputs() {
        let ws = Workspace::new("fuzz_regressions::link_r");
        check(&ws, "link_r", objects(&ws));
    }
}

linker_test! {
    fn link_dynamic_inputs() {
        let ws = Workspace::new("fuzz_regressions::link_dynamic");
        // The program leaves support.c's symbols to the loader: a shared
        // object (byte 9 bit 4), with and without RELR (bit 5).
        let o = ws.compile_text("pic.c", PROGRAM, &["-O1", "-fPIC", "-fno-stack-protector"]);
        let pic = read(&o);
        let seeds = [("shared.o", 0x10u8), ("shared_relr.o", 0x30), ("shared_opts.o", 0x3f)]
            .into_iter()
            .map(|(name, sel)| {
                let mut d = pic.clone();
                d[9] = sel;
                (name.to_string(), d)
            })
            .collect();
        check(&ws, "link_dynamic", seeds);
    }
}

linker_test! {
    fn link_static_inputs() {
        let ws = Workspace::new("fuzz_regressions::link_static");
        check(&ws, "link_static", objects(&ws));
    }
}
