//! Symbol values once addresses are known: input symbols, COMMON symbols
//! allocated in `.bss`, and the symbols the linker itself defines.

use crate::input::object::{ObjectFile, SymPlace, E};
use crate::layout::got::{GotPlan, SymRef, IPLT_ENTRY, PLT_ENTRY};
use crate::layout::{DynTable, OutputSection, Sections, RANK_BSS, RANK_NONALLOC, RANK_RODATA};
use crate::resolve::{Definition, Resolution, Strength, SymId};
use object::elf;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

/// Names GNU ld defines for executables when something refers to them.
const LINKER_DEFINED: &[&str] = &[
    "__ehdr_start",
    "__executable_start",
    "__init_array_start",
    "__init_array_end",
    "__fini_array_start",
    "__fini_array_end",
    "__preinit_array_start",
    "__preinit_array_end",
    "__rela_iplt_start",
    "__rela_iplt_end",
    "_GLOBAL_OFFSET_TABLE_",
    "_etext",
    "etext",
    "__etext",
    "_edata",
    "edata",
    "_end",
    "end",
    "__bss_start",
    "__GNU_EH_FRAME_HDR",
    "_TLS_MODULE_BASE_",
];

fn is_c_identifier(s: &[u8]) -> bool {
    !s.is_empty()
        && !s[0].is_ascii_digit()
        && s.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Marks undefined references to linker-defined names as synthetic. Run
/// after the output sections are known (for `__start_`/`__stop_`). As with
/// GNU ld, some exist only with what they name: `__start_X`/`__stop_X`
/// with section X, `__GNU_EH_FRAME_HDR` with `.eh_frame_hdr`, and
/// `_TLS_MODULE_BASE_` with a TLS segment and a TLS-typed reference (GNU
/// ld's x86 backend checks both). Otherwise the reference stays undefined:
/// 0 when weak, an error when not.
pub fn mark_synthetic(res: &mut Resolution, sections: &Sections, dynamic: bool) {
    let has_tls = sections
        .out
        .iter()
        .any(|o| o.flags & u64::from(elf::SHF_TLS) != 0);
    let tls_typed_ref = |id: usize, res: &Resolution| {
        let Some(f) = res.symbols[id].first_ref else {
            return false;
        };
        let obj = &res.objects[f as usize];
        obj.global_ids
            .iter()
            .position(|&g| g as usize == id)
            .and_then(|i| obj.symbols.get(obj.first_global + i))
            .is_some_and(|sym| sym.st_type() == elf::STT_TLS)
    };
    let mut marked = Vec::new();
    for (id, s) in res.symbols.iter().enumerate() {
        if s.def != Definition::Undefined {
            continue;
        }
        let name = s.name;
        let known = match name {
            b"__GNU_EH_FRAME_HDR" => sections.will_have_eh_frame_hdr(),
            b"_TLS_MODULE_BASE_" => has_tls && tls_typed_ref(id, res),
            // `.dynamic`'s address, which a static PIE reads to relocate
            // itself (glibc's `_dl_relocate_static_pie`).
            b"_DYNAMIC" => dynamic,
            // GNU ld's scripts for dynamic outputs do not define them: the
            // loader (or a static PIE's own startup) applies IRELATIVE
            // through `.rela.plt`, and glibc's static startup must not
            // apply them a second time.
            b"__rela_iplt_start" | b"__rela_iplt_end" => !dynamic,
            _ => {
                LINKER_DEFINED.iter().any(|n| n.as_bytes() == name)
                    || [&b"__start_"[..], &b"__stop_"[..]].iter().any(|p| {
                        name.strip_prefix(*p)
                            .is_some_and(|sec| is_c_identifier(sec) && sections.find(sec).is_some())
                    })
            }
        };
        if known {
            marked.push(id);
        }
    }
    for id in marked {
        res.symbols[id].def = Definition::Synthetic;
    }
}

/// Linker-defined names GNU ld makes local (its script's `PROVIDE_HIDDEN`,
/// and the backend's hidden symbols: `elf_link_output_extsym` writes a
/// forced-local symbol `STB_LOCAL`, visibility cleared), with their types.
const LOCAL_LINKER_DEFINED: &[(&str, u8)] = &[
    ("__ehdr_start", elf::STT_NOTYPE),
    ("__rela_iplt_start", elf::STT_NOTYPE),
    ("__rela_iplt_end", elf::STT_NOTYPE),
    ("__preinit_array_start", elf::STT_NOTYPE),
    ("__preinit_array_end", elf::STT_NOTYPE),
    ("__init_array_start", elf::STT_NOTYPE),
    ("__init_array_end", elf::STT_NOTYPE),
    ("__fini_array_start", elf::STT_NOTYPE),
    ("__fini_array_end", elf::STT_NOTYPE),
    ("__GNU_EH_FRAME_HDR", elf::STT_NOTYPE),
    ("_GLOBAL_OFFSET_TABLE_", elf::STT_OBJECT),
    ("_TLS_MODULE_BASE_", elf::STT_TLS),
];

/// Names GNU ld 2.40's default script assigns (not `PROVIDE`s), so that
/// every executable has them, referred to or not.
pub const ALWAYS_DEFINED: &[&str] = &["_edata", "__bss_start", "_end"];

/// The output sections whose script statements hold a linker-defined
/// symbol's assignment (`.preinit_array : { PROVIDE_HIDDEN
/// (__preinit_array_start = .); ... }`): GNU ld creates the section for the
/// assignment when the symbol is referred to, and removes it again when it
/// stays empty. Its symbols keep the address it had and name its neighbour.
const SCRIPT_SECTIONS: &[(&str, &[u8], u32, u32)] = &[
    ("__rela_iplt_", b".rela.plt", elf::SHT_RELA, elf::SHF_ALLOC),
    (
        "__preinit_array_",
        b".preinit_array",
        elf::SHT_PREINIT_ARRAY,
        elf::SHF_ALLOC | elf::SHF_WRITE,
    ),
    (
        "__init_array_",
        b".init_array",
        elf::SHT_INIT_ARRAY,
        elf::SHF_ALLOC | elf::SHF_WRITE,
    ),
    (
        "__fini_array_",
        b".fini_array",
        elf::SHT_FINI_ARRAY,
        elf::SHF_ALLOC | elf::SHF_WRITE,
    ),
];

/// Adds the empty output sections GNU ld creates for the assignments of
/// referred-to linker-defined symbols (see [`SCRIPT_SECTIONS`]), so that
/// the layout gives them an address and `index_omitted` a neighbour.
pub fn add_script_sections(res: &Resolution, sections: &mut Sections) {
    for &(prefix, section, sh_type, flags) in SCRIPT_SECTIONS {
        let referred = res.symbols.iter().any(|s| {
            s.def == Definition::Synthetic
                && s.name
                    .strip_prefix(prefix.as_bytes())
                    .is_some_and(|rest| rest == b"start" || rest == b"end")
        });
        if referred && sections.find(section).is_none() {
            sections.add_empty(section, sh_type, u64::from(flags));
        }
    }
}

/// How a linker-defined symbol is named: by its global symbol, or, for
/// the ones GNU ld defines though nothing refers to them
/// ([`ALWAYS_DEFINED`], `__GNU_EH_FRAME_HDR`), by its name alone.
#[derive(Debug, Clone, Copy)]
pub enum LinkerName {
    Id(SymId),
    Always(&'static str),
}

/// One symbol the linker defines, as GNU ld writes it to `.symtab`.
#[derive(Debug, Clone, Copy)]
pub struct LinkerSym {
    pub name: LinkerName,
    pub st_type: u8,
    /// `STV_*`: GNU ld's script symbols take the most constraining
    /// visibility of the references to them (glibc's hidden `_end`);
    /// `__start_X`/`__stop_X` are `STV_PROTECTED`; locals `STV_DEFAULT`.
    pub vis: u8,
}

impl LinkerSym {
    pub fn name<'a>(&self, res: &Resolution<'a>) -> &'a [u8] {
        match self.name {
            LinkerName::Id(id) => res.symbols[id as usize].name,
            LinkerName::Always(n) => n.as_bytes(),
        }
    }
}

