//! A link stopped part way never loses the previous output: after SIGKILL
//! at any moment the output path holds the complete old output or the
//! complete new one; SIGINT, SIGTERM and SIGHUP also remove the file being
//! written; a full disk (on a file system without `fallocate`, where it
//! shows as SIGBUS in the mapped output) is an error naming the output,
//! with the old output intact. These are rivet's guarantees, not GNU ld's
//! (which writes the output in place): with `RIVET_LINKER` set the tests
//! return at once.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// An object holding `mib` MiB of bytes from `seed`, in `.data` (`.incbin`
/// of a blob: quick to assemble, slow enough to link that a signal can
/// land in every phase).
fn big_object(ws: &Workspace, name: &str, mib: usize, seed: u64) -> PathBuf {
    let blob = random_bytes(mib << 20, seed);
    let bin = ws.join(format!("{name}.bin"));
    std::fs::write(&bin, blob).unwrap();
    let s = ws.join(format!("{name}.s"));
    std::fs::write(
        &s,
        format!(
            ".globl {name}\n.data\n{name}:\n.incbin \"{}\"\n.text\n.globl f_{name}\nf_{name}: ret\n",
            bin.display()
        ),
    )
    .unwrap();
    let obj = ws.join(format!("{name}.o"));
    let o = run_tool(Command::new("cc").arg("-c").arg(&s).arg("-o").arg(&obj));
    assert!(o.status.success(), "{}", o.stderr);
    obj
}

/// A small deterministic generator for the moments signals are sent.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

fn link_cmd(dir: &Path, obj: &Path) -> Command {
    let mut c = Command::new(linker());
    c.current_dir(dir)
        .args(["-r", "-o", "out"])
        .arg(obj)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// Files beside the output other than the inputs: the output and rivet's.
fn leftovers(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("rivet"))
        .collect();
    v.sort();
    v
}

struct Fixture {
    ws: Workspace,
    a: PathBuf,
    b: PathBuf,
    out_a: Vec<u8>,
    out_b: Vec<u8>,
    /// How long one link takes, roughly.
    span: Duration,
}

fn fixture(name: &str) -> Fixture {
    let ws = Workspace::new(name);
    let a = big_object(&ws, "a", 48, 1);
    let b = big_object(&ws, "b", 48, 2);
    let mut outs = Vec::new();
    let mut span = Duration::ZERO;
    for obj in [&a, &b, &a, &b] {
        let start = Instant::now();
        let o = run_with_timeout(&mut link_cmd(ws.path(), obj), Duration::from_secs(60));
        assert!(o.status.success(), "{}", o.stderr);
        span = start.elapsed();
        outs.push(read(&ws.join("out")));
    }
    outs.truncate(2);
    let out_b = outs.pop().unwrap();
    let out_a = outs.pop().unwrap();
    assert_ne!(out_a, out_b);
    Fixture {
        ws,
        a,
        b,
        out_a,
        out_b,
        span,
    }
}

impl Fixture {
    /// Links the object that is not `current`'s, stopped by `sig` after a
    /// moment chosen by `rng`; checks the output is whole, old or new, and
    /// returns which one (true: new).
    fn stop_one(&self, current_is_a: bool, sig: libc::c_int, rng: &mut Rng) -> bool {
        let (obj, old, new) = if current_is_a {
            (&self.b, &self.out_a, &self.out_b)
        } else {
            (&self.a, &self.out_b, &self.out_a)
        };
        let mut child = link_cmd(self.ws.path(), obj).spawn().unwrap();
        let delay = rng.below(self.span.as_micros() as u64);
        std::thread::sleep(Duration::from_micros(delay));
        // SAFETY: kill only sends a signal to the child we started.
        unsafe { libc::kill(child.id() as libc::pid_t, sig) };
        let status = child.wait().unwrap();
        let out = read(&self.ws.join("out"));
        let is_new = &out == new;
        assert!(
            is_new || &out == old,
            "signal {sig} after {delay} µs ({status}): the output is neither the old nor the new one ({} bytes)",
            out.len()
        );
        is_new
    }
}

#[test]
fn sigkill_at_any_moment_leaves_the_old_or_the_new_output() {
    if !testing_built_rivet() {
        return;
    }
    let f = fixture("fault-kill");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("seed {seed}, one link ≈ {:?}", f.span);
    let mut rng = Rng(seed);
    let mut current_is_a = false;
    let (mut old, mut new) = (0, 0);
    for _ in 0..24 {
        if f.stop_one(current_is_a, libc::SIGKILL, &mut rng) {
            current_is_a = !current_is_a;
            new += 1;
        } else {
            old += 1;
        }
        // At most the spare is left, whatever it holds.
        let left = leftovers(f.ws.path());
        assert!(left.iter().all(|n| n == ".out.rivet-spare"), "{left:?}");
    }
    eprintln!("old output kept {old} times, new one complete {new} times");
    // The next link after a kill is whole and reuses the spare.
    let o = run_with_timeout(&mut link_cmd(f.ws.path(), &f.a), Duration::from_secs(60));
    assert!(o.status.success(), "{}", o.stderr);
    assert!(read(&f.ws.join("out")) == f.out_a);
}

