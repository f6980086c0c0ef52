//! Symbol resolution: the global symbol table, archive member loading (with
//! group rescanning), COMDAT deduplication, and the strong/weak/common rules.
//!
//! Files are added in command-line order, as GNU ld reads them. Archive
//! members are loaded in GNU ld's order, because the order decides which
//! COMDAT copy wins: passes over the archive's symbol index, each loading a
//! member the moment an entry names a symbol that is undefined then (or
//! COMMON, when the member really defines it), repeated while loads add new
//! undefined symbols (bfd's `elf_link_add_archive_symbols`). Rather than
//! probing every index entry, a pass visits only the entries of symbols that
//! became wanted (`Resolver::wanted_log`), smallest position first, and
//! members about to be needed are parsed in parallel ahead of time.

pub mod exec_stack;
pub mod exports;
pub mod gc;
pub mod gnu_property;
pub mod mode;
pub mod needed;
pub mod warnings;

use crate::args::{Args, Discard};
use crate::err;
use crate::error::{Error, Result};
use crate::input::object::{FileId, ObjectFile, SymPlace, E};
use crate::input::{self, Bytes, MemberData, OpenedInput};
use object::elf;
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;
use typed_arena::Arena;

pub use crate::symmap::SymId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    Weak,
    Common,
    Strong,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Definition {
    Undefined,
    /// Defined by symbol `sym` of object `file`.
    Object {
        file: FileId,
        sym: u32,
        strength: Strength,
    },
    /// Defined by the linker itself once the layout is known
    /// (`__init_array_start`, `__start_SECTION`, ...).
    Synthetic,
    /// Defined by symbol `sym` (an index into `SharedObject::symbols`) of
    /// shared object `dso`: imported at run time. Any definition in a
    /// regular object takes its place.
    Shared {
        dso: u32,
        sym: u32,
    },
}

#[derive(Debug)]
pub struct GlobalSymbol<'a> {
    pub name: &'a [u8],
    pub def: Definition,
    /// Some object refers to it with a non-weak undefined symbol.
    pub strong_ref: bool,
    /// The first object that refers to it, for messages.
    pub first_ref: Option<FileId>,
    /// That reference's `STT_*` type: what a shared object's `.dynsym`
    /// says of a symbol it leaves undefined (`STT_TLS` matters: GNU ld
    /// refuses to bind a TLS reference to a non-TLS symbol).
    pub ref_type: u8,
    /// A loaded shared object defines or refers to the name: an
    /// executable's definition of it goes into `.dynsym`, so that the
    /// shared object binds to it.
    pub dso_ref: bool,
    /// A loaded shared object refers to it with a non-weak undefined symbol.
    pub dso_strong_ref: bool,
    /// Set by [`exports::mark`]: a dynamic output's `.dynsym` lists this
    /// definition (with version index `version`).
    pub exported: bool,
    /// Set by [`exports::mark`]: bound at run time, not at link time. A
    /// shared object's default-visibility definitions (another module may
    /// interpose them) and its undefined symbols; references go through
    /// the GOT and PLT as to a shared object's symbol.
    pub preemptible: bool,
    /// `.gnu.version` of an exported definition: 1 (base) or a version
    /// script's index, with `VERSYM_HIDDEN` for a non-default `foo@V`.
    pub version: u16,
}

/// A shared object linked in, and whether it gets a `DT_NEEDED`.
pub struct LoadedDso<'a> {
    pub so: crate::input::dso::SharedObject<'a>,
    /// Under `--as-needed`, loaded only because it defines a symbol that
    /// was referenced then; otherwise always needed.
    pub as_needed: bool,
}

/// Storage that outlives parsing: thin-archive member files, and names.
/// (Archive members are read in place: ELF record types are unaligned, so
/// ar's 2-byte member alignment needs no copy.)
#[derive(Default)]
pub struct Stores {
    files: Arena<Bytes>,
    /// Names given on the command line (`-u`, `-e`) that become symbols.
    names: Arena<Vec<u8>>,
    /// Parsing options, and decompressed sections.
    pub parse: crate::input::object::ParseCtx,
}

impl Stores {
    /// Keeps a thin archive member's file for the whole link.
    fn keep_file<'a>(&'a self, bytes: Bytes) -> &'a [u8] {
        let bytes: &'a Bytes = self.files.alloc(bytes);
        bytes
    }
}

