//! The core of rivet: count → prefix sum → disjoint slices.
//!
//! Every table the linker writes is produced by units of work (an input
//! section, a file, a shard). Each unit first reports exactly how many bytes
//! it will write ([`CountSlots`]); the counts become offsets
//! ([`Partition::from_counts`]); the output buffer is split into one `&mut`
//! slice per unit ([`Partition::split`], a safe `split_at_mut` walk); and each
//! unit fills its own slice through a [`Filler`] that refuses to overrun and
//! reports a short write as an internal error.
//!
//! Two small lock-free helpers serve the counting phase when per-unit slots
//! are not the whole story: [`PartialTotals`] (per-worker, cache-padded
//! partial sums, for a total that needs no per-unit offsets) and
//! [`ChunkCursor`] (an atomic cursor handing out chunks of units, for workers
//! that are not scheduled by rayon).
//!
//! All atomics come from [`crate::sync`], so `loom-tests/` model-checks this
//! very code with `--cfg loom`.

use std::ops::Range;

use crossbeam_utils::CachePadded;

use crate::sync::{AtomicU64, AtomicUsize, Ordering};

/// One slot per unit of work, written by whichever worker counted the unit.
/// Workers never write the same slot, so the slots need no more than relaxed
/// ordering; the join that ends the counting phase publishes them.
pub struct CountSlots {
    slots: Vec<AtomicU64>,
}

