//! Bad input: truncated, corrupted and hostile files, and links that must
//! fail (undefined and duplicate symbols, unknown options, missing files,
//! relocation overflow). Each must end with exit status 1, a message naming
//! the file (and the symbol or section), no panic, and no output file or
//! temporary left behind — for `-r` and for a static executable alike.
//!
//! Corrupt objects are copies of objects gcc built, edited at offsets
//! computed from their own headers, so the cases stay meaningful whatever
//! the compiler's section order.

#[macro_use]
mod common;

use common::*;
use std::path::Path;
use std::process::Command;

/// The two objects every case starts from: `main` in a.o calls `foo` in b.o.
const A_C: &str = r#"
extern int foo(int);
extern int counter;
static const char msg[] = "hello";
int table[4] = {1, 2, 3, 4};
int main(void) { counter += msg[1]; return foo(table[2]) + counter; }
"#;

const B_C: &str = r#"
int counter = 3;
static int helper(int x) { return x * 2; }
int foo(int x) { return helper(x) + 1; }
"#;

/// More kinds of section and relocation for the randomized test: a COMDAT
/// group, TLS (relaxed to local exec), GOT loads, a common symbol,
/// `.init_array`, mergeable strings, debug info and `.eh_frame`.
const C_S: &str = r#"
    .section .text.shared,"axG",@progbits,shared_fn,comdat
    .globl shared_fn
    .type shared_fn,@function
shared_fn:
    .cfi_startproc
    movl %fs:tls_var@tpoff, %eax
    ret
    .cfi_endproc
    .section .tbss,"awT",@nobits
    .globl tls_var
    .align 4
tls_var:
    .zero 4
    .text
    .globl bar
    .type bar,@function
bar:
    .cfi_startproc
    call shared_fn
    leaq table(%rip), %rax
    movq counter@GOTPCREL(%rip), %rax
    movq tls_var@gottpoff(%rip), %rax
    movl %fs:(%rax), %eax
    leaq greeting(%rip), %rax
    movl $common_buf, %eax
    ret
    .cfi_endproc
    .comm common_buf, 64, 16
    .section .rodata.str1.1,"aMS",@progbits,1
greeting:
    .string "abc"
    .section .init_array,"aw"
    .align 8
    .quad bar
    .section .debug_info,"",@progbits
    .quad bar
    .long table
    .quad tls_var@dtpoff
    .section .note.GNU-stack,"",@progbits
"#;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// `-r -o out.o`
    Relocatable,
    /// `-static -e main -o out`, no C runtime.
    Static,
}

const MODES: [Mode; 2] = [Mode::Relocatable, Mode::Static];

impl Mode {
    fn output(self) -> &'static str {
        match self {
            Mode::Relocatable => "out.o",
            Mode::Static => "out",
        }
    }

    fn args(self) -> Vec<String> {
        let mut v: Vec<String> = match self {
            Mode::Relocatable => vec!["-r".into()],
            Mode::Static => vec!["-static".into(), "-e".into(), "main".into()],
        };
        v.extend(["-o".into(), self.output().into()]);
        v
    }
}

/// A workspace holding a.o and b.o.
fn setup(name: &str) -> Workspace {
    let ws = Workspace::new(name);
    for (file, text) in [("a.c", A_C), ("b.c", B_C)] {
        std::fs::write(ws.join(file), text).unwrap();
        ws.compile(&ws.join(file), &["-O1"], "");
    }
    ws
}

/// Temporary outputs rivet left in `dir` (`.NAME.rivet-PID.tmp`).
fn leftover_temps(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n.contains(".rivet-") && n.ends_with(".tmp"))
        .collect()
}

/// Runs the linker in `mode` on `inputs`, then `extra` arguments.
fn link(ws: &Workspace, mode: Mode, inputs: &[&str], extra: &[&str]) -> Outcome {
    let out = ws.join(mode.output());
    if out.exists() {
        std::fs::remove_file(&out).unwrap();
    }
    let mut args = mode.args();
    args.extend(inputs.iter().map(|s| s.to_string()));
    args.extend(extra.iter().map(|s| s.to_string()));
    run_linker(ws.path(), &args)
}

/// Asserts the properties every failed link must have, and that stderr
/// contains each of `needles`.
///
/// GNU ld (`RIVET_LINKER=ld.bfd`, checking the harness) accepts some of
/// these files, warns about others and words its messages its own way, and
/// may leave its output behind: against it, only the absence of a crash is
/// required.
fn assert_failed(ws: &Workspace, mode: Mode, what: &str, o: &Outcome, needles: &[&str]) {
    let ctx = || {
        format!(
            "{what} ({mode:?}): exit {}, stderr:\n{}",
            o.code(),
            o.stderr
        )
    };
    if linker_is_gnu_ld() {
        assert!(o.code() == 0 || o.code() == 1, "{}", ctx());
        return;
    }
    assert_eq!(o.code(), 1, "{}", ctx());
    assert!(!o.stderr.contains("panicked"), "{}", ctx());
    assert!(!o.stderr.trim().is_empty(), "{}: no message", ctx());
    for n in needles {
        assert!(
            o.stderr.contains(n),
            "{}: message does not mention '{n}'",
            ctx()
        );
    }
    let out = ws.join(mode.output());
    assert!(
        !out.exists(),
        "{}: {} was left behind",
        ctx(),
        out.display()
    );
    let temps = leftover_temps(ws.path());
    assert!(
        temps.is_empty(),
        "{}: temporary files left: {temps:?}",
        ctx()
    );
}

/// Links `inputs` in both modes and expects both to fail as [`assert_failed`] says.
fn expect_failure(ws: &Workspace, what: &str, inputs: &[&str], needles: &[&str]) {
    for mode in MODES {
        let o = link(ws, mode, inputs, &[]);
        assert_failed(ws, mode, what, &o, needles);
    }
}

