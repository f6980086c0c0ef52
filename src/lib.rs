//! rivet: a drop-in ELF linker whose every output table is written in
//! parallel. See docs/architecture.md; the passes are listed in `driver.rs`.
pub mod arch;
pub mod args;
pub mod demangle;
pub mod driver;
pub mod error;
pub mod input;
pub mod layout;
pub mod mapped;
pub mod oom;
pub mod partition;
pub mod resolve;
pub mod run;
pub mod scaling;
pub mod signals;
pub mod symmap;
pub mod sync;
pub mod write;

pub use driver::{link, LinkStats};
pub use error::Error;
