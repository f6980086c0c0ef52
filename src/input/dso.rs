//! One ELF64 x86-64 shared object (ET_DYN) read as a linker input: its
//! dynamic symbols, their versions, its soname and `DT_NEEDED` list.
//!
//! Everything comes from an untrusted file. Section ranges, entry sizes,
//! symbol name offsets, version indices and the `.gnu.version_d` chains are
//! checked here, once, so that later phases can index without panicking;
//! nothing is allocated in proportion to a size the file claims but does
//! not hold.
//!
//! Tables are found through the section headers, by type (`SHT_DYNSYM`,
//! `SHT_GNU_versym`, `SHT_GNU_verdef`, `SHT_DYNAMIC`), as GNU ld finds them;
//! section names are never read. A shared object without section headers
//! or without `.dynsym` is valid and defines nothing.

use crate::error::{Error, Result};
use crate::input::object::{slice_of, MAX_ALIGN};
use crate::{bail, err};
use object::elf;
use object::read::elf::{FileHeader, SectionHeader};
use object::LittleEndian as LE;

const E: LE = LE;
type Sym64 = elf::Sym64<LE>;
type Shdr = elf::SectionHeader64<LE>;
type Verdef = elf::Verdef<LE>;
type Verdaux = elf::Verdaux<LE>;
type Dyn64 = elf::Dyn64<LE>;

/// Whether `data` is an ELF shared object (ET_DYN) — as opposed to ET_REL
/// objects. Any class, endianness or machine answers true, so that
/// [`SharedObject::parse`] reports a 32-bit or foreign shared object as
/// such rather than as a bad relocatable object.
pub fn is_shared_object(data: &[u8]) -> bool {
    if data.len() < 18 || !data.starts_with(&elf::ELFMAG) {
        return false;
    }
    let e_type = [data[16], data[17]];
    let e_type = match data[5] {
        elf::ELFDATA2LSB => u16::from_le_bytes(e_type),
        elf::ELFDATA2MSB => u16::from_be_bytes(e_type),
        _ => return false,
    };
    e_type == elf::ET_DYN
}

pub struct SharedObject<'a> {
    /// As given, for messages.
    pub path: String,
    /// DT_SONAME if present, else `default_soname` passed to parse.
    pub soname: Vec<u8>,
    /// DT_NEEDED entries, in order.
    pub needed: Vec<&'a [u8]>,
    /// Every .dynsym entry after the null one, in .dynsym order (so
    /// DsoSymbol i is dynsym index i+1).
    pub symbols: Vec<DsoSymbol<'a>>,
    /// Version names by version index from .gnu.version_d (vd_ndx → name
    /// of its first Verdaux); index 1 (VER_NDX_GLOBAL, the base entry whose
    /// name is the soname) included; absent indices None. Empty if the
    /// object has no .gnu.version_d.
    pub versions: Vec<Option<&'a [u8]>>,
    /// Allocated sections (sh_addr, sh_size, sh_addralign, sh_flags,
    /// sh_type), for the alignment and writability of copied symbols.
    pub sections: Vec<DsoSection>,
    /// For each section header index, the position of that section in
    /// `sections`, or `NOT_ALLOC` when it is not allocated.
    section_pos: Vec<u32>,
}

const NOT_ALLOC: u32 = u32::MAX;

/// An allocated section of a shared object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DsoSection {
    pub addr: u64,
    pub size: u64,
    /// sh_addralign made usable: 0 reads as 1, anything else not a power of
    /// two is rounded up to one (as BFD reads it), and the result is capped
    /// at [`MAX_ALIGN`].
    pub align: u64,
    pub flags: u64,
    pub sh_type: u32,
}

#[derive(Clone, Copy, Debug)]
pub struct DsoSymbol<'a> {
    pub name: &'a [u8],
    pub value: u64,
    pub size: u64,
    /// STT_*
    pub st_type: u8,
    /// STB_*
    pub bind: u8,
    /// st_other & 3 (STV_*)
    pub visibility: u8,
    pub shndx: u16,
    /// shndx != SHN_UNDEF
    pub defined: bool,
    /// .gnu.version entry & 0x7fff (0 = local, 1 = global/unversioned,
    /// 2 and up a version index); 1 when the object has no .gnu.version.
    /// For a defined symbol, an index from 2 up always names a version in
    /// .gnu.version_d (checked at parse); for an undefined one it refers
    /// to .gnu.version_r, which is not read.
    pub version: u16,
    /// .gnu.version entry & 0x8000: a non-default version (`foo@V`, not
    /// `foo@@V`), only reachable by a reference naming that version.
    pub hidden: bool,
}

/// The section header indices of the tables read, each found by type.
#[derive(Default)]
struct Tables {
    dynsym: Option<usize>,
    versym: Option<usize>,
    verdef: Option<usize>,
    dynamic: Option<usize>,
}

/// Section headers and file bytes, with the path for messages.
struct Reader<'a, 'p> {
    path: &'p str,
    data: &'a [u8],
    shdrs: &'a [Shdr],
}

