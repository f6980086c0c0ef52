//! Running out of memory is an error, not an abort.
//!
//! Rust's default answer to a failed allocation prints "memory allocation
//! of N bytes failed" and aborts (SIGABRT), leaving the file being written
//! behind. [`Allocator`], the `rivet` program's global allocator, is the
//! system allocator, except that a failed allocation ends rivet as a failed
//! link ends it: a message, the file being written removed (the output path
//! keeps the old output, as when a signal stops the link: see
//! [`crate::signals`]), exit status 1.
//!
//! Nothing here may allocate: [`fail`] formats its message on the stack and
//! calls only `write`, `unlink` and `_exit`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

/// The system allocator, with a failed allocation ending rivet (see the
/// module documentation).
pub struct Allocator;

// SAFETY: every method forwards its arguments to `System`, which upholds
// the `GlobalAlloc` contract, and returns what it returned; a null result
// never returns (`fail` exits).
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's guarantees for `layout` are System's.
        let p = unsafe { System.alloc(layout) };
        checked(p, layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        checked(p, layout.size())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (every allocation of this
        // allocator is) with `layout`, as the caller guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; `new_size` is the caller's, checked by it.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        checked(p, new_size)
    }
}

/// `p`, unless the allocation of `size` bytes that returned it failed.
/// (`GlobalAlloc` is never asked for zero bytes, so null is a failure.)
#[inline]
fn checked(p: *mut u8, size: usize) -> *mut u8 {
    if p.is_null() {
        fail(size);
    }
    p
}

/// Set by the first thread to run out of memory: the others wait for it
/// to end the process, so that the message is said once.
static FAILING: AtomicBool = AtomicBool::new(false);

/// Reports that `size` bytes could not be allocated, removes the file being
/// written and exits with status 1, without allocating.
#[cold]
#[inline(never)]
pub fn fail(size: usize) -> ! {
    if FAILING.swap(true, Ordering::SeqCst) {
        loop {
            // SAFETY: pause has no preconditions; the first failing thread
            // ends the whole process with `_exit`.
            unsafe { libc::pause() };
        }
    }
    let mut buf = [0u8; 96];
    let msg = message(&mut buf, size);
    // SAFETY: `msg` is valid for `msg.len()` bytes; writing to fd 2 has no
    // other preconditions (a closed stderr only makes it fail).
    unsafe { libc::write(2, msg.as_ptr().cast(), msg.len()) };
    crate::signals::remove_output_now();
    // SAFETY: _exit has no preconditions; it ends the process without
    // running destructors or atexit handlers, none of which may allocate.
    unsafe { libc::_exit(1) }
}

const PREFIX: &[u8] = b"rivet: out of memory (could not allocate ";
const SUFFIX: &[u8] = b" bytes)\n";

/// "rivet: out of memory (could not allocate SIZE bytes)\n" in `buf`.
fn message(buf: &mut [u8; 96], size: usize) -> &[u8] {
    let mut digits = [0u8; 20]; // usize::MAX has 20 decimal digits
    let mut start = digits.len();
    let mut n = size;
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let mut len = 0;
    for part in [PREFIX, &digits[start..], SUFFIX] {
        buf[len..len + part.len()].copy_from_slice(part);
        len += part.len();
    }
    &buf[..len]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_gives_the_size_in_decimal() {
        let mut buf = [0u8; 96];
        for (size, text) in [
            (0, "0"),
            (7, "7"),
            (10, "10"),
            (1 << 30, "1073741824"),
            (usize::MAX, "18446744073709551615"),
        ] {
            assert_eq!(
                message(&mut buf, size),
                format!("rivet: out of memory (could not allocate {text} bytes)\n").as_bytes()
            );
        }
    }
}
