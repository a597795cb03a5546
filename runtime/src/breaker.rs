//! A circuit breaker per dependency.
//!
//! Guarantees:
//! - **Closed**: calls pass. Each failure is recorded with its time; when
//!   `failure_threshold` failures fall within the last `window`, the breaker
//!   opens. Successes do not erase failures; failures older than the window
//!   stop counting.
//! - **Open**: every call is rejected at once, without running, until
//!   `cooldown` has passed since the breaker opened.
//! - **Half-open**: exactly one call, the probe, is admitted; every other call
//!   is rejected while it runs. The probe's success closes the breaker with a
//!   clean window; its failure, or its being dropped without an outcome (a
//!   cancelled probe), opens it again for another cooldown.
//! - An outcome counts only against the state that admitted the call: a slow
//!   call admitted while closed cannot, once the breaker has opened, close it
//!   or extend its cooldown. A call dropped without an outcome while closed
//!   counts as nothing.
//! - [`CircuitBreaker::reset`] closes the breaker by hand with a clean window;
//!   [`CircuitBreaker::state`] says where it is.
//! - [`BreakerRegistry`] keeps one breaker per dependency name, so a failing
//!   upstream never trips the breaker of an unrelated one.
//!
//! Hand-written rather than taken from a crate: the state machine is small,
//! and the points above (one probe, outcomes checked against the admitting
//! state, tokio's pausable clock for tests) are what matter; the breakers on
//! crates.io each differ on at least one of them.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

/// When a breaker opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Failures within `window` that open the breaker (at least 1).
    pub failure_threshold: u32,
    /// The rolling window failures are counted over.
    pub window: Duration,
    /// How long the breaker stays open before admitting a probe.
    pub cooldown: Duration,
}

impl Default for BreakerConfig {
    /// 5 failures within 60 s open it for 30 s.
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            window: Duration::from_secs(60),
            cooldown: Duration::from_secs(30),
        }
    }
}

/// A call the breaker turned away without running it: the breaker is open,
/// or half-open with its probe already out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{dependency} is unavailable (circuit open)")]
pub struct Rejected {
    pub dependency: String,
}

/// Where a breaker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakerState {
    /// Calls pass.
    Closed,
    /// Calls are rejected until the cooldown ends.
    Open,
    /// One probe may pass (or is passing); the rest are rejected.
    HalfOpen,
}

/// A call the breaker refused or that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BreakerError<E> {
    /// Rejected without running: the breaker is open, or half-open with its
    /// probe already out.
    #[error("{dependency} is unavailable (circuit open)")]
    Open { dependency: String },
    /// The call ran and failed.
    #[error("{0}")]
    Inner(E),
}

impl<E> From<Rejected> for BreakerError<E> {
    fn from(r: Rejected) -> Self {
        BreakerError::Open {
            dependency: r.dependency,
        }
    }
}

#[derive(Debug)]
enum State {
    Closed,
    Open { until: Instant },
    HalfOpen { probing: bool },
}

#[derive(Debug)]
struct Inner {
    state: State,
    /// Bumped on every change of state; a permit carries the generation that
    /// admitted it, and an outcome from another generation is ignored.
    generation: u64,
    /// Times of recent failures while closed; never more than the threshold.
    failures: VecDeque<Instant>,
}

/// A circuit breaker guarding one dependency.
#[derive(Debug)]
pub struct CircuitBreaker {
    name: String,
    config: BreakerConfig,
    inner: Mutex<Inner>,
}

/// Admission for one call. Report its outcome with [`Permit::success`] or
/// [`Permit::failure`]; dropping it unreported counts as a failure for a
/// probe and as nothing otherwise.
#[must_use = "report the call's outcome with success() or failure()"]
#[derive(Debug)]
pub struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    generation: u64,
    reported: bool,
}

impl Permit<'_> {
    /// The call succeeded.
    pub fn success(mut self) {
        self.reported = true;
        self.breaker.record(self.generation, true);
    }

    /// The call failed.
    pub fn failure(mut self) {
        self.reported = true;
        self.breaker.record(self.generation, false);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.reported {
            self.breaker.abandon(self.generation);
        }
    }
}

impl CircuitBreaker {
    /// A closed breaker for `dependency`.
    pub fn new(dependency: impl Into<String>, config: BreakerConfig) -> Self {
        let config = BreakerConfig {
            failure_threshold: config.failure_threshold.max(1),
            ..config
        };
        Self {
            name: dependency.into(),
            config,
            inner: Mutex::new(Inner {
                state: State::Closed,
                generation: 0,
                failures: VecDeque::new(),
            }),
        }
    }

    /// The dependency this breaker guards.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its configuration.
    pub fn config(&self) -> BreakerConfig {
        self.config
    }

