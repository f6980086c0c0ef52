//! One ELF64 x86-64 relocatable object, parsed and bounds-checked.
//!
//! Everything read here comes from an untrusted file: section ranges, symbol
//! section indices, string offsets and relocation symbol indices are checked
//! once at parse time so that later phases can index without panicking.

use crate::arch::x86_64::{reloc_name, reloc_spec};
use crate::error::Result;
use crate::{bail, err};
use object::elf;
use object::read::elf::{FileHeader, SectionHeader};
use object::{LittleEndian as LE, Pod};
use rayon::prelude::*;
use thread_local::ThreadLocal;
use typed_arena::Arena;

pub type Sym64 = elf::Sym64<LE>;
pub type Rela64 = elf::Rela64<LE>;
pub const E: LE = LE;

/// The largest section alignment accepted (256 MiB); anything larger in an
/// object is corruption, and honouring it would pad the output by as much.
pub const MAX_ALIGN: u64 = 1 << 28;

/// Index of a loaded object file, in load order (deterministic).
pub type FileId = u32;

/// What parsing an object needs besides its bytes.
#[derive(Default)]
pub struct ParseCtx {
    /// `-r`: SHF_EXCLUDE sections stay, as GNU ld -r keeps them.
    pub keep_excluded: bool,
    inflated: Inflated,
}

/// Bytes rivet makes while parsing (decompressed debug sections and their
/// names), kept for the whole link: sections borrow them as they borrow
/// mapped file bytes. One arena per worker thread, so objects parsed in
/// parallel never contend for it.
#[derive(Default)]
struct Inflated {
    bytes: ThreadLocal<Arena<Vec<u8>>>,
}

impl Inflated {
    /// Keeps `data` for the link (decompressed tables are read as records
    /// in place; record types are unaligned, so any address will do).
    fn keep(&self, data: Vec<u8>) -> &[u8] {
        self.bytes.get_or_default().alloc(data)
    }
}

#[derive(Debug)]
pub struct InputSection<'a> {
    pub name: &'a [u8],
    pub sh_type: u32,
    pub flags: u64,
    pub align: u64,
    pub size: u64,
    pub entsize: u64,
    pub info: u32,
    pub link: u32,
    /// The section's bytes; empty for SHT_NOBITS.
    pub data: &'a [u8],
    /// Relocations applying to this section (from its SHT_RELA section).
    pub relocs: &'a [Rela64],
    /// Index of this section's SHT_GROUP section, if it belongs to one.
    pub group: Option<u32>,
    /// False when the section is dropped: a losing COMDAT copy, a
    /// relocation or symbol table, or a note the output rebuilds.
    pub kept: bool,
}

impl InputSection<'_> {
    pub fn is_alloc(&self) -> bool {
        self.flags & u64::from(elf::SHF_ALLOC) != 0
    }
    pub fn is_nobits(&self) -> bool {
        self.sh_type == elf::SHT_NOBITS
    }
    pub fn is_tls(&self) -> bool {
        self.flags & u64::from(elf::SHF_TLS) != 0
    }
}

impl<'a> InputSection<'a> {
    /// SHF_COMPRESSED (`-gz`), or GNU's older `.zdebug_*` form (`-gz=zlib-gnu`).
    fn is_compressed(&self) -> bool {
        self.flags & SHF_COMPRESSED != 0 || self.zdebug_payload().is_some()
    }

    /// A `.zdebug_*` section's uncompressed size and zlib stream: "ZLIB",
    /// the size as 8 big-endian bytes, the stream. Without the magic the
    /// section is not compressed.
    fn zdebug_payload(&self) -> Option<(u64, &'a [u8])> {
        if !self.name.starts_with(b".zdebug") || self.sh_type != elf::SHT_PROGBITS {
            return None;
        }
        let rest = self.data.strip_prefix(b"ZLIB")?;
        let (size, stream) = rest.split_first_chunk::<8>()?;
        Some((u64::from_be_bytes(*size), stream))
    }

