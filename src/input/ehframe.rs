//! `.eh_frame`: splitting input sections into CIE/FDE records, dropping the
//! FDEs of discarded code, and building `.eh_frame_hdr`'s search table.
//!
//! Each input `.eh_frame` becomes a list of kept records with their input
//! and output offsets; the chunk's size is their sum, so the count is exact
//! before anything is written. Relocations inside dropped FDEs produce no
//! output at all (zero records), everything else is translated by offset.

use crate::bail;
use crate::error::Result;
use crate::input::object::{ObjectFile, SymPlace, E};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    pub in_off: u32,
    pub out_off: u32,
    pub len: u32,
    /// For an FDE, the input offset of its CIE; `u32::MAX` for a CIE,
    /// `TERMINATOR` for a zero-length end marker.
    pub cie_in_off: u32,
}

const TERMINATOR: u32 = u32::MAX - 1;

impl Record {
    pub fn is_terminator(&self) -> bool {
        self.cie_in_off == TERMINATOR
    }

    pub fn is_fde(&self) -> bool {
        self.cie_in_off < TERMINATOR
    }
}

#[derive(Debug, Default, Clone)]
pub struct EhFrameRecords {
    pub records: Vec<Record>,
    pub size: u64,
}

impl EhFrameRecords {
    /// The kept record holding input offset `off`, if any.
    pub fn find(&self, off: u64) -> Option<&Record> {
        let i = self.records.partition_point(|r| u64::from(r.in_off) <= off);
        let r = self.records.get(i.checked_sub(1)?)?;
        (off < u64::from(r.in_off) + u64::from(r.len) || (r.len == 0 && off == u64::from(r.in_off)))
            .then_some(r)
    }

    /// Translates an input offset into an output offset, if its record is kept.
    pub fn translate(&self, off: u64) -> Option<u64> {
        // A symbol may point just past the last record (crtend's __FRAME_END__ is a terminator record).
        if let Some(r) = self.find(off) {
            return Some(u64::from(r.out_off) + off - u64::from(r.in_off));
        }
        if let Some(last) = self.records.last() {
            if off == u64::from(last.in_off) + u64::from(last.len) {
                return Some(self.size);
            }
        }
        if off == 0 && self.records.is_empty() {
            return Some(0);
        }
        None
    }
}

/// The well-formed records of an `.eh_frame`: (start, end, is_cie), up to
/// the first terminator or malformed length (`split` reports those).
pub fn walk(data: &[u8]) -> impl Iterator<Item = (usize, usize, bool)> + '_ {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let word = |at: usize| {
            data.get(at..at + 4)
                .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
        };
        let len = word(pos)? as usize;
        let id = word(pos + 4)?;
        if len == 0 || len == 0xffff_ffff || len < 4 || pos + 4 + len > data.len() {
            return None;
        }
        let record = (pos, pos + 4 + len, id == 0);
        pos += 4 + len;
        Some(record)
    })
}

