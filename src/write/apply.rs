//! Writing one input section into an executable: copy its bytes (or its
//! kept `.eh_frame` records) and apply its relocations, as the x86-64 table
//! in `arch/` says. Runs in parallel, one input section per task.

use crate::arch::x86_64::{self as x86, reloc_name, reloc_spec, Value};
use crate::error::Result;
use crate::input::object::{ObjectFile, E};
use crate::layout::got::{sym_ref, GotKind, GotPlan};
use crate::layout::symvals::SymbolValues;
use crate::layout::{
    discarded_reference, discarded_target, refuses_discarded_targets, Chunk, OutputSection,
    Sections, TlsInfo,
};
use crate::resolve::Resolution;
use crate::write::symtab::describe;
use crate::{bail, err};
use object::elf;

pub struct ApplyCtx<'a> {
    pub res: &'a Resolution<'a>,
    pub sections: &'a Sections,
    pub got: &'a GotPlan,
    pub values: &'a SymbolValues,
    pub tls: TlsInfo,
}

/// Copies an input section's bytes into `data` (exactly the chunk's size).
pub fn copy_input(obj: &ObjectFile, sec: u32, chunk: &Chunk, data: &mut [u8]) {
    let s = &obj.sections[sec as usize];
    if s.is_nobits() {
        data.fill(0);
        return;
    }
    if let Some(m) = &chunk.merge {
        return m.write(s.data, data);
    }
    match &chunk.eh {
        Some(eh) => crate::input::ehframe::copy_records(s.data, eh, data),
        None if chunk.reversed => {
            for (to, from) in data.chunks_exact_mut(8).zip(s.data.chunks_exact(8).rev()) {
                to.copy_from_slice(from);
            }
        }
        None => data.copy_from_slice(s.data),
    }
}

