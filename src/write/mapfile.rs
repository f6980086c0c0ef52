//! `-Map FILE`, `-M`/`--print-map`: the link map, in GNU ld's format.
//!
//! What GNU ld writes, reduced to what rivet knows: the archive members
//! loaded and the reference that loaded each, the discarded input sections,
//! then the memory map: `LOAD` lines for the inputs, and for every output
//! section its address and size, each input section in it (name, address,
//! size, file, `archive.a(member.o)` for members) with the global symbols
//! defined there under it (address, name), and `*fill*` lines for the
//! padding between input sections. GNU ld's linker-script statements
//! (`*(.text .text.*)`, `PROVIDE`, `. = ALIGN(...)`) and its empty output
//! sections are not reproduced: rivet has no script.
//!
//! The text is built only when asked for, one string per output section in
//! parallel, and written after the output is in place, so a failed link
//! leaves no new map behind.

use crate::args::Args;
use crate::error::Result;
use crate::input::object::{FileId, SymPlace, E};
use crate::input::OpenedInput;
use crate::layout::symvals::SymbolValues;
use crate::layout::{ChunkKind, Sections, Synthetic};
use crate::resolve::{Definition, Resolution, Strength};
use object::elf;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// GNU ld's `SECTION_NAME_MAP_LENGTH`: the column addresses start at.
const NAME_COLUMN: usize = 16;
/// The column the reason for loading an archive member starts at.
const REASON_COLUMN: usize = 30;

/// The global symbols each input section defines, by (file, section):
/// address and name.
type DefinedIn<'n> = FxHashMap<(FileId, u32), Vec<(u64, &'n [u8])>>;

/// Everything the map is made from.
pub struct MapCtx<'a, 'r> {
    pub args: &'a Args,
    pub inputs: &'a [OpenedInput],
    pub res: &'a Resolution<'r>,
    pub sections: &'a Sections,
    /// Each output section's header index (the map lists them in that order).
    pub out_index: &'a [u32],
    pub values: &'a SymbolValues,
}

/// Writes the map when `-Map`/`-M` asked for one: to the file (an error
/// naming it if that fails), or to stdout for `-M`.
pub fn write_if_asked(
    args: &Args,
    inputs: &[OpenedInput],
    res: &Resolution,
    sections: &Sections,
    out_index: &[u32],
    values: &SymbolValues,
) -> Result<()> {
    let Some(dest) = &args.map else {
        return Ok(());
    };
    let ctx = &MapCtx {
        args,
        inputs,
        res,
        sections,
        out_index,
        values,
    };
    let parts = render(ctx);
    if dest.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        return write_parts(&mut out, &parts)
            .map_err(|e| crate::err!("rivet: cannot write the link map to stdout: {e}"));
    }
    let path = map_path(dest, &ctx.args.output);
    let result = std::fs::File::create(&path).and_then(|f| {
        let mut out = std::io::BufWriter::new(f);
        write_parts(&mut out, &parts)
    });
    result.map_err(|e| crate::err!("rivet: cannot write map file {}: {e}", path.display()))
}

fn write_parts(out: &mut impl std::io::Write, parts: &[String]) -> std::io::Result<()> {
    for p in parts {
        out.write_all(p.as_bytes())?;
    }
    out.flush()
}

/// GNU ld's rules for the `-Map` argument: a directory gets
/// `OUTPUT.map` inside it, and `%` stands for the output's name.
pub fn map_path(dest: &Path, output: &Path) -> PathBuf {
    let dest_str = dest.to_string_lossy();
    if dest_str.ends_with('/') || dest.is_dir() {
        let base = output.file_name().unwrap_or(output.as_os_str());
        let mut name = base.to_os_string();
        name.push(".map");
        return dest.join(name);
    }
    if dest_str.contains('%') {
        return PathBuf::from(dest_str.replace('%', &output.to_string_lossy()));
    }
    dest.to_path_buf()
}

fn hex(v: u64) -> String {
    format!("0x{v:016x}")
}

/// `name`, then spaces to [`NAME_COLUMN`], or a new line and a full indent
/// when the name is too long, as GNU ld lays its lines out.
fn name_column(s: &mut String, name: &str) {
    s.push_str(name);
    let mut len = name.len();
    if len >= NAME_COLUMN - 1 {
        s.push('\n');
        len = 0;
    }
    s.extend(std::iter::repeat_n(' ', NAME_COLUMN - len));
}

fn input_line(s: &mut String, name: &str, addr: u64, size: u64, file: &str) {
    name_column(s, &format!(" {name}"));
    let _ = writeln!(s, "{} {size:#10x} {file}", hex(addr));
}

