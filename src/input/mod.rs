//! Opening inputs: memory-mapped files, library search, ar archives (GNU and
//! thin). Nothing here interprets ELF contents; see `object.rs`.

pub mod dso;
pub mod ehframe;
pub mod object;
pub mod version_script;

use crate::args::{Args, InputArg};
use crate::error::Result;
use crate::{bail, err};
use std::fs::File;
use std::path::{Path, PathBuf};

pub use crate::mapped::Bytes;

pub fn map_file(path: &Path) -> Result<Bytes> {
    let file = File::open(path).map_err(|e| err!("rivet: cannot open {}: {e}", path.display()))?;
    map_opened(&file, path)
}

/// The bytes of `file`, opened from `path` (which messages name).
pub fn map_opened(file: &File, path: &Path) -> Result<Bytes> {
    let len = file
        .metadata()
        .map_err(|e| err!("rivet: cannot stat {}: {e}", path.display()))?
        .len();
    if len == 0 {
        return Ok(Bytes::Owned(Vec::new()));
    }
    crate::mapped::map_readonly(file).map_err(|e| err!("rivet: cannot map {}: {e}", path.display()))
}

/// One command-line input, opened.
pub struct OpenedInput {
    pub path: PathBuf,
    pub bytes: Bytes,
    pub whole_archive: bool,
    /// `--as-needed` (or `AS_NEEDED` in a script) was in force for it.
    pub as_needed: bool,
    /// Found by `-l`: a shared object without `DT_SONAME` is then needed by
    /// its file name, not by the path.
    pub from_library: bool,
    /// Index of the group this input belongs to, if any.
    pub group: Option<usize>,
    /// GNU ld scripts that were read just before this input and named it
    /// first (outermost first), for `--trace`.
    pub scripts: Vec<PathBuf>,
}

/// Finds every input named on the command line and maps it. Group
/// boundaries are kept as a group index on each input.
pub fn open_inputs(args: &Args) -> Result<Vec<OpenedInput>> {
    let mut wanted: Vec<Wanted> = Vec::new();
    let mut group = None;
    let mut groups = 0usize;
    for input in &args.inputs {
        match input {
            InputArg::Path {
                path,
                whole_archive,
                as_needed,
            } => wanted.push(Wanted {
                path: path.clone(),
                whole_archive: *whole_archive,
                as_needed: *as_needed,
                from_library: false,
                group,
            }),
            InputArg::Library {
                name,
                whole_archive,
                static_only,
                as_needed,
            } => wanted.push(Wanted {
                path: find_library(name, &args.library_paths, !*static_only)?,
                whole_archive: *whole_archive,
                as_needed: *as_needed,
                from_library: true,
                group,
            }),
            InputArg::GroupStart => {
                if group.is_none() {
                    group = Some(groups);
                    groups += 1;
                }
            }
            InputArg::GroupEnd => group = None,
        }
    }
    use rayon::prelude::*;
    let opened: Vec<OpenedInput> = wanted
        .into_par_iter()
        .map(|w| {
            let bytes = map_file(&w.path)?;
            Ok(OpenedInput {
                path: w.path,
                bytes,
                whole_archive: w.whole_archive,
                as_needed: w.as_needed,
                from_library: w.from_library,
                group: w.group,
                scripts: Vec::new(),
            })
        })
        .collect::<Result<_>>()?;
    // GNU ld scripts standing in for libraries (libm.a is one) name the
    // files to use instead.
    let mut out = Vec::with_capacity(opened.len());
    for inp in opened {
        expand_script(inp, args, &mut out, &mut groups, 0)?;
    }
    Ok(out)
}

/// An input named on the command line, before it is opened.
struct Wanted {
    path: PathBuf,
    whole_archive: bool,
    as_needed: bool,
    from_library: bool,
    group: Option<usize>,
}

fn looks_like_script(data: &[u8]) -> bool {
    !data.starts_with(b"\x7fELF") && !is_archive(data) && data.iter().take(4096).all(|&b| b != 0)
}