impl<'a> Reader<'a, '_> {
    fn corrupt(&self, what: &str, detail: std::fmt::Arguments) -> Error {
        err!("{}: corrupt {what}: {detail}", self.path)
    }

    /// The bytes of section `i` (named `what` in messages).
    fn section_data(&self, i: usize, what: &str) -> Result<&'a [u8]> {
        let sh = &self.shdrs[i];
        sh.data(E, self.data).map_err(|_| {
            self.corrupt(
                what,
                format_args!(
                    "contents (offset {:#x}, size {:#x}) lie outside the file (size {:#x})",
                    sh.sh_offset(E),
                    sh.sh_size(E),
                    self.data.len()
                ),
            )
        })
    }

    /// The string table that section `i`'s sh_link names.
    fn linked_strtab(&self, i: usize, what: &str) -> Result<&'a [u8]> {
        let link = self.shdrs[i].sh_link(E) as usize;
        match self.shdrs.get(link) {
            Some(s) if link != 0 && s.sh_type(E) == elf::SHT_STRTAB => {
                self.section_data(link, &format!("string table of {what}"))
            }
            _ => Err(self.corrupt(
                what,
                format_args!(
                    "string table index (sh_link) {link} is out of range or not a string table"
                ),
            )),
        }
    }
}

/// The NUL-terminated string at `off` in `strtab`.
fn str_at(strtab: &[u8], off: u64) -> Option<&[u8]> {
    let tail = strtab.get(usize::try_from(off).ok()?..)?;
    let end = memchr::memchr(0, tail)?;
    Some(&tail[..end])
}

impl<'a> SharedObject<'a> {
    pub fn parse(path: String, default_soname: &[u8], data: &'a [u8]) -> Result<SharedObject<'a>> {
        let shdrs = check_header(&path, data)?;
        let r = Reader {
            path: &path,
            data,
            shdrs,
        };

        // Find the tables; collect the allocated sections.
        let mut t = Tables::default();
        let mut sections = Vec::new();
        let mut section_pos = Vec::with_capacity(shdrs.len());
        for (i, sh) in shdrs.iter().enumerate() {
            let table = match sh.sh_type(E) {
                elf::SHT_DYNSYM => Some((&mut t.dynsym, ".dynsym")),
                elf::SHT_GNU_VERSYM => Some((&mut t.versym, ".gnu.version")),
                elf::SHT_GNU_VERDEF => Some((&mut t.verdef, ".gnu.version_d")),
                elf::SHT_DYNAMIC => Some((&mut t.dynamic, ".dynamic")),
                _ => None,
            };
            if let Some((slot, what)) = table {
                if let Some(first) = *slot {
                    bail!("{path}: corrupt {what}: more than one section of its type ({first} and {i})");
                }
                *slot = Some(i);
            }
            let flags = sh.sh_flags(E);
            if flags & u64::from(elf::SHF_ALLOC) != 0 {
                section_pos.push(sections.len() as u32);
                sections.push(DsoSection {
                    addr: sh.sh_addr(E),
                    size: sh.sh_size(E),
                    align: usable_align(sh.sh_addralign(E)),
                    flags,
                    sh_type: sh.sh_type(E),
                });
            } else {
                section_pos.push(NOT_ALLOC);
            }
        }

        let versions = match t.verdef {
            Some(i) => read_verdefs(&r, i)?,
            None => Vec::new(),
        };
        let (soname, needed) = match t.dynamic {
            Some(i) => read_dynamic(&r, i)?,
            None => (None, Vec::new()),
        };
        let soname = soname.unwrap_or(default_soname).to_vec();

        let mut so = SharedObject {
            path: String::new(),
            soname,
            needed,
            symbols: Vec::new(),
            versions,
            sections,
            section_pos,
        };
        if let Some(i) = t.dynsym {
            so.symbols = read_dynsym(&r, i, t.versym, &so.versions)?;
        } else if let Some(v) = t.versym {
            let n = r.section_data(v, ".gnu.version")?.len() / 2;
            if n != 0 {
                bail!("{path}: corrupt .gnu.version: {n} entries but the object has no .dynsym");
            }
        }
        so.path = path;
        Ok(so)
    }

    /// Name of version index `idx` (as in DsoSymbol::version), if defined.
    pub fn version_name(&self, idx: u16) -> Option<&'a [u8]> {
        self.versions.get(usize::from(idx)).copied().flatten()
    }

    /// Whether symbol i (index into `symbols`) is exported: defined,
    /// binding GLOBAL or WEAK (or GNU_UNIQUE), visibility DEFAULT or
    /// PROTECTED, version != 0 (local).
    pub fn exports(&self, i: usize) -> bool {
        let Some(s) = self.symbols.get(i) else {
            return false;
        };
        s.defined
            && matches!(
                s.bind,
                elf::STB_GLOBAL | elf::STB_WEAK | elf::STB_GNU_UNIQUE
            )
            && matches!(s.visibility, elf::STV_DEFAULT | elf::STV_PROTECTED)
            && s.version != elf::VER_NDX_LOCAL
    }

    /// The allocated section holding symbol i: the one its st_shndx names
    /// (as GNU ld goes by), else (SHN_ABS, an index out of range or naming
    /// a section that is not allocated) the allocated section whose
    /// address range contains its value.
    pub fn section_of(&self, i: usize) -> Option<&DsoSection> {
        let s = self.symbols.get(i)?;
        if !s.defined {
            return None;
        }
        if let Some(&pos) = self.section_pos.get(usize::from(s.shndx)) {
            if pos != NOT_ALLOC && s.shndx < elf::SHN_LORESERVE {
                return self.sections.get(pos as usize);
            }
        }
        self.sections.iter().find(|sec| {
            sec.flags & u64::from(elf::SHF_TLS) == 0
                && s.value >= sec.addr
                && s.value - sec.addr < sec.size
        })
    }