impl CountSlots {
    pub fn new(units: usize) -> CountSlots {
        CountSlots {
            slots: (0..units).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Records the exact size of `unit`'s output.
    pub fn set(&self, unit: usize, bytes: u64) {
        self.slots[unit].store(bytes, Ordering::Relaxed);
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Ends the counting phase: the prefix sum of every slot.
    pub fn into_partition(self) -> Partition {
        let counts: Vec<u64> = self.slots.into_iter().map(|s| s.into_inner()).collect();
        Partition::from_counts(&counts)
    }
}

/// Per-worker partial sums, each on its own cache line, reduced once the
/// counting phase has been joined. Sums are order-independent, so the total is
/// the same whichever worker counted which unit.
pub struct PartialTotals {
    parts: Box<[CachePadded<AtomicU64>]>,
}

impl PartialTotals {
    /// One partial per worker (at least one).
    pub fn new(workers: usize) -> PartialTotals {
        PartialTotals {
            parts: (0..workers.max(1))
                .map(|_| CachePadded::new(AtomicU64::new(0)))
                .collect(),
        }
    }

    /// Sized for the current rayon pool: one partial per pool thread plus one
    /// for callers outside the pool.
    pub fn for_current_pool() -> PartialTotals {
        PartialTotals::new(rayon::current_num_threads() + 1)
    }

    pub fn workers(&self) -> usize {
        self.parts.len()
    }

    /// Adds `n` to `worker`'s partial. Any index is correct (it is taken
    /// modulo [`workers`](Self::workers) and the add is atomic); distinct
    /// indices for concurrent workers only keep them off each other's cache
    /// line.
    pub fn add(&self, worker: usize, n: u64) {
        self.parts[worker % self.parts.len()].fetch_add(n, Ordering::Relaxed);
    }

    /// [`add`](Self::add) with the calling rayon worker's index.
    pub fn add_current(&self, n: u64) {
        self.add(rayon::current_thread_index().map_or(0, |i| i + 1), n);
    }

    /// Ends the counting phase: the sum of every partial.
    pub fn into_total(self) -> u64 {
        self.parts
            .into_vec()
            .into_iter()
            .map(|p| CachePadded::into_inner(p).into_inner())
            .sum()
    }
}

/// Hands out `0..len` in chunks, each chunk to exactly one caller, by one
/// relaxed `fetch_add`: the read-modify-writes on the cursor are totally
/// ordered, so no two callers see the same start. Whatever the claimed work
/// produces is published by the join that ends the phase, not by the cursor.
///
/// Which worker claims which chunk varies from run to run; results must be
/// keyed by unit (a [`CountSlots`] slot, a [`Partition`] slice), never by
/// worker, to keep the output deterministic.
pub struct ChunkCursor {
    next: AtomicUsize,
    len: usize,
    chunk: usize,
}

impl ChunkCursor {
    /// A cursor over `0..len` handing out `chunk` units at a time (at least 1).
    pub fn new(len: usize, chunk: usize) -> ChunkCursor {
        ChunkCursor {
            next: AtomicUsize::new(0),
            len,
            chunk: chunk.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The next unclaimed chunk, or `None` once all are claimed. A worker
    /// stops at its first `None`, so the cursor never runs more than one
    /// chunk per worker past `len`.
    pub fn claim(&self) -> Option<Range<usize>> {
        let start = self.next.fetch_add(self.chunk, Ordering::Relaxed);
        if start >= self.len {
            return None;
        }
        Some(start..self.len.min(start + self.chunk))
    }
}

/// Offsets of every unit inside one table, from an exclusive prefix sum.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Partition {
    /// `offsets[i]..offsets[i + 1]` is unit `i`'s range; one longer than the
    /// number of units, the last entry is the table's total size.
    offsets: Vec<u64>,
}

impl Partition {
    pub fn from_counts(counts: &[u64]) -> Partition {
        let mut offsets = Vec::with_capacity(counts.len() + 1);
        let mut at = 0u64;
        offsets.push(0);
        for &c in counts {
            at += c;
            offsets.push(at);
        }
        Partition { offsets }
    }

    pub fn units(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn total(&self) -> u64 {
        *self.offsets.last().unwrap()
    }

    pub fn offset(&self, unit: usize) -> u64 {
        self.offsets[unit]
    }

    pub fn size(&self, unit: usize) -> u64 {
        self.offsets[unit + 1] - self.offsets[unit]
    }

    /// Splits `buf` (exactly `total()` long) into one disjoint slice per unit.
    pub fn split<'a, T>(&self, buf: &'a mut [T]) -> Vec<&'a mut [T]> {
        assert_eq!(
            buf.len() as u64,
            self.total(),
            "table size disagrees with its partition"
        );
        let mut rest = buf;
        let mut out = Vec::with_capacity(self.units());
        for unit in 0..self.units() {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(self.size(unit) as usize);
            out.push(head);
            rest = tail;
        }
        out
    }

    /// Calls `f(unit, slice)` for every unit's slice of `buf` (exactly
    /// `total()` long), in parallel. The buffer is halved at a unit boundary
    /// and the halves run under `rayon::join`, down to a few units run in
    /// turn, so nothing is allocated per unit: a table of tens of thousands
    /// of units costs no list of slices before its writers can start. The
    /// first error in unit order is returned.
    pub fn par_for_each<T, E, F>(&self, buf: &mut [T], f: &F) -> Result<(), E>
    where
        T: Send,
        E: Send,
        F: Fn(usize, &mut [T]) -> Result<(), E> + Sync,
    {
        assert_eq!(
            buf.len() as u64,
            self.total(),
            "table size disagrees with its partition"
        );
        par_for_each_in(&self.offsets, 0, buf, f)
    }
}

/// Units written in turn by one task; more are halved between two tasks.
/// Small enough that two workers share even a table of a few dozen units,
/// large enough that a join (well under a microsecond) is noise next to it.
const UNITS_PER_TASK: usize = 8;

/// [`Partition::par_for_each`] over the units whose offsets are `offsets`
/// (one longer than the units; `buf` starts at `offsets[0]`), the first of
/// them numbered `first`.
fn par_for_each_in<T, E, F>(offsets: &[u64], first: usize, buf: &mut [T], f: &F) -> Result<(), E>
where
    T: Send,
    E: Send,
    F: Fn(usize, &mut [T]) -> Result<(), E> + Sync,
{
    let units = offsets.len() - 1;
    if units <= UNITS_PER_TASK {
        let mut rest = buf;
        for u in 0..units {
            let len = (offsets[u + 1] - offsets[u]) as usize;
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(len);
            f(first + u, head)?;
            rest = tail;
        }
        return Ok(());
    }
    let mid = units / 2;
    let (left, right) = buf.split_at_mut((offsets[mid] - offsets[0]) as usize);
    let (a, b) = rayon::join(
        || par_for_each_in(&offsets[..=mid], first, left, f),
        || par_for_each_in(&offsets[mid..], first + mid, right, f),
    );
    a.and(b)
}

/// Calls `f(item, slice)` with the slice of `buf` (the file from offset
/// `base`) that each item's `(offset, len)` range covers, in parallel. The
/// items must be sorted by offset and must not overlap. As in
/// [`Partition::par_for_each`], the item list is halved under `rayon::join`
/// (the buffer cut where the second half's first item starts), so no list of
/// slices is built first. Bytes between ranges and after the last one are
/// zeroed here, since no writer owns them (the buffer may hold an old
/// file's bytes). Used to carve the mapped output file into its sections.
pub fn par_for_each_range<'b, T, E, R, F>(
    buf: &'b mut [u8],
    base: u64,
    items: &[T],
    range: &R,
    f: &F,
) -> Result<(), E>
where
    T: Sync,
    E: Send,
    R: Fn(&T) -> (u64, u64) + Sync,
    F: Fn(&T, &'b mut [u8]) -> Result<(), E> + Sync,
{
    if items.len() <= UNITS_PER_TASK {
        let mut rest = buf;
        let mut at = base;
        for item in items {
            let (off, len) = range(item);
            assert!(off >= at, "output ranges overlap or are unsorted");
            let (gap, tail) = std::mem::take(&mut rest).split_at_mut((off - at) as usize);
            gap.fill(0);
            let (head, tail) = tail.split_at_mut(len as usize);
            rest = tail;
            at = off + len;
            f(item, head)?;
        }
        rest.fill(0);
        return Ok(());
    }
    let (first, second) = items.split_at(items.len() / 2);
    let cut = range(&second[0]).0;
    assert!(cut >= base, "output ranges overlap or are unsorted");
    let (left, right) = buf.split_at_mut((cut - base) as usize);
    let (a, b) = rayon::join(
        || par_for_each_range(left, base, first, range, f),
        || par_for_each_range(right, cut, second, range, f),
    );
    a.and(b)
}

/// A writer's view of its own slice. It refuses to overrun, and `finish`
/// reports a slice left short: either is a bug in counting, not bad input.
pub struct Filler<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillError {
    pub expected: usize,
    pub written: usize,
}

impl std::fmt::Display for FillError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "internal error: a writer filled {} of the {} bytes counted for it",
            self.written, self.expected
        )
    }
}

