//! Memory mappings: the input files rivet reads and the one output file it
//! writes. The only `unsafe` in rivet's I/O lives here.

use crate::err;
use crate::error::Result;
use memmap2::{Mmap, MmapMut};
use std::fs::{File, OpenOptions};
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

pub fn map_readonly(file: &File) -> std::io::Result<Bytes> {
    // Another process truncating an input while we link would fault, as it
    // would for every mmap-based linker.
    // SAFETY: the mapping is read-only; rivet never writes to its inputs.
    let map = unsafe { Mmap::map(file)? };
    Ok(Bytes::Mapped(map))
}

/// The output, written beside its final path and swapped into place by
/// [`OutputFile::commit`], so that the path holds the complete old output
/// until the new one is complete, whenever the link stops.
///
/// It is written into the *spare* file `.NAME.rivet-spare` beside the
/// output: the previous output, which the last commit left there. Writing
/// into an existing file's page cache is much cheaper than creating a file
/// (a new file's pages must each be allocated, zeroed and inserted into the
/// page cache as they are first touched, and replacing the old file frees
/// them all again). The commit exchanges the spare and the output
/// atomically (`renameat2(RENAME_EXCHANGE)`), so the old output becomes the
/// next link's spare. Every byte of the output is written, zeros included
/// ([`crate::partition::Filler::zeros`], [`crate::partition::par_for_each_range`]),
/// so the result does not depend on what the spare held.
///
/// A spare is only written if it is a regular file with one link, owned by
/// this user, not a running program (Linux refuses to open one for writing:
/// ETXTBSY), and not being written by another link (an `flock`); otherwise
/// it is removed and made anew, or (when locked) a file named after this
/// process is used and the old output is not kept. A link killed while
/// writing leaves the spare with garbage in it, which the next link
/// overwrites. Dropped without a commit, the file written is removed.
/// RIVET_NO_REUSE_OUTPUT writes a fresh file and keeps no spare.
pub struct OutputFile {
    tmp: PathBuf,
    target: PathBuf,
    map: Option<MmapMut>,
    /// Holds the spare's lock until the commit.
    file: Option<File>,
    executable: bool,
    /// The file written is the spare, which keeps the old output after
    /// the commit.
    keeps_spare: bool,
    /// The target is a device or FIFO (`-o /dev/null`): the output is
    /// written into it at commit, as GNU ld writes into it, never renamed
    /// over it.
    into_special: bool,
}

/// Whether `target` exists and is neither a regular file, a symlink nor a
/// directory: a character or block device, a FIFO or a socket.
fn is_special(target: &Path) -> bool {
    std::fs::symlink_metadata(target).is_ok_and(|m| {
        let t = m.file_type();
        !t.is_file() && !t.is_symlink() && !t.is_dir()
    })
}

/// The spare file beside `target`.
pub fn spare_path(target: &Path) -> PathBuf {
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let base = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join(format!(".{base}.rivet-spare"))
}