// ---------------------------------------------------------------------------
// Reading and editing ELF64 little-endian objects.

const SHDR: usize = 64;
const SYM: usize = 24;
const RELA: usize = 24;

struct Elf {
    bytes: Vec<u8>,
}

impl Elf {
    fn read(path: &Path) -> Elf {
        Elf { bytes: read(path) }
    }

    fn u16(&self, at: usize) -> u16 {
        u16::from_le_bytes(self.bytes[at..at + 2].try_into().unwrap())
    }
    fn u32(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.bytes[at..at + 4].try_into().unwrap())
    }
    fn u64(&self, at: usize) -> u64 {
        u64::from_le_bytes(self.bytes[at..at + 8].try_into().unwrap())
    }
    fn set_u16(&mut self, at: usize, v: u16) {
        self.bytes[at..at + 2].copy_from_slice(&v.to_le_bytes());
    }
    fn set_u32(&mut self, at: usize, v: u32) {
        self.bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
    fn set_u64(&mut self, at: usize, v: u64) {
        self.bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }

    fn shoff(&self) -> usize {
        self.u64(0x28) as usize
    }
    fn shnum(&self) -> usize {
        usize::from(self.u16(0x3c))
    }
    /// File offset of section header `i`.
    fn shdr(&self, i: usize) -> usize {
        assert!(i < self.shnum());
        self.shoff() + i * SHDR
    }
    fn sh_offset(&self, i: usize) -> usize {
        self.u64(self.shdr(i) + 24) as usize
    }
    fn sh_size(&self, i: usize) -> usize {
        self.u64(self.shdr(i) + 32) as usize
    }
    fn sh_type(&self, i: usize) -> u32 {
        self.u32(self.shdr(i) + 4)
    }
    fn sh_link(&self, i: usize) -> usize {
        self.u32(self.shdr(i) + 40) as usize
    }
    fn sh_info(&self, i: usize) -> usize {
        self.u32(self.shdr(i) + 44) as usize
    }

    fn section_name(&self, i: usize) -> String {
        let strtab = self.sh_offset(usize::from(self.u16(0x3e)));
        cstr(&self.bytes, strtab + self.u32(self.shdr(i)) as usize)
    }

    /// Index of the section called `name`.
    fn section(&self, name: &str) -> usize {
        (0..self.shnum())
            .find(|&i| self.section_name(i) == name)
            .unwrap_or_else(|| panic!("no section {name}"))
    }

    fn first_section_of_type(&self, ty: u32) -> usize {
        (0..self.shnum())
            .find(|&i| self.sh_type(i) == ty)
            .unwrap_or_else(|| panic!("no section of type {ty}"))
    }

    /// File offset of the symbol table entry of symbol `name`.
    fn symbol(&self, name: &str) -> usize {
        let symtab = self.first_section_of_type(2);
        let strtab = self.sh_offset(self.sh_link(symtab));
        let base = self.sh_offset(symtab);
        (0..self.sh_size(symtab) / SYM)
            .map(|k| base + k * SYM)
            .find(|&at| cstr(&self.bytes, strtab + self.u32(at) as usize) == name)
            .unwrap_or_else(|| panic!("no symbol {name}"))
    }

    /// File offset of the first relocation applying to section `target`.
    fn first_rela(&self, target: &str) -> usize {
        let t = self.section(target);
        let rela = (0..self.shnum())
            .find(|&i| self.sh_type(i) == 4 && self.sh_info(i) == t)
            .unwrap_or_else(|| panic!("no relocations for {target}"));
        assert!(self.sh_size(rela) >= RELA);
        self.sh_offset(rela)
    }

    fn write(&self, ws: &Workspace, name: &str) {
        std::fs::write(ws.join(name), &self.bytes).unwrap();
    }
}

fn cstr(bytes: &[u8], at: usize) -> String {
    let end = bytes[at..].iter().position(|&b| b == 0).unwrap() + at;
    String::from_utf8_lossy(&bytes[at..end]).into_owned()
}

/// Writes `bad.o`: a copy of a.o changed by `edit`, then expects linking it
/// with b.o to fail in both modes, naming bad.o and each of `needles`.
fn corrupt_a(name: &str, needles: &[&str], edit: impl FnOnce(&mut Elf)) {
    let ws = setup(name);
    let mut elf = Elf::read(&ws.join("a.o"));
    edit(&mut elf);
    elf.write(&ws, "bad.o");
    let mut all = vec!["bad.o"];
    all.extend_from_slice(needles);
    expect_failure(&ws, name, &["bad.o", "b.o"], &all);
}

// ---------------------------------------------------------------------------
// Files that are not x86-64 ELF64 objects at all.

linker_test! {
    fn empty_file() {
        let ws = setup("empty_file");
        std::fs::write(ws.join("empty.o"), b"").unwrap();
        expect_failure(&ws, "empty file", &["empty.o", "b.o"], &["empty.o"]);
    }
}

linker_test! {
    fn text_file_that_is_not_a_script() {
        let ws = setup("text_file");
        std::fs::write(ws.join("notes.o"), b"these are my notes; not an object\n").unwrap();
        expect_failure(&ws, "text file", &["a.o", "notes.o", "b.o"], &["notes.o"]);
    }
}

linker_test! {
    fn wrong_machine() {
        corrupt_a("wrong_machine", &[], |e| e.set_u16(0x12, 183)); // EM_AARCH64
    }
}

linker_test! {
    fn elf_class_32() {
        corrupt_a("elf_class_32", &[], |e| e.bytes[4] = 1); // ELFCLASS32
    }
}

linker_test! {
    fn big_endian() {
        corrupt_a("big_endian", &[], |e| e.bytes[5] = 2); // ELFDATA2MSB
    }
}

linker_test! {
    fn not_relocatable() {
        corrupt_a("not_relocatable", &[], |e| e.set_u16(0x10, 4)); // ET_CORE
    }
}