    /// Alignment a copy of data symbol i must get in an executable's .bss
    /// (copy relocation), by GNU ld's rule (`_bfd_elf_adjust_dynamic_copy`):
    /// the largest power of two dividing the symbol's offset in its section
    /// (`value - sh_addr`), capped at that section's alignment. A symbol in
    /// no allocated section gets the largest power of two dividing its
    /// value, capped at 16 (x86-64's largest fundamental alignment,
    /// `alignof(max_align_t)`). Always at least 1.
    pub fn copy_align(&self, i: usize) -> u64 {
        let Some(s) = self.symbols.get(i) else {
            return 1;
        };
        let (offset, cap) = match self.section_of(i) {
            Some(sec) => (s.value.wrapping_sub(sec.addr), sec.align),
            None => (s.value, 16),
        };
        if offset == 0 {
            cap.max(1)
        } else {
            (1u64 << offset.trailing_zeros()).min(cap).max(1)
        }
    }

    /// Whether symbol i lies in a writable (SHF_WRITE) or read-only section
    /// (for copy relocations: GNU ld copies read-only data into
    /// .data.rel.ro). A symbol in no allocated section counts as writable:
    /// a copy in .bss works for it either way.
    pub fn in_writable_section(&self, i: usize) -> bool {
        self.section_of(i)
            .is_none_or(|sec| sec.flags & u64::from(elf::SHF_WRITE) != 0)
    }
}

/// sh_addralign as a power of two from 1 to [`MAX_ALIGN`].
fn usable_align(a: u64) -> u64 {
    a.max(1)
        .checked_next_power_of_two()
        .unwrap_or(MAX_ALIGN)
        .min(MAX_ALIGN)
}

/// Checks the ELF header; returns the section headers.
fn check_header<'a>(path: &str, data: &'a [u8]) -> Result<&'a [Shdr]> {
    let not = |why: std::fmt::Arguments| err!("{path}: not an x86-64 ELF64 shared object ({why})");
    if data.len() < 64 || !data.starts_with(&elf::ELFMAG) {
        return Err(not(format_args!("not ELF, or a truncated header")));
    }
    if data[4] != elf::ELFCLASS64 {
        return Err(not(format_args!("ELF class {}, not ELF64", data[4])));
    }
    if data[5] != elf::ELFDATA2LSB {
        return Err(not(format_args!("not little-endian")));
    }
    let header = elf::FileHeader64::<LE>::parse(data)
        .map_err(|e| not(format_args!("bad ELF header: {e}")))?;
    if header.e_machine(E) != elf::EM_X86_64 {
        return Err(not(format_args!(
            "machine type {}, expected x86-64",
            header.e_machine(E)
        )));
    }
    if header.e_type(E) != elf::ET_DYN {
        return Err(not(format_args!(
            "ELF type {}, expected ET_DYN",
            header.e_type(E)
        )));
    }
    header
        .section_headers(E, data)
        .map_err(|e| err!("{path}: corrupt section header table: {e}"))
}

