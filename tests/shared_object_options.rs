//! Shared objects: the errors GNU ld gives (non-PIC code, `-z defs`, hidden
//! undefined symbols, bad version scripts), `--exclude-libs`, `-z` flags,
//! `-init`/`-fini`, cases found linking real libraries, and
//! `--emit-relocs`; each against GNU ld.

#[macro_use]
mod common;
mod shared_lib;

use common::*;
use shared_lib::*;
use std::path::Path;
use std::process::Command;

// ---------------------------------------------------------------------------
// Errors

linker_test! {
    /// Non-PIC code (`R_X86_64_32` and `R_X86_64_PC32` against a global)
    /// cannot go into a shared object: "recompile with -fPIC", naming the
    /// object. Under `-z defs` and `--no-undefined` an undefined symbol
    /// is an error naming it and the object; without them the library
    /// links and the symbol is bound at run time (here, to the program's).
    fn link_errors() {
        let ws = Workspace::new("so-errors");
        let nopic = ws.compile_text(
            "nopic.c",
            "int g;\nint *addr(void) { return &g; }\nint get(void) { return g; }\n",
            &["-fno-pic", "-mcmodel=small", "-O1"],
        );
        let relocs = readelf(&["-rW"], &nopic);
        assert!(relocs.contains("R_X86_64_32 "), "{relocs}");
        expect_shared_error(
            &ws,
            &[path_str(&nopic)],
            "libnopic.so",
            &[
                &["recompile with -fPIC"],
                &["nopic.o"],
                &["R_X86_64_32", "R_X86_64_PC32"],
            ],
        );

        let undef = ws.compile_text(
            "undef.c",
            "int missing_fn(void);\nint use(void) { return missing_fn() + 1; }\n",
            &["-fPIC", "-O1"],
        );
        for flag in ["-Wl,-z,defs", "-Wl,--no-undefined"] {
            expect_shared_error(
                &ws,
                &[path_str(&undef), flag.to_string()],
                "libundef.so",
                &[
                    &["undefined reference", "undefined symbol"],
                    &["missing_fn"],
                    &["undef.o"],
                ],
            );
        }

        // A hidden reference must be defined here.
        let hidden = ws.compile_text(
            "hidden.c",
            "__attribute__((visibility(\"hidden\"))) int hid(void);\nint g(void) { return hid(); }\n",
            &["-fPIC", "-O1"],
        );
        expect_shared_error(
            &ws,
            &[path_str(&hidden)],
            "libhidden.so",
            &[
                &["undefined reference", "undefined symbol"],
                &["hid"],
                &["hidden.o"],
            ],
        );

        // Version scripts: a syntax error names the script and line; a
        // `.symver` version the script does not define is an error.
        let plain = ws.compile_text("plain.c", "int foo(void) { return 1; }\n", &["-fPIC"]);
        let bad_map = ws.join("bad.map");
        std::fs::write(&bad_map, "V1 {\n  global: foo\n  local: *;\n};\n").unwrap();
        expect_shared_error(
            &ws,
            &[
                path_str(&plain),
                format!("-Wl,--version-script={}", bad_map.display()),
            ],
            "libbadmap.so",
            &[&["bad.map:3"], &["syntax error"]],
        );
        let symver = ws.compile_text(
            "symver.c",
            "int foo_impl(void) { return 1; }\n__asm__(\".symver foo_impl,foo@@NOPE\");\n",
            &["-fPIC"],
        );
        let map = ws.join("v.map");
        std::fs::write(&map, "V1 { global: foo; local: *; };\n").unwrap();
        expect_shared_error(
            &ws,
            &[
                path_str(&symver),
                format!("-Wl,--version-script={}", map.display()),
            ],
            "libsymver.so",
            &[&["version node not found for symbol foo@@NOPE"]],
        );

        // One name given two default versions by `.symver`: two
        // definitions of `foo`.
        let two = ws.compile_text(
            "twover.c",
            "int a(void) { return 1; }\nint b(void) { return 2; }\n\
             __asm__(\".symver a,foo@@V1\");\n__asm__(\".symver b,foo@@V2\");\n",
            &["-fPIC"],
        );
        let two_map = ws.join("two.map");
        std::fs::write(&two_map, "V1 { global: foo; };\nV2 { } V1;\n").unwrap();
        expect_shared_error(
            &ws,
            &[
                path_str(&two),
                format!("-Wl,--version-script={}", two_map.display()),
            ],
            "libtwover.so",
            &[&["multiple definition", "duplicate symbol"], &["foo"], &["twover.o"]],
        );

        // Allowed by default: a program defines it.
        let lib = link_shared(
            &ws,
            "gcc",
            By::Tested,
            &[&undef],
            &[],
            &ws.join("lib/libundef.so"),
        );
        let undefined = DynSyms::of(&lib).undefined;
        assert!(undefined.contains("missing_fn GLOBAL"), "{undefined:?}");
        let main = ws.compile_text(
            "undefmain.c",
            "#include <stdio.h>\nint use(void);\nint missing_fn(void) { return 41; }\nint main(void) { printf(\"%d\\n\", use()); return 0; }\n",
            &["-O1"],
        );
        let exe = link(
            &ws,
            "gcc",
            By::Gnu,
            &[
                path_str(&main),
                format!("-L{}", ws.join("lib").display()),
                "-lundef".into(),
            ],
            &ws.join("undefmain"),
        );
        assert_output(
            &run_in(&exe, &ws.join("lib")),
            "42\n",
            "the program defining missing_fn",
        );
    }
}