fn symbol_line(s: &mut String, addr: u64, name: &[u8]) {
    let _ = writeln!(
        s,
        "{:pad$}{}{:pad$}{}",
        "",
        hex(addr),
        "",
        String::from_utf8_lossy(name),
        pad = NAME_COLUMN
    );
}

/// The map's text, in pieces to be written in order.
pub fn render(ctx: &MapCtx) -> Vec<String> {
    let res = ctx.res;
    let mut parts = vec![archive_members(ctx), discarded(ctx)];
    let mut head = String::new();
    head.push_str("\nMemory Configuration\n\n");
    head.push_str("Name             Origin             Length             Attributes\n");
    head.push_str("*default*        0x0000000000000000 0xffffffffffffffff\n");
    head.push_str("\nLinker script and memory map\n\n");
    let mut group = None;
    for i in ctx.inputs {
        if i.group != group {
            if group.is_some() {
                head.push_str("END GROUP\n");
            }
            if i.group.is_some() {
                head.push_str("START GROUP\n");
            }
            group = i.group;
        }
        let _ = writeln!(head, "LOAD {}", i.path.display());
    }
    if group.is_some() {
        head.push_str("END GROUP\n");
    }
    parts.push(head);

    // The global symbols each input section defines, by (file, section).
    let mut defined: DefinedIn = FxHashMap::default();
    let mut commons: Vec<(FileId, u64, u64, &[u8])> = Vec::new();
    for (id, g) in res.symbols.iter().enumerate() {
        let Definition::Object {
            file,
            sym,
            strength,
        } = g.def
        else {
            continue;
        };
        let value = ctx.values.global[id];
        let obj = &res.objects[file as usize];
        match obj.place_of(sym as usize) {
            SymPlace::Common if strength == Strength::Common => {
                let size = obj.symbols[sym as usize].st_size.get(E);
                commons.push((file, value, size, g.name));
            }
            SymPlace::Section(s)
                if ctx
                    .sections
                    .placement
                    .get(file as usize)
                    .and_then(|p| p.get(s as usize))
                    .is_some_and(|p| p.is_placed()) =>
            {
                defined.entry((file, s)).or_default().push((value, g.name));
            }
            _ => {}
        }
    }
    defined
        .par_iter_mut()
        .for_each(|(_, syms)| syms.sort_unstable());
    commons.sort_unstable_by_key(|&(file, addr, _, name)| (file, addr, name));

    let mut order: Vec<usize> = (0..ctx.sections.out.len()).collect();
    order.sort_by_key(|&i| ctx.out_index[i]);
    let first_file = res.objects.first().map_or("", |o| o.name.as_str());
    let sections: Vec<String> = order
        .par_iter()
        .map(|&i| output_section(ctx, i, &defined, &commons, first_file))
        .collect();
    parts.extend(sections);
    parts.push(format!(
        "OUTPUT({} elf64-x86-64)\n",
        ctx.args.output.display()
    ));
    parts
}

fn output_section(
    ctx: &MapCtx,
    i: usize,
    defined: &DefinedIn,
    commons: &[(FileId, u64, u64, &[u8])],
    first_file: &str,
) -> String {
    let res = ctx.res;
    let o = &ctx.sections.out[i];
    let mut s = String::new();
    s.push('\n');
    name_column(&mut s, &String::from_utf8_lossy(&o.name));
    let _ = writeln!(s, "{} {:#10x}", hex(o.addr), o.size);
    let mut end = 0u64;
    for c in &o.chunks {
        if c.offset > end {
            name_column(&mut s, " *fill*");
            let _ = writeln!(s, "{} {:#10x} ", hex(o.addr + end), c.offset - end);
        }
        end = end.max(c.offset + c.size);
        let addr = o.addr + c.offset;
        match c.kind {
            ChunkKind::Input { file, sec } => {
                let obj = &res.objects[file as usize];
                let name = String::from_utf8_lossy(obj.sections[sec as usize].name);
                input_line(&mut s, &name, addr, c.size, &obj.name);
                for &(v, n) in defined.get(&(file, sec)).map_or(&[][..], |v| v) {
                    symbol_line(&mut s, v, n);
                }
            }
            ChunkKind::Synthetic(Synthetic::Commons) => {
                // GNU ld lists COMMON symbols per file that declared them.
                let mut k = 0;
                while k < commons.len() {
                    let file = commons[k].0;
                    let run = commons[k..].iter().take_while(|c| c.0 == file).count();
                    let syms = &commons[k..k + run];
                    let start = syms.iter().map(|c| c.1).min().unwrap_or(addr);
                    let stop = syms.iter().map(|c| c.1 + c.2).max().unwrap_or(addr);
                    input_line(
                        &mut s,
                        "COMMON",
                        start,
                        stop - start,
                        &res.objects[file as usize].name,
                    );
                    for &(_, v, _, n) in syms {
                        symbol_line(&mut s, v, n);
                    }
                    k += run;
                }
            }
            // GNU ld attaches the sections it makes to its first input.
            ChunkKind::Synthetic(kind) => {
                input_line(&mut s, synthetic_name(kind), addr, c.size, first_file);
            }
        }
    }
    s
}