/// The symbols an executable's linker defines, split as GNU ld writes
/// them: locals (after an empty-named `STT_FILE` at the end of the
/// locals) and globals.
#[derive(Debug, Default)]
pub struct LinkerSyms {
    pub locals: Vec<LinkerSym>,
    pub globals: Vec<LinkerSym>,
}

impl LinkerSyms {
    /// Collects them once the synthetic sections are known:
    /// `_GLOBAL_OFFSET_TABLE_` only exists with `.got.plt` (GNU ld drops
    /// both when nothing needs them, even when `as` put an undefined
    /// reference into a TLS object).
    pub fn collect(res: &Resolution, sections: &Sections) -> LinkerSyms {
        let synthetic = |id: SymId| res.symbols[id as usize].def == Definition::Synthetic;
        // The most constraining visibility of the references to each
        // synthetic symbol (`elf_merge_st_other`: smallest non-zero STV_*).
        let vis: FxHashMap<SymId, u8> = res
            .objects
            .par_iter()
            .map(|obj| {
                let mut v: Vec<(SymId, u8)> = Vec::new();
                for (k, &id) in obj.global_ids.iter().enumerate() {
                    let other = obj
                        .symbols
                        .get(obj.first_global + k)
                        .map_or(0, |s| s.st_other);
                    let sv = other & 3;
                    if sv != elf::STV_DEFAULT && synthetic(id) {
                        v.push((id, sv));
                    }
                }
                v
            })
            .collect::<Vec<_>>()
            .into_iter()
            .flatten()
            .fold(FxHashMap::default(), |mut m, (id, sv)| {
                let e = m.entry(id).or_insert(sv);
                *e = (*e).min(sv);
                m
            });
        let mut out = LinkerSyms::default();
        for (id, s) in res.symbols.iter().enumerate() {
            if s.def != Definition::Synthetic {
                continue;
            }
            let id = id as SymId;
            let local = LOCAL_LINKER_DEFINED
                .iter()
                .find(|(n, _)| n.as_bytes() == s.name);
            if let Some(&(name, st_type)) = local {
                if name == "_GLOBAL_OFFSET_TABLE_" && sections.find(b".got.plt").is_none() {
                    continue;
                }
                out.locals.push(LinkerSym {
                    name: LinkerName::Id(id),
                    st_type,
                    vis: elf::STV_DEFAULT,
                });
            } else {
                let start_stop = s.name.starts_with(b"__start_") || s.name.starts_with(b"__stop_");
                out.globals.push(LinkerSym {
                    name: LinkerName::Id(id),
                    st_type: elf::STT_NOTYPE,
                    vis: if start_stop {
                        elf::STV_PROTECTED
                    } else {
                        vis.get(&id).copied().unwrap_or(elf::STV_DEFAULT)
                    },
                });
            }
        }
        // GNU ld defines it with every `.eh_frame_hdr` of an executable.
        let hdr = "__GNU_EH_FRAME_HDR";
        if sections.find(b".eh_frame_hdr").is_some() && res.lookup(hdr.as_bytes()).is_none() {
            out.locals.push(LinkerSym {
                name: LinkerName::Always(hdr),
                st_type: elf::STT_NOTYPE,
                vis: elf::STV_DEFAULT,
            });
        }
        for &name in ALWAYS_DEFINED {
            if res.lookup(name.as_bytes()).is_none() {
                out.globals.push(LinkerSym {
                    name: LinkerName::Always(name),
                    st_type: elf::STT_NOTYPE,
                    vis: elf::STV_DEFAULT,
                });
            }
        }
        out
    }
}