    /// Replaces the section's contents by their decompressed bytes, kept in
    /// `inflated`; its size, alignment, flags (and a `.zdebug_` name) become
    /// those of the uncompressed section.
    fn decompress(&mut self, inflated: &'a Inflated) -> std::result::Result<(), String> {
        let sname = String::from_utf8_lossy(self.name).into_owned();
        if let Some((size, stream)) = self.zdebug_payload() {
            self.data = inflated.keep(inflate(stream, elf::ELFCOMPRESS_ZLIB, size, &sname)?);
            self.size = size;
            self.name = inflated.keep([&b"."[..], &self.name[2..]].concat());
            return Ok(());
        }
        let Some((header, stream)) =
            object::pod::from_bytes::<elf::CompressionHeader64<LE>>(self.data).ok()
        else {
            return Err(format!(
                "section {sname} is compressed (SHF_COMPRESSED) but too small for a compression header"
            ));
        };
        let size = header.ch_size.get(E);
        let align = header.ch_addralign.get(E).max(1);
        if !align.is_power_of_two() || align > MAX_ALIGN {
            return Err(format!(
                "section {sname}: compression header gives alignment {align:#x}, not a power of two up to {MAX_ALIGN:#x}"
            ));
        }
        self.data = inflated.keep(inflate(stream, header.ch_type.get(E), size, &sname)?);
        self.size = size;
        self.align = align;
        self.flags &= !SHF_COMPRESSED;
        Ok(())
    }
}

const SHF_COMPRESSED: u64 = elf::SHF_COMPRESSED as u64;

/// The most a compressed section may claim to expand to, per compressed
/// byte (plus 1 MiB): far past what debug info reaches (3-10 times).
pub const MAX_INFLATE_RATIO: u64 = 200;

/// Decompresses `stream` (of ELFCOMPRESS type `kind`), which must yield
/// exactly `size` bytes. Output grows with what is actually decoded, never
/// past `size`, so a header claiming a huge size allocates nothing up front.
fn inflate(
    stream: &[u8],
    kind: u32,
    size: u64,
    sname: &str,
) -> std::result::Result<Vec<u8>, String> {
    let corrupt = |what: &str, detail: &dyn std::fmt::Display| {
        format!("section {sname}: cannot decompress {what} data: {detail}")
    };
    let limit = usize::try_from(size).map_err(|_| corrupt("its", &"size too large"))?;
    // A decompression bomb: debug info compresses 3-10 times; a header
    // claiming far more than that would make rivet hold what a few bytes
    // expand to. Refused past a ratio no real section comes near.
    let kind_name = match kind {
        elf::ELFCOMPRESS_ZLIB => "zlib",
        elf::ELFCOMPRESS_ZSTD => "zstd",
        other => {
            return Err(format!(
                "section {sname}: unknown compression type {other} (rivet reads zlib and zstd)"
            ))
        }
    };
    if size > MAX_INFLATE_RATIO * stream.len() as u64 + (1 << 20) {
        return Err(corrupt(
            kind_name,
            &format_args!(
                "its header gives {size:#x} bytes for {:#x} compressed, more than {MAX_INFLATE_RATIO} times as many (refused as a decompression bomb)",
                stream.len()
            ),
        ));
    }
    let out = match kind {
        elf::ELFCOMPRESS_ZLIB => {
            miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(stream, limit).map_err(|e| {
                match e.status {
                    miniz_oxide::inflate::TINFLStatus::HasMoreOutput => corrupt(
                        "zlib",
                        &format_args!("more than the {size:#x} bytes its header gives"),
                    ),
                    _ => corrupt("zlib", &e),
                }
            })?
        }
        elf::ELFCOMPRESS_ZSTD => {
            use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
            use std::io::Read;
            let mut out = Vec::new();
            let mut rest = stream;
            // Frames follow each other; skippable frames carry no data.
            while !rest.is_empty() {
                let max_window = size.max(ruzstd::decoding::DEFAULT_MAX_WINDOW_SIZE);
                let mut frame = match ruzstd::decoding::StreamingDecoder::new_with_max_window_size(
                    &mut rest, max_window,
                ) {
                    Ok(f) => f,
                    Err(FrameDecoderError::ReadFrameHeaderError(
                        ReadFrameHeaderError::SkipFrame { length, .. },
                    )) => {
                        rest = rest
                            .get(length as usize..)
                            .ok_or_else(|| corrupt("zstd", &"skippable frame runs past the end"))?;
                        continue;
                    }
                    Err(e) => return Err(corrupt("zstd", &e)),
                };
                let room = size - out.len() as u64;
                let read = (&mut frame)
                    .take(room + 1)
                    .read_to_end(&mut out)
                    .map_err(|e| corrupt("zstd", &e))?;
                if read as u64 > room {
                    return Err(corrupt(
                        "zstd",
                        &format_args!("more than the {size:#x} bytes its header gives"),
                    ));
                }
            }
            out
        }
        other => {
            return Err(format!(
                "section {sname}: unknown compression type {other} (rivet reads zlib and zstd)"
            ))
        }
    };
    if out.len() as u64 != size {
        return Err(corrupt(
            if kind == elf::ELFCOMPRESS_ZSTD {
                "zstd"
            } else {
                "zlib"
            },
            &format_args!("{:#x} bytes decoded, its header gives {size:#x}", out.len()),
        ));
    }
    Ok(out)
}

