//! The global symbol table's name index. Names are hashed once, in
//! parallel, when their file is parsed; the serial resolution pass then
//! only probes with the precomputed hash.

/// A global symbol's index in the resolution's table.
pub type SymId = u32;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

pub fn hash_name(name: &[u8]) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(name);
    h.finish()
}

/// A byte string with its hash computed beforehand (in parallel, where the
/// strings are found), so that a map probe does not hash it again.
#[derive(Clone, Copy, Debug)]
pub struct Key<'a> {
    pub hash: u64,
    pub name: &'a [u8],
}

/// A map keyed by [`Key`], hashing with the key's own hash.
pub type PrehashedMap<'a, V> = HashMap<Key<'a>, V, BuildHasherDefault<PassThrough>>;

impl Hash for Key<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl PartialEq for Key<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.name == other.name
    }
}

impl Eq for Key<'_> {}

/// A hasher that passes a precomputed hash through.
#[derive(Default)]
pub struct PassThrough(u64);

impl Hasher for PassThrough {
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used by `Key`; fold anything else in anyway.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Default)]
pub struct SymbolMap<'a> {
    map: PrehashedMap<'a, SymId>,
}

impl<'a> SymbolMap<'a> {
    pub fn get(&self, name: &[u8]) -> Option<SymId> {
        self.get_hashed(name, hash_name(name))
    }

    pub fn get_hashed(&self, name: &[u8], hash: u64) -> Option<SymId> {
        // HashMap is covariant in its key, so the map can be viewed with the
        // (shorter) lifetime of `name` for the lookup.
        let map: &PrehashedMap<'_, SymId> = &self.map;
        map.get(&Key { hash, name }).copied()
    }

    pub fn insert(&mut self, name: &'a [u8], hash: u64, id: SymId) {
        self.map.insert(Key { hash, name }, id);
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
