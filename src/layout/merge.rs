//! Merging of `SHF_MERGE` sections in executables, as GNU ld does: the
//! strings (or fixed-size constants) of every such input section of an
//! output section are split into pieces, and each distinct piece is written
//! once. `"hello"` in 400 objects' `.rodata.str1.1`, or the same name in
//! every object's `.debug_str`, takes its bytes once.
//!
//! Each input section stays a chunk, holding only the pieces it is the first
//! to have (in chunk order, so the result does not depend on threads); its
//! [`MergedPieces`] say where every one of its pieces went, its own or an
//! earlier chunk's. [`MergedPieces::translate`] is what symbol values,
//! relocations against section symbols and `--emit-relocs` addends go
//! through (`Sections::input_address`).
//!
//! Deduplication is parallel without locks: every piece is hashed and
//! sorted into one of [`SHARDS`] buckets per chunk (counts, prefix sums,
//! disjoint slots), then each shard walks its buckets in chunk order with a
//! map of its own, so the first occurrence of each piece wins as a serial
//! walk would decide.
//!
//! Not merged (kept whole, as before): `-r` output (GNU ld does not merge
//! there either), sections with relocations of their own, and string
//! sections whose last string is not terminated.

use crate::input::object::ObjectFile;
use crate::layout::{align_up, Chunk, ChunkKind, OutputSection, Sections};
use crate::resolve::Resolution;
use crate::symmap::{hash_name, Key, PrehashedMap};
use object::elf;
use rayon::prelude::*;

/// Buckets the pieces are hashed into; shards are deduplicated in parallel.
const SHARDS: usize = 64;

/// [`MergedPieces::translate`]'s index has one entry per this many input
/// bytes: a `.debug_str` block holds one to three strings, and the index
/// costs a sixteenth of the section's size.
const BLOCK_SHIFT: u32 = 6;
const BLOCK: usize = 1 << BLOCK_SHIFT;

/// One piece of a merged input section.
#[derive(Debug, Clone, Copy)]
pub struct Piece {
    /// Offset in the input section.
    pub in_off: u32,
    pub len: u32,
    /// The chunk (in the same output section) holding the piece's bytes,
    /// and the piece's index there; itself for a first occurrence.
    pub owner_chunk: u32,
    pub owner_piece: u32,
    /// For a first occurrence: its offset inside this chunk.
    pub out_off: u32,
}

/// Where the pieces of one merged input section went.
#[derive(Debug, Clone, Default)]
pub struct MergedPieces {
    /// Every piece, by input offset.
    pub pieces: Vec<Piece>,
    /// The chunk's own index in its output section: the owner of the
    /// pieces it writes.
    pub chunk: u32,
    /// Input offset of every piece, for the search in [`translate`](Self::translate).
    starts: Vec<u32>,
    /// For every [`BLOCK`]-byte block of the input section, the piece that
    /// holds its first byte: [`translate`](Self::translate) searches only
    /// the few pieces of one block instead of the whole section.
    blocks: Vec<u32>,
    /// Output-section offset of every piece, once chunks are laid out
    /// ([`place_pieces`]); empty before.
    resolved: Vec<u64>,
    /// The input section's size.
    size: u32,
}

impl MergedPieces {
    /// The output-section offset of input offset `off` of the chunk these
    /// pieces belong to; `None` past the section's end or before
    /// [`place_pieces`]. Called for every relocation against a merged
    /// section (millions, for `.debug_str`), so it searches a dense array
    /// and reads one precomputed offset.
    pub fn translate(&self, off: u64) -> Option<u64> {
        if off >= u64::from(self.size) {
            return None;
        }
        let b = (off >> BLOCK_SHIFT) as usize;
        let lo = self.blocks[b] as usize;
        let hi = self
            .blocks
            .get(b + 1)
            .map_or(self.starts.len(), |&h| h as usize + 1);
        let i = lo + self.starts[lo..hi].partition_point(|&s| u64::from(s) <= off) - 1;
        Some(self.resolved.get(i)? + (off - u64::from(self.starts[i])))
    }

    fn new(pieces: Vec<Piece>, chunk: u32, size: u32) -> MergedPieces {
        let starts: Vec<u32> = pieces.iter().map(|p| p.in_off).collect();
        let mut blocks = Vec::with_capacity((size as usize).div_ceil(BLOCK));
        let mut i = 0usize;
        for b in 0..(size as usize).div_ceil(BLOCK) {
            let at = (b << BLOCK_SHIFT) as u32;
            while i + 1 < starts.len() && starts[i + 1] <= at {
                i += 1;
            }
            blocks.push(i as u32);
        }
        MergedPieces {
            pieces,
            chunk,
            starts,
            blocks,
            resolved: Vec::new(),
            size,
        }
    }

