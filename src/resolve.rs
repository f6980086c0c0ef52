//! Symbol resolution: the global symbol table, archive member loading (with
//! group rescanning), COMDAT deduplication, and the strong/weak/common rules.
//!
//! Files are added in command-line order, as GNU ld reads them. Archive
//! members are loaded in rounds: every member that defines a symbol still
//! undefined is parsed in parallel, then added in member order, each only if
//! it is still wanted by then, so the result is the one a serial scan gives.

use crate::args::Args;
use crate::err;
use crate::error::{Error, Result};
use crate::input::{self, Bytes, MemberData, OpenedInput};
use crate::object::{FileId, ObjectFile, SymPlace, E};
use object::elf;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use typed_arena::Arena;

pub type SymId = u32;

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
}

#[derive(Debug)]
pub struct GlobalSymbol<'a> {
    pub name: &'a [u8],
    pub def: Definition,
    /// Some object refers to it with a non-weak undefined symbol.
    pub strong_ref: bool,
    /// The first object that refers to it, for messages.
    pub first_ref: Option<FileId>,
}

/// Storage that outlives parsing: aligned copies of archive members (ar
/// places them at 2-byte boundaries, ELF records need 8) and thin-archive
/// member files.
#[derive(Default)]
pub struct Stores {
    words: Arena<u64>,
    files: Arena<Bytes>,
    /// Names given on the command line (`-u`, `-e`) that become symbols.
    names: Arena<Vec<u8>>,
    /// Parsing options, and decompressed sections.
    pub parse: crate::object::ParseCtx,
}

impl Stores {
    fn aligned<'a>(&'a self, data: &'a [u8]) -> &'a [u8] {
        if (data.as_ptr() as usize).is_multiple_of(8) {
            return data;
        }
        let words = self.words.alloc_extend(data.chunks(8).map(|c| {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            u64::from_le_bytes(w)
        }));
        &object::pod::bytes_of_slice(words)[..data.len()]
    }
}

pub struct Resolution<'a> {
    pub objects: Vec<ObjectFile<'a>>,
    pub symbols: Vec<GlobalSymbol<'a>>,
    pub by_name: crate::symmap::SymbolMap<'a>,
}

impl<'a> Resolution<'a> {
    pub fn lookup(&self, name: &[u8]) -> Option<SymId> {
        self.by_name.get(name)
    }

    pub fn name(&self, id: SymId) -> String {
        String::from_utf8_lossy(self.symbols[id as usize].name).into_owned()
    }
}

/// What is waiting to be parsed: a display name and the bytes.
struct Pending<'a> {
    name: String,
    data: &'a [u8],
}

struct Resolver<'a> {
    res: Resolution<'a>,
    comdats: FxHashMap<&'a [u8], FileId>,
    stores: &'a Stores,
    errors: Vec<Error>,
    /// Every symbol that became wanted (undefined and strongly referenced),
    /// in order. Archives scan only the part they have not seen yet.
    wanted_log: Vec<SymId>,
}

/// An archive on the command line and how far its scan has got.
struct ArchiveScan<'a> {
    input: usize,
    name: String,
    ar: input::Archive<'a>,
    loaded: Vec<bool>,
    /// Symbol name → members whose index entries define it.
    by_name: FxHashMap<&'a [u8], Vec<u32>>,
    /// Member → the names the index lists for it.
    by_member: Vec<Vec<&'a [u8]>>,
    /// How much of `Resolver::wanted_log` this archive has checked.
    cursor: usize,
}

