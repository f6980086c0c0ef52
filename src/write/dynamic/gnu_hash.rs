//! The symbol hash tables of an executable or shared object: `.gnu.hash`
//! (DT_GNU_HASH) and the SysV `.hash` (DT_HASH).
//!
//! Sizes follow GNU ld (bfd/elflink.c, `bfd_elf_size_dynsym_hash_dynstr` and
//! `compute_bucket_count`, default `-O0` path), so that a link with the same
//! `.dynsym` gives the same table shapes:
//!
//! * bucket counts come from bfd's fixed `elf_buckets` table (the largest
//!   entry not above the number of hashed symbols, at least 1; `.gnu.hash`
//!   takes at least 2). GNU ld's `-O1` search for a "best" bucket count is
//!   not reproduced.
//! * the `.gnu.hash` Bloom filter has `2^k` bits, `k` from the bit length of
//!   the symbol count (see [`GnuHashShape::new`]), in 64-bit words, and its
//!   second hash function shifts by `k` itself.
//! * an empty `.gnu.hash` (no defined dynamic symbol) is GNU ld's special
//!   28-byte table: one empty bucket, symoffset 1, one zero Bloom word.
//!
//! With the `.dynsym` order fixed, `.gnu.hash` is byte-identical to GNU ld's
//! (the tests check this against `ld.bfd` when it is installed). `.hash` has
//! GNU ld's size and bucket count, but GNU ld threads each chain in the order
//! its internal symbol hash table is walked; rivet threads chains by
//! ascending `.dynsym` index (the bucket names the highest index, each chain
//! entry the next lower one), as lld and mold do. Lookups are the same.
//!
//! Both writers fill every byte of their slice and split their work by data
//! (fixed chunks of symbols or buckets), so the bytes do not depend on the
//! number of threads.

use rayon::prelude::*;

/// The GNU hash of a symbol name (Bernstein's: `h = h * 33 + c`, from 5381).
pub fn gnu_hash(name: &[u8]) -> u32 {
    name.iter().fold(5381u32, |h, &c| {
        h.wrapping_mul(33).wrapping_add(u32::from(c))
    })
}

/// The classic ELF (SysV) hash of a symbol name.
pub fn sysv_hash(name: &[u8]) -> u32 {
    let mut h = 0u32;
    for &c in name {
        // 32-bit wrap-around drops exactly the bits that bfd's 64-bit
        // `unsigned long` keeps above bit 31 and masks off at the end.
        h = (h << 4).wrapping_add(u32::from(c));
        let g = h & 0xf000_0000;
        h ^= g >> 24;
        h &= !g;
    }
    h
}

/// bfd's `elf_buckets`: "if there are fewer than 3 symbols we use 1 bucket,
/// fewer than 17 symbols we use 3 buckets, ..., never more than 32771".
const ELF_BUCKETS: [u32; 16] = [
    1, 3, 17, 37, 67, 97, 131, 197, 263, 521, 1031, 2053, 4099, 8209, 16411, 32771,
];

/// GNU ld's bucket count for `nsyms` hashed symbols (compute_bucket_count
/// without `-O`): the largest `ELF_BUCKETS` entry not above `nsyms`, or 1.
fn elf_bucket_count(nsyms: usize) -> u32 {
    ELF_BUCKETS
        .iter()
        .rev()
        .copied()
        .find(|&b| b as usize <= nsyms)
        .unwrap_or(1)
}

/// Shape of a `.gnu.hash` for `nhashed` symbols that start at `.dynsym`
/// index `symoffset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GnuHashShape {
    pub nbuckets: u32,
    pub symoffset: u32,
    /// 64-bit words of the Bloom filter (a power of two).
    pub bloom_words: u32,
    /// The Bloom filter's second shift (`shift2` in the header).
    pub bloom_shift: u32,
    pub nhashed: u32,
}