    /// The pieces this chunk writes: the first occurrences (a piece seen
    /// earlier in the same chunk is owned by that earlier piece).
    pub fn owned(&self) -> impl Iterator<Item = (usize, &Piece)> {
        self.pieces
            .iter()
            .enumerate()
            .filter(|(i, p)| p.owner_chunk == self.chunk && p.owner_piece as usize == *i)
    }

    /// Copies the pieces this chunk owns from the input section's bytes
    /// into `out` (the chunk's slice), zeroing the alignment padding.
    pub fn write(&self, data: &[u8], out: &mut [u8]) {
        // Owned pieces that follow each other in the input and the output
        // (all of a run without duplicates, at alignment 1) go in one copy.
        let mut at = 0usize;
        let mut run: Option<(usize, usize, usize)> = None; // (in, out, len)
        let mut flush = |run: (usize, usize, usize), at: &mut usize| {
            let (from, to, len) = run;
            out[*at..to].fill(0);
            out[to..to + len].copy_from_slice(&data[from..from + len]);
            *at = to + len;
        };
        for (_, p) in self.owned() {
            let (from, to, len) = (p.in_off as usize, p.out_off as usize, p.len as usize);
            run = match run {
                Some((f, t, l)) if f + l == from && t + l == to => Some((f, t, l + len)),
                Some(r) => {
                    flush(r, &mut at);
                    Some((from, to, len))
                }
                None => Some((from, to, len)),
            };
        }
        if let Some(r) = run {
            flush(r, &mut at);
        }
        out[at..].fill(0);
    }
}

/// Once chunk offsets are known (`Sections::layout_chunks`), records in
/// every merged chunk where each of its pieces landed in the output
/// section, its own or its owner's.
pub fn place_pieces(sections: &mut Sections) {
    sections.out.par_iter_mut().for_each(|o| {
        // One output section (`.debug_str`) can hold most of the pieces:
        // its chunks are resolved in parallel too.
        let resolved: Vec<(usize, Vec<u64>)> = o
            .chunks
            .par_iter()
            .enumerate()
            .filter_map(|(ci, c)| {
                let m = c.merge.as_ref()?;
                let offsets =
                    m.pieces
                        .iter()
                        .map(|p| {
                            let owner = &o.chunks[p.owner_chunk as usize];
                            let at = owner.merge.as_ref().map_or(0, |om| {
                                u64::from(om.pieces[p.owner_piece as usize].out_off)
                            });
                            owner.offset + at
                        })
                        .collect();
                Some((ci, offsets))
            })
            .collect();
        for (ci, offsets) in resolved {
            if let Some(m) = o.chunks[ci].merge.as_mut() {
                m.resolved = offsets;
            }
        }
    });
}

/// What groups chunks whose pieces may be shared: the same output section,
/// entry size, kind (strings or constants) and alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct MergeKey {
    entsize: u64,
    strings: bool,
    align: u64,
}

/// A piece found by [`split`], before deduplication.
struct Raw {
    in_off: u32,
    len: u32,
    hash: u64,
}

/// Whether input section `sec` of `obj` is merged, and under which key.
fn merge_key(obj: &ObjectFile, sec: u32) -> Option<MergeKey> {
    let s = &obj.sections[sec as usize];
    let strings = s.flags & u64::from(elf::SHF_STRINGS) != 0;
    let ok = s.flags & u64::from(elf::SHF_MERGE) != 0
        && s.entsize > 0
        && !s.is_nobits()
        && s.relocs.is_empty()
        && s.data.len() as u64 == s.size
        && s.size.is_multiple_of(s.entsize)
        && s.size < u64::from(u32::MAX)
        && (!strings || s.data.is_empty() || terminated(s.data, s.entsize as usize));
    ok.then_some(MergeKey {
        entsize: s.entsize,
        strings,
        align: s.align.max(1),
    })
}

/// Whether `data` ends with an `entsize`-wide NUL.
fn terminated(data: &[u8], entsize: usize) -> bool {
    data.len() >= entsize && data[data.len() - entsize..].iter().all(|&b| b == 0)
}

