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

/// The output, created beside its final path under a temporary name, mapped
/// once at its final size, and renamed into place by [`OutputFile::commit`].
/// Dropped without a commit, it removes the temporary file, so a failed link
/// never leaves a half-written output.
pub struct OutputFile {
    tmp: PathBuf,
    target: PathBuf,
    map: Option<MmapMut>,
    executable: bool,
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

impl OutputFile {
    pub fn create(target: &Path, size: u64, executable: bool) -> Result<OutputFile> {
        let dir = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let base = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let into_special = is_special(target);
        // Beside a device (`/dev/null`) no file is made: the temporary file
        // goes to the temporary directory.
        let tmp_dir = if into_special {
            std::env::temp_dir()
        } else {
            dir.to_path_buf()
        };
        let tmp = tmp_dir.join(format!(".{base}.rivet-{}.tmp", std::process::id()));
        let reused = if into_special {
            None
        } else {
            reuse_old_output(target, &tmp, executable)
        };
        let file = match reused {
            Some(file) => file,
            None => OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)
                .map_err(|e| err!("rivet: cannot create {}: {e}", tmp.display()))?,
        };
        let mut out = OutputFile {
            tmp,
            target: target.to_path_buf(),
            map: None,
            executable,
            into_special,
        };
        file.set_len(size).map_err(|e| {
            err!(
                "rivet: cannot size {} to {size} bytes: {e}",
                out.tmp.display()
            )
        })?;
        // Reserve the blocks now: otherwise every first write to a page of
        // the mapping allocates them in a page fault, serialized in the
        // filesystem, and the parallel writers wait on each other.
        preallocate(&file, size).map_err(|e| {
            err!(
                "rivet: cannot allocate {size} bytes for {}: {e}",
                out.tmp.display()
            )
        })?;
        if size > 0 {
            // The file was just created under a name no one else uses and is
            // renamed into place only after the mapping is gone.
            // SAFETY: this process is the file's only writer while it is mapped.
            let map = unsafe { MmapMut::map_mut(&file) }
                .map_err(|e| err!("rivet: cannot map {}: {e}", out.tmp.display()))?;
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
                    "rivet: cannot set permissions of {}: {e}",
                    self.tmp.display()
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
        std::fs::rename(&self.tmp, &self.target).map_err(|e| {
            err!(
                "rivet: cannot rename {} to {}: {e}",
                self.tmp.display(),
                self.target.display()
            )
        })?;
        self.tmp = PathBuf::new();
        Ok(())
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        drop(self.map.take());
        if !self.tmp.as_os_str().is_empty() {
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

/// Takes over the file already at `target`, if rivet may, by renaming it to
/// `tmp` and opening it; it is then resized and overwritten in place.
///
/// Writing into an existing file's page cache is much cheaper than creating
/// a file: a new file's pages must each be allocated, zeroed and inserted
/// into the page cache as they are first touched, and replacing the old
/// file frees all of its pages again (mold reuses its output for the same
/// reason). Every byte of the output is then written, zeros included
/// ([`crate::partition::Filler::zeros`], [`crate::partition::par_for_each_range`]),
/// so the result does not depend on what the old file held.
///
/// Only a regular file with one link, owned by this user, is taken: other
/// names of a hard-linked file keep the old contents, as when GNU ld
/// replaces it. A running executable is not overwritten: Linux refuses to
/// open it for writing (ETXTBSY), and it is unlinked instead, as a new file
/// would replace it. Where the kernel does not refuse (`text_busy_is_enforced`),
/// executables are never reused. RIVET_NO_REUSE_OUTPUT turns this off.
fn reuse_old_output(target: &Path, tmp: &Path, executable: bool) -> Option<File> {
    use std::os::unix::fs::MetadataExt;
    if std::env::var_os("RIVET_NO_REUSE_OUTPUT").is_some() {
        return None;
    }
    let meta = std::fs::symlink_metadata(target).ok()?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if !meta.file_type().is_file() || meta.nlink() != 1 || meta.uid() != euid {
        return None;
    }
    if executable && !text_busy_is_enforced() {
        return None;
    }
    std::fs::rename(target, tmp).ok()?;
    match OpenOptions::new().read(true).write(true).open(tmp) {
        Ok(file) => Some(file),
        Err(_) => {
            // A running program (ETXTBSY): leave it to whoever runs it.
            let _ = std::fs::remove_file(tmp);
            None
        }
    }
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
