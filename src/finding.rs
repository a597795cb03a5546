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
    /// The path from the MCP entry point that runs this code to it: the
    /// entry's registration, then each call on the way (SARIF `codeFlows`).
    /// Empty when no entry point reaches it.
    pub flow: Vec<Related>,
    /// Why this finding is in code no MCP server runs; `None` when an entry
    /// point reaches it. Left-out findings are reported only with
    /// `--scope all`.
    pub left_out: Option<LeftOut>,
    pub fix: Option<Fix>,
    /// Line-shift-stable identity, shared by SARIF and the baseline. Filled
    /// in by `scan` once every finding of the file is known (see
    /// [`crate::fingerprint`]).
    pub fingerprint: String,
}

impl Finding {
    /// This finding with its own severity instead of its rule's default:
    /// for a rule whose sites differ in how bad they are (MCP102 reports a
    /// retry with no attempt cap as medium, one with a cap as low). Every
    /// output, `--fail-on` and the grades read the finding's severity.
    pub fn with_severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
    }

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

/// Why a site is not in code an MCP server runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeftOut {
    /// Tests: `#[cfg(test)]`, `#[test]`, `test_*` functions, `describe`/`it` blocks.
    Test,
    /// An `if __name__ == "__main__":` body.
    MainBlock,
    /// A Cargo build script.
    BuildScript,
    /// Code that creates an MCP client or client transport.
    McpClient,
    /// A package with no MCP server in it (scripts, examples, other apps).
    NotAServer,
    /// Module-level code, or a function no MCP entry point reaches.
    Unreached,
}

impl LeftOut {
    pub const ALL: [LeftOut; 6] = [
        LeftOut::Test,
        LeftOut::MainBlock,
        LeftOut::BuildScript,
        LeftOut::McpClient,
        LeftOut::NotAServer,
        LeftOut::Unreached,
    ];

    /// A stable key for reports (JSON, SARIF properties).
    pub fn key(self) -> &'static str {
        match self {
            LeftOut::Test => "test",
            LeftOut::MainBlock => "main-block",
            LeftOut::BuildScript => "build-script",
            LeftOut::McpClient => "mcp-client",
            LeftOut::NotAServer => "not-a-server",
            LeftOut::Unreached => "unreached",
        }
    }

    /// Words for people.
    pub fn describe(self) -> &'static str {
        match self {
            LeftOut::Test => "test code",
            LeftOut::MainBlock => "`if __name__ == \"__main__\":` blocks",
            LeftOut::BuildScript => "build scripts",
            LeftOut::McpClient => "MCP client code",
            LeftOut::NotAServer => "packages with no MCP server",
            LeftOut::Unreached => "code no MCP handler reaches",
        }
    }
}

/// A file that was not scanned, and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// The reason of a skipped empty file (`__init__.py`): common and harmless,
/// so outputs count these rather than list them.
pub const EMPTY_FILE: &str = "empty file";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_and_map_to_security_severity() {
        assert!(Severity::Low < Severity::Medium && Severity::Medium < Severity::High);
        assert_eq!(Severity::High.security_severity(), "8.0");
    }
}