/// The output section (an index into `sections.out`) a linker-defined
/// symbol is relative to, as GNU ld 2.40 chooses it: the section whose
/// statement holds its assignment (an omitted one stands for its
/// neighbour, through its `index`), or for an assignment between
/// statements ldlang's `section_for_dot`: the allocated, non-TLS section
/// before it, or after it when an assignment to `.` came just before
/// (`. = .; __bss_start = .;`). `None`: `SHN_ABS`.
pub fn linker_sym_section(sections: &Sections, name: &[u8]) -> Option<usize> {
    let out = &sections.out;
    let find = |n: &[u8]| out.iter().position(|o| o.name == n);
    let kept = |o: &OutputSection| o.is_alloc() && !o.omitted;
    let plain = |o: &OutputSection| kept(o) && o.flags & u64::from(elf::SHF_TLS) == 0;
    // The last such section before rank `r`, else the first at all.
    let before = |r: u32| {
        out.iter()
            .rposition(|o| plain(o) && o.rank < r)
            .or_else(|| out.iter().position(plain))
    };
    match name {
        b"__ehdr_start" | b"__executable_start" => out.iter().position(plain),
        b"__GNU_EH_FRAME_HDR" => find(b".eh_frame_hdr"),
        b"_GLOBAL_OFFSET_TABLE_" => find(b".got.plt"),
        b"_TLS_MODULE_BASE_" => out
            .iter()
            .position(|o| kept(o) && o.flags & u64::from(elf::SHF_TLS) != 0),
        // After `.fini` (and the code orphans before it).
        b"_etext" | b"etext" | b"__etext" => before(RANK_RODATA),
        // Before `.bss`, after the data orphans.
        b"_edata" | b"edata" => before(RANK_BSS),
        b"__bss_start" => out
            .iter()
            .position(|o| plain(o) && o.rank >= RANK_BSS && o.rank < RANK_NONALLOC)
            .or_else(|| before(RANK_BSS)),
        b"_end" | b"end" => before(RANK_NONALLOC),
        _ => {
            let section = SCRIPT_SECTIONS.iter().find_map(|&(prefix, sec, _, _)| {
                name.strip_prefix(prefix.as_bytes())
                    .filter(|rest| *rest == b"start" || *rest == b"end")
                    .map(|_| sec)
            });
            match section {
                Some(sec) => find(sec),
                None => name
                    .strip_prefix(b"__start_")
                    .or_else(|| name.strip_prefix(b"__stop_"))
                    .and_then(find),
            }
        }
    }
}

