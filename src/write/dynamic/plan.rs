//! What a dynamic output's tables hold, counted exactly before anything is
//! laid out: which symbols `.dynsym` lists and in what order, the strings
//! of `.dynstr`, the version tables, the units of `.rela.dyn` and their
//! record counts, and the tags of `.dynamic`. The layout gives each table
//! its size from here; [`super::write`] fills them from the same plan.

use super::gnu_hash::{gnu_hash, sysv_hash, sysv_hash_size, GnuHashShape};
use crate::arch::x86_64::{got_record, GotRecord};
use crate::args::{Args, HashStyle};
use crate::layout::got::{GotPlan, SymRef};
use crate::layout::Sections;
use crate::resolve::mode::OutputMode;
use crate::resolve::{dynamic_name, Definition, Resolution, SymId};
use object::elf;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

/// `.relr.dyn`'s tags (not in the `object` crate's list).
pub const DT_RELRSZ: i64 = 35;
pub const DT_RELR: i64 = 36;
pub const DT_RELRENT: i64 = 37;

/// Bytes of one `Elf64_Rela`.
pub const RELA_SIZE: u64 = 24;
/// Bytes of one `Elf64_Sym`.
pub const DYNSYM_SIZE: u64 = 24;
/// `.dynsym`, its names in `.dynstr` and `.gnu.version` are written in
/// shards of this many symbols, one task each.
pub const DYNSYM_SHARD: usize = 4096;

/// One slice of `.rela.dyn`, written by one task. The relative records of
/// every unit come before all symbolic ones, so that `DT_RELACOUNT` counts
/// a prefix, as glibc's loader expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelaUnit {
    /// `R_X86_64_RELATIVE` for GOT entries, in GOT order.
    GotRelative,
    /// `R_X86_64_RELATIVE` for the places of input section
    /// `got.place_records[i]`, in relocation order.
    SectionRelative(u32),
    /// `GLOB_DAT` and `TPOFF64` for GOT entries, in GOT order.
    GotSymbolic,
    /// `R_X86_64_64` for the places of `got.place_records[i]`.
    SectionSymbolic(u32),
    /// `R_X86_64_COPY`, one per copied variable.
    Copies,
}

