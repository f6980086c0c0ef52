//! `.relr.dyn` (DT_RELR, `-z pack-relative-relocs`) on 64-bit targets,
//! encoded in parallel yet word for word as the serial encoders of lld and
//! GNU ld encode it.
//!
//! # The format and the serial encoder
//!
//! An even word is an *address entry*: the address of a relocated 8-byte
//! word; it sets `base = addr + 8`. An odd word is a *bitmap*: bit `i`
//! (`1..=63`) marks `base + (i - 1) * 8`, after which `base += 63 * 8`. The
//! encoders are greedy: after an address entry, bitmaps are emitted while
//! the next address lies within the 63 words from `base` (a bitmap covering
//! no address is never emitted); otherwise the next address is a new entry.
//!
//! # The encoder's state
//!
//! Call the 63 words `[base, base + 504)` a *window*, and let an address
//! entry at `a` be the last slot of a virtual window ending at `a + 8`.
//! Then after each address `a` the serial encoder is fully described by
//! `s = E - a`, where `E` is the end of the window holding `a`:
//! `s ∈ {8, 16, ..., 504}`, 63 states, and an address entry leaves `s = 8`.
//! The next address, `g` bytes on, is
//!
//! * in the same window if `g < s` (`s' = s - g`, no new word);
//! * in the next window if `s <= g < s + 504` (a new bitmap word,
//!   `s' = s + 504 - g`);
//! * else a new address entry (`s' = 8`): the window after `a`'s would
//!   be empty, and the encoder emits no empty bitmap.
//!
//! (This is the lld/GNU ld loop exactly: after an entry at `a` the first
//! window is `[a + 8, a + 512)`, which is "the next window" from `s = 8`.)
//!
//! # Seams: which gaps decide by themselves
//!
//! * A gap `g <= 504` never starts an address entry, whatever the state:
//!   `s >= 8` gives `g < s + 504`.
//! * A gap `g >= 1008` (two windows) always starts one: `s <= 504` gives
//!   `g >= s + 504`. So `addrs[i] - addrs[i-1] >= 1008` is a *seam*: the
//!   encoding from `i` on does not depend on anything before `i`.
//! * Gaps from 512 to 1000 decide by the state, and both outcomes occur.
//!   In particular a gap of `64 * 8 = 512` is *not* a seam: in
//!   `[0, 8, 1008]`, `8` opens the window `[8, 512)` and `1008` falls in the
//!   next one, `[512, 1016)`, so the encoding is `0, bitmap, bitmap`, not
//!   `0, bitmap, 1008`. 1008 is the exact bound for a rule that looks at
//!   one gap: with `a` the first slot of its window (`s = 504`), any
//!   `g <= 1000` lands in the next window.
//!
//! # Knowing the state at any point, exactly and cheaply
//!
//! Seams alone cannot split a large dense table: a `.data.rel.ro` full of
//! pointers can go megabytes without a gap of 1008 bytes. So chunks are cut
//! at fixed address counts, and each chunk computes its *transfer
//! function*: for each of the 63 states it may be entered in, the state it
//! leaves and the words it emits. That costs barely more than one serial
//! pass:
//!
//! * between gaps above 504 no run can end, so a stretch of any length moves
//!   a state in closed form (`across`: count the window ends crossed);
//! * a gap above 504 (an *event*) is one `step` per live state;
//! * states that become equal stay equal, so they merge into one class; a
//!   seam merges all 63 at once, and a gap `g` of 512..=1000 leaves at most
//!   `(1008 - g) / 8` of them. After the first seam a chunk tracks one
//!   state, like the serial encoder.
//!
//! The transfer functions compose left to right in a walk over the chunks
//! (63-entry tables, one look-up per chunk), which gives each chunk its true
//! entry state and word count; counts are prefix-summed into a
//! [`Partition`], and every chunk is encoded into its own slice in parallel.
//! Nothing depends on the thread count: chunks are fixed runs of addresses,
//! and each result is the serial encoder's.
//!
//! A bitmap whose window starts in one chunk and extends into the next
//! belongs to the chunk where the window starts (the transfer function counts
//! it there): that chunk's writer reads on into the next chunk's addresses
//! to finish the word, and the next chunk's writer skips the addresses that
//! fall into it (`g < s` from its entry state).

