//! GNU ld's command line → [`Args`].
//!
//! Options are matched by name whether given with one dash or two, with the
//! value joined (`-ofile`, `--output=file`) or separate (`-o file`), as GNU
//! ld accepts them. Options rivet accepts but does not act on are listed in
//! [`IGNORED_FLAGS`] and [`IGNORED_WITH_VALUE`] (and in docs/options.md);
//! anything else unknown is an error naming it.

use crate::error::Result;
use crate::{bail, err};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// `-r`: a relocatable object.
    Relocatable,
    /// An executable: static unless shared objects are linked in or
    /// [`Args::pie`] asks for a position-independent one.
    StaticExe,
    /// `-shared`: a shared object.
    Shared,
}

/// `--defsym NAME=EXPR`: a symbol the linker defines, `EXPR` being a
/// number, a symbol, or a symbol plus or minus a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defsym {
    pub name: String,
    /// The symbol the value is relative to; `None`: an absolute number.
    pub base: Option<String>,
    pub offset: i64,
}

/// `-Bsymbolic`, `-Bsymbolic-functions`: which of a shared object's own
/// exported definitions its references bind to at link time (they cannot
/// be interposed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symbolic {
    None,
    Functions,
    All,
}

/// `--hash-style=`: which symbol hash tables a dynamic output gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashStyle {
    Gnu,
    Sysv,
    Both,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildId {
    None,
    /// `--build-id`, `=sha1`, `=md5`, `=fast`: a hash of the output's bytes, of this many bytes.
    Hash(usize),
    /// `--build-id=uuid`: 16 random bytes.
    Uuid,
    /// `--build-id=0xHEX`.
    Fixed(Vec<u8>),
}

/// Whether the stack is to be executable: `-z execstack`, `-z noexecstack`,
/// or (neither given) as GNU ld decides from the inputs' `.note.GNU-stack`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackChoice {
    FromInputs,
    Executable,
    NonExecutable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strip {
    None,
    Debug,
    All,
}

/// Which local symbols of the input files the output symbol table leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discard {
    /// `--discard-none`: keep them all.
    None,
    /// GNU ld's default: in executables, drop local labels (`.L...`) in
    /// mergeable sections (the string literals' `.LC0`).
    SecMerge,
    /// `-X`, `--discard-locals`: drop compiler-generated local labels (`.L...`).
    Locals,
    /// `-x`, `--discard-all`: drop every local symbol.
    All,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputArg {
    /// A file named on the command line (object, archive).
    Path {
        path: PathBuf,
        whole_archive: bool,
        /// `--as-needed` was in force: a shared object gets a `DT_NEEDED`
        /// only if it defines a symbol a regular object refers to.
        as_needed: bool,
    },
    /// `-lNAME` (or `-l:FILE`), searched in the `-L` directories.
    Library {
        name: String,
        whole_archive: bool,
        /// `-Bstatic` was in force: only `libNAME.a` is searched.
        static_only: bool,
        /// `--as-needed` was in force.
        as_needed: bool,
    },
    GroupStart,
    GroupEnd,
}

