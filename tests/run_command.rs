//! `rivet -run CMD ARGS...`: every link the command starts, whatever
//! linker it names, is done by rivet. A feature of rivet's own, not GNU
//! ld's: with `RIVET_LINKER` set these tests have nothing to check and
//! return at once.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const HELLO_C: &str = "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n";

fn rivet() -> &'static str {
    env!("CARGO_BIN_EXE_rivet")
}

/// `rivet -run ARGS` in `dir`, with its cache in `cache`.
fn run_under_rivet(dir: &Path, cache: &Path, args: &[&str]) -> Outcome {
    run_with_timeout(
        Command::new(rivet())
            .arg("-run")
            .args(args)
            .current_dir(dir)
            .env("XDG_CACHE_HOME", cache)
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_RUSTFLAGS")
            .env_remove("RUSTFLAGS")
            .env_remove("RUSTC_WRAPPER")
            .env_remove("RUSTC_WORKSPACE_WRAPPER"),
        Duration::from_secs(300),
    )
}

/// The linker that `.comment` names (`Linker: rivet 0.1.0`, `Linker: LLD
/// ...`), or "" for none (GNU ld and gold write none).
fn linker_comment(file: &Path) -> String {
    readelf(&["-p", ".comment"], file)
        .lines()
        .find_map(|l| l.split_once("Linker: ").map(|(_, n)| n.trim().to_string()))
        .unwrap_or_default()
}

fn assert_by_rivet(file: &Path) {
    let c = linker_comment(file);
    assert!(
        c.starts_with("rivet"),
        "{} was not linked by rivet (.comment: {c:?})",
        file.display()
    );
}

#[test]
fn gcc_links_through_rivet_whatever_linker_it_names() {
    if !testing_built_rivet() {
        return;
    }
    let ws = Workspace::new("run-gcc");
    std::fs::write(ws.join("hello.c"), HELLO_C).unwrap();
    let cache = ws.join("cache");
    // gcc's default `ld`, then gold: both become rivet.
    for (out, extra) in [("hello", None), ("hello-gold", Some("-fuse-ld=gold"))] {
        let mut args = vec!["gcc", "hello.c", "-o", out];
        args.extend(extra);
        let o = run_under_rivet(ws.path(), &cache, &args);
        assert!(o.status.success(), "rivet -run {args:?}: {}", o.stderr);
        assert_by_rivet(&ws.join(out));
        let r = run_exe(&ws.join(out));
        assert_eq!((r.code(), r.stdout.as_str()), (0, "hello\n"));
    }
    // The preload library is in the cache, a shared object rivet made.
    let libs: Vec<_> = std::fs::read_dir(cache.join("rivet"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "so"))
        .collect();
    assert_eq!(libs.len(), 1, "{libs:?}");
    assert!(readelf(&["-h"], &libs[0]).contains("DYN (Shared object file)"));
    assert_by_rivet(&libs[0]);
    // A prefixed name (`x86_64-linux-gnu-ld`) is a linker too; `ldd` is not.
    let o = run_under_rivet(
        ws.path(),
        &cache,
        &[
            "sh",
            "-c",
            "x86_64-linux-gnu-ld --version; ldd --version | head -1",
        ],
    );
    assert!(o.status.success(), "{}", o.stderr);
    assert!(o.stdout.starts_with("rivet "), "{}", o.stdout);
    assert!(!o.stdout.contains("\nrivet"), "{}", o.stdout);
}

#[test]
fn cargo_build_with_no_flags_links_everything_through_rivet() {
    if !testing_built_rivet() || Command::new("cargo").arg("--version").output().is_err() {
        return;
    }
    let ws = Workspace::new("run-cargo");
    let root = ws.join("w");
    for (path, text) in [
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"mac\", \"app\"]\nresolver = \"2\"\n",
        ),
        (
            "mac/Cargo.toml",
            "[package]\nname = \"mac\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[lib]\nproc-macro = true\n",
        ),
        (
            "mac/src/lib.rs",
            "use proc_macro::TokenStream;\n\
             #[proc_macro]\n\
             pub fn answer(_: TokenStream) -> TokenStream { \"42\".parse().unwrap() }\n",
        ),
        (
            "app/Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[dependencies]\nmac = { path = \"../mac\" }\n",
        ),
        (
            "app/src/main.rs",
            "fn main() { println!(\"answer {}\", mac::answer!()); }\n",
        ),
    ] {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let target = ws.join("target");
    let o = run_under_rivet(
        &root,
        &ws.join("cache"),
        &[
            "cargo",
            "build",
            "--offline",
            "--quiet",
            "--target-dir",
            &path_str(&target),
        ],
    );
    assert!(o.status.success(), "rivet -run cargo build: {}", o.stderr);
    // rustc's default is its own lld (through gcc and `gcc-ld/ld.lld`):
    // that exec became rivet too, for the proc macro and the program.
    let deps = target.join("debug/deps");
    let mac = std::fs::read_dir(&deps)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "so"))
        .expect("the proc macro's shared object");
    assert_by_rivet(&mac);
    let app = target.join("debug/app");
    assert_by_rivet(&app);
    let r = run_exe(&app);
    assert_eq!((r.code(), r.stdout.as_str()), (0, "answer 42\n"));
}

#[test]
fn run_without_a_runnable_command_fails() {
    if !testing_built_rivet() {
        return;
    }
    let ws = Workspace::new("run-errors");
    let o = run_under_rivet(ws.path(), &ws.join("cache"), &[]);
    assert_eq!(o.code(), 1);
    assert!(o.stderr.contains("-run needs a command"), "{}", o.stderr);
    let o = run_under_rivet(ws.path(), &ws.join("cache"), &["./no-such-command"]);
    assert_eq!(o.code(), 1);
    assert!(
        o.stderr.contains("cannot run './no-such-command'"),
        "{}",
        o.stderr
    );
}