use rayon::prelude::*;

use crate::partition::{FillError, Filler, Partition};

/// Bytes per relocated word (and per `.relr.dyn` entry).
const WORD: u64 = 8;
/// Bytes covered by one bitmap: 63 words.
const SPAN: u64 = 63 * WORD;
/// The smallest gap between two relocated addresses after which the second
/// is an address entry whatever precedes it (see the module comment).
pub const SEAM_GAP: u64 = 2 * SPAN;
/// Encoder states: `s / 8 - 1` for `s` in `8..=504`.
const NSTATES: usize = 63;
/// Addresses per chunk of parallel work.
const CHUNK: usize = 1 << 15;

fn state_index(s: u64) -> usize {
    debug_assert!((WORD..=SPAN).contains(&s) && s.is_multiple_of(WORD));
    (s / WORD - 1) as usize
}

/// The next address, `g` bytes after the previous one, from state `s`:
/// the new state and the words it starts (0 or 1).
#[inline]
fn step(s: u64, g: u64) -> (u64, u64) {
    if g < s {
        (s - g, 0)
    } else if g < s + SPAN {
        (s + SPAN - g, 1)
    } else {
        (WORD, 1)
    }
}

/// From state `s` to an address `d` bytes on, every gap on the way being at
/// most 504 bytes (so no window on the way is empty and no run ends): the
/// new state and the window ends crossed, each of which started a bitmap.
#[inline]
fn across(s: u64, d: u64) -> (u64, u64) {
    if d < s {
        (s - d, 0)
    } else {
        let crossed = (d - s) / SPAN + 1;
        (s + crossed * SPAN - d, crossed)
    }
}

/// What a chunk does in each state it may be entered in.
struct Transfer {
    exit: [u16; NSTATES],
    words: [u64; NSTATES],
}

/// The transfer function of `addrs[start..end]` (non-empty). Entered with
/// state `s` (after `addrs[start - 1]`), the chunk emits the words of every
/// window that starts in it. Chunk 0 starts with an address entry whatever
/// the "entry state".
fn transfer(addrs: &[u64], start: usize, end: usize) -> Transfer {
    // Live classes of entry states: (current state, words so far), and for
    // each entry state its class and its word count's offset from the
    // class's.
    let mut classes: Vec<(u64, u64)>;
    let mut class_of = [0u8; NSTATES];
    let mut offset = [0i64; NSTATES];
    let (mut x, first) = if start == 0 {
        classes = vec![(WORD, 1)];
        (addrs[0], 1)
    } else {
        classes = (1..=NSTATES as u64).map(|k| (k * WORD, 0)).collect();
        for (e, c) in class_of.iter_mut().enumerate() {
            *c = e as u8;
        }
        (addrs[start - 1], start)
    };
    for i in first..end {
        let g = addrs[i] - addrs[i - 1];
        if g > SPAN {
            let d = addrs[i - 1] - x;
            for (s, w) in classes.iter_mut() {
                let (s1, w1) = across(*s, d);
                let (s2, w2) = step(s1, g);
                *s = s2;
                *w += w1 + w2;
            }
            x = addrs[i];
            if classes.len() > 1 {
                merge(&mut classes, &mut class_of, &mut offset);
            }
        }
    }
    let d = addrs[end - 1] - x;
    for (s, w) in classes.iter_mut() {
        let (s1, w1) = across(*s, d);
        *s = s1;
        *w += w1;
    }
    let mut t = Transfer {
        exit: [0; NSTATES],
        words: [0; NSTATES],
    };
    for e in 0..NSTATES {
        let (s, w) = classes[class_of[e] as usize];
        t.exit[e] = s as u16;
        t.words[e] = (w as i64 + offset[e]) as u64;
    }
    t
}