#[derive(Debug)]
pub struct Group<'a> {
    /// The SHT_GROUP section's index.
    pub section: u32,
    pub signature: &'a [u8],
    /// The symbol naming the group (the group section's sh_info).
    pub signature_symbol: u32,
    pub comdat: bool,
    pub members: Vec<u32>,
}

pub struct ObjectFile<'a> {
    pub id: FileId,
    /// `path` or `archive(member)`, for messages.
    pub name: String,
    /// The file's own name without directories: the path's, or the archive
    /// member's. GNU ld names the STT_FILE symbol it makes up with it.
    pub basename: String,
    pub sections: Vec<InputSection<'a>>,
    pub symbols: &'a [Sym64],
    pub strtab: &'a [u8],
    /// SHT_SYMTAB_SHNDX contents, for symbols whose st_shndx is SHN_XINDEX.
    pub symtab_shndx: &'a [u32],
    pub first_global: usize,
    pub groups: Vec<Group<'a>>,
    /// The global symbol id of each symbol from `first_global` on, filled by
    /// resolution.
    pub global_ids: Vec<u32>,
    /// Hashes of the global symbols' names, computed while parsing (in
    /// parallel) so resolution only probes.
    pub global_hashes: Vec<u64>,
    /// Whether the file has a `.note.GNU-stack` section (GNU ld takes a
    /// file without one to need an executable stack: see `exec_stack.rs`).
    pub has_stack_note: bool,
    /// Whether its `.note.GNU-stack` asks for an executable stack
    /// (SHF_EXECINSTR).
    pub wants_exec_stack: bool,
    /// GCC LTO IR and no code (`-flto` without `-ffat-lto-objects`; GCC
    /// marks such files with the symbol `__gnu_lto_slim`). Only an LTO
    /// plugin could link it; `-r` merges the IR as GNU ld does.
    pub lto_slim: bool,
    /// A global symbol is an IFUNC or GNU_UNIQUE: GNU extensions that make
    /// GNU ld mark its output's EI_OSABI as ELFOSABI_GNU.
    pub uses_gnu_symbols: bool,
}

/// Where a symbol is defined inside its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymPlace {
    Undefined,
    Absolute,
    Common,
    Section(u32),
}

