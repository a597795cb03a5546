//! MCP001 unused-suppression
//!
//! ## What it finds
//! An inline suppression that hides nothing, or names a rule mcp-audit
//! does not know.
//!
//! Reported: a suppression whose rules reported nothing on its line (or in
//! its file, for `ignore-file`); one naming a rule this version does not
//! know (a typo, or a rule from a newer version); an empty list
//! (`ignore[]`); a `[` never closed.
//!
//! A suppression is a comment holding `mcp-audit: ignore[MCP101] reason`
//! (ids or names, comma-separated) at the end of the flagged line or alone
//! on the line above it; `mcp-audit: ignore-file[MCP101]` anywhere in a
//! file covers the whole file; `ignore` or `ignore-file` with no list
//! covers every rule. A list hides only the rules it names that exist: in
//! `ignore[MCP101, MCP999]` MCP101 is hidden, and MCP999 is reported here.
//! A list of unknown rules hides nothing.
//!
//! ## Why it matters
//! Suppressions outlive the code they were written for. Once the call is
//! fixed or moved, a stale `ignore[MCP101]` silently hides the next
//! unbounded call someone writes on that line. A mistyped id looks like a
//! suppression in review and hides nothing, or, read loosely, everything.
//! Reporting both keeps the list of accepted risks short and true.
//!
//! ## Flagged
//! ```python
//! r = requests.get(url, timeout=5)  # mcp-audit: ignore[MCP101] no finding left to hide
//! r = requests.get(url)  # mcp-audit: ignore[MCP1O1] a typo: hides nothing
//! ```
//! ```ts
//! // mcp-audit: ignore[unbounded-awiat]
//! const r = await fetch(url);
//! ```
//!
//! ## Fixed
//! ```python
//! r = requests.get(url, timeout=5)
//! r = requests.get(url)  # mcp-audit: ignore[MCP101] sidecar on localhost
//! ```
//! ```ts
//! // mcp-audit: ignore[unbounded-await] sidecar on localhost
//! const r = await fetch(url);
//! ```
//!
//! ## Limits
//! - A suppression naming a rule that did not run (`--select`, `--ignore`,
//!   config `ignore`) is not judged unused: that rule could not have matched.
//!   Unknown rule names are reported whatever ran.
//! - Only files that are scanned are judged; suppressions in skipped or
//!   excluded files are not seen.
//! - Turn it off like any rule: `--ignore MCP001` or `ignore = ["MCP001"]`.
//!   It does not count towards the grades: it is about the audit's own
//!   configuration, not the server.
//! - Its findings come from the suppression pass, after every other rule
//!   has run, so `ignore[MCP001]` cannot hide one.

use super::Rule;
use crate::finding::{Axis, Finding, Severity};
use crate::link::Project;

pub const ID: &str = "MCP001";
pub const NAME: &str = "unused-suppression";

pub static RULE: Rule = Rule {
    id: ID,
    name: NAME,
    axis: Axis::Maintenance,
    severity: Severity::Low,
    cwe: &[],
    precision: "very-high",
    source: include_str!("unused_suppression.rs"),
    check,
};

/// Nothing per module: the suppression pass (`suppress::apply_inline`)
/// reports this rule once every other rule's findings are known.
fn check(_: &Project, _: u32, _: &mut Vec<Finding>) {}