/// Where a `.dynamic` entry's value comes from, once addresses are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DynValue {
    Num(u64),
    /// An offset in `.dynstr`.
    Str(u32),
    /// The address or size of the output section of that name.
    Addr(&'static [u8]),
    Size(&'static [u8]),
    /// The value of the global symbol of that name (`_init`, `_fini`).
    Sym(SymId),
}

/// One `.dynsym` entry after the null one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DynEntry {
    /// A global of the link.
    Global(SymId),
    /// A shared object's version definition `k` (index `k + 2`): GNU ld
    /// lists each named version as an absolute symbol of that name.
    Version(u16),
    /// A symbol the linker always defines (`_edata`, `__bss_start`,
    /// `_end`), which `-E` exports as GNU ld does.
    Linker(&'static str),
}

pub struct DynPlan {
    /// `.interp`'s bytes, NUL included; empty for a program that
    /// relocates itself (`--no-dynamic-linker`).
    pub interp: Vec<u8>,
    /// `.dynsym` after the null entry, in order: symbols resolved to shared
    /// objects (imports) first, then the hashed ones (defined here), in
    /// `.gnu.hash` bucket order.
    pub symbols: Vec<DynEntry>,
    /// `.dynsym` index of every symbol listed.
    pub index: FxHashMap<SymId, u32>,
    /// Index of the first hashed symbol.
    pub symoffset: u32,
    /// `.gnu.hash`'s shape and the hashes of the hashed symbols, in order.
    pub gnu_hash: Option<(GnuHashShape, Vec<u32>)>,
    /// `.hash`: the SysV hash of every entry (the null one's included).
    pub sysv_hash: Option<Vec<u32>>,
    /// `.dynstr`'s head: the empty string, needed names, run path,
    /// version names. The symbols' names follow, shard by shard.
    pub dynstr: Vec<u8>,
    /// Bytes of each shard's names in `.dynstr`.
    pub shard_names: Vec<u64>,
    /// `.dynstr` offset of each listed symbol's name.
    pub name_off: Vec<u32>,
    /// `.gnu.version`, one entry per `.dynsym` entry.
    pub versym: Vec<u16>,
    /// `.gnu.version_r`'s bytes and entry count (0: no section).
    pub verneed: Vec<u8>,
    pub verneed_count: u32,
    /// `.gnu.version_d`'s bytes and entry count (0: no section): a shared
    /// object's base version, then its version script's named versions.
    pub verdef: Vec<u8>,
    pub verdef_count: u32,
    /// `.rela.dyn`'s units and their record counts.
    pub rela_units: Vec<(RelaUnit, u64)>,
    /// RELATIVE records left in `.rela.dyn` (`DT_RELACOUNT`).
    pub relative_count: u64,
    /// Places `.relr.dyn` relocates (`-z pack-relative-relocs`); its size
    /// depends on their addresses ([`super::write::RelrPlaces`]).
    pub relr_count: u64,
    /// `.dynamic`'s entries, `DT_NULL` included.
    pub dynamic: Vec<(i64, DynValue)>,
}

impl DynPlan {
    pub fn dynsym_count(&self) -> usize {
        self.symbols.len() + 1
    }
    /// Shards of `.dynsym` (at least one: it holds the null entry).
    pub fn shards(&self) -> usize {
        self.symbols.len().div_ceil(DYNSYM_SHARD).max(1)
    }
    /// The symbols of shard `k` (indices into `symbols`).
    pub fn shard(&self, k: usize) -> std::ops::Range<usize> {
        let start = (k * DYNSYM_SHARD).min(self.symbols.len());
        start..(start + DYNSYM_SHARD).min(self.symbols.len())
    }
    /// `.dynsym` entries of shard `k`, the null entry counted in shard 0.
    pub fn shard_entries(&self, k: usize) -> u64 {
        self.shard(k).len() as u64 + u64::from(k == 0)
    }
    pub fn rela_dyn_records(&self) -> u64 {
        self.rela_units.iter().map(|u| u.1).sum()
    }
    pub fn rela_plt_records(got: &GotPlan) -> u64 {
        (got.plt.len() + got.iplt.len()) as u64
    }
}

/// The dynamic loader glibc installs on x86-64, GNU ld's default.
const DEFAULT_INTERP: &[u8] = b"/lib64/ld-linux-x86-64.so.2";

/// Strings of `.dynstr`, each stored once.
#[derive(Default)]
struct StrTab {
    bytes: Vec<u8>,
    at: FxHashMap<Vec<u8>, u32>,
}

impl StrTab {
    fn add(&mut self, s: &[u8]) -> u32 {
        if self.bytes.is_empty() {
            self.bytes.push(0);
        }
        if let Some(&o) = self.at.get(s) {
            return o;
        }
        let o = self.bytes.len() as u32;
        self.bytes.extend_from_slice(s);
        self.bytes.push(0);
        self.at.insert(s.to_vec(), o);
        o
    }
}

impl DynPlan {
    pub fn new(
        args: &Args,
        res: &Resolution,
        sections: &Sections,
        got: &GotPlan,
        mode: OutputMode,
        script: Option<&crate::input::version_script::VersionScript>,
    ) -> DynPlan {
        // Imports: names regular objects refer to that shared objects
        // define, and undefined weak names the loader may yet find (those
        // with a GOT entry, as GNU ld lists them).
        let weak_in_got: rustc_hash::FxHashSet<SymId> = got
            .got
            .iter()
            .filter_map(|(r, _)| match r {
                SymRef::Global(id) => Some(*id),
                SymRef::Local(..) | SymRef::Module => None,
            })
            .filter(|&id| {
                res.symbols[id as usize].def == Definition::Undefined && mode.has_loader()
            })
            .collect();
        // Each global's place in `.dynsym`, decided in parallel (an
        // executable linked with `-E` may export every one): imported
        // (false) or hashed (true), in symbol order.
        let placed: Vec<(SymId, bool)> = res
            .symbols
            .par_iter()
            .enumerate()
            .filter_map(|(id, g)| {
                let id = id as SymId;
                match g.def {
                    // Copied variables and canonical `.plt` entries have
                    // their address here: the loader must find them when it
                    // binds the shared objects' own references.
                    Definition::Shared { .. }
                        if got.copy_of.contains_key(&id) || got.canonical.contains(&id) =>
                    {
                        Some((id, true))
                    }
                    Definition::Shared { .. } if got.imports.binary_search(&id).is_ok() => {
                        Some((id, false))
                    }
                    Definition::Undefined if weak_in_got.contains(&id) => Some((id, false)),
                    // A shared object's undefined symbols that kept code
                    // refers to, for the loader.
                    Definition::Undefined
                        if g.preemptible && got.imports.binary_search(&id).is_ok() =>
                    {
                        Some((id, false))
                    }
                    Definition::Object { .. } if g.exported => Some((id, true)),
                    _ => None,
                }
            })
            .collect();
        // A shared object's named versions, as GNU ld lists them.
        let version_names: Vec<Vec<u8>> = match script {
            Some(script) if mode == OutputMode::Shared => script
                .nodes()
                .iter()
                .filter_map(|n| n.name.as_ref().map(|v| v.as_bytes().to_vec()))
                .collect(),
            _ => Vec::new(),
        };
        let mut hashed: Vec<DynEntry> = placed
            .iter()
            .filter(|p| p.1)
            .map(|p| DynEntry::Global(p.0))
            .collect();
        hashed.extend((0..version_names.len() as u16).map(DynEntry::Version));
        if args.export_dynamic && mode.is_executable() {
            // Unless an input defines the name: then that is exported.
            let ours = |n: &&&str| {
                res.lookup(n.as_bytes()).is_none_or(|id| {
                    !matches!(res.symbols[id as usize].def, Definition::Object { .. })
                })
            };
            hashed.extend(
                crate::layout::symvals::ALWAYS_DEFINED
                    .iter()
                    .filter(ours)
                    .map(|&n| DynEntry::Linker(n)),
            );
        }
        let imports: Vec<DynEntry> = placed
            .iter()
            .filter(|p| !p.1)
            .map(|p| DynEntry::Global(p.0))
            .collect();
        let name_of = |e: &DynEntry| -> &[u8] {
            match *e {
                DynEntry::Global(id) => dynamic_name(res.symbols[id as usize].name),
                DynEntry::Version(k) => &version_names[usize::from(k)],
                DynEntry::Linker(n) => n.as_bytes(),
            }
        };
        let symoffset = 1 + imports.len() as u32;
        let shape = GnuHashShape::new(symoffset, hashed.len());
        let with_gnu = matches!(args.hash_style, HashStyle::Gnu | HashStyle::Both);
        let with_sysv = matches!(args.hash_style, HashStyle::Sysv | HashStyle::Both);
        let mut keyed: Vec<(u32, DynEntry, u32)> = hashed
            .par_iter()
            .map(|e| {
                let h = gnu_hash(name_of(e));
                (if with_gnu { shape.bucket(h) } else { 0 }, *e, h)
            })
            .collect();
        keyed.par_sort_unstable();
        let mut symbols = imports;
        symbols.extend(keyed.iter().map(|k| k.1));
        let mut index: FxHashMap<SymId, u32> = symbols
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match *e {
                DynEntry::Global(id) => Some((id, i as u32 + 1)),
                DynEntry::Version(_) | DynEntry::Linker(_) => None,
            })
            .collect();
        // `foo` and `foo@V`, the names a default-version definition `foo@@V`
        // also has, are listed as it is.
        if mode == OutputMode::Shared {
            let aliases: Vec<(SymId, u32)> = res
                .symbols
                .par_iter()
                .enumerate()
                .filter_map(|(id, g)| {
                    let Definition::Object { file, sym, .. } = g.def else {
                        return None;
                    };
                    if g.exported || !g.preemptible {
                        return None;
                    }
                    let own = res.objects[file as usize].name_of(sym as usize);
                    let primary = res.lookup(own)?;
                    Some((id as SymId, *index.get(&primary)?))
                })
                .collect();
            index.extend(aliases);
        }

        // .dynstr: needed names, the run path, version names (its head),
        // then the symbols' names in `.dynsym` order, shard by shard.
        let mut strs = StrTab::default();
        strs.add(b"");
        let needed: Vec<u32> = res.dsos.iter().map(|d| strs.add(&d.so.soname)).collect();
        let soname = args.soname.as_ref().map(|n| strs.add(n.as_bytes()));
        let runpath = (!args.rpath.is_empty()).then(|| strs.add(args.rpath.join(":").as_bytes()));

        // Versions: each (shared object, version name) an imported or
        // copied symbol is bound to gets an index from 2 up.
        let mut version_index: FxHashMap<(u32, &[u8]), u16> = FxHashMap::default();
        let mut by_dso: Vec<Vec<(&[u8], u16)>> = vec![Vec::new(); res.dsos.len()];
        // Needed versions are numbered after the defined ones.
        let defined_versions = match script {
            Some(script) if mode == OutputMode::Shared => {
                script.nodes().iter().filter(|n| n.name.is_some()).count() as u16
            }
            _ => 0,
        };
        let mut versym = vec![0u16];
        for e in &symbols {
            let id = match *e {
                DynEntry::Global(id) => id,
                DynEntry::Version(k) => {
                    versym.push(k + 2);
                    continue;
                }
                DynEntry::Linker(_) => {
                    versym.push(1);
                    continue;
                }
            };
            let v = match res.symbols[id as usize].def {
                Definition::Shared { dso, sym } => {
                    let so = &res.dsos[dso as usize].so;
                    let s = &so.symbols[sym as usize];
                    match (s.version >= 2)
                        .then(|| so.version_name(s.version))
                        .flatten()
                    {
                        Some(name) => {
                            let next = 2 + defined_versions + version_index.len() as u16;
                            *version_index.entry((dso, name)).or_insert_with(|| {
                                by_dso[dso as usize].push((name, next));
                                next
                            })
                        }
                        None => 1,
                    }
                }
                Definition::Object { .. } => g_version(res, id),
                _ => 1,
            };
            versym.push(v);
        }
        // .rela.dyn: relative records first (GOT, then sections), then
        // symbolic ones, then copies.
        let mut got_relative = 0u64;
        let mut got_relr = 0u64;
        let mut got_symbolic = 0u64;
        for &(r, kind) in &got.got {
            let class = got.classes.of(res, r);
            match got_record(mode, class, kind) {
                GotRecord::None => {}
                GotRecord::Relative if got.pack_relative => got_relr += 1,
                GotRecord::Relative => got_relative += 1,
                GotRecord::Symbolic(_) | GotRecord::Local(_) => got_symbolic += 1,
            }
        }
        let mut rela_units = Vec::new();
        let mut push = |u: RelaUnit, n: u64| {
            if n > 0 {
                rela_units.push((u, n));
            }
        };
        push(RelaUnit::GotRelative, got_relative);
        for (i, r) in got.place_records.iter().enumerate() {
            push(
                RelaUnit::SectionRelative(i as u32),
                u64::from(r.relative - r.relr),
            );
        }
        push(RelaUnit::GotSymbolic, got_symbolic);
        for (i, r) in got.place_records.iter().enumerate() {
            push(RelaUnit::SectionSymbolic(i as u32), u64::from(r.symbolic));
        }
        push(RelaUnit::Copies, got.copies.len() as u64);
        let relative_count = got_relative
            + got
                .place_records
                .iter()
                .map(|r| u64::from(r.relative - r.relr))
                .sum::<u64>();
        let relr_count = got_relr
            + got
                .place_records
                .iter()
                .map(|r| u64::from(r.relr))
                .sum::<u64>();
        // A `.relr.dyn` needs a loader that reads it: GNU ld adds a need
        // of glibc's `GLIBC_ABI_DT_RELR` version, which older glibc lacks.
        if relr_count > 0 {
            let relr_version: &[u8] = b"GLIBC_ABI_DT_RELR";
            let provider = res
                .dsos
                .iter()
                .position(|d| d.so.versions.contains(&Some(relr_version)));
            if let Some(dso) = provider {
                let next = 2 + defined_versions + version_index.len() as u16;
                version_index.insert((dso as u32, relr_version), next);
                by_dso[dso].push((relr_version, next));
            }
        }

        let mut verneed = Vec::new();
        let files: Vec<usize> = (0..by_dso.len())
            .filter(|&d| !by_dso[d].is_empty())
            .collect();
        for (k, &d) in files.iter().enumerate() {
            let vers = &by_dso[d];
            let put16 = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
            let put32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
            put16(&mut verneed, 1); // vn_version
            put16(&mut verneed, vers.len() as u16);
            put32(&mut verneed, needed[d]); // vn_file
            put32(&mut verneed, 16); // vn_aux
            let next = if k + 1 == files.len() {
                0
            } else {
                16 + 16 * vers.len() as u32
            };
            put32(&mut verneed, next);
            for (j, &(name, idx)) in vers.iter().enumerate() {
                put32(&mut verneed, sysv_hash(name));
                put16(&mut verneed, 0); // vna_flags
                put16(&mut verneed, idx);
                put32(&mut verneed, strs.add(name));
                put32(&mut verneed, if j + 1 == vers.len() { 0 } else { 16 });
            }
        }

        let (verdef, verdef_count) = match script.filter(|s| !s.is_anonymous()) {
            Some(script) if mode == OutputMode::Shared => {
                // The base version is named after the object (its soname, or
                // the output file's name, as GNU ld names it).
                let base = args.soname.clone().unwrap_or_else(|| {
                    args.output
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                });
                version_definitions(&base, script, &mut strs)
            }
            _ => (Vec::new(), 0),
        };

        let interp = match &args.dynamic_linker {
            _ if mode == OutputMode::Shared && args.dynamic_linker.is_none() => Vec::new(),
            _ if args.no_dynamic_linker => Vec::new(),
            Some(p) => [p.as_bytes(), b"\0"].concat(),
            None => [DEFAULT_INTERP, b"\0"].concat(),
        };

        let sysv_hash = with_sysv.then(|| {
            std::iter::once(0)
                .chain(symbols.iter().map(|e| sysv_hash(name_of(e))))
                .collect()
        });
        let gnu = with_gnu.then(|| (shape, keyed.iter().map(|k| k.2).collect()));

        // Each shard's name bytes, then every name's offset by prefix sums.
        // A version's entry names the string `.gnu.version_d` names it with
        // (as GNU ld's, which readelf then shows without `@@V`): nothing of
        // its own in the shards.
        let version_off: Vec<u32> = version_names.iter().map(|n| strs.add(n)).collect();
        let name_len = |e: &DynEntry| match e {
            DynEntry::Version(_) => 0,
            _ => name_of(e).len() as u64 + 1,
        };
        let shard_names: Vec<u64> = symbols
            .chunks(DYNSYM_SHARD)
            .map(|c| c.iter().map(name_len).sum())
            .collect();
        let mut name_off = Vec::with_capacity(symbols.len());
        let mut at = strs.bytes.len() as u64;
        for e in &symbols {
            match *e {
                DynEntry::Version(k) => name_off.push(version_off[usize::from(k)]),
                _ => name_off.push(u32::try_from(at).unwrap_or(u32::MAX)),
            }
            at += name_len(e);
        }

        let mut plan = DynPlan {
            interp,
            shard_names,
            symbols,
            index,
            symoffset,
            gnu_hash: gnu,
            sysv_hash,
            dynstr: Vec::new(),
            name_off,
            versym,
            verneed_count: files.len() as u32,
            verneed,
            verdef,
            verdef_count,
            rela_units,
            relative_count,
            relr_count,
            dynamic: Vec::new(),
        };
        plan.dynamic = dynamic_entries(
            args,
            res,
            sections,
            got,
            mode,
            &plan,
            &needed,
            DynStrings { runpath, soname },
        );
        plan.dynstr = strs.bytes;
        plan
    }

    /// Whether the output has `.gnu.version`: it has version needs or
    /// definitions.
    pub fn has_versym(&self) -> bool {
        self.verneed_count > 0 || self.verdef_count > 0
    }

    pub fn sysv_hash_size(&self) -> u64 {
        sysv_hash_size(self.dynsym_count())
    }
}