impl GnuHashShape {
    /// The shape GNU ld gives a 64-bit `.gnu.hash` of `nhashed` symbols:
    ///
    /// * `nbuckets` = bfd's `elf_buckets` choice for `nhashed`, at least 2;
    /// * with `b` the bit length of `nhashed`, `k` = 5 if `b < 3`, else
    ///   `b + 3` if bit `b - 2` of `nhashed` is set (the count is in the upper
    ///   half of its octave), else `b + 2`; then at least 6 on 64-bit. The
    ///   Bloom filter has `2^k` bits (`2^(k-6)` words) and `bloom_shift = k`.
    ///
    /// With no hashed symbol the shape is GNU ld's empty table, whose header
    /// says symoffset 1 whatever `symoffset` is (nothing is looked up
    /// through it).
    pub fn new(symoffset: u32, nhashed: usize) -> GnuHashShape {
        if nhashed == 0 {
            return GnuHashShape {
                nbuckets: 1,
                symoffset: 1,
                bloom_words: 1,
                bloom_shift: 0,
                nhashed: 0,
            };
        }
        let n = u32::try_from(nhashed).expect(".gnu.hash: more than 2^32 symbols");
        assert!(
            u64::from(symoffset) + u64::from(n) <= u64::from(u32::MAX),
            ".gnu.hash: .dynsym index overflows 32 bits"
        );
        let bits = u32::BITS - n.leading_zeros();
        let mut log2 = if bits < 3 {
            5
        } else if n & (1 << (bits - 2)) != 0 {
            bits + 3
        } else {
            bits + 2
        };
        // 64-bit words: at least one whole word.
        log2 = log2.max(6);
        GnuHashShape {
            nbuckets: elf_bucket_count(nhashed).max(2),
            symoffset,
            bloom_words: 1 << (log2 - 6),
            bloom_shift: log2,
            nhashed: n,
        }
    }

    /// Exact byte size of the section.
    pub fn size(&self) -> u64 {
        16 + 8 * u64::from(self.bloom_words)
            + 4 * u64::from(self.nbuckets)
            + 4 * u64::from(self.nhashed)
    }

    /// The bucket of a symbol whose GNU hash is `hash`.
    pub fn bucket(&self, hash: u32) -> u32 {
        hash % self.nbuckets
    }
}

/// Symbols per unit of parallel work; below this a table is written in turn.
const HASH_CHUNK: usize = 16 * 1024;
/// Most partial Bloom filters (each a whole filter, up to a few MB) and most
/// runs of a `.hash`'s chains (each with a whole bucket array).
const MAX_PARTS: usize = 8;

/// Writes the whole `.gnu.hash` into `out` (exactly `shape.size()` bytes;
/// every byte is written). `hashes[k]` is the GNU hash of `.dynsym` entry
/// `symoffset + k`; the caller has sorted those entries by bucket, so the
/// hashes are in bucket order.
///
/// The Bloom filter is the OR of partial filters of fixed runs of symbols
/// (OR is associative and commutative: any grouping gives the same words);
/// buckets are written by ranges of buckets, each finding its first symbol
/// by binary search on the bucket-sorted hashes; chain words by runs of
/// symbols, each looking one symbol ahead for the end of its bucket.
pub fn write_gnu_hash(shape: &GnuHashShape, hashes: &[u32], out: &mut [u8]) {
    write_gnu_hash_chunked(shape, hashes, out, HASH_CHUNK);
}