pub struct Resolution<'a> {
    pub objects: Vec<ObjectFile<'a>>,
    /// Shared objects whose symbols were added, in command-line order:
    /// each gets a `DT_NEEDED` (an `--as-needed` one that nothing needed
    /// is not added at all, as in GNU ld).
    pub dsos: Vec<LoadedDso<'a>>,
    pub symbols: Vec<GlobalSymbol<'a>>,
    pub by_name: crate::symmap::SymbolMap<'a>,
    /// `-x`/`-X`: the local symbols the output symbol table leaves out.
    pub discard: Discard,
    /// `--demangle`/`--no-demangle`, for messages naming symbols.
    pub demangle: bool,
    /// `--defsym`: (symbol, the symbol its value is relative to, offset).
    /// Each is `Definition::Synthetic`; a `None` base makes it absolute.
    pub defsyms: Vec<(SymId, Option<SymId>, i64)>,
}

impl<'a> Resolution<'a> {
    pub fn lookup(&self, name: &[u8]) -> Option<SymId> {
        self.by_name.get(name)
    }

    pub fn name(&self, id: SymId) -> String {
        String::from_utf8_lossy(self.symbols[id as usize].name).into_owned()
    }
}

struct Resolver<'a> {
    res: Resolution<'a>,
    comdats: FxHashMap<&'a [u8], FileId>,
    stores: &'a Stores,
    errors: Vec<Error>,
    /// Every symbol that became wanted (undefined and strongly referenced,
    /// or COMMON), in order. Archives look only at the part they have not
    /// seen yet.
    wanted_log: Vec<SymId>,
    /// Moves whenever a symbol enters the table undefined or COMMON, or an
    /// undefined one becomes strongly referenced: GNU ld's `undefs_tail`.
    /// Another pass over an archive, or over a group, is made only if a
    /// pass moved it.
    undefs: u64,
    /// `-t` given this many times.
    trace: u8,
    /// `--wrap` names.
    wrap: FxHashSet<&'a [u8]>,
    allow_multiple_definition: bool,
    /// Not `-r`: a default-version definition `foo@@V` also defines `foo`
    /// and `foo@V`, as in GNU ld's static links.
    final_link: bool,
    /// Names with a version (`foo@V`): an `--as-needed` shared object is
    /// needed when it defines one an object refers to.
    versioned: Vec<SymId>,
}

/// An archive on the command line and how far its scan has got.
struct ArchiveScan<'a> {
    input: usize,
    name: String,
    ar: input::Archive<'a>,
    loaded: Vec<bool>,
    /// Symbol name → positions in the archive's symbol index naming it. A
    /// default-version name `foo@@V` is filed under `foo@V` and `foo` as
    /// well, the names GNU ld tries for it.
    by_name: FxHashMap<&'a [u8], Vec<u32>>,
    /// How much of `Resolver::wanted_log` this archive has looked at.
    cursor: usize,
    /// The current pass is at this index position.
    pos: u32,
    /// Positions to visit in the current pass, smallest first.
    ahead: BinaryHeap<Reverse<u32>>,
    /// Positions whose symbol became wanted after the pass went by: the
    /// next pass's.
    behind: Vec<u32>,
    /// Members parsed ahead of need, by member index.
    parsed: FxHashMap<usize, Result<ObjectFile<'a>>>,
}

impl<'a> ArchiveScan<'a> {
    /// Indexes an archive's symbol table by name. Runs in parallel with the
    /// other inputs, so the `foo@V` names a default-version entry `foo@@V`
    /// is also filed under are returned to be added later, with
    /// [`add_aliases`](Self::add_aliases), from the one thread that owns
    /// the arena they go in.
    fn new(input: usize, name: String, ar: input::Archive<'a>) -> (ArchiveScan<'a>, Aliases) {
        let mut by_name: FxHashMap<&'a [u8], Vec<u32>> = FxHashMap::default();
        let mut aliases = Vec::new();
        for (k, &(sym, _)) in ar.index.iter().enumerate() {
            by_name.entry(sym).or_default().push(k as u32);
            if let Some((base, with_one_at)) = split_default_version(sym) {
                by_name.entry(base).or_default().push(k as u32);
                aliases.push((with_one_at, k as u32));
            }
        }
        let scan = ArchiveScan {
            input,
            name,
            loaded: vec![false; ar.members.len()],
            ar,
            by_name,
            cursor: 0,
            pos: 0,
            ahead: BinaryHeap::new(),
            behind: Vec::new(),
            parsed: FxHashMap::default(),
        };
        (scan, aliases)
    }

