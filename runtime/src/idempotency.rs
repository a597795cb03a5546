//! An idempotency store: the first result for a key is the only one.
//!
//! Guarantees:
//! - For one key, the operation runs at most once while the key is kept. A
//!   later call with the key gets a clone of the first result without running
//!   anything; a concurrent call waits for the first one and gets its result.
//! - If the first call is dropped (cancelled, or it panicked) before it
//!   finished, whether its side effect happened is unknown, so the key is
//!   kept as abandoned: waiting and later callers get
//!   [`IdempotencyError::Abandoned`] until the TTL passes, never a second run.
//! - A finished (or abandoned) key is kept for `ttl` after it finished, then
//!   forgotten: a call after that runs again.
//! - The store never holds more than `capacity` keys. A new key first drops
//!   expired ones, then evicts the oldest finished key. A running key is never
//!   evicted (that would let a duplicate run): when every key is running, the
//!   new call is refused with [`IdempotencyError::Full`].
//!
//! Scope keys to what they protect (the tool and the caller as well as the
//! client's key), and size the store for the window in which clients retry:
//! a key evicted early is forgotten early.
//!
//! Hand-written: cache crates (moka and the like) coalesce concurrent loads,
//! but evict by their own policy, bound size only eventually, and know
//! nothing of abandoned runs; here the bound and "never twice" are exact.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// Why a call got no result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdempotencyError {
    /// The first call with this key was cancelled before it finished; its
    /// outcome is unknown, so the operation is not run again.
    #[error(
        "an earlier request with this idempotency key was interrupted; its outcome is unknown"
    )]
    Abandoned,
    /// Every slot holds a call still running.
    #[error("too many requests in progress")]
    Full,
}

enum Slot<V> {
    Running(watch::Receiver<Option<V>>),
    Done { value: V, expires: Instant },
    Abandoned { expires: Instant },
}

struct Entry<V> {
    seq: u64,
    slot: Slot<V>,
}

impl<V> Entry<V> {
    fn expired(&self, now: Instant) -> bool {
        match self.slot {
            Slot::Running(_) => false,
            Slot::Done { expires, .. } | Slot::Abandoned { expires } => now >= expires,
        }
    }
}

struct Inner<K, V> {
    entries: HashMap<K, Entry<V>>,
    /// Keys in the order they were inserted, with the entry's `seq`; records
    /// whose entry is gone or newer are skipped and compacted away.
    order: VecDeque<(K, u64)>,
    next_seq: u64,
}

/// Remembers the first result per key. `V` is what the operation returns,
/// usually a `Result` whose error is `Clone`.
pub struct IdempotencyStore<K, V> {
    ttl: Duration,
    capacity: usize,
    inner: Mutex<Inner<K, V>>,
}

impl<K, V> std::fmt::Debug for IdempotencyStore<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdempotencyStore")
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

enum Action<V> {
    Replay(V),
    Wait(watch::Receiver<Option<V>>),
    Run(watch::Sender<Option<V>>, u64),
}

/// Marks the key abandoned unless the run completes.
struct RunGuard<'a, K: Hash + Eq + Clone, V: Clone> {
    store: &'a IdempotencyStore<K, V>,
    key: Option<K>,
    seq: u64,
    tx: watch::Sender<Option<V>>,
}