impl<'a> ObjectFile<'a> {
    /// Parses `data`; compressed sections are decompressed into `ctx`.
    pub fn parse(
        id: FileId,
        name: String,
        data: &'a [u8],
        ctx: &'a ParseCtx,
    ) -> Result<ObjectFile<'a>> {
        let bad = |what: &dyn std::fmt::Display| err!("{name}: {what}");
        if is_llvm_bitcode(data) {
            return Err(unrecognized(&name, data));
        }
        if data.len() < 64 || &data[..4] != b"\x7fELF" {
            return Err(bad(&"not an ELF file (or truncated header)"));
        }
        if data[4] != elf::ELFCLASS64 {
            return Err(bad(
                &"is 32-bit ELF; only ELF64 x86-64 objects are supported",
            ));
        }
        if data[5] != elf::ELFDATA2LSB {
            return Err(bad(
                &"is big-endian ELF; only little-endian x86-64 objects are supported",
            ));
        }
        let header = elf::FileHeader64::<LE>::parse(data).map_err(|e| bad(&e))?;
        if header.e_machine(E) != elf::EM_X86_64 {
            return Err(bad(&format_args!(
                "wrong machine type {} (expected x86-64)",
                header.e_machine(E)
            )));
        }
        if header.e_type(E) != elf::ET_REL {
            return Err(bad(&"is not a relocatable object (ET_REL)"));
        }
        let table = header
            .sections(E, data)
            .map_err(|e| bad(&format_args!("bad section table: {e}")))?;
        let nsec = table.len();
        let mut sections = Vec::with_capacity(nsec);
        for (i, sh) in table.iter().enumerate() {
            let name = table
                .section_name(E, sh)
                .map_err(|_| bad(&format_args!("section {i}: name out of range")))?;
            let sh_type = sh.sh_type(E);
            let data = if sh_type == elf::SHT_NOBITS || sh_type == elf::SHT_NULL {
                &[][..]
            } else {
                sh.data(E, data).map_err(|_| {
                    bad(&format_args!(
                        "section {} ({}) lies outside the file",
                        i,
                        String::from_utf8_lossy(name)
                    ))
                })?
            };
            let align = sh.sh_addralign(E).max(1);
            if !align.is_power_of_two() {
                return Err(bad(&format_args!(
                    "section {} has alignment {align}, not a power of two",
                    String::from_utf8_lossy(name)
                )));
            }
            // Padding to a larger boundary would make the output that large.
            if align > MAX_ALIGN {
                return Err(bad(&format_args!(
                    "section {} has alignment {align:#x}, larger than the {MAX_ALIGN:#x} rivet accepts",
                    String::from_utf8_lossy(name)
                )));
            }
            let tls_alloc = u64::from(elf::SHF_TLS | elf::SHF_ALLOC);
            if sh.sh_flags(E) & tls_alloc == u64::from(elf::SHF_TLS) {
                // The TLS segment is laid out from allocated sections only.
                return Err(bad(&format_args!(
                    "section {} is SHF_TLS but not SHF_ALLOC",
                    String::from_utf8_lossy(name)
                )));
            }
            sections.push(InputSection {
                name,
                sh_type,
                flags: sh.sh_flags(E),
                align,
                size: sh.sh_size(E),
                entsize: sh.sh_entsize(E),
                info: sh.sh_info(E),
                link: sh.sh_link(E),
                data,
                relocs: &[],
                group: None,
                kept: matches!(
                    sh_type,
                    elf::SHT_PROGBITS
                        | elf::SHT_NOBITS
                        | elf::SHT_NOTE
                        | elf::SHT_INIT_ARRAY
                        | elf::SHT_FINI_ARRAY
                        | elf::SHT_PREINIT_ARRAY
                        | elf::SHT_X86_64_UNWIND
                ) || (elf::SHT_LOUSER..=elf::SHT_HIUSER).contains(&sh_type),
            });
        }

        // Compressed sections become ordinary ones, as GNU ld reads them;
        // an object's sections decompress in parallel.
        if sections.iter().any(InputSection::is_compressed) {
            let results: Vec<Result<()>> = sections
                .par_iter_mut()
                .filter(|s| s.is_compressed())
                .map(|s| s.decompress(&ctx.inflated).map_err(|e| bad(&e)))
                .collect();
            results.into_iter().collect::<Result<()>>()?;
        }