    fn add_aliases(&mut self, aliases: Aliases, stores: &'a Stores) {
        for (name, k) in aliases {
            let name: &'a [u8] = stores.names.alloc(name);
            self.by_name.entry(name).or_default().push(k);
        }
    }
}

/// `foo@V` names made from an archive index's `foo@@V` entries, with the
/// entry's position.
type Aliases = Vec<(Vec<u8>, u32)>;

/// An input as the parallel first look leaves it: a parsed object, or an
/// archive with its symbol index read.
enum Opened<'a> {
    Object(Result<ObjectFile<'a>>),
    Shared(Result<crate::input::dso::SharedObject<'a>>),
    Archive(Result<(ArchiveScan<'a>, Aliases)>),
}

/// For a default-version name `foo@@V`: `foo` and `foo@V`.
fn default_version_aliases<'a>(name: &'a [u8], stores: &'a Stores) -> Option<(&'a [u8], &'a [u8])> {
    let (base, one) = split_default_version(name)?;
    Some((base, &stores.names.alloc(one)[..]))
}

/// `foo@@V` as `foo` and a new `foo@V`; `None` for any other name.
fn split_default_version(name: &[u8]) -> Option<(&[u8], Vec<u8>)> {
    let at = memchr::memchr(b'@', name)?;
    if name.get(at + 1) != Some(&b'@') {
        return None;
    }
    let mut one = Vec::with_capacity(name.len() - 1);
    one.extend_from_slice(&name[..=at]);
    one.extend_from_slice(&name[at + 2..]);
    Some((&name[..at], one))
}

/// bfd's `is_global_data_symbol_definition`: whether a member's symbol
/// really defines a COMMON symbol's name (a global, non-function, non-common
/// definition), so that the member is loaded for it.
fn defines_data(obj: &ObjectFile, name: &[u8]) -> bool {
    let Some(i) = (obj.first_global..obj.symbols.len()).find(|&i| obj.name_of(i) == name) else {
        return false;
    };
    let sym = &obj.symbols[i];
    let shndx = sym.st_shndx.get(E);
    (sym.st_bind() == elf::STB_GLOBAL || sym.st_bind() >= elf::STB_LOOS)
        && sym.st_type() != elf::STT_FUNC
        && shndx != elf::SHN_UNDEF
        && shndx != elf::SHN_COMMON
        && !(elf::SHN_LORESERVE..elf::SHN_ABS).contains(&shndx)
}

pub fn resolve<'a>(
    args: &Args,
    inputs: &'a [OpenedInput],
    stores: &'a Stores,
) -> Result<Resolution<'a>> {
    let final_link = args.kind != crate::args::OutputKind::Relocatable;
    let mut r = Resolver {
        res: Resolution {
            objects: Vec::new(),
            dsos: Vec::new(),
            symbols: Vec::new(),
            by_name: Default::default(),
            discard: args.discard,
            demangle: args.demangle,
            defsyms: Vec::new(),
        },
        comdats: FxHashMap::default(),
        stores,
        errors: Vec::new(),
        wanted_log: Vec::new(),
        undefs: 0,
        trace: args.trace,
        wrap: args
            .wrap
            .iter()
            .map(|s| &stores.names.alloc(s.clone().into_bytes())[..])
            .collect(),
        allow_multiple_definition: args.allow_multiple_definition,
        final_link,
        versioned: Vec::new(),
    };
    // `-u` symbols and the entry point are undefined references from the
    // start, so archive members defining them are loaded.
    let entry = args.entry.clone().unwrap_or_else(|| "_start".to_string());
    let forced: Vec<&'a [u8]> = args
        .undefined
        .iter()
        .chain((args.kind == crate::args::OutputKind::StaticExe).then_some(&entry))
        .map(|s| &stores.names.alloc(s.clone().into_bytes())[..])
        .collect();
    for name in forced {
        let id = r.intern(name);
        r.mark_strong_ref(id);
    }
    // `--defsym`: the symbols a value is relative to are references too.
    let defsyms: Vec<(SymId, Option<SymId>, i64)> = args
        .defsyms
        .iter()
        .map(|d| {
            let id = r.intern(&stores.names.alloc(d.name.clone().into_bytes())[..]);
            let base = d.base.as_ref().map(|b| {
                let b = r.intern(&stores.names.alloc(b.clone().into_bytes())[..]);
                r.mark_strong_ref(b);
                b
            });
            (id, base, d.offset)
        })
        .collect();

    // Objects named on the command line are all loaded: parse them at once,
    // in parallel, and add each when its turn comes. Archives' member lists
    // and symbol indexes are read in the same pass. A failure is reported
    // when its input's turn comes, as if each were read in order.
    let ctx = &stores.parse;
    let mut opened: Vec<Option<Opened<'a>>> = inputs
        .par_iter()
        .enumerate()
        .map(|(i, inp)| {
            let name = inp.path.display().to_string();
            Some(if input::is_archive(&inp.bytes) {
                Opened::Archive(
                    input::parse_archive(&inp.path, &inp.bytes)
                        .map(|ar| ArchiveScan::new(i, name, ar)),
                )
            } else if crate::input::dso::is_shared_object(&inp.bytes) {
                let default_soname = match inp.from_library {
                    true => inp
                        .path
                        .file_name()
                        .map_or_else(Vec::new, |n| n.to_string_lossy().into_owned().into_bytes()),
                    false => name.clone().into_bytes(),
                };
                Opened::Shared(crate::input::dso::SharedObject::parse(
                    name,
                    &default_soname,
                    &inp.bytes,
                ))
            } else if !inp.bytes.starts_with(b"\x7fELF") {
                Opened::Object(Err(crate::input::object::unrecognized(&name, &inp.bytes)))
            } else {
                Opened::Object(ObjectFile::parse(0, name, &inp.bytes, ctx))
            })
        })
        .collect();
    let mut archives: Vec<ArchiveScan<'a>> = Vec::new();
    let mut group_undefs = 0;
    for (i, inp) in inputs.iter().enumerate() {
        let group_starts = inp.group.is_some() && (i == 0 || inputs[i - 1].group != inp.group);
        if group_starts {
            group_undefs = r.undefs;
        }
        for script in &inp.scripts {
            r.trace_line(&script.display().to_string());
        }
        match opened[i].take().expect("each input is taken once") {
            Opened::Archive(scan) => {
                let (mut scan, aliases) = scan?;
                scan.add_aliases(aliases, stores);
                if inp.whole_archive {
                    r.load_whole_archive(&mut scan)?;
                } else {
                    r.scan_archive(&mut scan)?;
                }
                archives.push(scan);
            }
            Opened::Shared(so) => {
                let so = so?;
                if !final_link {
                    crate::bail!(
                        "rivet: {}: a shared object cannot be linked into a relocatable output (-r)",
                        so.path
                    );
                }
                r.trace_line(&so.path);
                r.add_shared(so, inp.as_needed);
            }
            Opened::Object(obj) => {
                let mut obj = obj?;
                r.trace_line(&obj.name);
                obj.id = r.res.objects.len() as FileId;
                r.add_object(obj);
            }
        }
        // At the end of a group, rescan its archives while the previous
        // round added undefined symbols (GNU ld: `undefs_tail` moved).
        if let Some(g) = inp.group {
            let group_ends = inputs.get(i + 1).is_none_or(|n| n.group != Some(g));
            if group_ends {
                while r.undefs != group_undefs {
                    group_undefs = r.undefs;
                    for scan in archives.iter_mut() {
                        if inputs[scan.input].group == Some(g) {
                            r.scan_archive(scan)?;
                        }
                    }
                }
            }
        }
    }
    if let Some(e) = r.errors.into_iter().next() {
        return Err(e);
    }
    bind_versioned_references(&mut r.res);
    // A `--defsym` assignment wins over any input's definition, as a
    // linker script's assignment does in GNU ld.
    for &(id, _, _) in &defsyms {
        r.res.symbols[id as usize].def = Definition::Synthetic;
    }
    r.res.defsyms = defsyms;
    Ok(r.res)
}

