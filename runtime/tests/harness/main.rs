//! The harness against itself: the upstream over real sockets on
//! 127.0.0.1, the driver against the fake server binary. Real time, small
//! durations; only lower bounds on time are asserted, and every wait is
//! bounded.

mod driver;
mod upstream;

use std::future::Future;
use std::time::Duration;

/// Fails the test instead of hanging it.
pub async fn bounded<F: Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .unwrap_or_else(|_| panic!("{what}: still waiting after 30 s"))
}

/// Polls `cond` every 10 ms, at most 30 s.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..3000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what}: not so after 30 s");
}
