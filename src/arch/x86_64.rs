//! x86-64 relocations (psABI), as a table: one [`RelocSpec`] per type.

use object::elf;

/// How a relocation's value is computed in an executable. S: symbol value,
/// A: addend, P: place, G: the symbol's GOT entry, GOT: `_GLOBAL_OFFSET_TABLE_`,
/// TP: the thread pointer, TLS: the TLS segment's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// Writes nothing.
    None,
    /// S + A
    Abs,
    /// S + A - P
    Pc,
    /// S + A - P, through the symbol's PLT entry when it is an IFUNC.
    Plt,
    /// G + A - P
    GotPcRel,
    /// GOT + A - P
    GotPc,
    /// S + A - GOT
    GotOff,
    /// G + A - GOT
    GotEntry,
    /// S + A - TP
    TpOff,
    /// S + A - TLS in debug sections; S + A - TP in code (after LD→LE).
    DtpOff,
    /// G(tp offset) + A - P
    GotTpOff,
    /// Symbol size + A
    Size,
    /// General dynamic TLS sequence, relaxed to local exec.
    TlsGdToLe,
    /// Local dynamic TLS sequence, relaxed to local exec.
    TlsLdToLe,
    /// `lea x@tlsdesc(%rip), %reg`, relaxed to `mov $tpoff, %reg`.
    TlsDescToLe,
    /// `call *x@tlscall(%rax)`, relaxed to a two-byte nop.
    TlsDescCallToNop,
    /// Only produced by linkers for dynamic objects; invalid in input.
    Invalid,
}

/// The range check a written field gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    None,
    Signed,
    Unsigned,
    /// Either a signed or an unsigned reading fits (R_X86_64_8/16).
    Either,
}

#[derive(Debug, Clone, Copy)]
pub struct RelocSpec {
    pub name: &'static str,
    pub value: Value,
    /// Bytes written at r_offset.
    pub size: u8,
    pub check: Check,
}

impl RelocSpec {
    pub fn needs_got(&self) -> bool {
        matches!(self.value, Value::GotPcRel | Value::GotEntry)
    }
    pub fn needs_got_tpoff(&self) -> bool {
        self.value == Value::GotTpOff
    }
    /// The relocation consumes the one after it (the call to
    /// __tls_get_addr), which its relaxation rewrites: in an executable.
    /// A shared object keeps the call.
    pub fn consumes_next(&self, mode: crate::resolve::mode::OutputMode) -> bool {
        matches!(self.value, Value::TlsGdToLe | Value::TlsLdToLe)
            && mode != crate::resolve::mode::OutputMode::Shared
    }
    pub fn is_tls(&self) -> bool {
        matches!(
            self.value,
            Value::TpOff
                | Value::DtpOff
                | Value::GotTpOff
                | Value::TlsGdToLe
                | Value::TlsLdToLe
                | Value::TlsDescToLe
                | Value::TlsDescCallToNop
        )
    }
}

const fn spec(name: &'static str, value: Value, size: u8, check: Check) -> RelocSpec {
    RelocSpec {
        name,
        value,
        size,
        check,
    }
}

use Check::*;
use Value::*;