/// An object's reference to `foo@VER` (made with `.symver`, to pick an
/// older version of a function) binds to the shared object's `foo` of
/// version `VER`, default or not. The output imports it as `foo` with
/// that version ([`dynamic_name`]).
fn bind_versioned_references(res: &mut Resolution) {
    for id in 0..res.symbols.len() {
        let g = &res.symbols[id];
        if g.def != Definition::Undefined || g.first_ref.is_none() {
            continue;
        }
        let Some(at) = memchr::memchr(b'@', g.name) else {
            continue;
        };
        let (base, version) = (&g.name[..at], g.name[at..].trim_ascii_start());
        let version = version
            .strip_prefix(b"@@")
            .or_else(|| version.strip_prefix(b"@"));
        let Some(version) = version else { continue };
        let found = res.dsos.iter().enumerate().find_map(|(d, dso)| {
            let so = &dso.so;
            so.symbols.iter().enumerate().find_map(|(k, s)| {
                (s.name == base && so.exports(k) && so.version_name(s.version) == Some(version))
                    .then_some((d as u32, k as u32))
            })
        });
        if let Some((dso, sym)) = found {
            res.symbols[id].def = Definition::Shared { dso, sym };
        }
    }
}

/// A `--defsym` relative to a symbol nothing defines (checked once the
/// linker's own symbols are defined): GNU ld's error.
pub fn check_defsym_bases(res: &Resolution) -> crate::error::Result<()> {
    for &(_, base, _) in &res.defsyms {
        if let Some(b) = base {
            if res.symbols[b as usize].def == Definition::Undefined {
                crate::bail!(
                    "rivet: --defsym: undefined symbol `{}' referenced in expression",
                    res.name(b)
                );
            }
        }
    }
    Ok(())
}

