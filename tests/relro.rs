//! `-z relro` (the default) in static executables: a `PT_GNU_RELRO` covers
//! the same sections as GNU ld's and ends on a page boundary; `-z norelro`
//! gives none; static glibc really makes the range read-only, so a write to
//! `.data.rel.ro` after startup is killed by SIGSEGV with either linker.

#[macro_use]
mod common;

use common::*;
use std::path::Path;

const PAGE: u64 = 0x1000;

/// The `PT_GNU_RELRO` of `file` as (vaddr, memsz) and the sections
/// readelf maps into it, or None when there is no such segment.
fn relro(file: &Path) -> Option<((u64, u64), Vec<String>)> {
    let text = readelf(&["-lW"], file);
    let headers: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("Type"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| !l.trim_start().starts_with('['))
        .collect();
    let index = headers
        .iter()
        .position(|l| l.split_whitespace().next() == Some("GNU_RELRO"))?;
    let words: Vec<&str> = headers[index].split_whitespace().collect();
    let hex = |w: &str| u64::from_str_radix(w.trim_start_matches("0x"), 16).unwrap();
    let (vaddr, memsz) = (hex(words[2]), hex(words[5]));
    // Section to Segment mapping:
    //   09     .tdata .init_array .fini_array .data.rel.ro .got
    let mapping = text
        .lines()
        .skip_while(|l| !l.contains("Section to Segment mapping"))
        .find(|l| {
            l.split_whitespace()
                .next()
                .and_then(|w| w.parse::<usize>().ok())
                == Some(index)
        })
        .unwrap_or_else(|| {
            panic!(
                "no segment mapping line for GNU_RELRO in {}",
                file.display()
            )
        });
    let sections = mapping
        .split_whitespace()
        .skip(1)
        .map(str::to_owned)
        .collect();
    Some(((vaddr, memsz), sections))
}

/// Builds `name` with both linkers, checks both runs agree, and compares
/// their RELRO ranges.
fn same_relro_as_gnu_ld(name: &str, flags: &[&str]) {
    let p = program(name);
    let ws = Workspace::new(&format!("relro_{name}"));
    let objs = ws.compile_program(p, flags);
    let (reference, tested) = ws.build_and_compare(p, &objs, &[]);
    let ((r_start, r_size), r_secs) = relro(&reference).expect("GNU ld's build has a PT_GNU_RELRO");
    let ((t_start, t_size), t_secs) = relro(&tested).expect("the tested build has no PT_GNU_RELRO");
    assert_eq!(
        t_secs, r_secs,
        "{name}: sections in PT_GNU_RELRO differ from GNU ld's (left: linker under test)"
    );
    assert_eq!((r_start + r_size) % PAGE, 0, "GNU ld's RELRO end moved");
    assert_eq!(
        (t_start + t_size) % PAGE,
        0,
        "{name}: PT_GNU_RELRO {t_start:#x}+{t_size:#x} does not end on a page boundary"
    );
    // The range is the start of the RW segment.
    let load = readelf(&["-lW"], &tested)
        .lines()
        .filter(|l| l.trim_start().starts_with("LOAD") && l.contains(" RW "))
        .map(|l| l.split_whitespace().nth(2).unwrap().to_owned())
        .next()
        .expect("an RW PT_LOAD");
    assert_eq!(
        u64::from_str_radix(load.trim_start_matches("0x"), 16).unwrap(),
        t_start,
        "{name}: PT_GNU_RELRO does not start the RW segment"
    );
}

linker_test! {
    fn relro_range_of_a_c_program_matches_gnu_ld() {
        same_relro_as_gnu_ld("libc_basics", &[]);
    }
}

linker_test! {
    fn relro_range_with_tls_matches_gnu_ld() {
        same_relro_as_gnu_ld("tls", &[]);
    }
}

linker_test! {
    fn relro_range_of_a_cxx_program_matches_gnu_ld() {
        same_relro_as_gnu_ld("exceptions", &[]);
    }
}

linker_test! {
    fn relro_range_of_init_arrays_matches_gnu_ld() {
        same_relro_as_gnu_ld("cxx_ctors", &[]);
    }
}

linker_test! {
    fn norelro_gives_no_gnu_relro() {
        let p = program("libc_basics");
        let ws = Workspace::new("relro_norelro");
        let objs = ws.compile_program(p, &[]);
        let (reference, tested) = ws.build_and_compare(p, &objs, &["-Wl,-z,norelro"]);
        assert!(!segment_types(&reference).contains(&"GNU_RELRO".to_owned()));
        assert!(
            !segment_types(&tested).contains(&"GNU_RELRO".to_owned()),
            "-z norelro still gave a PT_GNU_RELRO"
        );
        // And the last -z wins, as in GNU ld.
        let again = ws.link_tested(p.lang, &objs, &["-Wl,-z,norelro", "-Wl,-z,relro"], "again");
        assert!(segment_types(&again).contains(&"GNU_RELRO".to_owned()));
    }
}

linker_test! {
    fn write_to_data_rel_ro_after_startup_is_killed() {
        let ws = Workspace::new("relro_write");
        let src = programs::source_path("relro_write.c");
        // Position-independent code puts the constant pointer table in
        // .data.rel.ro (Debian's default, spelled out).
        let obj = ws.compile(&src, &["-O2", "-fPIE"], "");
        let objs = [obj];
        let sigsegv = 128 + 11;
        for (flags, expected) in [(&[][..], sigsegv), (&["-Wl,-z,norelro"][..], 0)] {
            let tag = if expected == 0 { "norelro" } else { "relro" };
            let reference = ws.link_reference(Lang::C, &objs, flags, &format!("{tag}.ref"));
            let tested = ws.link_tested(Lang::C, &objs, flags, &format!("{tag}.test"));
            let r = run_exe(&reference);
            assert_eq!(r.code(), expected, "GNU ld's {tag} build: {r:?}");
            assert_eq!(r.stdout.lines().next(), Some("alpha beta gamma"));
            let t = run_exe(&tested);
            assert_same_run(&r, &t, &format!("relro_write ({tag})"));
        }
    }
}

linker_test! {
    fn relro_layout_is_the_same_for_any_thread_count() {
        let p = program("exceptions");
        let ws = Workspace::new("relro_threads");
        let objs = ws.compile_program(p, &[]);
        let outs: Vec<_> = [1, 2]
            .iter()
            .map(|&n| {
                let flags: Vec<String> = threads_args(n)
                    .into_iter()
                    .map(|a| format!("-Wl,{a}"))
                    .collect();
                let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
                ws.link_tested(p.lang, &objs, &flags, &format!("t{n}"))
            })
            .collect();
        assert_eq!(read(&outs[0]), read(&outs[1]), "--threads=1 and 2 differ");
        assert!(segment_types(&outs[0]).contains(&"GNU_RELRO".to_owned()));
    }
}