/// Splits a section into pieces: strings with their terminator (padding
/// between strings is a string of its own, empty), or `entsize`-byte
/// constants.
fn split(data: &[u8], key: MergeKey) -> Vec<Raw> {
    let e = key.entsize as usize;
    let mut pieces = Vec::new();
    let mut start = 0usize;
    while start < data.len() {
        let end = if key.strings && e == 1 {
            // The section ends with a NUL (`terminated`), so one is found.
            start + memchr::memchr(0, &data[start..]).map_or(data.len() - start - 1, |n| n) + 1
        } else if key.strings {
            let mut at = start;
            while data[at..at + e].iter().any(|&b| b != 0) {
                at += e;
            }
            at + e
        } else {
            start + e
        };
        pieces.push(Raw {
            in_off: start as u32,
            len: (end - start) as u32,
            hash: hash_name(&data[start..end]),
        });
        start = end;
    }
    pieces
}

/// A chunk taking part in merging: where it is and its pieces, bucketed.
struct Member<'a> {
    chunk: u32,
    data: &'a [u8],
    raw: Vec<Raw>,
    /// Piece indices ordered by shard, keeping piece order within a shard.
    by_shard: Vec<u32>,
    /// `shard_start[s]..shard_start[s + 1]` is shard `s`'s run of `by_shard`.
    shard_start: [u32; SHARDS + 1],
}

/// Bits 40..46 of the hash: neither the low bits a shard's map picks its
/// bucket with nor the top seven it keeps as each entry's tag. Sharding by
/// the top bits left every entry of a shard with nearly the same tag, so
/// each probe compared the bytes of many strings that merely shared it.
fn shard_of(hash: u64) -> usize {
    (hash >> 40) as usize % SHARDS
}

/// Deduplicates the pieces of every mergeable input section of an
/// executable's output sections and records in each such chunk where its
/// pieces went; chunk sizes shrink to the pieces they own.
pub fn merge_sections(res: &Resolution, sections: &mut Sections) {
    sections
        .out
        .par_iter_mut()
        .for_each(|o| merge_output_section(res, o));
}

fn merge_output_section(res: &Resolution, o: &mut OutputSection) {
    // The chunks to merge, grouped by key, in chunk order.
    let mut groups: Vec<(MergeKey, Vec<u32>)> = Vec::new();
    for (ci, c) in o.chunks.iter().enumerate() {
        let ChunkKind::Input { file, sec } = c.kind else {
            continue;
        };
        if c.eh.is_some() || c.reversed {
            continue;
        }
        let Some(key) = merge_key(&res.objects[file as usize], sec) else {
            continue;
        };
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.1.push(ci as u32),
            None => groups.push((key, vec![ci as u32])),
        }
    }
    for (key, chunks) in groups {
        let merged = merge_group(res, o, key, &chunks);
        for (ci, (pieces, size)) in chunks.iter().zip(merged) {
            let c = &mut o.chunks[*ci as usize];
            c.size = size;
            c.merge = Some(Box::new(pieces));
        }
    }
}