/// The name a global has in a dynamic symbol table: without the
/// `@VERSION` of a versioned reference (the version goes in
/// `.gnu.version`).
pub fn dynamic_name(name: &[u8]) -> &[u8] {
    match memchr::memchr(b'@', name) {
        Some(at) if at > 0 => &name[..at],
        _ => name,
    }
}

impl<'a> Resolver<'a> {
    /// `-t` output, on stdout as GNU ld prints it.
    fn trace_line(&self, line: &str) {
        if self.trace > 0 {
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        }
    }

    fn intern(&mut self, name: &'a [u8]) -> SymId {
        self.intern_hashed(name, crate::symmap::hash_name(name)).0
    }

    /// The symbol's id, and whether it is new.
    fn intern_hashed(&mut self, name: &'a [u8], hash: u64) -> (SymId, bool) {
        if let Some(id) = self.res.by_name.get_hashed(name, hash) {
            return (id, false);
        }
        let id = self.res.symbols.len() as SymId;
        self.res.symbols.push(GlobalSymbol {
            name,
            def: Definition::Undefined,
            strong_ref: false,
            first_ref: None,
            ref_type: 0,
            dso_ref: false,
            dso_strong_ref: false,
            exported: false,
            preemptible: false,
            version: 0,
        });
        self.res.by_name.insert(name, hash, id);
        if memchr::memchr(b'@', name).is_some() {
            self.versioned.push(id);
        }
        (id, true)
    }

    fn mark_strong_ref(&mut self, id: SymId) {
        let s = &mut self.res.symbols[id as usize];
        if !s.strong_ref {
            s.strong_ref = true;
            if s.def == Definition::Undefined {
                self.wanted_log.push(id);
                self.undefs += 1;
            }
        }
    }

    /// Whether an archive member may be loaded for symbol `id`: it is
    /// undefined and strongly referenced, or COMMON (then only a member
    /// that really defines it is loaded).
    fn may_load_for(&self, id: SymId) -> bool {
        let s = &self.res.symbols[id as usize];
        match s.def {
            Definition::Undefined => s.strong_ref,
            Definition::Object { strength, .. } => strength == Strength::Common,
            Definition::Synthetic | Definition::Shared { .. } => false,
        }
    }

    /// The symbol an archive index entry names, looked up as GNU ld does
    /// (`_bfd_elf_archive_symbol_lookup`): `foo@@V` falls back to `foo@V`,
    /// then to `foo`.
    fn archive_lookup(&self, name: &[u8]) -> Option<SymId> {
        if let Some(id) = self.res.by_name.get(name) {
            return Some(id);
        }
        let (base, one) = split_default_version(name)?;
        self.res
            .by_name
            .get(&one)
            .or_else(|| self.res.by_name.get(base))
    }

    /// Queues the index positions of symbols that became wanted since the
    /// archive last looked: ahead of the pass for this one, behind it for
    /// the next.
    fn pull_wanted(&self, scan: &mut ArchiveScan<'a>) {
        let end = self.wanted_log.len();
        for k in scan.cursor..end {
            let id = self.wanted_log[k];
            if !self.may_load_for(id) {
                continue;
            }
            let Some(positions) = scan.by_name.get(self.res.symbols[id as usize].name) else {
                continue;
            };
            for &p in positions {
                if scan.loaded[scan.ar.index[p as usize].1] {
                    continue;
                }
                if p >= scan.pos {
                    scan.ahead.push(Reverse(p));
                } else {
                    scan.behind.push(p);
                }
            }
        }
        scan.cursor = end;
    }