impl ApplyCtx<'_> {
    /// A GOT entry's link-time value: an address (an IFUNC's `.plt`
    /// stub) or a TP offset. `.got` and its RELATIVE records both use it.
    pub fn got_value(&self, r: crate::layout::got::SymRef, kind: GotKind) -> u64 {
        match kind {
            GotKind::Address => match self.got.iplt_index.get(&r) {
                Some(&slot) => {
                    self.values.iplt_addr + crate::layout::got::IPLT_ENTRY * u64::from(slot)
                }
                None => self.values.raw_value(self.res, self.sections, r),
            },
            // An executable's TP offset; a shared object's is the loader's
            // to find, from the offset in its TLS block.
            GotKind::TpOff if self.sections.mode.is_executable() => self
                .values
                .raw_value(self.res, self.sections, r)
                .wrapping_sub(self.tls.tp()),
            GotKind::TpOff | GotKind::TlsGdOffset | GotKind::TlsDesc => self
                .values
                .raw_value(self.res, self.sections, r)
                .wrapping_sub(self.tls.start),
            // Filled by the loader.
            GotKind::TlsGdModule
            | GotKind::TlsLdModule
            | GotKind::TlsLdOffset
            | GotKind::TlsDescArg => 0,
        }
    }

    fn got_entry(&self, obj: &ObjectFile, idx: usize, kind: GotKind) -> Result<u64> {
        let r = match kind {
            GotKind::TlsLdModule => crate::layout::got::SymRef::Module,
            _ => sym_ref(obj, idx),
        };
        match self.got.got_index.get(&(r, kind)) {
            Some(&i) => Ok(self.values.got_addr + 8 * u64::from(i)),
            None => bail!(
                "internal error: no GOT entry for '{}'",
                describe(r, self.res)
            ),
        }
    }

    /// An input section over 2 GiB, which puts what follows it out of
    /// reach of 32-bit relocations: named when one overflows, since it is
    /// more likely the cause (a corrupt size) than the relocation's file.
    fn huge_section(&self) -> Option<String> {
        let (size, file, sec) = self
            .sections
            .out
            .iter()
            .flat_map(|o| &o.chunks)
            .filter_map(|c| match c.kind {
                crate::layout::ChunkKind::Input { file, sec } => Some((c.size, file, sec)),
                _ => None,
            })
            .max()?;
        (size > 1 << 31).then(|| {
            let obj = &self.res.objects[file as usize];
            format!(
                "rivet: note: {}: section {} is {size:#x} bytes (a corrupt size?), which moves everything after it",
                obj.name,
                sec_name(obj, sec)
            )
        })
    }

    /// Whether symbol `idx` of `obj` is a shared object's, so that a TLS
    /// access to it becomes initial exec rather than local exec.
    fn imported(&self, obj: &ObjectFile, idx: usize) -> bool {
        idx != 0
            && self
                .got
                .classes
                .of(self.res, sym_ref(obj, idx))
                .is_imported()
    }

    /// Applies the relocations of input section `sec` of `obj` to `data`,
    /// the section's bytes at their final place.
    pub fn apply(
        &self,
        obj: &ObjectFile,
        sec: u32,
        out: &OutputSection,
        chunk: &Chunk,
        data: &mut [u8],
    ) -> Result<()> {
        let s = &obj.sections[sec as usize];
        let alloc = s.is_alloc();
        let base = out.addr + chunk.offset;
        let tp = self.tls.tp();
        let shared = self.sections.mode == crate::resolve::mode::OutputMode::Shared;
        // Debug sections use a tombstone for code that was discarded.
        let tombstone = if s.name == b".debug_ranges" || s.name == b".debug_loc" {
            1
        } else {
            0
        };
        let mut skip_next = false;
        for (k, r) in s.relocs.iter().enumerate() {
            if skip_next {
                skip_next = false;
                continue;
            }
            let ty = r.r_type(E, false);
            let Some(spec) = reloc_spec(ty) else {
                bail!(
                    "{}: unsupported relocation {} in section {}",
                    obj.name,
                    reloc_name(ty),
                    sec_name(obj, sec)
                );
            };
            if spec.value == Value::None {
                continue;
            }
            let in_off = r.r_offset.get(E);
            let off = match &chunk.eh {
                Some(eh) => match eh.find(in_off) {
                    Some(rec) => u64::from(rec.out_off) + in_off - u64::from(rec.in_off),
                    None => continue,
                },
                None => chunk.reversed_offset(in_off),
            } as usize;
            let idx = r.r_sym(E, false) as usize;
            let a = r.r_addend.get(E) as u64;
            let p = base + off as u64;
            let target_dropped = discarded_target(self.sections, obj, idx).is_some();
            if target_dropped && refuses_discarded_targets(s) {
                return Err(discarded_reference(obj, sec, idx));
            }
            // A section symbol of a merged section: the addend picks the piece.
            let merged = match target_dropped {
                false => self.sections.merged_section_target(obj, idx, a as i64),
                true => None,
            };
            let (sv, a) = match merged {
                Some((out, at)) => (self.sections.out[out as usize].addr + at, 0),
                None if idx == 0 || target_dropped => (0, a),
                None => (
                    self.values
                        .reloc_value(self.res, self.sections, self.got, obj, idx),
                    a,
                ),
            };
            let size = spec.size as usize;
            // Writes one field of this relocation, naming it if the value
            // overflows (and the huge input section that may be why).
            let put = |field: &mut [u8], value: u64, check: x86::Check| {
                write_checked(
                    obj, sec, spec.name, in_off, field, value, check, self.res, idx,
                )
                .map_err(|e| match self.huge_section() {
                    Some(why) => crate::err!("{e}\n{why}"),
                    None => e,
                })
            };
            let oob = || {
                err!(
                    "{}: relocation {} at offset {:#x} lies outside section {}",
                    obj.name,
                    spec.name,
                    in_off,
                    sec_name(obj, sec)
                )
            };
            if off + size > data.len() {
                return Err(oob());
            }
            if target_dropped {
                // The tombstone alone, without the addend, as GNU ld writes it.
                x86::write_field(&mut data[off..off + size], tombstone, x86::Check::None);
                continue;
            }
            let value = match spec.value {
                Value::None | Value::Invalid => continue,
                Value::Abs => sv.wrapping_add(a),
                Value::Pc | Value::Plt => sv.wrapping_add(a).wrapping_sub(p),
                Value::GotPcRel => {
                    match crate::layout::got::relaxed_got_load(
                        self.res,
                        self.sections,
                        obj,
                        sec as usize,
                        r,
                    ) {
                        Some(relax) if relax.is_immediate() => {
                            // `op $foo, %reg`: the address itself, sign-
                            // extended by a 64-bit operation.
                            x86::apply_got_relaxation(relax, data, off, ty);
                            let check = if ty == elf::R_X86_64_REX_GOTPCRELX {
                                x86::Check::Signed
                            } else {
                                x86::Check::Unsigned
                            };
                            put(&mut data[off..off + 4], sv, check)?;
                            continue;
                        }
                        Some(relax) => {
                            x86::apply_got_relaxation(relax, data, off, ty);
                            // `jmp foo; nop` puts the field a byte earlier.
                            let at = (off as i64 + relax.field_shift()) as usize;
                            let p = (p as i64 + relax.field_shift()) as u64;
                            let v = sv.wrapping_add(a).wrapping_sub(p);
                            put(&mut data[at..at + 4], v, spec.check)?;
                            continue;
                        }
                        None => self
                            .got_entry(obj, idx, GotKind::Address)?
                            .wrapping_add(a)
                            .wrapping_sub(p),
                    }
                }
                Value::GotPc => self.values.gotplt_addr.wrapping_add(a).wrapping_sub(p),
                Value::GotOff => sv.wrapping_add(a).wrapping_sub(self.values.gotplt_addr),
                Value::GotEntry => self
                    .got_entry(obj, idx, GotKind::Address)?
                    .wrapping_add(a)
                    .wrapping_sub(self.values.gotplt_addr),
                Value::TpOff => sv.wrapping_add(a).wrapping_sub(tp),
                // A shared object's code keeps its local-dynamic accesses:
                // the offset in its TLS block, as in debug sections.
                Value::DtpOff if alloc && shared => sv.wrapping_add(a).wrapping_sub(self.tls.start),
                Value::DtpOff if alloc => sv.wrapping_add(a).wrapping_sub(tp),
                Value::DtpOff => sv.wrapping_add(a).wrapping_sub(self.tls.start),
                Value::GotTpOff
                    if crate::layout::got::relaxed_tls_ie(
                        self.res,
                        self.sections.mode,
                        obj,
                        sec as usize,
                        r,
                    ) =>
                {
                    x86::ie_to_le(data, off);
                    put(
                        &mut data[off..off + 4],
                        sv.wrapping_sub(tp),
                        x86::Check::Signed,
                    )?;
                    continue;
                }
                Value::GotTpOff => self
                    .got_entry(obj, idx, GotKind::TpOff)?
                    .wrapping_add(a)
                    .wrapping_sub(p),
                Value::Size => {
                    let size = sym_size(self.res, obj, idx).unwrap_or_default();
                    size.wrapping_add(a)
                }
                // A shared object's dynamic TLS sequences stay as they are:
                // the field is the distance to their GOT pair.
                Value::TlsGdToLe if shared => self
                    .got_entry(obj, idx, GotKind::TlsGdModule)?
                    .wrapping_add(a)
                    .wrapping_sub(p),
                Value::TlsLdToLe if shared => self
                    .got_entry(obj, idx, GotKind::TlsLdModule)?
                    .wrapping_add(a)
                    .wrapping_sub(p),
                Value::TlsDescToLe if shared => self
                    .got_entry(obj, idx, GotKind::TlsDesc)?
                    .wrapping_add(a)
                    .wrapping_sub(p),
                Value::TlsDescCallToNop if shared => continue,
                Value::TlsGdToLe => {
                    // lea x@tlsgd(%rip),%rdi; call __tls_get_addr → mov %fs:0,%rax; lea x@tpoff(%rax),%rax
                    if off < 4
                        || off + 12 > data.len()
                        || data[off - 4..off] != [0x66, 0x48, 0x8d, 0x3d]
                        || k + 1 >= s.relocs.len()
                    {
                        bail!("{}: unexpected code for R_X86_64_TLSGD at offset {in_off:#x} in section {}", obj.name, sec_name(obj, sec));
                    }
                    skip_next = true;
                    if self.imported(obj, idx) {
                        // A shared object's variable: initial exec, its
                        // offset from the GOT entry the loader fills.
                        data[off - 4..off + 12].copy_from_slice(&x86::GD_TO_IE);
                        let g = self.got_entry(obj, idx, GotKind::TpOff)?;
                        let v = g.wrapping_sub(p + 12);
                        put(&mut data[off + 8..off + 12], v, x86::Check::Signed)?;
                        continue;
                    }
                    data[off - 4..off + 12].copy_from_slice(&x86::GD_TO_LE);
                    let v = sv.wrapping_sub(tp);
                    put(&mut data[off + 8..off + 12], v, x86::Check::Signed)?;
                    continue;
                }
                Value::TlsLdToLe => {
                    // lea x@tlsld(%rip),%rdi; call __tls_get_addr → mov %fs:0,%rax
                    if off < 3
                        || data[off - 3..off] != [0x48, 0x8d, 0x3d]
                        || k + 1 >= s.relocs.len()
                    {
                        bail!("{}: unexpected code for R_X86_64_TLSLD at offset {in_off:#x} in section {}", obj.name, sec_name(obj, sec));
                    }
                    let next = s.relocs[k + 1].r_type(E, false);
                    let via_got = matches!(
                        next,
                        elf::R_X86_64_GOTPCREL
                            | elf::R_X86_64_GOTPCRELX
                            | elf::R_X86_64_REX_GOTPCRELX
                    );
                    let len = if via_got { 13 } else { 12 };
                    if off - 3 + len > data.len() {
                        return Err(oob());
                    }
                    data[off - 3..off + 9].copy_from_slice(&x86::LD_TO_LE);
                    if via_got {
                        data[off + 9] = 0x90;
                    }
                    skip_next = true;
                    continue;
                }
                Value::TlsDescToLe => {
                    // lea x@tlsdesc(%rip),%reg → mov $tpoff,%reg, or for a
                    // shared object's variable mov x@gottpoff(%rip),%reg.
                    let imported = self.imported(obj, idx);
                    let rewrite = if imported {
                        x86::tlsdesc_to_ie
                    } else {
                        x86::tlsdesc_to_le
                    };
                    let Some(mov) = (off >= 3).then(|| rewrite(&data[off - 3..off])).flatten()
                    else {
                        bail!(
                            "{}: unexpected code for {} at offset {in_off:#x} in section {}",
                            obj.name,
                            spec.name,
                            sec_name(obj, sec)
                        );
                    };
                    data[off - 3..off].copy_from_slice(&mov);
                    let v = if imported {
                        let g = self.got_entry(obj, idx, GotKind::TpOff)?;
                        g.wrapping_add(a).wrapping_sub(p)
                    } else {
                        sv.wrapping_sub(tp)
                    };
                    put(&mut data[off..off + 4], v, x86::Check::Signed)?;
                    continue;
                }
                Value::TlsDescCallToNop => {
                    // `call *(%rax)`: the ABI fixes the register.
                    if off + 2 > data.len() || data[off..off + 2] != [0xff, 0x10] {
                        bail!(
                            "{}: unexpected code for {} at offset {in_off:#x} in section {}",
                            obj.name,
                            spec.name,
                            sec_name(obj, sec)
                        );
                    }
                    data[off..off + 2].copy_from_slice(&[0x66, 0x90]);
                    continue;
                }
            };
            put(&mut data[off..off + size], value, spec.check)?;
        }
        Ok(())
    }
}

#[allow(clippy::too_many_arguments)]
fn write_checked(
    obj: &ObjectFile,
    sec: u32,
    name: &str,
    off: u64,
    field: &mut [u8],
    value: u64,
    check: x86::Check,
    res: &Resolution,
    idx: usize,
) -> Result<()> {
    if !x86::write_field(field, value, check) {
        let sym = if idx == 0 {
            String::new()
        } else {
            describe(sym_ref(obj, idx), res)
        };
        bail!(
            "{}: relocation {} against '{}' in section {} at offset {:#x} is out of range (value {:#x})",
            obj.name,
            name,
            sym,
            sec_name(obj, sec),
            off,
            value
        );
    }
    Ok(())
}

fn sec_name(obj: &ObjectFile, sec: u32) -> String {
    String::from_utf8_lossy(obj.sections[sec as usize].name).into_owned()
}

fn sym_size(res: &Resolution, obj: &ObjectFile, idx: usize) -> Option<u64> {
    let (f, i) = crate::layout::got::definition(res, sym_ref(obj, idx))?;
    Some(res.objects[f as usize].symbols[i as usize].st_size.get(E))
}