    /// The lock guards plain data that every critical section leaves
    /// consistent, so a panic elsewhere while it was held does not matter.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Open → half-open once the cooldown is over.
    fn settle(inner: &mut Inner, now: Instant) {
        if let State::Open { until } = inner.state {
            if now >= until {
                inner.state = State::HalfOpen { probing: false };
                inner.generation += 1;
            }
        }
    }

    fn open(&self, inner: &mut Inner, now: Instant) {
        inner.state = State::Open {
            until: now
                .checked_add(self.config.cooldown)
                .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365)),
        };
        inner.generation += 1;
        inner.failures.clear();
    }

    /// Where the breaker is now.
    pub fn state(&self) -> BreakerState {
        let mut inner = self.lock();
        Self::settle(&mut inner, Instant::now());
        match inner.state {
            State::Closed => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Admits a call, or rejects it at once.
    pub fn try_acquire(&self) -> Result<Permit<'_>, Rejected> {
        let mut inner = self.lock();
        Self::settle(&mut inner, Instant::now());
        let admitted = match inner.state {
            State::Closed => true,
            State::Open { .. } | State::HalfOpen { probing: true } => false,
            State::HalfOpen { probing: false } => {
                inner.state = State::HalfOpen { probing: true };
                inner.generation += 1;
                true
            }
        };
        if admitted {
            Ok(Permit {
                breaker: self,
                generation: inner.generation,
                reported: false,
            })
        } else {
            Err(Rejected {
                dependency: self.name.clone(),
            })
        }
    }

    fn record(&self, generation: u64, ok: bool) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        let now = Instant::now();
        match inner.state {
            State::Closed if ok => {}
            State::Closed => {
                let window = self.config.window;
                while inner
                    .failures
                    .front()
                    .is_some_and(|t| now.saturating_duration_since(*t) >= window)
                {
                    inner.failures.pop_front();
                }
                inner.failures.push_back(now);
                if inner.failures.len() >= self.config.failure_threshold as usize {
                    self.open(&mut inner, now);
                }
            }
            State::HalfOpen { probing: true } if ok => {
                inner.state = State::Closed;
                inner.generation += 1;
                inner.failures.clear();
            }
            State::HalfOpen { probing: true } => self.open(&mut inner, now),
            // A permit of the current generation exists only in the two
            // states above.
            State::Open { .. } | State::HalfOpen { probing: false } => {}
        }
    }

    fn abandon(&self, generation: u64) {
        let probing = {
            let inner = self.lock();
            inner.generation == generation
                && matches!(inner.state, State::HalfOpen { probing: true })
        };
        if probing {
            self.record(generation, false);
        }
    }

    /// Closes the breaker by hand, forgetting recorded failures. Outcomes of
    /// calls admitted before the reset are ignored.
    pub fn reset(&self) {
        let mut inner = self.lock();
        inner.state = State::Closed;
        inner.generation += 1;
        inner.failures.clear();
    }

    /// Runs `f` through the breaker; every `Err` counts as a failure.
    pub async fn call<T, E, Fut>(&self, f: impl FnOnce() -> Fut) -> Result<T, BreakerError<E>>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        self.call_counting(|_| true, f).await
    }

    /// Runs `f` through the breaker; an `Err` counts as a failure only when
    /// `is_failure` says so (a 404 or a validation error says nothing about
    /// the dependency's health, and counts as a success).
    pub async fn call_counting<T, E, Fut>(
        &self,
        is_failure: impl Fn(&E) -> bool,
        f: impl FnOnce() -> Fut,
    ) -> Result<T, BreakerError<E>>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        let permit = self.try_acquire()?;
        match f().await {
            Ok(v) => {
                permit.success();
                Ok(v)
            }
            Err(e) => {
                if is_failure(&e) {
                    permit.failure();
                } else {
                    permit.success();
                }
                Err(BreakerError::Inner(e))
            }
        }
    }
}

/// One breaker per dependency name, created on first use.
///
/// Key it by what fails together: a URL host, or a client with its own base
/// URL. Names come from code, not from callers: the registry does not evict.
#[derive(Debug, Default)]
pub struct BreakerRegistry {
    default: BreakerConfig,
    breakers: Mutex<HashMap<String, Arc<CircuitBreaker>>>,
}