/// `.dynstr` offsets of the strings `.dynamic` names besides the needed
/// objects.
struct DynStrings {
    runpath: Option<u32>,
    soname: Option<u32>,
}

/// An exported definition's `.gnu.version` entry.
fn g_version(res: &Resolution, id: SymId) -> u16 {
    res.symbols[id as usize].version.max(1)
}

/// `.gnu.version_d`: the base version `base` (index 1), then each named
/// version of `script` (index 2 up, in script order) with the versions
/// it inherits from, last named first, as GNU ld writes them.
fn version_definitions(
    base: &str,
    script: &crate::input::version_script::VersionScript,
    strs: &mut StrTab,
) -> (Vec<u8>, u32) {
    let mut defs: Vec<(u16, u16, &str, Vec<&str>)> = vec![(elf::VER_FLG_BASE, 1, base, Vec::new())];
    for (i, node) in script.nodes().iter().enumerate() {
        let Some(name) = &node.name else { continue };
        let parents = node.deps.iter().rev().map(String::as_str).collect();
        defs.push((0, i as u16 + 2, name, parents));
    }
    let mut out = Vec::new();
    let put16 = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let put32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    let count = defs.len();
    for (k, (flags, index, name, parents)) in defs.into_iter().enumerate() {
        let aux = 1 + parents.len();
        put16(&mut out, 1); // vd_version
        put16(&mut out, flags);
        put16(&mut out, index);
        put16(&mut out, aux as u16);
        put32(&mut out, sysv_hash(name.as_bytes()));
        put32(&mut out, 20); // vd_aux: the names follow the entry
        let next = if k + 1 == count {
            0
        } else {
            20 + 8 * aux as u32
        };
        put32(&mut out, next);
        for (j, n) in std::iter::once(name).chain(parents).enumerate() {
            put32(&mut out, strs.add(n.as_bytes()));
            put32(&mut out, if j + 1 == aux { 0 } else { 8 });
        }
    }
    (out, count as u32)
}