#[test]
fn sigint_sigterm_sighup_remove_the_file_being_written() {
    if !testing_built_rivet() {
        return;
    }
    let f = fixture("fault-term");
    let mut rng = Rng(0x5eed);
    let mut current_is_a = false;
    for round in 0..18 {
        let sig = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP][round % 3];
        let was_new = f.stop_one(current_is_a, sig, &mut rng);
        if was_new {
            current_is_a = !current_is_a;
        }
        // A link stopped while writing removes what it wrote; one stopped
        // before it began leaves an earlier commit's spare as it was; one
        // that committed keeps the old output as the spare. So at most the
        // spare is left, and it is always an earlier output, whole.
        let left = leftovers(f.ws.path());
        assert!(
            left.iter().all(|n| n == ".out.rivet-spare"),
            "signal {sig}: left {left:?}"
        );
        if let Ok(spare) = std::fs::read(f.ws.join(".out.rivet-spare")) {
            assert!(
                spare == f.out_a || spare == f.out_b,
                "signal {sig}: the spare is not a whole earlier output ({} bytes, outputs {} {})",
                spare.len(),
                f.out_a.len(),
                f.out_b.len()
            );
            if was_new {
                let old = if current_is_a { &f.out_b } else { &f.out_a };
                assert!(&spare == old, "the spare is not the previous output");
            }
        }
    }
}

/// A small ext2 file system (no `fallocate`) mounted for the test, or
/// `None` where that is not allowed (not root, no loop devices).
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(ws: &Workspace, kib: u64) -> Option<SmallDisk> {
        let img = ws.join("disk.img");
        let dir = ws.join("disk");
        std::fs::create_dir_all(&dir).ok()?;
        std::fs::File::create(&img).ok()?.set_len(kib << 10).ok()?;
        let ok = |c: &mut Command| c.output().is_ok_and(|o| o.status.success());
        if !ok(Command::new("mkfs.ext2").args(["-q", "-F"]).arg(&img)) {
            return None;
        }
        if !ok(Command::new("mount")
            .args(["-o", "loop"])
            .arg(&img)
            .arg(&dir))
        {
            return None;
        }
        Some(SmallDisk { dir })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).output();
    }
}

#[test]
fn full_disk_is_an_error_naming_the_output_and_keeps_the_old_one() {
    if !testing_built_rivet() {
        return;
    }
    let ws = Workspace::new("fault-disk");
    let obj = big_object(&ws, "small", 3, 3);
    let Some(disk) = SmallDisk::mount(&ws, 5 << 10) else {
        eprintln!(
            "cannot mount a small ext2 file system here (needs root and loop devices); skipped"
        );
        return;
    };
    // The first output fits; a second copy (the spare beside it) does not.
    let link = || {
        run_with_timeout(
            Command::new(linker())
                .current_dir(&disk.dir)
                .args(["-r", "-o", "out"])
                .arg(&obj),
            Duration::from_secs(60),
        )
    };
    let o = link();
    assert!(o.status.success(), "{}", o.stderr);
    let first = read(&disk.dir.join("out"));
    let o = link();
    assert_eq!(o.code(), 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("cannot write out: No space left on device"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("rivet-spare"), "{}", o.stderr);
    assert!(
        read(&disk.dir.join("out")) == first,
        "the old output changed"
    );
    assert_eq!(leftovers(&disk.dir), Vec::<String>::new());
}

/// The other half of the fault matrix: no old output at the path. A link
/// stopped by any of SIGKILL, SIGINT, SIGTERM, SIGHUP at a random moment
/// leaves nothing at the path or the whole new output; the catchable
/// signals leave no file of rivet's behind, SIGKILL at most the spare it
/// was writing, which the next link takes over (and leaves nothing).
#[test]
fn a_first_link_stopped_at_any_moment_leaves_nothing_or_the_whole_output() {
    if !testing_built_rivet() {
        return;
    }
    let f = fixture("fault-first");
    let dir = f.ws.path();
    let clear = || {
        for n in ["out", ".out.rivet-spare"] {
            let _ = std::fs::remove_file(dir.join(n));
        }
    };
    let mut rng = Rng(0xf1257);
    // (signal, output absent, output whole) counts, for the log.
    let mut outcomes = Vec::new();
    let mut stale = 0;
    for sig in [libc::SIGKILL, libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        let (mut absent, mut whole) = (0, 0);
        for _ in 0..6 {
            clear();
            let mut child = link_cmd(dir, &f.a).spawn().unwrap();
            // A first link writes a new file: slower than the fixture's.
            let delay = rng.below(2 * f.span.as_micros() as u64);
            std::thread::sleep(Duration::from_micros(delay));
            // SAFETY: kill only sends a signal to the child we started.
            unsafe { libc::kill(child.id() as libc::pid_t, sig) };
            let status = child.wait().unwrap();
            let committed = match std::fs::read(dir.join("out")) {
                Err(_) => false,
                Ok(out) => {
                    assert!(
                        out == f.out_a,
                        "signal {sig} after {delay} µs ({status}): a partial output ({} bytes)",
                        out.len()
                    );
                    true
                }
            };
            if committed {
                whole += 1;
            } else {
                absent += 1;
            }
            let left = leftovers(dir);
            if sig == libc::SIGKILL {
                assert!(left.iter().all(|n| n == ".out.rivet-spare"), "{left:?}");
                stale += left.len();
                // The next link takes the stale file over; it leaves the
                // old output as its spare only if there was one.
                let o = run_with_timeout(&mut link_cmd(dir, &f.b), Duration::from_secs(60));
                assert!(o.status.success(), "{}", o.stderr);
                assert!(read(&dir.join("out")) == f.out_b);
                let left = leftovers(dir);
                let expected: &[&str] = if committed {
                    &[".out.rivet-spare"]
                } else {
                    &[]
                };
                assert_eq!(
                    left, expected,
                    "after a killed first link, the next one left {left:?}"
                );
            } else {
                assert_eq!(left, Vec::<String>::new(), "signal {sig} after {delay} µs");
            }
        }
        outcomes.push((sig, absent, whole));
    }
    eprintln!(
        "(signal, no output, whole output): {outcomes:?}; a killed link left its file {stale} times"
    );
}