linker_test! {
    fn truncated() {
        let ws = setup("truncated");
        let elf = Elf::read(&ws.join("a.o"));
        let len = elf.bytes.len();
        let text = elf.section(".text");
        let symtab = elf.first_section_of_type(2);
        let mut cuts = vec![
            3,                                         // inside the magic
            20,                                        // mid ELF header
            63,                                        // one byte short of the header
            64,                                        // header only
            elf.sh_offset(text) + elf.sh_size(text) / 2, // mid .text
            elf.sh_offset(symtab) + SYM + 5,           // mid symbol table
            elf.shoff() + SHDR / 2,                    // mid first section header
            elf.shoff() + 3 * SHDR + 10,               // mid section table
            len - 1,                                   // last byte missing
        ];
        cuts.sort_unstable();
        cuts.dedup();
        for cut in cuts {
            assert!(cut < len);
            std::fs::write(ws.join("cut.o"), &elf.bytes[..cut]).unwrap();
            expect_failure(&ws, &format!("truncated at {cut} of {len}"), &["cut.o", "b.o"], &["cut.o"]);
        }
    }
}

// ---------------------------------------------------------------------------
// Indices, offsets and sizes out of range.

linker_test! {
    fn symbol_section_index_out_of_range() {
        corrupt_a("symbol_shndx", &["table"], |e| {
            let at = e.symbol("table");
            e.set_u16(at + 6, 9999);
        });
    }
}

linker_test! {
    fn symbol_name_out_of_range() {
        corrupt_a("symbol_name", &[], |e| {
            let at = e.symbol("table");
            e.set_u32(at, 0x7fff_0000);
        });
    }
}

linker_test! {
    fn relocation_symbol_out_of_range() {
        corrupt_a("reloc_sym", &[".text"], |e| {
            let at = e.first_rela(".text");
            let info = e.u64(at + 8);
            e.set_u64(at + 8, (99999 << 32) | (info & 0xffff_ffff));
        });
    }
}

linker_test! {
    fn relocation_offset_past_section_end() {
        corrupt_a("reloc_offset", &[".text"], |e| {
            let size = e.sh_size(e.section(".text")) as u64;
            let at = e.first_rela(".text");
            e.set_u64(at, size + 0x100);
        });
    }
}

linker_test! {
    fn relocation_field_crosses_section_end() {
        // R_X86_64_PC32 needs 4 bytes; 2 are left at this offset.
        corrupt_a("reloc_field", &[".text"], |e| {
            let size = e.sh_size(e.section(".text")) as u64;
            let at = e.first_rela(".text");
            assert_eq!(e.u64(at + 8) & 0xffff_ffff, 2, "first .text relocation is not PC32");
            e.set_u64(at, size - 2);
        });
    }
}

linker_test! {
    fn relocation_target_section_out_of_range() {
        corrupt_a("reloc_info", &[".rela.text"], |e| {
            let rela = e.section(".rela.text");
            let at = e.shdr(rela) + 44;
            e.set_u32(at, 500);
        });
    }
}

linker_test! {
    fn section_offset_past_file_end() {
        corrupt_a("sh_offset", &[".data"], |e| {
            let len = e.bytes.len() as u64;
            let at = e.shdr(e.section(".data")) + 24;
            e.set_u64(at, len + 0x1000);
        });
    }
}

linker_test! {
    fn section_size_past_file_end() {
        corrupt_a("sh_size", &[".text"], |e| {
            let at = e.shdr(e.section(".text")) + 32;
            e.set_u64(at, 0x10_0000);
        });
    }
}

linker_test! {
    fn section_size_overflows() {
        corrupt_a("sh_size_wrap", &[".data"], |e| {
            let at = e.shdr(e.section(".data")) + 32;
            e.set_u64(at, u64::MAX - 8);
        });
    }
}

linker_test! {
    fn symtab_link_out_of_range() {
        corrupt_a("symtab_link", &[".symtab"], |e| {
            let at = e.shdr(e.first_section_of_type(2)) + 40;
            e.set_u32(at, 200);
        });
    }
}

linker_test! {
    fn symtab_first_global_out_of_range() {
        corrupt_a("symtab_info", &[".symtab"], |e| {
            let at = e.shdr(e.first_section_of_type(2)) + 44;
            e.set_u32(at, 100_000);
        });
    }
}

linker_test! {
    fn symtab_size_not_whole_entries() {
        corrupt_a("symtab_size", &[".symtab"], |e| {
            let at = e.shdr(e.first_section_of_type(2)) + 32;
            let size = e.u64(at);
            e.set_u64(at, size - 5);
        });
    }
}

linker_test! {
    fn section_table_past_file_end() {
        corrupt_a("shoff", &[], |e| {
            let len = e.bytes.len() as u64;
            e.set_u64(0x28, len - 10);
        });
    }
}

linker_test! {
    fn section_count_too_large() {
        corrupt_a("shnum", &[], |e| e.set_u16(0x3c, 0xfeff));
    }
}

linker_test! {
    fn section_names_index_out_of_range() {
        corrupt_a("shstrndx", &[], |e| e.set_u16(0x3e, 300));
    }
}

linker_test! {
    fn section_name_out_of_range() {
        corrupt_a("sh_name", &[], |e| {
            let at = e.shdr(e.section(".data"));
            e.set_u32(at, 0x00ff_ffff);
        });
    }
}

linker_test! {
    fn section_alignment_not_power_of_two() {
        corrupt_a("sh_addralign", &[".data"], |e| {
            let at = e.shdr(e.section(".data")) + 48;
            e.set_u64(at, 24);
        });
    }
}

// Cases the randomized test found panicking, kept as regression tests.

