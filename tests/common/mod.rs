//! Shared harness of the integration tests.
//!
//! Every test links with the linker under test: `$RIVET_LINKER` if set, else
//! the `rivet` binary cargo built. The reference is always GNU ld (`ld.bfd`).
//! Running the suite with `RIVET_LINKER=/usr/bin/ld.bfd` checks the harness
//! itself: every test must pass that way.
//!
//! Tests that rivet cannot pass yet are listed in `tests/xfail.txt`; see
//! [`guarded`]. Set `RIVET_KEEP_TMP=1` to keep each test's directory (its path
//! is printed) for a look at the objects and executables.
#![allow(dead_code)]

pub mod programs;

use std::cell::Cell;
use std::collections::{BTreeMap, HashSet};
use std::ffi::OsStr;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

#[allow(unused_imports)]
pub use programs::{program, Lang, Program, PROGRAMS};

/// Time limit of one compile or link.
const TOOL_TIMEOUT: Duration = Duration::from_secs(180);
/// Time limit of one run of a linked test program.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
/// Output kept from a program beyond this is dropped (a runaway printer).
const OUTPUT_CAP: usize = 4 << 20;

/// Declares a `#[test]` whose body runs under [`guarded`], named
/// `<test file>::<function>` as in `tests/xfail.txt`.
#[macro_export]
macro_rules! linker_test {
    ($(#[$meta:meta])* fn $name:ident() $body:block) => {
        $(#[$meta])*
        #[test]
        fn $name() {
            $crate::common::guarded(concat!(module_path!(), "::", stringify!($name)), || $body)
        }
    };
}

/// The linker under test.
pub fn linker() -> PathBuf {
    match std::env::var_os("RIVET_LINKER") {
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            assert!(p.exists(), "RIVET_LINKER={} does not exist", p.display());
            p
        }
        _ => PathBuf::from(env!("CARGO_BIN_EXE_rivet")),
    }
}

/// True when the tests run against the rivet that cargo built (no
/// `RIVET_LINKER`): only then does `tests/xfail.txt` apply.
pub fn testing_built_rivet() -> bool {
    std::env::var_os("RIVET_LINKER").is_none_or(|v| v.is_empty())
}

/// True when the linker under test is GNU ld itself (harness validation):
/// it says "GNU ld" and rejects `--threads=N`, which rivet accepts. Tests
/// leave that option out then.
pub fn linker_is_gnu_ld() -> bool {
    static IS_GNU: OnceLock<bool> = OnceLock::new();
    *IS_GNU.get_or_init(|| {
        let run = |args: &[&str]| Command::new(linker()).args(args).output().ok();
        let says_gnu = run(&["--version"])
            .is_some_and(|o| String::from_utf8_lossy(&o.stdout).starts_with("GNU ld "));
        let rejects_threads =
            run(&["--threads=2", "--version"]).is_some_and(|o| !o.status.success());
        says_gnu && rejects_threads
    })
}

/// Linker arguments that select `n` threads, or none when the linker under
/// test is GNU ld (which has no such option).
pub fn threads_args(n: usize) -> Vec<String> {
    if linker_is_gnu_ld() {
        Vec::new()
    } else {
        vec![format!("--threads={n}")]
    }
}

thread_local! {
    /// Set while an xfail-listed test runs: its files are not kept on failure.
    static EXPECTED_TO_FAIL: Cell<bool> = const { Cell::new(false) };
}

fn xfail_list() -> &'static HashSet<String> {
    static LIST: OnceLock<HashSet<String>> = OnceLock::new();
    LIST.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/xfail.txt");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        text.lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    })
}

/// Runs a test body. A test named in `tests/xfail.txt` is expected to fail
/// against the built rivet: its failure is reported as XFAIL and the test
/// passes, while its success fails the test (XPASS) so the list only shrinks.
/// With `RIVET_LINKER` set, or `RIVET_STRICT=1`, the list is ignored and
/// every test must pass.
pub fn guarded(name: &str, body: impl FnOnce()) {
    let strict = std::env::var_os("RIVET_STRICT").is_some_and(|v| v == "1");
    if strict || !testing_built_rivet() || !xfail_list().contains(name) {
        body();
        return;
    }
    EXPECTED_TO_FAIL.with(|f| f.set(true));
    let result = catch_unwind(AssertUnwindSafe(body));
    EXPECTED_TO_FAIL.with(|f| f.set(false));
    match result {
        Err(_) => eprintln!("XFAIL {name} (listed in tests/xfail.txt)"),
        Ok(()) => {
            panic!("XPASS {name}: it passes against rivet now; remove it from tests/xfail.txt")
        }
    }
}