        // Symbol table.
        let mut symbols: &[Sym64] = &[];
        let mut strtab: &[u8] = &[];
        let mut symtab_shndx: &[u32] = &[];
        let mut first_global = 0;
        let mut symtab_index = None;
        for (i, s) in sections.iter().enumerate() {
            if s.sh_type == elf::SHT_SYMTAB {
                if symtab_index.is_some() {
                    return Err(bad(&"has more than one symbol table"));
                }
                symtab_index = Some(i);
                let sname = String::from_utf8_lossy(s.name);
                if s.entsize != 24 {
                    return Err(bad(&format_args!(
                        "symbol table {sname}: entry size (sh_entsize) {} is not 24",
                        s.entsize
                    )));
                }
                symbols = slice_of(s.data).ok_or_else(|| {
                    bad(&format_args!(
                        "symbol table {sname}: size {:#x} is not a multiple of 24",
                        s.data.len()
                    ))
                })?;
                let link = s.link as usize;
                let strsec = sections
                    .get(link)
                    .filter(|t| t.sh_type == elf::SHT_STRTAB)
                    .ok_or_else(|| {
                        bad(&format_args!(
                            "symbol table {sname}: string table index (sh_link) {link} is out of range or not a string table"
                        ))
                    })?;
                strtab = strsec.data;
                first_global = s.info as usize;
                if first_global > symbols.len() {
                    return Err(bad(&format_args!(
                        "symbol table {sname}: first global index (sh_info) {first_global} is out of range ({} symbols)",
                        symbols.len()
                    )));
                }
            }
        }
        for s in sections.iter() {
            if s.sh_type == elf::SHT_SYMTAB_SHNDX && Some(s.link as usize) == symtab_index {
                symtab_shndx = slice_of(s.data).ok_or_else(|| bad(&"bad SHT_SYMTAB_SHNDX size"))?;
            }
        }

