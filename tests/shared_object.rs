//! Shared objects (`-shared`) made by the linker under test: each library
//! is also made by GNU ld from the same objects, and programs (usually
//! linked by GNU ld, also by the linker under test) run against both and
//! must behave alike. Here: exported code and data with pointers in
//! `.data`, hidden, protected and static functions, interposition and
//! `-Bsymbolic(-functions)`, `-soname`, `DT_INIT`/`DT_FINI` and
//! constructors, an IFUNC; TLS in every model (general and local dynamic,
//! initial exec with `DF_STATIC_TLS`, TLSDESC), also through `dlopen`; a
//! C++ library (virtual functions, exceptions, `std::string`, templates,
//! static initializers, `STB_GNU_UNIQUE`); plugins that call back into the
//! program and `LD_PRELOAD`; byte-identical output across thread counts.
//! Versions are in `shared_object_versions.rs`,
//! errors and options in `shared_object_options.rs`, cargo in
//! `shared_object_rust.rs`; their helpers in `shared_lib/`.

#[macro_use]
mod common;
mod shared_lib;

use common::*;
use shared_lib::*;
use std::path::{Path, PathBuf};
use std::process::Command;

// ---------------------------------------------------------------------------
// A C library

/// The library: exported functions and data, data holding pointers to
/// functions and data (dynamic relocations), a function pointer table,
/// static, hidden and protected functions, an interposable `f` it calls
/// itself, a hidden IFUNC called directly and through a pointer, a
/// constructor and a destructor.
const DEMO_C: &str = r#"
#include <stdio.h>

int demo_array[5] = {10, 20, 30, 40, 50};
const char *demo_greeting = "hello";
static int bump(int x) { return x + 1; }
__attribute__((visibility("hidden"))) int hidden_triple(int x) { return x * 3; }
__attribute__((visibility("protected"))) int protected_dec(int x) { return x - 1; }
int demo_add(int a, int b) { return a + b; }

/* Interposable: the program defines its own f. */
int f(void) { return 1; }
int call_f(void) { return f(); }
int call_protected(void) { return protected_dec(10); }
int *demo_array_address(void) { return demo_array; }

struct demo_ops {
    int (*add)(int, int);
    int (*step)(int);
    int *data;
    const char *name;
};
struct demo_ops demo_ops = {demo_add, bump, &demo_array[2], "ops"};
int (*demo_table[3])(int) = {bump, hidden_triple, protected_dec};
int table_sum(void) {
    int s = 0;
    for (int i = 0; i < 3; i++) s += demo_table[i](i + 1);
    return s;
}

/* A resolver runs while the library is being relocated: it must not call
   through the PLT, whose slots are not ready yet. */
static int twice_a(int x) { return 2 * x; }
static int twice_b(int x) { return x + x + 1; }
static volatile int use_b;
static void *pick_twice(void) { return use_b ? (void *)twice_b : (void *)twice_a; }
__attribute__((visibility("hidden"))) int twice(int) __attribute__((ifunc("pick_twice")));
int (*twice_ptr)(int) = twice;
int demo_twice(int x) { return twice(x) + twice_ptr(1); }

__attribute__((constructor)) static void demo_ctor(void) { printf("demo ctor\n"); }
__attribute__((destructor)) static void demo_dtor(void) { printf("demo dtor\n"); }
"#;

/// A library with its own `_init` and `_fini` (linked `-nostartfiles`):
/// `DT_INIT` and `DT_FINI` must name them; the dynamic loader runs
/// `DT_INIT` before the constructors and `DT_FINI` after the destructors.
const INITFINI_C: &str = r#"
#include <stdio.h>
void _init(void) { printf("initfini _init\n"); }
void _fini(void) { printf("initfini _fini\n"); }
__attribute__((constructor)) static void ctor(void) { printf("initfini ctor\n"); }
__attribute__((destructor)) static void dtor(void) { printf("initfini dtor\n"); }
int initfini_value(void) { return 5; }
"#;

/// The program: defines its own `f` (which the library's `call_f`
/// reaches unless the library binds symbolically) and its own
/// `protected_dec` (which the library's calls never reach); copies the
/// library's data (copy relocations), compares addresses across the
/// boundary, looks symbols up with `dlsym`.
const DEMO_MAIN_C: &str = r#"
#include <dlfcn.h>
#include <stdio.h>
extern int demo_array[5];
extern const char *demo_greeting;
struct demo_ops {
    int (*add)(int, int);
    int (*step)(int);
    int *data;
    const char *name;
};
extern struct demo_ops demo_ops;
extern int (*demo_table[3])(int);
int demo_add(int, int);
int call_f(void);
int call_protected(void);
int *demo_array_address(void);
int demo_twice(int);
int table_sum(void);
int initfini_value(void);
int f(void) { return 100; }
int protected_dec(int x) { return x - 1000; }
int main(void) {
    printf("array %d %d same=%d\n", demo_array[0], demo_array[4], demo_array == demo_array_address());
    printf("greeting %s\n", demo_greeting);
    printf("ops %d %d %d %s\n", demo_ops.add(2, 3), demo_ops.step(7), *demo_ops.data, demo_ops.name);
    printf("table %d %d %d sum=%d\n", demo_table[0](1), demo_table[1](2), demo_table[2](3), table_sum());
    printf("f %d protected %d %d\n", call_f(), call_protected(), protected_dec(5));
    printf("twice %d\n", demo_twice(21));
    printf("pointers %d %d\n", demo_ops.add == demo_add, demo_ops.data == &demo_array[2]);
    printf("dlsym %d %d %d\n", dlsym(RTLD_DEFAULT, "demo_add") == (void *)demo_add,
           dlsym(RTLD_DEFAULT, "hidden_triple") == 0, dlsym(RTLD_DEFAULT, "table_sum") != 0);
    demo_array[1] = 99;
    printf("after %d initfini %d\n", demo_array_address()[1], initfini_value());
    return 0;
}
"#;

