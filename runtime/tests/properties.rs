//! Property tests: each pattern's guarantee, over many generated cases, on
//! tokio's paused clock (deterministic, and no real waiting).

use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

use mcp_audit_runtime::breaker::{BreakerConfig, BreakerState, CircuitBreaker, Permit};
use mcp_audit_runtime::gate::Gate;
use mcp_audit_runtime::idempotency::IdempotencyStore;
use mcp_audit_runtime::retry::{RetryError, RetryPolicy};
use mcp_audit_runtime::timeout::{Deadline, Elapsed};
use proptest::prelude::*;
use rand::rngs::Xoshiro256PlusPlus;
use rand::SeedableRng;
use tokio::time::Instant;

fn paused<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime")
        .block_on(f)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ---------------------------------------------------------------------------
// Breaker: model-based. A plain model of the state machine, driven by the
// same operations, must agree with the breaker after every step.

#[derive(Debug, Clone)]
enum BOp {
    Acquire,
    Succeed(usize),
    Fail(usize),
    Drop(usize),
    Advance(u64),
    Reset,
}

fn bop() -> impl Strategy<Value = BOp> {
    prop_oneof![
        4 => Just(BOp::Acquire),
        3 => any::<usize>().prop_map(BOp::Succeed),
        4 => any::<usize>().prop_map(BOp::Fail),
        1 => any::<usize>().prop_map(BOp::Drop),
        3 => (0u64..40).prop_map(BOp::Advance),
        1 => Just(BOp::Reset),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum MState {
    Closed,
    Open { until: u64 },
    HalfOpen { probing: bool },
}

/// The specification, written as directly as possible: every failure time
/// is kept and counted by filter; an epoch ties each admission to the state
/// that made it.
struct Model {
    threshold: usize,
    window: u64,
    cooldown: u64,
    now: u64,
    state: MState,
    epoch: u64,
    failures: Vec<u64>,
}

impl Model {
    fn settle(&mut self) {
        if let MState::Open { until } = self.state {
            if self.now >= until {
                self.state = MState::HalfOpen { probing: false };
                self.epoch += 1;
            }
        }
    }
    fn query(&mut self) -> BreakerState {
        self.settle();
        match self.state {
            MState::Closed => BreakerState::Closed,
            MState::Open { .. } => BreakerState::Open,
            MState::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }
    fn acquire(&mut self) -> Option<u64> {
        self.settle();
        match self.state {
            MState::Closed => Some(self.epoch),
            MState::Open { .. } | MState::HalfOpen { probing: true } => None,
            MState::HalfOpen { probing: false } => {
                self.state = MState::HalfOpen { probing: true };
                self.epoch += 1;
                Some(self.epoch)
            }
        }
    }
    fn open(&mut self) {
        self.state = MState::Open {
            until: self.now + self.cooldown,
        };
        self.epoch += 1;
        self.failures.clear();
    }
    /// `ok`: Some(true) success, Some(false) failure, None dropped.
    fn report(&mut self, epoch: u64, ok: Option<bool>) {
        if epoch != self.epoch {
            return;
        }
        match (self.state, ok) {
            (MState::Closed, Some(false)) => {
                self.failures.push(self.now);
                let now = self.now;
                let recent = self
                    .failures
                    .iter()
                    .filter(|&&t| now - t < self.window)
                    .count();
                if recent >= self.threshold {
                    self.open();
                }
            }
            (MState::HalfOpen { probing: true }, Some(true)) => {
                self.state = MState::Closed;
                self.epoch += 1;
                self.failures.clear();
            }
            (MState::HalfOpen { probing: true }, _) => self.open(),
            _ => {}
        }
    }
}

fn run_breaker_case(threshold: u32, window: u64, cooldown: u64, ops: Vec<BOp>) {
    paused(async move {
        let b = CircuitBreaker::new(
            "dep",
            BreakerConfig {
                failure_threshold: threshold,
                window: ms(window),
                cooldown: ms(cooldown),
            },
        );
        let mut m = Model {
            threshold: threshold as usize,
            window,
            cooldown,
            now: 0,
            state: MState::Closed,
            epoch: 0,
            failures: Vec::new(),
        };
        let mut held: Vec<(Permit<'_>, u64)> = Vec::new();
        for op in ops {
            match op {
                BOp::Acquire => {
                    let expected = m.acquire();
                    match (b.try_acquire(), expected) {
                        (Ok(p), Some(e)) => held.push((p, e)),
                        (Err(_), None) => {}
                        (got, want) => panic!("acquire: got {got:?}, model {want:?}"),
                    }
                }
                BOp::Succeed(i) | BOp::Fail(i) | BOp::Drop(i) if !held.is_empty() => {
                    let (p, e) = held.remove(i % held.len());
                    let ok = match op {
                        BOp::Succeed(_) => {
                            p.success();
                            Some(true)
                        }
                        BOp::Fail(_) => {
                            p.failure();
                            Some(false)
                        }
                        _ => {
                            drop(p);
                            None
                        }
                    };
                    m.report(e, ok);
                }
                BOp::Succeed(_) | BOp::Fail(_) | BOp::Drop(_) => {}
                BOp::Advance(d) => {
                    tokio::time::advance(ms(d)).await;
                    m.now += d;
                }
                BOp::Reset => {
                    b.reset();
                    m.state = MState::Closed;
                    m.epoch += 1;
                    m.failures.clear();
                }
            }
            let state = b.state();
            assert_eq!(state, m.query());
            // Independent of the model: half-open never has two probes out.
            if state == BreakerState::HalfOpen {
                let probes = held.iter().filter(|(_, e)| *e == m.epoch).count();
                assert!(probes <= 1, "{probes} probes out");
            }
        }
    });
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn breaker_follows_its_state_machine(
        threshold in 1u32..5,
        window in 1u64..100,
        cooldown in 1u64..100,
        ops in prop::collection::vec(bop(), 0..80),
    ) {
        run_breaker_case(threshold, window, cooldown, ops);
    }

    #[test]
    fn an_open_breaker_runs_nothing(threshold in 1u32..4, calls in 1usize..20) {
        paused(async move {
            let b = CircuitBreaker::new("dep", BreakerConfig {
                failure_threshold: threshold,
                window: ms(1000),
                cooldown: ms(1000),
            });
            for _ in 0..threshold {
                let _ = b.call(|| async { Err::<(), _>(()) }).await;
            }
            let ran = Cell::new(0);
            for _ in 0..calls {
                let _ = b.call(|| { ran.set(ran.get() + 1); async { Ok::<_, ()>(()) } }).await;
            }
            assert_eq!(ran.get(), 0);
        });
    }
}

// ---------------------------------------------------------------------------
// Retry: full-jitter bounds, attempt cap, budget.

proptest! {
    #[test]
    fn jitter_stays_within_its_ceiling(
        base_ns in 0u64..10_000_000_000,
        cap_ns in 0u64..60_000_000_000,
        retry in 0u32..100,
        seed in any::<u64>(),
    ) {
        let p = RetryPolicy {
            base: Duration::from_nanos(base_ns),
            cap: Duration::from_nanos(cap_ns),
            ..RetryPolicy::default()
        };
        let ceiling = p.ceiling(retry);
        let exact = if retry < 64 { (base_ns as u128) << retry } else if base_ns == 0 { 0 } else { u128::MAX };
        prop_assert_eq!(ceiling.as_nanos(), exact.min(cap_ns as u128));
        prop_assert!(p.ceiling(retry) <= p.ceiling(retry + 1));
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        for _ in 0..16 {
            let d = p.delay(retry, &mut rng);
            prop_assert!(d <= ceiling, "{:?} > {:?}", d, ceiling);
        }
    }

    #[test]
    fn retry_respects_attempts_and_budget(
        max_attempts in 1u32..8,
        base in 0u64..200,
        budget in prop::option::of(0u64..1000),
        work in prop::collection::vec(0u64..300, 8),
        succeed_on in prop::option::of(0u32..8),
        seed in any::<u64>(),
    ) {
        paused(async move {
            let p = RetryPolicy {
                max_attempts,
                base: ms(base),
                cap: ms(500),
                budget: budget.map(ms),
            };
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let calls = Cell::new(0u32);
            let start = Instant::now();
            let r = p
                .run_with_rng(&mut rng, |_: &&str| true, |n| {
                    calls.set(calls.get() + 1);
                    let w = work[n as usize];
                    async move {
                        tokio::time::sleep(ms(w)).await;
                        if Some(n) == succeed_on { Ok(n) } else { Err("503") }
                    }
                })
                .await;
            assert!(calls.get() <= max_attempts);
            if let Some(b) = budget {
                assert!(start.elapsed() <= ms(b), "{:?} > {b} ms", start.elapsed());
            }
            match r {
                Ok(n) => assert_eq!(Some(n), succeed_on),
                Err(RetryError::Exhausted { attempts, .. }) => assert_eq!(attempts, max_attempts),
                Err(RetryError::Budget { attempts, .. }) => {
                    assert!(budget.is_some());
                    assert_eq!(attempts, calls.get());
                }
                Err(RetryError::Permanent(_)) => panic!("every error was retryable"),
            }
        });
    }
}

// ---------------------------------------------------------------------------
// Deadline: however the calls are arranged, the invocation's budget holds.

proptest! {
    #[test]
    fn the_deadline_budget_is_never_exceeded(
        budget in 0u64..500,
        calls in prop::collection::vec((0u64..300, 0u64..300, any::<bool>()), 0..12),
    ) {
        paused(async move {
            let start = Instant::now();
            let deadline = Deadline::after(ms(budget));
            for (per_call, work, nested) in calls {
                let remaining = deadline.remaining();
                let polled = Cell::new(false);
                let call_start = Instant::now();
                let fut = async {
                    polled.set(true);
                    tokio::time::sleep(ms(work)).await;
                };
                let r = if nested {
                    let child = deadline.child(ms(per_call));
                    assert!(child <= deadline);
                    child.run(fut).await
                } else {
                    deadline.run_for(ms(per_call), fut).await
                };
                let limit = remaining.min(ms(per_call));
                assert!(call_start.elapsed() <= limit, "a call outlived its share");
                if remaining.is_zero() {
                    assert!(!polled.get(), "started after the deadline");
                    assert_eq!(r, Err(Elapsed::Deadline));
                } else if ms(work) < limit {
                    assert_eq!(r, Ok(()));
                } else if ms(work) > limit {
                    assert!(r.is_err());
                }
                assert!(start.elapsed() <= ms(budget), "budget exceeded");
            }
        });
    }

    #[test]
    fn retry_never_outlives_its_deadline(budget in 0u64..1000, work in 0u64..400) {
        paused(async move {
            let start = Instant::now();
            let p = RetryPolicy { max_attempts: 20, ..RetryPolicy::default() };
            let _ = p
                .run_until(Deadline::after(ms(budget)), |_: &()| true, |_| async move {
                    tokio::time::sleep(ms(work)).await;
                    Err::<(), ()>(())
                })
                .await;
            assert!(start.elapsed() <= ms(budget));
        });
    }
}

// ---------------------------------------------------------------------------
// Idempotency: against a model with explicit TTL and oldest-first eviction.

#[derive(Debug, Clone)]
enum IOp {
    Call(u8),
    Advance(u64),
}

proptest! {
    #[test]
    fn idempotency_keeps_its_ttl_and_size_bound(
        capacity in 1usize..5,
        ttl in 1u64..100,
        ops in prop::collection::vec(prop_oneof![
            3 => (0u8..8).prop_map(IOp::Call),
            1 => (0u64..60).prop_map(IOp::Advance),
        ], 0..80),
    ) {
        paused(async move {
            let store = IdempotencyStore::<u8, u32>::new(ms(ttl), capacity);
            // (key, value, finished at), oldest first.
            let mut model: Vec<(u8, u32, u64)> = Vec::new();
            let mut now = 0u64;
            let mut runs = 0u32;
            for op in ops {
                match op {
                    IOp::Advance(d) => {
                        tokio::time::advance(ms(d)).await;
                        now += d;
                    }
                    IOp::Call(key) => {
                        let got = store
                            .run(key, || {
                                runs += 1;
                                let v = runs;
                                async move { v }
                            })
                            .await
                            .expect("no call is left running");
                        model.retain(|&(_, _, at)| now < at + ttl);
                        let want = match model.iter().find(|e| e.0 == key) {
                            Some(&(_, v, _)) => v,
                            None => {
                                if model.len() == capacity {
                                    model.remove(0);
                                }
                                model.push((key, runs, now));
                                runs
                            }
                        };
                        assert_eq!(got, want, "key {key} at {now} ms");
                    }
                }
                model.retain(|&(_, _, at)| now < at + ttl);
                assert!(store.len() <= capacity);
                assert_eq!(store.len(), model.len());
            }
        });
    }

    #[test]
    fn concurrent_callers_never_run_twice(callers in 1usize..20, work in 0u64..100) {
        paused(async move {
            let store = IdempotencyStore::<&str, u32>::new(ms(1000), 4);
            let runs = Cell::new(0u32);
            let all = (0..callers).map(|i| {
                let (store, runs) = (&store, &runs);
                async move {
                    tokio::time::sleep(ms(i as u64 % 7)).await;
                    store.run("k", || async move {
                        runs.set(runs.get() + 1);
                        tokio::time::sleep(ms(work)).await;
                        7
                    }).await
                }
            });
            let results = futures_util::future::join_all(all).await;
            assert_eq!(runs.get(), 1);
            assert!(results.iter().all(|r| *r == Ok(7)));
        });
    }
}

// ---------------------------------------------------------------------------
// Gate: never over capacity, and refuses only when full.

proptest! {
    #[test]
    fn the_gate_never_goes_over_capacity(
        capacity in 1usize..6,
        tasks in prop::collection::vec((0u64..100, 1u64..100), 0..40),
    ) {
        paused(async move {
            let gate = Gate::new(capacity);
            let inside = Cell::new(0usize);
            let most = Cell::new(0usize);
            let refused = Cell::new(0usize);
            let all = tasks.iter().map(|&(start, dur)| {
                let (gate, inside, most, refused) = (&gate, &inside, &most, &refused);
                async move {
                    tokio::time::sleep(ms(start)).await;
                    let r = gate
                        .run(async {
                            inside.set(inside.get() + 1);
                            most.set(most.get().max(inside.get()));
                            tokio::time::sleep(ms(dur)).await;
                            inside.set(inside.get() - 1);
                        })
                        .await;
                    if r.is_err() {
                        assert_eq!(gate.in_flight(), capacity, "refused while not full");
                        refused.set(refused.get() + 1);
                    }
                }
            });
            futures_util::future::join_all(all).await;
            assert!(most.get() <= capacity, "{} inside, capacity {capacity}", most.get());
            assert_eq!(gate.in_flight(), 0);
            if tasks.len() <= capacity {
                assert_eq!(refused.get(), 0);
            }
        });
    }
}
