//! What a rule reports.

use crate::facts::Span;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    /// GitHub code scanning's `security-severity` for this level.
    pub fn security_severity(self) -> &'static str {
        match self {
            Severity::Low => "3.0",
            Severity::Medium => "5.5",
            Severity::High => "8.0",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Axis {
    Maintenance,
    Security,
}

impl Axis {
    pub fn as_str(self) -> &'static str {
        match self {
            Axis::Maintenance => "maintenance",
            Axis::Security => "security",
        }
    }
}

impl fmt::Display for Axis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A place in a scanned file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// Relative to the working directory where possible, `/`-separated.
    pub path: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Related {
    pub location: Location,
    pub message: String,
}

/// A mechanical fix: replace the bytes of `span` with `replacement`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fix {
    pub description: String,
    pub edits: Vec<Edit>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule_id: &'static str,
    pub rule_name: &'static str,
    pub axis: Axis,
    pub severity: Severity,
    pub location: Location,
    pub message: String,
    /// How to fix it, in words.
    pub help: String,
    pub related: Vec<Related>,
    pub fix: Option<Fix>,
    /// Line-shift-stable identity, shared by SARIF and the baseline. Filled
    /// in by `scan` once every finding of the file is known (see
    /// [`crate::fingerprint`]).
    pub fingerprint: String,
}

impl Finding {
    /// The order every output uses: path, line, column, rule.
    pub fn sort_key(&self) -> (&str, u32, u32, &str, &str) {
        (
            &self.location.path,
            self.location.span.start_line,
            self.location.span.start_col,
            self.rule_id,
            &self.message,
        )
    }
}

/// A file that was not scanned, and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// Something about the scan itself that the user must know, carried in
/// every output: `code` is stable, for machines; `message` is for people.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
}

/// The reason of a skipped empty file (`__init__.py`): common and harmless,
/// so outputs count these rather than list them.
pub const EMPTY_FILE: &str = "empty file";

/// The code of the warning that no file was scanned.
pub const NO_FILES_SCANNED: &str = "no-files-scanned";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_and_map_to_security_severity() {
        assert!(Severity::Low < Severity::Medium && Severity::Medium < Severity::High);
        assert_eq!(Severity::High.security_severity(), "8.0");
    }
}
