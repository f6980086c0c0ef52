//! Running out of memory is an error, never an abort: a C program (static,
//! and a PIE against the shared libc) is linked under a sweep of address
//! space limits (`RLIMIT_AS`, as `ulimit -v` sets it), over an old output
//! and with and without a spare from an earlier link beside it. Every link
//! ends with status 0 or 1, never a signal; a failure says why in a
//! `rivet:` message (a failed allocation: "out of memory", with the old
//! output intact at its path; a mapping or a thread that could not be
//! made: that message, the old output removed as after any failed link, or
//! kept when the output itself could not be made); no file is left beside
//! the output but the spare; a success's output is the unlimited link's,
//! and runs. rivet's guarantees, not GNU ld's: with `RIVET_LINKER` set the
//! test returns at once.

mod common;

use common::*;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const MAIN_C: &str = r#"#include <stdio.h>
extern const unsigned char blob[];
extern const unsigned long blob_size;
int main(void) {
    unsigned long sum = 0;
    for (unsigned long i = 0; i < blob_size; i++)
        sum = sum * 31 + blob[i];
    printf("%lu bytes, sum %lx\n", blob_size, sum);
    return 0;
}
"#;

/// An object holding `mib` MiB of pseudo-random bytes as `blob`, with
/// `blob_size` (`.incbin`: quick to assemble, a large output to write).
fn blob_object(ws: &Workspace, mib: usize) -> PathBuf {
    let blob = random_bytes(mib << 20, 0x9e37_79b9_7f4a_7c15);
    std::fs::write(ws.join("blob.bin"), blob).unwrap();
    ws.assemble(
        "blob",
        ".section .rodata\n.globl blob\nblob:\n.incbin \"blob.bin\"\nblob_end:\n\
         .globl blob_size\n.balign 8\nblob_size: .quad blob_end - blob\n\
         .section .note.GNU-stack,\"\",@progbits\n",
    )
}