/// What the program prints with the library linked normally.
const DEMO_OUTPUT: &str = "initfini _init\ninitfini ctor\ndemo ctor\n\
array 10 50 same=1\ngreeting hello\nops 5 8 30 ops\ntable 2 6 2 sum=10\n\
f 100 protected 9 -995\ntwice 44\npointers 1 1\ndlsym 1 1 1\nafter 99 initfini 5\n\
demo dtor\ninitfini dtor\ninitfini _fini\n";

/// The objects of the C library test, compiled once.
struct DemoObjects {
    demo: PathBuf,
    initfini: PathBuf,
    main_pie: PathBuf,
    main_nopie: PathBuf,
}

fn demo_objects(ws: &Workspace) -> DemoObjects {
    DemoObjects {
        demo: ws.compile_text("demo.c", DEMO_C, &["-fPIC", "-O1"]),
        initfini: ws.compile_text("initfini.c", INITFINI_C, &["-fPIC", "-O1"]),
        main_pie: ws.compile_text("main.c", DEMO_MAIN_C, &["-fPIE", "-O1"]),
        main_nopie: ws.compile_text("main-nopie.c", DEMO_MAIN_C, &["-fno-pie", "-O1"]),
    }
}

/// Builds `libdemo.so.1` (soname `libdemo.so.1`, with a `libdemo.so`
/// symlink for `-ldemo`) and `libinitfini.so` into `DIR = <by>-<variant>`
/// with `extra` options for libdemo; returns DIR.
fn demo_libs(ws: &Workspace, objs: &DemoObjects, by: By, variant: &str, extra: &[&str]) -> PathBuf {
    let dir = ws.join(format!("{}-{variant}", by.tag()));
    let mut flags = vec!["-Wl,-soname,libdemo.so.1"];
    flags.extend_from_slice(extra);
    link_shared(
        ws,
        "gcc",
        by,
        &[&objs.demo],
        &flags,
        &dir.join("libdemo.so.1"),
    );
    std::os::unix::fs::symlink("libdemo.so.1", dir.join("libdemo.so")).unwrap();
    link_shared(
        ws,
        "gcc",
        by,
        &[&objs.initfini],
        &["-nostartfiles"],
        &dir.join("libinitfini.so"),
    );
    dir
}

/// Links the demo program (`obj`, with `kind_flag`) against the libraries
/// in `dir`, by `by`.
fn link_demo_main(
    ws: &Workspace,
    by: By,
    obj: &Path,
    kind_flag: &str,
    dir: &Path,
    out: &str,
) -> PathBuf {
    let args = vec![
        kind_flag.to_string(),
        path_str(obj),
        format!("-L{}", dir.display()),
        "-ldemo".into(),
        "-linitfini".into(),
    ];
    link(ws, "gcc", by, &args, &ws.join(out))
}