linker_test! {
    fn nobits_size_overflows_layout() {
        corrupt_a("bss_size", &[".bss"], |e| {
            let at = e.shdr(e.section(".bss")) + 32;
            e.set_u64(at, u64::MAX - 1);
        });
    }
}

linker_test! {
    fn section_alignment_overflows_layout() {
        corrupt_a("huge_align", &[".data"], |e| {
            let at = e.shdr(e.section(".data")) + 48;
            e.set_u64(at, 1 << 63);
        });
    }
}

linker_test! {
    fn tls_section_not_allocated() {
        corrupt_a("tls_not_alloc", &[".comment"], |e| {
            let at = e.shdr(e.section(".comment")) + 8;
            let flags = e.u64(at);
            e.set_u64(at, flags | 0x400); // SHF_TLS
        });
    }
}

linker_test! {
    fn one_file_defines_a_name_twice() {
        corrupt_a("defined_twice", &["main"], |e| {
            let main = e.symbol("main");
            let name = e.u32(main);
            let table = e.symbol("table");
            e.set_u32(table, name);
        });
    }
}

linker_test! {
    fn common_symbol_alignment_overflows() {
        let ws = setup("common_align");
        ws.assemble(
            "common",
            "    .comm common_buf, 64, 16\n    .section .note.GNU-stack,\"\",@progbits\n",
        );
        let mut elf = Elf::read(&ws.join("common.o"));
        let at = elf.symbol("common_buf");
        elf.set_u64(at + 8, u64::MAX); // a COMMON symbol's value is its alignment
        elf.write(&ws, "bad.o");
        // -r keeps COMMON symbols as they are; an executable places them.
        let o = link(&ws, Mode::Static, &["a.o", "b.o", "bad.o"], &[]);
        assert_failed(&ws, Mode::Static, "common", &o, &["bad.o", "common_buf"]);
    }
}

linker_test! {
    fn symbol_value_past_its_section_is_not_an_error() {
        // ELF allows it, and GNU ld links it: values wrap around.
        let ws = setup("symbol_value");
        let mut elf = Elf::read(&ws.join("a.o"));
        let at = elf.symbol("table");
        elf.set_u64(at + 8, u64::MAX);
        elf.write(&ws, "odd.o");
        for mode in MODES {
            let o = link(&ws, mode, &["odd.o", "b.o"], &[]);
            assert_eq!(o.code(), 0, "{mode:?}: {}", o.stderr);
        }
    }
}

// ---------------------------------------------------------------------------
// Archives.

fn ar(ws: &Workspace, archive: &str, members: &[&str]) {
    run_tool(
        Command::new("ar")
            .current_dir(ws.path())
            .arg("rcs")
            .arg(archive)
            .args(members),
    );
}

linker_test! {
    fn archive_with_corrupt_member() {
        let ws = setup("archive_member");
        ar(&ws, "libb.a", &["b.o"]);
        let mut bytes = read(&ws.join("libb.a"));
        let at = bytes
            .windows(4)
            .position(|w| w == b"\x7fELF")
            .expect("member in archive");
        bytes[at + 0x12..at + 0x14].copy_from_slice(&183u16.to_le_bytes()); // EM_AARCH64
        std::fs::write(ws.join("libbad.a"), &bytes).unwrap();
        expect_failure(&ws, "archive member", &["a.o", "libbad.a"], &["libbad.a", "b.o"]);
    }
}

linker_test! {
    fn archive_with_truncated_member() {
        let ws = setup("archive_truncated");
        ar(&ws, "libb.a", &["b.o"]);
        let bytes = read(&ws.join("libb.a"));
        let member = bytes.windows(4).position(|w| w == b"\x7fELF").unwrap();
        std::fs::write(ws.join("libbad.a"), &bytes[..member + 100]).unwrap();
        expect_failure(&ws, "truncated archive", &["a.o", "libbad.a"], &["libbad.a"]);
    }
}

linker_test! {
    fn archive_with_bad_member_header() {
        let ws = setup("archive_header");
        ar(&ws, "libb.a", &["b.o"]);
        let mut bytes = read(&ws.join("libb.a"));
        // The size field (bytes 48..58 of the 60-byte header) of the member.
        let member = bytes.windows(4).position(|w| w == b"\x7fELF").unwrap();
        bytes[member - 60 + 48..member - 60 + 58].copy_from_slice(b"zzzzzzzzzz");
        std::fs::write(ws.join("libbad.a"), &bytes).unwrap();
        expect_failure(&ws, "archive header", &["a.o", "libbad.a"], &["libbad.a"]);
    }
}

linker_test! {
    fn archive_as_library() {
        let ws = setup("archive_lib");
        ar(&ws, "libb.a", &["b.o"]);
        let mut bytes = read(&ws.join("libb.a"));
        let at = bytes.windows(4).position(|w| w == b"\x7fELF").unwrap();
        bytes[at + 4] = 1; // ELFCLASS32
        std::fs::write(ws.join("libbad.a"), &bytes).unwrap();
        for mode in MODES {
            let o = link(&ws, mode, &["a.o"], &["-L.", "-lbad"]);
            assert_failed(&ws, mode, "-lbad", &o, &["libbad.a", "b.o"]);
        }
    }
}

// ---------------------------------------------------------------------------
// Links of well-formed files that must fail.

linker_test! {
    fn undefined_symbol() {
        let ws = setup("undefined_symbol");
        // -r leaves references undefined; an executable cannot.
        let o = link(&ws, Mode::Static, &["a.o"], &[]);
        assert_failed(&ws, Mode::Static, "undefined symbol", &o, &["foo", "a.o"]);
    }
}