#[derive(Debug, Clone)]
pub struct Args {
    pub output: PathBuf,
    pub kind: OutputKind,
    pub inputs: Vec<InputArg>,
    /// `-pie`/`--pic-executable`: a position-independent executable
    /// (gcc's default here); `-no-pie` turns it off.
    pub pie: bool,
    /// `--dynamic-linker=PATH` (`-I PATH`): the program interpreter.
    pub dynamic_linker: Option<String>,
    /// `--no-dynamic-linker` (gcc `-static-pie`): no `.interp`; the
    /// program relocates itself.
    pub no_dynamic_linker: bool,
    /// `-rpath DIR`, each in order (joined with `:` in `DT_RUNPATH`).
    pub rpath: Vec<String>,
    /// `-rpath-link DIR`: where the linked shared objects' own
    /// `DT_NEEDED` libraries are looked for first.
    pub rpath_link: Vec<String>,
    /// `--allow-shlib-undefined`: a linked shared object's undefined
    /// symbols need not be defined anywhere (GNU ld's default for shared
    /// objects; executables check them).
    pub allow_shlib_undefined: bool,
    /// `--dynamic-list`, `--export-dynamic-symbol(-list)`: names (with
    /// `*`, `?` and `[...]` globs) an executable exports besides what
    /// shared objects refer to.
    pub dynamic_list: Vec<String>,
    /// `--enable-new-dtags` (the default, as in Debian's GNU ld): the run
    /// path goes in `DT_RUNPATH`; `--disable-new-dtags`: in `DT_RPATH`.
    pub new_dtags: bool,
    /// `-z now`: bind every symbol at startup (`DF_BIND_NOW`).
    pub bind_now: bool,
    /// `-E`/`--export-dynamic`: every global of the executable goes into
    /// `.dynsym`.
    pub export_dynamic: bool,
    pub hash_style: HashStyle,
    /// `-z pack-relative-relocs`: relative relocations in `.relr.dyn`.
    pub pack_relative_relocs: bool,
    /// `-z text` (refuse text relocations) / `-z notext`; default: allow
    /// with a warning, as GNU ld does in a PIE.
    pub z_text: Option<bool>,
    pub library_paths: Vec<PathBuf>,
    pub entry: Option<String>,
    pub undefined: Vec<String>,
    pub emit_relocs: bool,
    pub build_id: BuildId,
    pub eh_frame_hdr: bool,
    /// `-z origin`: `$ORIGIN` in the run path must be expanded
    /// (`DF_ORIGIN`, `DF_1_ORIGIN`).
    pub z_origin: bool,
    pub strip: Strip,
    /// `-z execstack` / `-z noexecstack`, or neither (the inputs decide).
    pub stack: StackChoice,
    /// `--warn-execstack` (also warn when `-z execstack` makes the stack
    /// executable) / `--no-warn-execstack` (never warn); default: warn when
    /// the inputs make it executable.
    pub warn_execstack: Option<bool>,
    /// `-z` keywords rivet does not know: ignored with a warning, as GNU ld
    /// ignores them (a build passing one of GNU ld's newer keywords links).
    pub unknown_z_keywords: Vec<String>,
    /// `-z relro` (the default, as GNU ld's on Debian) / `-z norelro`:
    /// whether an executable gets a `PT_GNU_RELRO` segment.
    pub relro: bool,
    pub threads: Option<usize>,
    /// `--gc-sections`: drop allocated sections nothing live refers to.
    pub gc_sections: bool,
    /// `-t`/`--trace`, once per time given: print the input files as they
    /// are loaded (given twice, every archive member too).
    pub trace: u8,
    /// `--wrap=SYMBOL`: undefined `SYMBOL` means `__wrap_SYMBOL`, and
    /// undefined `__real_SYMBOL` means `SYMBOL`.
    pub wrap: Vec<String>,
    /// `--allow-multiple-definition`, `-z muldefs`: the first definition of
    /// a symbol wins instead of being an error.
    pub allow_multiple_definition: bool,
    /// `--fatal-warnings`: a warning fails the link, as an error would.
    pub fatal_warnings: bool,
    /// `-w`, `--no-warnings`: warnings are not printed (nor fatal).
    pub no_warnings: bool,
    pub discard: Discard,
    /// `--demangle` (the default, as in GNU ld) / `--no-demangle`: how
    /// messages show C++ and Rust symbol names.
    pub demangle: bool,
    /// `-Map FILE`: write a link map to FILE; `-M`/`--print-map`: to stdout
    /// (`-`). The last of them given wins, as in GNU ld.
    pub map: Option<PathBuf>,
    /// `--print-gc-sections`: name each section `--gc-sections` removes.
    pub print_gc_sections: bool,
    /// `-z ibt`, `-z shstk`, `-z cet-report=`, `-z x86-64-*`,
    /// `-z stack-size=`, ...: what shapes `.note.gnu.property`.
    pub gnu_property: PropertyOptions,
    /// `-soname`/`-h NAME`: a shared object's `DT_SONAME`.
    pub soname: Option<String>,
    /// `-z defs`/`--no-undefined`: a shared object's undefined symbols are
    /// errors, as in an executable.
    pub z_defs: bool,
    pub symbolic: Symbolic,
    /// `--version-script FILE`, each in order.
    pub version_scripts: Vec<PathBuf>,
    /// `--defsym NAME=EXPR`, in order.
    pub defsyms: Vec<Defsym>,
    /// `--no-undefined-version`: a version script naming a symbol the
    /// output does not define is an error (`--undefined-version`, GNU ld
    /// 2.40's default, allows it).
    pub no_undefined_version: bool,
    /// `-init NAME`, `-fini NAME`: the functions `DT_INIT`/`DT_FINI` name
    /// (GNU ld's defaults `_init` and `_fini`).
    pub init: String,
    pub fini: String,
    /// `--exclude-libs LIB,...` (`ALL`): symbols from these archives are
    /// not exported.
    pub exclude_libs: Vec<String>,
    /// `-z nodelete`, `-z nodlopen`, `-z initfirst`, `-z interpose`: bits
    /// of a shared object's `DT_FLAGS_1`.
    pub flags_1: u64,
    pub print_version: bool,
    pub print_help: bool,
    /// `-v`/`--version` with no inputs prints the version and exits.
    pub version_only: bool,
}

/// Flags accepted and deliberately not acted on: they ask for behaviour that
/// is already rivet's, or that only matters for dynamic linking, LTO or
/// diagnostics rivet does not have yet.
/// `-z cet-report=`, `-z lam-u48-report=`, ...
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Report {
    #[default]
    None,
    Warning,
    Error,
}

impl Report {
    /// The value of `-z cet-report=VALUE` and its kin; `None` if unknown.
    pub fn parse(v: &str) -> Option<Report> {
        match v {
            "none" => Some(Report::None),
            "warning" => Some(Report::Warning),
            "error" => Some(Report::Error),
            _ => None,
        }
    }
}

/// The `-z` options that shape the merged `.note.gnu.property`
/// ([`crate::resolve::gnu_property`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PropertyOptions {
    /// `-z ibt`: IBT in `X86_FEATURE_1_AND` whatever the inputs say.
    pub ibt: bool,
    /// `-z shstk`: SHSTK likewise.
    pub shstk: bool,
    /// `-z ibtplt`: IFUNC stubs start with `endbr64` (as with `-z ibt`).
    pub ibtplt: bool,
    pub cet_report: Report,
    /// `-z lam-u48`: LAM_U48 and LAM_U57; `-z lam-u57`: LAM_U57.
    pub lam_u48: bool,
    pub lam_u57: bool,
    pub lam_u48_report: Report,
    pub lam_u57_report: Report,
    /// `-z x86-64-baseline` (1), `-z x86-64-v2` .. `v4` (2..4); 0 if none.
    pub isa_level: u32,
    /// `-z stack-size=N`.
    pub stack_size: u64,
}