impl BreakerRegistry {
    /// A registry whose breakers use `default` unless created with
    /// [`BreakerRegistry::get_with`].
    pub fn new(default: BreakerConfig) -> Self {
        Self {
            default,
            breakers: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<CircuitBreaker>>> {
        self.breakers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The breaker for `dependency`.
    pub fn get(&self, dependency: &str) -> Arc<CircuitBreaker> {
        self.get_with(dependency, self.default)
    }

    /// The breaker for `dependency`, created with `config` if it does not
    /// exist yet (an existing breaker keeps its configuration).
    pub fn get_with(&self, dependency: &str, config: BreakerConfig) -> Arc<CircuitBreaker> {
        self.lock()
            .entry(dependency.to_owned())
            .or_insert_with(|| Arc::new(CircuitBreaker::new(dependency, config)))
            .clone()
    }

    /// Every breaker's state, by name.
    pub fn states(&self) -> Vec<(String, BreakerState)> {
        let breakers: Vec<_> = self.lock().values().cloned().collect();
        let mut states: Vec<_> = breakers
            .iter()
            .map(|b| (b.name().to_owned(), b.state()))
            .collect();
        states.sort_by(|a, b| a.0.cmp(&b.0));
        states
    }

    /// Resets one dependency's breaker; false if there is none.
    pub fn reset(&self, dependency: &str) -> bool {
        let breaker = self.lock().get(dependency).cloned();
        breaker.map(|b| b.reset()).is_some()
    }

    /// Resets every breaker.
    pub fn reset_all(&self) {
        let breakers: Vec<_> = self.lock().values().cloned().collect();
        for b in breakers {
            b.reset();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(threshold: u32) -> BreakerConfig {
        BreakerConfig {
            failure_threshold: threshold,
            window: Duration::from_secs(10),
            cooldown: Duration::from_secs(5),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn opens_rejects_probes_once_and_closes() {
        let b = CircuitBreaker::new("api.example.com", cfg(2));
        let fail = || async { Err::<(), _>("boom") };
        assert_eq!(b.call(fail).await, Err(BreakerError::Inner("boom")));
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.call(fail).await, Err(BreakerError::Inner("boom")));
        assert_eq!(b.state(), BreakerState::Open);

        let mut ran = false;
        let r = b
            .call(|| async {
                ran = true;
                Ok::<_, ()>(())
            })
            .await;
        assert!(matches!(r, Err(BreakerError::Open { .. })));
        assert!(!ran, "an open breaker must not run the call");

        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(b.state(), BreakerState::HalfOpen);
        let probe = b.try_acquire().expect("one probe");
        assert!(b.try_acquire().is_err(), "a second probe");
        probe.success();
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_probe_reopens() {
        let b = CircuitBreaker::new("x", cfg(1));
        b.try_acquire().unwrap().failure();
        tokio::time::advance(Duration::from_secs(5)).await;
        drop(b.try_acquire().unwrap());
        assert_eq!(b.state(), BreakerState::Open);
    }

    #[tokio::test(start_paused = true)]
    async fn failures_outside_the_window_do_not_count() {
        let b = CircuitBreaker::new("x", cfg(2));
        b.try_acquire().unwrap().failure();
        tokio::time::advance(Duration::from_secs(10)).await;
        b.try_acquire().unwrap().failure();
        assert_eq!(b.state(), BreakerState::Closed);
        b.try_acquire().unwrap().failure();
        assert_eq!(b.state(), BreakerState::Open);
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_outcome_from_before_opening_is_ignored() {
        let b = CircuitBreaker::new("x", cfg(1));
        let slow = b.try_acquire().unwrap();
        b.try_acquire().unwrap().failure();
        assert_eq!(b.state(), BreakerState::Open);
        slow.success();
        assert_eq!(b.state(), BreakerState::Open);
    }

    #[tokio::test(start_paused = true)]
    async fn not_every_error_is_a_failure() {
        let b = CircuitBreaker::new("x", cfg(1));
        let r = b
            .call_counting(|e: &u16| *e >= 500, || async { Err::<(), _>(404u16) })
            .await;
        assert_eq!(r, Err(BreakerError::Inner(404)));
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn reset_closes() {
        let b = CircuitBreaker::new("x", cfg(1));
        b.try_acquire().unwrap().failure();
        b.reset();
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(b.try_acquire().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn the_registry_keeps_dependencies_apart() {
        let reg = BreakerRegistry::new(cfg(1));
        reg.get("a.example.com").try_acquire().unwrap().failure();
        assert_eq!(reg.get("a.example.com").state(), BreakerState::Open);
        assert_eq!(reg.get("b.example.com").state(), BreakerState::Closed);
        assert!(Arc::ptr_eq(
            &reg.get("a.example.com"),
            &reg.get("a.example.com")
        ));
        assert_eq!(
            reg.states(),
            vec![
                ("a.example.com".to_owned(), BreakerState::Open),
                ("b.example.com".to_owned(), BreakerState::Closed)
            ]
        );
        assert!(reg.reset("a.example.com"));
        assert!(!reg.reset("c.example.com"));
        assert_eq!(reg.get("a.example.com").state(), BreakerState::Closed);
    }
}
