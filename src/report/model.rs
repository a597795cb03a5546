//! The report model: what a scan found, and what the user must know about
//! the scan itself. Every output format renders this and nothing else.
//! Re-exported as `mcp_audit::Report` and `mcp_audit::Warning`.

use crate::finding::{self, Finding, Skipped};
use crate::grade;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// What a scan found.
#[derive(Debug, Default)]
pub struct Report {
    /// Sorted by path, line, column, rule.
    pub findings: Vec<Finding>,
    /// Files not scanned, and why; sorted by path.
    pub skipped: Vec<Skipped>,
    /// Files discovered in a known language: those under the directories
    /// named, and the files named. Not those read only for context.
    pub files_discovered: usize,
    /// Discovered files that were read and examined: `files_discovered`
    /// less the discovered files that were skipped.
    pub files_scanned: usize,
    /// Scanned files parsed (the rest were skipped or had nothing any rule
    /// looks at).
    pub files_parsed: usize,
    /// Files of the packages around the files named on their own, read so
    /// that those are judged in context (see
    /// [`crate::discover::discover_in_context`]); none of their findings
    /// or skips are reported, and they are not counted above.
    pub files_context: usize,
    /// MCP tool handlers found, in the scanned files and their context.
    pub tools: usize,
    /// MCP entry points of every kind found (tools, resources, prompts,
    /// request handlers, auth checks, routes).
    pub entry_points: usize,
    /// Findings in code no MCP server runs, by reason: left out of
    /// `findings` unless `--scope all`, where they stay, marked.
    pub left_out: BTreeMap<finding::LeftOut, usize>,
    /// `--scope all`: left-out findings are in `findings`, marked.
    pub scope_all: bool,
    /// The rules that ran, by id.
    pub rules_run: Vec<&'static str>,
    /// Whether unused suppressions were reported (MCP001 selected).
    pub unused_reported: bool,
    /// The text of every file with a finding, by display path.
    pub sources: BTreeMap<String, Arc<str>>,
    /// Scores and letters from `findings` (see [`grade`]).
    pub grades: grade::Grades,
    /// What the user must know about the scan itself (nothing scanned).
    pub warnings: Vec<Warning>,
    /// Findings the baseline knows, left out of `findings`; in the same
    /// order. `--write-baseline` records them with `findings`.
    pub baselined: Vec<Finding>,
    /// The display path of every scanned file → its path relative to the
    /// project root (what fingerprints and the baseline use).
    pub project_paths: BTreeMap<String, String>,
}

impl Report {
    /// What the scope left out, in one sentence for people; `None` when
    /// there is nothing to say. Every format prints the same words.
    pub fn scope_note(&self) -> Option<String> {
        let n: usize = self.left_out.values().sum();
        let reasons = self
            .left_out
            .iter()
            .map(|(why, k)| format!("{k} in {}", why.describe()))
            .collect::<Vec<_>>()
            .join(", ");
        let s = if n == 1 { "" } else { "s" };
        if self.entry_points == 0 && self.files_parsed > 0 {
            let what = if n == 0 {
                String::new()
            } else if self.scope_all {
                format!("; {n} finding{s} reported with --scope all")
            } else {
                format!("; {n} finding{s} left out")
            };
            return Some(format!(
                "no MCP server found in these paths (no tool, resource, prompt or request handler){what}: findings are reported only in code an MCP server runs; `--scope all` reports every one"
            ));
        }
        if n == 0 {
            return None;
        }
        Some(if self.scope_all {
            format!(
                "{n} finding{s} in code no MCP server runs, reported with --scope all ({reasons})"
            )
        } else {
            format!("{n} finding{s} in code no MCP server runs left out ({reasons}); `--scope all` reports them")
        })
    }
}

/// Something about the scan itself that the user must know, carried in
/// every output: `code` is stable, for machines; `message` is for people.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
}

/// The code of the warning that no file was scanned.
pub const NO_FILES_SCANNED: &str = "no-files-scanned";

impl Warning {
    /// No file was scanned, saying why as far as we know: `discovered`
    /// files were found under `paths`, and all were skipped.
    pub fn nothing_scanned(paths: &[PathBuf], discovered: usize) -> Warning {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        let message = if discovered == 0 {
            format!(
                "no file was scanned: no Python, TypeScript, JavaScript or Rust file in {} \
                 (excluded, .gitignored, hidden, test and vendored paths are left out); \
                 nothing is graded",
                shown.join(", ")
            )
        } else if discovered == 1 {
            "no file was scanned: the only file found was skipped; nothing is graded".to_string()
        } else {
            format!(
                "no file was scanned: all {discovered} files found were skipped; nothing is graded"
            )
        };
        Warning {
            code: NO_FILES_SCANNED,
            message,
        }
    }
}