        let mut obj = ObjectFile {
            id,
            basename: basename(&name).to_owned(),
            name,
            sections,
            symbols,
            strtab,
            symtab_shndx,
            first_global,
            groups: Vec::new(),
            global_ids: Vec::new(),
            global_hashes: Vec::new(),
            has_stack_note: false,
            wants_exec_stack: false,
            lto_slim: false,
            uses_gnu_symbols: false,
        };
        obj.check_symbols(nsec)?;
        obj.global_hashes = (obj.first_global..obj.symbols.len())
            .map(|i| crate::symmap::hash_name(obj.name_of(i)))
            .collect();
        obj.lto_slim =
            (obj.first_global..obj.symbols.len()).any(|i| obj.name_of(i) == b"__gnu_lto_slim");
        obj.uses_gnu_symbols = obj.symbols[obj.first_global..]
            .iter()
            .any(|s| s.st_type() == elf::STT_GNU_IFUNC || s.st_bind() == elf::STB_GNU_UNIQUE);
        obj.attach_relocations()?;
        obj.read_groups()?;
        obj.drop_special_sections(ctx.keep_excluded);
        Ok(obj)
    }

    fn check_symbols(&self, nsec: usize) -> Result<()> {
        for (i, sym) in self.symbols.iter().enumerate() {
            if i != 0 {
                self.symbol_name(i)
                    .ok_or_else(|| err!("{}: symbol {i} has a name out of range", self.name))?;
            }
            if let SymPlace::Section(s) = self.place_of(i) {
                if s as usize >= nsec {
                    bail!(
                        "{}: symbol '{}' refers to section index {s}, out of range ({} sections)",
                        self.name,
                        String::from_utf8_lossy(self.symbol_name(i).unwrap_or(b"?")),
                        nsec
                    );
                }
            }
            let _ = sym;
        }
        Ok(())
    }

    fn attach_relocations(&mut self) -> Result<()> {
        let nsyms = self.symbols.len();
        for i in 0..self.sections.len() {
            let sh_type = self.sections[i].sh_type;
            if sh_type == elf::SHT_REL {
                bail!(
                    "{}: SHT_REL relocations are not valid for x86-64",
                    self.name
                );
            }
            if sh_type != elf::SHT_RELA {
                continue;
            }
            let target = self.sections[i].info as usize;
            let rname = String::from_utf8_lossy(self.sections[i].name);
            let relocs: &[Rela64] = slice_of(self.sections[i].data).ok_or_else(|| {
                err!(
                    "{}: relocation section {rname}: size is not a multiple of 24",
                    self.name
                )
            })?;
            if relocs.is_empty() {
                continue;
            }
            let tname = match self.sections.get(target) {
                Some(t) if t.sh_type != elf::SHT_NULL => t.name,
                _ => bail!(
                    "{}: relocation section {rname} applies to section index {target}, out of range",
                    self.name
                ),
            };
            // sh_info names the section relocated, sh_link the symbol
            // table: neither may be the relocation section itself, another
            // relocation section or a group; sh_link must be the symbol table.
            let target_type = self.sections[target].sh_type;
            if target == i
                || matches!(
                    target_type,
                    elf::SHT_RELA | elf::SHT_REL | elf::SHT_GROUP | elf::SHT_SYMTAB
                )
            {
                bail!(
                    "{}: relocation section {rname} applies to section {target} ({}), which cannot be relocated",
                    self.name,
                    String::from_utf8_lossy(tname)
                );
            }
            let link = self.sections[i].link as usize;
            if self.sections.get(link).map(|l| l.sh_type) != Some(elf::SHT_SYMTAB) {
                bail!(
                    "{}: relocation section {rname}: its symbol table (sh_link) {link} is not the symbol table",
                    self.name
                );
            }
            let tsize = self.sections[target].size;
            for (n, r) in relocs.iter().enumerate() {
                let sym = r.r_sym(E, false) as usize;
                if sym >= nsyms {
                    bail!(
                        "{}: relocation {n} in section {} refers to symbol index {sym}, out of range ({nsyms} symbols)",
                        self.name,
                        String::from_utf8_lossy(tname)
                    );
                }
                // The whole field the relocation writes must lie inside the
                // section; types rivet does not know are reported where applied.
                let ty = r.r_type(E, false);
                let field = reloc_spec(ty).map_or(0, |s| u64::from(s.size));
                let off = r.r_offset.get(E);
                if off.checked_add(field).is_none_or(|end| end > tsize) {
                    bail!(
                        "{}: relocation {n} ({}) at offset {off:#x} lies outside section {} (size {tsize:#x})",
                        self.name,
                        reloc_name(ty),
                        String::from_utf8_lossy(tname),
                    );
                }
            }
            self.sections[target].relocs = relocs;
        }
        Ok(())
    }

    fn read_groups(&mut self) -> Result<()> {
        for i in 0..self.sections.len() {
            if self.sections[i].sh_type != elf::SHT_GROUP {
                continue;
            }
            let words: &[object::U32<LE>] = slice_of(self.sections[i].data)
                .ok_or_else(|| err!("{}: malformed SHT_GROUP section", self.name))?;
            let Some((flags, members)) = words.split_first() else {
                bail!("{}: empty SHT_GROUP section", self.name);
            };
            // GRP_COMDAT is the only flag the gABI defines (the high bits
            // are for the OS and processor, which define none here).
            if flags.get(E) & !elf::GRP_COMDAT != 0 {
                bail!(
                    "{}: group section {i} has unknown flags {:#x}",
                    self.name,
                    flags.get(E)
                );
            }
            let sig_sym = self.sections[i].info;
            let signature = self
                .symbol_name(sig_sym as usize)
                .filter(|_| (sig_sym as usize) < self.symbols.len())
                .ok_or_else(|| {
                    err!(
                        "{}: group section {i} has a bad signature symbol",
                        self.name
                    )
                })?;
            // A group named by a section symbol takes that section's name.
            let signature = if self.symbols[sig_sym as usize].st_type() == elf::STT_SECTION {
                match self.place_of(sig_sym as usize) {
                    SymPlace::Section(s) => self.sections[s as usize].name,
                    _ => signature,
                }
            } else {
                signature
            };
            let gidx = self.groups.len() as u32;
            let mut list = Vec::with_capacity(members.len());
            for m in members {
                let m = m.get(E);
                if m as usize >= self.sections.len() || m == 0 {
                    bail!(
                        "{}: group {} lists section index {m}, out of range",
                        self.name,
                        String::from_utf8_lossy(signature)
                    );
                }
                let member = &self.sections[m as usize];
                if m as usize == i || member.sh_type == elf::SHT_GROUP {
                    bail!(
                        "{}: group {} lists a group section ({m}) as a member",
                        self.name,
                        String::from_utf8_lossy(signature)
                    );
                }
                if member.group.is_some() {
                    bail!(
                        "{}: group {} lists section {m} ({}), which is already in another group",
                        self.name,
                        String::from_utf8_lossy(signature),
                        String::from_utf8_lossy(member.name)
                    );
                }
                self.sections[m as usize].group = Some(gidx);
                list.push(m);
            }
            self.groups.push(Group {
                section: i as u32,
                signature,
                signature_symbol: sig_sym,
                comdat: flags.get(E) & elf::GRP_COMDAT != 0,
                members: list,
            });
        }
        Ok(())
    }

    /// Sections the output rebuilds rather than copies.
    fn drop_special_sections(&mut self, keep_excluded: bool) {
        for s in &mut self.sections {
            match s.name {
                // Kept for `-r` (one merged marker); executables turn it into PT_GNU_STACK.
                b".note.GNU-stack" => {
                    self.has_stack_note = true;
                    self.wants_exec_stack |= s.flags & u64::from(elf::SHF_EXECINSTR) != 0;
                    // A final link reads it and drops it: a symbol defined
                    // there is as one of a dropped section (not exported).
                    if !keep_excluded {
                        s.kept = false;
                    }
                }
                // Property notes are merged, not concatenated: gnu_property
                // reads them from the input and writes one merged note.
                b".note.gnu.property" | b".gnu_debuglink" => s.kept = false,
                _ => {}
            }
            // GCC's LTO IR, `.gnu.debuglto_*`, ...: GNU ld drops them from a
            // final link (symbols defined there are undefined) and keeps
            // them, flag and all, under `-r`.
            if s.flags & u64::from(elf::SHF_EXCLUDE) != 0 && !keep_excluded {
                s.kept = false;
            }
        }
    }

    pub fn symbol_name(&self, i: usize) -> Option<&'a [u8]> {
        let off = self.symbols.get(i)?.st_name.get(E) as usize;
        let tail = self.strtab.get(off..)?;
        let end = memchr0(tail)?;
        Some(&tail[..end])
    }

    /// The symbol's name; only call for indices checked at parse time.
    pub fn name_of(&self, i: usize) -> &'a [u8] {
        self.symbol_name(i).unwrap_or(b"")
    }

    pub fn place_of(&self, i: usize) -> SymPlace {
        let sym = &self.symbols[i];
        match sym.st_shndx.get(E) {
            elf::SHN_UNDEF => SymPlace::Undefined,
            elf::SHN_ABS => SymPlace::Absolute,
            elf::SHN_COMMON => SymPlace::Common,
            elf::SHN_XINDEX => match self.symtab_shndx.get(i) {
                Some(&s) => SymPlace::Section(s),
                None => SymPlace::Section(u32::MAX),
            },
            s if s >= elf::SHN_LORESERVE => SymPlace::Absolute,
            s => SymPlace::Section(u32::from(s)),
        }
    }

    pub fn is_global(&self, i: usize) -> bool {
        i >= self.first_global
    }
}

