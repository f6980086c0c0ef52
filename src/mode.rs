//! What kind of file the link makes, decided once the inputs are resolved:
//! every later phase asks this rather than the command line, because
//! whether an executable is dynamic depends on the inputs (a shared object
//! among them makes it so, as with GNU ld).

use crate::args::{Args, OutputKind};
use crate::resolve::Resolution;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    /// `-r`.
    Relocatable,
    /// An executable with no shared object and no `-pie`: everything is
    /// resolved at link time; no `.dynamic`, no interpreter.
    Static,
    /// A position-independent executable (`-pie`), loaded at an address
    /// the kernel picks: absolute addresses need `R_X86_64_RELATIVE`.
    Pie,
    /// A dynamically linked executable at a fixed address (`-no-pie` with
    /// shared objects).
    NonPie,
}

impl OutputMode {
    pub fn decide(args: &Args, res: &Resolution) -> OutputMode {
        match args.kind {
            OutputKind::Relocatable => OutputMode::Relocatable,
            OutputKind::StaticExe if args.pie => OutputMode::Pie,
            OutputKind::StaticExe if !res.dsos.is_empty() => OutputMode::NonPie,
            OutputKind::StaticExe => OutputMode::Static,
        }
    }
    /// The output has `.dynamic`, `.dynsym` and an interpreter.
    pub fn is_dynamic(self) -> bool {
        matches!(self, OutputMode::Pie | OutputMode::NonPie)
    }
    pub fn is_exe(self) -> bool {
        self != OutputMode::Relocatable
    }
    /// Where the first segment starts: a PIE is linked at 0.
    pub fn base_addr(self) -> u64 {
        match self {
            OutputMode::Pie => 0,
            _ => crate::layout::BASE_ADDR,
        }
    }
}
