//! `-Map FILE` (`-Map=FILE`, `--Map=FILE`), `-M`/`--print-map` and
//! `--print-gc-sections`: what GNU ld and rivet both write. The link map
//! names every output section with the address `readelf -S` gives it, every
//! input file, and every global symbol with the address `nm` gives it, under
//! the input section that defines it; `--print-gc-sections` names each
//! removed section and its file.

#[macro_use]
mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const MAIN_C: &str = "#include <stdio.h>\n\
    extern int helper(int);\n\
    int counter = 5;\n\
    void unused(void) { puts(\"never\"); }\n\
    int main(void) { printf(\"%d\\n\", helper(counter)); return 0; }\n";
const HELPER_C: &str = "int pad(int x) { return x - 1; }\n\
    int helper(int x) { return x * 2 + pad(x); }\n";

/// What a map lists, read the way a simple script reads GNU ld's maps.
#[derive(Debug, Default)]
struct Map {
    /// Output sections: name, address, size.
    outputs: Vec<(String, u64, u64)>,
    /// Input sections: output section, name, address, size, file.
    inputs: Vec<(String, String, u64, u64, String)>,
    /// Symbols: address, name, and the file of the input section above.
    symbols: Vec<(u64, String, String)>,
}

fn hex(t: &str) -> Option<u64> {
    u64::from_str_radix(t.strip_prefix("0x")?, 16).ok()
}

/// Reads the memory map part ("Linker script and memory map" on).
fn parse_map(text: &str) -> Map {
    let body = text
        .split_once("Linker script and memory map")
        .unwrap_or_else(|| panic!("no memory map in:\n{text}"))
        .1;
    // A name too long for its column is on a line of its own, its
    // address and size on the next.
    let raw: Vec<&str> = body.lines().collect();
    let mut lines = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let l = raw[i];
        let next_is_rest = raw
            .get(i + 1)
            .is_some_and(|n| n.starts_with("                0x"));
        if l.split_whitespace().count() == 1 && !l.trim().starts_with("0x") && next_is_rest {
            lines.push(format!("{l} {}", raw[i + 1]));
            i += 2;
        } else {
            lines.push(l.to_string());
            i += 1;
        }
    }
    let mut map = Map::default();
    let mut out = String::new();
    let mut file = String::new();
    for l in &lines {
        let t: Vec<&str> = l.split_whitespace().collect();
        if !l.starts_with(' ') && t.len() == 3 {
            if let (Some(a), Some(sz)) = (hex(t[1]), hex(t[2])) {
                out = t[0].to_string();
                map.outputs.push((out.clone(), a, sz));
            }
        } else if l.starts_with(' ') && !t[0].starts_with("0x") && t.len() == 4 {
            if let (Some(a), Some(sz)) = (hex(t[1]), hex(t[2])) {
                file = t[3].to_string();
                map.inputs
                    .push((out.clone(), t[0].to_string(), a, sz, file.clone()));
            }
        } else if t.len() == 2 && !t[1].starts_with("0x") {
            if let Some(a) = hex(t[0]) {
                map.symbols.push((a, t[1].to_string(), file.clone()));
            }
        }
    }
    map
}

/// A section's address from `readelf -SW`.
fn section_address(file: &Path, name: &str) -> u64 {
    let text = readelf(&["-SW"], file);
    text.lines()
        .find_map(|l| {
            let rest = l.trim_start().strip_prefix('[')?.split_once(']')?.1;
            let t: Vec<&str> = rest.split_whitespace().collect();
            (t.first() == Some(&name)).then(|| u64::from_str_radix(t[2], 16).ok())?
        })
        .unwrap_or_else(|| panic!("{}: no section {name}\n{text}", file.display()))
}

fn read_text(p: &Path) -> String {
    String::from_utf8(read(p)).expect("the map is text")
}

/// Checks what both linkers' maps say about `linked`, made from `objs`:
/// `.text` at its address, `symbols` at theirs under the right file, and
/// every object named as the file of an input section.
fn check_map(map: &Map, linked: &Path, objs: &[(&PathBuf, &[&str])]) {
    let text_addr = section_address(linked, ".text");
    assert!(
        map.outputs
            .iter()
            .any(|(n, a, _)| n == ".text" && *a == text_addr),
        "the map does not list .text at {text_addr:#x}: {:?}",
        map.outputs
    );
    for (obj, syms) in objs {
        let obj = path_str(obj);
        assert!(
            map.inputs.iter().any(|i| i.4 == obj),
            "the map names no input section of {obj}"
        );
        for sym in *syms {
            let want = symbol_address(linked, sym).unwrap_or_else(|| panic!("nm: no {sym}"));
            assert!(
                map.symbols
                    .iter()
                    .any(|(a, n, f)| n == sym && *a == want && *f == obj),
                "the map does not list {sym} at {want:#x} under {obj}: {:?}",
                map.symbols
                    .iter()
                    .filter(|x| x.1 == *sym)
                    .collect::<Vec<_>>()
            );
        }
    }
}