/// `.gnu.version_d`: version names by index.
fn read_verdefs<'a>(r: &Reader<'a, '_>, i: usize) -> Result<Vec<Option<&'a [u8]>>> {
    const WHAT: &str = ".gnu.version_d";
    let data = r.section_data(i, WHAT)?;
    let strtab = r.linked_strtab(i, WHAT)?;
    // A name offset is good when a NUL follows it: when it is at most the
    // offset of the table's last NUL.
    let last_nul = memchr::memrchr(0, strtab);
    let name_ok = |off: u32| last_nul.is_some_and(|l| off as usize <= l);
    // sh_info counts the entries; 0 (not written by GNU tools) leaves the
    // chain's vd_next == 0 as the only end.
    let count = match r.shdrs[i].sh_info(E) {
        0 => u32::MAX,
        n => n,
    };
    // Loop guards: entries may not outnumber what the section could hold
    // if they did not overlap (vd_next and vda_next only move forward, so
    // the walks end anyway, but overlapping chains could be made long).
    let max_defs = data.len() / std::mem::size_of::<Verdef>();
    let mut aux_budget = data.len() / std::mem::size_of::<Verdaux>();

    let mut versions: Vec<Option<&'a [u8]>> = Vec::new();
    let mut off = 0usize;
    let mut n = 0u32;
    while n < count {
        if n as usize >= max_defs {
            return Err(r.corrupt(
                WHAT,
                format_args!("more than the {max_defs} entries the section can hold"),
            ));
        }
        let vd = data
            .get(off..)
            .and_then(|b| object::pod::from_bytes::<Verdef>(b).ok())
            .map(|(vd, _)| vd)
            .ok_or_else(|| {
                r.corrupt(
                    WHAT,
                    format_args!("entry {n} at offset {off:#x} runs past the end of the section (size {:#x})", data.len()),
                )
            })?;
        let version = vd.vd_version.get(E);
        if version != elf::VER_DEF_CURRENT {
            return Err(r.corrupt(
                WHAT,
                format_args!("entry {n} has revision {version}, expected 1"),
            ));
        }
        let ndx = vd.vd_ndx.get(E);
        if ndx == 0 || ndx > elf::VERSYM_VERSION {
            return Err(r.corrupt(
                WHAT,
                format_args!("entry {n} has version index {ndx}, out of range"),
            ));
        }
        let cnt = vd.vd_cnt.get(E);
        if cnt == 0 {
            return Err(r.corrupt(
                WHAT,
                format_args!("entry {n} (index {ndx}) has no name (vd_cnt 0)"),
            ));
        }
        // The Verdaux chain: the first names the version, any others its
        // parents (checked, not kept).
        let mut name: &[u8] = &[];
        let mut aoff = off.checked_add(vd.vd_aux.get(E) as usize);
        for j in 0..cnt {
            if aux_budget == 0 {
                return Err(r.corrupt(
                    WHAT,
                    format_args!("entry {n}: more Verdaux entries than the section can hold"),
                ));
            }
            aux_budget -= 1;
            let aux = aoff
                .and_then(|a| data.get(a..))
                .and_then(|b| object::pod::from_bytes::<Verdaux>(b).ok())
                .map(|(a, _)| a)
                .ok_or_else(|| {
                    r.corrupt(
                        WHAT,
                        format_args!("entry {n}: Verdaux {j} lies outside the section"),
                    )
                })?;
            let noff = aux.vda_name.get(E);
            if !name_ok(noff) {
                return Err(r.corrupt(
                    WHAT,
                    format_args!(
                        "entry {n}: name offset {noff:#x} is outside its string table (size {:#x})",
                        strtab.len()
                    ),
                ));
            }
            if j == 0 {
                name = str_at(strtab, u64::from(noff)).unwrap_or_default();
            }
            match aux.vda_next.get(E) {
                0 => break,
                next => aoff = aoff.and_then(|a| a.checked_add(next as usize)),
            }
        }
        let slot = usize::from(ndx);
        if versions.len() <= slot {
            versions.resize(slot + 1, None);
        }
        if versions[slot].is_some() {
            return Err(r.corrupt(WHAT, format_args!("version index {ndx} is defined twice")));
        }
        versions[slot] = Some(name);
        n += 1;
        match vd.vd_next.get(E) {
            0 => break,
            next => {
                off = off.checked_add(next as usize).ok_or_else(|| {
                    r.corrupt(WHAT, format_args!("entry {n}: vd_next out of range"))
                })?
            }
        }
    }
    Ok(versions)
}

/// `.dynamic`: DT_SONAME and the DT_NEEDED list.
#[allow(clippy::type_complexity)]
fn read_dynamic<'a>(r: &Reader<'a, '_>, i: usize) -> Result<(Option<&'a [u8]>, Vec<&'a [u8]>)> {
    const WHAT: &str = ".dynamic";
    let data = r.section_data(i, WHAT)?;
    let entries: &[Dyn64] = slice_of(data).ok_or_else(|| {
        r.corrupt(
            WHAT,
            format_args!("size {:#x} is not a multiple of 16", data.len()),
        )
    })?;
    let strtab = r.linked_strtab(i, WHAT)?;
    let mut soname = None;
    let mut needed = Vec::new();
    for d in entries {
        let tag = d.d_tag.get(E);
        let val = d.d_val.get(E);
        let tname = match tag {
            t if t == u64::from(elf::DT_NULL) => break,
            t if t == u64::from(elf::DT_SONAME) => "DT_SONAME",
            t if t == u64::from(elf::DT_NEEDED) => "DT_NEEDED",
            _ => continue,
        };
        let s = str_at(strtab, val).ok_or_else(|| {
            r.corrupt(
                WHAT,
                format_args!(
                    "{tname} string offset {val:#x} is outside its string table (size {:#x})",
                    strtab.len()
                ),
            )
        })?;
        if tag == u64::from(elf::DT_NEEDED) {
            needed.push(s);
        } else {
            // The last one counts, as in GNU ld.
            soname = Some(s);
        }
    }
    Ok((soname, needed))
}