pub const IGNORED_FLAGS: &[&str] = &[
    "no-relax",
    "relax",
    "sort-common",
    "warn-common",
    "nostdlib",
    "no-copy-dt-needed-entries",
    "copy-dt-needed-entries",
    "eh-frame-hdr-compat",
    "color-diagnostics",
    "no-color-diagnostics",
    "warn-once",
    "no-warn-mismatch",
    "no-warn-rwx-segments",
    // rivet never makes a writable and executable PT_LOAD to warn about.
    "warn-rwx-segments",
    "p",
];

/// Options with a value, accepted and not acted on (see [`IGNORED_FLAGS`]).
pub const IGNORED_WITH_VALUE: &[&str] = &[
    "plugin",
    "plugin-opt",
    "sysroot",
    "O",
    "sort-section",
    "compress-debug-sections",
    "color-diagnostics",
];

/// `-z` keywords accepted and not acted on.
pub const IGNORED_Z_KEYWORDS: &[&str] = &[
    "separate-code",
    "noseparate-code",
    "nodefs",
    "combreloc",
    "nocombreloc",
];

/// The names of a dynamic list file, GNU ld's `{ name; name2; };` (with
/// `#` and `/* */` comments). An `extern "C++" { ... };` block's patterns
/// are read as they are written (demangled names are not matched).
fn read_dynamic_list(file: &str) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| err!("rivet: cannot read dynamic list {file}: {e}"))?;
    let mut clean = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("/*") {
        clean.push_str(&rest[..i]);
        rest = match rest[i + 2..].find("*/") {
            Some(j) => &rest[i + 2 + j + 2..],
            None => bail!("rivet: {file}: unterminated comment in dynamic list"),
        };
    }
    clean.push_str(rest);
    let clean: String = clean
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let body = clean.trim();
    let Some(inner) = body.strip_prefix('{').and_then(|b| {
        let b = b.trim_end();
        let b = b.strip_suffix(';').unwrap_or(b).trim_end();
        b.strip_suffix('}')
    }) else {
        bail!("rivet: {file}: a dynamic list is `{{ name; ... }};`");
    };
    Ok(inner
        .split([';', '{', '}'])
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.starts_with("extern"))
        .map(|t| t.trim_matches('"').to_string())
        .collect())
}

/// Whether `name` matches the glob `pattern` (`*`, `?`, `[abc]`, as in
/// version scripts and dynamic lists).
pub fn glob_match(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob_match(&pattern[1..], name) || (!name.is_empty() && glob_match(pattern, &name[1..]))
        }
        (Some(b'?'), Some(_)) => glob_match(&pattern[1..], &name[1..]),
        (Some(b'['), Some(&c)) => match pattern.iter().position(|&b| b == b']') {
            Some(end) if end > 1 => {
                pattern[1..end].contains(&c) && glob_match(&pattern[end + 1..], &name[1..])
            }
            _ => pattern[0] == c && glob_match(&pattern[1..], &name[1..]),
        },
        (Some(&p), Some(&c)) => p == c && glob_match(&pattern[1..], &name[1..]),
        _ => false,
    }
}

pub const USAGE: &str = "\
Usage: rivet [options] file...
rivet is a drop-in ELF linker for x86-64 Linux, invoked as GNU ld is.

Output:
  -o FILE, --output=FILE     Write the output to FILE (default a.out)
  -r, --relocatable          Produce a relocatable object
  -static, -Bstatic          Link statically (the only mode supported so far)
  --emit-relocs, -q          Keep relocations in the executable
  -e SYM, --entry=SYM        Entry point (default _start)
  -u SYM, --undefined=SYM    Treat SYM as undefined
  --build-id[=sha1|md5|fast|uuid|0xHEX|none]
  --eh-frame-hdr             Create .eh_frame_hdr and PT_GNU_EH_FRAME
  -z noexecstack|execstack   Mark the stack non-executable (default) or executable
  -z ibt, -z shstk           Mark the program IBT/SHSTK-ready in .note.gnu.property
  -z cet-report=none|warning|error
                             Report inputs without IBT and SHSTK properties
  -z x86-64-baseline|v2|v3|v4
                             Mark the ISA level needed in .note.gnu.property
  -s, --strip-all            Omit the symbol table
  -S, --strip-debug          Omit debug sections
  -x, --discard-all          Omit every local symbol of the inputs
  -X, --discard-locals       Omit local labels (.L...) of the inputs
Symbols:
  --wrap=SYM                 Undefined SYM means __wrap_SYM, __real_SYM means SYM
  --allow-multiple-definition, -z muldefs
                             The first definition of a symbol wins
  --fatal-warnings, --no-fatal-warnings
                             Warnings fail the link (or not)
  -w, --no-warnings          Print no warnings
Inputs:
  -l NAME, -L DIR, --whole-archive, --no-whole-archive,
  --start-group, --end-group, -(, -), @FILE