linker_test! {
    /// Messages name C++ symbols demangled, as GNU ld's do by default, and
    /// raw under `--no-demangle`; an undefined reference says where it is.
    fn cpp_names_demangled_in_messages() {
        let ws = setup("demangled");
        let und = ws.compile_text(
            "und.cc",
            "namespace ns { struct A { void bar(); }; }\nint use() { ns::A a; a.bar(); return 0; }\n",
            &["-O0"],
        );
        let und = path_str(&und);
        let o = run_linker(ws.path(), ["-static", "-e", "_Z3usev", "-o", "prog.out", &und]);
        assert_eq!(o.code(), 1, "{}", o.stderr);
        for needle in ["ns::A::bar()", "use()", "und.o"] {
            assert!(o.stderr.contains(needle), "no '{needle}' in:\n{}", o.stderr);
        }
        let o = run_linker(ws.path(), ["-static", "--no-demangle", "-e", "_Z3usev", "-o", "prog.out", &und]);
        assert_eq!(o.code(), 1, "{}", o.stderr);
        assert!(o.stderr.contains("_ZN2ns1A3barEv"), "--no-demangle:\n{}", o.stderr);
        assert!(!o.stderr.contains("ns::A::bar()"), "--no-demangle:\n{}", o.stderr);

        let dup = ws.compile_text("dup.cc", "namespace ns { int twice(int x) { return x; } }\n", &["-O1"]);
        let dup2 = ws.join("dup2.o");
        std::fs::copy(&dup, &dup2).unwrap();
        let o = run_linker(ws.path(), ["-r", "-o", "merged.o", &path_str(&dup), &path_str(&dup2)]);
        assert_eq!(o.code(), 1, "{}", o.stderr);
        assert!(o.stderr.contains("ns::twice(int)"), "duplicate:\n{}", o.stderr);
    }
}

linker_test! {
    fn duplicate_strong_definitions() {
        let ws = setup("duplicate");
        std::fs::write(ws.join("dup.c"), "int foo(int x) { return x; }\n").unwrap();
        ws.compile(&ws.join("dup.c"), &["-O1"], "");
        expect_failure(&ws, "duplicate", &["a.o", "b.o", "dup.o"], &["foo", "b.o", "dup.o"]);
    }
}

linker_test! {
    fn duplicate_data_definitions() {
        let ws = setup("duplicate_data");
        std::fs::write(ws.join("dup.c"), "int counter = 7;\n").unwrap();
        ws.compile(&ws.join("dup.c"), &["-O1"], "");
        expect_failure(&ws, "duplicate", &["a.o", "dup.o", "b.o"], &["counter", "b.o", "dup.o"]);
    }
}

linker_test! {
    fn unknown_option() {
        let ws = setup("unknown_option");
        for mode in MODES {
            let o = link(&ws, mode, &["a.o", "b.o"], &["--frobnicate-widgets"]);
            assert_failed(&ws, mode, "unknown option", &o, &["frobnicate-widgets"]);
        }
    }
}

linker_test! {
    fn missing_input_file() {
        let ws = setup("missing_input");
        expect_failure(&ws, "missing file", &["a.o", "nosuch.o", "b.o"], &["nosuch.o"]);
    }
}

linker_test! {
    fn missing_library() {
        let ws = setup("missing_library");
        for mode in MODES {
            let o = link(&ws, mode, &["a.o", "b.o"], &["-L.", "-lnosuchlib"]);
            assert_failed(&ws, mode, "missing -l", &o, &["nosuchlib"]);
        }
    }
}

linker_test! {
    fn output_in_missing_directory() {
        let ws = setup("output_dir");
        let o = run_linker(ws.path(), ["-r", "-o", "no/such/dir/out.o", "a.o", "b.o"]);
        assert_eq!(o.code(), 1, "{}", o.stderr);
        assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
        assert!(o.stderr.contains("no/such/dir"), "{}", o.stderr);
    }
}

linker_test! {
    fn relocation_overflow_abs32() {
        let ws = setup("overflow_abs32");
        ws.assemble(
            "big",
            "    .globl big_symbol\n    .set big_symbol, 0x100000000\n    .section .note.GNU-stack,\"\",@progbits\n",
        );
        ws.assemble(
            "user",
            "    .text\n    .globl main\nmain:\n    movl $big_symbol, %eax\n    ret\n    .section .note.GNU-stack,\"\",@progbits\n",
        );
        // Fine for -r, which keeps the relocation.
        let o = link(&ws, Mode::Relocatable, &["user.o", "big.o"], &[]);
        assert_eq!(o.code(), 0, "-r: {}", o.stderr);
        let o = link(&ws, Mode::Static, &["user.o", "big.o"], &[]);
        assert_failed(&ws, Mode::Static, "R_X86_64_32 overflow", &o, &["user.o", ".text", "big_symbol"]);
    }
}

linker_test! {
    fn relocation_overflow_pc8() {
        let ws = setup("overflow_pc8");
        ws.assemble(
            "near",
            "    .text\n    .globl main\nmain:\n    ret\n    .reloc ., R_X86_64_PC8, far_away\n    .byte 0\n\
             \n    .section .text.far,\"ax\",@progbits\n    .globl far_away\n    .zero 4096\nfar_away:\n    ret\n\
             \n    .section .note.GNU-stack,\"\",@progbits\n",
        );
        let o = link(&ws, Mode::Static, &["near.o"], &[]);
        assert_failed(&ws, Mode::Static, "R_X86_64_PC8 overflow", &o, &["near.o", ".text", "far_away"]);
    }
}

// ---------------------------------------------------------------------------
// Randomized corruption: never a panic, never a leftover temporary.

/// splitmix64: a small deterministic generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Byte ranges worth hitting more often than the rest: the ELF header,
/// section headers, symbol tables, relocations, groups and `.eh_frame`.
fn hot_ranges(elf: &Elf) -> Vec<(usize, usize)> {
    let mut v = vec![(0, 64), (elf.shoff(), elf.shnum() * SHDR)];
    for i in 0..elf.shnum() {
        let interesting =
            matches!(elf.sh_type(i), 2 | 4 | 17) || elf.section_name(i) == ".eh_frame";
        if interesting && elf.sh_size(i) > 0 {
            v.push((elf.sh_offset(i), elf.sh_size(i)));
        }
    }
    v
}

