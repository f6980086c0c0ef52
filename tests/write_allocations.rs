//! Heap allocation during the write phase must not grow with the number of
//! relocation records: records go straight into the mapped output. Two
//! `-r` links with the same objects and sections but 1x and 25x the
//! relocations must allocate about equally while writing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Writes and assembles `files` objects, each calling and pointing at
/// functions of the others `per_file` times.
fn make_objects(dir: &std::path::Path, files: usize, per_file: usize) -> Vec<String> {
    let mut objs = Vec::new();
    for f in 0..files {
        let mut s = format!(".text\n.globl fn{f}\nfn{f}:\n");
        for k in 0..per_file {
            s += &format!("  call fn{}\n", (f + k + 1) % files);
        }
        s += "  ret\n.data\n";
        for k in 0..per_file {
            s += &format!("  .quad fn{} + {}\n", (f + k + 3) % files, k % 7);
        }
        let src = dir.join(format!("o{f}.s"));
        let obj = dir.join(format!("o{f}.o"));
        std::fs::write(&src, s).unwrap();
        let st = Command::new("as")
            .arg("-o")
            .arg(&obj)
            .arg(&src)
            .status()
            .expect("running as");
        assert!(st.success());
        objs.push(obj.to_string_lossy().into_owned());
    }
    objs
}

fn write_phase_allocs(objs: &[String], out: &std::path::Path) -> (u64, u64) {
    let mut argv = vec![
        "-r".to_string(),
        "--threads=2".into(),
        "-o".into(),
        out.to_string_lossy().into_owned(),
    ];
    argv.extend(objs.iter().cloned());
    let args = rivet::args::Args::parse(&argv).unwrap();
    ALLOCS.store(0, Ordering::SeqCst);
    BYTES.store(0, Ordering::SeqCst);
    rivet::driver::link_observed(&args, &|phase| {
        COUNTING.store(phase == rivet::driver::Phase::WriteStart, Ordering::SeqCst);
    })
    .unwrap();
    (ALLOCS.load(Ordering::SeqCst), BYTES.load(Ordering::SeqCst))
}

#[test]
fn write_phase_allocation_is_independent_of_record_count() {
    let dir = std::env::temp_dir().join(format!("rivet-allocs-{}", std::process::id()));
    let small_dir = dir.join("small");
    let large_dir = dir.join("large");
    std::fs::create_dir_all(&small_dir).unwrap();
    std::fs::create_dir_all(&large_dir).unwrap();
    let small = make_objects(&small_dir, 20, 40);
    let large = make_objects(&large_dir, 20, 1000);
    let (a_small, b_small) = write_phase_allocs(&small, &dir.join("small.o"));
    let (a_large, b_large) = write_phase_allocs(&large, &dir.join("large.o"));
    let records_small = 20 * 40 * 2;
    let records_large = 20 * 1000 * 2;
    eprintln!("write phase: {a_small} allocations / {b_small} bytes for {records_small} records; {a_large} / {b_large} for {records_large}");
    // Same units of work, 25x the records: allocations may differ only by
    // scheduling noise, never in proportion to the records.
    assert!(
        a_large <= a_small + 64,
        "write phase allocated {a_small} times for {records_small} records but {a_large} for {records_large}"
    );
    assert!(
        b_large <= b_small + 64 * 1024,
        "write phase allocated {b_small} bytes for {records_small} records but {b_large} for {records_large}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