/// The `.symtab` value of linker-defined symbol `name` whose address is
/// `addr`: `_TLS_MODULE_BASE_` is `STT_TLS`, an offset in the TLS block.
pub fn linker_sym_value(sections: &Sections, name: &[u8], addr: u64) -> u64 {
    if name == b"_TLS_MODULE_BASE_" {
        let tls_start = sections
            .out
            .iter()
            .filter(|o| o.flags & u64::from(elf::SHF_TLS) != 0 && !o.omitted)
            .map(|o| o.addr)
            .min()
            .unwrap_or(0);
        return addr.wrapping_sub(tls_start);
    }
    addr
}

/// COMMON symbols, laid out in `.bss` in symbol-id order.
#[derive(Default)]
pub struct Commons {
    pub offsets: FxHashMap<SymId, u64>,
    pub size: u64,
    pub align: u64,
}

/// Places the COMMON symbols. Their sizes and alignments are untrusted: the
/// total is kept within [`crate::layout::MAX_TOTAL_SIZE`], as input
/// sections' is, so the layout cannot overflow.
pub fn plan_commons(res: &Resolution) -> crate::error::Result<Commons> {
    let mut c = Commons {
        align: 1,
        ..Default::default()
    };
    for (id, s) in res.symbols.iter().enumerate() {
        if let Definition::Object {
            file,
            sym,
            strength: Strength::Common,
        } = s.def
        {
            let obj = &res.objects[file as usize];
            let sym = &obj.symbols[sym as usize];
            let max = crate::layout::MAX_TOTAL_SIZE;
            let (size, align) = (sym.st_size.get(E), sym.st_value.get(E).max(1));
            let start = (align <= max)
                .then(|| crate::layout::align_up(c.size, align.next_power_of_two()))
                .filter(|start| start.checked_add(size).is_some_and(|end| end <= max));
            let Some(start) = start else {
                crate::bail!(
                    "{}: common symbol '{}' (size {size:#x}, alignment {align:#x}) does not fit in the x86-64 address space",
                    obj.name,
                    res.name(id as SymId)
                );
            };
            c.offsets.insert(id as SymId, start);
            c.size = start + size;
            c.align = c.align.max(align.next_power_of_two());
        }
    }
    Ok(c)
}