/// Merges classes that have reached the same state.
fn merge(classes: &mut Vec<(u64, u64)>, class_of: &mut [u8; NSTATES], offset: &mut [i64; NSTATES]) {
    let mut seen = 0u64;
    if classes.iter().all(|&(s, _)| {
        let bit = 1u64 << state_index(s);
        let new = seen & bit == 0;
        seen |= bit;
        new
    }) {
        return;
    }
    let mut slot = [u8::MAX; NSTATES];
    let mut kept: Vec<(u64, u64)> = Vec::with_capacity(classes.len());
    let mut remap = [0u8; NSTATES];
    let mut delta = [0i64; NSTATES];
    for (c, &(s, w)) in classes.iter().enumerate() {
        let k = state_index(s);
        if slot[k] == u8::MAX {
            slot[k] = kept.len() as u8;
            kept.push((s, w));
        }
        let into = slot[k] as usize;
        remap[c] = into as u8;
        delta[c] = w as i64 - kept[into].1 as i64;
    }
    for e in 0..NSTATES {
        let c = class_of[e] as usize;
        offset[e] += delta[c];
        class_of[e] = remap[c];
    }
    *classes = kept;
}

/// The exact number of 8-byte words the encoding of `addrs` (sorted
/// ascending, unique, each 8-aligned) takes.
pub fn relr_words(addrs: &[u64]) -> usize {
    RelrPlan::new(addrs).words()
}

/// A plan for writing `.relr.dyn` in parallel: fixed runs of addresses, each
/// with the encoder state it is entered in and its word offset.
#[derive(Clone, Debug)]
pub struct RelrPlan {
    /// Chunk `k` encodes the windows that start in `addrs[bounds[k]..bounds[k + 1]]`.
    bounds: Vec<usize>,
    /// The encoder's state after `addrs[bounds[k] - 1]` (unused for chunk 0).
    entry: Vec<u16>,
    /// Each chunk's bytes in the section.
    part: Partition,
    /// The addresses planned for, to catch a plan used with other ones:
    /// count, first and last.
    planned: (usize, u64, u64),
}

impl RelrPlan {
    pub fn new(addrs: &[u64]) -> RelrPlan {
        RelrPlan::with_chunk(addrs, CHUNK)
    }

    fn with_chunk(addrs: &[u64], chunk: usize) -> RelrPlan {
        debug_assert!(
            addrs.windows(2).all(|w| w[0] < w[1]),
            ".relr.dyn: addresses not sorted and unique"
        );
        debug_assert!(
            addrs.iter().all(|a| a.is_multiple_of(WORD)),
            ".relr.dyn: unaligned address"
        );
        debug_assert!(
            addrs.last().is_none_or(|&a| a <= u64::MAX - 2 * SEAM_GAP),
            ".relr.dyn: address at the top of the address space"
        );
        let n = addrs.len();
        let chunk = chunk.max(1);
        let chunks = n.div_ceil(chunk);
        let bounds: Vec<usize> = (0..=chunks).map(|k| (k * chunk).min(n)).collect();
        let transfers: Vec<Transfer> = (0..chunks)
            .into_par_iter()
            .map(|k| transfer(addrs, bounds[k], bounds[k + 1]))
            .collect();
        let mut entry = Vec::with_capacity(chunks);
        let mut bytes = Vec::with_capacity(chunks);
        let mut s = WORD;
        for t in &transfers {
            let e = state_index(s);
            entry.push(s as u16);
            bytes.push(t.words[e] * WORD);
            s = u64::from(t.exit[e]);
        }
        RelrPlan {
            bounds,
            entry,
            part: Partition::from_counts(&bytes),
            planned: (
                n,
                addrs.first().copied().unwrap_or(0),
                addrs.last().copied().unwrap_or(0),
            ),
        }
    }

