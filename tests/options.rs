//! GNU ld options that change which definitions win or what the output
//! lists: `--wrap`, `--allow-multiple-definition` (`-z muldefs`), `-t`
//! (`--trace`), `-x` (`--discard-all`), `-X` (`--discard-locals`). Each is
//! used the same way with GNU ld and with the linker under test, and the
//! results compared.

#[macro_use]
mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `gcc -static ARGS -o OUT` with GNU ld (`tested` false) or the linker
/// under test; the outcome, whether it succeeded or not.
fn gcc_link(ws: &Workspace, tested: bool, args: &[String], out: &str) -> Outcome {
    let mut cmd = Command::new("gcc");
    cmd.current_dir(ws.path()).arg("-static");
    if tested {
        cmd.arg("-B").arg(ws.ld_dir());
    } else {
        cmd.arg("-fuse-ld=bfd");
    }
    cmd.args(args).arg("-o").arg(ws.join(out));
    run_with_timeout(&mut cmd, std::time::Duration::from_secs(180))
}

/// Links both ways (both must succeed), runs both, compares; returns the
/// tested program's stdout and the two executables.
fn both(ws: &Workspace, args: &[String], what: &str) -> (String, PathBuf, PathBuf) {
    let (rname, tname) = (format!("{what}.ref"), format!("{what}.test"));
    for (tested, out) in [(false, &rname), (true, &tname)] {
        let o = gcc_link(ws, tested, args, out);
        assert!(
            o.status.success(),
            "{what}: link ({}) failed:\n{}{}",
            if tested { "tested" } else { "GNU ld" },
            o.stdout,
            o.stderr
        );
    }
    let (reference, tested) = (ws.join(&rname), ws.join(&tname));
    let r = run_exe(&reference);
    let t = run_exe(&tested);
    assert_same_run(&r, &t, what);
    (t.stdout, reference, tested)
}

/// Names from `nm` whose kind letter is `kind`, sorted.
fn nm_names(file: &Path, kinds: &str) -> Vec<String> {
    let o = run_tool(Command::new("nm").arg(file));
    let mut v: Vec<String> = o
        .stdout
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (kind, name) = match f.as_slice() {
                [_, k, n] | [k, n] => (*k, *n),
                _ => return None,
            };
            kinds.contains(kind).then(|| name.to_owned())
        })
        .collect();
    v.sort();
    v
}

linker_test! {
    /// `--wrap=foo`: undefined `foo` means `__wrap_foo`, undefined
    /// `__real_foo` means `foo`; a definition of `foo` is not renamed. Both
    /// spellings of the option; under `-r` the references keep the new names.
    fn wrap_redirects_undefined_references() {
        let ws = Workspace::new("wrap");
        let main = ws.compile_text(
            "main.c",
            "#include <stdio.h>\nint foo(int);\nint main(void){printf(\"%d\\n\", foo(1));return 0;}\n",
            &["-O1"],
        );
        let lib = ws.compile_text("lib.c", "int foo(int x){return x + 1;}\n", &["-O1"]);
        let wrap = ws.compile_text(
            "wrap.c",
            "int __real_foo(int);\nint __wrap_foo(int x){return __real_foo(x) * 10;}\n",
            &["-O1"],
        );
        let objs = [path_str(&main), path_str(&lib), path_str(&wrap)];
        let mut args = objs.to_vec();
        args.push("-Wl,--wrap=foo".into());
        assert_eq!(both(&ws, &args, "joined").0, "20\n");
        let mut args = objs.to_vec();
        args.push("-Wl,--wrap,foo".into());
        assert_eq!(both(&ws, &args, "separate").0, "20\n");
        // Unwrapped, for contrast.
        assert_eq!(both(&ws, &objs[..2], "plain").0, "2\n");

        if linker_is_gnu_ld() {
            return;
        }
        let r = |linker: &Path, out: &str| {
            run_tool(
                Command::new(linker)
                    .current_dir(ws.path())
                    .args(["-r", "--wrap=foo", "-o", out])
                    .args(&objs[..2]),
            );
            nm_names(&ws.join(out), "UTt")
        };
        let gnu = r(Path::new("ld.bfd"), "r.ref.o");
        assert!(gnu.contains(&"__wrap_foo".to_owned()), "{gnu:?}");
        assert_eq!(r(&linker(), "r.test.o"), gnu, "-r --wrap symbols");
    }
}

