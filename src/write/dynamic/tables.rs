//! The tables of a dynamic output, described for the layout's order
//! phase (`layout::order`), each sized from the plan's counts.

use crate::layout::got::{self, GotPlan};
use crate::layout::synthetic::{SyntheticTable, ALLOC, EXEC, WRITE};
use crate::layout::{DynTable, Synthetic};
use crate::write::dynamic::plan::{DYNSYM_SIZE, RELA_SIZE};
use crate::write::dynamic::DynPlan;
use object::elf;

impl DynPlan {
    /// `.rela.dyn` gets one chunk per unit, `.dynsym`, its names and
    /// `.gnu.version` one per shard, so that their units are written in
    /// parallel like input sections.
    pub fn tables(&self, got: &GotPlan, ibt_plt: bool) -> Vec<SyntheticTable> {
        let plan = self;
        let mut t = Vec::new();
        t.push(
            SyntheticTable::new(
                b".interp",
                elf::SHT_PROGBITS,
                ALLOC,
                Synthetic::Dyn(DynTable::Interp),
                plan.interp.len() as u64,
                1,
            )
            .entsize(0),
        );
        if plan.sysv_hash.is_some() {
            t.push(
                SyntheticTable::new(
                    b".hash",
                    elf::SHT_HASH,
                    ALLOC,
                    Synthetic::Dyn(DynTable::SysvHash),
                    plan.sysv_hash_size(),
                    8,
                )
                .entsize(4),
            );
        }
        if let Some((shape, _)) = &plan.gnu_hash {
            t.push(
                SyntheticTable::new(
                    b".gnu.hash",
                    elf::SHT_GNU_HASH,
                    ALLOC,
                    Synthetic::Dyn(DynTable::GnuHash),
                    shape.size(),
                    8,
                )
                .entsize(0),
            );
        }
        // .dynsym, its names in .dynstr and .gnu.version in shards, a chunk each.
        for k in 0..plan.shards() {
            let n = plan.shard_entries(k);
            let kind = Synthetic::Dyn(DynTable::DynSym(k as u32));
            t.push(
                SyntheticTable::new(b".dynsym", elf::SHT_DYNSYM, ALLOC, kind, n * DYNSYM_SIZE, 8)
                    .entsize(DYNSYM_SIZE),
            );
        }
        let head = plan.dynstr.len() as u64;
        t.push(
            SyntheticTable::new(
                b".dynstr",
                elf::SHT_STRTAB,
                ALLOC,
                Synthetic::Dyn(DynTable::DynStr),
                head,
                1,
            )
            .entsize(0),
        );
        for (k, &bytes) in plan.shard_names.iter().enumerate() {
            let kind = Synthetic::Dyn(DynTable::DynStrNames(k as u32));
            t.push(
                SyntheticTable::new(b".dynstr", elf::SHT_STRTAB, ALLOC, kind, bytes, 1).entsize(0),
            );
        }
        if plan.has_versym() {
            for k in 0..plan.shards() {
                let n = plan.shard_entries(k);
                let kind = Synthetic::Dyn(DynTable::VerSym(k as u32));
                t.push(
                    SyntheticTable::new(
                        b".gnu.version",
                        elf::SHT_GNU_VERSYM,
                        ALLOC,
                        kind,
                        2 * n,
                        2,
                    )
                    .entsize(2),
                );
            }
            t.push(
                SyntheticTable::new(
                    b".gnu.version_r",
                    elf::SHT_GNU_VERNEED,
                    ALLOC,
                    Synthetic::Dyn(DynTable::VerNeed),
                    plan.verneed.len() as u64,
                    8,
                )
                .entsize(0),
            );
        }
        if plan.verdef_count > 0 {
            t.push(
                SyntheticTable::new(
                    b".gnu.version_d",
                    elf::SHT_GNU_VERDEF,
                    ALLOC,
                    Synthetic::Dyn(DynTable::VerDef),
                    plan.verdef.len() as u64,
                    8,
                )
                .entsize(0),
            );
        }
        for (u, &(_, n)) in plan.rela_units.iter().enumerate() {
            t.push(
                SyntheticTable::new(
                    b".rela.dyn",
                    elf::SHT_RELA,
                    ALLOC,
                    Synthetic::Dyn(DynTable::RelaDyn(u as u32)),
                    n * RELA_SIZE,
                    8,
                )
                .entsize(RELA_SIZE),
            );
        }
        if plan.relr_count > 0 {
            // Sized once the addresses are known (`Sections::resize_synthetic`).
            t.push(
                SyntheticTable::new(
                    b".relr.dyn",
                    elf::SHT_RELR,
                    ALLOC,
                    Synthetic::Dyn(DynTable::Relr),
                    8,
                    8,
                )
                .entsize(8),
            );
        }
        let plt_records = DynPlan::rela_plt_records(got);
        if plt_records > 0 {
            let flags = ALLOC | u64::from(elf::SHF_INFO_LINK);
            t.push(
                SyntheticTable::new(
                    b".rela.plt",
                    elf::SHT_RELA,
                    flags,
                    Synthetic::Dyn(DynTable::RelaPlt),
                    plt_records * RELA_SIZE,
                    8,
                )
                .entsize(RELA_SIZE),
            );
        }
        if !got.plt.is_empty() {
            let size = got::PLT_ENTRY * (1 + got.plt.len() as u64);
            t.push(
                SyntheticTable::new(
                    b".plt",
                    elf::SHT_PROGBITS,
                    ALLOC | EXEC,
                    Synthetic::Dyn(DynTable::Plt),
                    size,
                    16,
                )
                .entsize(got::PLT_ENTRY),
            );
            if ibt_plt {
                // The IBT form: calls go to `.plt.sec`, which starts with
                // `endbr64` (GNU ld's layout under `-z ibt` or IBT inputs).
                let size = got::PLT_ENTRY * got.plt.len() as u64;
                let kind = Synthetic::Dyn(DynTable::PltSec);
                t.push(
                    SyntheticTable::new(
                        b".plt.sec",
                        elf::SHT_PROGBITS,
                        ALLOC | EXEC,
                        kind,
                        size,
                        16,
                    )
                    .entsize(got::PLT_ENTRY),
                );
            }
        }
        if !got.plt_got.is_empty() {
            let entry = if ibt_plt { 16 } else { 8 };
            let size = entry * got.plt_got.len() as u64;
            let kind = Synthetic::Dyn(DynTable::PltGot);
            t.push(
                SyntheticTable::new(
                    b".plt.got",
                    elf::SHT_PROGBITS,
                    ALLOC | EXEC,
                    kind,
                    size,
                    entry,
                )
                .entsize(entry),
            );
        }
        let dynamic_size = 16 * plan.dynamic.len() as u64;
        t.push(
            SyntheticTable::new(
                b".dynamic",
                elf::SHT_DYNAMIC,
                ALLOC | WRITE,
                Synthetic::Dyn(DynTable::Dynamic),
                dynamic_size,
                8,
            )
            .entsize(16),
        );
        if !got.copies.is_empty() {
            t.push(
                SyntheticTable::new(
                    b".bss",
                    elf::SHT_NOBITS,
                    ALLOC | WRITE,
                    Synthetic::Dyn(DynTable::Copies),
                    got.copy_size,
                    got.copy_align,
                )
                .entsize(0),
            );
        }
        t
    }
}