/// The captured result of a finished command.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Exit code, or 128 + signal number for a killed process.
    pub fn code(&self) -> i32 {
        use std::os::unix::process::ExitStatusExt;
        self.status
            .code()
            .unwrap_or_else(|| 128 + self.status.signal().unwrap_or(0))
    }
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn drain(mut r: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut chunk = [0u8; 65536];
        loop {
            match r.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = OUTPUT_CAP.saturating_sub(kept.len());
                    kept.extend_from_slice(&chunk[..n.min(room)]);
                }
            }
        }
        kept
    })
}

/// Runs `cmd` to completion or until `timeout` (then kills it and panics).
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Outcome {
    let what = describe(cmd);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{what}`: {e}"));
    let out = drain(child.stdout.take().unwrap());
    let err = drain(child.stderr.take().unwrap());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            break status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{what}` did not finish within {timeout:?}");
        }
        thread::sleep(Duration::from_millis(5));
    };
    Outcome {
        status,
        stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
    }
}

/// Runs a tool that must succeed; panics with its command line and output.
pub fn run_tool(cmd: &mut Command) -> Outcome {
    let what = describe(cmd);
    let o = run_with_timeout(cmd, TOOL_TIMEOUT);
    assert!(
        o.status.success(),
        "`{what}` failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        o.stdout,
        o.stderr
    );
    o
}

/// Runs the linker under test directly with `args` in `cwd`; the outcome is
/// returned whether it succeeded or not.
pub fn run_linker<I, S>(cwd: &Path, args: I) -> Outcome
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_with_timeout(
        Command::new(linker()).current_dir(cwd).args(args),
        TOOL_TIMEOUT,
    )
}

/// Runs the linker under test directly; it must succeed.
pub fn link_direct<I, S>(cwd: &Path, args: I) -> Outcome
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_tool(Command::new(linker()).current_dir(cwd).args(args))
}

/// Runs a linked program (no arguments, no stdin) and captures the result.
pub fn run_exe(exe: &Path) -> Outcome {
    run_with_timeout(&mut Command::new(exe), RUN_TIMEOUT)
}

/// Asserts two runs behaved the same: exit status and stdout.
pub fn assert_same_run(reference: &Outcome, tested: &Outcome, what: &str) {
    assert_eq!(
        tested.stdout, reference.stdout,
        "{what}: stdout differs from the GNU ld build (left: linker under test)\n\
         stderr of the tested program:\n{}",
        tested.stderr
    );
    assert_eq!(
        tested.code(),
        reference.code(),
        "{what}: exit status differs from the GNU ld build (left: linker under test)\n\
         stderr of the tested program:\n{}",
        tested.stderr
    );
}

