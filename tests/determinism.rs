//! Determinism: the same link with 1, 2 and 16 threads, and 16 again, must
//! give byte-identical output, also when it overwrites an old file (longer
//! or shorter than the output) that rivet reuses in place. (Under GNU ld, which has no `--threads=N`,
//! the option is left out and the links are simply repeated.)

#[macro_use]
mod common;

use common::*;
use std::path::PathBuf;
use std::process::Command;

const THREADS: [usize; 4] = [1, 2, 16, 16];

/// Fills `path` with `len` bytes of a non-zero pattern, as an old output
/// would leave it. rivet overwrites an existing output in place, so a byte
/// it forgot to write would show up as one of these.
fn garbage(path: &std::path::Path, len: usize) {
    let bytes: Vec<u8> = (0..len).map(|i| 0xa5 ^ (i as u8)).collect();
    std::fs::write(path, bytes).unwrap();
}

/// Runs `link` into `path` twice, once over an old file twice as long as
/// the output and once over one half as long, and checks both results
/// equal `fresh`, which was linked where no file was.
fn assert_same_over_old_file(fresh: &std::path::Path, path: &std::path::Path, link: impl Fn()) {
    let len = read(fresh).len();
    for old in [2 * len, len / 2] {
        garbage(path, old);
        link();
        assert_identical(&[fresh.to_path_buf(), path.to_path_buf()]);
    }
}

/// `-r` of a program's objects, run directly with `--threads=N`.
fn relocatable(name: &str) {
    let p = program(name);
    let ws = Workspace::new(&format!("determinism_r_{name}"));
    let objs = ws.compile_program(p, &[]);
    let outputs: Vec<PathBuf> = THREADS
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let out = ws.join(format!("merged-{i}-t{n}.o"));
            let mut args = threads_args(n);
            args.extend(["-r".into(), "-o".into(), out.display().to_string()]);
            args.extend(objs.iter().map(|o| o.display().to_string()));
            link_direct(ws.path(), &args);
            out
        })
        .collect();
    assert_identical(&outputs);
    let over = ws.join("merged-over-old.o");
    assert_same_over_old_file(&outputs[0], &over, || {
        let mut args = vec!["-r".to_string(), "-o".into(), over.display().to_string()];
        args.extend(objs.iter().map(|o| o.display().to_string()));
        link_direct(ws.path(), &args);
    });
}

/// A static executable through `gcc -B DIR -Wl,--threads=N`.
fn static_exe(name: &str, flags: &[&str]) {
    exe(LinkKind::Static, name, flags)
}

/// An executable of `kind` through `gcc -B DIR -Wl,--threads=N`.
fn exe(kind: LinkKind, name: &str, flags: &[&str]) {
    let p = program(name);
    let ws = Workspace::new(&format!("determinism_exe_{}_{name}", kind.tag()));
    let objs = ws.compile_program(p, &[]);
    let outputs: Vec<PathBuf> = THREADS
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let mut all: Vec<String> = threads_args(n)
                .into_iter()
                .map(|a| format!("-Wl,{a}"))
                .collect();
            all.extend(flags.iter().map(|f| f.to_string()));
            let all: Vec<&str> = all.iter().map(String::as_str).collect();
            ws.link_tested_as(kind, p.lang, &objs, &all, &format!("exe-{i}-t{n}"))
        })
        .collect();
    assert_identical(&outputs);
    assert_same_over_old_file(&outputs[0], &ws.join("exe-over-old"), || {
        ws.link_tested_as(kind, p.lang, &objs, flags, "exe-over-old");
    });
    let r = run_exe(&outputs[0]);
    assert_reference_ok(p, &r);
}

linker_test! {
    fn relocatable_cxx_comdat() {
        relocatable("comdat")
    }
}

linker_test! {
    fn relocatable_debug_info() {
        relocatable("debug")
    }
}

linker_test! {
    fn relocatable_tls() {
        relocatable("tls")
    }
}

linker_test! {
    fn static_exe_cxx() {
        static_exe("exceptions", &[])
    }
}

linker_test! {
    fn static_exe_tls() {
        static_exe("tls", &[])
    }
}

linker_test! {
    fn static_exe_emit_relocs() {
        static_exe("exceptions", &["-Wl,--emit-relocs"])
    }
}

linker_test! {
    fn static_exe_build_id_gc() {
        static_exe(
            "exceptions",
            &["-Wl,--build-id", "-Wl,--eh-frame-hdr", "-Wl,--gc-sections"],
        )
    }
}

linker_test! {
    /// A PIE against the shared libc: .rela.dyn in units, .dynsym in
    /// shards (-E), .relr.dyn encoded in parallel chunks.
    fn pie_relr_exported() {
        exe(
            LinkKind::Pie,
            "exceptions",
            &["-Wl,-z,pack-relative-relocs", "-Wl,-E", "-Wl,--hash-style=both"],
        )
    }
}

linker_test! {
    fn pie_rela_bind_now() {
        exe(LinkKind::Pie, "tls", &["-Wl,-z,now", "-Wl,--eh-frame-hdr"])
    }
}

linker_test! {
    fn static_exe_emit_relocs_debug() {
        static_exe("debug", &["-Wl,--emit-relocs", "-Wl,--eh-frame-hdr"])
    }
}

/// The threads option is left out only for GNU ld, never for rivet.
#[test]
fn threads_option_is_passed_to_rivet() {
    // Debian's /usr/bin/ld.bfd links to x86_64-linux-gnu-ld.bfd.
    let named_bfd = |p: &std::path::Path| p.to_string_lossy().ends_with("ld.bfd");
    let is_bfd =
        named_bfd(&linker()) || std::fs::canonicalize(linker()).is_ok_and(|p| named_bfd(&p));
    assert_eq!(linker_is_gnu_ld(), is_bfd, "GNU ld detection");
    assert_eq!(threads_args(2).is_empty(), is_bfd);
}

/// `--threads=100000` is capped (at 256) rather than starting 100,000
/// threads, and gives the same bytes as one thread.
#[test]
fn huge_thread_count_is_capped() {
    if linker_is_gnu_ld() {
        return; // GNU ld has no --threads.
    }
    let p = program("multi");
    let ws = Workspace::new("determinism_huge_threads");
    let objs = ws.compile_program(p, &[]);
    let outputs: Vec<PathBuf> = [1usize, 100_000]
        .iter()
        .map(|&n| {
            let out = ws.join(format!("merged-t{n}.o"));
            let mut args = vec![format!("--threads={n}"), "-r".into(), "-o".into()];
            args.push(out.display().to_string());
            args.extend(objs.iter().map(|o| o.display().to_string()));
            // 100,000 threads would take minutes and gigabytes of stacks.
            let o = run_with_timeout(
                Command::new(linker()).current_dir(ws.path()).args(&args),
                std::time::Duration::from_secs(20),
            );
            assert!(o.status.success(), "--threads={n} failed: {}", o.stderr);
            out
        })
        .collect();
    assert_identical(&outputs);
}