/// Splits one input `.eh_frame` section into records, keeping CIEs and the
/// FDEs whose code (the target of the relocation at pc_begin) is kept.
pub fn split(obj: &ObjectFile, sec: usize) -> Result<EhFrameRecords> {
    let s = &obj.sections[sec];
    let data = s.data;
    let relocs = s.relocs;
    let mut out = EhFrameRecords::default();
    let mut pos = 0usize;
    let mut rel = 0usize;
    let mut out_off = 0u32;
    // The CIEs seen so far, by offset, with their FDE pointer encodings.
    let mut cies: Vec<(usize, u8)> = Vec::new();
    while pos < data.len() {
        if data.len() - pos < 4 {
            bail!(
                "{}: .eh_frame: truncated record at offset {pos:#x}",
                obj.name
            );
        }
        let len = u32::from_le_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
        if len == 0xffff_ffff {
            bail!("{}: .eh_frame: 64-bit records are not supported", obj.name);
        }
        if len == 0 {
            // Terminator: kept so crtend's end marker survives.
            out.records.push(Record {
                in_off: pos as u32,
                out_off,
                len: 4,
                cie_in_off: TERMINATOR,
            });
            out_off += 4;
            pos += 4;
            continue;
        }
        let total = 4 + len;
        if len < 4 || data.len() - pos < total {
            bail!(
                "{}: .eh_frame: record at offset {pos:#x} runs past the section end",
                obj.name
            );
        }
        let id = u32::from_le_bytes(data[pos + 4..pos + 8].try_into().unwrap()) as usize;
        let mut keep = true;
        let mut cie_in_off = u32::MAX;
        if id == 0 {
            // What `.eh_frame_hdr` will read of this CIE's FDEs.
            let enc = cie_fde_encoding(&data[pos..pos + total]);
            if !encoding_readable(enc) {
                bail!(
                    "{}: .eh_frame: CIE at offset {pos:#x} has an FDE pointer encoding rivet cannot read ({enc:#x})",
                    obj.name
                );
            }
            cies.push((pos, enc));
        } else {
            let Some(cie) = (pos + 4).checked_sub(id) else {
                bail!(
                    "{}: .eh_frame: FDE at offset {pos:#x} points before the section",
                    obj.name
                );
            };
            // Its CIE comes before it in the same section.
            let Ok(k) = cies.binary_search_by_key(&cie, |c| c.0) else {
                bail!(
                    "{}: .eh_frame: FDE at offset {pos:#x} points to offset {cie:#x}, which is not a CIE",
                    obj.name
                );
            };
            let need = 8 + encoded_size(cies[k].1).max(4);
            if total < need {
                bail!(
                    "{}: .eh_frame: FDE at offset {pos:#x} is too short ({total} bytes) for its code address",
                    obj.name
                );
            }
            cie_in_off = cie as u32;
            // The relocation at pc_begin decides whether the code is kept.
            while rel < relocs.len() && (relocs[rel].r_offset.get(E) as usize) < pos + 8 {
                rel += 1;
            }
            if rel < relocs.len() && relocs[rel].r_offset.get(E) as usize == pos + 8 {
                let sym = relocs[rel].r_sym(E, false) as usize;
                keep = target_kept(obj, sym);
            }
        }
        if keep {
            out.records.push(Record {
                in_off: pos as u32,
                out_off,
                len: total as u32,
                cie_in_off,
            });
            out_off += total as u32;
        }
        pos += total;
    }
    out.size = u64::from(out_off);
    Ok(out)
}

fn target_kept(obj: &ObjectFile, sym: usize) -> bool {
    if sym == 0 {
        return true;
    }
    match obj.place_of(sym) {
        SymPlace::Section(s) => obj.sections.get(s as usize).is_some_and(|s| s.kept),
        _ => true,
    }
}

/// Copies the kept records of one input section into `out`, rewriting each
/// FDE's CIE pointer for the records' new positions.
pub fn copy_records(data: &[u8], recs: &EhFrameRecords, out: &mut [u8]) {
    for r in &recs.records {
        let src = &data[r.in_off as usize..][..r.len as usize];
        let dst = &mut out[r.out_off as usize..][..r.len as usize];
        if r.len == 4 && src == [0, 0, 0, 0] {
            dst.fill(0);
            continue;
        }
        dst.copy_from_slice(src);
        if r.is_fde() {
            let cie_out = recs.translate(u64::from(r.cie_in_off)).unwrap_or(0) as u32;
            let ptr = r.out_off + 4 - cie_out;
            dst[4..8].copy_from_slice(&ptr.to_le_bytes());
        }
    }
}

/// Reads the FDEs of a written `.eh_frame` (at address `base`) and returns
/// (pc_begin, fde address) pairs for the `.eh_frame_hdr` search table.
pub fn fde_table(eh: &[u8], base: u64) -> Result<Vec<(u64, u64)>> {
    let mut cies = rustc_hash::FxHashMap::default();
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos + 4 <= eh.len() {
        let len = u32::from_le_bytes(eh[pos..pos + 4].try_into().unwrap()) as usize;
        if len == 0 {
            pos += 4;
            continue;
        }
        if pos + 4 + len > eh.len() || len < 8 {
            bail!("internal error: malformed output .eh_frame at {pos:#x}");
        }
        let id = u32::from_le_bytes(eh[pos + 4..pos + 8].try_into().unwrap()) as usize;
        if id == 0 {
            cies.insert(pos, cie_fde_encoding(&eh[pos..pos + 4 + len]));
        } else {
            let cie = pos + 4 - id;
            let enc = cies.get(&cie).copied().unwrap_or(0x1b);
            let at = pos + 8;
            let field_addr = base + at as u64;
            let pc = read_encoded(&eh[at..pos + 4 + len], enc, field_addr)
                .ok_or_else(|| crate::err!("unsupported .eh_frame pointer encoding {enc:#x}"))?;
            out.push((pc, base + pos as u64));
        }
        pos += 4 + len;
    }
    Ok(out)
}