linker_test! {
    /// `--exclude-libs` keeps an archive's definitions out of `.dynsym`
    /// (by name and with `ALL`), `-z nodelete`/`-z initfirst`/`-z nodlopen`
    /// set `DT_FLAGS_1`, and `-init`/`-fini` name `DT_INIT`/`DT_FINI`: the
    /// same as GNU ld's, and the library still works.
    fn exclude_libs_and_flags() {
        let ws = Workspace::new("so-exclude");
        let helper = ws.compile_text(
            "helper.c",
            "int helper_fn(int x) { return x * 3; }\nint helper_data = 5;\n",
            &["-fPIC", "-O1"],
        );
        let archive = ws.join("libhelper.a");
        let o = run_tool(Command::new("ar").arg("rcs").arg(&archive).arg(&helper));
        assert!(o.status.success(), "{}", o.stderr);
        let api = ws.compile_text(
            "api.c",
            "#include <stdio.h>\nint helper_fn(int);\nextern int helper_data;\n\
             int api(int x) { return helper_fn(x) + helper_data; }\n\
             void my_init(void) { puts(\"my_init\"); }\nvoid my_fini(void) { puts(\"my_fini\"); }\n",
            &["-fPIC", "-O1"],
        );
        let main = ws.compile_text(
            "apimain.c",
            "#include <stdio.h>\nint api(int);\nint main(void) { printf(\"%d\\n\", api(4)); return 0; }\n",
            &["-O1"],
        );
        let variants: [(&str, &[&str]); 3] = [
            ("byname", &["-Wl,--exclude-libs,libhelper.a", "-Wl,-z,nodelete"]),
            ("all", &["-Wl,--exclude-libs=ALL", "-Wl,-z,initfirst", "-Wl,-z,nodlopen"]),
            ("init", &["-Wl,-init,my_init", "-Wl,-fini,my_fini"]),
        ];
        for (variant, flags) in variants {
            let mut libs = Vec::new();
            for (by, dir) in [(By::Gnu, "gnu"), (By::Tested, "tested")] {
                let mut extra: Vec<String> = vec![
                    format!("-L{}", ws.path().display()),
                    "-lhelper".into(),
                ];
                extra.extend(flags.iter().map(|f| f.to_string()));
                let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
                let out = ws.join(format!("{variant}-{dir}/libapi.so"));
                std::fs::create_dir_all(out.parent().unwrap()).unwrap();
                libs.push(link_shared(&ws, "gcc", by, &[&api], &extra, &out));
            }
            let (g, t) = (&libs[0], &libs[1]);
            DynSyms::assert_same(g, t);
            let names = DynSyms::of(t).names();
            if variant != "init" {
                assert!(!names.contains("helper_fn"), "{variant}: {names:?}");
            }
            for tag in ["FLAGS_1", "INIT", "FINI"] {
                let value = |lib: &Path| {
                    let v = dynamic_tag(lib, tag);
                    // Addresses differ between the linkers; flags do not.
                    if tag == "FLAGS_1" { v } else { v.map(|_| "present".into()) }
                };
                assert_eq!(value(t), value(g), "{variant}: DT_{tag}");
            }
            let exe = link(
                &ws,
                "gcc",
                By::Gnu,
                &[path_str(&main), path_str(t)],
                &ws.join(format!("apimain-{variant}")),
            );
            let r = run_in(&exe, t.parent().unwrap());
            let expected = if variant == "init" { "my_init\n17\nmy_fini\n" } else { "17\n" };
            assert_output(&r, expected, variant);
        }
    }
}

