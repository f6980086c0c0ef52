//! What rivet does when a signal stops it while it writes its output.
//!
//! SIGINT, SIGTERM and SIGHUP (Ctrl-C, a build system's timeout, a closed
//! terminal) remove the file being written and then end the process as the
//! signal would have. SIGBUS, which a write into the mapped output raises
//! when the file system cannot give it a block (a full disk without
//! `fallocate`), is reported as GNU ld reports a full disk, naming the `-o`
//! path, and rivet exits with status 1. In both cases the output path keeps
//! the old output: the new one is written beside it (see
//! [`crate::mapped::OutputFile`]).
//!
//! The handlers only read two strings prepared beforehand and call
//! `unlink`, `write`, `signal`, `raise` and `_exit`, which are
//! async-signal-safe.

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

extern "C" fn on_stop(sig: libc::c_int) {
    let path = REMOVE.load(Ordering::SeqCst);
    // SAFETY: `path` is null or a C string leaked by `remove_on_signal`,
    // never freed; unlink, signal and raise are async-signal-safe.
    unsafe {
        if !path.is_null() {
            libc::unlink(path);
        }
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

extern "C" fn on_bus(_: libc::c_int) {
    let path = REMOVE.load(Ordering::SeqCst);
    let msg = BUS_MESSAGE.load(Ordering::SeqCst);
    // SAFETY: both are null or C strings leaked by this module, never
    // freed; unlink, write, strlen and _exit are async-signal-safe.
    unsafe {
        if !msg.is_null() {
            libc::write(2, msg as *const libc::c_void, libc::strlen(msg));
        }
        if !path.is_null() {
            libc::unlink(path);
        }
        libc::_exit(1);
    }
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