/// Indexed by relocation type.
static TABLE: [RelocSpec; 43] = [
    spec("R_X86_64_NONE", Value::None, 0, Check::None),
    spec("R_X86_64_64", Abs, 8, Check::None),
    spec("R_X86_64_PC32", Pc, 4, Signed),
    spec("R_X86_64_GOT32", GotEntry, 4, Signed),
    spec("R_X86_64_PLT32", Plt, 4, Signed),
    spec("R_X86_64_COPY", Invalid, 0, Check::None),
    spec("R_X86_64_GLOB_DAT", Invalid, 0, Check::None),
    spec("R_X86_64_JUMP_SLOT", Invalid, 0, Check::None),
    spec("R_X86_64_RELATIVE", Invalid, 0, Check::None),
    spec("R_X86_64_GOTPCREL", GotPcRel, 4, Signed),
    spec("R_X86_64_32", Abs, 4, Unsigned),
    spec("R_X86_64_32S", Abs, 4, Signed),
    spec("R_X86_64_16", Abs, 2, Either),
    spec("R_X86_64_PC16", Pc, 2, Signed),
    spec("R_X86_64_8", Abs, 1, Either),
    spec("R_X86_64_PC8", Pc, 1, Signed),
    spec("R_X86_64_DTPMOD64", Invalid, 0, Check::None),
    spec("R_X86_64_DTPOFF64", DtpOff, 8, Check::None),
    spec("R_X86_64_TPOFF64", TpOff, 8, Check::None),
    spec("R_X86_64_TLSGD", TlsGdToLe, 4, Signed),
    spec("R_X86_64_TLSLD", TlsLdToLe, 4, Signed),
    spec("R_X86_64_DTPOFF32", DtpOff, 4, Signed),
    spec("R_X86_64_GOTTPOFF", GotTpOff, 4, Signed),
    spec("R_X86_64_TPOFF32", TpOff, 4, Signed),
    spec("R_X86_64_PC64", Pc, 8, Check::None),
    spec("R_X86_64_GOTOFF64", GotOff, 8, Check::None),
    spec("R_X86_64_GOTPC32", GotPc, 4, Signed),
    spec("R_X86_64_GOT64", GotEntry, 8, Check::None),
    spec("R_X86_64_GOTPCREL64", GotPcRel, 8, Check::None),
    spec("R_X86_64_GOTPC64", GotPc, 8, Check::None),
    spec("R_X86_64_GOTPLT64", GotEntry, 8, Check::None),
    spec("R_X86_64_PLTOFF64", GotOff, 8, Check::None),
    spec("R_X86_64_SIZE32", Size, 4, Unsigned),
    spec("R_X86_64_SIZE64", Size, 8, Check::None),
    spec("R_X86_64_GOTPC32_TLSDESC", TlsDescToLe, 4, Signed),
    spec("R_X86_64_TLSDESC_CALL", TlsDescCallToNop, 0, Check::None),
    spec("R_X86_64_TLSDESC", Invalid, 0, Check::None),
    spec("R_X86_64_IRELATIVE", Invalid, 0, Check::None),
    spec("R_X86_64_RELATIVE64", Invalid, 0, Check::None),
    spec("R_X86_64_39", Invalid, 0, Check::None),
    spec("R_X86_64_40", Invalid, 0, Check::None),
    spec("R_X86_64_GOTPCRELX", GotPcRel, 4, Signed),
    spec("R_X86_64_REX_GOTPCRELX", GotPcRel, 4, Signed),
];

static CODE_4_GOTPCRELX: RelocSpec = spec("R_X86_64_CODE_4_GOTPCRELX", GotPcRel, 4, Signed);
static CODE_4_GOTTPOFF: RelocSpec = spec("R_X86_64_CODE_4_GOTTPOFF", GotTpOff, 4, Signed);

/// The description of relocation type `r_type`, or `None` when unknown.
pub fn reloc_spec(r_type: u32) -> Option<&'static RelocSpec> {
    match r_type {
        43 => Some(&CODE_4_GOTPCRELX),
        44 => Some(&CODE_4_GOTTPOFF),
        t => TABLE.get(t as usize).filter(|s| s.value != Invalid),
    }
}

pub fn reloc_name(r_type: u32) -> String {
    match r_type {
        43 => CODE_4_GOTPCRELX.name.to_string(),
        44 => CODE_4_GOTTPOFF.name.to_string(),
        t => TABLE
            .get(t as usize)
            .map(|s| s.name.to_string())
            .unwrap_or_else(|| format!("type {t}")),
    }
}

/// What a relocation's target is, as far as the linker's action goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymClass {
    /// Defined in the output and bound at link time: locals, the
    /// executable's own globals, linker-defined symbols.
    Defined,
    /// An IFUNC defined in the output: its address is its `.plt` stub.
    Ifunc,
    /// An absolute symbol (`SHN_ABS`): a number, not moved with the
    /// load address.
    Absolute,
    /// A function (or IFUNC) a shared object defines.
    ImportedFunc,
    /// Data (or anything not a function) a shared object defines.
    ImportedData,
    /// Undefined and weak: 0, unless a dynamic output's loader finds it.
    UndefWeak,
    /// The relocation names no symbol.
    NoSymbol,
}

impl SymClass {
    pub fn is_imported(self) -> bool {
        matches!(self, SymClass::ImportedFunc | SymClass::ImportedData)
    }
}

/// A GOT entry a relocation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GotKind {
    /// The symbol's address.
    Address,
    /// The symbol's offset from the thread pointer (initial exec).
    TpOff,
    /// A shared object's general-dynamic pair for `__tls_get_addr`: the
    /// module id, then the offset in the module's block.
    TlsGdModule,
    TlsGdOffset,
    /// A shared object's TLS descriptor: the resolver the loader picks,
    /// then its argument.
    TlsDesc,
    TlsDescArg,
    /// A shared object's local-dynamic pair (one per output, keyed by
    /// [`crate::layout::got::SymRef::Module`]): its module id, then 0.
    TlsLdModule,
    TlsLdOffset,
}

impl GotKind {
    /// The entry that always follows this one: the second word of a pair.
    /// (Entries sort by symbol, then kind, so a pair stays together.)
    pub fn second_word(self) -> Option<GotKind> {
        match self {
            GotKind::TlsGdModule => Some(GotKind::TlsGdOffset),
            GotKind::TlsDesc => Some(GotKind::TlsDescArg),
            GotKind::TlsLdModule => Some(GotKind::TlsLdOffset),
            _ => Option::None,
        }
    }
    /// The entry holds a value relative to the TLS block, not an address.
    pub fn is_tls(self) -> bool {
        self != GotKind::Address
    }
}

