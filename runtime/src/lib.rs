//! Resilience patterns for MCP servers, each with a stated guarantee.
//!
//! | module | pattern |
//! |---|---|
//! | [`timeout`] | per-call timeouts and a per-invocation [`Deadline`](timeout::Deadline) |
//! | [`breaker`] | a circuit breaker per dependency, and a registry keyed by dependency |
//! | [`retry`] | retry with full jitter, an attempt cap and a time budget |
//! | [`idempotency`] | replay of the first result for a key, with a TTL and a size bound |
//! | [`gate`] | a concurrency gate that fails fast when full |
//! | [`safe_error`] | errors that log their detail under a reference id and show only the id |
//! | [`authz`] | fail-closed authorization with expiring cached decisions |
//! | [`settle`] | settled aggregation: the successes plus the names of the sources that failed |
//!
//! With the `harness` feature, [`harness`] adds a fault-injecting HTTP
//! upstream and an MCP client driver over stdio, for proving that a server
//! built with these patterns behaves under failure.
//!
//! Time is read from `tokio::time`, so everything here runs under tokio's
//! paused clock in tests.

pub mod authz;
pub mod breaker;
pub mod gate;
pub mod idempotency;
pub mod retry;
pub mod safe_error;
pub mod settle;
pub mod timeout;

#[cfg(feature = "harness")]
pub mod harness;

// The README's examples, compiled as doctests (it shows the harness too, so
// only with that feature).
#[cfg(all(doctest, feature = "harness"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
