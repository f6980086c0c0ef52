//! Model checks of rivet's count → prefix sum → write core, built against the
//! crate's own code with `--cfg loom` (its atomics and `Arc` then come from
//! loom through `rivet::sync`). Loom runs every model once per distinct
//! interleaving of the threads' synchronising operations.
//!
//! Production schedules the phases with rayon, which loom cannot model; here
//! three loom threads play the pool's workers and the phase boundaries are
//! explicit hand-offs, so each phase's results are published the way a rayon
//! join publishes them: by a happens-before edge, not by the atomics' ordering.
//!
//! Run with (see docs/concurrency.md):
//!     RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=/tmp/loom-target \
//!         cargo test -p loom-tests --release
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::mpsc;
use loom::thread;
use loom_tests::{check_output, count, fill, reference, REC, SPEC};
use rivet::partition::{ChunkCursor, CountSlots, FillError, PartialTotals, Partition};
use rivet::sync::Arc;

const WORKERS: usize = 3;

/// Explores every interleaving (unless `LOOM_MAX_PREEMPTIONS` is set).
fn model(f: impl Fn() + Sync + Send + 'static) {
    loom::model::Builder::new().check(f)
}

/// Preemptions per execution for the whole-protocol models, whose exhaustive
/// state space is out of reach: every interleaving with at most this many
/// preemptive thread switches is explored (3 takes ~10 s, 4 about a minute).
/// `LOOM_MAX_PREEMPTIONS` overrides it.
const PROTOCOL_PREEMPTIONS: usize = 3;

fn bounded_model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound.get_or_insert(PROTOCOL_PREEMPTIONS);
    builder.check(f)
}

/// A miscount to inject: `(unit, records)` added to that unit's count.
type Miscount = Option<(usize, i64)>;

/// What one run of the whole protocol produced.
struct Run {
    partition: Partition,
    /// Every unit's slice, in unit order, after its writer is done with it.
    slices: Vec<&'static mut [u8]>,
    /// Every unit's `Filler` outcome, in unit order.
    results: Vec<Result<(), FillError>>,
}

/// The state of the counting phase, shared by the workers.
struct Counting {
    cursor: ChunkCursor,
    slots: CountSlots,
    totals: PartialTotals,
}