impl<'a> ArchiveScan<'a> {
    fn new(input: usize, name: String, ar: input::Archive<'a>) -> ArchiveScan<'a> {
        let mut by_name: FxHashMap<&'a [u8], Vec<u32>> = FxHashMap::default();
        let mut by_member = vec![Vec::new(); ar.members.len()];
        for &(sym, m) in &ar.index {
            by_name.entry(sym).or_default().push(m as u32);
            by_member[m].push(sym);
        }
        ArchiveScan {
            input,
            name,
            loaded: vec![false; ar.members.len()],
            ar,
            by_name,
            by_member,
            cursor: 0,
        }
    }
}

pub fn resolve<'a>(
    args: &Args,
    inputs: &'a [OpenedInput],
    stores: &'a Stores,
) -> Result<Resolution<'a>> {
    let mut r = Resolver {
        res: Resolution {
            objects: Vec::new(),
            symbols: Vec::new(),
            by_name: Default::default(),
        },
        comdats: FxHashMap::default(),
        stores,
        errors: Vec::new(),
        wanted_log: Vec::new(),
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

    // Objects named on the command line are all loaded: parse them at once,
    // in parallel, and add each when its turn comes.
    let ctx = &stores.parse;
    let mut parsed: Vec<Option<Result<ObjectFile<'a>>>> = inputs
        .par_iter()
        .map(|inp| {
            if input::is_archive(&inp.bytes) {
                return None;
            }
            let name = inp.path.display().to_string();
            if !inp.bytes.starts_with(b"\x7fELF") {
                return Some(Err(crate::object::unrecognized(&name, &inp.bytes)));
            }
            Some(ObjectFile::parse(0, name, &inp.bytes, ctx))
        })
        .collect();
    let mut archives: Vec<ArchiveScan<'a>> = Vec::new();
    for (i, inp) in inputs.iter().enumerate() {
        if input::is_archive(&inp.bytes) {
            let ar = input::parse_archive(&inp.path, &inp.bytes)?;
            let mut scan = ArchiveScan::new(i, inp.path.display().to_string(), ar);
            if inp.whole_archive {
                let all: Vec<usize> = (0..scan.ar.members.len()).collect();
                r.load_members(&mut scan, &all, false)?;
            } else {
                r.scan_archive(&mut scan)?;
            }
            archives.push(scan);
        } else if let Some(obj) = parsed[i].take() {
            let mut obj = obj?;
            obj.id = r.res.objects.len() as FileId;
            r.add_object(obj);
        }
        // At the end of a group, rescan its archives until nothing loads.
        if let Some(g) = inp.group {
            let group_ends = inputs.get(i + 1).is_none_or(|n| n.group != Some(g));
            if group_ends {
                loop {
                    let mut progress = false;
                    for scan in archives.iter_mut() {
                        if inputs[scan.input].group == Some(g) {
                            progress |= r.scan_archive(scan)?;
                        }
                    }
                    if !progress {
                        break;
                    }
                }
            }
        }
    }
    if let Some(e) = r.errors.into_iter().next() {
        return Err(e);
    }
    Ok(r.res)
}

impl<'a> Resolver<'a> {
    fn intern(&mut self, name: &'a [u8]) -> SymId {
        self.intern_hashed(name, crate::symmap::hash_name(name))
    }

    fn intern_hashed(&mut self, name: &'a [u8], hash: u64) -> SymId {
        if let Some(id) = self.res.by_name.get_hashed(name, hash) {
            return id;
        }
        let id = self.res.symbols.len() as SymId;
        self.res.symbols.push(GlobalSymbol {
            name,
            def: Definition::Undefined,
            strong_ref: false,
            first_ref: None,
        });
        self.res.by_name.insert(name, hash, id);
        id
    }

    fn wanted(&self, name: &[u8]) -> bool {
        match self.res.by_name.get(name) {
            Some(id) => {
                let s = &self.res.symbols[id as usize];
                s.def == Definition::Undefined && s.strong_ref
            }
            None => false,
        }
    }

    /// Loads every member defining a wanted symbol, in rounds, until none is
    /// left. Returns whether anything was loaded.
    fn mark_strong_ref(&mut self, id: SymId) {
        let s = &mut self.res.symbols[id as usize];
        if !s.strong_ref {
            s.strong_ref = true;
            if s.def == Definition::Undefined {
                self.wanted_log.push(id);
            }
        }
    }

    fn wanted_id(&self, id: SymId) -> bool {
        let s = &self.res.symbols[id as usize];
        s.def == Definition::Undefined && s.strong_ref
    }

    /// Loads every member defining a wanted symbol the archive has not yet
    /// been asked about, in rounds, until none is left. Returns whether
    /// anything was loaded.
    fn scan_archive(&mut self, scan: &mut ArchiveScan<'a>) -> Result<bool> {
        let mut any = false;
        loop {
            let from = scan.cursor;
            scan.cursor = self.wanted_log.len();
            let mut want: Vec<usize> = Vec::new();
            for k in from..scan.cursor {
                let id = self.wanted_log[k];
                if !self.wanted_id(id) {
                    continue;
                }
                if let Some(members) = scan.by_name.get(self.res.symbols[id as usize].name) {
                    want.extend(
                        members
                            .iter()
                            .map(|&m| m as usize)
                            .filter(|&m| !scan.loaded[m]),
                    );
                }
            }
            if want.is_empty() {
                return Ok(any);
            }
            want.sort_unstable();
            want.dedup();
            any |= self.load_members(scan, &want, true)?;
        }
    }