/// LLVM bitcode (clang `-flto`): raw, or in its wrapper header.
fn is_llvm_bitcode(data: &[u8]) -> bool {
    data.starts_with(b"BC\xc0\xde") || data.starts_with(&[0xde, 0xc0, 0x17, 0x0b])
}

/// The error for an input that is not an ELF object, saying what it is when
/// rivet can tell.
pub fn unrecognized(name: &str, data: &[u8]) -> crate::error::Error {
    if is_llvm_bitcode(data) {
        return err!(
            "{name}: file format not recognized: LLVM bitcode (built with -flto?); rivet has no LTO plugin support: rebuild without -flto"
        );
    }
    err!("{name}: file format not recognized")
}

/// Reinterprets bytes as a slice of a plain-old-data ELF record type, or
/// `None` when the length is not a whole number of records.
pub fn slice_of<T: Pod>(data: &[u8]) -> Option<&[T]> {
    let n = data.len() / std::mem::size_of::<T>();
    if n * std::mem::size_of::<T>() != data.len() {
        return None;
    }
    object::pod::slice_from_bytes(data, n).ok().map(|(s, _)| s)
}

/// Where the NUL ending a string table entry is: SIMD, since every symbol
/// name of every input is read through it (C++ and Rust names run long).
fn memchr0(s: &[u8]) -> Option<usize> {
    memchr::memchr(0, s)
}

/// `path` without its directories.
pub fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}