/// The linker arguments gcc gives for `flags` and `objs`, recorded by a
/// stand-in `ld`, with the output `-o` names replaced by `out`.
fn link_args(ws: &Workspace, flags: &[&str], objs: &[PathBuf], out: &Path) -> Vec<String> {
    let dir = ws.join("record-ld");
    let record = ws.join("recorded-args");
    std::fs::create_dir_all(&dir).unwrap();
    let ld = dir.join("ld");
    std::fs::write(
        &ld,
        format!(
            "#!/bin/sh\nprintf '%s\\0' \"$@\" > '{}'\n",
            record.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ld, std::fs::Permissions::from_mode(0o755)).unwrap();
    run_tool(
        Command::new("gcc")
            .current_dir(ws.path())
            .arg(format!("-B{}/", dir.display()))
            .args(flags)
            .args(objs)
            .args(["-o", "placeholder"]),
    );
    let text = String::from_utf8(read(&record)).unwrap();
    let mut args: Vec<String> = text
        .split('\0')
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    let o = args.iter().position(|a| a == "-o").expect("no -o");
    assert_eq!(args[o + 1], "placeholder");
    args[o + 1] = path_str(out);
    args
}

/// rivet with `args`, its address space limited to `limit` bytes.
fn link_limited(args: &[String], limit: u64) -> Outcome {
    let mut cmd = Command::new(linker());
    cmd.args(args);
    let rlim = libc::rlimit {
        rlim_cur: limit,
        rlim_max: limit,
    };
    // SAFETY: the closure runs in the child between fork and exec, where
    // only async-signal-safe calls may be made: setrlimit is one, and it
    // only reads `rlim`, a copy owned by the closure.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_AS, &rlim) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    run_with_timeout(&mut cmd, Duration::from_secs(60))
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// How one limited link ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The system's loader could not even map rivet (not rivet's doing).
    NotStarted,
    Linked,
    OutOfMemory,
    /// Another error: a mapping or a thread that could not be made.
    OtherError,
}

/// Address space limits, in MiB: from below where anything fits (the
/// loader alone, then the worker threads and the inputs) up to where the
/// link fits with room to spare, finely through the middle.
fn limits_mib() -> Vec<u64> {
    let mut v: Vec<u64> = (8..=96).step_by(4).collect();
    v.extend([128, 192, 256, 384, 512, 768, 1024]);
    v
}

/// Links the program described by `flags` and `objs` under every limit,
/// with an old output (and maybe an older spare) at the output path each
/// time, checks each outcome and returns them.
fn sweep(ws: &Workspace, what: &str, flags: &[&str], objs: &[PathBuf]) -> Vec<(u64, bool, End)> {
    let dir = ws.join(format!("out-{what}"));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("prog");
    let spare = dir.join(".prog.rivet-spare");
    let args = {
        let mut a = threads_args(2);
        a.extend(link_args(ws, flags, objs, &out));
        a
    };
    // The link unlimited: what every successful limited link must write
    // (byte for byte, so that it runs as this one does).
    let o = link_limited(&args, libc::RLIM_INFINITY);
    assert_eq!(
        o.code(),
        0,
        "{what}: the unlimited link failed: {}",
        o.stderr
    );
    let want = read(&out);
    let run = run_exe(&out);
    assert!(
        run.status.success() && run.stdout.starts_with("4194304 bytes, sum "),
        "{what}: the program does not run: {run:?}"
    );
    let old: Vec<u8> = b"the old output, of an earlier link\n".repeat(2000);
    let older: Vec<u8> = b"an older output, left as the spare\n".repeat(3000);
    let mut ends = Vec::new();
    for mib in limits_mib() {
        // Below some limit the program cannot start at all (the loader
        // fails, or the first stack pages cannot be mapped: SIGSEGV before
        // rivet's first instruction, lower for a debug build). Not rivet's
        // to handle: such limits are skipped.
        if !link_limited(&["--version".to_string()], mib << 20)
            .status
            .success()
        {
            eprintln!("{what} {mib:>4} MiB: rivet --version does not run; skipped");
            ends.push((mib, false, End::NotStarted));
            continue;
        }
        for with_spare in [false, true] {
            for name in names(&dir) {
                std::fs::remove_file(dir.join(name)).unwrap();
            }
            std::fs::write(&out, &old).unwrap();
            if with_spare {
                std::fs::write(&spare, &older).unwrap();
            }
            let o = link_limited(&args, mib << 20);
            let ctx = format!(
                "{what}, {mib} MiB, {} spare: status {}, stderr:\n{}",
                if with_spare { "a" } else { "no" },
                o.status,
                o.stderr
            );
            assert!(o.status.code().is_some(), "{ctx}\nkilled by a signal");
            assert!(!o.stderr.contains("memory allocation of"), "{ctx}");
            assert!(!o.stderr.contains("internal error"), "{ctx}");
            assert!(!o.stderr.contains("panicked"), "{ctx}");
            let end = match o.code() {
                0 => End::Linked,
                // The loader, before rivet's first instruction.
                127 if o.stderr.contains("error while loading shared libraries") => End::NotStarted,
                1 if o
                    .stderr
                    .starts_with("rivet: out of memory (could not allocate ") =>
                {
                    End::OutOfMemory
                }
                1 => End::OtherError,
                _ => panic!("{ctx}\nexit status neither 0 nor 1"),
            };
            let here = names(&dir);
            let got_spare = std::fs::read(&spare).ok();
            match end {
                End::Linked => {
                    assert_eq!(o.stderr, "", "{ctx}");
                    assert_eq!(here, [".prog.rivet-spare", "prog"], "{ctx}");
                    assert!(read(&out) == want, "{ctx}\nnot the unlimited link's output");
                    // The old output is the spare now.
                    assert!(
                        got_spare.as_deref() == Some(&old[..]),
                        "{ctx}\nthe spare is not the old output"
                    );
                }
                End::OutOfMemory | End::OtherError | End::NotStarted => {
                    assert!(
                        end == End::NotStarted || o.stderr.starts_with("rivet: "),
                        "{ctx}\nthe message is not rivet's"
                    );
                    let kept = std::fs::read(&out).ok();
                    if end == End::OtherError {
                        // As after any failed link (tests/failed_output.rs)
                        // the old output is removed, unless the output
                        // itself could not be made: then it is kept.
                        let unmade = [
                            format!("rivet: cannot write {}:", out.display()),
                            format!("rivet: cannot open output file {}:", out.display()),
                        ]
                        .iter()
                        .any(|m| o.stderr.starts_with(m.as_str()));
                        assert!(
                            kept.is_none() || (unmade && kept.as_deref() == Some(&old[..])),
                            "{ctx}\nthe output is neither gone nor the old one"
                        );
                    } else {
                        assert!(
                            kept.as_deref() == Some(&old[..]),
                            "{ctx}\nthe old output is not intact"
                        );
                    }
                    // The file being written is removed; a spare the link
                    // did not get to is left as it was.
                    match &got_spare {
                        None => {}
                        Some(s) => assert!(
                            with_spare && s == &older,
                            "{ctx}\na spare was left, not the earlier one"
                        ),
                    }
                    let expected: Vec<&str> = [".prog.rivet-spare", "prog"]
                        .into_iter()
                        .filter(|n| match *n {
                            "prog" => kept.is_some(),
                            _ => got_spare.is_some(),
                        })
                        .collect();
                    assert_eq!(here, expected, "{ctx}\nfiles left beside the output");
                }
            }
            let first_line = o.stderr.lines().next().unwrap_or("");
            eprintln!(
                "{what} {mib:>4} MiB {} spare: {end:?} {first_line}",
                if with_spare { "  a" } else { " no" },
            );
            ends.push((mib, with_spare, end));
        }
    }
    ends
}

#[test]
fn out_of_memory_is_an_error_that_keeps_the_old_output() {
    if !testing_built_rivet() {
        return;
    }
    let ws = Workspace::new("out_of_memory");
    let main = ws.compile_text("main.c", MAIN_C, &["-O2", "-fPIE"]);
    let blob = blob_object(&ws, 4);
    let objs = [main, blob];
    let mut ends = sweep(&ws, "static", &["-static"], &objs);
    ends.extend(sweep(&ws, "pie", &["-pie"], &objs));
    let count = |e: End| ends.iter().filter(|x| x.2 == e).count();
    // The sweep reaches the allocator's failures (the hook works) and
    // ends where the link fits.
    assert!(
        count(End::OutOfMemory) > 0,
        "no limit ran out of memory in the allocator"
    );
    assert!(count(End::Linked) > 0, "no limit let the link through");
    // Linked at 1 GiB, whatever the machine.
    assert!(ends
        .iter()
        .filter(|x| x.0 == 1024)
        .all(|x| x.2 == End::Linked));
}