linker_test! {
    /// Two strong definitions are an error, unless
    /// `--allow-multiple-definition` or `-z muldefs`: then the first wins.
    fn allow_multiple_definition_keeps_the_first() {
        let ws = Workspace::new("muldefs");
        let main = ws.compile_text(
            "main.c",
            "#include <stdio.h>\nint val(void); int other(void);\n\
             int main(void){printf(\"%d %d\\n\", val(), other());return 0;}\n",
            &["-O1"],
        );
        let a = ws.compile_text("a.c", "int val(void){return 1;}\n", &["-O1"]);
        let b = ws.compile_text(
            "b.c",
            "int val(void){return 2;}\nint other(void){return val() + 40;}\n",
            &["-O1"],
        );
        let objs = [path_str(&main), path_str(&a), path_str(&b)];
        for tested in [false, true] {
            let o = gcc_link(&ws, tested, &objs, "dup");
            assert!(!o.status.success(), "duplicate definitions linked (tested: {tested})");
            assert!(o.stderr.contains("val"), "the error does not name val:\n{}", o.stderr);
        }
        for flag in ["-Wl,--allow-multiple-definition", "-Wl,-z,muldefs"] {
            let mut args = objs.to_vec();
            args.push(flag.into());
            let (out, reference, tested) = both(&ws, &args, "first");
            assert!(out.starts_with("1 "), "{flag}: {out}");
            assert_eq!(
                nm_names(&tested, "T").iter().filter(|n| *n == "val").count(),
                nm_names(&reference, "T").iter().filter(|n| *n == "val").count(),
                "{flag}: symbols named val"
            );
        }
    }
}

linker_test! {
    /// `-t` prints the input files as they are loaded (archives again at
    /// each group rescan, scripts like libm.a, thin archive members);
    /// `-t -t` adds every archive member loaded. Exactly GNU ld's lines.
    fn trace_lists_inputs_as_gnu_ld_does() {
        let ws = Workspace::new("trace");
        let main = ws.compile_text(
            "main.c",
            "#include <stdio.h>\n#include <math.h>\nint f1(void); int f3(void);\n\
             int main(void){volatile double d = 2.0; printf(\"%d %d %.3f\\n\", f1(), f3(), sqrt(d));return 0;}\n",
            &["-O1"],
        );
        let f1 = ws.compile_text("f1.c", "int f2(void);\nint f1(void){return 1 + f2();}\n", &["-O1"]);
        let f2 = ws.compile_text("f2.c", "int f2(void){return 2;}\n", &["-O1"]);
        let f3 = ws.compile_text("f3.c", "int f3(void){return 3;}\n", &["-O1"]);
        run_tool(Command::new("ar").current_dir(ws.path()).args(["rcs", "libf.a"]).arg(&f1).arg(&f2));
        run_tool(Command::new("ar").current_dir(ws.path()).args(["rcsT", "libthin.a"]).arg(&f3));
        for t in ["-Wl,-t", "-Wl,--trace,-t"] {
            let args: Vec<String> = vec![
                path_str(&main),
                "-L.".into(),
                "-lf".into(),
                "libthin.a".into(),
                "-lm".into(),
                t.into(),
            ];
            let r = gcc_link(&ws, false, &args, "t.ref");
            let o = gcc_link(&ws, true, &args, "t.test");
            assert!(r.status.success() && o.status.success(), "{}{}", r.stderr, o.stderr);
            assert!(r.stdout.contains("libthin.a\n") && r.stdout.contains("f3.o\n"), "{}", r.stdout);
            assert_eq!(o.stdout, r.stdout, "{t}: the listing differs from GNU ld's");
        }
        let (out, _, _) = both(&ws, &[path_str(&main), "-L.".into(), "-lf".into(), "libthin.a".into(), "-lm".into()], "run");
        assert_eq!(out, "3 3 1.414\n");
    }
}

/// Local symbols of an executable or object, from `readelf -sW`: the names
/// of those of type `ty` (FUNC, NOTYPE, FILE, ...), sorted.
fn locals(file: &Path, ty: &str) -> Vec<String> {
    let text = readelf(&["-sW"], file);
    let mut v: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 8 && f[4] == "LOCAL" && f[3] == ty).then(|| f[7].to_owned())
        })
        .collect();
    v.sort();
    v
}