impl OutputFile {
    pub fn create(target: &Path, size: u64, executable: bool) -> Result<OutputFile> {
        let into_special = is_special(target);
        let no_reuse = std::env::var_os("RIVET_NO_REUSE_OUTPUT").is_some();
        let spare = spare_path(target);
        // A stopping signal removes the file this link writes: named before
        // it can be created, so that no moment leaves a new, empty file.
        // (A spare removed that this link did not get to use is only a
        // spare.)
        crate::signals::name_output(target);
        let opened = if into_special || no_reuse {
            None
        } else {
            crate::signals::remove_on_signal(&spare);
            open_spare(&spare, executable)
        };
        let (tmp, file, keeps_spare) = match opened {
            Some(file) => (spare, file, true),
            None => {
                // The spare is not this link's (another link may be
                // writing it): not to be removed in its stead.
                crate::signals::remove_on_signal(Path::new(""));
                // Beside a device (`/dev/null`) no file is made: the
                // temporary file goes to the temporary directory.
                let dir = if into_special {
                    std::env::temp_dir()
                } else {
                    spare.parent().unwrap_or(Path::new(".")).to_path_buf()
                };
                let base = target
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let tmp = dir.join(format!(".{base}.rivet-{}.tmp", std::process::id()));
                crate::signals::remove_on_signal(&tmp);
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&tmp)
                    .map_err(|e| {
                        err!(
                            "rivet: cannot open output file {}: {e} (creating {})",
                            target.display(),
                            tmp.display()
                        )
                    })?;
                (tmp, file, false)
            }
        };
        let mut out = OutputFile {
            tmp,
            target: target.to_path_buf(),
            map: None,
            file: None,
            executable,
            keeps_spare,
            into_special,
        };
        file.set_len(size).map_err(|e| {
            err!(
                "rivet: cannot write {}: cannot size it to {size} bytes: {e}",
                out.target.display()
            )
        })?;
        // Reserve the blocks now: otherwise every first write to a page of
        // the mapping allocates them in a page fault, serialized in the
        // filesystem, and the parallel writers wait on each other.
        preallocate(&file, size).map_err(|e| {
            err!(
                "rivet: cannot write {}: cannot allocate {size} bytes: {e}",
                out.target.display()
            )
        })?;
        if size > 0 {
            // The file is this link's alone (created under its name, or the
            // spare under its lock) and is renamed into place only after
            // the mapping is gone.
            // SAFETY: this process is the file's only writer while it is mapped.
            let map = unsafe { MmapMut::map_mut(&file) }.map_err(|e| {
                err!(
                    "rivet: cannot write {}: cannot map it: {e}",
                    out.target.display()
                )
            })?;
            // Ask for the page cache to hold the output in 2 MiB folios
            // where the filesystem can (ext4 since Linux 6.16, XFS): one
            // fault, one page-cache insertion and one TLB entry per 2 MiB
            // instead of 512 each. The kernel inserts one file's 4 KiB
            // pages one at a time, which made faulting in the output the
            // part of the write phase that did not scale with threads.
            // Best effort: elsewhere the advice changes nothing.
            let _ = map.advise(memmap2::Advice::HugePage);
            out.map = Some(map);
        }
        out.file = Some(file);
        Ok(out)
    }

    /// Faults the whole output in, in parallel and in 2 MiB runs, instead
    /// of one page at a time inside the writers.
    pub fn populate(&mut self) {
        use rayon::prelude::*;
        self.bytes().par_chunks_mut(1 << 21).for_each(populate);
    }

    pub fn bytes(&mut self) -> &mut [u8] {
        match &mut self.map {
            Some(m) => &mut m[..],
            None => &mut [],
        }
    }

    /// Unmaps the output and renames it into place.
    pub fn commit(mut self) -> Result<()> {
        drop(self.map.take());
        // The mode a new file gets, also when an old one was reused.
        use std::os::unix::fs::PermissionsExt;
        let mode = if self.executable { 0o777 } else { 0o666 } & !umask();
        std::fs::set_permissions(&self.tmp, std::fs::Permissions::from_mode(mode)).map_err(
            |e| {
                err!(
                    "rivet: cannot write {}: cannot set its permissions: {e}",
                    self.target.display()
                )
            },
        )?;
        if self.into_special {
            let copied = File::open(&self.tmp).and_then(|mut from| {
                let mut to = OpenOptions::new().write(true).open(&self.target)?;
                std::io::copy(&mut from, &mut to)
            });
            copied.map_err(|e| err!("rivet: cannot write {}: {e}", self.target.display()))?;
            // Drop removes the temporary file.
            return Ok(());
        }
        // The old output becomes the spare in the same step as the new one
        // takes its place; with no old output (or where the filesystem
        // cannot exchange) the new one is renamed into place.
        let replaceable = std::fs::symlink_metadata(&self.target)
            .is_ok_and(|m| m.file_type().is_file() || m.file_type().is_symlink());
        let exchanged = if replaceable {
            exchange(&self.tmp, &self.target)
        } else {
            Err(std::io::ErrorKind::NotFound.into())
        };
        match exchanged {
            Ok(()) if self.keeps_spare => {}
            // Written under this process's name: the old output is not kept.
            Ok(()) => {
                let _ = std::fs::remove_file(&self.tmp);
            }
            Err(_) => std::fs::rename(&self.tmp, &self.target).map_err(|e| {
                err!(
                    "rivet: cannot write {}: cannot rename {} to it: {e}",
                    self.target.display(),
                    self.tmp.display()
                )
            })?,
        }
        crate::signals::remove_on_signal(Path::new(""));
        self.tmp = PathBuf::new();
        drop(self.file.take());
        Ok(())
    }
}