/// One test's scratch directory, with helpers to compile and link in it.
pub struct Workspace {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl Workspace {
    /// A fresh directory under cargo's target tmp dir, named after the test.
    pub fn new(name: &str) -> Workspace {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
        std::fs::create_dir_all(root).expect("create target tmp dir");
        let dir = tempfile::Builder::new()
            .prefix(&format!("{}-", name.replace("::", "-")))
            .tempdir_in(root)
            .expect("create test dir");
        let path = dir.path().to_path_buf();
        if std::env::var_os("RIVET_KEEP_TMP").is_some() {
            eprintln!("keeping test directory {}", dir.keep().display());
            return Workspace { dir: None, path };
        }
        Workspace {
            dir: Some(dir),
            path,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }

    /// A directory holding only a symlink `ld` to the linker under test, for
    /// `gcc -B DIR`. Checks that gcc really picks that `ld`.
    pub fn ld_dir(&self) -> PathBuf {
        let dir = self.join("ld-under-test");
        let ld = dir.join("ld");
        if !ld.exists() {
            std::fs::create_dir_all(&dir).expect("create ld dir");
            let target = std::fs::canonicalize(linker()).expect("resolve linker path");
            std::os::unix::fs::symlink(target, &ld).expect("symlink ld");
            let o = run_tool(
                Command::new("gcc")
                    .arg("-B")
                    .arg(&dir)
                    .arg("-print-prog-name=ld"),
            );
            assert_eq!(
                Path::new(o.stdout.trim()),
                ld,
                "gcc -B {} does not pick the ld symlink",
                dir.display()
            );
        }
        dir
    }

    /// Compiles one source (`.c`, `.cpp`, `.s`, `.S`) with `-c` into an
    /// object in this workspace, named after the source plus `tag`.
    pub fn compile(&self, src: &Path, flags: &[&str], tag: &str) -> PathBuf {
        let stem = src.file_stem().unwrap().to_string_lossy();
        let obj = self.join(format!("{stem}{tag}.o"));
        let driver = if Lang::of_source(src) == Lang::Cxx {
            "g++"
        } else {
            "gcc"
        };
        run_tool(
            Command::new(driver)
                .current_dir(&self.path)
                .arg("-c")
                .args(flags)
                .arg(src)
                .arg("-o")
                .arg(&obj),
        );
        obj
    }

    /// Writes `text` to `name` in the workspace and compiles it (C, C++ or
    /// assembly, by the name's extension) with `flags`; returns the object.
    pub fn compile_text(&self, name: &str, text: &str, flags: &[&str]) -> PathBuf {
        let src = self.join(name);
        std::fs::write(&src, text).unwrap();
        self.compile(&src, flags, "")
    }

    /// Assembles `text` as `name.s` into `name.o`.
    pub fn assemble(&self, name: &str, text: &str) -> PathBuf {
        self.compile_text(&format!("{name}.s"), text, &[])
    }

    /// Compiles every source of a program with its own flags plus `extra`.
    pub fn compile_program(&self, p: &Program, extra: &[&str]) -> Vec<PathBuf> {
        p.sources
            .iter()
            .map(|s| {
                let flags: Vec<&str> = s.flags.iter().chain(extra).copied().collect();
                self.compile(&programs::source_path(s.file), &flags, "")
            })
            .collect()
    }

    fn link_with(
        &self,
        lang: Lang,
        linker_flags: &[&str],
        objs: &[PathBuf],
        flags: &[&str],
        out: &str,
    ) -> PathBuf {
        self.link_as(LinkKind::Static, lang, linker_flags, objs, flags, out)
    }

    fn link_as(
        &self,
        kind: LinkKind,
        lang: Lang,
        linker_flags: &[&str],
        objs: &[PathBuf],
        flags: &[&str],
        out: &str,
    ) -> PathBuf {
        let exe = self.join(out);
        run_tool(
            Command::new(lang.driver())
                .current_dir(&self.path)
                .args(kind.driver_flags())
                .args(linker_flags)
                .args(objs)
                .args(flags)
                .arg("-o")
                .arg(&exe),
        );
        exe
    }

    /// Links with `gcc/g++ -static -B DIR`, i.e. with the linker under test.
    pub fn link_tested(&self, lang: Lang, objs: &[PathBuf], flags: &[&str], out: &str) -> PathBuf {
        self.link_tested_as(LinkKind::Static, lang, objs, flags, out)
    }

    /// Links as `kind` with `gcc/g++ -B DIR`, the linker under test.
    pub fn link_tested_as(
        &self,
        kind: LinkKind,
        lang: Lang,
        objs: &[PathBuf],
        flags: &[&str],
        out: &str,
    ) -> PathBuf {
        let b = format!("-B{}/", self.ld_dir().display());
        self.link_as(kind, lang, &[&b], objs, flags, out)
    }

    /// Links as `kind` (the compiler driver's default PIE, or `-no-pie`)
    /// with the linker under test, and with GNU ld; runs both and asserts
    /// they behave alike. Returns (reference, tested).
    pub fn build_and_compare_as(
        &self,
        kind: LinkKind,
        p: &Program,
        objs: &[PathBuf],
        flags: &[&str],
    ) -> (PathBuf, PathBuf) {
        let tag = kind.tag();
        let reference = self.link_as(
            kind,
            p.lang,
            &["-fuse-ld=bfd"],
            objs,
            flags,
            &format!("{}.{tag}.ref", p.name),
        );
        let b = format!("-B{}/", self.ld_dir().display());
        let tested = self.link_as(
            kind,
            p.lang,
            &[&b],
            objs,
            flags,
            &format!("{}.{tag}.test", p.name),
        );
        let r = run_exe(&reference);
        assert_reference_ok(p, &r);
        let t = run_exe(&tested);
        assert_same_run(&r, &t, p.name);
        (reference, tested)
    }

    /// Links with `gcc/g++ -static` and GNU ld (ld.bfd), the reference.
    pub fn link_reference(
        &self,
        lang: Lang,
        objs: &[PathBuf],
        flags: &[&str],
        out: &str,
    ) -> PathBuf {
        self.link_with(lang, &["-fuse-ld=bfd"], objs, flags, out)
    }

    /// Builds `p` both ways with extra link `flags`, runs both, asserts the
    /// reference exits with the program's expected status and that the
    /// tested build behaves identically. Returns (reference, tested) exes.
    pub fn build_and_compare(
        &self,
        p: &Program,
        objs: &[PathBuf],
        flags: &[&str],
    ) -> (PathBuf, PathBuf) {
        let reference = self.link_reference(p.lang, objs, flags, &format!("{}.ref", p.name));
        let tested = self.link_tested(p.lang, objs, flags, &format!("{}.test", p.name));
        let r = run_exe(&reference);
        assert_reference_ok(p, &r);
        let t = run_exe(&tested);
        assert_same_run(&r, &t, p.name);
        (reference, tested)
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        // Keep the files of a failing test for a look.
        if thread::panicking() && !EXPECTED_TO_FAIL.with(Cell::get) {
            if let Some(dir) = self.dir.take() {
                eprintln!("test failed; files kept in {}", dir.keep().display());
            }
        }
    }
}

/// How a test program is linked by the compiler driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// `-static`.
    Static,
    /// The driver's default on this system: a PIE against `libc.so.6`.
    Pie,
    /// `-no-pie`: a dynamic executable at a fixed address.
    NoPie,
    /// `-static-pie`: a PIE that relocates itself, without a loader.
    StaticPie,
}

impl LinkKind {
    pub fn driver_flags(self) -> &'static [&'static str] {
        match self {
            LinkKind::Static => &["-static"],
            LinkKind::Pie => &["-pie"],
            LinkKind::NoPie => &["-no-pie"],
            LinkKind::StaticPie => &["-static-pie"],
        }
    }
    pub fn tag(self) -> &'static str {
        match self {
            LinkKind::Static => "static",
            LinkKind::Pie => "pie",
            LinkKind::NoPie => "nopie",
            LinkKind::StaticPie => "static-pie",
        }
    }
}

