//! The tables of a dynamic output: `.dynsym`, `.dynstr`, the hash and
//! version tables, `.rela.dyn`, `.rela.plt`, the lazy `.plt` and
//! `.dynamic`. [`plan`] counts what each holds before layout; [`write`]
//! fills the slices the layout gave them.

pub mod gnu_hash;
pub mod plan;
pub mod relr;
pub mod tables;
pub mod write;

pub use plan::{DynPlan, RelaUnit};

/// What the hash and RELR writers' tests share: a pool of a given size
/// and a deterministic generator, so failures reproduce.
#[cfg(test)]
pub(crate) mod testing {
    pub fn pool(n: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
    }

    /// xorshift64.
    pub struct Rng(pub u64);

    impl Rng {
        pub fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        pub fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }
}