/// Count → prefix sum → write with three workers, as the linker does for one
/// table:
/// 1. the workers claim units from a `ChunkCursor`, `set` each unit's count
///    in `CountSlots` and add it to their `PartialTotals`, then hand back;
/// 2. the main thread takes the slots back (`Arc::try_unwrap` proves no worker
///    still holds them), prefix-sums them (`into_partition`) and splits a
///    buffer of exactly `total()` bytes (`Partition::split`);
/// 3. each worker fills the slices of the units it is given through a
///    `Filler`, and returns them with the outcome.
fn run_protocol(miscount: Miscount) -> Run {
    let units = SPEC.len();
    let counting = Arc::new(Counting {
        cursor: ChunkCursor::new(units, 1),
        slots: CountSlots::new(units),
        totals: PartialTotals::new(WORKERS),
    });
    let (counted_tx, counted_rx) = mpsc::channel();
    let mut work_txs = Vec::new();
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let counting = counting.clone();
        let counted_tx = counted_tx.clone();
        let (work_tx, work_rx) = mpsc::channel::<Vec<(usize, &'static mut [u8])>>();
        work_txs.push(work_tx);
        workers.push(thread::spawn(move || {
            let mut claimed = Vec::new();
            while let Some(chunk) = counting.cursor.claim() {
                for u in chunk {
                    let mut n = count(SPEC, u);
                    if let Some((_, delta)) = miscount.filter(|&(bad, _)| bad == u) {
                        n = n.checked_add_signed(delta * REC as i64).unwrap();
                    }
                    counting.slots.set(u, n);
                    counting.totals.add(w, n);
                    claimed.push(u);
                }
            }
            drop(counting);
            counted_tx.send(claimed).unwrap();

            work_rx
                .recv()
                .unwrap()
                .into_iter()
                .map(|(u, slice)| {
                    let res = fill(SPEC, u, slice);
                    (u, slice, res)
                })
                .collect::<Vec<_>>()
        }));
    }
    drop(counted_tx);

    // Phase boundary: every worker has counted and let go of the slots.
    let mut claimed: Vec<usize> = (0..WORKERS)
        .flat_map(|_| counted_rx.recv().unwrap())
        .collect();
    claimed.sort_unstable();
    assert_eq!(
        claimed,
        (0..units).collect::<Vec<_>>(),
        "a unit was counted twice or never"
    );
    let counting = Arc::try_unwrap(counting)
        .ok()
        .expect("a worker still holds the count slots");
    let partial_total = counting.totals.into_total();
    let partition = counting.slots.into_partition();
    assert_eq!(
        partition.total(),
        partial_total,
        "per-unit and per-worker totals disagree"
    );

    // Prefix sum and split. The buffer must be 'static to move into loom
    // threads; a few dozen bytes leaked per explored interleaving.
    let buf: &'static mut [u8] =
        Box::leak(vec![0xee; partition.total() as usize].into_boxed_slice());
    let base = buf.as_ptr() as usize;
    let mut next = 0;
    let mut per_worker: Vec<Vec<(usize, &'static mut [u8])>> =
        (0..WORKERS).map(|_| Vec::new()).collect();
    for (u, slice) in partition.split(buf).into_iter().enumerate() {
        // The slices follow the prefix sums exactly, one after the other:
        // pairwise disjoint and covering the table.
        assert_eq!(slice.as_ptr() as usize - base, partition.offset(u) as usize);
        assert_eq!(slice.len() as u64, partition.size(u));
        assert_eq!(partition.offset(u) as usize, next);
        next += slice.len();
        // Work is assigned by data (the unit), never by arrival order.
        per_worker[u % WORKERS].push((u, slice));
    }
    assert_eq!(next as u64, partition.total());
    for (tx, work) in work_txs.into_iter().zip(per_worker) {
        tx.send(work).unwrap();
    }

    let mut done: Vec<_> = workers
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    done.sort_by_key(|&(u, _, _)| u);
    assert_eq!(
        done.iter().map(|d| d.0).collect::<Vec<_>>(),
        (0..units).collect::<Vec<_>>()
    );
    let (slices, results) = done.into_iter().map(|(_, s, r)| (s, r)).unzip();
    Run {
        partition,
        slices,
        results,
    }
}

/// The main model: three workers run the whole protocol; every record lands
/// exactly once, in its place, and every writer fills its slice exactly.
#[test]
fn count_prefix_write_three_workers() {
    bounded_model(|| {
        let run = run_protocol(None);
        let expected: Vec<u64> = (0..SPEC.len()).map(|u| count(SPEC, u)).collect();
        assert_eq!(run.partition, Partition::from_counts(&expected));
        for (u, r) in run.results.iter().enumerate() {
            assert_eq!(r, &Ok(()), "unit {u}");
        }
        let out = run.slices.concat();
        check_output(SPEC, &out).unwrap();
    });
}

/// A unit counted one record short: its writer's last record is refused
/// (reported, never written), the other writers are unaffected and nothing
/// spills into the next unit's slice.
#[test]
fn undercount_is_an_overrun_error() {
    bounded_model(|| {
        let bad = 2;
        let run = run_protocol(Some((bad, -1)));
        let size = count(SPEC, bad) as usize - REC;
        for (u, r) in run.results.iter().enumerate() {
            if u == bad {
                assert_eq!(
                    r,
                    &Err(FillError {
                        expected: size,
                        written: size + REC
                    })
                );
            } else {
                assert_eq!(r, &Ok(()), "unit {u}");
            }
        }
        let mut out = run.slices.concat();
        // Put the refused record back: the table is then exactly the
        // reference, so no byte of any other unit was touched.
        let at = run.partition.offset(bad + 1) as usize;
        let full = reference(SPEC);
        out.splice(at..at, full[at..at + REC].iter().copied());
        check_output(SPEC, &out).unwrap();
    });
}

/// A unit counted one record long: its writer ends short and `finish` says
/// so; the bytes it never wrote are still the fill pattern.
#[test]
fn overcount_is_a_short_finish() {
    bounded_model(|| {
        let bad = 0;
        let run = run_protocol(Some((bad, 1)));
        let size = count(SPEC, bad) as usize + REC;
        for (u, r) in run.results.iter().enumerate() {
            if u == bad {
                assert_eq!(
                    r,
                    &Err(FillError {
                        expected: size,
                        written: size - REC
                    })
                );
            } else {
                assert_eq!(r, &Ok(()), "unit {u}");
            }
        }
        let mut out = run.slices.concat();
        let hole = size - REC..size;
        assert!(out[hole.clone()].iter().all(|&b| b == 0xee));
        out.drain(hole);
        check_output(SPEC, &out).unwrap();
    });
}

/// An output table every worker can reach, like a raw pointer into the
/// mapped file. Each byte is a loom `UnsafeCell`, so loom's race detector
/// panics if two threads touch a byte without a happens-before edge between
/// them, in any explored interleaving.
struct SharedTable(Box<[UnsafeCell<u8>]>);

// SAFETY: the point of the model is that loom checks every access.
unsafe impl Sync for SharedTable {}

impl SharedTable {
    fn new(len: usize) -> SharedTable {
        SharedTable((0..len).map(|_| UnsafeCell::new(0xee)).collect())
    }

    fn write(&self, at: usize, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            self.0[at + i].with_mut(|p| unsafe { *p = b });
        }
    }

    fn read(&self) -> Vec<u8> {
        self.0.iter().map(|c| c.with(|p| unsafe { *p })).collect()
    }
}