Other:
  -t, --trace                Print input files as they are loaded (twice: members too)
  -Map FILE, -M, --print-map Write a link map to FILE (-M: to stdout)
  --print-gc-sections        List the sections --gc-sections removes
  --threads=N, --no-threads  Worker threads (default: all cores, at most 256)
  -m elf_x86_64              Emulation (only elf_x86_64)
  -v, --version, --help
";

impl Args {
    pub fn parse<S: AsRef<str>>(argv: &[S]) -> Result<Args> {
        let mut expanded = Vec::new();
        for a in argv {
            expand_response_files(a.as_ref(), &mut expanded, 0)?;
        }
        let mut args = Args {
            output: PathBuf::from("a.out"),
            kind: OutputKind::StaticExe,
            inputs: Vec::new(),
            pie: false,
            dynamic_linker: None,
            no_dynamic_linker: false,
            rpath: Vec::new(),
            rpath_link: Vec::new(),
            allow_shlib_undefined: false,
            dynamic_list: Vec::new(),
            new_dtags: true,
            bind_now: false,
            export_dynamic: false,
            hash_style: HashStyle::Both,
            pack_relative_relocs: false,
            z_text: None,
            library_paths: Vec::new(),
            entry: None,
            undefined: Vec::new(),
            emit_relocs: false,
            build_id: BuildId::None,
            eh_frame_hdr: false,
            z_origin: false,
            strip: Strip::None,
            stack: StackChoice::FromInputs,
            warn_execstack: None,
            unknown_z_keywords: Vec::new(),
            relro: true,
            threads: None,
            gc_sections: false,
            trace: 0,
            wrap: Vec::new(),
            allow_multiple_definition: false,
            fatal_warnings: false,
            no_warnings: false,
            discard: Discard::SecMerge,
            demangle: true,
            map: None,
            print_gc_sections: false,
            gnu_property: Default::default(),
            soname: None,
            z_defs: false,
            symbolic: Symbolic::None,
            version_scripts: Vec::new(),
            no_undefined_version: false,
            defsyms: Vec::new(),
            init: "_init".to_string(),
            fini: "_fini".to_string(),
            exclude_libs: Vec::new(),
            flags_1: 0,
            print_version: false,
            print_help: false,
            version_only: false,
        };
        let mut whole_archive = false;
        let mut as_needed = false;
        let mut static_only = false;
        // `--push-state` saves these three; `--pop-state` restores them.
        let mut saved: Vec<(bool, bool, bool)> = Vec::new();
        let mut group_depth = 0usize;
        // GNU ld checks linked shared objects' undefined symbols in
        // executables only, unless told.
        let mut allow_shlib_undefined = None;
        let mut i = 0;
        while i < expanded.len() {
            let arg = expanded[i].clone();
            i += 1;
            if !arg.starts_with('-') || arg == "-" {
                args.inputs.push(InputArg::Path {
                    path: PathBuf::from(arg),
                    whole_archive,
                    as_needed,
                });
                continue;
            }
            let body = arg.strip_prefix("--").unwrap_or(&arg[1..]);
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            // Takes the option's value: after `=`, joined, or the next argument.
            let value = |i: &mut usize| -> Result<String> {
                if let Some(v) = &inline {
                    return Ok(v.clone());
                }
                let v = expanded
                    .get(*i)
                    .cloned()
                    .ok_or_else(|| err!("rivet: option '{arg}' needs a value"))?;
                *i += 1;
                Ok(v)
            };
            match name {
                "o" | "output" => args.output = PathBuf::from(value(&mut i)?),
                "r" | "relocatable" | "i" => args.kind = OutputKind::Relocatable,
                "static" | "Bstatic" | "dn" | "non_shared" => static_only = true,
                "Bdynamic" | "dy" | "call_shared" => static_only = false,
                "as-needed" => as_needed = true,
                "no-as-needed" => as_needed = false,
                "push-state" => saved.push((whole_archive, as_needed, static_only)),
                "pop-state" => {
                    (whole_archive, as_needed, static_only) = saved
                        .pop()
                        .ok_or_else(|| err!("rivet: '{arg}' without a matching --push-state"))?;
                }
                "pie" | "pic-executable" => args.pie = true,
                "no-pie" => args.pie = false,
                "dynamic-linker" | "I" => args.dynamic_linker = Some(value(&mut i)?),
                "no-dynamic-linker" => args.no_dynamic_linker = true,
                "rpath" | "R" => args.rpath.push(value(&mut i)?),
                "rpath-link" => args.rpath_link.push(value(&mut i)?),
                "allow-shlib-undefined" => allow_shlib_undefined = Some(true),
                "no-allow-shlib-undefined" => allow_shlib_undefined = Some(false),
                "enable-new-dtags" => args.new_dtags = true,
                "disable-new-dtags" => args.new_dtags = false,
                "E" | "export-dynamic" => args.export_dynamic = true,
                "no-export-dynamic" => args.export_dynamic = false,
                "export-dynamic-symbol" => args.dynamic_list.push(value(&mut i)?),
                "dynamic-list" | "export-dynamic-symbol-list" => {
                    let file = value(&mut i)?;
                    args.dynamic_list.extend(read_dynamic_list(&file)?);
                }
                "hash-style" => {
                    args.hash_style = match value(&mut i)?.as_str() {
                        "gnu" => HashStyle::Gnu,
                        "sysv" => HashStyle::Sysv,
                        "both" => HashStyle::Both,
                        other => bail!("rivet: --hash-style: unknown style '{other}'"),
                    }
                }
                "e" | "entry" => args.entry = Some(value(&mut i)?),
                "u" | "undefined" => args.undefined.push(value(&mut i)?),
                "L" | "library-path" => args.library_paths.push(PathBuf::from(value(&mut i)?)),
                "l" | "library" => {
                    let name = value(&mut i)?;
                    args.inputs.push(InputArg::Library {
                        name,
                        whole_archive,
                        static_only,
                        as_needed,
                    });
                }
                "whole-archive" => whole_archive = true,
                "no-whole-archive" => whole_archive = false,
                "start-group" | "(" => {
                    group_depth += 1;
                    args.inputs.push(InputArg::GroupStart);
                }
                "end-group" | ")" => {
                    if group_depth == 0 {
                        bail!("rivet: '{arg}' without a matching --start-group");
                    }
                    group_depth -= 1;
                    args.inputs.push(InputArg::GroupEnd);
                }
                "emit-relocs" | "q" => args.emit_relocs = true,
                "gc-sections" => args.gc_sections = true,
                "no-gc-sections" => args.gc_sections = false,
                "print-gc-sections" => args.print_gc_sections = true,
                "no-print-gc-sections" => args.print_gc_sections = false,
                "Map" => args.map = Some(PathBuf::from(value(&mut i)?)),
                "M" | "print-map" => args.map = Some(PathBuf::from("-")),
                "t" | "trace" => args.trace = args.trace.saturating_add(1),
                "wrap" => args.wrap.push(value(&mut i)?),
                "allow-multiple-definition" => args.allow_multiple_definition = true,
                "fatal-warnings" => args.fatal_warnings = true,
                "no-fatal-warnings" => args.fatal_warnings = false,
                "w" | "no-warnings" => args.no_warnings = true,
                "x" | "discard-all" => args.discard = Discard::All,
                "X" | "discard-locals" => args.discard = Discard::Locals,
                "discard-none" => args.discard = Discard::None,
                "eh-frame-hdr" => args.eh_frame_hdr = true,
                "no-eh-frame-hdr" => args.eh_frame_hdr = false,
                // `--demangle=STYLE`: every style GNU ld names means "demangle".
                "demangle" => args.demangle = true,
                "no-demangle" => args.demangle = false,
                "s" | "strip-all" => args.strip = Strip::All,
                "S" | "strip-debug" => args.strip = Strip::Debug,
                "g" => {}
                "threads" => match &inline {
                    None => args.threads = None,
                    Some(v) => {
                        let n: usize = v
                            .parse()
                            .ok()
                            .filter(|&n| n > 0)
                            .ok_or_else(|| err!("rivet: --threads needs a positive number, got '{v}'"))?;
                        args.threads = Some(n);
                    }
                },
                "no-threads" => args.threads = Some(1),
                "warn-execstack" => args.warn_execstack = Some(true),
                "no-warn-execstack" => args.warn_execstack = Some(false),
                "v" | "version" | "V" => args.print_version = true,
                "help" => args.print_help = true,
                "m" => {
                    let emu = value(&mut i)?;
                    if emu != "elf_x86_64" {
                        bail!("rivet: unsupported emulation '{emu}' (only elf_x86_64 is supported)");
                    }
                }
                "build-id" => {
                    args.build_id = match inline.as_deref() {
                        None | Some("sha1") | Some("tree") => BuildId::Hash(20),
                        Some("md5") | Some("fast") => BuildId::Hash(16),
                        Some("uuid") => BuildId::Uuid,
                        Some("none") => BuildId::None,
                        Some(hex) if hex.starts_with("0x") || hex.starts_with("0X") => {
                            BuildId::Fixed(parse_hex(&hex[2..]).ok_or_else(|| {
                                err!("rivet: --build-id: '{hex}' is not a hexadecimal string")
                            })?)
                        }
                        Some(other) => bail!("rivet: --build-id: unknown style '{other}'"),
                    }
                }
                "shared" | "Bshareable" => args.kind = OutputKind::Shared,
                "soname" | "h" => args.soname = Some(value(&mut i)?),
                "no-undefined" => args.z_defs = true,
                "Bsymbolic" => args.symbolic = Symbolic::All,
                "Bsymbolic-functions" => args.symbolic = Symbolic::Functions,
                "Bno-symbolic" => args.symbolic = Symbolic::None,
                "version-script" => args.version_scripts.push(PathBuf::from(value(&mut i)?)),
                "no-undefined-version" => args.no_undefined_version = true,
                "undefined-version" => args.no_undefined_version = false,
                "init" => args.init = value(&mut i)?,
                "fini" => args.fini = value(&mut i)?,
                "exclude-libs" => args
                    .exclude_libs
                    .extend(value(&mut i)?.split([',', ':']).map(str::to_string)),
                "defsym" => {
                    let v = value(&mut i)?;
                    args.defsyms.push(parse_defsym(&v)?);
                }
                "T" | "script" => {
                    bail!("rivet: '{arg}': linker scripts are not supported yet")
                }
                _ if name.starts_with('z') => {
                    let kw = if name == "z" {
                        match &inline {
                            Some(v) => v.clone(),
                            None => value(&mut i)?,
                        }
                    } else {
                        // `-znoexecstack`: the keyword is joined.
                        body[1..].to_string()
                    };
                    match kw.as_str() {
                        "noexecstack" => args.stack = StackChoice::NonExecutable,
                        "execstack" => args.stack = StackChoice::Executable,
                        "relro" => args.relro = true,
                        "norelro" => args.relro = false,
                        "muldefs" => args.allow_multiple_definition = true,
                        "defs" => args.z_defs = true,
                        "undefs" => args.z_defs = false,
                        "nodelete" => args.flags_1 |= u64::from(object::elf::DF_1_NODELETE),
                        "nodlopen" => args.flags_1 |= u64::from(object::elf::DF_1_NOOPEN),
                        "initfirst" => args.flags_1 |= u64::from(object::elf::DF_1_INITFIRST),
                        "interpose" => args.flags_1 |= u64::from(object::elf::DF_1_INTERPOSE),
                        "origin" => args.z_origin = true,
                        "now" => args.bind_now = true,
                        "lazy" => args.bind_now = false,
                        "text" => args.z_text = Some(true),
                        "notext" | "textoff" => args.z_text = Some(false),
                        "pack-relative-relocs" => args.pack_relative_relocs = true,
                        "nopack-relative-relocs" => args.pack_relative_relocs = false,
                        k if parse_property_z(k, &mut args.gnu_property)? => {}
                        k if IGNORED_Z_KEYWORDS.contains(&k)
                            || k.starts_with("max-page-size=")
                            || k.starts_with("common-page-size=") => {}
                        // GNU ld warns and goes on ("-z KW ignored").
                        k => args.unknown_z_keywords.push(k.to_string()),
                    }
                }
                _ if arg.starts_with("-l") && arg.len() > 2 && !arg.starts_with("--") => {
                    args.inputs.push(InputArg::Library {
                        name: arg[2..].to_string(),
                        whole_archive,
                        static_only,
                        as_needed,
                    });
                }
                _ if arg.starts_with("-L") && arg.len() > 2 && !arg.starts_with("--") => {
                    args.library_paths.push(PathBuf::from(&arg[2..]));
                }
                _ if arg.starts_with("-o") && arg.len() > 2 && !arg.starts_with("--") => {
                    args.output = PathBuf::from(&arg[2..]);
                }
                _ if arg.starts_with("-e") && arg.len() > 2 && !arg.starts_with("--") => {
                    args.entry = Some(arg[2..].to_string());
                }
                _ if arg.starts_with("-u") && arg.len() > 2 && !arg.starts_with("--") => {
                    args.undefined.push(arg[2..].to_string());
                }
                _ if arg.starts_with("-m") && arg.len() > 2 && !arg.starts_with("--") => {
                    if &arg[2..] != "elf_x86_64" {
                        bail!("rivet: unsupported emulation '{}' (only elf_x86_64 is supported)", &arg[2..]);
                    }
                }
                _ if arg.starts_with("-O") && !arg.starts_with("--") => {}
                _ if IGNORED_FLAGS.contains(&name) && inline.is_none() => {}
                _ if IGNORED_WITH_VALUE.contains(&name) => {
                    value(&mut i)?;
                }
                _ => bail!("rivet: unknown option '{arg}'\nTry 'rivet --help' for the options rivet accepts."),
            }
        }
        if group_depth != 0 {
            bail!("rivet: --start-group without a matching --end-group");
        }
        args.version_only = args.print_version && args.inputs.is_empty();
        args.allow_shlib_undefined =
            allow_shlib_undefined.unwrap_or(args.kind == OutputKind::Shared);
        if args.output.as_os_str().is_empty() {
            bail!(
                "rivet: cannot open output file '': No such file or directory (-o names no file)"
            );
        }
        Ok(args)
    }
}