linker_test! {
    /// `-x` drops every local symbol of the inputs, `-X` only assembler
    /// labels (`.L...`; kept here with `-Wa,-L`). GNU ld's default drops the
    /// labels in mergeable sections (string literals' `.LC0`). Locals that
    /// output relocations name (`-r`, `--emit-relocs`) stay.
    fn discard_all_and_discard_locals() {
        let ws = Workspace::new("discard");
        let a = ws.compile_text(
            "a.c",
            "#include <stdio.h>\nstatic int helper(int x){return x * 3;}\n\
             static const char *msg(void){return \"hello from a\";}\n\
             int afn(int x){puts(msg()); for (int i = 0; i < x; i++) x += helper(i) & 1; return helper(x);}\n",
            &["-O1", "-fno-inline", "-Wa,-L"],
        );
        let main = ws.compile_text(
            "main.c",
            "#include <stdio.h>\nint afn(int);\nstatic int counter = 5;\n\
             int main(void){printf(\"%s %d\\n\", \"main says\", afn(counter));return 0;}\n",
            &["-O1"],
        );
        let objs = vec![path_str(&a), path_str(&main)];
        let labels = |f: &Path| -> Vec<String> {
            locals(f, "NOTYPE").into_iter().filter(|n| n.starts_with(".L")).collect()
        };
        for flags in [&[][..], &["-Wl,-x"], &["-Wl,-X"], &["-Wl,--discard-all", "-Wl,--emit-relocs"], &["-Wl,--discard-locals", "-Wl,-q"], &["-Wl,-q"]] {
            let mut args = objs.clone();
            args.extend(flags.iter().map(|f| f.to_string()));
            let what = format!("exe{}", flags.join("").replace([',', '-'], ""));
            let (out, reference, tested) = both(&ws, &args, &what);
            assert!(out.starts_with("hello from a\nmain says "), "{out}");
            assert_eq!(locals(&tested, "FUNC").contains(&"helper".to_owned()), locals(&reference, "FUNC").contains(&"helper".to_owned()), "{flags:?}: helper");
            assert_eq!(labels(&tested), labels(&reference), "{flags:?}: .L labels");
        }
        let x = both(&ws, &[objs[0].clone(), objs[1].clone(), "-Wl,-x".into()], "x").1;
        assert!(locals(&x, "FUNC").is_empty() && locals(&x, "FILE").is_empty(), "GNU ld -x kept locals");

        if linker_is_gnu_ld() {
            return;
        }
        // -r: the locals relocations name must stay, or the object breaks.
        for flag in ["-x", "-X", "--discard-none"] {
            let r = |linker: &Path, out: &str| {
                run_tool(Command::new(linker).current_dir(ws.path()).args(["-r", flag, "-o", out]).args(&objs));
                let p = ws.join(out);
                (locals(&p, "FUNC"), locals(&p, "NOTYPE"), locals(&p, "FILE"))
            };
            let gnu = r(Path::new("ld.bfd"), &format!("r{flag}.ref.o"));
            assert_eq!(r(&linker(), &format!("r{flag}.test.o")), gnu, "-r {flag}: local symbols");
            let (out, _, _) = both(&ws, &[format!("r{flag}.test.o")], &format!("r{flag}"));
            assert!(out.starts_with("hello from a\nmain says "), "{out}");
        }
    }
}

linker_test! {
    /// `--defsym NAME=NUMBER` and `--defsym NAME=SYMBOL+NUMBER`: a program
    /// reading both (the number as an address, the other through a
    /// pointer) prints the same with GNU ld, static, as a PIE (where GNU
    /// ld moves the number with the load address: it is printed as an
    /// offset from the image's start) and `-no-pie`; a symbol nothing
    /// defines in the expression is an error.
    fn defsym() {
        let ws = Workspace::new("options-defsym");
        std::fs::write(
            ws.join("ds.c"),
            "#include <stdio.h>\nextern char abs_sym[], rel_sym[], __ehdr_start[];\nint base_var[4] = {1, 2, 3, 4};\n\
             int main(void) { printf(\"%ld %d\\n\", (long)(abs_sym - __ehdr_start), *(int *)rel_sym); return 0; }\n",
        )
        .unwrap();
        let obj = ws.compile(&ws.join("ds.c"), &["-O1", "-fPIE"], "");
        let defs = [
            "-Wl,--defsym,abs_sym=0x1234".to_string(),
            "-Wl,--defsym=rel_sym = base_var + 8".to_string(),
        ];
        let mut args = vec![path_str(&obj)];
        args.extend(defs.iter().cloned());
        let (out, _, _) = both(&ws, &args, "defsym-static");
        assert!(out.ends_with(" 3\n"), "{out}");
        for kind in ["-pie", "-no-pie"] {
            let mut outs = Vec::new();
            for by in ["-fuse-ld=bfd".to_string(), format!("-B{}/", ws.ld_dir().display())] {
                let exe = ws.join(format!("defsym{kind}{}", outs.len()));
                let o = run_tool(
                    Command::new("gcc")
                        .arg(kind)
                        .arg(&by)
                        .args(&args)
                        .arg("-o")
                        .arg(&exe),
                );
                assert!(o.status.success(), "{kind} {by}: {}", o.stderr);
                outs.push(run_exe(&exe));
            }
            assert_same_run(&outs[0], &outs[1], kind);
        }
        let mut bad = vec![path_str(&obj), "-Wl,--defsym,x=nowhere+1".to_string()];
        bad.extend(defs.iter().cloned());
        let o = gcc_link(&ws, true, &bad, "bad");
        assert_eq!(o.code(), 1, "{}", o.stderr);
        assert!(o.stderr.contains("nowhere"), "{}", o.stderr);
    }
}