/// The GNU ld build must behave as the program says it does: otherwise the
/// comparison would compare two broken builds.
pub fn assert_reference_ok(p: &Program, r: &Outcome) {
    assert_eq!(
        r.code(),
        p.expected_status,
        "{}: the GNU ld reference build exited {} (expected {}); stdout:\n{}\nstderr:\n{}",
        p.name,
        r.code(),
        p.expected_status,
        r.stdout,
        r.stderr
    );
    assert!(
        !r.stdout.is_empty(),
        "{}: reference printed nothing",
        p.name
    );
}

/// Runs readelf with `args` on `file`; it must succeed. Returns stdout.
pub fn readelf(args: &[&str], file: &Path) -> String {
    run_tool(Command::new("readelf").args(args).arg(file)).stdout
}

/// Runs readelf and also requires that it printed no warning or error.
pub fn readelf_clean(args: &[&str], file: &Path) -> String {
    let o = run_tool(Command::new("readelf").args(args).arg(file));
    assert!(
        o.stderr.trim().is_empty(),
        "readelf {} {} complained:\n{}",
        args.join(" "),
        file.display(),
        o.stderr
    );
    o.stdout
}

/// Number of entries in each relocation section (`.rela.*`), from
/// `readelf -rW`.
pub fn rela_counts(file: &Path) -> BTreeMap<String, usize> {
    let text = readelf(&["-rW"], file);
    let mut counts = BTreeMap::new();
    for line in text.lines() {
        // Relocation section '.rela.text' at offset 0x1234 contains 56 entries:
        let Some(rest) = line.strip_prefix("Relocation section '") else {
            continue;
        };
        let (name, rest) = rest.split_once('\'').expect("section name");
        let n = rest
            .split_whitespace()
            .skip_while(|w| *w != "contains")
            .nth(1)
            .and_then(|w| w.parse::<usize>().ok())
            .unwrap_or_else(|| panic!("cannot parse readelf line: {line}"));
        *counts.entry(name.to_owned()).or_default() += n;
    }
    counts
}