    /// One scan of an archive, as GNU ld makes it each time it opens the
    /// archive: passes over the symbol index until a pass adds no undefined
    /// symbol.
    fn scan_archive(&mut self, scan: &mut ArchiveScan<'a>) -> Result<()> {
        self.trace_line(&scan.name);
        let mut pass_undefs = self.undefs;
        scan.pos = 0;
        scan.ahead.extend(scan.behind.drain(..).map(Reverse));
        loop {
            self.pull_wanted(scan);
            let Some(Reverse(p)) = scan.ahead.pop() else {
                if scan.behind.is_empty() || self.undefs == pass_undefs {
                    return Ok(());
                }
                pass_undefs = self.undefs;
                scan.pos = 0;
                scan.ahead.extend(scan.behind.drain(..).map(Reverse));
                continue;
            };
            scan.pos = p + 1;
            let (name, m) = scan.ar.index[p as usize];
            if scan.loaded[m] || !self.entry_wanted(scan, name, m) {
                continue;
            }
            let obj = self.take_parsed(scan, m)?;
            self.add_member(scan, m, obj);
        }
    }

    /// Whether the index entry `name` for member `m` loads the member now.
    fn entry_wanted(&self, scan: &mut ArchiveScan<'a>, name: &[u8], m: usize) -> bool {
        let Some(id) = self.archive_lookup(name) else {
            return false;
        };
        let s = &self.res.symbols[id as usize];
        match s.def {
            Definition::Undefined => s.strong_ref,
            Definition::Object {
                strength: Strength::Common,
                ..
            } => {
                self.parse_ahead(scan, m);
                // A member that does not parse defines nothing (bfd); if
                // it is needed for an undefined symbol, loading it says why.
                scan.parsed[&m]
                    .as_ref()
                    .is_ok_and(|obj| defines_data(obj, name))
            }
            _ => false,
        }
    }

    /// Parses member `m` unless already parsed, together (in parallel) with
    /// the other members the current pass may load.
    fn parse_ahead(&self, scan: &mut ArchiveScan<'a>, m: usize) {
        if scan.parsed.contains_key(&m) {
            return;
        }
        let mut batch = vec![m];
        for &Reverse(p) in scan.ahead.iter() {
            let (name, k) = scan.ar.index[p as usize];
            if !scan.loaded[k]
                && !scan.parsed.contains_key(&k)
                && self
                    .archive_lookup(name)
                    .is_some_and(|id| self.may_load_for(id))
            {
                batch.push(k);
            }
        }
        batch.sort_unstable();
        batch.dedup();
        let done = self.parse_members(scan, &batch);
        scan.parsed.extend(batch.into_iter().zip(done));
    }

