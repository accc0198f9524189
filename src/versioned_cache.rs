//! Values kept at the [data versions](crate::db::data_version) they were computed at: the bounded
//! store behind the [response cache](crate::response_cache) and the
//! [plan records cache](crate::evaluation::records_cache).
//!
//! Every value depends on the installation's version, and on one version of its municipality
//! (which one is the caller's choice). A value is served only at the versions it was stored at; a
//! newer installation version drops them all; a value computed at an older version than one
//! already seen is not stored. Bounded by a number of values and a total size (whatever the caller
//! measures: bytes, records); the oldest stored go first, and a value larger than the bound is
//! never kept.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Arc;

/// The values of one server process; not synchronised (its users hold it in a mutex).
pub struct VersionedCache<K, V> {
    installation: i64,
    /// Each value with the municipality version it was computed at, and its size.
    kept: HashMap<K, (i64, usize, Arc<V>)>,
    /// Keys in the order they were stored, oldest first.
    order: VecDeque<K>,
    size: usize,
    max_values: usize,
    max_size: usize,
}

impl<K: Copy + Eq + Hash, V> VersionedCache<K, V> {
    pub fn with_bounds(max_values: usize, max_size: usize) -> Self {
        Self { installation: 0, kept: HashMap::new(), order: VecDeque::new(), size: 0, max_values, max_size }
    }

    /// The value of `key` if it was stored at exactly these versions.
    pub fn get(&self, installation: i64, municipality: i64, key: &K) -> Option<Arc<V>> {
        if installation != self.installation {
            return None;
        }
        match self.kept.get(key) {
            Some((stored_at, _, value)) if *stored_at == municipality => Some(Arc::clone(value)),
            _ => None,
        }
    }

    /// Keeps `value`, computed at these versions, unless something newer is known.
    pub fn insert(&mut self, installation: i64, municipality: i64, key: K, value: Arc<V>, size: usize) {
        if size > self.max_size || self.max_values == 0 || installation < self.installation {
            // Too large, or computed before a write that another request has already seen.
            return;
        }
        if installation > self.installation {
            self.clear_for(installation);
        }
        if let Some((stored_at, _, _)) = self.kept.get(&key) {
            if *stored_at > municipality {
                // Computed before a write of its municipality that another request has seen.
                return;
            }
            self.remove(&key);
        }
        while self.kept.len() >= self.max_values || self.size + size > self.max_size {
            let Some(oldest) = self.order.front().copied() else { break };
            self.remove(&oldest);
        }
        self.size += size;
        self.order.push_back(key);
        self.kept.insert(key, (municipality, size, value));
    }

    /// How many values are kept, and their total size.
    pub fn usage(&self) -> (usize, usize) {
        (self.kept.len(), self.size)
    }

    fn clear_for(&mut self, installation: i64) {
        self.installation = installation;
        self.kept.clear();
        self.order.clear();
        self.size = 0;
    }

    fn remove(&mut self, key: &K) {
        if let Some((_, size, _)) = self.kept.remove(key) {
            self.size -= size;
            self.order.retain(|kept| kept != key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(max_values: usize, max_size: usize) -> VersionedCache<u8, &'static str> {
        VersionedCache::with_bounds(max_values, max_size)
    }

    #[test]
    fn a_value_is_served_only_at_the_versions_it_was_stored_at() {
        let mut kept = cache(4, 100);
        kept.insert(3, 7, 1, Arc::new("a"), 1);
        assert_eq!(kept.get(3, 7, &1).as_deref(), Some(&"a"));
        assert!(kept.get(3, 8, &1).is_none());
        assert!(kept.get(4, 7, &1).is_none());
        assert!(kept.get(3, 7, &2).is_none());
    }

    #[test]
    fn a_newer_installation_version_drops_everything_and_an_older_one_is_not_stored() {
        let mut kept = cache(4, 100);
        kept.insert(3, 0, 1, Arc::new("a"), 1);
        kept.insert(4, 0, 2, Arc::new("b"), 2);
        assert_eq!(kept.usage(), (1, 2));
        kept.insert(3, 0, 1, Arc::new("a"), 1);
        assert!(kept.get(3, 0, &1).is_none());
        assert_eq!(kept.usage(), (1, 2));
    }

    #[test]
    fn a_value_computed_before_a_newer_one_of_its_municipality_does_not_replace_it() {
        let mut kept = cache(4, 100);
        kept.insert(1, 5, 1, Arc::new("new"), 3);
        kept.insert(1, 4, 1, Arc::new("old"), 3);
        assert_eq!(kept.get(1, 5, &1).as_deref(), Some(&"new"));
        kept.insert(1, 6, 1, Arc::new("newer"), 5);
        assert_eq!(kept.get(1, 6, &1).as_deref(), Some(&"newer"));
        assert_eq!(kept.usage(), (1, 5), "the replaced value's size is given back");
    }

    #[test]
    fn the_oldest_go_first_when_a_bound_is_reached_and_a_value_over_the_size_bound_is_never_kept() {
        let mut kept = cache(2, 10);
        kept.insert(1, 0, 1, Arc::new("a"), 4);
        kept.insert(1, 0, 2, Arc::new("b"), 4);
        kept.insert(1, 0, 3, Arc::new("c"), 4);
        assert!(kept.get(1, 0, &1).is_none(), "two values at most");
        assert_eq!(kept.usage(), (2, 8));
        kept.insert(1, 0, 4, Arc::new("d"), 7);
        assert!(kept.get(1, 0, &2).is_none() && kept.get(1, 0, &3).is_none(), "10 units at most");
        assert_eq!(kept.usage(), (1, 7));
        kept.insert(1, 0, 5, Arc::new("e"), 11);
        assert!(kept.get(1, 0, &5).is_none());
        assert_eq!(kept.get(1, 0, &4).as_deref(), Some(&"d"), "what was kept stays");
    }
}