/// A dynamic relocation record written for the relocated place itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceRecord {
    None,
    /// `R_X86_64_RELATIVE`: the load address plus the value.
    Relative,
    /// `R_X86_64_64` naming the symbol in `.dynsym`.
    Symbolic,
}

/// A relocation an output kind cannot hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// An absolute address narrower than 64 bits in a PIE.
    NeedsPic,
    /// A local-exec TLS offset of a shared object's variable.
    LocalExecImported,
    /// A PC-relative reference to an absolute symbol in a PIE, whose
    /// distance from the code changes with the load address.
    AbsolutePcRel,
}

/// What the linker does with one relocation in an allocated section,
/// besides writing its field: the one answer that the scan (counting GOT,
/// PLT, copies and dynamic records) and the write (values and records)
/// both read, so their counts cannot disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Action {
    pub got: Option<GotKind>,
    /// Goes through (or takes the address of) the target's PLT entry.
    pub plt: bool,
    /// That PLT entry's address is the function's address in the whole
    /// process (`.dynsym` gives it as the symbol's value): non-PIE code
    /// took it as an absolute address.
    pub canonical: bool,
    /// The target is copied into the executable (`R_X86_64_COPY`).
    pub copy: bool,
    pub record: PlaceRecord,
    /// A GD or TLSDESC sequence becomes initial exec (a GOT entry with the
    /// offset the loader computes), not local exec.
    pub tls_to_ie: bool,
    pub refuse: Option<Refusal>,
}

const NOTHING: Action = Action {
    got: Option::None,
    plt: false,
    canonical: false,
    copy: false,
    record: PlaceRecord::None,
    tls_to_ie: false,
    refuse: Option::None,
};

/// The action table: what relocation `spec` against a target of `class`
/// needs in an output of kind `mode`. GOT loads that will be relaxed are
/// the caller's to skip (`relaxed`); relocations in non-allocated
/// sections need nothing.
pub fn action(
    spec: &RelocSpec,
    mode: crate::resolve::mode::OutputMode,
    class: SymClass,
    relaxed: bool,
    place_writable: bool,
) -> Action {
    use crate::resolve::mode::OutputMode::NonPie;
    let pie = mode.is_pie();
    use SymClass::*;
    let dynamic = mode.is_dynamic();
    let shared = mode == crate::resolve::mode::OutputMode::Shared;
    let got = |k| Action {
        got: Some(k),
        ..NOTHING
    };
    let refuse = |why| Action {
        refuse: Some(why),
        ..NOTHING
    };
    match spec.value {
        Abs if spec.size == 8 => match (mode, class) {
            (_, Defined | Ifunc) if pie => Action {
                record: PlaceRecord::Relative,
                ..NOTHING
            },
            // A non-PIE executable avoids a record in read-only data as
            // GNU ld does: the function's `.plt` entry becomes its address,
            // the variable is copied.
            (NonPie, ImportedFunc) if !place_writable => Action {
                plt: true,
                canonical: true,
                ..NOTHING
            },
            (NonPie, ImportedData) if !place_writable => Action {
                copy: true,
                ..NOTHING
            },
            (_, ImportedFunc | ImportedData) => Action {
                record: PlaceRecord::Symbolic,
                ..NOTHING
            },
            _ => NOTHING,
        },
        Abs => match (mode, class) {
            (_, Defined | Ifunc | ImportedFunc | ImportedData) if pie => Action {
                refuse: Some(Refusal::NeedsPic),
                ..NOTHING
            },
            (NonPie, ImportedFunc) => Action {
                plt: true,
                canonical: true,
                ..NOTHING
            },
            (NonPie, ImportedData) => Action {
                copy: true,
                ..NOTHING
            },
            _ => NOTHING,
        },
        Pc | Plt => match class {
            Absolute if pie => refuse(Refusal::AbsolutePcRel),
            // A shared object reaches a symbol another module may define
            // only through the PLT: a direct PC-relative address cannot be.
            ImportedFunc | ImportedData if shared && spec.value == Pc => refuse(Refusal::NeedsPic),
            ImportedFunc | ImportedData if shared => Action {
                plt: true,
                ..NOTHING
            },
            ImportedFunc => Action {
                plt: true,
                canonical: spec.value == Pc && mode == NonPie,
                ..NOTHING
            },
            ImportedData => Action {
                copy: true,
                ..NOTHING
            },
            _ => NOTHING,
        },
        // `R_X86_64_PLTOFF64`, `R_X86_64_GOTOFF64` (large code model):
        // relative to the GOT, through the `.plt` entry or the copy.
        GotOff => match class {
            ImportedData if shared => refuse(Refusal::NeedsPic),
            ImportedFunc => Action {
                plt: true,
                ..NOTHING
            },
            ImportedData => Action {
                copy: true,
                ..NOTHING
            },
            _ => NOTHING,
        },
        GotPcRel | GotEntry if relaxed => NOTHING,
        GotPcRel | GotEntry => got(GotKind::Address),
        // Initial exec of the executable's own TLS: local exec.
        GotTpOff if relaxed => NOTHING,
        GotTpOff => got(GotKind::TpOff),
        // A shared object's TLS block is at an offset from the thread
        // pointer known only at run time, and its accesses stay as the
        // compiler wrote them: through `__tls_get_addr` or a descriptor.
        TpOff if shared => refuse(Refusal::NeedsPic),
        TlsGdToLe if shared => got(GotKind::TlsGdModule),
        TlsLdToLe if shared => got(GotKind::TlsLdModule),
        TlsDescToLe if shared => got(GotKind::TlsDesc),
        TlsDescCallToNop if shared => NOTHING,
        TpOff if class.is_imported() => Action {
            refuse: Some(Refusal::LocalExecImported),
            ..NOTHING
        },
        TlsGdToLe | TlsDescToLe if dynamic && class.is_imported() => Action {
            got: Some(GotKind::TpOff),
            tls_to_ie: true,
            ..NOTHING
        },
        _ => NOTHING,
    }
}

