//! `.note.gnu.property`: the inputs' `NT_GNU_PROPERTY_TYPE_0` notes merged
//! into one output note, as GNU ld 2.40 merges them (bfd's
//! `elf-properties.c` and, for the x86 types, `elfxx-x86.c`).
//!
//! Every loaded object counts, whether or not it has a note: an object
//! without `X86_FEATURE_1_AND` (crti.o, or assembly built without
//! `-mx86-used-note`) takes IBT and SHSTK away from the program, which is
//! what the kernel and glibc read from `PT_GNU_PROPERTY` to turn CET on.
//! The rules, by property type:
//!
//! - `*_UINT32_AND` (`X86_FEATURE_1_AND`): kept only if every object has
//!   it, the values ANDed; `-z ibt`/`-z shstk`/`-z lam-u48`/`-z lam-u57`
//!   force their bits in;
//! - `*_UINT32_OR` (`X86_ISA_1_NEEDED`, `GNU_PROPERTY_1_NEEDED`): ORed over
//!   the objects that have it; `-z x86-64-vN` adds its level;
//! - `X86_UINT32_OR_AND` (`X86_FEATURE_2_USED`, `X86_ISA_1_USED`): ORed,
//!   but kept only if every object has it;
//! - `STACK_SIZE`: the largest; `-z stack-size=N` raises it;
//!   `NO_COPY_ON_PROTECTED`: kept if any object has it;
//! - zero values of the AND and OR kinds are dropped.
//!
//! As in GNU ld, properties are read from the GNU notes of every `SHT_NOTE`
//! section, but only an object with a `.note.gnu.property` section can
//! hold the output note, and every input `.note.gnu.property` is replaced
//! by the merged one. Corrupt notes get GNU ld's messages (printed even
//! under `-w`, never fatal, as GNU ld prints them) and the object counts as
//! having no properties. Unlike GNU ld, rivet never copies such a corrupt
//! input note into the output.
//!
//! The whole note is built here, before layout: its bytes are its size
//! (one source of truth), and the write phase copies them.

use crate::args::Args;
pub use crate::args::{PropertyOptions as Options, Report};
use crate::error::Result;
use crate::input::object::ObjectFile;
use crate::resolve::Resolution;
use object::elf;
use rayon::prelude::*;

/// The output section's name.
pub const SECTION: &[u8] = b".note.gnu.property";

const FEATURE_IBT: u32 = elf::GNU_PROPERTY_X86_FEATURE_1_IBT;
const FEATURE_SHSTK: u32 = elf::GNU_PROPERTY_X86_FEATURE_1_SHSTK;
const FEATURE_LAM_U48: u32 = 1 << 2;
const FEATURE_LAM_U57: u32 = 1 << 3;
/// The older x86 ISA properties GNU ld still merges.
const X86_COMPAT_ISA_1_USED: u32 = 0xc000_0000;
const X86_COMPAT_ISA_1_NEEDED: u32 = 0xc000_0001;

/// One property of a file: a number (NO_COPY_ON_PROTECTED has no data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Prop {
    ty: u32,
    value: u64,
}

/// What one object says: its properties sorted by type, as GNU ld keeps
/// them, and whether it has a `.note.gnu.property` section.
#[derive(Debug, Default, Clone)]
struct FileProps {
    props: Vec<Prop>,
    has_section: bool,
    /// GNU ld's messages about corrupt notes, in the order it prints them.
    messages: Vec<String>,
}

impl FileProps {
    /// The property of type `ty`, created with value 0 if missing.
    fn get(&mut self, ty: u32) -> &mut Prop {
        let i = match self.props.binary_search_by_key(&ty, |p| p.ty) {
            Ok(i) => i,
            Err(i) => {
                self.props.insert(i, Prop { ty, value: 0 });
                i
            }
        };
        &mut self.props[i]
    }

    fn find(&self, ty: u32) -> Option<u64> {
        self.props.iter().find(|p| p.ty == ty).map(|p| p.value)
    }
}