fn expand_script(
    mut inp: OpenedInput,
    args: &Args,
    out: &mut Vec<OpenedInput>,
    groups: &mut usize,
    depth: usize,
) -> Result<()> {
    if !looks_like_script(&inp.bytes) || inp.bytes.is_empty() {
        out.push(inp);
        return Ok(());
    }
    if depth > 16 {
        bail!("{}: linker scripts nest too deeply", inp.path.display());
    }
    let text = String::from_utf8_lossy(&inp.bytes).into_owned();
    let name = inp.path.display().to_string();
    let mut scripts = std::mem::take(&mut inp.scripts);
    scripts.push(inp.path.clone());
    for (command, items) in parse_script(&text).map_err(|e| err!("{name}: {e}"))? {
        let group = match command.as_str() {
            "GROUP" => inp.group.or_else(|| {
                *groups += 1;
                Some(*groups + 1_000_000)
            }),
            "INPUT" => inp.group,
            "OUTPUT_FORMAT" | "OUTPUT_ARCH" | "SEARCH_DIR" | "TARGET" => continue,
            other => bail!("{name}: linker script command {other} is not supported yet"),
        };
        for (item, in_as_needed) in items {
            let (path, from_library) = match item.strip_prefix("-l") {
                Some(lib) => (find_library(lib, &args.library_paths, true)?, true),
                None => (
                    script_item_path(&item, &inp.path, &args.library_paths),
                    false,
                ),
            };
            let bytes = map_file(&path).map_err(|e| err!("{} (named by {name})", e.0))?;
            let child = OpenedInput {
                path,
                bytes,
                whole_archive: inp.whole_archive,
                as_needed: inp.as_needed || in_as_needed,
                from_library,
                group,
                scripts: std::mem::take(&mut scripts),
            };
            expand_script(child, args, out, groups, depth + 1)?;
        }
    }
    Ok(())
}

/// Where a file a script names is: as written if it exists, else (a
/// plain name such as `libgcc_s.so.1`) in the script's own directory, else
/// in the `-L` directories, as GNU ld looks for it.
fn script_item_path(item: &str, script: &Path, dirs: &[PathBuf]) -> PathBuf {
    let given = PathBuf::from(item);
    if given.exists() || given.is_absolute() {
        return given;
    }
    script
        .parent()
        .into_iter()
        .chain(dirs.iter().map(PathBuf::as_path))
        .map(|d| d.join(item))
        .find(|p| p.is_file())
        .unwrap_or(given)
}

/// Reads the commands of a GNU ld script of the kind that stands in for a
/// library: `GROUP(a b AS_NEEDED(c))`, `INPUT(...)`, `OUTPUT_FORMAT(...)`.
/// Each item comes with whether it was inside `AS_NEEDED(...)`.
type ScriptCommand = (String, Vec<(String, bool)>);

