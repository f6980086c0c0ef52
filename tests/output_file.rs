//! What linking over an existing file does to it. rivet reuses an old
//! output's inode, as mold does (writing into cached pages is cheaper than
//! creating a file), but only where nobody can tell: the result must be
//! what GNU ld's new file would be. Every case runs against GNU ld too
//! (`RIVET_LINKER=ld.bfd`), which behaves the same.

#[macro_use]
mod common;

use common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};

/// Prints its tag, then (with an argument) waits for a line on stdin
/// before printing it again: a program that can be kept running.
fn program_source(tag: &str) -> String {
    format!(
        "#include <stdio.h>\nint main(int argc, char **argv) {{\n  \
         printf(\"{tag}\\n\"); fflush(stdout);\n  \
         if (argc > 1) {{ char line[64]; if (!fgets(line, sizeof line, stdin)) return 2; printf(\"{tag} again\\n\"); }}\n  \
         return 0;\n}}\n"
    )
}

fn setup(name: &str) -> Workspace {
    let ws = Workspace::new(name);
    for tag in ["one", "two"] {
        let src = ws.join(format!("{tag}.c"));
        std::fs::write(&src, program_source(tag)).unwrap();
        ws.compile(&src, &[], "");
    }
    ws
}

fn link_exe(ws: &Workspace, obj: &str, out: &str) {
    ws.link_tested(Lang::C, &[ws.join(obj)], &[], out);
}

fn runs_as(exe: &Path, tag: &str) {
    let r = run_exe(exe);
    assert_eq!(r.code(), 0, "{}: {}", exe.display(), r.stderr);
    assert_eq!(r.stdout, format!("{tag}\n"), "{}", exe.display());
}

fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let v = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .unwrap();
    u32::from_str_radix(v.trim(), 8).unwrap()
}

linker_test! {
    /// Another name of a hard-linked output keeps the old program; the
    /// output is the new one.
    fn hard_linked_output_is_not_overwritten() {
        let ws = setup("hard_linked_output_is_not_overwritten");
        link_exe(&ws, "one.o", "out");
        std::fs::hard_link(ws.join("out"), ws.join("other")).unwrap();
        link_exe(&ws, "two.o", "out");
        runs_as(&ws.join("out"), "two");
        runs_as(&ws.join("other"), "one");
    }
}

linker_test! {
    /// Linking over a program that is running leaves the running program
    /// intact (it goes on and finishes correctly) and puts the new one in
    /// its place.
    fn running_program_is_replaced_not_overwritten() {
        let ws = setup("running_program_is_replaced_not_overwritten");
        link_exe(&ws, "one.o", "out");
        let mut running = Command::new(ws.join("out"))
            .arg("wait")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = running.stdout.take().unwrap();
        let mut first = [0u8; 4];
        std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
        assert_eq!(&first, b"one\n");
        link_exe(&ws, "two.o", "out");
        runs_as(&ws.join("out"), "two");
        std::io::Write::write_all(running.stdin.as_mut().unwrap(), b"go\n").unwrap();
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
        let status = running.wait().unwrap();
        assert!(status.success(), "the running program failed: {status:?}");
        assert_eq!(rest, "one again\n");
    }
}

linker_test! {
    /// The output's mode is a new file's, whatever the old file's was:
    /// 0777 & ~umask for a program, 0666 & ~umask for `-r`.
    fn output_mode_ignores_the_old_file() {
        let ws = setup("output_mode_ignores_the_old_file");
        let mask = umask();
        for (old_mode, relocatable) in [(0o600, false), (0o700, true), (0o644, false)] {
            let out = ws.join("out");
            std::fs::write(&out, "old").unwrap();
            std::fs::set_permissions(&out, std::fs::Permissions::from_mode(old_mode)).unwrap();
            let want = if relocatable {
                link_direct(ws.path(), ["-r", "-o", "out", "one.o"]);
                0o666 & !mask
            } else {
                link_exe(&ws, "one.o", "out");
                0o777 & !mask
            };
            let mode = std::fs::metadata(&out).unwrap().mode() & 0o7777;
            assert_eq!(mode, want, "old mode {old_mode:o}, -r: {relocatable}");
        }
    }
}

linker_test! {
    /// A symlink at the output path is replaced by the output; what it
    /// pointed to is left alone.
    fn symlinked_output_is_replaced() {
        let ws = setup("symlinked_output_is_replaced");
        link_exe(&ws, "one.o", "target");
        std::os::unix::fs::symlink("target", ws.join("out")).unwrap();
        link_exe(&ws, "two.o", "out");
        assert!(std::fs::symlink_metadata(ws.join("out")).unwrap().is_file());
        runs_as(&ws.join("out"), "two");
        runs_as(&ws.join("target"), "one");
    }
}

linker_test! {
    /// An old output bigger than the new one is cut to the new size.
    fn longer_old_output_is_truncated() {
        let ws = setup("longer_old_output_is_truncated");
        std::fs::write(ws.join("out"), vec![0x5au8; 4 << 20]).unwrap();
        link_exe(&ws, "one.o", "out");
        runs_as(&ws.join("out"), "one");
        link_exe(&ws, "one.o", "fresh");
        assert_eq!(read(&ws.join("out")), read(&ws.join("fresh")));
    }
}

linker_test! {
    /// An output that is also an input is refused, as GNU ld refuses it
    /// ("input file 'x' is the same as output file"), and the input is left
    /// as it was: rivet would otherwise overwrite it while reading it.
    fn output_that_is_an_input_is_refused() {
        let ws = setup("output_that_is_an_input_is_refused");
        let before = read(&ws.join("one.o"));
        let o = run_linker(ws.path(), ["-r", "-o", "one.o", "one.o", "two.o"]);
        assert_eq!(o.code(), 1, "{}", o.stderr);
        assert!(o.stderr.contains("same as output"), "{}", o.stderr);
        assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
        assert_eq!(read(&ws.join("one.o")), before, "the input was changed");
    }
}

linker_test! {
    /// An output path that is a device (`-o /dev/null`, common in configure
    /// checks) is written into, as GNU ld writes into it, and stays a
    /// device: renaming a file over it would, as root, replace /dev/null.
    /// The test makes its own null device node (needs root, as CI is);
    /// elsewhere it checks /dev/null itself.
    fn device_output_is_written_into_not_replaced() {
        let ws = setup("device_output_is_written_into_not_replaced");
        let node = ws.join("null");
        let made = std::process::Command::new("mknod")
            .arg(&node)
            .args(["c", "1", "3"])
            .status()
            .is_ok_and(|s| s.success());
        let target = if made { node } else { std::path::PathBuf::from("/dev/null") };
        let target_arg = target.to_string_lossy().into_owned();
        let o = run_linker(ws.path(), ["-r", "-o", &target_arg, "one.o"]);
        assert_eq!(o.code(), 0, "{}", o.stderr);
        let o = run_linker(ws.path(), ["-static", "-e", "main", "-o", &target_arg, "two.o"]);
        assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
        let kind = std::fs::symlink_metadata(&target).unwrap().file_type();
        assert!(
            std::os::unix::fs::FileTypeExt::is_char_device(&kind),
            "{} is no longer a device",
            target.display()
        );
        let strays: Vec<_> = std::fs::read_dir(ws.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
            .collect();
        assert!(strays.is_empty(), "temporary files left: {strays:?}");
    }
}