linker_test! {
    /// The C library made by the linker under test: a program linked
    /// against it by GNU ld, as a PIE and not, and by the linker under
    /// test, runs as against GNU ld's library (and GNU ld's program runs
    /// with either library); the same exports, `DT_SONAME`, `DT_NEEDED`
    /// of the program, `DT_INIT`/`DT_FINI` naming `_init`/`_fini`.
    fn c_library() {
        let ws = Workspace::new("so-c-library");
        let objs = demo_objects(&ws);
        let gnu = demo_libs(&ws, &objs, By::Gnu, "plain", &[]);
        let tested = demo_libs(&ws, &objs, By::Tested, "plain", &[]);

        let reference = link_demo_main(&ws, By::Gnu, &objs.main_pie, "-pie", &gnu, "main.ref");
        let r = run_in(&reference, &gnu);
        assert_output(&r, DEMO_OUTPUT, "GNU ld's program with GNU ld's libraries");

        let runs = [
            (
                "GNU ld's program with the tested libraries",
                run_in(&reference, &tested),
            ),
            (
                "a PIE linked by GNU ld against the tested libraries",
                run_in(
                    &link_demo_main(&ws, By::Gnu, &objs.main_pie, "-pie", &tested, "main.gnu"),
                    &tested,
                ),
            ),
            (
                "a -no-pie program linked by GNU ld against the tested libraries",
                run_in(
                    &link_demo_main(
                        &ws,
                        By::Gnu,
                        &objs.main_nopie,
                        "-no-pie",
                        &tested,
                        "main.nopie",
                    ),
                    &tested,
                ),
            ),
            (
                "a PIE linked by the linker under test against its libraries",
                run_in(
                    &link_demo_main(
                        &ws,
                        By::Tested,
                        &objs.main_pie,
                        "-pie",
                        &tested,
                        "main.test",
                    ),
                    &tested,
                ),
            ),
        ];
        for (what, o) in &runs {
            assert_same_run(&r, o, what);
        }

        for lib in ["libdemo.so.1", "libinitfini.so"] {
            assert_sane_library(&gnu.join(lib), &tested.join(lib));
            DynSyms::assert_same(&gnu.join(lib), &tested.join(lib));
        }
        let lib = tested.join("libdemo.so.1");
        let exported = DynSyms::of(&lib);
        let names = exported.names();
        for hidden in [
            "hidden_triple",
            "bump",
            "twice",
            "pick_twice",
            "twice_a",
            "use_b",
            "demo_ctor",
        ] {
            assert!(!names.contains(hidden), "{hidden} is exported: {names:?}");
        }
        for public in [
            "demo_add",
            "demo_array",
            "demo_ops",
            "demo_table",
            "f",
            "twice_ptr",
        ] {
            assert!(
                names.contains(public),
                "{public} is not exported: {names:?}"
            );
        }
        assert!(
            exported
                .defined
                .iter()
                .any(|s| s.starts_with("protected_dec FUNC GLOBAL PROTECTED ")),
            "protected_dec is not PROTECTED: {:?}",
            exported.defined
        );

        assert_eq!(
            dynamic_tag(&lib, "SONAME").as_deref(),
            Some("Library soname: [libdemo.so.1]")
        );
        assert_eq!(needed(&lib), needed(&gnu.join("libdemo.so.1")));
        for exe in ["main.gnu", "main.test"] {
            let n = needed(&ws.join(exe));
            assert!(
                n.contains(&"libdemo.so.1".to_string()),
                "{exe}: NEEDED {n:?}"
            );
            assert!(
                n.contains(&"libinitfini.so".to_string()),
                "{exe}: NEEDED {n:?}"
            );
        }
        // DT_INIT and DT_FINI give the address of `_init` and `_fini`
        // (crti.o's in libdemo, the library's own in libinitfini).
        for lib in ["libdemo.so.1", "libinitfini.so"] {
            let lib = tested.join(lib);
            for (tag, sym) in [("INIT", "_init"), ("FINI", "_fini")] {
                let value = dynamic_tag(&lib, tag)
                    .unwrap_or_else(|| panic!("{}: no DT_{tag}", lib.display()));
                let value = u64::from_str_radix(value.trim_start_matches("0x"), 16).unwrap();
                assert_eq!(
                    Some(value),
                    symbol_address(&lib, sym),
                    "{}: DT_{tag}",
                    lib.display()
                );
            }
            for tag in ["INIT_ARRAY", "FINI_ARRAY"] {
                assert!(
                    dynamic_tag(&lib, tag).is_some(),
                    "{}: no DT_{tag}",
                    lib.display()
                );
            }
        }
    }
}

