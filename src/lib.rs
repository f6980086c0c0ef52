//! rivet: a drop-in ELF linker whose every output table is written in parallel.
pub mod partition;
pub mod sync;