    /// Words of the whole encoding.
    pub fn words(&self) -> usize {
        (self.part.total() / WORD) as usize
    }

    /// Units of parallel work.
    pub fn chunks(&self) -> usize {
        self.entry.len()
    }
}

/// Writes the encoding of `addrs` into `out` (exactly `plan.words() * 8`
/// bytes, little endian), every chunk into its own slice in parallel; the
/// result is the serial greedy encoder's, word for word.
pub fn write_relr(plan: &RelrPlan, addrs: &[u64], out: &mut [u8]) {
    assert_eq!(
        plan.planned,
        (
            addrs.len(),
            addrs.first().copied().unwrap_or(0),
            addrs.last().copied().unwrap_or(0)
        ),
        ".relr.dyn: plan made for other addresses"
    );
    assert_eq!(
        out.len() as u64,
        plan.part.total(),
        ".relr.dyn: slice disagrees with the plan"
    );
    let written = plan.part.par_for_each(out, &|k, slice| {
        let mut out = Filler::new(slice);
        encode_chunk(
            addrs,
            plan.bounds[k],
            plan.bounds[k + 1],
            u64::from(plan.entry[k]),
            &mut out,
        )?;
        out.finish()
    });
    if let Err(e) = written {
        panic!(".relr.dyn: {e}");
    }
}