/// The `-z` keywords of `.note.gnu.property` (GNU ld's x86 emulation
/// options); false if `kw` is not one of them.
fn parse_property_z(kw: &str, o: &mut PropertyOptions) -> Result<bool> {
    let report = |which: &str, v: &str| {
        Report::parse(v).ok_or_else(|| err!("rivet: invalid option for -z {which}=: {v}"))
    };
    match kw {
        "ibt" => o.ibt = true,
        "shstk" => o.shstk = true,
        "ibtplt" => o.ibtplt = true,
        "lam-u48" => o.lam_u48 = true,
        "lam-u57" => o.lam_u57 = true,
        "x86-64-baseline" => o.isa_level = 1,
        _ => {
            let Some((key, v)) = kw.split_once('=') else {
                if let Some(n) = kw.strip_prefix("x86-64-v") {
                    o.isa_level = n
                        .parse::<u32>()
                        .ok()
                        .filter(|l| (2..=4).contains(l))
                        .ok_or_else(|| err!("rivet: invalid x86-64 ISA level: {kw}"))?;
                    return Ok(true);
                }
                return Ok(false);
            };
            match key {
                "cet-report" => o.cet_report = report(key, v)?,
                "lam-u48-report" => o.lam_u48_report = report(key, v)?,
                "lam-u57-report" => o.lam_u57_report = report(key, v)?,
                "lam-report" => {
                    o.lam_u48_report = report(key, v)?;
                    o.lam_u57_report = o.lam_u48_report;
                }
                "stack-size" => {
                    o.stack_size =
                        parse_c_number(v).ok_or_else(|| err!("rivet: invalid stack size `{v}'"))?
                }
                _ => return Ok(false),
            }
        }
    }
    Ok(true)
}