/// The `.dynamic` entries, in GNU ld's order.
#[allow(clippy::too_many_arguments)]
fn dynamic_entries(
    args: &Args,
    res: &Resolution,
    sections: &Sections,
    got: &GotPlan,
    mode: OutputMode,
    plan: &DynPlan,
    needed: &[u32],
    strings: DynStrings,
) -> Vec<(i64, DynValue)> {
    use DynValue::*;
    let mut d: Vec<(i64, DynValue)> = Vec::new();
    for &n in needed {
        d.push((i64::from(elf::DT_NEEDED), Str(n)));
    }
    if let Some(n) = strings.soname {
        d.push((i64::from(elf::DT_SONAME), Str(n)));
    }
    // `--dynamic-list` overrides -Bsymbolic, and GNU ld then marks neither.
    let symbolic = mode == OutputMode::Shared
        && args.symbolic == crate::args::Symbolic::All
        && args.dynamic_list.is_empty();
    if symbolic {
        d.push((i64::from(elf::DT_SYMBOLIC), Num(0)));
    }
    if let Some(r) = strings.runpath {
        let tag = if args.new_dtags {
            elf::DT_RUNPATH
        } else {
            elf::DT_RPATH
        };
        d.push((i64::from(tag), Str(r)));
    }
    let defined = |name: &[u8]| {
        res.lookup(name)
            .filter(|&id| matches!(res.symbols[id as usize].def, Definition::Object { .. }))
    };
    if let Some(id) = defined(args.init.as_bytes()) {
        d.push((i64::from(elf::DT_INIT), Sym(id)));
    }
    if let Some(id) = defined(args.fini.as_bytes()) {
        d.push((i64::from(elf::DT_FINI), Sym(id)));
    }
    for (name, at, size) in [
        (
            &b".preinit_array"[..],
            elf::DT_PREINIT_ARRAY,
            elf::DT_PREINIT_ARRAYSZ,
        ),
        (b".init_array", elf::DT_INIT_ARRAY, elf::DT_INIT_ARRAYSZ),
        (b".fini_array", elf::DT_FINI_ARRAY, elf::DT_FINI_ARRAYSZ),
    ] {
        let has_bytes = sections
            .find(name)
            .is_some_and(|o| o.chunks.iter().any(|c| c.size > 0));
        if !has_bytes {
            continue;
        }
        d.push((i64::from(at), Addr(name)));
        d.push((i64::from(size), Size(name)));
    }
    if plan.sysv_hash.is_some() {
        d.push((i64::from(elf::DT_HASH), Addr(b".hash")));
    }
    if plan.gnu_hash.is_some() {
        d.push((i64::from(elf::DT_GNU_HASH), Addr(b".gnu.hash")));
    }
    d.push((i64::from(elf::DT_STRTAB), Addr(b".dynstr")));
    d.push((i64::from(elf::DT_SYMTAB), Addr(b".dynsym")));
    d.push((i64::from(elf::DT_STRSZ), Size(b".dynstr")));
    d.push((i64::from(elf::DT_SYMENT), Num(DYNSYM_SIZE)));
    if mode != OutputMode::Shared {
        // Where the loader leaves `r_debug` for debuggers: executables only.
        d.push((i64::from(elf::DT_DEBUG), Num(0)));
    }
    if DynPlan::rela_plt_records(got) > 0 {
        d.push((i64::from(elf::DT_PLTGOT), Addr(b".got.plt")));
        d.push((i64::from(elf::DT_PLTRELSZ), Size(b".rela.plt")));
        d.push((i64::from(elf::DT_PLTREL), Num(u64::from(elf::DT_RELA))));
        d.push((i64::from(elf::DT_JMPREL), Addr(b".rela.plt")));
    }
    if plan.rela_dyn_records() > 0 {
        d.push((i64::from(elf::DT_RELA), Addr(b".rela.dyn")));
        d.push((i64::from(elf::DT_RELASZ), Size(b".rela.dyn")));
        d.push((i64::from(elf::DT_RELAENT), Num(RELA_SIZE)));
    }
    if plan.relr_count > 0 {
        d.push((DT_RELRSZ, Size(b".relr.dyn")));
        d.push((DT_RELR, Addr(b".relr.dyn")));
        d.push((DT_RELRENT, Num(8)));
    }
    if got.textrel {
        d.push((i64::from(elf::DT_TEXTREL), Num(0)));
    }
    let mut flags = 0u64;
    if args.z_origin {
        flags |= u64::from(elf::DF_ORIGIN);
    }
    if args.bind_now {
        flags |= u64::from(elf::DF_BIND_NOW);
    }
    if got.textrel {
        flags |= u64::from(elf::DF_TEXTREL);
    }
    // A shared object's initial-exec TLS must be in the static TLS block:
    // it cannot be loaded late by `dlopen` if that has no room left.
    let static_tls = got
        .got
        .iter()
        .any(|&(_, k)| k == crate::arch::x86_64::GotKind::TpOff);
    if mode == OutputMode::Shared && static_tls {
        flags |= u64::from(elf::DF_STATIC_TLS);
    }
    if symbolic {
        flags |= u64::from(elf::DF_SYMBOLIC);
    }
    if flags != 0 {
        d.push((i64::from(elf::DT_FLAGS), Num(flags)));
    }
    let mut flags_1 = 0u64;
    if args.bind_now {
        flags_1 |= u64::from(elf::DF_1_NOW);
    }
    if args.z_origin {
        flags_1 |= u64::from(elf::DF_1_ORIGIN);
    }
    if mode.is_pie() && mode != OutputMode::Shared {
        flags_1 |= u64::from(elf::DF_1_PIE);
    }
    flags_1 |= args.flags_1;
    if flags_1 != 0 {
        d.push((i64::from(elf::DT_FLAGS_1), Num(flags_1)));
    }
    if plan.verdef_count > 0 {
        d.push((i64::from(elf::DT_VERDEF), Addr(b".gnu.version_d")));
        d.push((
            i64::from(elf::DT_VERDEFNUM),
            Num(u64::from(plan.verdef_count)),
        ));
    }
    if plan.verneed_count > 0 {
        d.push((i64::from(elf::DT_VERNEED), Addr(b".gnu.version_r")));
        d.push((
            i64::from(elf::DT_VERNEEDNUM),
            Num(u64::from(plan.verneed_count)),
        ));
    }
    if plan.has_versym() {
        d.push((i64::from(elf::DT_VERSYM), Addr(b".gnu.version")));
    }
    if plan.relative_count > 0 {
        d.push((i64::from(elf::DT_RELACOUNT), Num(plan.relative_count)));
    }
    d.push((i64::from(elf::DT_NULL), Num(0)));
    d
}