/// The FDE pointer encoding a CIE declares with augmentation 'R'.
fn cie_fde_encoding(cie: &[u8]) -> u8 {
    let mut p = 9; // length(4) id(4) version(1)
    let aug_start = p;
    while p < cie.len() && cie[p] != 0 {
        p += 1;
    }
    // A record too short for an augmentation string has none.
    let aug = cie.get(aug_start..p.min(cie.len())).unwrap_or_default();
    p += 1;
    if !aug.starts_with(b"z") {
        return 0;
    }
    let skip_uleb = |p: &mut usize| {
        while *p < cie.len() && cie[*p] & 0x80 != 0 {
            *p += 1;
        }
        *p += 1;
    };
    skip_uleb(&mut p); // code alignment
    skip_uleb(&mut p); // data alignment (sleb, same skipping)
    p += 1; // return address register (version 1: a byte)
    skip_uleb(&mut p); // augmentation data length
    for &c in &aug[1..] {
        match c {
            b'R' => return cie.get(p).copied().unwrap_or(0),
            b'P' => {
                let enc = cie.get(p).copied().unwrap_or(0);
                p += 1 + encoded_size(enc);
            }
            b'L' => p += 1,
            _ => {}
        }
    }
    0
}

/// Whether [`read_encoded`] can read a pointer of encoding `enc`.
fn encoding_readable(enc: u8) -> bool {
    matches!(enc & 0x0f, 0x00 | 0x02 | 0x03 | 0x04 | 0x0a | 0x0b | 0x0c)
        && matches!(enc & 0x70, 0x00 | 0x10)
}

fn encoded_size(enc: u8) -> usize {
    match enc & 0x0f {
        0x00 => 8,
        0x02 | 0x0a => 2,
        0x03 | 0x0b => 4,
        0x04 | 0x0c => 8,
        _ => 0,
    }
}

fn read_encoded(b: &[u8], enc: u8, field_addr: u64) -> Option<u64> {
    let v: i64 = match enc & 0x0f {
        0x00 | 0x04 => i64::from_le_bytes(b.get(..8)?.try_into().ok()?),
        0x0c => i64::from_le_bytes(b.get(..8)?.try_into().ok()?),
        0x03 => i64::from(u32::from_le_bytes(b.get(..4)?.try_into().ok()?)),
        0x0b => i64::from(i32::from_le_bytes(b.get(..4)?.try_into().ok()?)),
        0x02 => i64::from(u16::from_le_bytes(b.get(..2)?.try_into().ok()?)),
        0x0a => i64::from(i16::from_le_bytes(b.get(..2)?.try_into().ok()?)),
        _ => return None,
    };
    match enc & 0x70 {
        0x00 => Some(v as u64),
        0x10 => Some(field_addr.wrapping_add(v as u64)),
        _ => None,
    }
}

/// Size of `.eh_frame_hdr` for `fdes` FDEs.
pub fn hdr_size(fdes: u64) -> u64 {
    12 + 8 * fdes
}

/// Writes `.eh_frame_hdr` at `hdr_addr` for `.eh_frame` at `eh_addr`.
pub fn write_hdr(
    out: &mut [u8],
    hdr_addr: u64,
    eh_addr: u64,
    mut table: Vec<(u64, u64)>,
) -> Result<()> {
    if out.len() as u64 != hdr_size(table.len() as u64) {
        bail!(
            "internal error: .eh_frame_hdr was sized for {} FDEs, found {}",
            (out.len() as u64).saturating_sub(12) / 8,
            table.len()
        );
    }
    table.sort_unstable();
    out[0] = 1; // version
    out[1] = 0x1b; // eh_frame_ptr: pcrel sdata4
    out[2] = 0x03; // fde_count: udata4
    out[3] = 0x3b; // table: datarel sdata4
    let rel = |v: u64, base: u64| -> Result<[u8; 4]> {
        let d = v.wrapping_sub(base) as i64;
        i32::try_from(d)
            .map(|d| d.to_le_bytes())
            .map_err(|_| {
                crate::err!(
                    "rivet: .eh_frame_hdr: address {v:#x} is more than 2 GiB away from it (an .eh_frame relocation against a far or corrupt address)"
                )
            })
    };
    out[4..8].copy_from_slice(&rel(eh_addr, hdr_addr + 4)?);
    out[8..12].copy_from_slice(&(table.len() as u32).to_le_bytes());
    for (i, (pc, fde)) in table.iter().enumerate() {
        let at = 12 + 8 * i;
        out[at..at + 4].copy_from_slice(&rel(*pc, hdr_addr)?);
        out[at + 4..at + 8].copy_from_slice(&rel(*fde, hdr_addr)?);
    }
    Ok(())
}