/// `.dynsym` (with `.gnu.version`, if any): every symbol after the null one.
fn read_dynsym<'a>(
    r: &Reader<'a, '_>,
    i: usize,
    versym: Option<usize>,
    versions: &[Option<&'a [u8]>],
) -> Result<Vec<DsoSymbol<'a>>> {
    const WHAT: &str = ".dynsym";
    let entsize = r.shdrs[i].sh_entsize(E);
    if entsize != std::mem::size_of::<Sym64>() as u64 {
        return Err(r.corrupt(WHAT, format_args!("entry size {entsize}, expected 24")));
    }
    let data = r.section_data(i, WHAT)?;
    let syms: &[Sym64] = slice_of(data).ok_or_else(|| {
        r.corrupt(
            WHAT,
            format_args!("size {:#x} is not a multiple of 24", data.len()),
        )
    })?;
    let strtab = r.linked_strtab(i, WHAT)?;
    let vers: &[object::U16<LE>] = match versym {
        None => &[],
        Some(v) => {
            let vdata = r.section_data(v, ".gnu.version")?;
            let vers: &[object::U16<LE>] = slice_of(vdata).ok_or_else(|| {
                r.corrupt(
                    ".gnu.version",
                    format_args!("size {:#x} is odd", vdata.len()),
                )
            })?;
            if vers.len() != syms.len() {
                return Err(r.corrupt(
                    ".gnu.version",
                    format_args!(
                        "{} entries, but .dynsym has {} symbols",
                        vers.len(),
                        syms.len()
                    ),
                ));
            }
            vers
        }
    };

    let mut out = Vec::with_capacity(syms.len().saturating_sub(1));
    for (k, s) in syms.iter().enumerate().skip(1) {
        let noff = s.st_name.get(E);
        let name = str_at(strtab, u64::from(noff)).ok_or_else(|| {
            r.corrupt(
                WHAT,
                format_args!(
                    "symbol {k} has name offset {noff:#x}, outside its string table (size {:#x})",
                    strtab.len()
                ),
            )
        })?;
        let shndx = s.st_shndx.get(E);
        let defined = shndx != elf::SHN_UNDEF;
        let (version, hidden) = match vers.get(k) {
            Some(v) => {
                let v = v.get(E);
                (v & elf::VERSYM_VERSION, v & elf::VERSYM_HIDDEN != 0)
            }
            None => (elf::VER_NDX_GLOBAL, false),
        };
        // A definition in a version the object does not define: GNU ld
        // refuses the file with this message. (PIE executables given as
        // inputs hit it: their copy-relocated `stdout` etc. carry the
        // .gnu.version_r index of libc's version.) Later phases rely on
        // every defined symbol's version having a name.
        if defined
            && version > elf::VER_NDX_GLOBAL
            && versions
                .get(usize::from(version))
                .copied()
                .flatten()
                .is_none()
        {
            bail!(
                "{}: {}: invalid version {version} (max {}): .gnu.version_d does not define it",
                r.path,
                String::from_utf8_lossy(name),
                versions.len().saturating_sub(1)
            );
        }
        out.push(DsoSymbol {
            name,
            value: s.st_value.get(E),
            size: s.st_size.get(E),
            st_type: s.st_type(),
            bind: s.st_bind(),
            visibility: s.st_visibility(),
            shndx,
            defined,
            version,
            hidden,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ops::Range;
    use std::path::Path;
    use std::process::Command;

    const LIBC: &str = "/lib/x86_64-linux-gnu/libc.so.6";

    fn find<'a, 'b>(so: &'b SharedObject<'a>, name: &[u8]) -> Vec<(usize, &'b DsoSymbol<'a>)> {
        so.symbols
            .iter()
            .enumerate()
            .filter(|(_, s)| s.name == name)
            .collect()
    }

    /// Section header table of a good file: (index, type, file range,
    /// header offset).
    fn headers(data: &[u8]) -> Vec<(usize, u32, Range<usize>, usize)> {
        let h = elf::FileHeader64::<LE>::parse(data).unwrap();
        let shoff = h.e_shoff(E) as usize;
        h.section_headers(E, data)
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let off = s.sh_offset(E) as usize;
                let size = if s.sh_type(E) == elf::SHT_NOBITS {
                    0
                } else {
                    s.sh_size(E) as usize
                };
                (i, s.sh_type(E), off..off + size, shoff + i * 64)
            })
            .collect()
    }

    fn section_of_type(data: &[u8], ty: u32) -> (Range<usize>, usize) {
        let (_, _, range, hdr) = headers(data)
            .into_iter()
            .find(|h| h.1 == ty)
            .unwrap_or_else(|| panic!("no section of type {ty:#x}"));
        (range, hdr)
    }

    /// Parses without panicking (asserted); on error, the message is one
    /// line starting with the path.
    fn parse_no_panic(data: &[u8]) -> std::result::Result<usize, String> {
        let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            SharedObject::parse("bad.so".into(), b"bad.so", data)
                .map(|so| {
                    // Exercise the accessors too.
                    let mut acc = 0u64;
                    for i in 0..so.symbols.len() {
                        acc = acc
                            .wrapping_add(so.copy_align(i))
                            .wrapping_add(so.exports(i) as u64)
                            .wrapping_add(so.in_writable_section(i) as u64);
                        let _ = so.version_name(so.symbols[i].version);
                    }
                    let _ = so.copy_align(usize::MAX);
                    acc as usize
                })
                .map_err(|e| e.0)
        }));
        match res {
            Err(_) => panic!("parse panicked"),
            Ok(Err(msg)) => {
                assert!(msg.starts_with("bad.so: "), "{msg}");
                assert!(!msg.contains('\n'), "{msg}");
                Err(msg)
            }
            Ok(Ok(n)) => Ok(n),
        }
    }

    fn expect_err(data: &[u8], needle: &str) {
        let e = parse_no_panic(data).expect_err("corrupt input accepted");
        assert!(e.contains(needle), "{e:?} does not mention {needle:?}");
    }

    #[test]
    fn libc() {
        let Ok(data) = std::fs::read(LIBC) else {
            eprintln!("{LIBC} not found; skipped");
            return;
        };
        assert!(is_shared_object(&data));
        let so = SharedObject::parse(LIBC.into(), b"default", &data).unwrap();
        assert_eq!(so.path, LIBC);
        assert_eq!(so.soname, b"libc.so.6");
        assert!(so.needed.contains(&&b"ld-linux-x86-64.so.2"[..]));
        assert!(so.symbols.len() > 2000);
        assert_eq!(so.version_name(1), Some(&b"libc.so.6"[..]));
        assert_eq!(so.version_name(0), None);

        let puts = find(&so, b"puts");
        assert_eq!(puts.len(), 1);
        let (pi, p) = puts[0];
        assert!(p.defined && !p.hidden && so.exports(pi));
        assert_eq!(p.st_type, elf::STT_FUNC);
        assert_eq!(so.version_name(p.version), Some(&b"GLIBC_2.2.5"[..]));
        assert!(!so.in_writable_section(pi));

        // memcpy@GLIBC_2.2.5 (hidden) and memcpy@@GLIBC_2.14.
        let memcpy = find(&so, b"memcpy");
        let old = memcpy
            .iter()
            .find(|(_, s)| so.version_name(s.version) == Some(b"GLIBC_2.2.5"))
            .expect("memcpy@GLIBC_2.2.5");
        assert!(old.1.hidden);
        let new = memcpy
            .iter()
            .find(|(_, s)| so.version_name(s.version) == Some(b"GLIBC_2.14"))
            .expect("memcpy@@GLIBC_2.14");
        assert!(!new.1.hidden && so.exports(new.0));
        assert!(so.symbols.iter().filter(|s| s.hidden).count() > 10);

        // Data: stdout lives in writable .data.
        let (si, s) = find(&so, b"stdout")[0];
        assert_eq!(s.st_type, elf::STT_OBJECT);
        assert!(so.in_writable_section(si));
        let a = so.copy_align(si);
        assert!(a.is_power_of_two() && a >= 8 && s.value % a == 0, "{a}");

        // Undefined references (to ld.so) exist and are not exports.
        let undef = so.symbols.iter().position(|s| !s.defined).unwrap();
        assert!(!so.exports(undef));

        // Every defined versioned symbol's version has a name.
        for s in &so.symbols {
            if s.defined && s.version >= 2 {
                assert!(so.version_name(s.version).is_some());
            }
        }
    }

    #[test]
    fn detects_type() {
        assert!(!is_shared_object(b""));
        assert!(!is_shared_object(b"\x7fELF"));
        let mut h = [0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[5] = elf::ELFDATA2LSB;
        h[16] = elf::ET_REL as u8;
        assert!(!is_shared_object(&h));
        h[16] = elf::ET_DYN as u8;
        assert!(is_shared_object(&h));
        // A 32-bit shared object is one, and parse says why it is refused.
        h[4] = elf::ELFCLASS32;
        assert!(is_shared_object(&h));
        expect_err(&h, "not an x86-64 ELF64 shared object");
    }

    struct Built {
        _dir: tempfile::TempDir,
        versioned: Vec<u8>,
        plain: Vec<u8>,
        object: Vec<u8>,
    }

    const SRC: &str = r#"
        int data_rw = 1;
        __attribute__((aligned(16))) int data16[4] = {1, 2, 3, 4};
        const long ro_table[4] = {1, 2, 3, 4};
        __attribute__((aligned(64))) char big[128];
        __attribute__((visibility("protected"))) int prot = 5;
        int foo_v1(void) { return 1; }
        int foo_v2(void) { return 2; }
        #ifndef PLAIN
        __asm__(".symver foo_v1, foo@VER_1");
        __asm__(".symver foo_v2, foo@@VER_2");
        #endif
        int made_local(void) { return 4; }
        extern int undefined_thing(void);
        int call_it(void) { return undefined_thing() + made_local(); }
    "#;

    /// foo@VER_1 is exported only if VER_1 lists foo too.
    const SCRIPT: &str =
        "VER_1 { global: foo; data_rw; data16; ro_table; big; prot; call_it; local: *; };\n\
                          VER_2 { global: foo; } VER_1;\n";

    /// Runs gcc in `dir`: false when there is no gcc; a failing gcc fails
    /// the test.
    fn gcc(dir: &Path, args: &[&str]) -> bool {
        match Command::new("gcc").current_dir(dir).args(args).status() {
            Ok(s) => {
                assert!(s.success(), "gcc {args:?} failed: {s}");
                true
            }
            Err(e) => {
                eprintln!("cannot run gcc: {e}");
                false
            }
        }
    }

    /// Builds the test shared objects, or None when there is no gcc.
    fn build() -> Option<Built> {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("t.c"), SRC).unwrap();
        std::fs::write(d.join("t.map"), SCRIPT).unwrap();
        let ok = gcc(
            d,
            &[
                "-shared",
                "-fPIC",
                "-nostdlib",
                "-DPLAIN",
                "t.c",
                "-o",
                "libplain.so",
            ],
        ) && gcc(
            d,
            &[
                "-shared",
                "-fPIC",
                "-O1",
                "-nostdlib",
                "-Wl,-soname,libtest.so.1",
                "-Wl,--version-script=t.map",
                "t.c",
                "-Wl,--no-as-needed",
                "libplain.so",
                "-o",
                "libtest.so",
            ],
        ) && gcc(d, &["-c", "-fPIC", "t.c", "-o", "t.o"]);
        if !ok {
            return None;
        }
        Some(Built {
            versioned: std::fs::read(d.join("libtest.so")).unwrap(),
            plain: std::fs::read(d.join("libplain.so")).unwrap(),
            object: std::fs::read(d.join("t.o")).unwrap(),
            _dir: dir,
        })
    }

    #[test]
    fn built_with_version_script() {
        let Some(b) = build() else {
            eprintln!("gcc not usable; skipped");
            return;
        };
        assert!(is_shared_object(&b.versioned));
        assert!(!is_shared_object(&b.object));
        let so = SharedObject::parse("libtest.so".into(), b"libtest.so", &b.versioned).unwrap();
        assert_eq!(so.soname, b"libtest.so.1");
        assert_eq!(so.version_name(1), Some(&b"libtest.so.1"[..]));
        assert_eq!(so.needed, [&b"libplain.so"[..]]);
        let v1 = (1..so.versions.len() as u16)
            .find(|&i| so.version_name(i) == Some(b"VER_1"))
            .unwrap();
        let v2 = (1..so.versions.len() as u16)
            .find(|&i| so.version_name(i) == Some(b"VER_2"))
            .unwrap();

        let foo = find(&so, b"foo");
        assert_eq!(foo.len(), 2);
        let f1 = foo.iter().find(|(_, s)| s.version == v1).unwrap();
        let f2 = foo.iter().find(|(_, s)| s.version == v2).unwrap();
        assert!(f1.1.hidden && !f2.1.hidden);
        assert!(so.exports(f1.0) && so.exports(f2.0));
        assert_eq!(f1.1.st_type, elf::STT_FUNC);

        let one = |name: &[u8]| {
            let v = find(&so, name);
            assert_eq!(v.len(), 1, "{}", String::from_utf8_lossy(name));
            v[0]
        };
        let (i, s) = one(b"data_rw");
        assert!(s.defined && s.version == v1 && !s.hidden && so.exports(i));
        assert_eq!(s.size, 4);
        assert!(so.in_writable_section(i));
        assert!(so.copy_align(i) >= 4 && s.value % so.copy_align(i) == 0);

        let (i, _) = one(b"data16");
        assert!(so.copy_align(i) >= 16);

        let (i, s) = one(b"big");
        assert_eq!(s.st_type, elf::STT_OBJECT);
        assert_eq!(so.copy_align(i), 64);
        assert!(so.in_writable_section(i));
        assert_eq!(so.section_of(i).unwrap().sh_type, elf::SHT_NOBITS);

        let (i, _) = one(b"ro_table");
        assert!(!so.in_writable_section(i));
        assert!(so.copy_align(i) >= 8);

        let (i, s) = one(b"prot");
        assert_eq!(s.visibility, elf::STV_PROTECTED);
        assert!(so.exports(i));

        let (i, s) = one(b"undefined_thing");
        assert!(!s.defined && !so.exports(i));
        assert_eq!(s.bind, elf::STB_GLOBAL);

        // GNU ld adds an absolute symbol named after each version.
        let (i, s) = one(b"VER_2");
        assert_eq!(s.shndx, elf::SHN_ABS);
        assert_eq!(s.version, v2);
        assert!(so.section_of(i).is_none());
        assert_eq!(so.copy_align(i), 16);
        assert!(so.in_writable_section(i));

        assert!(find(&so, b"made_local").is_empty());
        assert!(find(&so, b"foo_v1").is_empty());

        // Without a version script or -soname: no versions, default soname.
        let plain = SharedObject::parse("libplain.so".into(), b"libplain.so", &b.plain).unwrap();
        assert_eq!(plain.soname, b"libplain.so");
        assert!(plain.versions.is_empty());
        assert!(plain.symbols.iter().all(|s| s.version == 1 && !s.hidden));
        let (i, _) = find(&plain, b"made_local")[0];
        assert!(plain.exports(i));

        // An ET_REL object is refused with the path.
        let e = SharedObject::parse("t.o".into(), b"t.o", &b.object)
            .err()
            .unwrap();
        assert!(
            e.0.starts_with("t.o: not an x86-64 ELF64 shared object"),
            "{e}"
        );
    }

    fn put_u16(d: &mut [u8], off: usize, v: u16) {
        d[off..off + 2].copy_from_slice(&v.to_le_bytes());
    }
    fn put_u64(d: &mut [u8], off: usize, v: u64) {
        d[off..off + 8].copy_from_slice(&v.to_le_bytes());
    }
    fn get_u64(d: &[u8], off: usize) -> u64 {
        u64::from_le_bytes(d[off..off + 8].try_into().unwrap())
    }

    /// Specific corruptions, each an error naming the path.
    fn specific_cases(good: &[u8]) {
        parse_no_panic(good).unwrap();

        // Wrong machine.
        let mut d = good.to_vec();
        put_u16(&mut d, 18, elf::EM_386);
        expect_err(&d, "not an x86-64 ELF64 shared object");

        // .gnu.version one entry short (sh_size at header + 32).
        let (_, vhdr) = section_of_type(good, elf::SHT_GNU_VERSYM);
        let mut d = good.to_vec();
        let size = get_u64(&d, vhdr + 32);
        put_u64(&mut d, vhdr + 32, size - 2);
        expect_err(&d, "corrupt .gnu.version:");

        // .dynsym entry size (sh_entsize at header + 56).
        let (_, shdr) = section_of_type(good, elf::SHT_DYNSYM);
        let mut d = good.to_vec();
        put_u64(&mut d, shdr + 56, 16);
        expect_err(&d, "corrupt .dynsym: entry size 16");

        // .dynsym size not a multiple of 24.
        let mut d = good.to_vec();
        let size = get_u64(&d, shdr + 32);
        put_u64(&mut d, shdr + 32, size - 1);
        expect_err(&d, "corrupt .dynsym:");

        // .dynsym contents past the end of the file.
        let mut d = good.to_vec();
        put_u64(&mut d, shdr + 32, 1 << 40);
        expect_err(&d, "corrupt .dynsym:");

        // DT_SONAME's string offset out of range.
        let (dyn_range, _) = section_of_type(good, elf::SHT_DYNAMIC);
        let mut d = good.to_vec();
        let soname = dyn_range
            .clone()
            .step_by(16)
            .find(|&o| get_u64(good, o) == u64::from(elf::DT_SONAME))
            .expect("DT_SONAME");
        put_u64(&mut d, soname + 8, 0xffff_ffff);
        expect_err(&d, "corrupt .dynamic: DT_SONAME string offset 0xffffffff");

        // A defined symbol's version index beyond .gnu.version_d.
        let (vrange, _) = section_of_type(good, elf::SHT_GNU_VERSYM);
        let so = SharedObject::parse("x".into(), b"x", good).unwrap();
        let k = so
            .symbols
            .iter()
            .position(|s| s.defined && s.version >= 2)
            .unwrap();
        let mut d = good.to_vec();
        put_u16(&mut d, vrange.start + 2 * (k + 1), 0x7000);
        expect_err(&d, "invalid version 28672 (max ");

        // .gnu.version_d: a vd_aux pointing outside, a bad revision.
        let (drange, _) = section_of_type(good, elf::SHT_GNU_VERDEF);
        let mut d = good.to_vec();
        d[drange.start + 12..drange.start + 16].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
        expect_err(
            &d,
            "corrupt .gnu.version_d: entry 0: Verdaux 0 lies outside",
        );
        let mut d = good.to_vec();
        put_u16(&mut d, drange.start, 2);
        expect_err(&d, "corrupt .gnu.version_d: entry 0 has revision 2");
    }

    /// Flips bytes of the given ranges in several ways; none may panic.
    fn fuzz_ranges(good: &[u8], ranges: &[Range<usize>], stride: usize) -> (usize, usize) {
        let (mut ok, mut bad) = (0, 0);
        let mut d = good.to_vec();
        for r in ranges {
            for off in r.clone().step_by(stride) {
                let orig = d[off];
                for v in [0u8, 0xff, orig ^ 0x80, orig.wrapping_add(1), orig ^ 0x01] {
                    d[off] = v;
                    match parse_no_panic(&d) {
                        Ok(_) => ok += 1,
                        Err(_) => bad += 1,
                    }
                }
                d[off] = orig;
            }
        }
        (ok, bad)
    }

    fn table_ranges(good: &[u8]) -> Vec<Range<usize>> {
        let mut ranges = Vec::new();
        for (_, ty, range, hdr) in headers(good) {
            if matches!(
                ty,
                elf::SHT_DYNSYM | elf::SHT_GNU_VERSYM | elf::SHT_GNU_VERDEF | elf::SHT_DYNAMIC
            ) {
                ranges.push(range);
                ranges.push(hdr..hdr + 64);
            }
        }
        ranges.push(0..64);
        ranges
    }

    #[test]
    fn corrupt_built() {
        let Some(b) = build() else {
            eprintln!("gcc not usable; skipped");
            return;
        };
        let good = &b.versioned[..];
        specific_cases(good);

        // Every truncation.
        for len in 0..good.len() {
            let _ = parse_no_panic(&good[..len]);
        }
        // Every byte of the file (tables, string tables, section headers).
        let (ok, bad) = fuzz_ranges(good, std::slice::from_ref(&(0..good.len())), 1);
        assert!(ok > 0 && bad > 0, "{ok} {bad}");
        // And of the tables alone: some changes must be caught.
        let (_, bad) = fuzz_ranges(good, &table_ranges(good), 1);
        assert!(bad > 100, "{bad}");

        // Same for the object without versions.
        let plain = &b.plain[..];
        for len in (0..plain.len()).step_by(7) {
            let _ = parse_no_panic(&plain[..len]);
        }
        fuzz_ranges(plain, &table_ranges(plain), 1);
    }

    #[test]
    fn corrupt_libc() {
        let Ok(data) = std::fs::read(LIBC) else {
            eprintln!("{LIBC} not found; skipped");
            return;
        };
        specific_cases(&data);
        for len in (0..data.len())
            .step_by(997)
            .chain(data.len() - 4096..data.len())
        {
            let _ = parse_no_panic(&data[..len]);
        }
        // .gnu.version_d and .dynamic densely, .dynsym and .gnu.version
        // sampled (a debug-build parse of libc takes half a millisecond).
        let range = |ty| section_of_type(&data, ty).0;
        fuzz_ranges(&data, &[range(elf::SHT_GNU_VERDEF)], 3);
        fuzz_ranges(&data, &[range(elf::SHT_DYNAMIC)], 2);
        fuzz_ranges(
            &data,
            &[range(elf::SHT_DYNSYM), range(elf::SHT_GNU_VERSYM)],
            211,
        );
    }
}