/// Three writers write their units at the offsets the prefix sum gave them
/// into one shared table, with no `&mut` to keep them apart: loom's tracking
/// of every byte shows no two writers touch the same byte, and the join
/// publishes all of them to the reader.
fn write_shared(offsets: fn(&Partition, usize) -> usize) {
    let units = SPEC.len();
    let slots = CountSlots::new(units);
    for u in 0..units {
        slots.set(u, count(SPEC, u));
    }
    let partition = Arc::new(slots.into_partition());
    let table = Arc::new(SharedTable::new(partition.total() as usize));
    let writers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (partition, table) = (partition.clone(), table.clone());
            thread::spawn(move || {
                for u in (w..units).step_by(WORKERS) {
                    let mut mine = vec![0u8; partition.size(u) as usize];
                    fill(SPEC, u, &mut mine).unwrap();
                    table.write(offsets(&partition, u), &mine);
                }
            })
        })
        .collect();
    for h in writers {
        h.join().unwrap();
    }
    check_output(SPEC, &table.read()).unwrap();
}

#[test]
fn writers_touch_disjoint_bytes() {
    model(|| write_shared(|p, u| p.offset(u) as usize));
}

/// The control for the test above: with unit 3 placed one record early it
/// overlaps unit 2 (written by another worker), and loom must catch it.
#[test]
#[should_panic(expected = "Causality violation")]
fn overlapping_writers_are_caught() {
    model(|| {
        write_shared(|p, u| {
            let at = p.offset(u) as usize;
            if u == 3 {
                at - REC
            } else {
                at
            }
        })
    });
}

/// The cursor alone, with chunks that do not divide the range: every unit is
/// handed out exactly once, whatever the interleaving. The cursor is leaked
/// rather than put in an `Arc` (as a rayon scope would borrow it): that keeps
/// reference counting out of the state space, which makes this model
/// exhaustive in a few seconds.
#[test]
fn chunk_cursor_claims_each_unit_once() {
    model(|| {
        let cursor: &'static ChunkCursor = Box::leak(Box::new(ChunkCursor::new(5, 2)));
        let claimers: Vec<_> = (0..WORKERS)
            .map(|_| {
                thread::spawn(move || {
                    let mut mine = Vec::new();
                    while let Some(r) = cursor.claim() {
                        assert!(!r.is_empty() && r.len() <= 2);
                        mine.extend(r);
                    }
                    mine
                })
            })
            .collect();
        let mut all: Vec<usize> = claimers
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        all.sort_unstable();
        assert_eq!(all, vec![0, 1, 2, 3, 4]);
    });
}

/// Three workers on two partials, so two of them share one: no add is lost.
#[test]
fn partial_totals_lose_no_add() {
    model(|| {
        let totals = Arc::new(PartialTotals::new(2));
        let adders: Vec<_> = (0..WORKERS)
            .map(|w| {
                let totals = totals.clone();
                thread::spawn(move || {
                    totals.add(w, 1 << w);
                    totals.add(w, 8 << w);
                })
            })
            .collect();
        for h in adders {
            h.join().unwrap();
        }
        let totals = Arc::try_unwrap(totals).ok().unwrap();
        assert_eq!(totals.into_total(), 9 * 7);
    });
}