/// `NAME=EXPR` of `--defsym`: EXPR is a number (C syntax: `0x`, octal,
/// decimal), a symbol, or a symbol plus or minus a number. (GNU ld takes
/// any linker-script expression; others are refused with a message.)
fn parse_defsym(v: &str) -> Result<Defsym> {
    let bad = || {
        err!("rivet: --defsym {v}: expected NAME=EXPR, EXPR a number, a symbol, or SYMBOL+NUMBER / SYMBOL-NUMBER (other linker-script expressions are not supported)")
    };
    let (name, expr) = v.split_once('=').ok_or_else(bad)?;
    let name = name.trim();
    let expr: String = expr.chars().filter(|c| !c.is_whitespace()).collect();
    let is_symbol = |t: &str| {
        !t.is_empty()
            && !t.starts_with(|c: char| c.is_ascii_digit())
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.$@".contains(c))
    };
    if !is_symbol(name) || expr.is_empty() {
        return Err(bad());
    }
    if let Some(n) = parse_c_number(&expr) {
        return Ok(Defsym {
            name: name.to_string(),
            base: None,
            offset: n as i64,
        });
    }
    let (base, offset) = match expr.rfind(['+', '-']).filter(|&at| at > 0) {
        Some(at) => {
            let n = parse_c_number(&expr[at + 1..]).ok_or_else(bad)? as i64;
            let n = if &expr[at..at + 1] == "-" {
                n.wrapping_neg()
            } else {
                n
            };
            (&expr[..at], n)
        }
        None => (expr.as_str(), 0),
    };
    if !is_symbol(base) {
        return Err(bad());
    }
    Ok(Defsym {
        name: name.to_string(),
        base: Some(base.to_string()),
        offset,
    })
}

