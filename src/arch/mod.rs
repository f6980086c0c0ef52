//! Per-architecture relocation semantics. Each architecture describes every
//! relocation type once, in a table; scanning (what GOT/PLT entries a
//! relocation needs), applying (what bytes it writes) and emitting (what
//! records it becomes under `-r`/`--emit-relocs`) all read that one entry.
pub mod x86_64;