linker_test! {
    fn static_link_map_lists_sections_files_and_symbols() {
        let ws = Workspace::new("map_static");
        let main = ws.compile_text("main.c", MAIN_C, &["-O1"]);
        let helper = ws.compile_text("helper.c", HELPER_C, &["-O1"]);
        let map_path = ws.join("prog.map");
        let flag = format!("-Wl,-Map={}", path_str(&map_path));
        let exe = ws.link_tested(Lang::C, &[main.clone(), helper.clone()], &[&flag], "prog");
        assert_eq!(run_exe(&exe).stdout, "14\n");
        let text = read_text(&map_path);
        let map = parse_map(&text);
        check_map(&map, &exe, &[(&main, &["main", "counter"]), (&helper, &["helper", "pad"])]);
        // Archive members as `archive.a(member.o)`, and why printf's was loaded.
        assert!(
            map.inputs.iter().any(|i| i.4.ends_with("libc.a(printf.o)")),
            "no input section from libc.a(printf.o)"
        );
        let loaded = text
            .split_once("Archive member included to satisfy reference by file (symbol)")
            .expect("no archive member list")
            .1;
        let after = loaded.split_once("libc.a(printf.o)").expect("printf.o not listed").1;
        let reason = after.split_whitespace().take(2).collect::<Vec<_>>();
        assert_eq!(reason, [path_str(&main).as_str(), "(printf)"], "why printf.o was loaded");
    }
}

linker_test! {
    fn relocatable_link_map() {
        let ws = Workspace::new("map_relocatable");
        let main = ws.compile_text("main.c", MAIN_C, &["-O1"]);
        let helper = ws.compile_text("helper.c", HELPER_C, &["-O1"]);
        let out = ws.join("merged.o");
        // The spellings GNU ld accepts: -Map FILE, -Map=FILE, --Map=FILE.
        for (i, spelling) in [["-Map", "r1.map"], ["-Map=r2.map", ""], ["--Map=r3.map", ""]]
            .iter()
            .enumerate()
        {
            let mut args: Vec<String> = vec!["-r".into()];
            args.extend(spelling.iter().filter(|a| !a.is_empty()).map(|a| a.to_string()));
            args.extend([path_str(&main), path_str(&helper), "-o".into(), path_str(&out)]);
            link_direct(ws.path(), &args);
            let map_path = ws.join(format!("r{}.map", i + 1));
            assert!(map_path.exists(), "{spelling:?} wrote no map");
            let map = parse_map(&read_text(&map_path));
            // helper() follows pad() in helper.o's .text: a nonzero offset.
            check_map(&map, &out, &[(&main, &["main", "counter"]), (&helper, &["helper", "pad"])]);
            assert!(symbol_address(&out, "helper").is_some_and(|a| a > 0));
        }
    }
}

linker_test! {
    fn print_map_goes_to_stdout() {
        let ws = Workspace::new("map_stdout");
        let main = ws.compile_text("main.c", MAIN_C, &["-O1"]);
        let out = ws.join("m.o");
        for flag in ["-M", "--print-map"] {
            let o = link_direct(ws.path(), [flag, "-r", &path_str(&main), "-o", &path_str(&out)]);
            let map = parse_map(&o.stdout);
            check_map(&map, &out, &[(&main, &["main"])]);
        }
    }
}

linker_test! {
    fn map_in_a_directory_is_named_after_the_output() {
        let ws = Workspace::new("map_dir");
        let main = ws.compile_text("main.c", MAIN_C, &["-O1"]);
        std::fs::create_dir(ws.join("maps")).unwrap();
        link_direct(ws.path(), ["-r", "-Map=maps/", &path_str(&main), "-o", "out.o"]);
        let map = parse_map(&read_text(&ws.join("maps/out.o.map")));
        check_map(&map, &ws.join("out.o"), &[(&main, &["main"])]);
    }
}

linker_test! {
    fn unwritable_map_fails_the_link() {
        let ws = Workspace::new("map_unwritable");
        let main = ws.compile_text("main.c", MAIN_C, &["-O1"]);
        let o = run_linker(
            ws.path(),
            ["-r", "-Map=no/such/dir/x.map", &path_str(&main), "-o", "out.o"],
        );
        assert_eq!(o.code(), 1, "stderr: {}", o.stderr);
        assert!(o.stderr.contains("no/such/dir/x.map"), "stderr: {}", o.stderr);
        assert!(!ws.join("out.o").exists(), "a failed link left its output");
    }
}

linker_test! {
    fn print_gc_sections_names_removed_sections() {
        let ws = Workspace::new("map_print_gc");
        let main = ws.compile_text("main.c", MAIN_C, &["-O1", "-ffunction-sections"]);
        let helper = ws.compile_text("helper.c", HELPER_C, &["-O1", "-ffunction-sections"]);
        let link = |extra: &[&str]| {
            let mut cmd = Command::new("gcc");
            cmd.current_dir(ws.path())
                .arg("-static")
                .arg("-B")
                .arg(ws.ld_dir())
                .args(extra)
                .arg(&main)
                .arg(&helper)
                .arg("-o")
                .arg(ws.join("gc"));
            run_tool(&mut cmd)
        };
        let o = link(&["-Wl,--gc-sections,--print-gc-sections"]);
        let line = format!("removing unused section '.text.unused' in file '{}'", path_str(&main));
        assert!(o.stderr.contains(&line), "no `{line}` in:\n{}", o.stderr);
        assert!(!o.stderr.contains("'.text.main'"), "a live section named:\n{}", o.stderr);
        assert!(!o.stderr.contains("'.text.helper'"), "a live section named:\n{}", o.stderr);
        assert_eq!(run_exe(&ws.join("gc")).stdout, "14\n");
        let o = link(&["-Wl,--gc-sections,--print-gc-sections,--no-print-gc-sections"]);
        assert!(!o.stderr.contains("removing unused section"), "{}", o.stderr);
    }
}