/// The signature of every COMDAT group, from `readelf -gW`, in file order.
pub fn comdat_signatures(file: &Path) -> Vec<String> {
    let text = readelf(&["-gW"], file);
    text.lines()
        .filter_map(|line| {
            // COMDAT group section [    1] `.group' [_Z3foov] contains 2 sections:
            let rest = line.strip_prefix("COMDAT group section [")?;
            let rest = &rest[rest.find(']')? + 1..];
            let start = rest.find('[')? + 1;
            let end = rest.rfind("] contains")?;
            Some(rest[start..end].to_owned())
        })
        .collect()
}

/// Program header types (`LOAD`, `GNU_EH_FRAME`, ...) from `readelf -lW`.
pub fn segment_types(file: &Path) -> Vec<String> {
    let text = readelf(&["-lW"], file);
    text.lines()
        .skip_while(|l| !l.trim_start().starts_with("Type"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|t| !t.starts_with('['))
        .collect()
}

/// Section names from `readelf -SW`.
pub fn section_names(file: &Path) -> Vec<String> {
    let text = readelf(&["-SW"], file);
    text.lines()
        .filter_map(|l| {
            let l = l.trim_start().strip_prefix('[')?;
            let (idx, rest) = l.split_once(']')?;
            idx.trim().parse::<usize>().ok()?;
            rest.split_whitespace().next().map(str::to_owned)
        })
        .filter(|n| !n.is_empty())
        .collect()
}

/// Address of a symbol from `nm`, if defined.
pub fn symbol_address(file: &Path, name: &str) -> Option<u64> {
    let o = run_tool(Command::new("nm").arg(file));
    o.stdout.lines().find_map(|l| {
        let mut it = l.split_whitespace();
        let (addr, _kind, sym) = (it.next()?, it.next()?, it.next()?);
        (sym == name).then(|| u64::from_str_radix(addr, 16).ok())?
    })
}

/// `addr2line -f` of each symbol's address: function name and file:line.
pub fn locate(exe: &Path, syms: &[&str]) -> Vec<String> {
    let addrs: Vec<String> = syms
        .iter()
        .map(|s| {
            let a = symbol_address(exe, s)
                .unwrap_or_else(|| panic!("{}: no symbol {s}", exe.display()));
            format!("{a:#x}")
        })
        .collect();
    let o = run_tool(
        Command::new("addr2line")
            .arg("-f")
            .arg("-e")
            .arg(exe)
            .args(&addrs),
    );
    o.stdout.lines().map(str::to_owned).collect()
}

/// Reads a file completely.
/// `len` pseudo-random bytes from `seed` (xorshift): large inputs that do
/// not compress and are the same every run.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A path as a command-line argument.
pub fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Links `args` with `driver -static` through GNU ld and through the linker
/// under test, runs both and compares; returns (reference, tested) paths and
/// the tested program's stdout.
pub fn link_and_compare(
    ws: &Workspace,
    driver: &str,
    args: &[String],
    what: &str,
) -> (PathBuf, PathBuf, String) {
    let reference = ws.join(format!("{what}.ref"));
    let tested = ws.join(format!("{what}.test"));
    run_tool(
        Command::new(driver)
            .current_dir(ws.path())
            .args(["-static", "-fuse-ld=bfd", "-o"])
            .arg(&reference)
            .args(args),
    );
    run_tool(
        Command::new(driver)
            .current_dir(ws.path())
            .arg("-static")
            .arg("-B")
            .arg(ws.ld_dir())
            .arg("-o")
            .arg(&tested)
            .args(args),
    );
    let r = run_exe(&reference);
    let t = run_exe(&tested);
    assert_same_run(&r, &t, what);
    (reference, tested, t.stdout)
}

/// Asserts all files have the same bytes, naming the first difference.
pub fn assert_identical(outputs: &[PathBuf]) {
    let first = read(&outputs[0]);
    assert!(!first.is_empty(), "{} is empty", outputs[0].display());
    for other in &outputs[1..] {
        let bytes = read(other);
        if bytes != first {
            let at = first
                .iter()
                .zip(&bytes)
                .position(|(a, b)| a != b)
                .unwrap_or(first.len().min(bytes.len()));
            panic!(
                "{} and {} differ (sizes {} and {}), first at offset {at:#x}",
                outputs[0].display(),
                other.display(),
                first.len(),
                bytes.len()
            );
        }
    }
}