/// Deduplicates one group; returns each chunk's pieces and new size.
fn merge_group(
    res: &Resolution,
    o: &OutputSection,
    key: MergeKey,
    chunks: &[u32],
) -> Vec<(MergedPieces, u64)> {
    // 1. Split every section into pieces and bucket them by shard.
    let members: Vec<Member> = chunks
        .par_iter()
        .map(|&ci| {
            let c: &Chunk = &o.chunks[ci as usize];
            let ChunkKind::Input { file, sec } = c.kind else {
                unreachable!("only input chunks are merged")
            };
            let data = res.objects[file as usize].sections[sec as usize].data;
            let raw = split(data, key);
            let mut counts = [0u32; SHARDS + 1];
            for r in &raw {
                counts[shard_of(r.hash) + 1] += 1;
            }
            for s in 0..SHARDS {
                counts[s + 1] += counts[s];
            }
            let shard_start = counts;
            let mut next = counts;
            let mut by_shard = vec![0u32; raw.len()];
            for (i, r) in raw.iter().enumerate() {
                let s = shard_of(r.hash);
                by_shard[next[s] as usize] = i as u32;
                next[s] += 1;
            }
            Member {
                chunk: ci,
                data,
                raw,
                by_shard,
                shard_start,
            }
        })
        .collect();

    // 2. Per shard, in chunk order: the first occurrence of each piece owns
    //    it. Owners are listed in the order the shard visits its buckets.
    let owners: Vec<Vec<(u32, u32)>> = (0..SHARDS)
        .into_par_iter()
        .map(|s| {
            let mut first: PrehashedMap<(u32, u32)> = PrehashedMap::default();
            let mut out = Vec::new();
            for (m, member) in members.iter().enumerate() {
                let run = member.shard_start[s] as usize..member.shard_start[s + 1] as usize;
                for &pi in &member.by_shard[run] {
                    let r = &member.raw[pi as usize];
                    let bytes = &member.data[r.in_off as usize..][..r.len as usize];
                    let owner = *first
                        .entry(Key {
                            hash: r.hash,
                            name: bytes,
                        })
                        .or_insert((m as u32, pi));
                    out.push(owner);
                }
            }
            out
        })
        .collect();
    // Where member m's run starts in each shard's owner list.
    let mut run_start = Vec::with_capacity(members.len());
    let mut at = [0u32; SHARDS];
    for member in &members {
        run_start.push(at);
        for (s, next) in at.iter_mut().enumerate() {
            *next += member.shard_start[s + 1] - member.shard_start[s];
        }
    }

    // 3. Per chunk: owners of its pieces, offsets of the pieces it owns.
    let align = key.align;
    members
        .par_iter()
        .enumerate()
        .map(|(m, member)| {
            let mut pieces: Vec<Piece> = member
                .raw
                .iter()
                .map(|r| Piece {
                    in_off: r.in_off,
                    len: r.len,
                    owner_chunk: 0,
                    owner_piece: 0,
                    out_off: 0,
                })
                .collect();
            for s in 0..SHARDS {
                let run = member.shard_start[s] as usize..member.shard_start[s + 1] as usize;
                let from = run_start[m][s] as usize;
                for (k, &pi) in member.by_shard[run].iter().enumerate() {
                    let (owner_m, owner_pi) = owners[s][from + k];
                    let p = &mut pieces[pi as usize];
                    p.owner_chunk = members[owner_m as usize].chunk;
                    p.owner_piece = owner_pi;
                }
            }
            let mut size = 0u64;
            for (i, p) in pieces.iter_mut().enumerate() {
                if p.owner_chunk == member.chunk && p.owner_piece as usize == i {
                    let at = align_up(size, align);
                    p.out_off = at as u32;
                    size = at + u64::from(p.len);
                }
            }
            (
                MergedPieces::new(pieces, member.chunk, member.data.len() as u32),
                size,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(entsize: u64, strings: bool) -> MergeKey {
        MergeKey {
            entsize,
            strings,
            align: 1,
        }
    }

    #[test]
    fn strings_split_at_terminators() {
        let p = split(b"ab\0\0c\0", key(1, true));
        let spans: Vec<(u32, u32)> = p.iter().map(|r| (r.in_off, r.len)).collect();
        assert_eq!(spans, vec![(0, 3), (3, 1), (4, 2)]);
        let wide = split(b"a\0\0\0\0\0\0\0", key(4, true));
        let spans: Vec<(u32, u32)> = wide.iter().map(|r| (r.in_off, r.len)).collect();
        assert_eq!(spans, vec![(0, 8)]);
    }

    #[test]
    fn constants_split_by_entsize() {
        let p = split(&[1, 2, 3, 4, 5, 6, 7, 8], key(4, false));
        assert_eq!(p.len(), 2);
        assert_ne!(p[0].hash, p[1].hash);
    }

    /// The block index finds the same piece as a search of every piece,
    /// for pieces shorter and longer than a block.
    #[test]
    fn translate_finds_the_piece_of_every_offset() {
        let lens = [1u32, 3, 64, 1, 1, 130, 7, 63, 65, 1, 200, 2];
        let mut pieces = Vec::new();
        let mut at = 0u32;
        for &len in &lens {
            pieces.push(Piece {
                in_off: at,
                len,
                owner_chunk: 0,
                owner_piece: 0,
                out_off: 0,
            });
            at += len;
        }
        let mut m = MergedPieces::new(pieces.clone(), 0, at);
        m.resolved = (0..lens.len() as u64).map(|i| 10_000 * (i + 1)).collect();
        for off in 0..u64::from(at) {
            let i = pieces.partition_point(|p| u64::from(p.in_off) <= off) - 1;
            let want = 10_000 * (i as u64 + 1) + off - u64::from(pieces[i].in_off);
            assert_eq!(m.translate(off), Some(want), "offset {off}");
        }
        assert_eq!(m.translate(u64::from(at)), None);
    }

    #[test]
    fn unterminated_strings_are_not_merged() {
        assert!(terminated(b"ab\0", 1));
        assert!(!terminated(b"ab", 1));
        assert!(!terminated(b"a\0\0\0b\0\0", 4));
    }
}