/// Final values of every global symbol, and how to value any symbol.
pub struct SymbolValues {
    /// The symbol's own value (for an IFUNC, its resolver).
    pub global: Vec<u64>,
    pub iplt_addr: u64,
    /// The lazy `.plt` (PLT0, then an entry per imported function).
    pub plt_addr: u64,
    /// `.plt.sec`, when the `.plt` is in its IBT form: the entries calls
    /// go to (`endbr64; jmp *slot`), the lazy `.plt` entries only
    /// pushing the index for the loader.
    pub plt_sec_addr: Option<u64>,
    /// `.plt.got` and the size of its entries (8, or 16 in the IBT form).
    pub plt_got_addr: u64,
    pub plt_got_entry: u64,
    pub got_addr: u64,
    pub gotplt_addr: u64,
}

impl SymbolValues {
    pub fn compute(
        res: &Resolution,
        sections: &Sections,
        commons: &Commons,
        got: &GotPlan,
    ) -> SymbolValues {
        let addr_of = |name: &[u8]| sections.find(name).map(|o| o.addr);
        let copies_addr =
            synthetic_chunk_addr(sections, crate::layout::Synthetic::Dyn(DynTable::Copies))
                .unwrap_or(0);
        let plt_addr = synthetic_chunk_addr(sections, crate::layout::Synthetic::Dyn(DynTable::Plt))
            .unwrap_or(0);
        let plt_sec_addr =
            synthetic_chunk_addr(sections, crate::layout::Synthetic::Dyn(DynTable::PltSec));
        let plt_got = crate::layout::Synthetic::Dyn(DynTable::PltGot);
        let plt_got_addr = synthetic_chunk_addr(sections, plt_got).unwrap_or(0);
        let plt_got_entry = sections
            .out
            .iter()
            .flat_map(|o| &o.chunks)
            .find(|c| c.kind == crate::layout::ChunkKind::Synthetic(plt_got))
            .map_or(8, |c| c.size / (got.plt_got.len().max(1) as u64));
        let commons_addr = synthetic_chunk_addr(sections, crate::layout::Synthetic::Commons);
        let synthetic = synthetic_values(sections);
        let global: Vec<u64> = res
            .symbols
            .par_iter()
            .enumerate()
            .map(|(id, s)| match s.def {
                Definition::Undefined => 0,
                // A shared object's symbol has an address here only when
                // copied, or when its `.plt` entry stands for it.
                Definition::Shared { .. } => {
                    let id = id as SymId;
                    if let Some(&c) = got.copy_of.get(&id) {
                        copies_addr + got.copies[c as usize].offset
                    } else if got.canonical.contains(&id) {
                        plt_call_addr(plt_addr, plt_sec_addr, got.plt_index[&id])
                    } else {
                        0
                    }
                }
                Definition::Synthetic => synthetic(s.name),
                Definition::Object {
                    file,
                    sym,
                    strength,
                } => {
                    if strength == Strength::Common {
                        return commons_addr.unwrap_or(0)
                            + commons.offsets.get(&(id as SymId)).copied().unwrap_or(0);
                    }
                    local_value(sections, &res.objects[file as usize], sym as usize)
                }
            })
            .collect();
        // `--defsym`, in order (one may name an earlier one).
        let mut global = global;
        for &(id, base, offset) in &res.defsyms {
            let from = base.map_or(0, |b| global[b as usize]);
            global[id as usize] = from.wrapping_add(offset as u64);
        }
        SymbolValues {
            global,
            iplt_addr: synthetic_chunk_addr(sections, crate::layout::Synthetic::Iplt).unwrap_or(0),
            plt_addr,
            plt_sec_addr,
            plt_got_addr,
            plt_got_entry,
            got_addr: addr_of(b".got").unwrap_or(0),
            gotplt_addr: addr_of(b".got.plt").unwrap_or(0),
        }
    }

