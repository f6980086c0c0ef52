//! `SHF_MERGE` sections in executables: equal strings and constants from
//! different objects are written once, as GNU ld writes them, so that
//! programs that compare literal addresses across files, and debuggers
//! reading `.debug_str`, see what they see with GNU ld's output.

#[macro_use]
mod common;

use common::*;
use std::path::{Path, PathBuf};

const A_C: &str = r#"
#include <stdint.h>
const char *a_word(void) { return "a literal both files hold"; }
const char *a_long(void) { return "a string long enough for gcc to put it in .rodata.str1.8, aligned"; }
double a_const(double x) { return x * 2.718281828459045 + 1.4142135623730951; }
"#;

const B_C: &str = r#"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
const char *a_word(void);
const char *a_long(void);
double a_const(double);
static const char *b_word(void) { return "a literal both files hold"; }
static const char *b_long(void) { return "a string long enough for gcc to put it in .rodata.str1.8, aligned"; }
static double b_const(double x) { return x * 2.718281828459045 + 1.4142135623730951; }
int main(void) {
    printf("same word: %d\n", a_word() == b_word());
    printf("same long: %d\n", a_long() == b_long());
    printf("aligned: %d\n", (int)((uintptr_t)a_long() % 8));
    printf("%s / %s / %s\n", a_word(), b_word() + 2, a_long() + 50);
    printf("%.12f %.12f\n", a_const(1.5), b_const(-3.25));
    printf("suffix: %s\n", strstr(b_word(), "both"));
    return 0;
}
"#;

fn build(ws: &Workspace, flags: &[&str]) -> Vec<PathBuf> {
    let mut objs = Vec::new();
    for (name, text) in [("a.c", A_C), ("b.c", B_C)] {
        let src = ws.join(name);
        std::fs::write(&src, text).unwrap();
        objs.push(ws.compile(&src, flags, ""));
    }
    objs
}

/// `DW_AT_name` strings of every DIE, in order, from `readelf`.
fn die_names(exe: &Path) -> Vec<String> {
    readelf(&["--debug-dump=info"], exe)
        .lines()
        .filter(|l| l.contains("DW_AT_name") || l.contains("DW_AT_comp_dir"))
        .map(|l| l.rsplit("): ").next().unwrap_or(l).trim().to_string())
        .collect()
}

/// The strings `readelf -p` lists in a string section.
fn section_strings(file: &Path, name: &str) -> Vec<String> {
    readelf(&["-p", name], file)
        .lines()
        .filter_map(|l| {
            Some(
                l.trim_start()
                    .strip_prefix('[')?
                    .split_once(']')?
                    .1
                    .trim()
                    .to_string(),
            )
        })
        .collect()
}

/// The flags column of `readelf -SW` for section `name`.
fn section_flags(file: &Path, name: &str) -> String {
    readelf(&["-SW"], file)
        .lines()
        .find_map(|l| {
            let l = l.split_once(']')?.1;
            let f: Vec<&str> = l.split_whitespace().collect();
            // Name Type Address Off Size ES [Flags] Lk Inf Al
            (f.first() == Some(&name)).then(|| {
                if f.len() == 10 {
                    f[6].to_string()
                } else {
                    String::new()
                }
            })
        })
        .unwrap_or_default()
}

fn section_size(file: &Path, name: &str) -> u64 {
    readelf(&["-SW"], file)
        .lines()
        .find_map(|l| {
            let l = l.split_once(']')?.1;
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.first() == Some(&name)).then(|| u64::from_str_radix(f[4], 16).unwrap())
        })
        .unwrap_or(0)
}

linker_test! {
    /// Equal literals in two files have one address, as with GNU ld; long
    /// strings keep their section's alignment; merged constants keep their
    /// values; suffix pointers into a merged string still work.
    fn equal_literals_share_an_address() {
        let ws = Workspace::new("equal_literals_share_an_address");
        let objs = build(&ws, &["-O2"]);
        let reference = ws.link_reference(Lang::C, &objs, &[], "ref");
        let tested = ws.link_tested(Lang::C, &objs, &[], "test");
        let r = run_exe(&reference);
        assert!(r.stdout.contains("same word: 1\nsame long: 1\naligned: 0\n"), "{}", r.stdout);
        assert_same_run(&r, &run_exe(&tested), "merged literals");
        // `.comment` holds each compiler's string once.
        let comment = section_size(&tested, ".comment");
        assert!(comment < 200, ".comment is {comment} bytes");
    }
}

linker_test! {
    /// Debug strings are merged: no string is written twice in `.debug_str`
    /// or `.debug_line_str`, `.debug_str` is smaller than the inputs'
    /// together (GNU ld also shares the tails of strings, so its can be
    /// smaller still), and every DIE's name and directory reads back as in
    /// GNU ld's output. With `--emit-relocs` too.
    fn debug_strings_are_merged() {
        let ws = Workspace::new("debug_strings_are_merged");
        let objs = build(&ws, &["-O1", "-g"]);
        let inputs: u64 = objs.iter().map(|o| section_size(o, ".debug_str")).sum();
        for flags in [&[][..], &["-Wl,--emit-relocs"]] {
            let reference = ws.link_reference(Lang::C, &objs, flags, "ref");
            let tested = ws.link_tested(Lang::C, &objs, flags, "test");
            assert_same_run(&run_exe(&reference), &run_exe(&tested), "with debug info");
            for sec in [".debug_str", ".debug_line_str"] {
                let strings = section_strings(&tested, sec);
                let mut distinct = strings.clone();
                distinct.sort();
                distinct.dedup();
                assert_eq!(strings.len(), distinct.len(), "{flags:?}: {sec} repeats a string: {strings:?}");
            }
            for sec in [".debug_str", ".debug_line_str", ".rodata"] {
                assert_eq!(section_flags(&tested, sec), section_flags(&reference, sec), "{flags:?}: {sec} flags");
            }
            assert_eq!(section_flags(&tested, ".debug_str"), "MS");
            let merged = section_size(&tested, ".debug_str");
            assert!(merged > 0 && merged < inputs, "{flags:?}: .debug_str {merged} of {inputs}");
            let names = die_names(&tested);
            assert!(names.iter().any(|n| n == "main"), "{names:?}");
            assert_eq!(names, die_names(&reference), "{flags:?}");
        }
    }
}