/// The dynamic record a GOT entry of `kind` for a target of `class` needs.
pub fn got_record(
    mode: crate::resolve::mode::OutputMode,
    class: SymClass,
    kind: GotKind,
) -> GotRecord {
    use GotKind as K;
    let imported = class.is_imported();
    let shared = mode == crate::resolve::mode::OutputMode::Shared;
    match kind {
        K::Address if imported => GotRecord::Symbolic(elf::R_X86_64_GLOB_DAT),
        K::Address if class == SymClass::UndefWeak && mode.has_loader() => {
            GotRecord::Symbolic(elf::R_X86_64_GLOB_DAT)
        }
        K::Address if matches!(class, SymClass::Defined | SymClass::Ifunc) && mode.is_pie() => {
            GotRecord::Relative
        }
        K::TpOff if imported => GotRecord::Symbolic(elf::R_X86_64_TPOFF64),
        // A shared object's own TLS: its block's offset from the thread
        // pointer is the loader's to add.
        K::TpOff if shared => GotRecord::Local(elf::R_X86_64_TPOFF64),
        K::TlsGdModule if imported => GotRecord::Symbolic(elf::R_X86_64_DTPMOD64),
        K::TlsGdModule | K::TlsLdModule => GotRecord::Local(elf::R_X86_64_DTPMOD64),
        K::TlsGdOffset if imported => GotRecord::Symbolic(elf::R_X86_64_DTPOFF64),
        K::TlsDesc if imported => GotRecord::Symbolic(elf::R_X86_64_TLSDESC),
        K::TlsDesc => GotRecord::Local(elf::R_X86_64_TLSDESC),
        _ => GotRecord::None,
    }
}

/// The dynamic record of one GOT entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GotRecord {
    None,
    Relative,
    /// A record of this type naming the symbol: `GLOB_DAT` (the loader
    /// writes its address), `TPOFF64`, `DTPMOD64`, `DTPOFF64`, `TLSDESC`.
    Symbolic(u32),
    /// A record of this type naming no symbol (index 0): the output's own
    /// TLS, with the entry's link-time value (the offset in the TLS block)
    /// as its addend.
    Local(u32),
}

/// Bytes of the initial-exec sequence replacing a general-dynamic one
/// against a shared object's variable, written from r_offset - 4:
/// `mov %fs:0,%rax; add x@gottpoff(%rip),%rax`. The GOT offset goes at +12.
pub const GD_TO_IE: [u8; 16] = [
    0x64, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0, 0x48, 0x03, 0x05, 0, 0, 0, 0,
];

/// The 3 bytes before a R_X86_64_GOTPC32_TLSDESC field, `lea
/// x@tlsdesc(%rip), %reg`, turned into `mov x@gottpoff(%rip), %reg` (the
/// same REX and ModRM, opcode 0x8b), as GNU ld relaxes TLSDESC to IE.
pub fn tlsdesc_to_ie(lea: &[u8]) -> Option<[u8; 3]> {
    let &[rex, op, modrm] = lea else {
        return Option::None;
    };
    if rex & 0xfb != 0x48 || op != 0x8d || modrm & 0xc7 != 0x05 {
        return Option::None;
    }
    Some([rex, 0x8b, modrm])
}