linker_test! {
    /// Cases found linking real libraries: an undefined TLS symbol keeps
    /// `STT_TLS` in `.dynsym` (GNU ld refuses to bind a TLS definition to
    /// a non-TLS reference); `extern "C++"` patterns match vtables, VTTs
    /// and thunks by c++filt's names; with `--gc-sections`, symbols only
    /// collected code referred to are not imported. Each library as GNU
    /// ld's, and programs GNU ld links against it run.
    fn real_library_cases() {
        let ws = Workspace::new("so-real-cases");
        // TLS the program defines and the library reads.
        let lib = ws.compile_text(
            "tlsref.c",
            "extern __thread int t_exe;\nint read_exe_tls(void) { return t_exe; }\n",
            &["-fPIC", "-O2"],
        );
        let main = ws.compile_text(
            "tlsmain.c",
            "#include <stdio.h>\n__thread int t_exe = 77;\nint read_exe_tls(void);\n\
             int main(void) { printf(\"%d\\n\", read_exe_tls()); return 0; }\n",
            &["-O2"],
        );
        // C++ special names under a version script.
        let cxx = ws.compile_text(
            "shapes.cpp",
            "namespace ns {\nstruct S { virtual ~S(); virtual int f(); };\nS::~S() {}\nint S::f() { return 1; }\n\
             struct B1 { virtual int g() { return 2; } virtual ~B1() {} };\n\
             struct D : virtual B1, S { int g() override; int f() override; };\n\
             int D::g() { return 3; }\nint D::f() { return 4; }\nS *make_d() { return new D; }\n}\n",
            &["-fPIC", "-O1"],
        );
        let cxx_map = ws.join("shapes.map");
        std::fs::write(
            &cxx_map,
            "V1 { global: extern \"C++\" { ns::*; \"vtable for ns::S\"; \"typeinfo for ns::S\"; \
             \"VTT for ns::D\"; \"vtable for ns::D\"; \"non-virtual thunk to ns::D::f()\"; \
             \"virtual thunk to ns::D::g()\"; }; local: *; };\n",
        )
        .unwrap();
        let cxx_main = ws.compile_text(
            "shapesmain.cpp",
            "#include <cstdio>\nnamespace ns { struct S { virtual ~S(); virtual int f(); }; S *make_d(); }\n\
             int main() { ns::S s; ns::S *d = ns::make_d(); std::printf(\"%d %d\\n\", s.f(), d->f()); delete d; }\n",
            &["-O1"],
        );
        // Collected code's references.
        let gc = ws.compile_text(
            "gcref.c",
            "extern int weak_ref(void) __attribute__((weak));\nextern int strong_ref(void);\n\
             __attribute__((visibility(\"hidden\"))) int unused(void) { return (weak_ref ? weak_ref() : 0) + strong_ref(); }\n\
             int used(void) { return 42; }\n",
            &["-fPIC", "-O2", "-ffunction-sections"],
        );
        let gc_main = ws.compile_text(
            "gcmain.c",
            "#include <stdio.h>\nint used(void);\nint main(void) { printf(\"%d\\n\", used()); return 0; }\n",
            &["-O2"],
        );
        let map_flag = format!("-Wl,--version-script={}", cxx_map.display());
        /// Name, driver, library object, flags, program, its output.
        type Case<'a> = (&'a str, &'a str, &'a Path, &'a [&'a str], &'a Path, &'a str);
        let cases: [Case; 3] = [
            ("tls", "gcc", &lib, &[], &main, "77\n"),
            ("cxx", "g++", &cxx, &[map_flag.as_str()], &cxx_main, "1 4\n"),
            ("gc", "gcc", &gc, &["-Wl,--gc-sections"], &gc_main, "42\n"),
        ];
        for (name, driver, obj, flags, prog, expected) in cases {
            let mut libs = Vec::new();
            for (by, dir) in [(By::Gnu, "gnu"), (By::Tested, "tested")] {
                let out = ws.join(format!("{name}-{dir}/lib{name}.so"));
                std::fs::create_dir_all(out.parent().unwrap()).unwrap();
                libs.push(link_shared(&ws, driver, by, &[obj], flags, &out));
            }
            DynSyms::assert_same(&libs[0], &libs[1]);
            let exe = link(
                &ws,
                driver,
                By::Gnu,
                &[path_str(prog), path_str(&libs[1])],
                &ws.join(format!("{name}-main")),
            );
            assert_output(&run_in(&exe, libs[1].parent().unwrap()), expected, name);
        }
    }
}

linker_test! {
    /// `--emit-relocs` in a shared object: the relocations of its TLS
    /// sequences (kept, not relaxed) are written with their own types, as
    /// GNU ld writes them: the same number of records of each type in each
    /// section.
    fn emit_relocs_keep_dynamic_tls_types() {
        let ws = Workspace::new("so-emit-relocs");
        let obj = ws.compile_text(
            "tlsemit.c",
            "__thread int gtv = 1;\nstatic __thread int ltv = 2;\n\
             int get(void) { ltv++; return gtv + ltv; }\n",
            &["-fPIC", "-O1"],
        );
        let mut libs = Vec::new();
        for (by, dir) in [(By::Gnu, "gnu"), (By::Tested, "tested")] {
            let out = ws.join(format!("{dir}/libtlsemit.so"));
            std::fs::create_dir_all(out.parent().unwrap()).unwrap();
            libs.push(link_shared(&ws, "gcc", by, &[&obj], &["-Wl,--emit-relocs"], &out));
        }
        let types = |lib: &Path| {
            let mut v: Vec<String> = readelf(&["-rW"], lib)
                .lines()
                .filter_map(|l| l.split_whitespace().nth(2))
                .filter(|t| t.starts_with("R_X86_64_"))
                .map(str::to_string)
                .collect();
            v.sort();
            v
        };
        assert_eq!(types(&libs[1]), types(&libs[0]));
        assert_eq!(rela_counts(&libs[1]), rela_counts(&libs[0]));
    }
}
