//! Criterion benchmark of rivet's parallel write phase, at 1..=available cores.
//!
//! Links the synthetic `medium` input set (benches/gen/gen.py, ~1M relocations
//! in 1,000 objects; generated into target/bench-inputs/medium if absent) with
//! `-r` through `rivet::link`, and reports only the time the linker itself
//! measured for its write phase (`LinkStats::write`), summed with
//! `iter_custom`. Reading, resolution and layout are excluded, so this
//! isolates the count -> prefix sum -> disjoint-slice writes.
//!
//! Run: cargo bench --bench write_records
//! Environment:
//!   RIVET_BENCH_PRESET       gen.py preset (default: medium), or `real`
//!                            for a Rust debug build's objects
//!                            (benches/real/prepare.sh)
//!   RIVET_BENCH_MAX_THREADS  highest thread count (default: available cores)
//!   RIVET_BENCH_FRESH_OUTPUT=1  remove the output before every link (a new
//!                            file each time, instead of the old one reused)
//!   RIVET_BENCH_OUT_DIR      where the output goes (default: target/bench-out)
//!
//! `cargo bench --bench write_records`.

mod common;

use common::{input, root, steal_seconds};
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};

fn args(out: &Path, threads: usize, objs: &[String]) -> Vec<String> {
    let mut a = vec![
        "-r".to_string(),
        "-o".to_string(),
        out.to_string_lossy().into_owned(),
        format!("--threads={threads}"),
    ];
    a.extend(objs.iter().cloned());
    a
}

fn write_records(c: &mut Criterion) {
    let preset = std::env::var("RIVET_BENCH_PRESET").unwrap_or_else(|_| "medium".into());
    let input = input(&preset);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let max = std::env::var("RIVET_BENCH_MAX_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(cores)
        .max(1);
    // The output goes where a build's would, on disk under target/;
    // RIVET_BENCH_OUT_DIR=/dev/shm measures without the filesystem.
    let out_dir = match std::env::var_os("RIVET_BENCH_OUT_DIR") {
        Some(d) => PathBuf::from(d),
        None => root().join("target/bench-out/write_records"),
    };
    std::fs::create_dir_all(&out_dir).expect("creating the benchmark's output directory");
    let out = out_dir.join(format!("{}.o", input.name));
    // rivet overwrites an existing output in place, as in an edit-link
    // loop; RIVET_BENCH_FRESH_OUTPUT=1 removes it before every link, so
    // that each one creates (and faults in) a new file, as a clean build does.
    let fresh = std::env::var_os("RIVET_BENCH_FRESH_OUTPUT").is_some_and(|v| v == "1");

    let mut group = c.benchmark_group(format!("write_records/-r/{}", input.name));
    // Only the write phase is measured, but every iteration is a whole link:
    // keep the sample small so a run stays within minutes on 2 cores.
    // Flat sampling: each sample runs the same number of (slow) iterations.
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    if input.relocations > 0 {
        group.throughput(Throughput::Elements(input.relocations));
    }
    for threads in 1..=max {
        let argv = args(&out, threads, &input.objs);
        let steal_before = steal_seconds();
        group.bench_with_input(BenchmarkId::new("threads", threads), &argv, |b, argv| {
            b.iter_custom(|iters| {
                let mut write = Duration::ZERO;
                for _ in 0..iters {
                    if fresh {
                        let _ = std::fs::remove_file(&out);
                    }
                    let stats = rivet::link(argv).expect("rivet::link failed");
                    write += stats.write;
                }
                write
            })
        });
        // On a shared virtual machine the host can take CPU time from the
        // guest mid-run, which makes one thread count look slower than it
        // is; say how much it took so the numbers can be read for what
        // they are.
        if let (Some(a), Some(b)) = (steal_before, steal_seconds()) {
            eprintln!(
                "threads={threads}: {:.2} s of CPU time stolen by the host during this benchmark",
                b - a
            );
        }
    }
    group.finish();
}

criterion_group!(benches, write_records);
criterion_main!(benches);