/// A number as C's `strtoul(s, &end, 0)` reads it with nothing left over:
/// `0x` hexadecimal, a leading `0` octal, else decimal (bfd_scan_vma).
fn parse_c_number(s: &str) -> Option<u64> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u64::from_str_radix(h, 16).ok();
    }
    if s.is_empty() {
        return Some(0);
    }
    match s.strip_prefix('0') {
        Some("") => Some(0),
        Some(o) => u64::from_str_radix(o, 8).ok(),
        None => s.parse().ok(),
    }
}

fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let s: String = s.chars().filter(|&c| c != '-' && c != ':').collect();
    if s.is_empty() || !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// Expands `@FILE` into the arguments FILE holds (whitespace separated, with
/// quotes and backslashes as GNU's libiberty reads them), recursively.
fn expand_response_files(arg: &str, out: &mut Vec<String>, depth: usize) -> Result<()> {
    let Some(path) = arg.strip_prefix('@') else {
        out.push(arg.to_string());
        return Ok(());
    };
    if depth > 64 {
        bail!("rivet: response file '{path}' includes itself too deeply");
    }
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        // GNU ld treats an unreadable @FILE as a file name.
        Err(_) => {
            out.push(arg.to_string());
            return Ok(());
        }
    };
    for word in split_response_text(&text) {
        expand_response_files(&word, out, depth + 1)?;
    }
    Ok(())
}

