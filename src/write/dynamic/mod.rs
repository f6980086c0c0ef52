//! The tables of a dynamic output: `.dynsym`, `.dynstr`, the hash and
//! version tables, `.rela.dyn`, `.rela.plt`, the lazy `.plt` and
//! `.dynamic`. [`plan`] counts what each holds before layout; [`write`]
//! fills the slices the layout gave them.

pub mod gnu_hash;
pub mod plan;
pub mod relr;
pub mod write;

pub use plan::{DynPlan, RelaUnit};