/// The input section names GNU ld gives the sections it makes.
fn synthetic_name(kind: Synthetic) -> &'static str {
    match kind {
        Synthetic::Got => ".got",
        Synthetic::GotPlt => ".got.plt",
        Synthetic::Iplt => ".iplt",
        Synthetic::RelaIplt => ".rela.iplt",
        Synthetic::Commons => "COMMON",
        Synthetic::EhFrameHdr => ".eh_frame_hdr",
        Synthetic::BuildIdNote => ".note.gnu.build-id",
        Synthetic::GnuProperty => ".note.gnu.property",
        Synthetic::Comment => ".comment",
        Synthetic::Dyn(t) => t.input_name(),
    }
}

/// Whether `name` is an archive member rather than a file named on the
/// command line (or in a script).
fn is_member(ctx: &MapCtx, name: &str) -> bool {
    name.ends_with(')') && !ctx.inputs.iter().any(|i| i.path.as_os_str() == name)
}

/// "Archive member included to satisfy reference by file (symbol)": for
/// each member, a global it defines that an earlier file referred to first.
/// rivet does not record which index entry loaded a member, so this is the
/// first such symbol in the member's symbol table, which is the entry GNU
/// ld's archive scan meets first in the common case.
fn archive_members(ctx: &MapCtx) -> String {
    let res = ctx.res;
    let reasons: Vec<Option<String>> = res
        .objects
        .par_iter()
        .map(|obj| {
            if !is_member(ctx, &obj.name) {
                return None;
            }
            let (by, name) = (obj.first_global..obj.symbols.len()).find_map(|i| {
                let id = *obj.global_ids.get(i - obj.first_global)? as usize;
                let g = &res.symbols[id];
                match g.def {
                    Definition::Object { file, .. } if file == obj.id => {}
                    _ => return None,
                }
                let by = g.first_ref.filter(|&f| f < obj.id)?;
                Some((by, g.name))
            })?;
            let mut s = obj.name.clone();
            let mut len = s.len();
            if len >= REASON_COLUMN - 1 {
                s.push('\n');
                len = 0;
            }
            s.extend(std::iter::repeat_n(' ', REASON_COLUMN - len));
            let _ = writeln!(
                s,
                "{} ({})",
                res.objects[by as usize].name,
                String::from_utf8_lossy(name)
            );
            Some(s)
        })
        .collect();
    let mut s = String::new();
    for r in reasons.into_iter().flatten() {
        if s.is_empty() {
            s.push_str("Archive member included to satisfy reference by file (symbol)\n\n");
        }
        s.push_str(&r);
    }
    s
}

/// "Discarded input sections": sections with contents that went nowhere
/// (losing COMDAT copies, `--gc-sections`, `.note.GNU-stack`, ...).
fn discarded(ctx: &MapCtx) -> String {
    let res = ctx.res;
    let parts: Vec<String> = res
        .objects
        .par_iter()
        .map(|obj| {
            let mut s = String::new();
            let placement = ctx.sections.placement.get(obj.id as usize);
            for (i, sec) in obj.sections.iter().enumerate() {
                if i == 0
                    || matches!(
                        sec.sh_type,
                        elf::SHT_NULL
                            | elf::SHT_SYMTAB
                            | elf::SHT_STRTAB
                            | elf::SHT_RELA
                            | elf::SHT_REL
                            | elf::SHT_GROUP
                            | elf::SHT_SYMTAB_SHNDX
                    )
                {
                    continue;
                }
                if placement
                    .and_then(|p| p.get(i))
                    .is_some_and(|p| p.is_placed())
                {
                    continue;
                }
                let name = String::from_utf8_lossy(sec.name);
                input_line(&mut s, &name, 0, sec.size, &obj.name);
            }
            s
        })
        .collect();
    let body: String = parts.concat();
    if body.is_empty() {
        return String::new();
    }
    format!("\nDiscarded input sections\n\n{body}")
}