    /// The value a relocation uses for symbol `idx` of `obj`: an IFUNC's is
    /// its `.iplt` stub, so every reference agrees on one address.
    pub fn reloc_value(
        &self,
        res: &Resolution,
        sections: &Sections,
        got: &GotPlan,
        obj: &ObjectFile,
        idx: usize,
    ) -> u64 {
        let r = crate::layout::got::sym_ref(obj, idx);
        if let Some(&slot) = got.iplt_index.get(&r) {
            return self.iplt_addr + IPLT_ENTRY * u64::from(slot);
        }
        // Calls to a shared object's function go through its `.plt` entry.
        if let SymRef::Global(id) = r {
            if let Some(&i) = got.plt_index.get(&id) {
                return self.plt_call_addr(i);
            }
            if let Some(&i) = got.plt_got_index.get(&id) {
                return self.plt_got_addr + self.plt_got_entry * u64::from(i);
            }
        }
        self.raw_value(res, sections, r)
    }

    /// Where calls to the function of `.plt` entry `i` go.
    pub fn plt_call_addr(&self, i: u32) -> u64 {
        plt_call_addr(self.plt_addr, self.plt_sec_addr, i)
    }

    pub fn raw_value(&self, res: &Resolution, sections: &Sections, r: SymRef) -> u64 {
        match r {
            SymRef::Global(id) => self.global[id as usize],
            SymRef::Local(f, i) => local_value(sections, &res.objects[f as usize], i as usize),
            // The start of the output's TLS block, as DTPOFF counts.
            SymRef::Module => 0,
        }
    }
}

/// Where calls to the function of lazy `.plt` entry `i` go: the entry
/// after PLT0, or its `.plt.sec` entry in the IBT form.
fn plt_call_addr(plt_addr: u64, plt_sec_addr: Option<u64>, i: u32) -> u64 {
    match plt_sec_addr {
        Some(sec) => sec + PLT_ENTRY * u64::from(i),
        None => plt_addr + PLT_ENTRY * (1 + u64::from(i)),
    }
}

/// The value of a symbol defined in `obj` (address in an executable,
/// section offset under `-r`); 0 when its section was discarded.
pub fn local_value(sections: &Sections, obj: &ObjectFile, idx: usize) -> u64 {
    let sym = &obj.symbols[idx];
    match obj.place_of(idx) {
        SymPlace::Section(s) => sections
            .input_address(obj.id, s, sym.st_value.get(E))
            .unwrap_or(0),
        SymPlace::Absolute | SymPlace::Common => sym.st_value.get(E),
        SymPlace::Undefined => 0,
    }
}

pub fn synthetic_chunk_addr(sections: &Sections, kind: crate::layout::Synthetic) -> Option<u64> {
    sections.out.iter().find_map(|o| {
        o.chunks
            .iter()
            .find(|c| c.kind == crate::layout::ChunkKind::Synthetic(kind))
            .map(|c| o.addr + c.offset)
    })
}