/// One record `--emit-relocs` writes for an applied relocation: the type
/// that describes what was written, at `offset_delta` from the original
/// r_offset. Relaxed sequences change the type (GD→LE becomes TPOFF32 on
/// the rewritten `lea`) and turn the consumed call into R_X86_64_NONE, as
/// GNU ld does, so the count is one record per input relocation. A relaxed
/// GOT load becomes R_X86_64_PC32.
pub fn emitted_type(
    spec: &RelocSpec,
    r_type: u32,
    relaxed: Option<GotRelax>,
    imported: bool,
    shared: bool,
) -> (u32, i64) {
    match relaxed {
        Some(GotRelax::TestToImm | GotRelax::BinopToImm | GotRelax::MovToZero) => {
            let wide = r_type == elf::R_X86_64_REX_GOTPCRELX;
            return (
                if wide {
                    elf::R_X86_64_32S
                } else {
                    elf::R_X86_64_32
                },
                0,
            );
        }
        Some(r) => return (elf::R_X86_64_PC32, r.field_shift()),
        Option::None => {}
    }
    match spec.value {
        // A shared object's own TLS sequences stay as written.
        TlsGdToLe | TlsLdToLe | TlsDescToLe | TlsDescCallToNop if shared => (r_type, 0),
        // A shared object's TLS: initial exec through the GOT.
        TlsGdToLe if imported => (elf::R_X86_64_GOTTPOFF, 8),
        TlsDescToLe if imported => (elf::R_X86_64_GOTTPOFF, 0),
        TlsGdToLe => (elf::R_X86_64_TPOFF32, 8),
        TlsLdToLe | TlsDescCallToNop => (elf::R_X86_64_NONE, 0),
        TlsDescToLe => (elf::R_X86_64_TPOFF32, 0),
        _ => (r_type, 0),
    }
}

/// A GOT load or call through the GOT rewritten to reach its target
/// directly, as the psABI allows for R_X86_64_(REX_)GOTPCRELX and GNU ld
/// does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GotRelax {
    /// `mov foo@GOTPCREL(%rip), %reg` → `lea foo(%rip), %reg`
    MovToLea,
    /// `call *foo@GOTPCREL(%rip)` → `addr32 call foo`
    CallToDirect,
    /// `jmp *foo@GOTPCREL(%rip)` → `jmp foo; nop`: the field moves one
    /// byte back.
    JmpToDirect,
    /// `test %reg, foo@GOTPCREL(%rip)` → `test $foo, %reg` (code at a fixed
    /// address only: the field becomes the absolute address).
    TestToImm,
    /// `op foo@GOTPCREL(%rip), %reg` for op in add, or, adc, sbb, and,
    /// sub, xor, cmp → `op $foo, %reg` (fixed address only).
    BinopToImm,
    /// `mov foo@GOTPCREL(%rip), %reg` of an undefined weak symbol in a
    /// static executable → `mov $0, %reg`.
    MovToZero,
}

impl GotRelax {
    /// The field becomes an immediate: the symbol's address, no addend.
    pub fn is_immediate(self) -> bool {
        matches!(
            self,
            GotRelax::TestToImm | GotRelax::BinopToImm | GotRelax::MovToZero
        )
    }
    /// Where the field is after the rewrite, from the relocation's offset.
    pub fn field_shift(self) -> i64 {
        if self == GotRelax::JmpToDirect {
            -1
        } else {
            0
        }
    }
}

/// `op r64, r/m64` opcodes of the ALU operations `81 /digit` also has.
fn is_binop(op: u8) -> bool {
    matches!(op, 0x03 | 0x0b | 0x13 | 0x1b | 0x23 | 0x2b | 0x33 | 0x3b)
}

/// Which relaxation the instruction before a GOTPCRELX field at `off` in
/// `code` allows, judging by its bytes alone; `fixed` says the output's
/// code is at a fixed address, so an address can be an immediate.
pub fn got_relaxation(r_type: u32, code: &[u8], off: usize, fixed: bool) -> Option<GotRelax> {
    let byte = |back: usize| off.checked_sub(back).and_then(|i| code.get(i)).copied();
    // The operand is `disp32(%rip)`: mod 00, r/m 101.
    let rip_relative = |modrm: u8| modrm & 0xc7 == 0x05;
    let (op, modrm) = (byte(2)?, byte(1)?);
    let alu = |op: u8| match op {
        0x85 if fixed && rip_relative(modrm) => Some(GotRelax::TestToImm),
        op if fixed && is_binop(op) && rip_relative(modrm) => Some(GotRelax::BinopToImm),
        _ => Option::None,
    };
    match r_type {
        // A plain GOTPCREL `mov` (older assemblers): GNU ld relaxes it
        // too ("it has been done for a while"); nothing else.
        elf::R_X86_64_GOTPCREL => (op == 0x8b && rip_relative(modrm)).then_some(GotRelax::MovToLea),
        elf::R_X86_64_GOTPCRELX => match (op, modrm) {
            (0x8b, _) => Some(GotRelax::MovToLea),
            (0xff, 0x15) => Some(GotRelax::CallToDirect),
            (0xff, 0x25) => Some(GotRelax::JmpToDirect),
            (op, _) => alu(op),
        },
        elf::R_X86_64_REX_GOTPCRELX => {
            let rex = byte(3)?;
            if rex & 0xf0 != 0x40 {
                return Option::None;
            }
            match op {
                0x8b => Some(GotRelax::MovToLea),
                op => alu(op),
            }
        }
        _ => Option::None,
    }
}