/// What the merge decided.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The output `.note.gnu.property` (note header and properties); empty
    /// when the output has none.
    pub note: Vec<u8>,
    /// IFUNC stubs get GNU ld's IBT form (`endbr64` first): `-z ibt`,
    /// `-z ibtplt`, or IBT in the merged `X86_FEATURE_1_AND`.
    pub ibt_plt: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// x86 `COMPAT_ISA_1_USED` and `UINT32_OR_AND`.
    X86OrAnd,
    /// x86 `COMPAT_ISA_1_NEEDED` and `UINT32_OR`.
    X86Or,
    X86And,
    StackSize,
    NoCopyOnProtected,
    Or,
    And,
}

fn kind(ty: u32) -> Option<Kind> {
    use elf::*;
    Some(match ty {
        X86_COMPAT_ISA_1_USED => Kind::X86OrAnd,
        X86_COMPAT_ISA_1_NEEDED => Kind::X86Or,
        GNU_PROPERTY_X86_UINT32_AND_LO..=GNU_PROPERTY_X86_UINT32_AND_HI => Kind::X86And,
        GNU_PROPERTY_X86_UINT32_OR_LO..=GNU_PROPERTY_X86_UINT32_OR_HI => Kind::X86Or,
        GNU_PROPERTY_X86_UINT32_OR_AND_LO..=GNU_PROPERTY_X86_UINT32_OR_AND_HI => Kind::X86OrAnd,
        GNU_PROPERTY_STACK_SIZE => Kind::StackSize,
        GNU_PROPERTY_NO_COPY_ON_PROTECTED => Kind::NoCopyOnProtected,
        GNU_PROPERTY_UINT32_AND_LO..=GNU_PROPERTY_UINT32_AND_HI => Kind::And,
        GNU_PROPERTY_UINT32_OR_LO..=GNU_PROPERTY_UINT32_OR_HI => Kind::Or,
        _ => return None,
    })
}

/// The data size of a property in the output (ELFCLASS64).
fn datasz(ty: u32) -> usize {
    match ty {
        elf::GNU_PROPERTY_STACK_SIZE => 8,
        elf::GNU_PROPERTY_NO_COPY_ON_PROTECTED => 0,
        _ => 4,
    }
}