    fn take_parsed(&self, scan: &mut ArchiveScan<'a>, m: usize) -> Result<ObjectFile<'a>> {
        self.parse_ahead(scan, m);
        scan.parsed.remove(&m).expect("parsed above")
    }

    /// Reads members (serially: the stores are not shared between threads)
    /// and parses them in parallel.
    fn parse_members(
        &self,
        scan: &ArchiveScan<'a>,
        which: &[usize],
    ) -> Vec<Result<ObjectFile<'a>>> {
        let archive_name = scan.name.as_str();
        let read: Vec<(String, &str, Result<&'a [u8]>)> = which
            .iter()
            .map(|&m| {
                let member = &scan.ar.members[m];
                let name = format!("{archive_name}({})", member.name);
                let data = match &member.data {
                    MemberData::Inline(d) => Ok(*d),
                    MemberData::External(path) => input::map_file(path)
                        .map(|bytes| self.stores.keep_file(bytes))
                        .map_err(|e| err!("{archive_name}: thin archive member: {}", e.0)),
                };
                (name, member.name.as_str(), data)
            })
            .collect();
        let ctx = &self.stores.parse;
        read.into_par_iter()
            .map(|(name, member, data)| {
                let mut obj = ObjectFile::parse(0, name, data?, ctx)?;
                obj.basename = crate::input::object::basename(member).to_owned();
                Ok(obj)
            })
            .collect()
    }

    fn add_member(&mut self, scan: &mut ArchiveScan<'a>, m: usize, mut obj: ObjectFile<'a>) {
        if self.trace > 1 || (self.trace > 0 && scan.ar.thin) {
            let member = &scan.ar.members[m];
            match &member.data {
                MemberData::External(path) => self.trace_line(&path.display().to_string()),
                MemberData::Inline(_) => {
                    self.trace_line(&format!("({}){}", scan.name, member.name))
                }
            }
        }
        scan.loaded[m] = true;
        obj.id = self.res.objects.len() as FileId;
        self.add_object(obj);
    }

    /// `--whole-archive`: every member, in order.
    fn load_whole_archive(&mut self, scan: &mut ArchiveScan<'a>) -> Result<()> {
        self.trace_line(&scan.name);
        let all: Vec<usize> = (0..scan.ar.members.len()).collect();
        let parsed = self.parse_members(scan, &all);
        for (m, obj) in all.into_iter().zip(parsed) {
            self.add_member(scan, m, obj?);
        }
        Ok(())
    }

    fn add_object(&mut self, mut obj: ObjectFile<'a>) {
        let id = obj.id;
        // COMDAT: the first group with a signature wins; later copies go.
        for g in 0..obj.groups.len() {
            if !obj.groups[g].comdat {
                continue;
            }
            let sig = obj.groups[g].signature;
            if self.comdats.contains_key(sig) {
                let section = obj.groups[g].section as usize;
                obj.sections[section].kept = false;
                for k in 0..obj.groups[g].members.len() {
                    let m = obj.groups[g].members[k] as usize;
                    obj.sections[m].kept = false;
                }
            } else {
                self.comdats.insert(sig, id);
            }
        }
        let mut ids = Vec::with_capacity(obj.symbols.len() - obj.first_global);
        for i in obj.first_global..obj.symbols.len() {
            let sym = &obj.symbols[i];
            let name = obj.name_of(i);
            let place = obj.place_of(i);
            let (sid, new) = match self.wrapped(name, place) {
                Some(to) => self.intern_hashed(to, crate::symmap::hash_name(to)),
                None => self.intern_hashed(name, obj.global_hashes[i - obj.first_global]),
            };
            ids.push(sid);
            let weak = sym.st_bind() == elf::STB_WEAK;
            let defined_here = match place {
                SymPlace::Undefined => false,
                SymPlace::Section(s) => obj.sections.get(s as usize).is_some_and(|s| s.kept),
                _ => true,
            };
            if !defined_here {
                if new {
                    self.undefs += 1;
                }
                if place == SymPlace::Undefined && !weak {
                    self.mark_strong_ref(sid);
                }
                let gs = &mut self.res.symbols[sid as usize];
                if gs.first_ref.is_none() {
                    gs.first_ref = Some(id);
                    gs.ref_type = obj.symbols[i].st_type();
                }
                continue;
            }
            let strength = match place {
                SymPlace::Common => Strength::Common,
                _ if weak => Strength::Weak,
                _ => Strength::Strong,
            };
            if new && strength == Strength::Common {
                self.undefs += 1;
            }
            let new_def = Definition::Object {
                file: id,
                sym: i as u32,
                strength,
            };
            self.define(sid, new_def, &obj, name);
            if self.final_link && strength != Strength::Common {
                if let Some((base, with_one_at)) = default_version_aliases(name, self.stores) {
                    for alias in [base, with_one_at] {
                        let aid = self.intern(alias);
                        self.define(aid, new_def, &obj, alias);
                    }
                }
            }
        }
        obj.global_ids = ids;
        self.res.objects.push(obj);
    }

    /// Adds a shared object's dynamic symbols: each exported name it
    /// defines that no regular object defined is now defined by it. Under
    /// `--as-needed` the object is added only if it defines a symbol that
    /// is referenced non-weakly now, by a regular object or by a shared
    /// object that does not list it in its own `DT_NEEDED` (GNU ld's rule);
    /// otherwise it is left out entirely, so a later reference cannot bind
    /// to it (GNU ld removes its symbols too).
    fn add_shared(&mut self, so: crate::input::dso::SharedObject<'a>, as_needed: bool) {
        // The same library named twice (gcc passes `-lgcc_s` twice) is
        // loaded once, as GNU ld loads it.
        if self.res.dsos.iter().any(|d| d.so.soname == so.soname) {
            return;
        }
        if as_needed && !self.shared_is_needed(&so) {
            return;
        }
        let dso = self.res.dsos.len() as u32;
        for (i, s) in so.symbols.iter().enumerate() {
            if s.name.is_empty() {
                continue;
            }
            if !so.exports(i) {
                if !s.defined && s.version != 0 {
                    let sid = self.intern(s.name);
                    let g = &mut self.res.symbols[sid as usize];
                    g.dso_ref = true;
                    g.dso_strong_ref |= s.bind != elf::STB_WEAK;
                }
                continue;
            }
            // A non-default version (`foo@V`) is bound only by references
            // naming that version, which regular objects rarely make.
            if s.hidden {
                continue;
            }
            let sid = self.intern(s.name);
            let g = &mut self.res.symbols[sid as usize];
            g.dso_ref = true;
            if g.def == Definition::Undefined {
                g.def = Definition::Shared { dso, sym: i as u32 };
            }
        }
        self.res.dsos.push(LoadedDso { so, as_needed });
    }

    /// Whether an `--as-needed` shared object defines a symbol someone needs now.
    fn shared_is_needed(&self, so: &crate::input::dso::SharedObject<'a>) -> bool {
        let listed = self
            .res
            .dsos
            .iter()
            .any(|d| d.so.needed.contains(&so.soname.as_slice()));
        // A reference to `foo@V` (`.symver`) needs the object defining
        // `foo` in version `V`, default or not.
        let versioned_ref = self.versioned.iter().any(|&id| {
            let g = &self.res.symbols[id as usize];
            if g.def != Definition::Undefined || !g.strong_ref {
                return false;
            }
            let Some(at) = memchr::memchr(b'@', g.name).filter(|&at| at > 0) else {
                return false;
            };
            let (base, version) = (&g.name[..at], &g.name[at + 1..]);
            let version = version.strip_prefix(b"@").unwrap_or(version);
            so.symbols.iter().enumerate().any(|(k, s)| {
                s.name == base && so.exports(k) && so.version_name(s.version) == Some(version)
            })
        });
        if versioned_ref {
            return true;
        }
        so.symbols.iter().enumerate().any(|(i, s)| {
            if s.hidden || !so.exports(i) {
                return false;
            }
            let Some(id) = self.res.by_name.get(s.name) else {
                return false;
            };
            let g = &self.res.symbols[id as usize];
            !matches!(g.def, Definition::Object { .. })
                && (g.strong_ref || (g.dso_strong_ref && !listed))
        })
    }

    /// `--wrap`: what an undefined reference to `name` refers to instead.
    fn wrapped(&self, name: &[u8], place: SymPlace) -> Option<&'a [u8]> {
        if self.wrap.is_empty() || place != SymPlace::Undefined {
            return None;
        }
        if let Some(w) = self.wrap.get(name) {
            let mut to = b"__wrap_".to_vec();
            to.extend_from_slice(w);
            return Some(&self.stores.names.alloc(to)[..]);
        }
        let real = name.strip_prefix(b"__real_")?;
        self.wrap.get(real).copied()
    }