/// Rewrites the instruction for `relax`. The field (at `off`, or one
/// byte earlier for [`GotRelax::JmpToDirect`]) then takes S + A - P, or
/// S alone for an immediate.
pub fn apply_got_relaxation(relax: GotRelax, code: &mut [u8], off: usize, r_type: u32) {
    match relax {
        GotRelax::MovToLea => code[off - 2] = 0x8d,
        GotRelax::CallToDirect => {
            code[off - 2] = 0x67;
            code[off - 1] = 0xe8;
        }
        GotRelax::JmpToDirect => {
            code[off - 2] = 0xe9;
            code[off + 3] = 0x90;
        }
        GotRelax::TestToImm | GotRelax::BinopToImm | GotRelax::MovToZero => {
            let op = code[off - 2];
            let reg = (code[off - 1] >> 3) & 7;
            let (opcode, digit) = match relax {
                GotRelax::TestToImm => (0xf7, 0),
                GotRelax::MovToZero => (0xc7, 0),
                _ => (0x81, op & 0x38),
            };
            code[off - 2] = opcode;
            code[off - 1] = 0xc0 | digit | reg;
            // The register moves from ModRM.reg to ModRM.r/m: REX.R
            // becomes REX.B.
            if r_type == elf::R_X86_64_REX_GOTPCRELX {
                let rex = code[off - 3];
                code[off - 3] = (rex & !0x05) | ((rex >> 2) & 1);
            }
        }
    }
}

/// Whether the instruction of a R_X86_64_GOTTPOFF field at `off` is one
/// initial exec can be relaxed from: `movq x@gottpoff(%rip), %reg` or
/// `addq x@gottpoff(%rip), %reg` (REX.W, RIP-relative), as GNU ld checks.
pub fn ie_to_le_ok(code: &[u8], off: usize) -> bool {
    let Some(b) = off.checked_sub(3).and_then(|i| code.get(i..off)) else {
        return false;
    };
    matches!(b[0], 0x48 | 0x4c) && matches!(b[1], 0x8b | 0x03) && b[2] & 0xc7 == 0x05
}

/// Rewrites an initial-exec instruction ([`ie_to_le_ok`]) to local exec,
/// as GNU ld does: `movq $tpoff, %reg`; `addq $tpoff, %rsp/%r12`; else
/// `leaq tpoff(%reg), %reg`. The field at `off` then takes the TP offset.
pub fn ie_to_le(code: &mut [u8], off: usize) {
    let (rex, op, reg) = (code[off - 3], code[off - 2], (code[off - 1] >> 3) & 7);
    let high = rex == 0x4c;
    let (rex, op, modrm) = match op {
        0x8b => (if high { 0x49 } else { rex }, 0xc7, 0xc0 | reg),
        _ if reg == 4 => (if high { 0x49 } else { rex }, 0x81, 0xc0 | reg),
        _ => (if high { 0x4d } else { rex }, 0x8d, 0x80 | reg | (reg << 3)),
    };
    code[off - 3] = rex;
    code[off - 2] = op;
    code[off - 1] = modrm;
}

/// Bytes of the local-exec sequence replacing a general-dynamic one
/// (`lea x@tlsgd(%rip),%rdi; call __tls_get_addr`), written from r_offset - 4:
/// `mov %fs:0,%rax; lea x@tpoff(%rax),%rax`. The tpoff goes at +12.
pub const GD_TO_LE: [u8; 16] = [
    0x64, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0, 0x48, 0x8d, 0x80, 0, 0, 0, 0,
];

/// Local-dynamic `lea x@tlsld(%rip),%rdi; call __tls_get_addr` from
/// r_offset - 3, replaced by `mov %fs:0,%rax` padded with prefixes.
pub const LD_TO_LE: [u8; 12] = [0x66, 0x66, 0x66, 0x64, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0];

