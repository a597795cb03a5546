//! Retry with full jitter, an attempt cap and a time budget.
//!
//! Guarantees:
//! - At most `max_attempts` attempts, the first one included.
//! - Before retry `n` (`n` = 0 before the second attempt), the delay is drawn
//!   uniformly from `[0, min(cap, base * 2^n)]` ("full jitter"), so clients
//!   that failed together do not come back together.
//! - Only errors the `retryable` predicate accepts are retried; any other
//!   error is returned at once.
//! - With a budget (or a [`Deadline`]), everything fits inside it: a delay
//!   that would end past it is not slept (the last error is returned instead),
//!   and an attempt still running when it passes is cancelled.
//!
//! Hand-written: the retry crates either jitter differently (backon adds
//! jitter on top of the delay instead of drawing it from zero) or have no
//! time budget, and the formula above is the whole point.

use std::future::Future;
use std::time::Duration;

use rand::{Rng, RngExt};

use crate::timeout::Deadline;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The ceiling of the first delay.
    pub base: Duration,
    /// The largest ceiling any delay may have.
    pub cap: Duration,
    /// Time for all attempts and delays together, from the start of `run`.
    pub budget: Option<Duration>,
}

impl Default for RetryPolicy {
    /// 3 attempts, delays under 100 ms, 200 ms, capped at 5 s, no budget.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(5),
            budget: None,
        }
    }
}

/// Why a retried operation gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetryError<E> {
    /// An error the predicate says is not worth retrying.
    #[error("{0}")]
    Permanent(E),
    /// Every attempt failed; this is the last error.
    #[error("gave up after {attempts} attempts: {last}")]
    Exhausted { attempts: u32, last: E },
    /// The time budget ran out, during an attempt or before a delay could
    /// fit; `last` is the last error seen, if any attempt finished.
    #[error("retry budget spent after {attempts} attempts")]
    Budget { attempts: u32, last: Option<E> },
}

impl<E> RetryError<E> {
    /// The operation's last error, if any attempt finished.
    pub fn into_last(self) -> Option<E> {
        match self {
            RetryError::Permanent(e) | RetryError::Exhausted { last: e, .. } => Some(e),
            RetryError::Budget { last, .. } => last,
        }
    }
}

impl RetryPolicy {
    /// `min(cap, base * 2^retry)`, without overflow.
    pub fn ceiling(&self, retry: u32) -> Duration {
        // In nanoseconds, as u128: no Duration or shift can overflow here.
        let base = self.base.as_nanos();
        let grown = match base {
            0 => 0,
            _ if retry < base.leading_zeros() => base << retry,
            _ => u128::MAX,
        };
        let n = grown.min(self.cap.as_nanos());
        const NANOS: u128 = 1_000_000_000;
        Duration::new((n / NANOS) as u64, (n % NANOS) as u32)
    }

    /// The delay before retry `retry`: uniform in `[0, ceiling(retry)]`.
    pub fn delay<R: Rng + ?Sized>(&self, retry: u32, rng: &mut R) -> Duration {
        let ceiling = u64::try_from(self.ceiling(retry).as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rng.random_range(0..=ceiling))
    }