fn write_gnu_hash_chunked(shape: &GnuHashShape, hashes: &[u32], out: &mut [u8], chunk: usize) {
    assert_eq!(
        hashes.len(),
        shape.nhashed as usize,
        ".gnu.hash: hash count disagrees with its shape"
    );
    assert_eq!(
        out.len() as u64,
        shape.size(),
        ".gnu.hash: slice disagrees with its shape"
    );
    debug_assert!(
        hashes
            .windows(2)
            .all(|w| shape.bucket(w[0]) <= shape.bucket(w[1])),
        ".gnu.hash: symbols are not sorted by bucket"
    );
    let nb = shape.nbuckets;
    let (header, rest) = out.split_at_mut(16);
    let (bloom_out, rest) = rest.split_at_mut(8 * shape.bloom_words as usize);
    let (bucket_out, chain_out) = rest.split_at_mut(4 * nb as usize);

    for (field, v) in
        header
            .chunks_exact_mut(4)
            .zip([nb, shape.symoffset, shape.bloom_words, shape.bloom_shift])
    {
        field.copy_from_slice(&v.to_le_bytes());
    }

    let words = shape.bloom_words as usize;
    let bloom_part = |part: &[u32]| {
        let mut bloom = vec![0u64; words];
        for &h in part {
            let w = (h as usize / 64) & (words - 1);
            bloom[w] |= (1u64 << (h % 64)) | (1u64 << ((h >> shape.bloom_shift) % 64));
        }
        bloom
    };
    let bloom = if hashes.len() <= chunk {
        bloom_part(hashes)
    } else {
        let part = chunk.max(hashes.len().div_ceil(MAX_PARTS));
        hashes.par_chunks(part).map(bloom_part).reduce(
            || vec![0u64; words],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x |= y);
                a
            },
        )
    };
    bloom_out
        .par_chunks_mut(8 * chunk)
        .zip(bloom.par_chunks(chunk))
        .for_each(|(out, words)| {
            for (o, w) in out.chunks_exact_mut(8).zip(words) {
                o.copy_from_slice(&w.to_le_bytes());
            }
        });

    bucket_out
        .par_chunks_mut(4 * chunk)
        .enumerate()
        .for_each(|(c, out)| {
            let first = (c * chunk) as u32;
            let mut k = hashes.partition_point(|&h| h % nb < first);
            for (b, o) in (first..).zip(out.chunks_exact_mut(4)) {
                let v = if k < hashes.len() && hashes[k] % nb == b {
                    let v = shape.symoffset + k as u32;
                    while k < hashes.len() && hashes[k] % nb == b {
                        k += 1;
                    }
                    v
                } else {
                    0
                };
                o.copy_from_slice(&v.to_le_bytes());
            }
        });

    chain_out
        .par_chunks_mut(4 * chunk)
        .enumerate()
        .for_each(|(c, out)| {
            let first = c * chunk;
            let mut bucket = hashes[first] % nb;
            for (k, o) in (first..).zip(out.chunks_exact_mut(4)) {
                let h = hashes[k];
                let next = hashes.get(k + 1).map(|&n| n % nb);
                let last = next != Some(bucket);
                o.copy_from_slice(&((h & !1) | u32::from(last)).to_le_bytes());
                bucket = next.unwrap_or(0);
            }
        });
}

/// GNU ld's `.hash` bucket count for `nhashed` dynamic symbols (every
/// `.dynsym` entry but the null one, assuming, as on x86-64, no local
/// dynamic symbols).
pub fn sysv_nbuckets(nhashed: usize) -> u32 {
    elf_bucket_count(nhashed)
}

/// Exact byte size of the `.hash` of a `.dynsym` of `nsyms` entries (entry 0
/// included): `nbucket`, `nchain`, the buckets, one chain word per entry.
pub fn sysv_hash_size(nsyms: usize) -> u64 {
    4 * (2 + u64::from(sysv_nbuckets(nsyms.saturating_sub(1))) + nsyms as u64)
}

/// Writes the whole `.hash` into `out` (exactly `sysv_hash_size(hashes.len())`
/// bytes). `hashes[i]` is the SysV hash of `.dynsym` entry `i`; entry 0 is
/// not entered in any chain.
///
/// Each bucket names the highest index whose hash falls in it and each chain
/// word the next lower such index (0 ends the chain). In parallel: runs of
/// symbols thread their own chains and report the last index they saw per
/// bucket; a walk over those reports gives the buckets and, for each run,
/// the index that precedes its first member of each bucket, patched into the
/// chain words the first pass left 0.
pub fn write_sysv_hash(hashes: &[u32], out: &mut [u8]) {
    let chunk = (4 * HASH_CHUNK).max(hashes.len().div_ceil(MAX_PARTS));
    write_sysv_hash_chunked(hashes, out, chunk);
}

