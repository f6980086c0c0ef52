//! Opening inputs: memory-mapped files, library search, ar archives (GNU and
//! thin). Nothing here interprets ELF contents; see `object.rs`.

use crate::args::{Args, InputArg};
use crate::error::Result;
use crate::{bail, err};
use memmap2::Mmap;
use std::fs::File;
use std::path::{Path, PathBuf};

/// A file's bytes: mapped, or read when mapping is not possible (empty files).
pub enum Bytes {
    Mapped(Mmap),
    Owned(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

pub fn map_file(path: &Path) -> Result<Bytes> {
    let file = File::open(path).map_err(|e| err!("rivet: cannot open {}: {e}", path.display()))?;
    let len = file
        .metadata()
        .map_err(|e| err!("rivet: cannot stat {}: {e}", path.display()))?
        .len();
    if len == 0 {
        return Ok(Bytes::Owned(Vec::new()));
    }
    crate::mapped::map_readonly(&file).map_err(|e| err!("rivet: cannot map {}: {e}", path.display()))
}

/// One command-line input, opened.
pub struct OpenedInput {
    pub path: PathBuf,
    pub bytes: Bytes,
    pub whole_archive: bool,
    /// Index of the group this input belongs to, if any.
    pub group: Option<usize>,
}

/// Finds every input named on the command line and maps it. Group
/// boundaries are kept as a group index on each input.
pub fn open_inputs(args: &Args) -> Result<Vec<OpenedInput>> {
    let mut wanted: Vec<(PathBuf, bool, Option<usize>)> = Vec::new();
    let mut group = None;
    let mut groups = 0;
    for input in &args.inputs {
        match input {
            InputArg::Path { path, whole_archive } => wanted.push((path.clone(), *whole_archive, group)),
            InputArg::Library { name, whole_archive } => {
                wanted.push((find_library(name, &args.library_paths)?, *whole_archive, group))
            }
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
    wanted
        .into_par_iter()
        .map(|(path, whole_archive, group)| {
            let bytes = map_file(&path)?;
            Ok(OpenedInput {
                path,
                bytes,
                whole_archive,
                group,
            })
        })
        .collect()
}

/// Searches `-L` directories for `-lNAME` (lib NAME .a; static only, as
/// rivet does not link shared objects yet) or `-l:FILE`.
pub fn find_library(name: &str, dirs: &[PathBuf]) -> Result<PathBuf> {
    let file = match name.strip_prefix(':') {
        Some(exact) => exact.to_string(),
        None => format!("lib{name}.a"),
    };
    for d in dirs {
        let p = d.join(&file);
        if p.is_file() {
            return Ok(p);
        }
    }
    bail!("rivet: cannot find -l{name} (looked for {file} in the -L directories)")
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
    pub members: Vec<Member<'a>>,
    /// (symbol name, member index) from the archive's symbol index.
    pub index: Vec<(&'a [u8], usize)>,
}

pub fn is_archive(data: &[u8]) -> bool {
    data.starts_with(b"!<arch>\n") || data.starts_with(b"!<thin>\n")
}

pub fn parse_archive<'a>(path: &Path, data: &'a [u8]) -> Result<Archive<'a>> {
    let name = path.display();
    let ar = object::read::archive::ArchiveFile::parse(data).map_err(|e| err!("{name}: malformed archive: {e}"))?;
    let mut members = Vec::new();
    let mut by_offset = std::collections::HashMap::new();
    for m in ar.members() {
        let m = m.map_err(|e| err!("{name}: malformed archive member: {e}"))?;
        let mname = String::from_utf8_lossy(m.name()).into_owned();
        by_offset.insert(m.file_range().0, members.len());
        // The header precedes the data by 60 bytes; the symbol index refers to headers.
        by_offset.insert(m.file_range().0.wrapping_sub(60), members.len());
        let data = if m.is_thin() {
            let dir = path.parent().unwrap_or(Path::new("."));
            MemberData::External(dir.join(&mname))
        } else {
            MemberData::Inline(m.data(data).map_err(|e| err!("{name}({mname}): {e}"))?)
        };
        members.push(Member { name: mname, data });
    }
    let mut index = Vec::new();
    match ar.symbols().map_err(|e| err!("{name}: malformed archive symbol index: {e}"))? {
        Some(symbols) => {
            for s in symbols {
                let s = s.map_err(|e| err!("{name}: malformed archive symbol index: {e}"))?;
                let off = s.offset().0;
                let Some(&m) = by_offset.get(&off) else {
                    bail!("{name}: archive symbol index points to offset {off:#x}, which is not a member");
                };
                index.push((s.name(), m));
            }
        }
        None if members.is_empty() => {}
        None => bail!("{name}: archive has no symbol index; run ranlib on it"),
    }
    Ok(Archive { members, index })
}