    fn load_members(
        &mut self,
        scan: &mut ArchiveScan<'a>,
        which: &[usize],
        recheck: bool,
    ) -> Result<bool> {
        let archive_name = scan.name.as_str();
        let ar = &scan.ar;
        let mut pending = Vec::with_capacity(which.len());
        for &m in which {
            let member = &ar.members[m];
            let data: &'a [u8] = match &member.data {
                MemberData::Inline(d) => self.stores.aligned(d),
                MemberData::External(path) => {
                    let bytes = input::map_file(path)
                        .map_err(|e| err!("{archive_name}: thin archive member: {}", e.0))?;
                    let bytes: &'a Bytes = self.stores.files.alloc(bytes);
                    self.stores.aligned(bytes)
                }
            };
            pending.push((
                m,
                Pending {
                    name: format!("{archive_name}({})", member.name),
                    data,
                },
            ));
        }
        let base = self.res.objects.len() as FileId;
        let ctx = &self.stores.parse;
        let parsed: Vec<Result<ObjectFile<'a>>> = pending
            .par_iter()
            .enumerate()
            .map(|(k, (_, p))| ObjectFile::parse(base + k as FileId, p.name.clone(), p.data, ctx))
            .collect();
        let mut any = false;
        for ((m, _), obj) in pending.iter().zip(parsed) {
            let mut obj = obj?;
            // A member loaded earlier in this round may have defined what
            // this one was wanted for; GNU ld would not load it then.
            if recheck && !scan.by_member[*m].iter().any(|s| self.wanted(s)) {
                continue;
            }
            scan.loaded[*m] = true;
            obj.id = self.res.objects.len() as FileId;
            self.add_object(obj);
            any = true;
        }
        Ok(any)
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
            let sid = self.intern_hashed(name, obj.global_hashes[i - obj.first_global]);
            ids.push(sid);
            let bind = sym.st_bind();
            let weak = bind == elf::STB_WEAK;
            let place = obj.place_of(i);
            let defined_here = match place {
                SymPlace::Undefined => false,
                SymPlace::Section(s) => obj.sections.get(s as usize).is_some_and(|s| s.kept),
                _ => true,
            };
            if !defined_here {
                if place == SymPlace::Undefined && !weak {
                    self.mark_strong_ref(sid);
                }
                let gs = &mut self.res.symbols[sid as usize];
                if gs.first_ref.is_none() {
                    gs.first_ref = Some(id);
                }
                continue;
            }
            let strength = match place {
                SymPlace::Common => Strength::Common,
                _ if weak => Strength::Weak,
                _ => Strength::Strong,
            };
            let new = Definition::Object {
                file: id,
                sym: i as u32,
                strength,
            };
            let gs = &mut self.res.symbols[sid as usize];
            match gs.def {
                Definition::Undefined | Definition::Synthetic => gs.def = new,
                Definition::Object {
                    file,
                    sym: osym,
                    strength: old,
                } => {
                    // A malformed file may define one name twice itself,
                    // before it is in `objects`.
                    let owner = if file == id {
                        &obj
                    } else {
                        &self.res.objects[file as usize]
                    };
                    if old == Strength::Strong && strength == Strength::Strong {
                        let first = &owner.name;
                        self.errors.push(err!(
                            "duplicate symbol: {}\n>>> defined in {}\n>>> defined in {}",
                            String::from_utf8_lossy(name),
                            first,
                            obj.name
                        ));
                    } else if strength > old {
                        gs.def = new;
                    } else if strength == Strength::Common && old == Strength::Common {
                        let old_size = owner.symbols[osym as usize].st_size.get(E);
                        if sym.st_size.get(E) > old_size {
                            gs.def = new;
                        }
                    }
                }
            }
        }
        obj.global_ids = ids;
        self.res.objects.push(obj);
    }
}
