//! Fail-closed authorization.
//!
//! Guarantees:
//! - Access is granted only when the check itself answered "allow" within
//!   its timeout. A check that errors or times out denies (a panic in the
//!   check propagates, and grants nothing either).
//! - A cached decision is used only until its TTL passes. After that the
//!   check runs again, and if it fails then the answer is deny: an expired
//!   "allow" is never a fallback.
//! - A failed check is not cached, so the next request asks again.
//! - The cache holds at most `capacity` decisions: expired ones go first,
//!   then the oldest.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

/// The answer to "may this caller do this?".
#[must_use = "a decision that is not looked at grants nothing"]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The check allowed it.
    Allow,
    /// Anything else.
    Deny(DenyReason),
}

/// Why access was denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyReason {
    /// The check said no.
    Denied,
    /// The check failed (the auth service erred): denied, fail-closed.
    CheckFailed,
    /// The check did not answer in time: denied, fail-closed.
    TimedOut,
}

/// Access denied; the message says nothing of why the check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("access denied")]
pub struct AccessDenied {
    pub reason: DenyReason,
}

impl Decision {
    /// Whether access is granted.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }

    /// `Ok(())` only for [`Decision::Allow`], for `?` in a handler.
    pub fn into_result(self) -> Result<(), AccessDenied> {
        match self {
            Decision::Allow => Ok(()),
            Decision::Deny(reason) => Err(AccessDenied { reason }),
        }
    }
}

/// Runs one check, failing closed: `Ok(true)` within `timeout` allows,
/// everything else denies.
pub async fn check<E, Fut>(timeout: Duration, check: Fut) -> Decision
where
    E: fmt::Display,
    Fut: Future<Output = Result<bool, E>>,
{
    match tokio::time::timeout(timeout, check).await {
        Ok(Ok(true)) => Decision::Allow,
        Ok(Ok(false)) => Decision::Deny(DenyReason::Denied),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "authorization check failed; denying");
            Decision::Deny(DenyReason::CheckFailed)
        }
        Err(_) => {
            tracing::warn!(?timeout, "authorization check timed out; denying");
            Decision::Deny(DenyReason::TimedOut)
        }
    }
}

struct Cached {
    allow: bool,
    stored: Instant,
    expires: Instant,
}

/// Fail-closed checks with a bounded cache of recent decisions.
pub struct Authorizer<K> {
    timeout: Duration,
    ttl: Duration,
    capacity: usize,
    cache: Mutex<HashMap<K, Cached>>,
}

impl<K> fmt::Debug for Authorizer<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorizer")
            .field("timeout", &self.timeout)
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone> Authorizer<K> {
    /// Checks get `timeout`; their answers are kept `ttl` (zero: never
    /// cached), at most `capacity` of them.
    pub fn new(timeout: Duration, ttl: Duration, capacity: usize) -> Self {
        Self {
            timeout,
            ttl,
            capacity,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, Cached>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached answer for `key`, if it has not expired.
    pub fn cached(&self, key: &K) -> Option<bool> {
        let now = Instant::now();
        self.lock()
            .get(key)
            .filter(|c| now < c.expires)
            .map(|c| c.allow)
    }

    /// Decides for `key` (say, user and action): a fresh cached answer, or
    /// else `check`, run fail-closed.
    pub async fn authorize<E, Fut>(&self, key: K, check_fn: impl FnOnce() -> Fut) -> Decision
    where
        E: fmt::Display,
        Fut: Future<Output = Result<bool, E>>,
    {
        if let Some(allow) = self.cached(&key) {
            return if allow {
                Decision::Allow
            } else {
                Decision::Deny(DenyReason::Denied)
            };
        }
        let decision = check(self.timeout, check_fn()).await;
        let answer = match decision {
            Decision::Allow => Some(true),
            Decision::Deny(DenyReason::Denied) => Some(false),
            Decision::Deny(_) => None,
        };
        let mut cache = self.lock();
        let now = Instant::now();
        match answer {
            Some(allow) if !self.ttl.is_zero() && self.capacity > 0 => {
                if !cache.contains_key(&key) && cache.len() >= self.capacity {
                    cache.retain(|_, c| now < c.expires);
                    if cache.len() >= self.capacity {
                        let oldest = cache
                            .iter()
                            .min_by_key(|(_, c)| c.stored)
                            .map(|(k, _)| k.clone());
                        if let Some(k) = oldest {
                            cache.remove(&k);
                        }
                    }
                }
                let expires = now.checked_add(self.ttl).unwrap_or(now);
                cache.insert(
                    key,
                    Cached {
                        allow,
                        stored: now,
                        expires,
                    },
                );
            }
            // A failed check leaves nothing behind, not even an old answer.
            _ => {
                cache.remove(&key);
            }
        }
        decision
    }

    /// Forgets the decision for `key` (after a role change, say).
    pub fn invalidate(&self, key: &K) {
        self.lock().remove(key);
    }

    /// Forgets every decision.
    pub fn clear(&self) {
        self.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[tokio::test(start_paused = true)]
    async fn errors_and_timeouts_deny() {
        let t = Duration::from_secs(1);
        assert_eq!(
            check(t, async { Ok::<_, &str>(true) }).await,
            Decision::Allow
        );
        assert_eq!(
            check(t, async { Ok::<_, &str>(false) }).await,
            Decision::Deny(DenyReason::Denied)
        );
        assert_eq!(
            check(t, async { Err::<bool, _>("auth backend down") }).await,
            Decision::Deny(DenyReason::CheckFailed)
        );
        let hang = std::future::pending::<Result<bool, &str>>();
        assert_eq!(check(t, hang).await, Decision::Deny(DenyReason::TimedOut));
    }

    #[tokio::test(start_paused = true)]
    async fn no_stale_allow_when_the_service_goes_down() {
        let authz = Authorizer::new(Duration::from_secs(1), Duration::from_secs(30), 100);
        let calls = Cell::new(0);
        let up = || {
            calls.set(calls.get() + 1);
            async { Ok::<_, &str>(true) }
        };
        assert!(authz.authorize("alice", up).await.is_allowed());
        assert!(authz.authorize("alice", up).await.is_allowed());
        assert_eq!(calls.get(), 1, "the second answer came from the cache");

        tokio::time::advance(Duration::from_secs(30)).await;
        let down = || async { Err::<bool, _>("connection refused") };
        assert_eq!(
            authz.authorize("alice", down).await,
            Decision::Deny(DenyReason::CheckFailed)
        );
        assert_eq!(authz.cached(&"alice"), None);
        assert_eq!(
            authz.authorize("alice", down).await.into_result(),
            Err(AccessDenied {
                reason: DenyReason::CheckFailed
            })
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_cache_is_bounded() {
        let authz = Authorizer::new(Duration::from_secs(1), Duration::from_secs(30), 2);
        for user in ["a", "b", "c"] {
            let _ = authz
                .authorize(user, || async { Ok::<_, &str>(true) })
                .await;
            tokio::time::advance(Duration::from_millis(1)).await;
        }
        assert_eq!(authz.cached(&"a"), None, "the oldest went");
        assert_eq!(authz.cached(&"b"), Some(true));
        assert_eq!(authz.cached(&"c"), Some(true));
    }
}