linker_test! {
    /// `-Bsymbolic` binds every reference inside the library to its own
    /// definitions (the library's `f`, and its own copy of `demo_array`,
    /// which then differs from the program's copy), `-Bsymbolic-functions`
    /// only the functions: as GNU ld does, with `DF_SYMBOLIC` for the first.
    fn c_library_symbolic() {
        let ws = Workspace::new("so-c-symbolic");
        let objs = demo_objects(&ws);
        let gnu_plain = demo_libs(&ws, &objs, By::Gnu, "plain", &[]);
        let reference =
            link_demo_main(&ws, By::Gnu, &objs.main_pie, "-pie", &gnu_plain, "main.ref");
        for (variant, flag, f_line, same) in [
            (
                "symbolic",
                "-Wl,-Bsymbolic",
                "f 1 protected 9 -995",
                "same=0",
            ),
            (
                "functions",
                "-Wl,-Bsymbolic-functions",
                "f 1 protected 9 -995",
                "same=1",
            ),
        ] {
            let gnu = demo_libs(&ws, &objs, By::Gnu, variant, &[flag]);
            let tested = demo_libs(&ws, &objs, By::Tested, variant, &[flag]);
            let r = run_in(&reference, &gnu);
            assert_eq!(
                r.code(),
                0,
                "{variant}: GNU ld's build: {}{}",
                r.stdout,
                r.stderr
            );
            assert!(
                r.stdout.contains(f_line) && r.stdout.contains(same),
                "{variant}: {}",
                r.stdout
            );
            let t = run_in(&reference, &tested);
            assert_same_run(&r, &t, variant);
            let exe = link_demo_main(
                &ws,
                By::Tested,
                &objs.main_pie,
                "-pie",
                &tested,
                &format!("main.{variant}"),
            );
            assert_same_run(&r, &run_in(&exe, &tested), variant);
            let (g, t) = (gnu.join("libdemo.so.1"), tested.join("libdemo.so.1"));
            DynSyms::assert_same(&g, &t);
            let flags = |lib: &Path| dynamic_tag(lib, "FLAGS").unwrap_or_default();
            assert_eq!(flags(&t), flags(&g), "{variant}: DT_FLAGS");
            assert_eq!(
                dynamic_tag(&t, "SYMBOLIC").is_some(),
                dynamic_tag(&g, "SYMBOLIC").is_some(),
                "{variant}: DT_SYMBOLIC"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// TLS

/// Thread-local variables of a library: one the program reads and writes
/// (`tls_shared`), an array, static ones (local dynamic, one in `.tbss`)
/// and a hidden one.
const TLS_C: &str = r#"
__thread int tls_shared = 5;
__thread long tls_array[16] = {1, 2, 3};
static __thread int tls_local = 100;
static __thread int tls_local_bss;
__attribute__((visibility("hidden"))) __thread int tls_hidden = 7;
int tls_bump(int by) {
    tls_local += by;
    tls_local_bss++;
    tls_hidden += tls_array[2];
    return tls_local * 1000 + tls_local_bss * 100 + tls_hidden;
}
int tls_get_shared(void) { return tls_shared; }
int *tls_shared_addr(void) { return &tls_shared; }
int *tls_local_addr(void) { return &tls_local; }
"#;

/// Four threads and the main thread each use their own copies.
const TLS_MAIN_C: &str = r#"
#include <pthread.h>
#include <stdio.h>
extern __thread int tls_shared;
extern __thread long tls_array[16];
int tls_bump(int);
int tls_get_shared(void);
int *tls_shared_addr(void);
int *tls_local_addr(void);
struct result { int id, bump1, bump2, shared, same_addr; int *local; };
static void *work(void *arg) {
    struct result *r = arg;
    tls_shared = r->id * 10;
    r->bump1 = tls_bump(r->id);
    r->bump2 = tls_bump(r->id);
    r->shared = tls_get_shared() + (int)tls_array[1];
    r->same_addr = &tls_shared == tls_shared_addr();
    r->local = tls_local_addr();
    return 0;
}
int main(void) {
    struct result rs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        rs[i].id = i + 1;
        pthread_create(&th[i], 0, work, &rs[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(th[i], 0);
    int distinct = 1;
    for (int i = 0; i < 4; i++) {
        printf("thread %d: %d %d %d %d\n", rs[i].id, rs[i].bump1, rs[i].bump2, rs[i].shared, rs[i].same_addr);
        for (int j = 0; j < i; j++)
            if (rs[i].local == rs[j].local) distinct = 0;
    }
    int before = tls_get_shared();
    tls_shared = 77;
    int bumped = tls_bump(0);
    printf("main: %d %d %d distinct=%d\n", before, tls_get_shared(), bumped, distinct);
    return 0;
}
"#;

const TLS_OUTPUT: &str = "thread 1: 101110 102213 12 1\nthread 2: 102110 104213 22 1\n\
thread 3: 103110 106213 32 1\nthread 4: 104110 108213 42 1\nmain: 5 77 100110 distinct=1\n";

/// Loads the library with `dlopen` and uses its TLS from three threads
/// (the variable also through `dlsym`).
const TLS_DLOPEN_C: &str = r#"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
static void *h;
static int (*bump)(int);
static int (*get_shared)(void);
static int *(*shared_addr)(void);
struct res { int b1, b2, shared, same; };
static struct res rs[3];
static void *work(void *arg) {
    long i = (long)arg;
    int *v = (int *)dlsym(h, "tls_shared");
    *v = (int)i * 7;
    rs[i].b1 = bump((int)i + 1);
    rs[i].b2 = bump((int)i + 1);
    rs[i].shared = get_shared();
    rs[i].same = v == shared_addr();
    return 0;
}
int main(int argc, char **argv) {
    if (argc < 2) return 3;
    h = dlopen(argv[1], RTLD_NOW);
    if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
    bump = (int (*)(int))dlsym(h, "tls_bump");
    get_shared = (int (*)(void))dlsym(h, "tls_get_shared");
    shared_addr = (int *(*)(void))dlsym(h, "tls_shared_addr");
    if (!bump || !get_shared || !shared_addr) { printf("dlsym: %s\n", dlerror()); return 2; }
    pthread_t t[3];
    for (long i = 0; i < 3; i++) pthread_create(&t[i], 0, work, (void *)i);
    for (int i = 0; i < 3; i++) pthread_join(t[i], 0);
    for (int i = 0; i < 3; i++)
        printf("thread %d: %d %d %d %d\n", i, rs[i].b1, rs[i].b2, rs[i].shared, rs[i].same);
    int main_shared = get_shared();
    int main_bump = bump(0);
    printf("main: %d %d\n", main_shared, main_bump);
    return dlclose(h);
}
"#;

const TLS_DLOPEN_OUTPUT: &str = "thread 0: 101110 102213 0 1\nthread 1: 102110 104213 7 1\n\
thread 2: 103110 106213 14 1\nmain: 5 100110\n";

linker_test! {
    /// A library's TLS in the models gcc gives `-fPIC` code (general and
    /// local dynamic), `-ftls-model=initial-exec` (`DF_STATIC_TLS`) and
    /// `-mtls-dialect=gnu2` (TLSDESC): a threaded program linked against
    /// it (by GNU ld and by the linker under test), and one loading it
    /// with `dlopen`, see per-thread copies as with GNU ld's library.
    fn tls_models() {
        let ws = Workspace::new("so-tls");
        let src = ws.join("tls.c");
        std::fs::write(&src, TLS_C).unwrap();
        let main_obj = ws.compile_text("tlsmain.c", TLS_MAIN_C, &["-O1", "-pthread"]);
        let dl_obj = ws.compile_text("tlsdl.c", TLS_DLOPEN_C, &["-O1", "-pthread"]);
        let dl_host = link(
            &ws,
            "gcc",
            By::Gnu,
            &[path_str(&dl_obj), "-pthread".into()],
            &ws.join("tlsdl"),
        );
        // (model, flags, relocation types its library must have)
        let models: [(&str, &[&str], &[&str]); 3] = [
            ("dynamic", &[], &["R_X86_64_DTPMOD64", "R_X86_64_DTPOFF64"]),
            (
                "initial-exec",
                &["-ftls-model=initial-exec"],
                &["R_X86_64_TPOFF64"],
            ),
            ("tlsdesc", &["-mtls-dialect=gnu2"], &["R_X86_64_TLSDESC"]),
        ];
        let mut reference_exe = None;
        for (model, flags, relocs) in models {
            let mut cflags = vec!["-fPIC", "-O1"];
            cflags.extend_from_slice(flags);
            let obj = ws.compile(&src, &cflags, &format!("-{model}"));
            let lib = |by: By| {
                let dir = ws.join(format!("{}-{model}", by.tag()));
                link_shared(&ws, "gcc", by, &[&obj], &[], &dir.join("libtlsdemo.so"));
                dir
            };
            let (gnu, tested) = (lib(By::Gnu), lib(By::Tested));
            let main_args = |dir: &Path| {
                vec![
                    path_str(&main_obj),
                    format!("-L{}", dir.display()),
                    "-ltlsdemo".into(),
                    "-pthread".into(),
                ]
            };
            let reference = reference_exe
                .get_or_insert_with(|| {
                    link(
                        &ws,
                        "gcc",
                        By::Gnu,
                        &main_args(&gnu),
                        &ws.join("tlsmain.ref"),
                    )
                })
                .clone();
            let r = run_in(&reference, &gnu);
            assert_output(
                &r,
                TLS_OUTPUT,
                &format!("{model}: GNU ld's program and library"),
            );
            assert_same_run(
                &r,
                &run_in(&reference, &tested),
                &format!("{model}: GNU ld's program, tested library"),
            );
            let exe = link(
                &ws,
                "gcc",
                By::Tested,
                &main_args(&tested),
                &ws.join(format!("tlsmain.{model}")),
            );
            assert_same_run(
                &r,
                &run_in(&exe, &tested),
                &format!("{model}: tested program and library"),
            );

            let (g, t) = (gnu.join("libtlsdemo.so"), tested.join("libtlsdemo.so"));
            let d = run_with_timeout(Command::new(&dl_host).arg(&g), RUN_TIMEOUT);
            assert_output(
                &d,
                TLS_DLOPEN_OUTPUT,
                &format!("{model}: dlopen of GNU ld's library"),
            );
            let d = run_with_timeout(Command::new(&dl_host).arg(&t), RUN_TIMEOUT);
            assert_output(
                &d,
                TLS_DLOPEN_OUTPUT,
                &format!("{model}: dlopen of the tested library"),
            );

            assert_sane_library(&g, &t);
            DynSyms::assert_same(&g, &t);
            assert!(
                segment_types(&t).iter().any(|s| s == "TLS"),
                "{model}: no PT_TLS"
            );
            let static_tls =
                |lib: &Path| dynamic_tag(lib, "FLAGS").is_some_and(|v| v.contains("STATIC_TLS"));
            assert_eq!(
                static_tls(&g),
                model == "initial-exec",
                "{model}: GNU ld's DF_STATIC_TLS"
            );
            assert_eq!(
                static_tls(&t),
                model == "initial-exec",
                "{model}: DF_STATIC_TLS"
            );
            for lib in [&g, &t] {
                let r = readelf(&["-rW"], lib);
                for reloc in relocs {
                    assert!(
                        r.contains(reloc),
                        "{model}: no {reloc} in {}:\n{r}",
                        lib.display()
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// C++

const SHAPES_H: &str = r#"
#include <stdexcept>
#include <string>
#include <vector>

class Shape {
public:
    virtual ~Shape();
    virtual long area() const = 0;
    virtual std::string name() const;
    std::string describe() const;
};

Shape *make_shape(const std::string &kind, long size);

struct shape_error : std::runtime_error {
    int code;
    shape_error(const std::string &what, int c) : std::runtime_error(what), code(c) {}
};

std::vector<std::string> split(const std::string &text, char sep);
std::string join(const std::vector<std::string> &parts, const std::string &sep);

/* Instantiated (and kept out of line) in the library and the program. */
template <typename T> __attribute__((noinline)) T sum_all(const std::vector<T> &v) {
    T total{};
    for (const T &x : v) total += x;
    return total;
}
long lib_sum(const std::vector<long> &v);
std::string lib_sum_strings(const std::vector<std::string> &v);

/* One counter for the program and the library: an STB_GNU_UNIQUE object. */
inline int &shared_counter() { static int n; return n; }
int lib_bump_counter();

extern const std::string lib_banner;
int lib_init_count();
"#;

const SHAPES_CPP: &str = r#"
#include "shapes.h"
#include <map>

namespace {
int init_count;
struct Registry {
    std::map<std::string, int> kinds;
    Registry() {
        kinds["square"] = 1;
        kinds["rect"] = 2;
        ++init_count;
    }
} registry;

class Square : public Shape {
    long side;
public:
    explicit Square(long s) : side(s) {}
    long area() const override { return side * side; }
    std::string name() const override { return "square"; }
};

class Rect : public Shape {
    long w, h;
public:
    Rect(long a, long b) : w(a), h(b) {}
    long area() const override { return w * h; }
};
}

const std::string lib_banner = std::string("lib") + "shapes/" + std::to_string(3);

Shape::~Shape() {}
std::string Shape::name() const { return "shape"; }
std::string Shape::describe() const { return name() + ":" + std::to_string(area()); }

Shape *make_shape(const std::string &kind, long size) {
    auto it = registry.kinds.find(kind);
    if (it == registry.kinds.end()) throw shape_error("unknown shape " + kind, 7);
    if (size < 0) throw std::invalid_argument("negative size");
    if (it->second == 1) return new Square(size);
    return new Rect(size, size + 1);
}

std::vector<std::string> split(const std::string &text, char sep) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : text) {
        if (c == sep) {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}

std::string join(const std::vector<std::string> &parts, const std::string &sep) {
    std::string out;
    for (size_t i = 0; i < parts.size(); i++) {
        if (i) out += sep;
        out += parts[i];
    }
    return out;
}

long lib_sum(const std::vector<long> &v) { return sum_all(v); }
std::string lib_sum_strings(const std::vector<std::string> &v) { return sum_all(v); }
int lib_bump_counter() { return ++shared_counter(); }
int lib_init_count() { return init_count; }
"#;

const SHAPES_MAIN_CPP: &str = r#"
#include "shapes.h"
#include <cstdio>
#include <memory>

class Triangle : public Shape {
public:
    long area() const override { return 6; }
};

static std::string main_banner = "main+" + lib_banner;

int main() {
    std::printf("%s %s init=%d\n", lib_banner.c_str(), main_banner.c_str(), lib_init_count());
    std::unique_ptr<Shape> sq(make_shape("square", 4)), re(make_shape("rect", 2));
    Triangle tri;
    std::printf("%s %s %s\n", sq->describe().c_str(), re->describe().c_str(), tri.describe().c_str());
    Shape *base = &tri;
    std::printf("dynamic_cast %d %d\n", dynamic_cast<Triangle *>(base) != nullptr,
                dynamic_cast<Triangle *>(sq.get()) != nullptr);
    try {
        make_shape("circle", 1);
        std::printf("no throw\n");
    } catch (const shape_error &e) {
        std::printf("caught shape_error '%s' code=%d\n", e.what(), e.code);
    }
    try {
        make_shape("square", -1);
    } catch (const std::exception &e) {
        std::printf("caught std::exception '%s'\n", e.what());
    }
    std::vector<std::string> parts = split("a,bb,,ccc", ',');
    std::printf("split %zu [%s]\n", parts.size(), join(parts, "|").c_str());
    std::vector<long> nums{1, 2, 3, 4, 5};
    std::printf("sum %ld %ld %s\n", sum_all(nums), lib_sum(nums), lib_sum_strings(parts).c_str());
    ++shared_counter();
    int from_lib = lib_bump_counter();
    std::printf("counter %d %d\n", from_lib, shared_counter());
    return 0;
}
"#;

const SHAPES_OUTPUT: &str = "libshapes/3 main+libshapes/3 init=1\nsquare:16 shape:6 shape:6\n\
dynamic_cast 1 0\ncaught shape_error 'unknown shape circle' code=7\n\
caught std::exception 'negative size'\nsplit 4 [a|bb||ccc]\nsum 15 15 abbccc\ncounter 2 2\n";

linker_test! {
    /// A C++ library (virtual functions, a class the program derives
    /// from, exceptions thrown in it and caught in the program,
    /// `std::string` and `std::vector` across the boundary, a template
    /// instantiated on both sides, static initializers, an
    /// `STB_GNU_UNIQUE` object): the program runs as with GNU ld's.
    fn cxx_library() {
        let ws = Workspace::new("so-cxx");
        std::fs::write(ws.join("shapes.h"), SHAPES_H).unwrap();
        let lib_obj = ws.compile_text("shapes.cpp", SHAPES_CPP, &["-fPIC", "-O1"]);
        let main_obj = ws.compile_text("shapes_main.cpp", SHAPES_MAIN_CPP, &["-O1"]);
        let lib = |by: By| {
            let dir = ws.join(by.tag());
            link_shared(&ws, "g++", by, &[&lib_obj], &[], &dir.join("libshapes.so"));
            dir
        };
        let (gnu, tested) = (lib(By::Gnu), lib(By::Tested));
        let args = |dir: &Path| {
            vec![
                path_str(&main_obj),
                format!("-L{}", dir.display()),
                "-lshapes".into(),
            ]
        };
        let reference = link(&ws, "g++", By::Gnu, &args(&gnu), &ws.join("main.ref"));
        let r = run_in(&reference, &gnu);
        assert_output(&r, SHAPES_OUTPUT, "GNU ld's program and library");
        assert_same_run(
            &r,
            &run_in(&reference, &tested),
            "GNU ld's program, tested library",
        );
        let exe = link(
            &ws,
            "g++",
            By::Tested,
            &args(&tested),
            &ws.join("main.test"),
        );
        assert_same_run(&r, &run_in(&exe, &tested), "tested program and library");
        let (g, t) = (gnu.join("libshapes.so"), tested.join("libshapes.so"));
        assert_sane_library(&g, &t);
        DynSyms::assert_same(&g, &t);
        let syms = readelf(&["--dyn-syms", "-W"], &t);
        assert!(
            syms.lines()
                .any(|l| l.contains(" UNIQUE ") && l.contains("shared_counter")),
            "no STB_GNU_UNIQUE shared_counter::n:\n{syms}"
        );
        assert!(
            segment_types(&t).iter().any(|s| s == "GNU_EH_FRAME"),
            "no PT_GNU_EH_FRAME"
        );
    }
}

// ---------------------------------------------------------------------------
// dlopen and LD_PRELOAD

/// A plugin: calls back into the program (a function and a variable it
/// exports), has data with pointers to its static functions, a
/// constructor and a destructor.
const PLUGIN_C: &str = r#"
#include <stdio.h>
int host_value(void);
extern int host_counter;
static int square(int x) { return x * x; }
static int negate(int x) { return -x; }
struct plugin_op { const char *name; int (*fn)(int); };
struct plugin_op plugin_ops[] = {{"square", square}, {"negate", negate}};
int plugin_op_count = 2;
static const char *const names[] = {"zero", "one", "two"};
static int calls;
int plugin_entry(int x) {
    calls++;
    host_counter += x;
    printf("plugin %s: %d\n", names[x % 3], host_value() * x);
    return calls;
}
__attribute__((constructor)) static void loaded(void) { printf("plugin loaded, host says %d\n", host_value()); }
__attribute__((destructor)) static void unloaded(void) { printf("plugin unloaded after %d calls\n", calls); }
"#;

const HOST_C: &str = r#"
#include <dlfcn.h>
#include <stdio.h>
int host_counter = 1;
int host_value(void) { return 6; }
struct plugin_op { const char *name; int (*fn)(int); };
int main(int argc, char **argv) {
    if (argc < 2) return 3;
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
    int (*entry)(int) = (int (*)(int))dlsym(h, "plugin_entry");
    struct plugin_op *ops = (struct plugin_op *)dlsym(h, "plugin_ops");
    int *count = (int *)dlsym(h, "plugin_op_count");
    if (!entry || !ops || !count) { printf("dlsym: %s\n", dlerror()); return 2; }
    entry(7);
    int calls = entry(2);
    for (int i = 0; i < *count; i++) printf("%s(5) = %d\n", ops[i].name, ops[i].fn(5));
    printf("calls %d counter %d static hidden %d\n", calls, host_counter, dlsym(h, "square") == 0);
    return dlclose(h);
}
"#;

const HOST_OUTPUT: &str = "plugin loaded, host says 6\nplugin one: 42\nplugin two: 12\n\
square(5) = 25\nnegate(5) = -5\ncalls 2 counter 10 static hidden 1\nplugin unloaded after 2 calls\n";

/// Preloaded: wraps libc's `puts` (the real one found with `RTLD_NEXT`)
/// and replaces `rand`.
const PRELOAD_C: &str = r#"
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
int puts(const char *s) {
    static int (*real)(const char *);
    if (!real) real = (int (*)(const char *))dlsym(RTLD_NEXT, "puts");
    char buf[256];
    snprintf(buf, sizeof buf, "[preloaded] %s", s);
    return real(buf);
}
int rand(void) { return 42; }
"#;

const PRELOAD_MAIN_C: &str = r#"
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    puts("hello");
    printf("rand %d\n", rand());
    return 0;
}
"#;

linker_test! {
    /// A plugin made by the linker under test, `dlopen`ed by a program
    /// that exports its symbols (`-rdynamic`, linked by GNU ld and by the
    /// linker under test), calls back into it; a library made by the
    /// linker under test and `LD_PRELOAD`ed interposes libc functions.
    fn dlopen_plugin_and_preload() {
        let ws = Workspace::new("so-dlopen");
        let plugin_obj = ws.compile_text("plugin.c", PLUGIN_C, &["-fPIC", "-O1"]);
        let host_obj = ws.compile_text("host.c", HOST_C, &["-O1"]);
        let preload_obj = ws.compile_text("preload.c", PRELOAD_C, &["-fPIC", "-O1"]);
        let preload_main = ws.compile_text("preloadmain.c", PRELOAD_MAIN_C, &["-O1"]);
        let libs = |by: By| {
            let dir = ws.join(by.tag());
            link_shared(&ws, "gcc", by, &[&plugin_obj], &[], &dir.join("plugin.so"));
            link_shared(
                &ws,
                "gcc",
                by,
                &[&preload_obj],
                &[],
                &dir.join("libpreload.so"),
            );
            dir
        };
        let (gnu, tested) = (libs(By::Gnu), libs(By::Tested));
        let host_args = vec![path_str(&host_obj), "-rdynamic".to_string()];
        let host_ref = link(&ws, "gcc", By::Gnu, &host_args, &ws.join("host.ref"));
        let host_test = link(&ws, "gcc", By::Tested, &host_args, &ws.join("host.test"));
        let run_host = |host: &Path, dir: &Path| {
            run_with_timeout(Command::new(host).arg(dir.join("plugin.so")), RUN_TIMEOUT)
        };
        let r = run_host(&host_ref, &gnu);
        assert_output(&r, HOST_OUTPUT, "GNU ld's host and plugin");
        assert_same_run(
            &r,
            &run_host(&host_ref, &tested),
            "GNU ld's host, tested plugin",
        );
        assert_same_run(&r, &run_host(&host_test, &tested), "tested host and plugin");
        for lib in ["plugin.so", "libpreload.so"] {
            assert_sane_library(&gnu.join(lib), &tested.join(lib));
            DynSyms::assert_same(&gnu.join(lib), &tested.join(lib));
        }
        let undefined = DynSyms::of(&tested.join("plugin.so")).undefined;
        for sym in ["host_value GLOBAL", "host_counter GLOBAL"] {
            assert!(undefined.contains(sym), "{sym}: {undefined:?}");
        }

        let prog = link(
            &ws,
            "gcc",
            By::Gnu,
            &[path_str(&preload_main)],
            &ws.join("preloadmain"),
        );
        let plain = run_exe(&prog);
        assert_eq!(plain.code(), 0);
        assert!(plain.stdout.starts_with("hello\nrand "), "{}", plain.stdout);
        assert_ne!(plain.stdout, "hello\nrand 42\n");
        for dir in [&gnu, &tested] {
            let lib = dir.join("libpreload.so");
            let o = run_with_timeout(Command::new(&prog).env("LD_PRELOAD", &lib), RUN_TIMEOUT);
            assert_output(
                &o,
                "[preloaded] hello\nrand 42\n",
                &format!("LD_PRELOAD={}", lib.display()),
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Determinism

linker_test! {
    /// The same `-shared` link (C, TLS, IFUNC, versions, 3,000 exported
    /// functions and a table of pointers to them) gives the same bytes
    /// with 1 and 2 threads, and again with 2. (GNU ld has no
    /// `--threads=N`: it just links three times.)
    fn deterministic_output() {
        let ws = Workspace::new("so-determinism");
        let mut big = String::new();
        for i in 0..3000 {
            big.push_str(&format!("int many_{i}(int x) {{ return x + {i}; }}\n"));
        }
        big.push_str("int (*many_table[])(int) = {\n");
        for i in 0..3000 {
            big.push_str(&format!("  many_{i},\n"));
        }
        big.push_str("};\n");
        let objs = [
            ws.compile_text("demo.c", DEMO_C, &["-fPIC", "-O1"]),
            ws.compile_text("tls.c", TLS_C, &["-fPIC", "-O1", "-mtls-dialect=gnu2"]),
            ws.compile_text("big.c", &big, &["-fPIC", "-O0"]),
        ];
        let inputs: Vec<&Path> = objs.iter().map(PathBuf::as_path).collect();
        let outputs: Vec<PathBuf> = [1usize, 2, 2]
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let mut extra: Vec<String> =
                    threads_args(n).iter().map(|a| format!("-Wl,{a}")).collect();
                extra.push("-Wl,-soname,libbig.so".into());
                let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
                link_shared(
                    &ws,
                    "gcc",
                    By::Tested,
                    &inputs,
                    &extra,
                    &ws.join(format!("libbig.{i}.so")),
                )
            })
            .collect();
        assert_identical(&outputs);
        let exported = DynSyms::of(&outputs[0]).names();
        assert!(
            exported.contains("many_2999") && exported.contains("many_table"),
            "{} exports",
            exported.len()
        );
    }
}
