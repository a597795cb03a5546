//! A concurrency gate that fails fast.
//!
//! Guarantees:
//! - Never more than `capacity` calls inside at once.
//! - A call that finds the gate full is refused at once with [`GateFull`]: it
//!   does not queue, so a burst cannot build a backlog that outlives the
//!   callers' deadlines.
//! - A slot is given back when its [`GatePermit`] is dropped, whether the call
//!   finished, failed, panicked or was cancelled.
//!
//! Built on `tokio::sync::Semaphore::try_acquire_owned`, which is exactly
//! this; tower's `ConcurrencyLimit` waits instead of failing, and its
//! `LoadShed` pairing needs a `Service`, which an MCP tool handler is not.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The gate is full; the call was not started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("busy: {capacity} requests already in progress, try again later")]
pub struct GateFull {
    pub capacity: usize,
}

/// At most `capacity` calls at once; the rest are refused. Clones share
/// the same slots.
#[derive(Debug, Clone)]
pub struct Gate {
    capacity: usize,
    slots: Arc<Semaphore>,
}

/// One slot in the gate, held for as long as it lives.
#[derive(Debug)]
pub struct GatePermit {
    _permit: OwnedSemaphorePermit,
}

impl Gate {
    /// A gate with `capacity` slots (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            capacity,
            slots: Arc::new(Semaphore::new(capacity)),
        }
    }

    /// Its number of slots.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Calls inside now.
    pub fn in_flight(&self) -> usize {
        self.capacity - self.slots.available_permits()
    }

    /// Takes a slot, or says the gate is full.
    pub fn try_enter(&self) -> Result<GatePermit, GateFull> {
        self.slots
            .clone()
            .try_acquire_owned()
            .map(|p| GatePermit { _permit: p })
            .map_err(|_| GateFull {
                capacity: self.capacity,
            })
    }

    /// Runs `fut` in a slot, or refuses at once without polling it.
    pub async fn run<F: Future>(&self, fut: F) -> Result<F::Output, GateFull> {
        let _permit = self.try_enter()?;
        Ok(fut.await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn refuses_when_full_and_frees_on_drop() {
        let gate = Gate::new(2);
        let a = gate.try_enter().unwrap();
        let _b = gate.try_enter().unwrap();
        assert_eq!(gate.in_flight(), 2);
        assert_eq!(gate.try_enter().unwrap_err(), GateFull { capacity: 2 });
        let mut ran = false;
        assert!(gate.run(async { ran = true }).await.is_err());
        assert!(!ran);
        drop(a);
        assert_eq!(gate.in_flight(), 1);
        let cancelled = gate.run(tokio::time::sleep(Duration::from_secs(5)));
        assert!(tokio::time::timeout(Duration::from_millis(1), cancelled)
            .await
            .is_err());
        assert_eq!(gate.in_flight(), 1, "a cancelled call gives its slot back");
    }
}
