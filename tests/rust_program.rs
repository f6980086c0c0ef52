//! A Rust program (std, threads, panics caught by unwinding, formatting)
//! linked by rivet through rustc's gcc driver, statically and as rustc's
//! default (a PIE against libc.so.6 and libgcc_s.so.1), runs as the GNU ld
//! build does.

mod common;

use common::{assert_same_run, run_exe, run_tool, Workspace};
use std::process::Command;

const PROGRAM: &str = r#"
use std::collections::BTreeMap;
fn main() {
    let mut m = BTreeMap::new();
    for i in 0..20u64 { m.insert(i, i * i); }
    let t = std::thread::spawn(|| (1..=10).product::<u64>()).join().unwrap();
    std::panic::set_hook(Box::new(|_| {}));
    let caught = std::panic::catch_unwind(|| { let v: Vec<u8> = Vec::new(); v[3] }).is_err();
    thread_local! { static TL: std::cell::Cell<u32> = const { std::cell::Cell::new(5) }; }
    TL.with(|c| c.set(c.get() * 3));
    println!("sum={} t={} caught={} tl={}", m.values().sum::<u64>(), t, caught, TL.with(|c| c.get()));
    std::process::exit(if caught { 7 } else { 1 });
}
"#;

fn rustc(ws: &Workspace, out: &str, static_: bool, extra: &[String]) -> std::path::PathBuf {
    let exe = ws.join(out);
    let kind: &[&str] = if static_ {
        &[
            "-C",
            "target-feature=+crt-static",
            "-C",
            "relocation-model=static",
        ]
    } else {
        &[]
    };
    run_tool(
        Command::new("rustc")
            .args(["-O", "--edition=2021"])
            .args(kind)
            .args(["-C", "linker-features=-lld"])
            .args(extra)
            .arg("-o")
            .arg(&exe)
            .arg(ws.join("main.rs")),
    );
    exe
}

#[test]
fn rust_static_program_runs_like_gnu_ld_build() {
    rust_program(true);
}

#[test]
fn rust_default_program_runs_like_gnu_ld_build() {
    rust_program(false);
}

fn rust_program(static_: bool) {
    if Command::new("rustc").arg("--version").output().is_err() {
        eprintln!("rustc is not installed; skipping");
        return;
    }
    let ws = Workspace::new("rust_program");
    std::fs::write(ws.join("main.rs"), PROGRAM).unwrap();
    let reference = rustc(&ws, "ref", static_, &["-Clink-arg=-fuse-ld=bfd".into()]);
    let tested = rustc(
        &ws,
        "tested",
        static_,
        &[format!("-Clink-arg=-B{}", ws.ld_dir().display())],
    );
    let comment = run_tool(
        Command::new("readelf")
            .args(["-p", ".comment"])
            .arg(&tested),
    )
    .stdout;
    assert!(
        comment.contains("Linker: rivet") || common::linker_is_gnu_ld(),
        "rustc did not link with the linker under test"
    );
    let r = run_exe(&reference);
    assert_eq!(r.code(), 7, "reference build misbehaved: {}", r.stdout);
    assert_same_run(&r, &run_exe(&tested), "rust program");
}