    /// Runs `op` (given the 0-based attempt number) until it succeeds, fails
    /// with an error `retryable` rejects, runs out of attempts, or runs out
    /// of budget.
    pub async fn run<T, E, F, Fut>(
        &self,
        retryable: impl Fn(&E) -> bool,
        op: F,
    ) -> Result<T, RetryError<E>>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        // The thread-local RNG is not Send: draw inside the closure so it is
        // never held across an await.
        self.drive(None, |n| self.delay(n, &mut rand::rng()), retryable, op)
            .await
    }

    /// [`RetryPolicy::run`], also never past `deadline`.
    pub async fn run_until<T, E, F, Fut>(
        &self,
        deadline: Deadline,
        retryable: impl Fn(&E) -> bool,
        op: F,
    ) -> Result<T, RetryError<E>>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.drive(
            Some(deadline),
            |n| self.delay(n, &mut rand::rng()),
            retryable,
            op,
        )
        .await
    }

    /// [`RetryPolicy::run`] with a given RNG, for reproducible delays.
    pub async fn run_with_rng<T, E, F, Fut, R>(
        &self,
        rng: &mut R,
        retryable: impl Fn(&E) -> bool,
        op: F,
    ) -> Result<T, RetryError<E>>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        R: Rng + ?Sized,
    {
        self.drive(None, |n| self.delay(n, rng), retryable, op)
            .await
    }

    async fn drive<T, E, F, Fut>(
        &self,
        deadline: Option<Deadline>,
        mut draw: impl FnMut(u32) -> Duration,
        retryable: impl Fn(&E) -> bool,
        mut op: F,
    ) -> Result<T, RetryError<E>>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let end = match (self.budget.map(Deadline::after), deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let max_attempts = self.max_attempts.max(1);
        let mut last = None;
        for attempt in 0..max_attempts {
            let outcome = match end {
                Some(end) => match end.run(op(attempt)).await {
                    Ok(r) => r,
                    Err(_) => {
                        return Err(RetryError::Budget {
                            attempts: attempt + 1,
                            last,
                        })
                    }
                },
                None => op(attempt).await,
            };
            let e = match outcome {
                Ok(v) => return Ok(v),
                Err(e) if !retryable(&e) => return Err(RetryError::Permanent(e)),
                Err(e) => e,
            };
            if attempt + 1 == max_attempts {
                return Err(RetryError::Exhausted {
                    attempts: attempt + 1,
                    last: e,
                });
            }
            let delay = draw(attempt);
            if let Some(end) = end {
                if delay >= end.remaining() {
                    return Err(RetryError::Budget {
                        attempts: attempt + 1,
                        last: Some(e),
                    });
                }
            }
            last = Some(e);
            tokio::time::sleep(delay).await;
        }
        unreachable!("the loop returns on its last attempt")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::SeedableRng;
    use std::cell::Cell;
    use tokio::time::Instant;

    #[test]
    fn ceilings_double_up_to_the_cap() {
        let p = RetryPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        let c: Vec<_> = (0..6).map(|n| p.ceiling(n).as_millis()).collect();
        assert_eq!(c, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(p.ceiling(200), Duration::from_millis(1000));
    }

    #[test]
    fn delays_spread_over_the_whole_range() {
        let p = RetryPolicy {
            base: Duration::from_millis(1000),
            cap: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let d: Vec<_> = (0..1000).map(|_| p.delay(0, &mut rng)).collect();
        assert!(d.iter().any(|d| *d < Duration::from_millis(100)));
        assert!(d.iter().any(|d| *d > Duration::from_millis(900)));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_only_what_the_predicate_allows() {
        let p = RetryPolicy::default();
        let calls = Cell::new(0);
        let r: Result<(), _> = p
            .run(
                |e: &&str| *e == "503",
                |_| {
                    calls.set(calls.get() + 1);
                    async { Err("400") }
                },
            )
            .await;
        assert_eq!(r, Err(RetryError::Permanent("400")));
        assert_eq!(calls.get(), 1);

        let r: Result<(), _> = p.run(|_: &&str| true, |_| async { Err("503") }).await;
        assert_eq!(
            r,
            Err(RetryError::Exhausted {
                attempts: 3,
                last: "503"
            })
        );

        let r = p
            .run(
                |_: &&str| true,
                |n| async move {
                    if n < 2 {
                        Err("503")
                    } else {
                        Ok(n)
                    }
                },
            )
            .await;
        assert_eq!(r, Ok(2));
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_cancels_a_hanging_attempt() {
        let p = RetryPolicy {
            max_attempts: 10,
            budget: Some(Duration::from_secs(2)),
            ..RetryPolicy::default()
        };
        let start = Instant::now();
        let r: Result<(), RetryError<()>> = p
            .run(
                |_| true,
                |_| async {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Ok(())
                },
            )
            .await;
        assert_eq!(
            r,
            Err(RetryError::Budget {
                attempts: 1,
                last: None
            })
        );
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }
}
