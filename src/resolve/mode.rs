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
    /// A PIE without a dynamic loader (`-static-pie`,
    /// `--no-dynamic-linker`): it applies its own `.rela.dyn` at startup,
    /// and no symbol is looked up at run time.
    StaticPie,
    /// A shared object (`-shared`): position-independent, and its
    /// exported definitions may be interposed by other modules (see
    /// [`crate::resolve::GlobalSymbol::preemptible`]).
    Shared,
}

impl OutputMode {
    pub fn decide(args: &Args, res: &Resolution) -> OutputMode {
        match args.kind {
            OutputKind::Relocatable => OutputMode::Relocatable,
            OutputKind::Shared => OutputMode::Shared,
            OutputKind::StaticExe if args.pie && args.no_dynamic_linker && res.dsos.is_empty() => {
                OutputMode::StaticPie
            }
            OutputKind::StaticExe if args.pie => OutputMode::Pie,
            OutputKind::StaticExe if !res.dsos.is_empty() => OutputMode::NonPie,
            OutputKind::StaticExe => OutputMode::Static,
        }
    }
    /// The output has `.dynamic`, `.dynsym` and an interpreter.
    pub fn is_dynamic(self) -> bool {
        matches!(
            self,
            OutputMode::Pie | OutputMode::NonPie | OutputMode::StaticPie | OutputMode::Shared
        )
    }
    /// Loaded at an address chosen at run time: absolute addresses need
    /// RELATIVE records. (Shared objects too.)
    pub fn is_pie(self) -> bool {
        matches!(
            self,
            OutputMode::Pie | OutputMode::StaticPie | OutputMode::Shared
        )
    }
    /// An executable (not `-r`, not a shared object).
    pub fn is_executable(self) -> bool {
        !matches!(self, OutputMode::Relocatable | OutputMode::Shared)
    }
    /// A dynamic loader binds symbols at run time (there are shared
    /// objects, or may be): an undefined weak symbol is left to it.
    pub fn has_loader(self) -> bool {
        matches!(
            self,
            OutputMode::Pie | OutputMode::NonPie | OutputMode::Shared
        )
    }
    pub fn is_exe(self) -> bool {
        self != OutputMode::Relocatable
    }
}