/// The address of linker-defined symbol `name`.
pub fn synthetic_value(sections: &Sections, name: &[u8]) -> u64 {
    synthetic_values(sections)(name)
}

/// Values of the linker-defined symbols.
fn synthetic_values(sections: &Sections) -> impl Fn(&[u8]) -> u64 + Sync + '_ {
    move |name: &[u8]| {
        let start = |n: &[u8]| sections.find(n).map(|o| o.addr);
        let end = |n: &[u8]| sections.find(n).map(|o| o.addr + o.size);
        let alloc = sections.out.iter().filter(|o| o.is_alloc());
        let last_exec_end = alloc
            .clone()
            .filter(|o| o.flags & u64::from(elf::SHF_EXECINSTR) != 0)
            .map(|o| o.addr + o.size)
            .max();
        // `_edata` ends the small data; .lrodata/.ldata come after .bss.
        let data_end = alloc
            .clone()
            .filter(|o| !o.is_nobits() && !o.is_large_data())
            .map(|o| o.addr + o.size)
            .max();
        let image_end = alloc
            .clone()
            .filter(|o| o.flags & u64::from(elf::SHF_TLS) == 0 || !o.is_nobits())
            .map(|o| o.addr + o.size)
            .max();
        // An array's start and end coincide when it is absent; place them
        // at the start of .data-ish space so comparisons still work.
        let empty = data_end.unwrap_or(sections.base);
        let v = match name {
            b"__ehdr_start" | b"__executable_start" => Some(sections.base),
            b"__init_array_start" => start(b".init_array"),
            b"__init_array_end" => end(b".init_array"),
            b"__fini_array_start" => start(b".fini_array"),
            b"__fini_array_end" => end(b".fini_array"),
            b"__preinit_array_start" => start(b".preinit_array"),
            b"__preinit_array_end" => end(b".preinit_array"),
            b"__rela_iplt_start" => start(b".rela.plt"),
            b"__rela_iplt_end" => end(b".rela.plt"),
            b"_GLOBAL_OFFSET_TABLE_" => start(b".got.plt"),
            b"_DYNAMIC" => start(b".dynamic"),
            b"_etext" | b"etext" | b"__etext" => last_exec_end,
            b"_edata" | b"edata" => data_end,
            // `. = ALIGN(64 / 8); _end = .; PROVIDE (end = .);`
            b"_end" | b"end" => image_end.map(|e| crate::layout::align_up(e, 8)),
            // `_edata = .; PROVIDE (edata = .); . = .; __bss_start = .;`:
            // before `.bss` is aligned.
            b"__bss_start" => data_end,
            b"__GNU_EH_FRAME_HDR" => start(b".eh_frame_hdr"),
            // The thread pointer, as GNU ld defines it (x86-64 variant II):
            // TLSDESC code adds a@dtpoff, which in an executable is the
            // offset from the thread pointer, to its descriptor's value.
            b"_TLS_MODULE_BASE_" => {
                let tls = sections
                    .out
                    .iter()
                    .filter(|o| o.flags & u64::from(elf::SHF_TLS) != 0);
                let start = tls.clone().map(|o| o.addr).min();
                let end = tls.clone().map(|o| o.addr + o.size).max();
                let align = tls.map(|o| o.align).max().unwrap_or(1);
                // In a shared object, whose accesses stay dynamic, it is
                // the start of the TLS block, which a@dtpoff counts from.
                let shared = sections.mode == crate::resolve::mode::OutputMode::Shared;
                start.zip(end).map(|(s, e)| {
                    if shared {
                        return s;
                    }
                    crate::layout::TlsInfo {
                        start: s,
                        memsz: e - s,
                        align,
                    }
                    .tp()
                })
            }
            _ => {
                if let Some(sec) = name.strip_prefix(b"__start_") {
                    start(sec)
                } else if let Some(sec) = name.strip_prefix(b"__stop_") {
                    end(sec)
                } else {
                    None
                }
            }
        };
        v.unwrap_or(empty)
    }
}