impl<K: Hash + Eq + Clone, V: Clone> RunGuard<'_, K, V> {
    fn complete(mut self, value: V) {
        let key = self.key.take().expect("completed once");
        self.store.finish(&key, self.seq, Some(value.clone()));
        self.tx.send_replace(Some(value));
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Drop for RunGuard<'_, K, V> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.store.finish(&key, self.seq, None);
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> IdempotencyStore<K, V> {
    /// A store keeping each key `ttl` after it finished, at most `capacity`
    /// keys (at least 1).
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                order: VecDeque::new(),
                next_seq: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<K, V>> {
        // Every critical section leaves the maps consistent before it can
        // panic, so a poisoned lock holds good data.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The most keys it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Keys held now (running, finished or abandoned), expired ones dropped.
    pub fn len(&self) -> usize {
        let mut inner = self.lock();
        Self::purge_expired(&mut inner, Instant::now());
        inner.entries.len()
    }

    /// Whether it holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The finished result for `key`, if it is kept.
    pub fn get(&self, key: &K) -> Option<V> {
        let inner = self.lock();
        match inner.entries.get(key) {
            Some(e) if !e.expired(Instant::now()) => match &e.slot {
                Slot::Done { value, .. } => Some(value.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    /// Forgets a finished or abandoned key, so the next call with it runs
    /// (use it when the result says the side effect did not happen). A
    /// running key is kept; returns whether a key was forgotten.
    pub fn forget(&self, key: &K) -> bool {
        let mut inner = self.lock();
        if matches!(
            inner.entries.get(key),
            Some(Entry {
                slot: Slot::Running(_),
                ..
            }) | None
        ) {
            return false;
        }
        inner.entries.remove(key);
        true
    }

    /// Runs `op` for `key` unless the key already has (or is producing) a
    /// result, in which case that result is returned and `op` is not run.
    ///
    /// A caller that finds the key running waits for it; bound that wait
    /// with the invocation's deadline.
    pub async fn run<Fut>(&self, key: K, op: impl FnOnce() -> Fut) -> Result<V, IdempotencyError>
    where
        Fut: Future<Output = V>,
    {
        match self.admit(&key)? {
            Action::Replay(v) => Ok(v),
            Action::Wait(mut rx) => match rx.wait_for(Option::is_some).await {
                Ok(v) => Ok(v.clone().expect("waited for Some")),
                Err(_) => Err(IdempotencyError::Abandoned),
            },
            Action::Run(tx, seq) => {
                let guard = RunGuard {
                    store: self,
                    key: Some(key),
                    seq,
                    tx,
                };
                let value = op().await;
                guard.complete(value.clone());
                Ok(value)
            }
        }
    }

    fn admit(&self, key: &K) -> Result<Action<V>, IdempotencyError> {
        let now = Instant::now();
        let mut inner = self.lock();
        if inner.entries.get(key).is_some_and(|e| e.expired(now)) {
            inner.entries.remove(key);
        }
        if let Some(e) = inner.entries.get(key) {
            return match &e.slot {
                Slot::Done { value, .. } => Ok(Action::Replay(value.clone())),
                Slot::Abandoned { .. } => Err(IdempotencyError::Abandoned),
                Slot::Running(rx) => Ok(Action::Wait(rx.clone())),
            };
        }
        if inner.entries.len() >= self.capacity {
            Self::purge_expired(&mut inner, now);
        }
        if inner.entries.len() >= self.capacity && !Self::evict_oldest_finished(&mut inner) {
            return Err(IdempotencyError::Full);
        }
        let seq = inner.next_seq;
        inner.next_seq += 1;
        let (tx, rx) = watch::channel(None);
        inner.entries.insert(
            key.clone(),
            Entry {
                seq,
                slot: Slot::Running(rx),
            },
        );
        inner.order.push_back((key.clone(), seq));
        if inner.order.len() > 2 * self.capacity {
            let Inner { entries, order, .. } = &mut *inner;
            order.retain(|(k, s)| entries.get(k).is_some_and(|e| e.seq == *s));
        }
        Ok(Action::Run(tx, seq))
    }

    fn finish(&self, key: &K, seq: u64, value: Option<V>) {
        let now = Instant::now();
        let expires = now
            .checked_add(self.ttl)
            .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365));
        let mut inner = self.lock();
        if let Some(e) = inner.entries.get_mut(key) {
            if e.seq == seq {
                e.slot = match value {
                    Some(value) => Slot::Done { value, expires },
                    None => Slot::Abandoned { expires },
                };
            }
        }
    }

    fn purge_expired(inner: &mut Inner<K, V>, now: Instant) {
        inner.entries.retain(|_, e| !e.expired(now));
    }

    fn evict_oldest_finished(inner: &mut Inner<K, V>) -> bool {
        let Inner { entries, order, .. } = inner;
        // Records for gone or replaced entries at the front are dead weight.
        while order
            .front()
            .is_some_and(|(k, s)| entries.get(k).is_none_or(|e| e.seq != *s))
        {
            order.pop_front();
        }
        let oldest = order.iter().position(|(k, s)| {
            entries
                .get(k)
                .is_some_and(|e| e.seq == *s && !matches!(e.slot, Slot::Running(_)))
        });
        match oldest {
            Some(i) => {
                let (k, _) = order.remove(i).expect("position is in range");
                entries.remove(&k);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_run() {
        let store = Arc::new(IdempotencyStore::<String, u32>::new(
            Duration::from_secs(60),
            10,
        ));
        let runs = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (store, runs) = (store.clone(), runs.clone());
            tasks.push(async move {
                store
                    .run("charge:alice:k1".to_owned(), || async {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        runs.fetch_add(1, Ordering::SeqCst) + 100
                    })
                    .await
            });
        }
        let results = futures_util::future::join_all(tasks).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(results.iter().all(|r| *r == Ok(100)), "{results:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_first_run_is_never_repeated() {
        let store = IdempotencyStore::<&str, u32>::new(Duration::from_secs(60), 10);
        let first = store.run("k", || async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            1
        });
        let r = tokio::time::timeout(Duration::from_millis(10), first).await;
        assert!(r.is_err());
        let r = store.run("k", || async { 2 }).await;
        assert_eq!(r, Err(IdempotencyError::Abandoned));
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(store.run("k", || async { 3 }).await, Ok(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_learns_of_abandonment() {
        let store = IdempotencyStore::<&str, u32>::new(Duration::from_secs(60), 10);
        let first = store.run("k", std::future::pending::<u32>);
        let second = store.run("k", || async { 2 });
        let (a, b) = tokio::join!(
            tokio::time::timeout(Duration::from_millis(10), first),
            second
        );
        assert!(a.is_err());
        assert_eq!(b, Err(IdempotencyError::Abandoned));
    }

    #[tokio::test(start_paused = true)]
    async fn running_keys_are_never_evicted() {
        let store = IdempotencyStore::<u32, u32>::new(Duration::from_secs(60), 1);
        let running = store.run(1, || async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            1
        });
        let other = async {
            tokio::task::yield_now().await;
            store.run(2, || async { 2 }).await
        };
        let (a, b) = tokio::join!(running, other);
        assert_eq!(a, Ok(1));
        assert_eq!(b, Err(IdempotencyError::Full));
        assert_eq!(store.run(2, || async { 2 }).await, Ok(2));
        assert_eq!(store.get(&1), None, "evicted for 2");
    }

    #[tokio::test(start_paused = true)]
    async fn forget_lets_a_key_run_again() {
        let store = IdempotencyStore::<u32, u32>::new(Duration::from_secs(60), 4);
        assert_eq!(store.run(1, || async { 1 }).await, Ok(1));
        assert_eq!(store.get(&1), Some(1));
        assert!(store.forget(&1));
        assert!(!store.forget(&1));
        assert_eq!(store.run(1, || async { 5 }).await, Ok(5));
    }
}