fn parse_script(text: &str) -> std::result::Result<Vec<ScriptCommand>, String> {
    // Strip /* comments */.
    let mut clean = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("/*") {
        clean.push_str(&rest[..i]);
        match rest[i + 2..].find("*/") {
            Some(j) => rest = &rest[i + 2 + j + 2..],
            None => return Err("unterminated comment in linker script".into()),
        }
    }
    clean.push_str(rest);
    let spaced = clean
        .replace('(', " ( ")
        .replace(')', " ) ")
        .replace(',', " ");
    let mut tokens = spaced.split_whitespace().peekable();
    let mut out = Vec::new();
    while let Some(cmd) = tokens.next() {
        if tokens.next() != Some("(") {
            return Err(format!("unsupported linker script syntax near '{cmd}'"));
        }
        let mut items = Vec::new();
        let mut depth = 1;
        // The depth at which an `AS_NEEDED(` opened, while inside it.
        let mut as_needed_at: Option<usize> = None;
        let mut after_as_needed = false;
        for t in tokens.by_ref() {
            match t {
                "(" => {
                    depth += 1;
                    if std::mem::take(&mut after_as_needed) {
                        as_needed_at.get_or_insert(depth);
                    }
                }
                ")" => {
                    if as_needed_at == Some(depth) {
                        as_needed_at = None;
                    }
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                "AS_NEEDED" => after_as_needed = true,
                t => items.push((t.to_string(), as_needed_at.is_some())),
            }
        }
        if depth != 0 {
            return Err(format!("unbalanced parentheses in {cmd}(...)"));
        }
        out.push((cmd.to_string(), items));
    }
    Ok(out)
}

/// Searches the `-L` directories, in order, for `-lNAME` (`libNAME.so`
/// before `libNAME.a` in each directory, unless `dynamic` is false:
/// `-Bstatic`/`-static`) or `-l:FILE`, as GNU ld searches.
pub fn find_library(name: &str, dirs: &[PathBuf], dynamic: bool) -> Result<PathBuf> {
    let files: Vec<String> = match name.strip_prefix(':') {
        Some(exact) => vec![exact.to_string()],
        None if dynamic => vec![format!("lib{name}.so"), format!("lib{name}.a")],
        None => vec![format!("lib{name}.a")],
    };
    for d in dirs {
        for file in &files {
            let p = d.join(file);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    bail!(
        "rivet: cannot find -l{name} (looked for {} in the -L directories)",
        files.join(" and ")
    )
}

/// One member of an archive.
pub struct Member<'a> {
    pub name: String,
    /// The member's bytes; for thin archives, the file it names.
    pub data: MemberData<'a>,
}

pub enum MemberData<'a> {
    Inline(&'a [u8]),
    /// A thin archive member: the path of the file holding it.
    External(PathBuf),
}

pub struct Archive<'a> {
    /// A thin archive (`!<thin>`): members are files named by the archive.
    pub thin: bool,
    pub members: Vec<Member<'a>>,
    /// (symbol name, member index) from the archive's symbol index.
    pub index: Vec<(&'a [u8], usize)>,
}

pub fn is_archive(data: &[u8]) -> bool {
    data.starts_with(b"!<arch>\n") || data.starts_with(b"!<thin>\n")
}

pub fn parse_archive<'a>(path: &Path, data: &'a [u8]) -> Result<Archive<'a>> {
    let name = path.display();
    let ar = ::object::read::archive::ArchiveFile::parse(data)
        .map_err(|e| err!("{name}: malformed archive: {e}"))?;
    let mut members = Vec::new();
    // The symbol index names members by the offset of their headers. (The
    // data offset will not do: thin members have no data here, and `object`
    // reports 0 for every one of them.)
    let mut by_header = std::collections::HashMap::new();
    for m in ar.members() {
        let m = m.map_err(|e| err!("{name}: malformed archive member: {e}"))?;
        let mname = String::from_utf8_lossy(m.name()).into_owned();
        if let Some(h) = m.header() {
            let header_offset = (h as *const _ as usize).wrapping_sub(data.as_ptr() as usize);
            by_header.insert(header_offset as u64, members.len());
        }
        let data = if m.is_thin() {
            let dir = path.parent().unwrap_or(Path::new("."));
            MemberData::External(dir.join(&mname))
        } else {
            MemberData::Inline(m.data(data).map_err(|e| err!("{name}({mname}): {e}"))?)
        };
        members.push(Member { name: mname, data });
    }
    let mut index = Vec::new();
    match ar
        .symbols()
        .map_err(|e| err!("{name}: malformed archive symbol index: {e}"))?
    {
        Some(symbols) => {
            for s in symbols {
                let s = s.map_err(|e| err!("{name}: malformed archive symbol index: {e}"))?;
                let off = s.offset().0;
                let m = *by_header.get(&off).ok_or_else(|| {
                    err!("{name}: archive symbol index points to offset {off:#x}, which is not a member")
                })?;
                index.push((s.name(), m));
            }
        }
        None if members.is_empty() => {}
        None => bail!("{name}: archive has no symbol index; run ranlib on it"),
    }
    Ok(Archive {
        thin: ar.is_thin(),
        members,
        index,
    })
}