/// Changes one to four places of `bytes`: a random byte, or a field-sized
/// value that tends to break bounds (0, all ones, just past the file end).
fn mutate(rng: &mut Rng, bytes: &mut [u8], hot: &[(usize, usize)]) {
    for _ in 0..1 + rng.below(4) {
        let at = if rng.below(4) == 0 {
            rng.below(bytes.len())
        } else {
            let (start, len) = hot[rng.below(hot.len())];
            start + rng.below(len)
        };
        let width = [1usize, 2, 4, 8][rng.below(4)];
        let at = (at & !(width - 1)).min(bytes.len() - width);
        let value: u64 = match rng.below(6) {
            0 => 0,
            1 => u64::MAX,
            2 => bytes.len() as u64 + rng.below(64) as u64,
            3 => rng.below(64) as u64,
            4 => 1 << rng.below(64),
            _ => rng.next(),
        };
        bytes[at..at + width].copy_from_slice(&value.to_le_bytes()[..width]);
    }
}

linker_test! {
    fn random_corruption_never_panics() {
        let ws = setup("random_corruption");
        ws.assemble("c", C_S);
        // (name, bytes, hot ranges) of each object mutated in turn.
        type Original = (&'static str, Vec<u8>, Vec<(usize, usize)>);
        let originals: Vec<Original> = ["a.o", "b.o", "c.o"]
            .iter()
            .map(|n| {
                let elf = Elf::read(&ws.join(n));
                let hot = hot_ranges(&elf);
                (*n, elf.bytes, hot)
            })
            .collect();
        // RIVET_FUZZ_ROUNDS and RIVET_FUZZ_SEED run a longer or different
        // search; the default is what the suite runs every time.
        let env = |name: &str, default: u64| {
            std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
        };
        let rounds = env("RIVET_FUZZ_ROUNDS", 300) as usize;
        let mut rng = Rng(env("RIVET_FUZZ_SEED", 0x5eed_0fb0));
        for mode in MODES {
            let o = link(&ws, mode, &["a.o", "b.o", "c.o"], &[]);
            assert_eq!(o.code(), 0, "the unchanged objects must link ({mode:?}):\n{}", o.stderr);
        }
        let strict = !linker_is_gnu_ld();
        let mut failures = 0;
        for round in 0..rounds {
            let (victim, orig, hot) = &originals[round % originals.len()];
            let mut bytes = orig.clone();
            mutate(&mut rng, &mut bytes, hot);
            std::fs::write(ws.join("mut.o"), &bytes).unwrap();
            let mut inputs: Vec<&str> = vec!["mut.o"];
            inputs.extend(["a.o", "b.o", "c.o"].iter().filter(|n| *n != victim));
            for mode in MODES {
                let o = link(&ws, mode, &inputs, &[]);
                let code = o.code();
                let keep = || {
                    let name = format!("crash-{round}-{victim}");
                    std::fs::write(ws.join(&name), &bytes).unwrap();
                    name
                };
                assert!(
                    (code == 0 || code == 1) && !o.stderr.contains("panicked"),
                    "round {round} ({victim} mutated, kept as {}), {mode:?}: exit {code}\n{}",
                    keep(),
                    o.stderr
                );
                let temps = leftover_temps(ws.path());
                assert!(temps.is_empty(), "round {round}, {mode:?}: temporaries left: {temps:?}");
                if code == 1 && strict {
                    failures += 1;
                    assert!(!ws.join(mode.output()).exists(), "round {round}, {mode:?}: output left behind");
                    assert!(!o.stderr.trim().is_empty(), "round {round}, {mode:?}: failed silently");
                }
            }
        }
        // The mutations must actually exercise the error paths.
        assert!(
            !strict || failures > rounds / 3,
            "only {failures} of {} links failed",
            2 * rounds
        );
    }
}

// ---------------------------------------------------------------------------
// Shared objects: a copy of a GNU-ld-built libb.so (from b.c), corrupted,
// linked into a PIE that calls its `foo`. Each must fail naming the file
// and the table that is wrong.

/// Builds libb.so with GNU ld in a workspace that also holds a.o: with a
/// `DT_SONAME` and its symbols in a version (`.gnu.version`,
/// `.gnu.version_d`).
fn setup_dso(name: &str) -> Workspace {
    let ws = setup(name);
    std::fs::write(
        ws.join("b.map"),
        "B_1 { global: foo; counter; local: *; };\n",
    )
    .unwrap();
    run_tool(Command::new("gcc").current_dir(ws.path()).args([
        "-shared",
        "-fPIC",
        "-fuse-ld=bfd",
        "-Wl,-soname,libb.so",
        "-Wl,--version-script=b.map",
        "b.c",
        "-o",
        "libb.so",
    ]));
    ws
}

/// Writes `bad.so`, libb.so changed by `edit`, and expects
/// `-pie -e main a.o bad.so` to fail naming bad.so and each of `needles`.
fn corrupt_dso(name: &str, needles: &[&str], edit: impl FnOnce(&mut Elf)) {
    let ws = setup_dso(name);
    let mut elf = Elf::read(&ws.join("libb.so"));
    edit(&mut elf);
    elf.write(&ws, "bad.so");
    let out = ws.join(Mode::Static.output());
    let _ = std::fs::remove_file(&out);
    let o = run_linker(
        ws.path(),
        [
            "-pie",
            "-e",
            "main",
            "-o",
            Mode::Static.output(),
            "a.o",
            "bad.so",
        ],
    );
    let mut all = vec!["bad.so"];
    all.extend_from_slice(needles);
    assert_failed(&ws, Mode::Static, name, &o, &all);
}

linker_test! {
    fn shared_object_truncated() {
        corrupt_dso("so_truncated", &[], |elf| {
            let keep = elf.bytes.len() / 3;
            elf.bytes.truncate(keep);
        });
    }
}

linker_test! {
    fn shared_object_dynsym_outside_file() {
        corrupt_dso("so_dynsym_outside", &[".dynsym"], |elf| {
            let i = elf.first_section_of_type(11); // SHT_DYNSYM
            let at = elf.shdr(i) + 24; // sh_offset
            elf.set_u64(at, 0x7fff_0000);
        });
    }
}

linker_test! {
    fn shared_object_versym_wrong_size() {
        corrupt_dso("so_versym_size", &[".gnu.version"], |elf| {
            let i = elf.first_section_of_type(0x6fff_ffff); // SHT_GNU_VERSYM
            let at = elf.shdr(i) + 32; // sh_size
            let size = elf.u64(at);
            elf.set_u64(at, size - 2);
        });
    }
}

linker_test! {
    fn shared_object_soname_outside_strings() {
        corrupt_dso("so_soname_outside", &[".dynamic"], |elf| {
            // Point every DT_NEEDED/DT_SONAME string far past .dynstr.
            let i = elf.first_section_of_type(6); // SHT_DYNAMIC
            let (off, size) = (elf.sh_offset(i), elf.sh_size(i));
            let mut hit = false;
            for e in (off..off + size).step_by(16) {
                if matches!(elf.u64(e), 1 | 14) {
                    elf.set_u64(e + 8, 0x00ff_ffff);
                    hit = true;
                }
            }
            assert!(hit, "libb.so has no DT_NEEDED or DT_SONAME");
        });
    }
}

linker_test! {
    /// A text relocation under `-z text` is an error naming the file,
    /// the symbol and the section; without it, a warning.
    fn text_relocation_under_z_text() {
        let ws = setup("z_text");
        std::fs::write(
            ws.join("tr.s"),
            ".text\n.globl main\nmain:\n  xorl %eax, %eax\n  ret\nptr: .quad main\n.section .note.GNU-stack,\"\",@progbits\n",
        )
        .unwrap();
        ws.compile(&ws.join("tr.s"), &[], "");
        let o = run_linker(ws.path(), ["-pie", "-e", "main", "-z", "text", "-o", "out", "tr.o"]);
        assert_failed(&ws, Mode::Static, "-z text", &o, &["tr.o", "main", ".text"]);
        let o = run_linker(ws.path(), ["-pie", "-e", "main", "-o", "out", "tr.o"]);
        assert_eq!(o.code(), 0, "{}", o.stderr);
        assert!(o.stderr.contains("read-only section"), "{}", o.stderr);
    }
}

linker_test! {
    /// `-o ''` is refused before anything is read or written, naming the
    /// empty output rather than a temporary file.
    fn empty_output_name() {
        let ws = setup("empty_output_name");
        let o = run_linker(ws.path(), ["-static", "-e", "main", "-o", "", "a.o", "b.o"]);
        assert_eq!(o.code(), 1, "{}", o.stderr);
        assert!(o.stderr.contains("output file"), "{}", o.stderr);
        assert!(!o.stderr.contains(".tmp"), "{}", o.stderr);
        assert!(leftover_temps(ws.path()).is_empty());
    }
}

// ---------------------------------------------------------------------------
// Section headers that contradict what their section is.

/// Writes `bad.o`, a copy of c.o (which has a COMDAT group) changed by
/// `edit`, and expects linking it with a.o and b.o to fail naming bad.o
/// and each of `needles`. GNU ld 2.40 links most of these silently (a
/// relocation section naming itself, a wrong sh_link, unknown group flags:
/// it then loses the relocations or the group) and refuses the others in
/// its own words, so with `RIVET_LINKER` set there is nothing to check.
fn corrupt_c(name: &str, needles: &[&str], edit: impl FnOnce(&mut Elf)) {
    if !testing_built_rivet() {
        return;
    }
    let ws = setup(name);
    ws.assemble("c", C_S);
    let mut elf = Elf::read(&ws.join("c.o"));
    edit(&mut elf);
    elf.write(&ws, "bad.o");
    let mut all = vec!["bad.o"];
    all.extend_from_slice(needles);
    expect_failure(&ws, name, &["a.o", "b.o", "bad.o"], &all);
}

linker_test! {
    /// A symbol table whose entries are not 24 bytes.
    fn symtab_entsize_not_24() {
        corrupt_c("symtab_entsize", &["sh_entsize", "not 24"], |e| {
            let symtab = e.first_section_of_type(2);
            let at = e.shdr(symtab) + 56;
            e.set_u64(at, 16);
        });
    }
}

linker_test! {
    /// A relocation section that says it relocates itself, or a group,
    /// or links to a section that is not the symbol table.
    fn relocation_section_header_contradictions() {
        corrupt_c("rela_info_self", &["cannot be relocated"], |e| {
            let rela = e.first_section_of_type(4);
            let at = e.shdr(rela) + 44;
            e.set_u32(at, rela as u32);
        });
        corrupt_c("rela_info_group", &["cannot be relocated"], |e| {
            let rela = e.first_section_of_type(4);
            let group = e.first_section_of_type(17);
            let at = e.shdr(rela) + 44;
            e.set_u32(at, group as u32);
        });
        corrupt_c("rela_link", &["is not the symbol table"], |e| {
            let rela = e.first_section_of_type(4);
            let at = e.shdr(rela) + 40;
            e.set_u32(at, rela as u32);
        });
    }
}

linker_test! {
    /// An `SHT_GROUP` with unknown flags, one listing itself, one listing a
    /// section another group has.
    fn group_section_contradictions() {
        corrupt_c("group_flags", &["unknown flags"], |e| {
            let g = e.first_section_of_type(17);
            let at = e.sh_offset(g);
            e.set_u32(at, 0x11);
        });
        corrupt_c("group_self", &["group section"], |e| {
            let g = e.first_section_of_type(17);
            let at = e.sh_offset(g) + 4;
            e.set_u32(at, g as u32);
        });
        corrupt_c("group_twice", &["already in another group"], |e| {
            // The group's second member replaced by its first: one section
            // listed twice.
            let g = e.first_section_of_type(17);
            let off = e.sh_offset(g);
            assert!(e.sh_size(g) >= 12, "c.o's group has two members");
            let first = e.u32(off + 4);
            e.set_u32(off + 8, first);
        });
    }
}

linker_test! {
    /// An `.eh_frame` FDE whose CIE pointer does not lead to a CIE, and a
    /// CIE whose FDE pointer encoding cannot be read: errors naming the
    /// file at input time, not internal errors while `.eh_frame_hdr` is
    /// built. (GNU ld only warns that it makes no `.eh_frame_hdr` table.)
    fn eh_frame_records_that_contradict_each_other() {
        if !testing_built_rivet() {
            return;
        }
        // a.o's .eh_frame: the CIE at 0 ("zR", its FDE encoding at 16),
        // then main's FDE right after it.
        let cie_len = |e: &Elf| {
            let eh = e.sh_offset(e.section(".eh_frame"));
            e.u32(eh) as usize + 4
        };
        corrupt_a("eh_frame_cie_pointer", &["not a CIE"], |e| {
            let eh = e.sh_offset(e.section(".eh_frame"));
            let fde = eh + cie_len(e);
            // Point 8 bytes short of the CIE: inside it.
            let id = e.u32(fde + 4);
            e.set_u32(fde + 4, id - 8);
        });
        corrupt_a("eh_frame_encoding", &["FDE pointer encoding"], |e| {
            let eh = e.sh_offset(e.section(".eh_frame"));
            assert_eq!(&e.bytes[eh + 9..eh + 12], b"zR\0");
            e.bytes[eh + 16] = 0x05;
        });
    }
}

linker_test! {
    /// A name with control characters (an escape sequence) is printed
    /// escaped, never sent to the terminal as it is.
    fn control_characters_in_names_are_escaped() {
        if !testing_built_rivet() {
            return;
        }
        let ws = setup("control_chars");
        let mut elf = Elf::read(&ws.join("a.o"));
        // `foo`, which a.o calls and leaves undefined, becomes "f\x1bo".
        let sym = elf.symbol("foo");
        let symtab = elf.first_section_of_type(2);
        let name = elf.sh_offset(elf.sh_link(symtab)) + elf.u32(sym) as usize;
        elf.bytes[name + 1] = 0x1b;
        elf.write(&ws, "bad.o");
        // An undefined symbol is an error in an executable (not under -r).
        let o = link(&ws, Mode::Static, &["bad.o"], &[]);
        assert_eq!(o.code(), 1, "{}", o.stderr);
        assert!(o.stderr.contains("f\\x1bo"), "{}", o.stderr);
        assert!(!o.stderr.contains('\u{1b}'), "{:?}", o.stderr);
    }
}

linker_test! {
    /// A corrupt `.bss` size of 1 TiB puts what follows out of reach of
    /// 32-bit relocations: the overflow is reported with a note naming the
    /// file and section whose size is to blame, not only the relocation.
    fn huge_section_is_named_when_relocations_overflow() {
        if !testing_built_rivet() {
            return;
        }
        let ws = Workspace::new("huge_bss");
        ws.compile_text(
            "x.c",
            "int big[16];\nextern int other[8];\nint main(void) { return big[1] + other[2]; }\n",
            &["-O1"],
        );
        ws.compile_text("y.c", "int other[8];\n", &["-O1"]);
        let mut elf = Elf::read(&ws.join("x.o"));
        let bss = elf.section(".bss");
        let at = elf.shdr(bss) + 32;
        elf.set_u64(at, 1 << 40);
        elf.write(&ws, "bad.o");
        let o = link(&ws, Mode::Static, &["bad.o", "y.o"], &[]);
        assert_eq!(o.code(), 1, "{}", o.stderr);
        assert!(o.stderr.contains("out of range"), "{}", o.stderr);
        assert!(
            o.stderr.contains("bad.o: section .bss is 0x10000000000 bytes"),
            "{}",
            o.stderr
        );
    }
}

linker_test! {
    /// A relocation that needs a GOT entry (or rewrites a TLS sequence) in
    /// a section that is not loaded gets none: it is refused, naming the
    /// file, section, relocation and symbol, in static, PIE and shared
    /// outputs (it once reached "internal error: no GOT entry"; GNU ld
    /// 2.40 aborts with an internal error on it). `-r` copies it as it is.
    fn got_relocation_in_a_non_allocated_section_is_refused() {
        let ws = setup("nonalloc_got");
        ws.assemble(
            "debuggot",
            ".data\nx: .quad 0\n.section .debug_foo,\"\",@progbits\n.long x@GOTPCREL\n.long y@gottpoff\n",
        );
        let o = link(&ws, Mode::Static, &["a.o", "b.o", "debuggot.o"], &[]);
        assert_failed(
            &ws,
            Mode::Static,
            "GOTPCREL in .debug_foo",
            &o,
            &["debuggot.o", "R_X86_64_GOTPCREL against `x' in section .debug_foo", "R_X86_64_GOTTPOFF"],
        );
        for (flag, out) in [("-pie", "out"), ("-shared", "out")] {
            let o = run_linker(ws.path(), [flag, "-o", out, "debuggot.o"]);
            assert_failed(&ws, Mode::Static, flag, &o, &["debuggot.o", ".debug_foo"]);
        }
        let o = link(&ws, Mode::Relocatable, &["debuggot.o"], &[]);
        assert!(o.status.success(), "{}", o.stderr);
    }
}
