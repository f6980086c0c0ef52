//! Shared objects cargo makes: a proc-macro crate used by a binary, and a
//! `cdylib` a C program loads, with the linker under test as cargo's only
//! linker.

#[macro_use]
mod common;
mod shared_lib;

use common::*;
use shared_lib::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

// ---------------------------------------------------------------------------
// Rust

const DERIVE_LIB_RS: &str = r#"
use proc_macro::TokenStream;

/// `#[derive(Hello)]` on a struct: adds `fn hello() -> String` naming the
/// type and counting its fields (the colons of `name: Type`).
#[proc_macro_derive(Hello)]
pub fn derive_hello(input: TokenStream) -> TokenStream {
    let text = input.to_string();
    let mut words = text.split_whitespace();
    let mut name = None;
    while let Some(w) = words.next() {
        if w == "struct" || w == "enum" {
            name = words
                .next()
                .map(|n| n.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_').to_string());
            break;
        }
    }
    let name = name.expect("derive(Hello) on a struct or enum");
    let fields = text.matches(':').count();
    format!(
        "impl {name} {{ pub fn hello() -> String {{ format!(\"hello from {{}} with {{}} fields\", \"{name}\", {fields}) }} }}"
    )
    .parse()
    .unwrap()
}
"#;

const APP_MAIN_RS: &str = r#"
use derive_hello::Hello;

#[derive(Hello)]
struct Point {
    x: i32,
    y: i32,
}

fn main() {
    let p = Point { x: 3, y: 4 };
    println!("{} sum={}", Point::hello(), p.x + p.y);
}
"#;

const ADDER_LIB_RS: &str = r#"
use std::sync::atomic::{AtomicI32, Ordering};

static CALLS: AtomicI32 = AtomicI32::new(0);

#[no_mangle]
pub extern "C" fn add(a: i32, b: i32) -> i32 {
    CALLS.fetch_add(1, Ordering::SeqCst);
    a + b
}

#[no_mangle]
pub extern "C" fn add_calls() -> i32 {
    CALLS.load(Ordering::SeqCst)
}
"#;

const ADDER_HOST_C: &str = r#"
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
    if (argc < 2) return 3;
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
    int (*add)(int, int) = (int (*)(int, int))dlsym(h, "add");
    int (*calls)(void) = (int (*)(void))dlsym(h, "add_calls");
    if (!add || !calls) { printf("dlsym: %s\n", dlerror()); return 2; }
    int sum = add(2, 3) + add(10, 20);
    printf("add %d calls %d\n", sum, calls());
    return dlclose(h);
}
"#;

/// Writes the cargo workspace: a proc-macro crate, a binary using it and
/// a `cdylib`.
fn write_cargo_workspace(root: &Path) {
    let files = [
        ("Cargo.toml", "[workspace]\nmembers = [\"derive_hello\", \"app\", \"adder\"]\nresolver = \"2\"\n"),
        (
            "derive_hello/Cargo.toml",
            "[package]\nname = \"derive_hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\nproc-macro = true\n",
        ),
        ("derive_hello/src/lib.rs", DERIVE_LIB_RS),
        (
            "app/Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nderive_hello = { path = \"../derive_hello\" }\n",
        ),
        ("app/src/main.rs", APP_MAIN_RS),
        (
            "adder/Cargo.toml",
            "[package]\nname = \"adder\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\ncrate-type = [\"cdylib\"]\n",
        ),
        ("adder/src/lib.rs", ADDER_LIB_RS),
    ];
    for (name, text) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

linker_test! {
    /// cargo, offline, with the linker under test (through gcc: rustc's
    /// default rust-lld turned off): a proc-macro crate (a shared object
    /// rustc loads) used by a binary, and a `cdylib` a C program loads
    /// with `dlopen`. A logging `ld` wrapper shows each was linked by the
    /// linker under test.
    fn rust_cdylib_and_proc_macro() {
        if Command::new("cargo").arg("--version").output().is_err() {
            eprintln!("cargo is not installed; skipping");
            return;
        }
        let ws = Workspace::new("so-rust");
        let root = ws.join("cargo-ws");
        write_cargo_workspace(&root);
        // `ld` for gcc -B: logs its arguments, then runs the linker under test.
        let wrapper_dir = ws.join("ld-logged");
        std::fs::create_dir_all(&wrapper_dir).unwrap();
        let log = ws.join("ld.log");
        let target = std::fs::canonicalize(linker()).unwrap();
        let wrapper = wrapper_dir.join("ld");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\necho \"$@\" >> '{}'\nexec '{}' \"$@\"\n",
                log.display(),
                target.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();

        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let target_dir = ws.join("target");
        let o = run_with_timeout(
            Command::new(cargo)
                .current_dir(&root)
                .args(["build", "--offline", "--quiet"])
                .env("CARGO_TARGET_DIR", &target_dir)
                .env_remove("CARGO_ENCODED_RUSTFLAGS")
                .env_remove("CARGO_BUILD_RUSTFLAGS")
                .env_remove("RUSTC_WRAPPER")
                .env_remove("RUSTC_WORKSPACE_WRAPPER")
                .env(
                    "RUSTFLAGS",
                    format!(
                        "-C linker-features=-lld -C link-arg=-B{}/",
                        wrapper_dir.display()
                    ),
                ),
            Duration::from_secs(300),
        );
        assert!(
            o.status.success(),
            "cargo build failed ({}):\n{}{}",
            o.status,
            o.stdout,
            o.stderr
        );

        let debug = target_dir.join("debug");
        let app = run_exe(&debug.join("app"));
        assert_output(&app, "hello from Point with 2 fields sum=7\n", "app");
        let host_obj = ws.compile_text("adder_host.c", ADDER_HOST_C, &["-O1"]);
        let host = link(
            &ws,
            "gcc",
            By::Gnu,
            &[path_str(&host_obj)],
            &ws.join("adder_host"),
        );
        let cdylib = debug.join("libadder.so");
        let o = run_with_timeout(Command::new(&host).arg(&cdylib), RUN_TIMEOUT);
        assert_output(&o, "add 35 calls 2\n", "the cdylib through dlopen");

        // Each output went through the wrapper: the proc macro and the
        // cdylib with -shared.
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        let linked = |what: &str, shared: bool| {
            log.lines().any(|l| {
                l.split_whitespace().any(|w| w == "-shared") == shared
                    && l.split_whitespace().any(|w| w.contains(what))
            })
        };
        assert!(
            linked("libderive_hello", true),
            "the proc macro was not linked -shared by the linker under test:\n{log}"
        );
        assert!(
            linked("libadder", true),
            "the cdylib was not linked -shared by the linker under test:\n{log}"
        );
        assert!(
            linked("/app-", false),
            "app was not linked by the linker under test:\n{log}"
        );
        for file in [cdylib, debug.join("app")] {
            let comment = readelf(&["-p", ".comment"], &file);
            assert!(
                !comment.contains("LLD"),
                "{} was linked by LLD:\n{comment}",
                file.display()
            );
            assert!(
                linker_is_gnu_ld() || comment.contains("Linker: rivet"),
                "{}: no rivet in .comment:\n{comment}",
                file.display()
            );
        }
    }
}