/// The 3 bytes before a R_X86_64_GOTPC32_TLSDESC field, `lea
/// x@tlsdesc(%rip), %reg` (REX.W with or without REX.R, opcode 0x8d, a
/// RIP-relative ModRM), turned into those of `mov $imm32, %reg` (REX.W with
/// REX.B for r8-r15, opcode 0xc7, ModRM register-direct), as GNU ld does.
/// `None` when the bytes are not such a `lea`.
pub fn tlsdesc_to_le(lea: &[u8]) -> Option<[u8; 3]> {
    let &[rex, op, modrm] = lea else {
        return Option::None;
    };
    if rex & 0xfb != 0x48 || op != 0x8d || modrm & 0xc7 != 0x05 {
        return Option::None;
    }
    Some([0x48 | ((rex >> 2) & 1), 0xc7, 0xc0 | ((modrm >> 3) & 7)])
}

/// Writes `value` into `field` (1, 2, 4 or 8 bytes) after the range check;
/// returns false on overflow.
/// The NOPs that fill the gap before an input section in a code section:
/// 10-byte NOPs, then one NOP of the remaining length, as GNU ld writes them
/// (bfd's `bfd_arch_i386_fill`), so that disassemblers and profilers see
/// instructions rather than `add %al,(%rax)` in the padding.
pub fn code_fill(gap: &mut [u8]) {
    const NOPS: [&[u8]; 10] = [
        &[0x90],
        &[0x66, 0x90],
        &[0x0f, 0x1f, 0x00],
        &[0x0f, 0x1f, 0x40, 0x00],
        &[0x0f, 0x1f, 0x44, 0x00, 0x00],
        &[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
        &[0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
        &[0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
        &[0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
        &[0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
    ];
    for piece in gap.chunks_mut(NOPS.len()) {
        piece.copy_from_slice(NOPS[piece.len() - 1]);
    }
}

pub fn write_field(field: &mut [u8], value: u64, check: Check) -> bool {
    let v = value as i64;
    let bits = field.len() * 8;
    let ok = match (bits, check) {
        (64, _) | (_, Check::None) => true,
        (b, Signed) => v >= -(1i64 << (b - 1)) && v < (1i64 << (b - 1)),
        (b, Unsigned) => value < (1u64 << b),
        (b, Either) => v >= -(1i64 << (b - 1)) && v < (1i64 << b),
    };
    if !ok {
        return false;
    }
    let bytes = value.to_le_bytes();
    field.copy_from_slice(&bytes[..field.len()]);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relaxes the GOT load whose 4-byte field follows `prefix`, and
    /// returns the bytes before the field (and after it, for `jmp`).
    fn relaxed(r_type: u32, prefix: &[u8], fixed: bool) -> Option<Vec<u8>> {
        let mut code = prefix.to_vec();
        let off = code.len();
        code.extend_from_slice(&[0; 4]);
        let relax = got_relaxation(r_type, &code, off, fixed)?;
        apply_got_relaxation(relax, &mut code, off, r_type);
        Some(code)
    }

    #[test]
    fn got_loads_relax_as_gnu_ld_rewrites_them() {
        let rex = elf::R_X86_64_REX_GOTPCRELX;
        let x = elf::R_X86_64_GOTPCRELX;
        // mov foo@GOTPCREL(%rip), %r9 → lea foo(%rip), %r9
        assert_eq!(
            relaxed(rex, &[0x4c, 0x8b, 0x0d], false).unwrap()[..3],
            [0x4c, 0x8d, 0x0d]
        );
        // cmp foo@GOTPCREL(%rip), %rax → cmp $foo, %rax
        assert_eq!(
            relaxed(rex, &[0x48, 0x3b, 0x05], true).unwrap()[..3],
            [0x48, 0x81, 0xf8]
        );
        // cmp foo@GOTPCREL(%rip), %r8 → cmp $foo, %r8 (REX.R becomes REX.B)
        assert_eq!(
            relaxed(rex, &[0x4c, 0x3b, 0x05], true).unwrap()[..3],
            [0x49, 0x81, 0xf8]
        );
        // test %r10, foo@GOTPCREL(%rip) → test $foo, %r10
        assert_eq!(
            relaxed(rex, &[0x4c, 0x85, 0x15], true).unwrap()[..3],
            [0x49, 0xf7, 0xc2]
        );
        // sub foo@GOTPCREL(%rip), %ecx (no REX) → sub $foo, %ecx
        assert_eq!(
            relaxed(x, &[0x90, 0x2b, 0x0d], true).unwrap()[..3],
            [0x90, 0x81, 0xe9]
        );
        // Not in a PIE: the address is not known.
        assert!(relaxed(rex, &[0x48, 0x3b, 0x05], false).is_none());
        // call *foo@GOTPCREL(%rip) → addr32 call foo
        assert_eq!(relaxed(x, &[0xff, 0x15], false).unwrap()[..2], [0x67, 0xe8]);
        // jmp *foo@GOTPCREL(%rip) → jmp foo; nop (the field a byte earlier)
        let jmp = relaxed(x, &[0xff, 0x25], false).unwrap();
        assert_eq!((jmp[0], jmp[5]), (0xe9, 0x90));
        assert_eq!(GotRelax::JmpToDirect.field_shift(), -1);
        // A register operand (mod 11) is no GOT load.
        assert!(relaxed(rex, &[0x48, 0x3b, 0xc0], true).is_none());
    }

    #[test]
    fn initial_exec_becomes_local_exec_as_gnu_ld_rewrites_it() {
        let le = |b: [u8; 3]| {
            let mut code = [b[0], b[1], b[2], 0, 0, 0, 0];
            assert!(ie_to_le_ok(&code, 3));
            ie_to_le(&mut code, 3);
            [code[0], code[1], code[2]]
        };
        // movq x@gottpoff(%rip), %r8 → movq $x@tpoff, %r8
        assert_eq!(le([0x4c, 0x8b, 0x05]), [0x49, 0xc7, 0xc0]);
        // addq x@gottpoff(%rip), %rax → leaq x@tpoff(%rax), %rax
        assert_eq!(le([0x48, 0x03, 0x05]), [0x48, 0x8d, 0x80]);
        // addq x@gottpoff(%rip), %r12 → addq $x@tpoff, %r12
        assert_eq!(le([0x4c, 0x03, 0x25]), [0x49, 0x81, 0xc4]);
        // addq x@gottpoff(%rip), %r9 → leaq x@tpoff(%r9), %r9
        assert_eq!(le([0x4c, 0x03, 0x0d]), [0x4d, 0x8d, 0x89]);
        assert!(!ie_to_le_ok(&[0x48, 0x8d, 0x05, 0, 0, 0, 0], 3));
    }

    #[test]
    fn code_fill_is_ten_byte_nops_then_the_rest() {
        let mut gap = [0u8; 23];
        super::code_fill(&mut gap);
        let ten = [0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0];
        assert_eq!(gap[..10], ten);
        assert_eq!(gap[10..20], ten);
        assert_eq!(gap[20..], [0x0f, 0x1f, 0x00]);
    }

    #[test]
    fn table_is_indexed_by_type() {
        for (i, s) in TABLE.iter().enumerate() {
            let _ = s;
            assert_eq!(reloc_name(i as u32), TABLE[i].name);
        }
        assert_eq!(
            reloc_spec(elf::R_X86_64_PLT32).unwrap().name,
            "R_X86_64_PLT32"
        );
        assert_eq!(
            reloc_spec(elf::R_X86_64_REX_GOTPCRELX).unwrap().name,
            "R_X86_64_REX_GOTPCRELX"
        );
        assert_eq!(
            reloc_spec(elf::R_X86_64_GOTTPOFF).unwrap().name,
            "R_X86_64_GOTTPOFF"
        );
        assert!(reloc_spec(elf::R_X86_64_COPY).is_none());
        assert!(reloc_spec(200).is_none());
    }

    #[test]
    fn tlsdesc_lea_to_mov_any_register() {
        // lea x@tlsdesc(%rip),%rax → mov $x,%rax
        assert_eq!(tlsdesc_to_le(&[0x48, 0x8d, 0x05]), Some([0x48, 0xc7, 0xc0]));
        // %rdi
        assert_eq!(tlsdesc_to_le(&[0x48, 0x8d, 0x3d]), Some([0x48, 0xc7, 0xc7]));
        // %r12
        assert_eq!(tlsdesc_to_le(&[0x4c, 0x8d, 0x25]), Some([0x49, 0xc7, 0xc4]));
        // %r15
        assert_eq!(tlsdesc_to_le(&[0x4c, 0x8d, 0x3d]), Some([0x49, 0xc7, 0xc7]));
        // not RIP-relative, not a lea, no REX.W
        assert_eq!(tlsdesc_to_le(&[0x48, 0x8d, 0x45]), Option::None);
        assert_eq!(tlsdesc_to_le(&[0x48, 0x8b, 0x05]), Option::None);
        assert_eq!(tlsdesc_to_le(&[0x40, 0x8d, 0x05]), Option::None);
        assert_eq!(tlsdesc_to_le(&[0x8d, 0x05]), Option::None);
    }

    #[test]
    fn overflow_checks() {
        let mut f = [0u8; 4];
        assert!(write_field(&mut f, (-5i64) as u64, Signed));
        assert_eq!(i32::from_le_bytes(f), -5);
        assert!(!write_field(&mut f, 1 << 31, Signed));
        assert!(write_field(&mut f, (1 << 32) - 1, Unsigned));
        assert!(!write_field(&mut f, 1 << 32, Unsigned));
        assert!(!write_field(&mut f, (-1i64) as u64, Unsigned));
    }
}