impl<'a> Filler<'a> {
    pub fn new(buf: &'a mut [u8]) -> Filler<'a> {
        Filler { buf, pos: 0 }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes still to be written.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Appends `bytes`; an overrun is reported, never written.
    pub fn put(&mut self, bytes: &[u8]) -> Result<(), FillError> {
        let end = self.pos + bytes.len();
        if end > self.buf.len() {
            return Err(FillError {
                expected: self.buf.len(),
                written: end,
            });
        }
        self.buf[self.pos..end].copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    /// Writes `len` zero bytes. The output may be an old file's pages
    /// reused ([`crate::mapped::OutputFile`]), so bytes meant to be zero
    /// are written, never assumed.
    pub fn zeros(&mut self, len: usize) -> Result<(), FillError> {
        self.take(len)?.fill(0);
        Ok(())
    }

    /// Hands out the next `len` bytes, every one of which the caller must
    /// write (see [`zeros`](Self::zeros)).
    pub fn take(&mut self, len: usize) -> Result<&mut [u8], FillError> {
        let end = self.pos + len;
        if end > self.buf.len() {
            return Err(FillError {
                expected: self.buf.len(),
                written: end,
            });
        }
        let start = self.pos;
        self.pos = end;
        Ok(&mut self.buf[start..end])
    }

    /// Checks the slice was filled exactly.
    pub fn finish(self) -> Result<(), FillError> {
        if self.pos != self.buf.len() {
            return Err(FillError {
                expected: self.buf.len(),
                written: self.pos,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_sum_and_split() {
        let p = Partition::from_counts(&[3, 0, 2]);
        assert_eq!(p.total(), 5);
        assert_eq!(p.offset(2), 3);
        let mut buf = [0u8; 5];
        let parts = p.split(&mut buf);
        assert_eq!(
            parts.iter().map(|s| s.len()).collect::<Vec<_>>(),
            vec![3, 0, 2]
        );
    }

    #[test]
    fn par_for_each_hands_every_unit_its_own_slice() {
        let counts: Vec<u64> = (0..1000u64).map(|i| i % 7).collect();
        let p = Partition::from_counts(&counts);
        let mut buf = vec![0u32; p.total() as usize];
        let seen: Vec<AtomicU64> = (0..counts.len()).map(|_| AtomicU64::new(0)).collect();
        let r: Result<(), ()> = p.par_for_each(&mut buf, &|unit, slice: &mut [u32]| {
            assert_eq!(slice.len() as u64, counts[unit]);
            seen[unit].fetch_add(1, Ordering::Relaxed);
            slice.fill(unit as u32);
            Ok(())
        });
        r.unwrap();
        assert!(seen.iter().all(|s| s.load(Ordering::Relaxed) == 1));
        for unit in 0..counts.len() {
            let at = p.offset(unit) as usize;
            let slice = &buf[at..at + p.size(unit) as usize];
            assert!(slice.iter().all(|&v| v == unit as u32));
        }
    }

    #[test]
    fn par_for_each_returns_the_first_error_in_unit_order() {
        let p = Partition::from_counts(&[1; 100]);
        let mut buf = vec![0u8; 100];
        let r = p.par_for_each(&mut buf, &|unit, _: &mut [u8]| {
            if unit % 30 == 29 {
                Err(unit)
            } else {
                Ok(())
            }
        });
        assert_eq!(r, Err(29));
    }

    #[test]
    fn filler_catches_short_and_long_writes() {
        let mut buf = [0u8; 4];
        let mut f = Filler::new(&mut buf);
        f.put(&[1, 2]).unwrap();
        assert!(f.put(&[1, 2, 3]).is_err());
        assert_eq!(
            f.finish(),
            Err(FillError {
                expected: 4,
                written: 2
            })
        );
    }

    #[test]
    fn partial_totals_sum_every_worker() {
        let t = PartialTotals::new(3);
        t.add(0, 5);
        t.add(2, 7);
        t.add(5, 1); // wraps onto worker 2
        t.add_current(10);
        assert_eq!(t.workers(), 3);
        assert_eq!(t.into_total(), 23);
        assert_eq!(PartialTotals::new(0).workers(), 1);
    }

    #[test]
    fn chunk_cursor_hands_out_every_unit_once() {
        let c = ChunkCursor::new(7, 3);
        assert_eq!(c.claim(), Some(0..3));
        assert_eq!(c.claim(), Some(3..6));
        assert_eq!(c.claim(), Some(6..7));
        assert_eq!(c.claim(), None);
        assert_eq!(c.claim(), None);
        assert_eq!(ChunkCursor::new(0, 4).claim(), None);
        assert_eq!(ChunkCursor::new(2, 0).claim(), Some(0..1));
    }

    #[test]
    fn chunk_cursor_under_threads() {
        let cursor = ChunkCursor::new(1000, 7);
        let slots = CountSlots::new(1000);
        let totals = PartialTotals::new(4);
        std::thread::scope(|s| {
            for w in 0..4 {
                let (cursor, slots, totals) = (&cursor, &slots, &totals);
                s.spawn(move || {
                    while let Some(units) = cursor.claim() {
                        for u in units {
                            slots.set(u, u as u64 % 5);
                            totals.add(w, u as u64 % 5);
                        }
                    }
                });
            }
        });
        let p = slots.into_partition();
        assert_eq!(p.total(), totals.into_total());
        assert_eq!(p.total(), (0..1000u64).map(|u| u % 5).sum::<u64>());
    }

    #[test]
    fn par_for_each_range_hands_out_ranges_and_zeroes_gaps() {
        // Ranges with gaps between them, before the first and after the
        // last, over a buffer full of old bytes; enough of them to split.
        let ranges: Vec<(u64, u64)> = (0..100u64).map(|i| (3 + 10 * i, 1 + i % 5)).collect();
        let mut buf = vec![0xeeu8; 1005];
        let r: Result<(), ()> = par_for_each_range(&mut buf, 0, &ranges, &|r| *r, &|r, slice| {
            assert_eq!(slice.len() as u64, r.1);
            slice.fill(1);
            Ok(())
        });
        r.unwrap();
        for (i, &b) in buf.iter().enumerate() {
            let inside = ranges
                .iter()
                .any(|&(off, len)| (off..off + len).contains(&(i as u64)));
            assert_eq!(b, u8::from(inside), "byte {i}");
        }
    }
}
