//! rivet: a drop-in ELF linker whose every output table is written in
//! parallel. See docs/architecture.md; the passes are listed in `driver.rs`.
pub mod error;

pub mod gc;

pub mod apply;
pub mod arch;
pub mod args;
pub mod demangle;
pub mod driver;
pub mod dso;
pub mod dynamic;
pub mod ehframe;
pub mod exec_stack;
pub mod gnu_property;
pub mod got;
pub mod input;
pub mod layout;
pub mod mapfile;
pub mod mapped;
pub mod merge;
pub mod mode;
pub mod object;
pub mod output;
pub mod partition;
pub mod relocs;
pub mod resolve;
pub mod scaling;
pub mod segments;
pub mod symmap;
pub mod symtab;
pub mod symvals;
pub mod sync;
pub mod warnings;

pub use driver::{link, LinkStats};
pub use error::Error;