/// Swaps the files at `a` and `b` atomically (both must exist).
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes());
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both paths are NUL-terminated strings that outlive the call.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        drop(self.map.take());
        if !self.tmp.as_os_str().is_empty() {
            crate::signals::remove_on_signal(Path::new(""));
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Faults in the pages of `buf`, a piece of the output mapping, ready for
/// writing, in one call rather than one fault per page. Best effort: on
/// kernels without MADV_POPULATE_WRITE the pages fault in as they are written.
fn populate(buf: &mut [u8]) {
    const MADV_POPULATE_WRITE: libc::c_int = 23;
    let page = 4096usize;
    let start = buf.as_mut_ptr() as usize;
    let aligned = start & !(page - 1);
    let len = buf.len() + (start - aligned);
    if buf.is_empty() {
        return;
    }
    // The range is the caller's `&mut` bytes rounded down to their page,
    // which lies in the same mapping (mappings start on a page).
    // SAFETY: populating only faults the pages in; their contents stay.
    let _ = unsafe { libc::madvise(aligned as *mut libc::c_void, len, MADV_POPULATE_WRITE) };
}

/// Opens (or creates) the spare file at `spare` for this link to write,
/// locked against other links of the same output; `None` when another link
/// holds it. A spare rivet may not overwrite (another name links to it, it
/// is not this user's, it is a running program, it is not a regular file)
/// is removed and made anew.
fn open_spare(spare: &Path, executable: bool) -> Option<File> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    let usable = std::fs::symlink_metadata(spare).map(|m| {
        m.file_type().is_file()
            && m.nlink() == 1
            && m.uid() == euid
            && (!executable || text_busy_is_enforced())
    });
    // A running program (ETXTBSY) fails to open: its file is left to
    // whoever runs it, under no name of ours.
    let file = match usable {
        Ok(true) => OpenOptions::new().read(true).write(true).open(spare).ok(),
        _ => None,
    };
    let file = match file {
        Some(f) => f,
        None => {
            if usable.is_ok() {
                std::fs::remove_file(spare).ok()?;
            }
            OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(spare)
                .ok()?
        }
    };
    // SAFETY: flock only reads its integer arguments; the descriptor is
    // `file`'s, open for the call.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    // Another link has it: the caller writes a file of its own. (Between
    // its open and its lock, another link may have replaced the spare:
    // then it is no longer at the path, and this link must not use it.)
    let still_there = std::fs::symlink_metadata(spare)
        .ok()
        .zip(file.metadata().ok())
        .is_some_and(|(a, b)| a.ino() == b.ino() && a.dev() == b.dev());
    (locked && still_there).then_some(file)
}

/// Whether the kernel refuses to open a running executable for writing,
/// tried on rivet's own executable once per process.
fn text_busy_is_enforced() -> bool {
    static ENFORCED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ENFORCED.get_or_init(
        || match OpenOptions::new().write(true).open("/proc/self/exe") {
            Err(e) => e.raw_os_error() == Some(libc::ETXTBSY),
            Ok(_) => false,
        },
    )
}

fn preallocate(file: &File, size: u64) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    if size == 0 {
        return Ok(());
    }
    // The descriptor is open for writing and owned by `file` during the call.
    // SAFETY: fallocate only reads its integer arguments.
    let r = unsafe { libc::fallocate(file.as_raw_fd(), 0, 0, size as libc::off_t) };
    if r == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    // A filesystem without fallocate only loses the speed-up; a full disk
    // is an error now rather than a fault in the middle of writing.
    match e.raw_os_error() {
        Some(libc::EOPNOTSUPP) | Some(libc::ENOSYS) | Some(libc::EINVAL) => Ok(()),
        _ => Err(e),
    }
}

fn umask() -> u32 {
    // The process umask cannot be read without setting it; 022 is what
    // nearly every build runs under, and GNU ld's output modes follow it.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}
