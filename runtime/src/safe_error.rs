//! Safe errors: the detail goes to the log, the caller sees a reference id.
//!
//! Guarantees:
//! - A [`SafeError`] never holds the detail it was made from. The detail is
//!   handed to a sink (by default `tracing`, at error level, with the id)
//!   when the error is made, and then dropped, so `Display`, `Debug` and
//!   `source()` cannot leak paths, hosts, SQL or stack traces: they show a
//!   fixed public message and the id.
//! - The public message is a `&'static str`, so it cannot be built from the
//!   error text at run time by accident.
//! - The id is 12 hex digits (48 random bits): enough to find the log line,
//!   nothing to learn from.

use std::error::Error;
use std::fmt;
use std::sync::Mutex;

/// Where an error's detail goes.
pub trait ErrorSink: Send + Sync {
    /// Records `detail` under `id`; `public` is what the caller was shown.
    fn record(&self, id: &str, public: &str, detail: &str);
}

/// Logs through `tracing` at error level, with fields `error_ref`,
/// `public` and `detail`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingSink;

impl ErrorSink for TracingSink {
    fn record(&self, id: &str, public: &str, detail: &str) {
        tracing::error!(error_ref = id, public, detail, "request failed");
    }
}

/// Keeps records in memory, for tests: `(id, public, detail)`.
#[derive(Debug, Default)]
pub struct MemorySink {
    records: Mutex<Vec<(String, String, String)>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything recorded so far.
    pub fn records(&self) -> Vec<(String, String, String)> {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl ErrorSink for MemorySink {
    fn record(&self, id: &str, public: &str, detail: &str) {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((id.to_owned(), public.to_owned(), detail.to_owned()));
    }
}

/// An error safe to show a client: a fixed message and a reference id.
#[derive(Clone, PartialEq, Eq)]
pub struct SafeError {
    id: String,
    public: &'static str,
}

impl SafeError {
    /// Logs `detail` through `tracing` and returns an error showing only
    /// `public` and the id.
    pub fn new(public: &'static str, detail: impl fmt::Display) -> Self {
        Self::with_sink(&TracingSink, public, detail)
    }

    /// Like [`SafeError::new`], recording the detail in `sink`.
    pub fn with_sink(
        sink: &dyn ErrorSink,
        public: &'static str,
        detail: impl fmt::Display,
    ) -> Self {
        let id = format!("{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff);
        sink.record(&id, public, &detail.to_string());
        Self { id, public }
    }

    /// Logs `err` with its whole `source()` chain.
    pub fn from_error(public: &'static str, err: &(dyn Error + 'static)) -> Self {
        Self::new(public, chain(err))
    }

    /// The reference id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The public message, without the id.
    pub fn public_message(&self) -> &'static str {
        self.public
    }
}

/// `err: cause: cause`, as far down as the chain goes.
pub fn chain(err: &(dyn Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    // A cyclic chain is possible in principle; 64 causes is plenty.
    for _ in 0..64 {
        let Some(e) = next else { break };
        out.push_str(": ");
        out.push_str(&e.to_string());
        next = e.source();
    }
    out
}

impl fmt::Display for SafeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (ref {})", self.public, self.id)
    }
}

impl fmt::Debug for SafeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SafeError")
            .field("id", &self.id)
            .field("public", &self.public)
            .finish()
    }
}

impl Error for SafeError {}

/// `result.or_safe("lookup failed")?` in a tool handler.
pub trait ResultExt<T> {
    /// Turns the error into a [`SafeError`], logging its chain.
    fn or_safe(self, public: &'static str) -> Result<T, SafeError>;
}

impl<T, E: Error + 'static> ResultExt<T> for Result<T, E> {
    fn or_safe(self, public: &'static str) -> Result<T, SafeError> {
        self.map_err(|e| SafeError::from_error(public, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEAK: &str =
        "SELECT * FROM users WHERE id = 7 at db.internal:5432 (/var/lib/app/db.sqlite)";

    #[test]
    fn the_detail_goes_to_the_sink_and_nowhere_else() {
        let sink = MemorySink::new();
        let e = SafeError::with_sink(&sink, "lookup failed", LEAK);
        let shown = format!("{e} {e:?} {e:#?}");
        assert!(!shown.contains("db.internal"), "{shown}");
        assert!(!shown.contains("SELECT"), "{shown}");
        assert_eq!(e.to_string(), format!("lookup failed (ref {})", e.id()));
        assert_eq!(e.id().len(), 12);
        assert!(e.source().is_none());
        let records = sink.records();
        assert_eq!(
            records,
            vec![(
                e.id().to_owned(),
                "lookup failed".to_owned(),
                LEAK.to_owned()
            )]
        );
    }

    #[test]
    fn ids_differ() {
        let sink = MemorySink::new();
        let a = SafeError::with_sink(&sink, "x", "a");
        let b = SafeError::with_sink(&sink, "x", "b");
        assert_ne!(a.id(), b.id());
    }

    #[test]
    fn or_safe_logs_the_chain() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("query failed")
            }
        }
        impl Error for Outer {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                Some(&self.0)
            }
        }
        let inner = std::io::Error::other("/var/lib/app/db.sqlite: permission denied");
        assert_eq!(
            chain(&Outer(inner)),
            "query failed: /var/lib/app/db.sqlite: permission denied"
        );
        let r: Result<(), _> = Err(Outer(std::io::Error::other("x")));
        let e = r.or_safe("lookup failed").unwrap_err();
        assert!(e.to_string().starts_with("lookup failed (ref "));
    }
}