    /// Merges definition `new` (of `obj`, which is being added) into symbol
    /// `sid`: strong beats COMMON beats weak, the larger COMMON wins, two
    /// strong definitions are an error (unless multiple definitions are
    /// allowed, when the first stays).
    fn define(&mut self, sid: SymId, new: Definition, obj: &ObjectFile<'a>, name: &[u8]) {
        let Definition::Object {
            file: id,
            sym: i,
            strength,
        } = new
        else {
            return;
        };
        let gs = &mut self.res.symbols[sid as usize];
        match gs.def {
            // A regular object's definition, even a weak one, takes the
            // place of a shared object's (GNU ld's rule).
            Definition::Undefined | Definition::Synthetic | Definition::Shared { .. } => {
                gs.def = new;
                if strength == Strength::Common {
                    self.wanted_log.push(sid);
                }
            }
            Definition::Object {
                file,
                sym: osym,
                strength: old,
            } => {
                // A malformed file may define one name twice itself,
                // before it is in `objects`.
                let owner = if file == id {
                    obj
                } else {
                    &self.res.objects[file as usize]
                };
                if old == Strength::Strong && strength == Strength::Strong {
                    if !self.allow_multiple_definition {
                        self.errors.push(err!(
                            "rivet: error: duplicate symbol: {}\n>>> defined in {}\n>>> defined in {}",
                            crate::demangle::pretty(name, self.res.demangle),
                            owner.name,
                            obj.name
                        ));
                    }
                } else if strength > old {
                    gs.def = new;
                    if strength == Strength::Common {
                        self.wanted_log.push(sid);
                    }
                } else if strength == Strength::Common && old == Strength::Common {
                    let old_size = owner.symbols[osym as usize].st_size.get(E);
                    if obj.symbols[i as usize].st_size.get(E) > old_size {
                        gs.def = new;
                    }
                }
            }
        }
    }
}
