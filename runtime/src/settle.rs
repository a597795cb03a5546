//! Settled aggregation: the successes, plus the names of the sources that
//! failed.
//!
//! Guarantees:
//! - Every source runs to its own outcome: one failing does not cancel or
//!   fail the others.
//! - Each source is reported exactly once, either in [`Settled::ok`] (in the
//!   order the sources were given) or in [`Settled::partial`] with the
//!   reason.
//! - With a limit, at most that many sources run at once.
//! - With [`settle_until`], nothing runs past the deadline: a source still
//!   running then is cancelled and reported [`FailReason::TimedOut`], and one
//!   not yet started is not started.
//!
//! Built on `futures-util`'s `buffer_unordered`, which bounds concurrency
//! without spawning (so sources may borrow).

use std::future::Future;

use futures_util::stream::{self, StreamExt};

use crate::timeout::Deadline;

/// Why a source is missing from the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailReason<E> {
    /// It returned an error.
    Error(E),
    /// The deadline passed before it finished.
    TimedOut,
}

/// A source that did not deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed<E> {
    pub source: String,
    pub reason: FailReason<E>,
}

/// What the sources delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled<T, E> {
    /// The successful results, by source name, in the order given.
    pub ok: Vec<(String, T)>,
    /// The sources that failed, in the order given.
    pub partial: Vec<Failed<E>>,
}

impl<T, E> Settled<T, E> {
    /// Whether every source delivered.
    pub fn is_complete(&self) -> bool {
        self.partial.is_empty()
    }

    /// The names of the sources that failed, to tell the caller the answer
    /// is partial.
    pub fn partial_names(&self) -> Vec<&str> {
        self.partial.iter().map(|f| f.source.as_str()).collect()
    }
}

/// Runs every source, at most `limit` at once (`None`: all at once), and
/// collects what each delivered. Give each source its own timeout, or use
/// [`settle_until`].
pub async fn settle<N, T, E, F>(
    sources: impl IntoIterator<Item = (N, F)>,
    limit: Option<usize>,
) -> Settled<T, E>
where
    N: Into<String>,
    F: Future<Output = Result<T, E>>,
{
    collect(sources, limit, None).await
}

/// [`settle`], with every source cut off at `deadline`.
pub async fn settle_until<N, T, E, F>(
    deadline: Deadline,
    sources: impl IntoIterator<Item = (N, F)>,
    limit: Option<usize>,
) -> Settled<T, E>
where
    N: Into<String>,
    F: Future<Output = Result<T, E>>,
{
    collect(sources, limit, Some(deadline)).await
}

async fn collect<N, T, E, F>(
    sources: impl IntoIterator<Item = (N, F)>,
    limit: Option<usize>,
    deadline: Option<Deadline>,
) -> Settled<T, E>
where
    N: Into<String>,
    F: Future<Output = Result<T, E>>,
{
    let runs = sources.into_iter().enumerate().map(|(i, (name, fut))| {
        let name: String = name.into();
        async move {
            let outcome = match deadline {
                Some(d) => match d.run(fut).await {
                    Ok(r) => r.map_err(FailReason::Error),
                    Err(_) => Err(FailReason::TimedOut),
                },
                None => fut.await.map_err(FailReason::Error),
            };
            (i, name, outcome)
        }
    });
    let mut done: Vec<_> = stream::iter(runs)
        .buffer_unordered(limit.unwrap_or(usize::MAX).max(1))
        .collect()
        .await;
    done.sort_by_key(|(i, _, _)| *i);
    let mut settled = Settled {
        ok: Vec::new(),
        partial: Vec::new(),
    };
    for (_, source, outcome) in done {
        match outcome {
            Ok(v) => settled.ok.push((source, v)),
            Err(reason) => settled.partial.push(Failed { source, reason }),
        }
    }
    settled
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::time::Duration;

    type Src = Pin<Box<dyn Future<Output = Result<u32, String>>>>;

    fn after(ms: u64, r: Result<u32, &str>) -> Src {
        let r = r.map_err(str::to_owned);
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            r
        })
    }

    #[tokio::test(start_paused = true)]
    async fn failures_are_named_and_the_rest_delivered() {
        let s = settle(
            [
                ("weather", after(30, Ok(1))),
                ("news", after(10, Err("503"))),
                ("stocks", after(20, Ok(3))),
            ],
            None,
        )
        .await;
        assert_eq!(s.ok, vec![("weather".into(), 1), ("stocks".into(), 3)]);
        assert_eq!(s.partial_names(), ["news"]);
        assert_eq!(s.partial[0].reason, FailReason::Error("503".into()));
        assert!(!s.is_complete());
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_cuts_off_a_hanging_source() {
        let start = tokio::time::Instant::now();
        let s = settle_until(
            Deadline::after(Duration::from_millis(100)),
            [
                ("fast", after(10, Ok(1))),
                ("hang", after(1_000_000, Ok(2))),
            ],
            Some(1),
        )
        .await;
        assert_eq!(s.ok, vec![("fast".into(), 1)]);
        assert_eq!(s.partial[0].reason, FailReason::TimedOut);
        assert_eq!(start.elapsed(), Duration::from_millis(100));
    }
}