fn split_response_text(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &[&str]) -> Result<Args> {
        Args::parse(v)
    }

    #[test]
    fn globs_as_in_dynamic_lists() {
        assert!(glob_match(b"host_*", b"host_value"));
        assert!(glob_match(b"*", b""));
        assert!(glob_match(b"a?c", b"abc"));
        assert!(!glob_match(b"a?c", b"ac"));
        assert!(glob_match(b"f[ox]o", b"fxo"));
        assert!(!glob_match(b"f[ox]o", b"fao"));
        assert!(!glob_match(b"host_*", b"hos"));
        assert!(glob_match(b"exact", b"exact"));
    }

    #[test]
    fn dynamic_list_files() {
        let dir = std::env::temp_dir().join(format!("rivet-dl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("list");
        std::fs::write(
            &f,
            "/* c */ {\n  foo; # x\n  bar_*;\n  extern \"C++\" { \"ns::f\"; };\n};\n",
        )
        .unwrap();
        let a = parse(&[
            "--dynamic-list",
            f.to_str().unwrap(),
            "--export-dynamic-symbol=baz",
            "x.o",
        ])
        .unwrap();
        assert_eq!(a.dynamic_list, vec!["foo", "bar_*", "ns::f", "baz"]);
        std::fs::write(&f, "foo;").unwrap();
        assert!(parse(&["--dynamic-list", f.to_str().unwrap(), "x.o"]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn gcc_static_command_line() {
        let a = parse(&[
            "-plugin",
            "/x/liblto_plugin.so",
            "-plugin-opt=-fresolution=/tmp/x.res",
            "--build-id",
            "-m",
            "elf_x86_64",
            "--hash-style=gnu",
            "--as-needed",
            "-static",
            "-o",
            "t",
            "crt1.o",
            "-L/usr/lib",
            "t.o",
            "--start-group",
            "-lgcc",
            "-lc",
            "--end-group",
            "-z",
            "noexecstack",
            "--threads=3",
        ])
        .unwrap();
        assert_eq!(a.output, PathBuf::from("t"));
        assert_eq!(a.build_id, BuildId::Hash(20));
        assert_eq!(a.threads, Some(3));
        assert_eq!(a.library_paths, vec![PathBuf::from("/usr/lib")]);
        assert_eq!(a.inputs.len(), 6);
        assert!(matches!(&a.inputs[3], InputArg::Library { name, .. } if name == "gcc"));
    }

    #[test]
    fn unknown_option_is_named() {
        let e = parse(&["--frobnicate", "a.o"]).unwrap_err();
        assert!(e.0.contains("--frobnicate"), "{e}");
    }

    #[test]
    fn unbalanced_group() {
        assert!(parse(&["--end-group"]).is_err());
        assert!(parse(&["-(", "a.o"]).is_err());
    }

    #[test]
    fn response_file_splitting() {
        assert_eq!(
            split_response_text("a 'b c' \"d\\\"e\"\n f\\ g"),
            vec!["a", "b c", "d\"e", "f g"]
        );
    }

    #[test]
    fn symbol_and_listing_options() {
        let a = parse(&[
            "--wrap=malloc",
            "--wrap",
            "free",
            "-t",
            "--trace",
            "-z",
            "muldefs",
            "-x",
            "x.o",
        ])
        .unwrap();
        assert_eq!(a.wrap, vec!["malloc".to_string(), "free".to_string()]);
        assert_eq!(a.trace, 2);
        assert!(a.allow_multiple_definition);
        assert_eq!(a.discard, Discard::All);
        let a = parse(&["--allow-multiple-definition", "-X", "x.o"]).unwrap();
        assert!(a.allow_multiple_definition);
        assert_eq!(a.discard, Discard::Locals);
        assert_eq!(parse(&["x.o"]).unwrap().discard, Discard::SecMerge);
        assert!(parse(&["--wrap"]).is_err());
    }

    #[test]
    fn map_options() {
        let map = |v: &[&str]| parse(v).unwrap().map;
        assert_eq!(map(&["x.o"]), None);
        assert_eq!(map(&["-Map", "a.map", "x.o"]), Some(PathBuf::from("a.map")));
        assert_eq!(map(&["-Map=b.map", "x.o"]), Some(PathBuf::from("b.map")));
        assert_eq!(map(&["--Map=c.map", "x.o"]), Some(PathBuf::from("c.map")));
        assert_eq!(map(&["-Map=c.map", "-M", "x.o"]), Some(PathBuf::from("-")));
        assert_eq!(
            map(&["--print-map", "-Map", "d.map"]),
            Some(PathBuf::from("d.map"))
        );
        assert!(parse(&["-Map"]).is_err());
        assert!(
            parse(&["--print-gc-sections", "x.o"])
                .unwrap()
                .print_gc_sections
        );
        let a = parse(&["--print-gc-sections", "--no-print-gc-sections", "x.o"]).unwrap();
        assert!(!a.print_gc_sections);
    }

    #[test]
    fn property_z_keywords() {
        let a = parse(&[
            "-z",
            "ibt",
            "-zshstk",
            "-z",
            "cet-report=warning",
            "-z",
            "x86-64-v3",
            "-z",
            "stack-size=010",
            "x.o",
        ])
        .unwrap();
        let o = &a.gnu_property;
        assert!(o.ibt && o.shstk && !o.ibtplt);
        assert_eq!(o.cet_report, Report::Warning);
        assert_eq!(o.isa_level, 3);
        assert_eq!(o.stack_size, 8);
        let o = parse(&["-z", "cet-report=error", "-z", "cet-report=none", "x.o"])
            .unwrap()
            .gnu_property;
        assert_eq!(o.cet_report, Report::None);
        let o = parse(&["-z", "lam-report=error", "-z", "x86-64-baseline", "x.o"])
            .unwrap()
            .gnu_property;
        assert_eq!(
            (o.lam_u48_report, o.lam_u57_report),
            (Report::Error, Report::Error)
        );
        assert_eq!(o.isa_level, 1);
        let bad = |v: &[&str]| parse(v).unwrap_err().0;
        assert!(bad(&["-z", "cet-report=foo"]).contains("cet-report=: foo"));
        assert!(bad(&["-z", "x86-64-v5"]).contains("invalid x86-64 ISA level"));
        assert!(bad(&["-z", "stack-size=abc"]).contains("invalid stack size"));
        let unknown = parse(&["-z", "isa-level-report=all", "-zbogus", "x.o"]).unwrap();
        assert_eq!(
            unknown.unknown_z_keywords,
            ["isa-level-report=all", "bogus"]
        );
        assert_eq!(parse_c_number("0x10"), Some(16));
        assert_eq!(parse_c_number("16"), Some(16));
        assert_eq!(parse_c_number("0"), Some(0));
        assert_eq!(parse_c_number("09"), None);
    }

    #[test]
    fn relocatable_and_short_forms() {
        let a = parse(&["-r", "-oout.o", "-q", "-znoexecstack", "-lm", "x.o"]).unwrap();
        assert_eq!(a.kind, OutputKind::Relocatable);
        assert_eq!(a.output, PathBuf::from("out.o"));
        assert!(a.emit_relocs);
        assert!(matches!(&a.inputs[0], InputArg::Library { name, .. } if name == "m"));
    }
}
