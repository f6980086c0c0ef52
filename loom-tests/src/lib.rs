//! A toy "architecture" for the model checks in `tests/model.rs`.
//!
//! Each unit of work is a list of input relocations, and each relocation
//! becomes zero, one or two output records (as TLS relaxation, a GD GOT entry
//! or a discarded target do in the real linker). [`records`] is the one
//! description both [`count`] and [`write`] derive from, the way the linker's
//! arch code is the one source of truth for counting and writing.
//!
//! Every record carries a tag naming the unit, relocation and record it came
//! from, so [`check_output`] can tell a record that is missing, duplicated,
//! out of place or overwritten by a neighbour.
//!
//! The model checks themselves only build with `RUSTFLAGS="--cfg loom"`; see
//! `docs/concurrency.md`.

use rivet::partition::{FillError, Filler};

/// Bytes per output record: unit, relocation, record index (u16 LE each) and
/// a magic number.
pub const REC: usize = 8;
const MAGIC: u16 = 0xa55a;

/// The units of the main model: `SPEC[unit][reloc]` is how many records that
/// relocation yields. Unit 1 yields nothing at all (an empty slice between two
/// others), and one relocation yields two records.
pub const SPEC: &[&[u8]] = &[&[1, 2], &[0, 0], &[2, 0, 1], &[1]];

/// Which record a tag names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag {
    pub unit: u16,
    pub reloc: u16,
    pub index: u16,
}

impl Tag {
    pub fn encode(self) -> [u8; REC] {
        let mut r = [0u8; REC];
        r[0..2].copy_from_slice(&self.unit.to_le_bytes());
        r[2..4].copy_from_slice(&self.reloc.to_le_bytes());
        r[4..6].copy_from_slice(&self.index.to_le_bytes());
        r[6..8].copy_from_slice(&MAGIC.to_le_bytes());
        r
    }

    pub fn decode(r: &[u8]) -> Option<Tag> {
        let word = |i: usize| u16::from_le_bytes([r[i], r[i + 1]]);
        (r.len() == REC && word(6) == MAGIC).then(|| Tag {
            unit: word(0),
            reloc: word(2),
            index: word(4),
        })
    }
}

/// The records `unit` yields, in output order: the single source of truth.
pub fn records<'a>(spec: &'a [&'a [u8]], unit: usize) -> impl Iterator<Item = Tag> + 'a {
    spec[unit].iter().enumerate().flat_map(move |(reloc, &n)| {
        (0..n).map(move |index| Tag {
            unit: unit as u16,
            reloc: reloc as u16,
            index: index as u16,
        })
    })
}

/// Exact byte size of `unit`'s output (the counting phase).
pub fn count(spec: &[&[u8]], unit: usize) -> u64 {
    (records(spec, unit).count() * REC) as u64
}

/// Writes `unit`'s records through `out` (the writing phase). Alternates
/// between [`Filler::put`] and writing in place through [`Filler::take`], so
/// both paths run under the model.
pub fn write(spec: &[&[u8]], unit: usize, out: &mut Filler<'_>) -> Result<(), FillError> {
    for (i, tag) in records(spec, unit).enumerate() {
        if i % 2 == 0 {
            out.put(&tag.encode())?;
        } else {
            out.take(REC)?.copy_from_slice(&tag.encode());
        }
    }
    Ok(())
}

/// Writes one unit into a slice and checks it was filled exactly.
pub fn fill(spec: &[&[u8]], unit: usize, slice: &mut [u8]) -> Result<(), FillError> {
    let mut out = Filler::new(slice);
    write(spec, unit, &mut out)?;
    out.finish()
}

/// The output a single thread writes, built without any partition: what
/// every parallel run must reproduce byte for byte.
pub fn reference(spec: &[&[u8]]) -> Vec<u8> {
    (0..spec.len())
        .flat_map(|u| records(spec, u))
        .flat_map(|t| t.encode())
        .collect()
}

/// Checks a whole written table: every record of `spec` lands exactly once,
/// nothing else is there, and the bytes are the single-threaded reference.
pub fn check_output(spec: &[&[u8]], out: &[u8]) -> Result<(), String> {
    if !out.len().is_multiple_of(REC) {
        return Err(format!("table is {} bytes, not whole records", out.len()));
    }
    let mut seen = std::collections::BTreeMap::<Tag, usize>::new();
    for (i, r) in out.chunks(REC).enumerate() {
        let tag = Tag::decode(r).ok_or_else(|| format!("record {i} is not a record: {r:02x?}"))?;
        *seen.entry(tag).or_default() += 1;
    }
    for tag in (0..spec.len()).flat_map(|u| records(spec, u)) {
        match seen.remove(&tag) {
            Some(1) => {}
            Some(n) => return Err(format!("{tag:?} landed {n} times")),
            None => return Err(format!("{tag:?} is missing")),
        }
    }
    if let Some(tag) = seen.keys().next() {
        return Err(format!("{tag:?} should not be there"));
    }
    if out != reference(spec) {
        return Err("every record is there once, but out of order".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rivet::partition::{CountSlots, Partition};

    fn write_all(spec: &[&[u8]]) -> Vec<u8> {
        let slots = CountSlots::new(spec.len());
        for u in 0..spec.len() {
            slots.set(u, count(spec, u));
        }
        let p = slots.into_partition();
        let mut buf = vec![0u8; p.total() as usize];
        for (u, s) in p.split(&mut buf).into_iter().enumerate() {
            fill(spec, u, s).unwrap();
        }
        buf
    }

    /// Under `--cfg loom` the crate's atomics only work inside a model.
    fn single_threaded(f: impl Fn() + Sync + Send + 'static) {
        #[cfg(loom)]
        loom::model(f);
        #[cfg(not(loom))]
        f();
    }

    #[test]
    fn sequential_protocol_matches_reference() {
        single_threaded(|| {
            let out = write_all(SPEC);
            assert_eq!(out.len(), 7 * REC);
            check_output(SPEC, &out).unwrap();
        });
    }

    #[test]
    fn check_output_catches_every_kind_of_damage() {
        let good = reference(SPEC);
        let mut dup = good.clone();
        dup.copy_within(0..REC, REC); // record 0 overwrites record 1
        assert!(check_output(SPEC, &dup).unwrap_err().contains("2 times"));
        let mut swapped = good.clone();
        swapped[..2 * REC].rotate_left(REC);
        assert!(check_output(SPEC, &swapped).unwrap_err().contains("order"));
        let mut torn = good.clone();
        torn[7] = 0;
        assert!(check_output(SPEC, &torn)
            .unwrap_err()
            .contains("not a record"));
        assert!(check_output(SPEC, &good[REC..])
            .unwrap_err()
            .contains("missing"));
        assert!(check_output(SPEC, &good[..good.len() - 1]).is_err());
    }

    #[test]
    fn miscount_is_caught_by_filler() {
        let p = Partition::from_counts(&[count(SPEC, 0) - REC as u64]);
        let mut buf = vec![0u8; p.total() as usize];
        let err = fill(SPEC, 0, p.split(&mut buf).pop().unwrap()).unwrap_err();
        assert_eq!(
            err,
            FillError {
                expected: 2 * REC,
                written: 3 * REC
            }
        );
    }
}
