//! Criterion benchmark of rivet's write phase for a dynamic output whose
//! bytes are mostly dynamic tables, at 1..=available cores.
//!
//! Links the synthetic `dynamic` input set (benches/gen/gen.py: 1,000
//! objects whose 1.9M relocations are mostly `R_X86_64_64` in pointer
//! tables; generated into target/bench-inputs/dynamic if absent) as a PIE
//! with every symbol exported (`-E`: 93k `.dynsym` entries, `.gnu.hash`,
//! `.hash`) and without debug sections (`-S`), in two forms:
//!
//! - `rela`: every absolute address a RELATIVE record in `.rela.dyn`
//!   (46 MB of records, three quarters of the output);
//! - `relr`: `-z pack-relative-relocs`, the same places as `.relr.dyn`
//!   bitmaps, encoded in parallel chunks.
//!
//! It reports the time the linker measured for its write phase
//! (`LinkStats::write`), in which the dynamic tables are units among the
//! section contents, summed with `iter_custom`.
//!
//! Run: cargo bench --bench write_dynamic
//! Environment:
//!   RIVET_BENCH_MAX_THREADS  highest thread count (default: available cores)
//!   RIVET_BENCH_OUT_DIR      where the output goes (default: target/bench-out)

mod common;

use common::{input, root, steal_seconds};
use std::path::PathBuf;
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};

fn write_dynamic(c: &mut Criterion) {
    let input = input("dynamic");
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let max = std::env::var("RIVET_BENCH_MAX_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(cores)
        .max(1);
    let out_dir = match std::env::var_os("RIVET_BENCH_OUT_DIR") {
        Some(d) => PathBuf::from(d),
        None => root().join("target/bench-out/write_dynamic"),
    };
    std::fs::create_dir_all(&out_dir).expect("creating the benchmark's output directory");
    let main = input.dir.join("main.o").to_string_lossy().into_owned();
    for (form, extra) in [
        ("rela", &[][..]),
        ("relr", &["-z", "pack-relative-relocs"][..]),
    ] {
        let out = out_dir.join(format!("{}-{form}", input.name));
        let mut group = c.benchmark_group(format!("write_dynamic/pie/{form}"));
        // Every iteration is a whole link, of which only the write phase is
        // measured: a small flat sample keeps a run within minutes.
        group.sample_size(10);
        group.sampling_mode(SamplingMode::Flat);
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(4));
        group.throughput(Throughput::Elements(input.relocations));
        for threads in 1..=max {
            let mut argv: Vec<String> = ["-pie", "-E", "-S", "-e", "main", "--hash-style=both"]
                .iter()
                .chain(extra)
                .map(|s| s.to_string())
                .collect();
            argv.push(format!("--threads={threads}"));
            argv.extend(["-o".to_string(), out.to_string_lossy().into_owned()]);
            argv.push(main.clone());
            argv.extend(input.objs.iter().cloned());
            let steal_before = steal_seconds();
            group.bench_with_input(BenchmarkId::new("threads", threads), &argv, |b, argv| {
                b.iter_custom(|iters| {
                    let mut write = Duration::ZERO;
                    for _ in 0..iters {
                        let stats = rivet::link(argv).expect("rivet::link failed");
                        write += stats.write;
                    }
                    write
                })
            });
            if let (Some(a), Some(b)) = (steal_before, steal_seconds()) {
                eprintln!(
                    "{form}, threads={threads}: {:.2} s of CPU time stolen by the host",
                    b - a
                );
            }
        }
        group.finish();
    }
}

criterion_group!(benches, write_dynamic);
criterion_main!(benches);
