//! What rivet does when a signal stops it while it writes its output.
//!
//! SIGINT, SIGTERM and SIGHUP (Ctrl-C, a build system's timeout, a closed
//! terminal) remove the file being written and then end the process as the
//! signal would have. SIGBUS, which a write into the mapped output raises
//! when the file system cannot give it a block (a full disk without
//! `fallocate`), is reported as GNU ld reports a full disk, naming the `-o`
//! path, and rivet exits with status 1. In both cases the output path keeps
//! the old output: the new one is written beside it (see
//! [`crate::mapped::OutputFile`]). Running out of memory ends rivet the
//! same way, from the allocator ([`crate::oom`]): a message, the file being
//! written removed ([`remove_output_now`]), status 1.
//!
//! The file removed is the one this link writes, never the output path
//! itself: the spare `.NAME.rivet-spare` (or a temporary file named after
//! the process), named here before it is created and forgotten once the
//! commit has swapped it into place. In the instant between the swap and
//! forgetting it, the spare holds the old output, which is then no longer
//! at the output path: the new one, complete, is. Until this link holds
//! the spare's lock, the spare may be an earlier output or another link's
//! (two links of one output at once): removing it loses no output, though
//! that other link then fails.
//!
//! The handlers only read two strings prepared beforehand and call
//! `unlink`, `write`, `signal`, `raise` and `_exit`, which are
//! async-signal-safe, and allocate nothing.

use std::ffi::CString;
use std::path::Path;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Once;

/// The file to remove: a leaked C string, or null.
static REMOVE: AtomicPtr<libc::c_char> = AtomicPtr::new(std::ptr::null_mut());
/// The message for SIGBUS: a leaked C string, or null.
static BUS_MESSAGE: AtomicPtr<libc::c_char> = AtomicPtr::new(std::ptr::null_mut());

static INSTALL: Once = Once::new();

fn leak(s: Vec<u8>) -> *mut libc::c_char {
    match CString::new(s) {
        Ok(c) => c.into_raw(),
        Err(_) => std::ptr::null_mut(),
    }
}

/// From now on, a stopping signal removes `tmp` (the empty path: nothing),
/// and a SIGBUS reports that `output` could not be written.
pub fn remove_on_signal(tmp: &Path) {
    use std::os::unix::ffi::OsStrExt;
    install();
    let bytes = tmp.as_os_str().as_bytes().to_vec();
    let new = if bytes.is_empty() {
        std::ptr::null_mut()
    } else {
        leak(bytes)
    };
    // The previous string is leaked: a handler may be reading it.
    REMOVE.store(new, Ordering::SeqCst);
}

/// The output path a SIGBUS message names.
pub fn name_output(output: &Path) {
    install();
    let msg = format!(
        "rivet: cannot write {}: No space left on device (or an input file was truncated while rivet read it)\n",
        output.display()
    );
    BUS_MESSAGE.store(leak(msg.into_bytes()), Ordering::SeqCst);
}

/// Removes the file being written (the one last named to
/// [`remove_on_signal`]), if any, without allocating: for the handlers
/// here and for [`crate::oom`], which cannot allocate either.
pub fn remove_output_now() {
    let path = REMOVE.load(Ordering::SeqCst);
    if !path.is_null() {
        // SAFETY: `path` is a C string leaked by `remove_on_signal`, never
        // freed; unlink is async-signal-safe.
        unsafe { libc::unlink(path) };
    }
}

extern "C" fn on_stop(sig: libc::c_int) {
    remove_output_now();
    // SAFETY: signal and raise are async-signal-safe.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

extern "C" fn on_bus(_: libc::c_int) {
    let msg = BUS_MESSAGE.load(Ordering::SeqCst);
    // SAFETY: `msg` is null or a C string leaked by `name_output`, never
    // freed; write and strlen are async-signal-safe.
    unsafe {
        if !msg.is_null() {
            libc::write(2, msg as *const libc::c_void, libc::strlen(msg));
        }
    }
    remove_output_now();
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(1) }
}

fn install() {
    INSTALL.call_once(|| {
        for (sig, handler) in [
            (libc::SIGINT, on_stop as extern "C" fn(libc::c_int)),
            (libc::SIGTERM, on_stop),
            (libc::SIGHUP, on_stop),
            (libc::SIGBUS, on_bus),
        ] {
            // SAFETY: zeroed sigactions are valid; the handler is an
            // `extern "C" fn(c_int)` that lives for the whole program.
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                libc::sigaction(sig, std::ptr::null(), &mut old);
                // A signal the caller ignores (`nohup`, a background job)
                // stays ignored.
                if old.sa_sigaction == libc::SIG_IGN {
                    continue;
                }
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = handler as usize;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(sig, &sa, std::ptr::null_mut());
            }
        }
    });
}
