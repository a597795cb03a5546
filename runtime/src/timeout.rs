//! Per-call timeouts and a per-invocation deadline budget.
//!
//! Guarantees:
//! - [`timeout`] gives a call at most its limit: when the limit passes the
//!   call's future is dropped (cancelled) and [`Elapsed::Call`] returned.
//! - A [`Deadline`] is one fixed instant for a whole invocation (a tool
//!   call). Work inside it takes its time from what remains: [`Deadline::run`]
//!   and [`Deadline::run_for`] never let a call run past the deadline, a
//!   [`Deadline::child`] never ends later than its parent, and once the
//!   deadline has passed a call is not started at all (its future is dropped
//!   unpolled). However many calls an invocation makes, one after another or
//!   nested, together they cannot exceed the budget.
//!
//! Time is tokio's clock, whose timers tick in whole milliseconds: a limit
//! fires on the first tick at or after it.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// Why a bounded call did not finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Elapsed {
    /// The call's own limit passed first.
    #[error("call timed out after {0:?}")]
    Call(Duration),
    /// The invocation's deadline passed first (or had passed before the call).
    #[error("deadline exceeded")]
    Deadline,
}

/// Runs `fut` for at most `limit`.
///
/// ```
/// # async fn f() {
/// use std::time::Duration;
/// use mcp_audit_runtime::timeout::{timeout, Elapsed};
///
/// let slow = tokio::time::sleep(Duration::from_secs(10));
/// assert_eq!(timeout(Duration::from_millis(5), slow).await, Err(Elapsed::Call(Duration::from_millis(5))));
/// # }
/// ```
pub async fn timeout<F: Future>(limit: Duration, fut: F) -> Result<F::Output, Elapsed> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| Elapsed::Call(limit))
}

/// An instant by which a whole invocation must be done.
///
/// It is `Copy`: hand it to every helper the invocation calls, and each takes
/// its time from what remains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Deadline {
    at: Instant,
}

/// `Instant + Duration` panics on overflow; a budget too large to add is
/// treated as "about 30 years", as tokio does for its own far future.
fn add_saturating(at: Instant, d: Duration) -> Instant {
    at.checked_add(d)
        .or_else(|| at.checked_add(Duration::from_secs(86_400 * 365 * 30)))
        .unwrap_or(at)
}

impl Deadline {
    /// A deadline `budget` from now.
    pub fn after(budget: Duration) -> Self {
        Self {
            at: add_saturating(Instant::now(), budget),
        }
    }

    /// A deadline at a given instant.
    pub fn at(at: Instant) -> Self {
        Self { at }
    }

    /// The instant itself.
    pub fn instant(&self) -> Instant {
        self.at
    }

    /// The time left; zero once passed.
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// Whether the deadline has passed.
    pub fn is_expired(&self) -> bool {
        Instant::now() >= self.at
    }

    /// A deadline for a part of the work: at most `max` from now, and never
    /// later than this one.
    pub fn child(&self, max: Duration) -> Deadline {
        Deadline {
            at: add_saturating(Instant::now(), max).min(self.at),
        }
    }

    /// Runs `fut` until it finishes or the deadline passes. An expired
    /// deadline drops `fut` without polling it.
    pub async fn run<F: Future>(&self, fut: F) -> Result<F::Output, Elapsed> {
        if self.is_expired() {
            return Err(Elapsed::Deadline);
        }
        tokio::time::timeout_at(self.at, fut)
            .await
            .map_err(|_| Elapsed::Deadline)
    }

    /// Runs `fut` for at most `per_call`, and never past the deadline: the
    /// call gets `min(per_call, remaining)`. The error says which ran out.
    pub async fn run_for<F: Future>(
        &self,
        per_call: Duration,
        fut: F,
    ) -> Result<F::Output, Elapsed> {
        let now = Instant::now();
        if now >= self.at {
            return Err(Elapsed::Deadline);
        }
        let call_end = add_saturating(now, per_call);
        if call_end < self.at {
            tokio::time::timeout_at(call_end, fut)
                .await
                .map_err(|_| Elapsed::Call(per_call))
        } else {
            tokio::time::timeout_at(self.at, fut)
                .await
                .map_err(|_| Elapsed::Deadline)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn run_for_says_which_limit_ran_out() {
        let d = Deadline::after(Duration::from_millis(100));
        let r = d
            .run_for(
                Duration::from_millis(30),
                tokio::time::sleep(Duration::from_secs(1)),
            )
            .await;
        assert_eq!(r, Err(Elapsed::Call(Duration::from_millis(30))));
        let r = d
            .run_for(
                Duration::from_secs(5),
                tokio::time::sleep(Duration::from_secs(1)),
            )
            .await;
        assert_eq!(r, Err(Elapsed::Deadline));
        assert!(d.is_expired());
        assert_eq!(d.remaining(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn an_expired_deadline_does_not_start_the_call() {
        let d = Deadline::after(Duration::ZERO);
        let mut started = false;
        let r = d.run(async { started = true }).await;
        assert_eq!(r, Err(Elapsed::Deadline));
        assert!(!started);
    }

    #[tokio::test(start_paused = true)]
    async fn a_child_never_outlives_its_parent() {
        let d = Deadline::after(Duration::from_millis(50));
        assert_eq!(d.child(Duration::from_secs(10)), d);
        let c = d.child(Duration::from_millis(10));
        assert!(c < d);
        assert_eq!(c.remaining(), Duration::from_millis(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_huge_budget_does_not_overflow() {
        let d = Deadline::after(Duration::MAX);
        assert!(!d.is_expired());
        assert_eq!(d.run(async { 7 }).await, Ok(7));
        assert_eq!(timeout(Duration::MAX, async { 8 }).await, Ok(8));
    }
}