/// C's `%#lx`: `0` for zero, else `0x...`.
fn c_alt_hex(v: u64) -> String {
    if v == 0 {
        "0".to_owned()
    } else {
        format!("{v:#x}")
    }
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Reads the GNU property notes of every `SHT_NOTE` section of `obj`, as
/// bfd's `elf_parse_notes` does when it opens the file: a note whose frame
/// overruns its section ends that section's reading silently.
fn parse_file(obj: &ObjectFile) -> FileProps {
    let mut fp = FileProps::default();
    for s in &obj.sections {
        if s.name == SECTION {
            fp.has_section = true;
        }
        if s.sh_type != elf::SHT_NOTE || s.data.is_empty() {
            continue;
        }
        let align = s.align.max(4);
        if align != 4 && align != 8 {
            continue;
        }
        let (buf, align) = (s.data, align as usize);
        let up = |v: usize| v.checked_add(align - 1).map(|v| v & !(align - 1));
        let mut p = 0usize;
        while p < buf.len() {
            if buf.len() - p < 12 {
                break;
            }
            let (Some(namesz), Some(descsz), Some(ty)) =
                (u32_at(buf, p), u32_at(buf, p + 4), u32_at(buf, p + 8))
            else {
                break;
            };
            let (namesz, descsz) = (namesz as usize, descsz as usize);
            if namesz > buf.len() - (p + 12) {
                break;
            }
            let Some(desc) = up(12 + namesz).and_then(|d| d.checked_add(p)) else {
                break;
            };
            if descsz != 0 && (desc >= buf.len() || descsz > buf.len() - desc) {
                break;
            }
            let name = &buf[p + 12..p + 12 + namesz];
            // An empty descriptor may start past the section's end.
            let data = buf.get(desc..desc + descsz).unwrap_or(&[]);
            if name == b"GNU\0"
                && ty == elf::NT_GNU_PROPERTY_TYPE_0
                && !parse_properties(obj, data, &mut fp)
            {
                break;
            }
            match up(desc - p + descsz).and_then(|n| p.checked_add(n)) {
                Some(next) => p = next,
                None => break,
            }
        }
    }
    fp
}

/// One `NT_GNU_PROPERTY_TYPE_0` descriptor, as bfd's
/// `_bfd_elf_parse_gnu_properties` reads it, with its messages. False when
/// the note is corrupt (and then, for most corruptions, the file's
/// properties are all dropped, as GNU ld drops them).
fn parse_properties(obj: &ObjectFile, desc: &[u8], fp: &mut FileProps) -> bool {
    let file = &obj.name;
    let note = elf::NT_GNU_PROPERTY_TYPE_0;
    if desc.len() < 8 || !desc.len().is_multiple_of(8) {
        fp.messages.push(format!(
            "rivet: warning: {file}: corrupt GNU_PROPERTY_TYPE ({note}) size: {}",
            c_alt_hex(desc.len() as u64)
        ));
        return false;
    }
    let mut p = 0usize;
    while p != desc.len() {
        // Whole 8-byte steps through a multiple of 8: a header always fits.
        let (Some(ty), Some(sz)) = (u32_at(desc, p), u32_at(desc, p + 4)) else {
            return false;
        };
        p += 8;
        let sz = sz as usize;
        if sz > desc.len() - p {
            fp.messages.push(format!(
                "rivet: warning: {file}: corrupt GNU_PROPERTY_TYPE ({note}) type ({ty:#x}) datasz: {sz:#x}"
            ));
            fp.props.clear();
            return false;
        }
        let data = &desc[p..p + sz];
        let corrupt = |fp: &mut FileProps, msg: String| {
            fp.messages.push(msg);
            fp.props.clear();
            false
        };
        match kind(ty) {
            Some(Kind::X86And | Kind::X86Or | Kind::X86OrAnd) => {
                if sz != 4 {
                    return corrupt(
                        fp,
                        format!(
                            "rivet: error: {file}: <corrupt x86 property ({ty:#x}) size: {sz:#x}>"
                        ),
                    );
                }
                fp.get(ty).value |= u64::from(u32_at(data, 0).unwrap_or(0));
            }
            Some(Kind::StackSize) => {
                if sz != 8 {
                    return corrupt(
                        fp,
                        format!("rivet: warning: {file}: corrupt stack size: {sz:#x}"),
                    );
                }
                let v = u64::from_le_bytes(data.try_into().unwrap_or([0; 8]));
                fp.get(ty).value = v;
            }
            Some(Kind::NoCopyOnProtected) => {
                if sz != 0 {
                    return corrupt(
                        fp,
                        format!(
                            "rivet: warning: {file}: corrupt no copy on protected size: {sz:#x}"
                        ),
                    );
                }
                fp.get(ty);
            }
            Some(Kind::And | Kind::Or) => {
                if sz != 4 {
                    return corrupt(
                        fp,
                        format!("rivet: error: {file}: <corrupt property ({ty:#x}) size: {sz:#x}>"),
                    );
                }
                fp.get(ty).value |= u64::from(u32_at(data, 0).unwrap_or(0));
            }
            None => fp.messages.push(format!(
                "rivet: warning: {file}: unsupported GNU_PROPERTY_TYPE ({note}) type: {ty:#x}"
            )),
        }
        p += sz.next_multiple_of(8);
    }
    true
}

/// The bits `-z ibt`, `-z shstk`, `-z lam-u48` and `-z lam-u57` force into
/// `X86_FEATURE_1_AND`.
fn forced_features(o: &Options) -> u32 {
    let mut f = 0;
    if o.ibt {
        f |= FEATURE_IBT;
    }
    if o.shstk {
        f |= FEATURE_SHSTK;
    }
    if o.lam_u48 {
        f |= FEATURE_LAM_U48 | FEATURE_LAM_U57;
    } else if o.lam_u57 {
        f |= FEATURE_LAM_U57;
    }
    f
}

/// The `X86_ISA_1_NEEDED` bit of `-z x86-64-*`.
fn isa_bit(level: u32) -> u32 {
    match level {
        1..=4 => 1 << (level - 1),
        _ => 0,
    }
}

/// The merged value of a property that one side has as `a` and the other
/// as `b` (`None`: does not have it); `None` if the output leaves it out.
/// GNU ld's `elf_merge_gnu_properties` and `_bfd_x86_elf_merge_gnu_properties`.
fn merge_values(ty: u32, a: Option<u64>, b: Option<u64>, o: &Options) -> Option<u64> {
    let nonzero = |v: u64| (v != 0).then_some(v);
    match kind(ty)? {
        Kind::X86OrAnd => Some(a? | b?),
        Kind::X86Or => {
            let f = if ty == elf::GNU_PROPERTY_X86_ISA_1_NEEDED {
                u64::from(isa_bit(o.isa_level))
            } else {
                0
            };
            nonzero(a.unwrap_or(0) | b.unwrap_or(0) | f)
        }
        Kind::X86And => {
            let f = if ty == elf::GNU_PROPERTY_X86_FEATURE_1_AND {
                u64::from(forced_features(o))
            } else {
                0
            };
            match (a, b) {
                (Some(a), Some(b)) => nonzero(a & b | f),
                _ => nonzero(f),
            }
        }
        Kind::StackSize => Some(a.unwrap_or(0).max(b.unwrap_or(0))),
        Kind::NoCopyOnProtected => Some(0),
        Kind::Or => match (a, b) {
            (Some(a), Some(b)) => nonzero(a | b),
            (Some(v), None) | (None, Some(v)) => nonzero(v),
            (None, None) => None,
        },
        Kind::And => match (a, b) {
            (Some(a), Some(b)) => nonzero(a & b),
            _ => None,
        },
    }
}

/// GNU ld's `elf_merge_gnu_property_list`: `first`'s properties merged
/// with `other`'s (which may have none).
fn merge_into(first: &mut Vec<Prop>, other: &[Prop], o: &Options) {
    let mut merged: Vec<Prop> = Vec::with_capacity(first.len() + other.len());
    let (mut i, mut j) = (0, 0);
    while i < first.len() || j < other.len() {
        let (ty, a, b) = match (first.get(i), other.get(j)) {
            (Some(x), Some(y)) if x.ty == y.ty => {
                i += 1;
                j += 1;
                (x.ty, Some(x.value), Some(y.value))
            }
            (Some(x), Some(y)) if y.ty < x.ty => {
                j += 1;
                (y.ty, None, Some(y.value))
            }
            (Some(x), _) => {
                i += 1;
                (x.ty, Some(x.value), None)
            }
            (None, Some(y)) => {
                j += 1;
                (y.ty, None, Some(y.value))
            }
            (None, None) => break,
        };
        if let Some(value) = merge_values(ty, a, b, o) {
            merged.push(Prop { ty, value });
        }
    }
    *first = merged;
}

/// Reads every loaded object's properties, reports what `-z cet-report`
/// and the LAM reports ask for, and merges them into the output note.
/// Messages about corrupt notes are printed here, in input order.
pub fn merge(args: &Args, res: &Resolution) -> Result<Merged> {
    let o = &args.gnu_property;
    let mut files: Vec<FileProps> = res.objects.par_iter().map(parse_file).collect();
    for f in &files {
        for m in &f.messages {
            eprintln!("{m}");
        }
    }
    // `_bfd_x86_elf_link_setup_gnu_properties`: the forced bits go to the
    // first object with properties, else to the last one, which then
    // holds the output note.
    let features = forced_features(o);
    let isa = isa_bit(o.isa_level);
    let first_with = files.iter().position(|f| !f.props.is_empty());
    if let Some(e) = first_with.or(files.len().checked_sub(1)) {
        let ebfd = &mut files[e];
        if features != 0 {
            ebfd.get(elf::GNU_PROPERTY_X86_FEATURE_1_AND).value |= u64::from(features);
        }
        if isa != 0 {
            ebfd.get(elf::GNU_PROPERTY_X86_ISA_1_NEEDED).value |= u64::from(isa);
        }
        if (features != 0 || isa != 0) && first_with.is_none() {
            ebfd.has_section = true;
        }
    }
    report_missing(args, res, &files)?;

    let Some(first) = files
        .iter()
        .position(|f| !f.props.is_empty() && f.has_section)
    else {
        return Ok(Merged {
            note: Vec::new(),
            ibt_plt: o.ibt || o.ibtplt,
        });
    };
    let mut props = std::mem::take(&mut files[first].props);
    for (i, f) in files.iter().enumerate() {
        if i != first {
            merge_into(&mut props, &f.props, o);
        }
    }
    if o.stack_size > 0 {
        let mut fp = FileProps {
            props,
            ..FileProps::default()
        };
        let p = fp.get(elf::GNU_PROPERTY_STACK_SIZE);
        p.value = p.value.max(o.stack_size);
        props = fp.props;
    }
    // `_bfd_x86_elf_link_fixup_gnu_properties`: empty AND and OR
    // properties go.
    props.retain(|p| p.value != 0 || !matches!(kind(p.ty), Some(Kind::X86And | Kind::X86Or)));
    let ibt = props.iter().any(|p| {
        p.ty == elf::GNU_PROPERTY_X86_FEATURE_1_AND && p.value & u64::from(FEATURE_IBT) != 0
    });
    Ok(Merged {
        note: encode(&props),
        ibt_plt: o.ibt || o.ibtplt || ibt,
    })
}

/// `-z cet-report=` and `-z lam-*-report=`: each object whose
/// `X86_FEATURE_1_AND` lacks a bit asked for, in GNU ld's words. A bit
/// forced by `-z ibt` (etc.) is not reported. Warnings go through
/// [`crate::resolve::warnings::report`]; errors fail the link once all are printed.
fn report_missing(args: &Args, res: &Resolution, files: &[FileProps]) -> Result<()> {
    let o = &args.gnu_property;
    let cet = o.cet_report;
    let check_ibt = cet != Report::None && !o.ibt;
    let check_shstk = cet != Report::None && !o.shstk;
    let u48 = if o.lam_u48 {
        Report::None
    } else {
        o.lam_u48_report
    };
    let u57 = if o.lam_u48 || o.lam_u57 {
        Report::None
    } else {
        o.lam_u57_report
    };
    if !check_ibt && !check_shstk && u48 == Report::None && u57 == Report::None {
        return Ok(());
    }
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    let mut say = |how: Report, file: &str, what: &str| match how {
        Report::Warning => warnings.push(format!("rivet: {file}: warning: missing {what}")),
        Report::Error => errors.push(format!("rivet: {file}: error: missing {what}")),
        Report::None => {}
    };
    for (obj, f) in res.objects.iter().zip(files) {
        let v = f.find(elf::GNU_PROPERTY_X86_FEATURE_1_AND).unwrap_or(0) as u32;
        let no_ibt = check_ibt && v & FEATURE_IBT == 0;
        let no_shstk = check_shstk && v & FEATURE_SHSTK == 0;
        let what = match (no_ibt, no_shstk) {
            (true, true) => Some("IBT and SHSTK properties"),
            (true, false) => Some("IBT property"),
            (false, true) => Some("SHSTK property"),
            (false, false) => None,
        };
        if let Some(what) = what {
            say(cet, &obj.name, what);
        }
        if v & FEATURE_LAM_U48 == 0 {
            say(u48, &obj.name, "LAM_U48 property");
        }
        if v & FEATURE_LAM_U57 == 0 {
            say(u57, &obj.name, "LAM_U57 property");
        }
    }
    crate::resolve::warnings::report(args, &warnings)?;
    if !errors.is_empty() {
        return Err(crate::error::Error(errors.join("\n")));
    }
    Ok(())
}

/// The note: `namesz`, `descsz`, `NT_GNU_PROPERTY_TYPE_0`, "GNU", then each
/// property (type, data size, data) padded to 8 bytes, sorted by type.
fn encode(props: &[Prop]) -> Vec<u8> {
    if props.is_empty() {
        return Vec::new();
    }
    let mut desc = Vec::new();
    for p in props {
        let sz = datasz(p.ty);
        desc.extend_from_slice(&p.ty.to_le_bytes());
        desc.extend_from_slice(&(sz as u32).to_le_bytes());
        desc.extend_from_slice(&p.value.to_le_bytes()[..sz]);
        desc.resize(desc.len().next_multiple_of(8), 0);
    }
    let mut note = Vec::with_capacity(16 + desc.len());
    note.extend_from_slice(&4u32.to_le_bytes());
    note.extend_from_slice(&(desc.len() as u32).to_le_bytes());
    note.extend_from_slice(&elf::NT_GNU_PROPERTY_TYPE_0.to_le_bytes());
    note.extend_from_slice(b"GNU\0");
    note.extend_from_slice(&desc);
    note
}

#[cfg(test)]
mod tests {
    use super::*;

    const AND: u32 = elf::GNU_PROPERTY_X86_FEATURE_1_AND;
    const NEEDED: u32 = elf::GNU_PROPERTY_X86_ISA_1_NEEDED;
    const USED2: u32 = 0xc001_0001;

    fn props(v: &[(u32, u64)]) -> Vec<Prop> {
        v.iter().map(|&(ty, value)| Prop { ty, value }).collect()
    }

    fn merged(lists: &[&[(u32, u64)]], o: &Options) -> Vec<Prop> {
        let mut first = props(lists[0]);
        for l in &lists[1..] {
            merge_into(&mut first, &props(l), o);
        }
        first
    }

    #[test]
    fn and_needs_every_input_or_does_not() {
        let o = Options::default();
        assert_eq!(merged(&[&[(AND, 3)], &[(AND, 2)]], &o), props(&[(AND, 2)]));
        assert_eq!(merged(&[&[(AND, 3)], &[]], &o), props(&[]));
        assert_eq!(merged(&[&[(AND, 1)], &[(AND, 2)]], &o), props(&[]));
        assert_eq!(
            merged(&[&[(NEEDED, 1)], &[], &[(NEEDED, 2)]], &o),
            props(&[(NEEDED, 3)])
        );
        assert_eq!(
            merged(&[&[(USED2, 1)], &[(USED2, 2)]], &o),
            props(&[(USED2, 3)])
        );
        assert_eq!(merged(&[&[(USED2, 1)], &[]], &o), props(&[]));
        assert_eq!(merged(&[&[], &[(USED2, 1)]], &o), props(&[]));
    }

    #[test]
    fn forced_bits_survive_inputs_without_them() {
        let o = Options {
            ibt: true,
            ..Options::default()
        };
        assert_eq!(merged(&[&[(AND, 3)], &[(AND, 2)]], &o), props(&[(AND, 3)]));
        assert_eq!(merged(&[&[(AND, 3)], &[]], &o), props(&[(AND, 1)]));
        assert_eq!(merged(&[&[], &[(AND, 2)]], &o), props(&[(AND, 1)]));
    }

    #[test]
    fn stack_size_and_generic_kinds() {
        let o = Options::default();
        let ss = elf::GNU_PROPERTY_STACK_SIZE;
        let nc = elf::GNU_PROPERTY_NO_COPY_ON_PROTECTED;
        let n1 = elf::GNU_PROPERTY_1_NEEDED;
        assert_eq!(
            merged(&[&[(ss, 10)], &[], &[(ss, 30), (nc, 0)], &[(ss, 20)]], &o),
            props(&[(ss, 30), (nc, 0)])
        );
        assert_eq!(merged(&[&[(n1, 1)], &[]], &o), props(&[(n1, 1)]));
        assert_eq!(merged(&[&[(n1, 0)], &[]], &o), props(&[]));
        assert_eq!(merged(&[&[(0xb000_0001, 1)], &[]], &o), props(&[]));
    }

    #[test]
    fn note_layout() {
        let n = encode(&props(&[(AND, 3), (elf::GNU_PROPERTY_STACK_SIZE, 0x1000)]));
        assert_eq!(n.len(), 16 + 16 + 16);
        assert_eq!(&n[12..16], b"GNU\0");
        assert_eq!(u32_at(&n, 4), Some(32));
        assert!(encode(&[]).is_empty());
    }

    #[test]
    fn c_hex_of_zero() {
        assert_eq!(c_alt_hex(0), "0");
        assert_eq!(c_alt_hex(12), "0xc");
    }
}