fn write_sysv_hash_chunked(hashes: &[u32], out: &mut [u8], chunk: usize) {
    let n = hashes.len();
    assert_eq!(
        out.len() as u64,
        sysv_hash_size(n),
        ".hash: slice disagrees with the symbol count"
    );
    let n32 = u32::try_from(n).expect(".hash: more than 2^32 symbols");
    let nb = sysv_nbuckets(n.saturating_sub(1));
    let (header, rest) = out.split_at_mut(8);
    header[..4].copy_from_slice(&nb.to_le_bytes());
    header[4..].copy_from_slice(&n32.to_le_bytes());
    let (bucket_out, chain_out) = rest.split_at_mut(4 * nb as usize);

    // Pass 1: chains inside each run; per run, the last index per bucket
    // (0: none, since index 0 is never entered).
    let lasts: Vec<Vec<u32>> = chain_out
        .par_chunks_mut(4 * chunk)
        .enumerate()
        .map(|(c, out)| {
            let mut last = vec![0u32; nb as usize];
            for (i, o) in (c * chunk..).zip(out.chunks_exact_mut(4)) {
                if i == 0 {
                    o.copy_from_slice(&0u32.to_le_bytes());
                    continue;
                }
                let b = (hashes[i] % nb) as usize;
                o.copy_from_slice(&last[b].to_le_bytes());
                last[b] = i as u32;
            }
            last
        })
        .collect();

    // Pass 2: turn each run's report into the index that precedes the run
    // in each bucket; what precedes "after the last run" is the bucket head.
    let mut carry = lasts;
    let mut heads = vec![0u32; nb as usize];
    for run in carry.iter_mut() {
        for (b, l) in run.iter_mut().enumerate() {
            let before = heads[b];
            if *l != 0 {
                heads[b] = *l;
            }
            *l = before;
        }
    }
    for (o, h) in bucket_out.chunks_exact_mut(4).zip(&heads) {
        o.copy_from_slice(&h.to_le_bytes());
    }

    // Pass 3: a run's first member of each bucket (chain word still 0)
    // links to the run's predecessor in that bucket.
    chain_out
        .par_chunks_mut(4 * chunk)
        .zip(carry.par_iter())
        .enumerate()
        .for_each(|(c, (out, before))| {
            let mut seen = vec![false; nb as usize];
            for (i, o) in (c * chunk..).zip(out.chunks_exact_mut(4)) {
                if i == 0 {
                    continue;
                }
                let b = (hashes[i] % nb) as usize;
                if !seen[b] {
                    seen[b] = true;
                    o.copy_from_slice(&before[b].to_le_bytes());
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::dynamic::testing::{pool, Rng};

    fn random_names(rng: &mut Rng, n: usize, prefix: &str) -> Vec<Vec<u8>> {
        let mut seen = std::collections::HashSet::new();
        let mut names = Vec::with_capacity(n);
        while names.len() < n {
            let len = 1 + (rng.next() % 24) as usize;
            let mut name = prefix.as_bytes().to_vec();
            for _ in 0..len {
                name.push(
                    b"abcdefghijklmnopqrstuvwxyz_0123456789ABCDEF"[(rng.next() % 42) as usize],
                );
            }
            if seen.insert(name.clone()) {
                names.push(name);
            }
        }
        names
    }

    fn u32_at(b: &[u8], off: usize) -> u32 {
        u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
    }
    fn u64_at(b: &[u8], off: usize) -> u64 {
        u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
    }

    #[test]
    fn known_hash_values() {
        assert_eq!(gnu_hash(b""), 5381);
        assert_eq!(gnu_hash(b"printf"), 0x156b_2bb8);
        assert_eq!(gnu_hash(b"exit"), 0x7c96_7e3f);
        assert_eq!(gnu_hash(b"syscall"), 0xbac2_12a0);
        assert_eq!(gnu_hash(b"flapenguin.me"), 0x8ae9_f18e);
        assert_eq!(sysv_hash(b""), 0);
        assert_eq!(sysv_hash(b"printf"), 0x0779_05a6);
        assert_eq!(sysv_hash(b"exit"), 0x0006_cf04);
        assert_eq!(sysv_hash(b"syscall"), 0x0b09_985c);
        // Long names go through the fold of the top nibble many times, and
        // high-bit bytes are unsigned.
        let long: Vec<u8> = (0..200u32).map(|i| (i * 37 % 251) as u8 | 0x80).collect();
        assert_eq!(sysv_hash(&long), reference_bfd_elf_hash(&long));
        for name in [&b"_ZNSt6vectorIiSaIiEE9push_backERKi"[..], b"zzzzzzzzzzzz"] {
            assert_eq!(sysv_hash(name), reference_bfd_elf_hash(name));
            assert!(sysv_hash(name) < 1 << 28);
        }
    }

    /// bfd_elf_hash as written, with a 64-bit `unsigned long`.
    fn reference_bfd_elf_hash(name: &[u8]) -> u32 {
        let mut h: u64 = 0;
        for &c in name {
            h = (h << 4) + u64::from(c);
            let g = h & 0xf000_0000;
            if g != 0 {
                h ^= g >> 24;
                h ^= g;
            }
        }
        (h & 0xffff_ffff) as u32
    }

    #[test]
    fn shapes_follow_bfd() {
        let s = GnuHashShape::new(7, 0);
        assert_eq!(
            (s.nbuckets, s.symoffset, s.bloom_words, s.bloom_shift),
            (1, 1, 1, 0)
        );
        assert_eq!(s.size(), 28);
        // (nhashed, nbuckets, bloom words, shift2) worked by hand from bfd.
        for (n, nb, words, shift) in [
            (1, 2, 1, 6),
            (2, 2, 1, 6),
            (3, 3, 1, 6),
            (4, 3, 1, 6),
            (8, 3, 1, 6),
            (12, 3, 2, 7),
            (16, 3, 2, 7),
            (17, 17, 2, 7),
            (24, 17, 4, 8),
            (100, 97, 16, 10),
            (1000, 521, 128, 13),
            (40000, 32771, 4096, 18),
        ] {
            let s = GnuHashShape::new(5, n);
            assert_eq!(
                (s.nbuckets, s.bloom_words, s.bloom_shift),
                (nb, words, shift),
                "nhashed {n}"
            );
            assert_eq!(
                s.size(),
                16 + 8 * words as u64 + 4 * nb as u64 + 4 * n as u64
            );
        }
        assert_eq!(sysv_nbuckets(0), 1);
        assert_eq!(sysv_nbuckets(2), 1);
        assert_eq!(sysv_nbuckets(3), 3);
        assert_eq!(sysv_nbuckets(16), 3);
        assert_eq!(sysv_nbuckets(17), 17);
        assert_eq!(sysv_nbuckets(1_000_000), 32771);
        assert_eq!(sysv_hash_size(5), 4 * (2 + 3 + 5));
    }

    /// `.dynsym` names for a table: `undef` unhashed names, then `names`
    /// sorted stably by GNU bucket. Returns (all names, shape, hashes).
    fn gnu_table(undef: usize, mut names: Vec<Vec<u8>>) -> (Vec<Vec<u8>>, GnuHashShape, Vec<u32>) {
        let shape = GnuHashShape::new(undef as u32, names.len());
        names.sort_by_key(|n| shape.bucket(gnu_hash(n)));
        let hashes: Vec<u32> = names.iter().map(|n| gnu_hash(n)).collect();
        let mut all: Vec<Vec<u8>> = (0..undef)
            .map(|i| format!("undef{i}").into_bytes())
            .collect();
        all.extend(names);
        (all, shape, hashes)
    }

    /// glibc's dl-lookup.c do_lookup_x, on the bytes of a `.gnu.hash`:
    /// Bloom check, bucket, chain walk ending at the word with the low bit
    /// set. Returns the `.dynsym` index found, and whether the Bloom filter
    /// let the name through.
    fn glibc_lookup(table: &[u8], dynsym: &[Vec<u8>], name: &[u8]) -> (Option<usize>, bool) {
        let nbuckets = u32_at(table, 0);
        let symoffset = u32_at(table, 4) as usize;
        let maskwords = u32_at(table, 8) as usize;
        let shift = u32_at(table, 12);
        let bloom = 16;
        let buckets = bloom + 8 * maskwords;
        let chains = buckets + 4 * nbuckets as usize;
        let hash = gnu_hash(name);
        let word = u64_at(table, bloom + 8 * ((hash as usize / 64) & (maskwords - 1)));
        let bit1 = hash % 64;
        let bit2 = (hash >> shift) % 64;
        if (word >> bit1) & (word >> bit2) & 1 == 0 {
            return (None, false);
        }
        let bucket = u32_at(table, buckets + 4 * (hash % nbuckets) as usize) as usize;
        if bucket == 0 {
            return (None, true);
        }
        let mut i = bucket;
        loop {
            let h = u32_at(table, chains + 4 * (i - symoffset));
            if (h ^ hash) >> 1 == 0 && dynsym[i] == name {
                return (Some(i), true);
            }
            if h & 1 != 0 {
                return (None, true);
            }
            i += 1;
        }
    }

    #[test]
    fn gnu_lookup_finds_every_name_and_rejects_others() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for (n, chunk) in [
            (1usize, 4usize),
            (2, 4),
            (3, 1),
            (17, 4),
            (300, 64),
            (5000, 256),
            (5000, HASH_CHUNK),
        ] {
            let names = random_names(&mut rng, n, "");
            let (dynsym, shape, hashes) = gnu_table(4, names);
            let mut table = vec![0xa5u8; shape.size() as usize];
            write_gnu_hash_chunked(&shape, &hashes, &mut table, chunk);
            let mut serial = vec![0x5au8; shape.size() as usize];
            write_gnu_hash_chunked(&shape, &hashes, &mut serial, usize::MAX / 8);
            assert_eq!(table, serial, "chunking changed the bytes (n = {n})");
            for (i, name) in dynsym.iter().enumerate().skip(4) {
                assert_eq!(glibc_lookup(&table, &dynsym, name).0, Some(i));
            }
            let absent = random_names(&mut rng, 4000, "absent.");
            let mut blocked = 0;
            for name in &absent {
                let (found, passed) = glibc_lookup(&table, &dynsym, name);
                assert_eq!(found, None);
                blocked += usize::from(!passed);
            }
            // The filter is sized for about 8-12 bits per symbol with two
            // bits each: most absent names never reach a bucket.
            assert!(
                blocked * 10 > absent.len() * 6,
                "n = {n}: Bloom filter blocked only {blocked}"
            );
        }
    }

    #[test]
    fn empty_gnu_hash_is_gnu_lds() {
        let shape = GnuHashShape::new(9, 0);
        let mut table = vec![0xffu8; shape.size() as usize];
        write_gnu_hash(&shape, &[], &mut table);
        let mut want = Vec::new();
        for v in [1u32, 1, 1, 0] {
            want.extend_from_slice(&v.to_le_bytes());
        }
        want.extend_from_slice(&[0; 12]);
        assert_eq!(table, want);
        let dynsym: Vec<Vec<u8>> = (0..9).map(|i| format!("u{i}").into_bytes()).collect();
        assert_eq!(glibc_lookup(&table, &dynsym, b"u3").0, None);
    }

    #[test]
    fn same_bytes_for_every_thread_count() {
        let mut rng = Rng(12345);
        let names = random_names(&mut rng, 120_000, "");
        let (_, shape, hashes) = gnu_table(30, names.clone());
        let sysv: Vec<u32> = std::iter::once(0)
            .chain(names.iter().map(|n| sysv_hash(n)))
            .collect();
        let run = |threads: usize| {
            pool(threads).install(|| {
                let mut g = vec![0xeeu8; shape.size() as usize];
                write_gnu_hash(&shape, &hashes, &mut g);
                let mut g_small = vec![0x11u8; shape.size() as usize];
                write_gnu_hash_chunked(&shape, &hashes, &mut g_small, 1000);
                assert_eq!(g, g_small);
                let mut s = vec![0xeeu8; sysv_hash_size(sysv.len()) as usize];
                write_sysv_hash(&sysv, &mut s);
                let mut s_small = vec![0x22u8; s.len()];
                write_sysv_hash_chunked(&sysv, &mut s_small, 777);
                assert_eq!(s, s_small);
                (g, s)
            })
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(8));
    }

    /// The obvious serial `.hash` writer: insert symbols 1.. in order at the
    /// head of their bucket's chain.
    fn reference_sysv(hashes: &[u32]) -> Vec<u8> {
        let nb = sysv_nbuckets(hashes.len().saturating_sub(1));
        let mut buckets = vec![0u32; nb as usize];
        let mut chains = vec![0u32; hashes.len()];
        for (i, &h) in hashes.iter().enumerate().skip(1) {
            let b = (h % nb) as usize;
            chains[i] = buckets[b];
            buckets[b] = i as u32;
        }
        let mut out = Vec::new();
        for v in [nb, hashes.len() as u32]
            .iter()
            .chain(&buckets)
            .chain(&chains)
        {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// glibc's SysV lookup (do_lookup_x, the DT_HASH branch).
    fn sysv_lookup(table: &[u8], dynsym: &[Vec<u8>], name: &[u8]) -> Option<usize> {
        let nb = u32_at(table, 0);
        let nchain = u32_at(table, 4) as usize;
        let chains = 8 + 4 * nb as usize;
        let mut i = u32_at(table, 8 + 4 * (sysv_hash(name) % nb) as usize) as usize;
        let mut steps = 0;
        while i != 0 {
            assert!(i < nchain && steps <= nchain, "broken chain");
            if dynsym[i] == name {
                return Some(i);
            }
            i = u32_at(table, chains + 4 * i) as usize;
            steps += 1;
        }
        None
    }

    #[test]
    fn sysv_chains_match_the_serial_writer_and_look_up() {
        let mut rng = Rng(777);
        for (n, chunk) in [
            (0usize, 3usize),
            (1, 3),
            (2, 1),
            (3, 2),
            (20, 3),
            (1000, 17),
            (6000, 1000),
            (6000, 1 << 20),
        ] {
            let mut dynsym = vec![Vec::new()];
            dynsym.extend(random_names(&mut rng, n.saturating_sub(1), ""));
            let hashes: Vec<u32> = dynsym.iter().map(|s| sysv_hash(s)).collect();
            let mut table = vec![0x77u8; sysv_hash_size(hashes.len()) as usize];
            write_sysv_hash_chunked(&hashes, &mut table, chunk);
            assert_eq!(table, reference_sysv(&hashes), "n = {n}, chunk = {chunk}");
            for (i, name) in dynsym.iter().enumerate().skip(1) {
                assert_eq!(sysv_lookup(&table, &dynsym, name), Some(i));
            }
            for name in random_names(&mut rng, 300, "absent.") {
                assert_eq!(sysv_lookup(&table, &dynsym, &name), None);
            }
        }
    }

    /// Section headers of an ELF64 little-endian file: (type, offset, size,
    /// link) by index.
    fn sections(file: &[u8]) -> Vec<(u32, usize, usize, u32)> {
        let shoff = u64_at(file, 0x28) as usize;
        let shentsize = u16::from_le_bytes([file[0x3a], file[0x3b]]) as usize;
        let shnum = u16::from_le_bytes([file[0x3c], file[0x3d]]) as usize;
        (0..shnum)
            .map(|i| {
                let h = shoff + i * shentsize;
                (
                    u32_at(file, h + 4),
                    u64_at(file, h + 24) as usize,
                    u64_at(file, h + 32) as usize,
                    u32_at(file, h + 40),
                )
            })
            .collect()
    }

    /// Links shared objects with GNU ld and checks our shapes, sizes and (for
    /// `.gnu.hash`) every byte against its tables, given its `.dynsym` order.
    #[test]
    fn matches_gnu_ld() {
        let have = |cmd: &str, arg: &str| {
            std::process::Command::new(cmd)
                .arg(arg)
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if !have("gcc", "--version") || !have("ld.bfd", "--version") {
            eprintln!("skipped: gcc or ld.bfd is not installed");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let mut checked = 0;
        for (n, hidden) in [
            (0usize, true),
            (0, false),
            (1, false),
            (2, false),
            (3, false),
            (7, false),
            (12, false),
            (16, false),
            (17, false),
            (30, false),
            (100, false),
            (263, false),
            (1000, false),
            (3000, false),
            (40000, false),
        ] {
            let src = dir.path().join(format!("f{n}.c"));
            let so = dir.path().join(format!("lib{n}_{hidden}.so"));
            let mut c = String::new();
            for i in 0..n {
                c.push_str(&format!(
                    "int fn_{i}_{}(void) {{ return {i}; }}\n",
                    i * 7919 % 1000
                ));
            }
            std::fs::write(&src, c).unwrap();
            let mut cmd = std::process::Command::new("gcc");
            cmd.args([
                "-shared",
                "-fPIC",
                "-fuse-ld=bfd",
                "-Wl,--hash-style=both",
                "-o",
            ])
            .arg(&so)
            .arg(&src);
            if hidden {
                let script = dir.path().join("local.map");
                std::fs::write(&script, "{ local: *; };\n").unwrap();
                cmd.arg(format!("-Wl,--version-script={}", script.display()));
                cmd.arg("-nostartfiles");
            }
            let status = cmd.status().unwrap();
            assert!(status.success(), "gcc failed for n = {n}");
            let file = std::fs::read(&so).unwrap();
            let secs = sections(&file);
            let (_, dynsym_off, dynsym_size, dynstr_idx) =
                *secs.iter().find(|s| s.0 == 11).expect(".dynsym");
            let dynstr = secs[dynstr_idx as usize].1;
            let names: Vec<Vec<u8>> = (0..dynsym_size / 24)
                .map(|i| {
                    let at = dynstr + u32_at(&file, dynsym_off + 24 * i) as usize;
                    let end = at + file[at..].iter().position(|&b| b == 0).unwrap();
                    file[at..end].to_vec()
                })
                .collect();

            let (_, gh_off, gh_size, _) =
                *secs.iter().find(|s| s.0 == 0x6fff_fff6).expect(".gnu.hash");
            let theirs = &file[gh_off..gh_off + gh_size];
            let symoffset = u32_at(theirs, 4);
            // Hashed: the defined symbols (st_shndx != SHN_UNDEF), which GNU
            // ld puts last.
            let nhashed = (1..names.len())
                .filter(|i| {
                    u16::from_le_bytes([
                        file[dynsym_off + 24 * i + 6],
                        file[dynsym_off + 24 * i + 7],
                    ]) != 0
                })
                .count();
            if nhashed != 0 {
                assert_eq!(symoffset as usize, names.len() - nhashed);
            }
            let shape = GnuHashShape::new(symoffset, nhashed);
            assert_eq!(
                (
                    shape.nbuckets,
                    shape.symoffset,
                    shape.bloom_words,
                    shape.bloom_shift
                ),
                (
                    u32_at(theirs, 0),
                    symoffset,
                    u32_at(theirs, 8),
                    u32_at(theirs, 12)
                ),
                "n = {n}: .gnu.hash header"
            );
            assert_eq!(shape.size(), gh_size as u64, "n = {n}: .gnu.hash size");
            let hashes: Vec<u32> = names[names.len() - nhashed..]
                .iter()
                .map(|s| gnu_hash(s))
                .collect();
            let mut ours = vec![0xccu8; gh_size];
            write_gnu_hash(&shape, &hashes, &mut ours);
            assert_eq!(ours, theirs, "n = {n}: .gnu.hash bytes");

            let (_, h_off, h_size, _) = *secs.iter().find(|s| s.0 == 5).expect(".hash");
            let theirs = &file[h_off..h_off + h_size];
            assert_eq!(
                sysv_hash_size(names.len()),
                h_size as u64,
                "n = {n}: .hash size"
            );
            assert_eq!(
                u32_at(theirs, 0),
                sysv_nbuckets(names.len() - 1),
                "n = {n}: nbucket"
            );
            assert_eq!(u32_at(theirs, 4) as usize, names.len(), "n = {n}: nchain");
            // Same buckets (as sets of symbols); ours must find every name.
            let sysv: Vec<u32> = names.iter().map(|s| sysv_hash(s)).collect();
            let mut ours = vec![0u8; h_size];
            write_sysv_hash(&sysv, &mut ours);
            for (i, name) in names.iter().enumerate().skip(1) {
                assert_eq!(sysv_lookup(&ours, &names, name), Some(i));
                assert_eq!(sysv_lookup(theirs, &names, name), Some(i));
            }
            checked += 1;
        }
        assert_eq!(checked, 15);
    }
}