/// Encodes the windows that start in `addrs[start..end]`, entered in state
/// `s` (after `addrs[start - 1]`; ignored for `start == 0`).
fn encode_chunk(
    addrs: &[u64],
    start: usize,
    end: usize,
    mut s: u64,
    out: &mut Filler,
) -> Result<(), FillError> {
    let mut i = start;
    if start == 0 {
        out.put(&addrs[0].to_le_bytes())?;
        s = WORD;
        i = 1;
    } else {
        // Addresses in the window the previous chunk opened are its bits.
        while i < end && addrs[i] - addrs[i - 1] < s {
            s -= addrs[i] - addrs[i - 1];
            i += 1;
        }
    }
    // The open bitmap: its window's first byte and its bits (0: none open).
    let mut window = 0u64;
    let mut bits = 0u64;
    while i < end {
        let g = addrs[i] - addrs[i - 1];
        if g < s {
            debug_assert!(bits != 0);
            bits |= 1 << ((addrs[i] - window) / WORD);
            s -= g;
        } else {
            if bits != 0 {
                out.put(&((bits << 1) | 1).to_le_bytes())?;
            }
            if g < s + SPAN {
                window = addrs[i - 1] + s;
                bits = 1 << ((addrs[i] - window) / WORD);
                s = s + SPAN - g;
            } else {
                out.put(&addrs[i].to_le_bytes())?;
                bits = 0;
                s = WORD;
            }
        }
        i += 1;
    }
    if bits != 0 {
        // The last window may run on into the next chunks' addresses; its
        // word is this chunk's.
        while i < addrs.len() && addrs[i] - addrs[i - 1] < s {
            bits |= 1 << ((addrs[i] - window) / WORD);
            s -= addrs[i] - addrs[i - 1];
            i += 1;
        }
        out.put(&((bits << 1) | 1).to_le_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::dynamic::testing::{pool, Rng};

    /// lld's RelrSection::updateAllocSize (GNU ld's loop is the same), as
    /// written there.
    fn reference(addrs: &[u64]) -> Vec<u64> {
        let mut words = Vec::new();
        let mut i = 0;
        while i < addrs.len() {
            words.push(addrs[i]);
            let mut base = addrs[i] + 8;
            i += 1;
            loop {
                let mut bitmap = 0u64;
                while i < addrs.len() {
                    let d = addrs[i].wrapping_sub(base);
                    if d >= 63 * 8 || !d.is_multiple_of(8) {
                        break;
                    }
                    bitmap |= 1 << (d / 8);
                    i += 1;
                }
                if bitmap == 0 {
                    break;
                }
                words.push((bitmap << 1) | 1);
                base += 63 * 8;
            }
        }
        words
    }

    /// The decoder of glibc's ELF_DYNAMIC_DO_RELR (elf/do-rel.h).
    fn decode(words: &[u64]) -> Vec<u64> {
        let mut out = Vec::new();
        let mut base = 0u64;
        for &w in words {
            if w & 1 == 0 {
                out.push(w);
                base = w + 8;
            } else {
                let mut bits = w >> 1;
                let mut at = base;
                while bits != 0 {
                    if bits & 1 != 0 {
                        out.push(at);
                    }
                    bits >>= 1;
                    at += 8;
                }
                base += 63 * 8;
            }
        }
        out
    }

    fn encode(addrs: &[u64], chunk: usize) -> (RelrPlan, Vec<u64>) {
        let plan = RelrPlan::with_chunk(addrs, chunk);
        let mut bytes = vec![0xa5u8; plan.words() * 8];
        write_relr(&plan, addrs, &mut bytes);
        let words = bytes
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
            .collect();
        (plan, words)
    }

    /// Compares with the reference for several chunk sizes (down to one
    /// address per chunk, so that every state is an entry state somewhere).
    fn check(addrs: &[u64]) {
        let want = reference(addrs);
        assert_eq!(decode(&want), addrs, "reference encoder round trip");
        assert_eq!(relr_words(addrs), want.len());
        for chunk in [1, 2, 3, 5, 8, 63, 64, 1000, CHUNK] {
            let (plan, got) = encode(addrs, chunk);
            assert_eq!(plan.words(), want.len(), "word count, chunk {chunk}");
            assert!(got == want, "words differ, chunk {chunk}, addrs {addrs:?}");
        }
    }

    /// Addresses from gaps drawn by `gap`.
    fn from_gaps(rng: &mut Rng, n: usize, mut gap: impl FnMut(&mut Rng) -> u64) -> Vec<u64> {
        let mut a = 0x20_0000 + 8 * rng.below(1 << 20);
        (0..n)
            .map(|_| {
                let at = a;
                a += gap(rng);
                at
            })
            .collect()
    }

    const BOUNDS: [u64; 11] = [8, 16, 488, 496, 504, 512, 520, 992, 1000, 1008, 1016];

    fn profiles(rng: &mut Rng, n: usize) -> Vec<Vec<u64>> {
        vec![
            // Dense: almost every word.
            from_gaps(rng, n, |r| if r.below(10) == 0 { 16 } else { 8 }),
            // Sparse.
            from_gaps(rng, n, |r| 8 * (1 + r.below(512))),
            // Gaps at the bounds, plus short ones.
            from_gaps(rng, n, |r| {
                if r.below(3) == 0 {
                    8 * (1 + r.below(4))
                } else {
                    BOUNDS[r.below(BOUNDS.len() as u64) as usize]
                }
            }),
            // Only the state-dependent gaps, which never merge states fast.
            from_gaps(rng, n, |r| 512 + 8 * r.below(62)),
            from_gaps(rng, n, |r| if r.below(2) == 0 { 512 } else { 504 }),
            // Dense runs separated by every kind of gap.
            from_gaps(rng, n, |r| match r.below(40) {
                0 => 8 * (1 + r.below(300)),
                1 => BOUNDS[r.below(BOUNDS.len() as u64) as usize],
                _ => 8,
            }),
        ]
    }

    #[test]
    fn small_cases() {
        check(&[]);
        check(&[0x1000]);
        check(&[0x1000, 0x1008]);
        check(&[0, 8, 1008]);
        for &g in &BOUNDS {
            check(&[0x4000, 0x4000 + g]);
            check(&[0x4000, 0x4008, 0x4008 + g]);
            check(&[0x4000, 0x4000 + 504, 0x4000 + 504 + g]);
            check(&[0x4000, 0x4000 + 512, 0x4000 + 512 + g, 0x4000 + 512 + 2 * g]);
        }
        // A full window and the word after it.
        let full: Vec<u64> = (0..=64).map(|k| 0x8000 + 8 * k).collect();
        check(&full);
    }

    #[test]
    fn seam_bound_is_exact() {
        // 512 is not a seam: 1008 falls in the window after 8's.
        assert_eq!(reference(&[0, 8, 1008]), vec![0, 3, (1 << 63) | 1]);
        // 1000 is not one either; 1008 is.
        assert_eq!(reference(&[0, 8, 8 + 1000]).len(), 3);
        assert_eq!(reference(&[0, 8, 8 + 1000])[2] & 1, 1);
        // Every gap >= SEAM_GAP starts an address entry, every gap <= 504
        // never does, in the reference encoding of random inputs.
        let mut rng = Rng(99);
        for addrs in profiles(&mut rng, 3000) {
            let words = reference(&addrs);
            let entries: std::collections::HashSet<u64> =
                words.iter().copied().filter(|w| w & 1 == 0).collect();
            for w in addrs.windows(2) {
                let g = w[1] - w[0];
                if g >= SEAM_GAP {
                    assert!(entries.contains(&w[1]));
                }
                if g <= SPAN {
                    assert!(!entries.contains(&w[1]));
                }
            }
        }
    }

    #[test]
    fn random_inputs_match_the_serial_encoder() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for round in 0..40 {
            let n = 1 + rng.below(if round % 4 == 0 { 3000 } else { 200 }) as usize;
            for addrs in profiles(&mut rng, n) {
                check(&addrs);
            }
        }
    }

    #[test]
    fn same_words_for_every_thread_count() {
        let mut rng = Rng(42);
        let mut inputs = profiles(&mut rng, 20_000);
        inputs.push(Vec::new());
        inputs.push(vec![0x1000]);
        for addrs in &inputs {
            let want = reference(addrs);
            for threads in [1, 2, 8] {
                pool(threads).install(|| {
                    for chunk in [7, 1000, CHUNK] {
                        assert_eq!(
                            encode(addrs, chunk).1,
                            want,
                            "{threads} threads, chunk {chunk}"
                        );
                    }
                });
            }
        }
    }

    #[test]
    fn millions_of_addresses_in_parallel() {
        let mut rng = Rng(7);
        // A few megabytes of pointers with the gaps of real tables: long
        // dense stretches (no seam for a long way), sparse ones, odd gaps.
        let addrs = from_gaps(&mut rng, 3_000_000, |r| match r.below(1000) {
            0..=899 => 8,
            900..=979 => 8 * (2 + r.below(20)),
            980..=994 => 512 + 8 * r.below(62),
            _ => 1008 + 8 * r.below(2000),
        });
        let want = reference(&addrs);
        assert_eq!(decode(&want), addrs);
        let plan = RelrPlan::new(&addrs);
        assert!(plan.chunks() >= 64, "{} chunks", plan.chunks());
        assert_eq!(plan.words(), want.len());
        let want_bytes: Vec<u8> = want.iter().flat_map(|w| w.to_le_bytes()).collect();
        for threads in [1, 2, 8] {
            let got = pool(threads).install(|| {
                let plan = RelrPlan::new(&addrs);
                let mut out = vec![0u8; plan.words() * 8];
                write_relr(&plan, &addrs, &mut out);
                out
            });
            assert!(got == want_bytes, "{threads} threads");
        }
    }

    #[test]
    #[should_panic(expected = "plan made for other addresses")]
    fn plan_for_other_addresses_is_refused() {
        let plan = RelrPlan::new(&[0x1000, 0x1008]);
        let mut out = vec![0u8; plan.words() * 8];
        write_relr(&plan, &[0x1000, 0x1010], &mut out);
    }
}
