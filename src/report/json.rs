//! JSON output, schema version 2.
//!
//! Stable: keys in a fixed order, findings sorted by path, line, column,
//! rule; the same bytes for any `--jobs`. Fields may be added within a
//! version; a field is never removed or changes meaning without a new
//! `version`.
//!
//! Version 2 (from 1): a grade's `score` and `grade` are `null` for an axis
//! that is not graded; added `summary.files_scanned`, `summary.baselined`
//! and `warnings`. Added within version 2: `summary.files_context`, a
//! finding's `fix`.
//!
//! ```text
//! {
//!   "version": 2,                      // this schema
//!   "tool": {"name": "mcp-audit", "version": "0.1.0"},
//!   "summary": {
//!     "files_discovered": 12,          // files in a known language, under the paths given
//!     "files_scanned": 11,             // files_discovered less the skipped ones; 0: see `warnings`
//!     "files_parsed": 7,               // the rest mention nothing a rule reads, or were skipped
//!     "files_context": 0,              // files of the packages around files named on their own, read
//!                                      // only to judge those; not counted above, never reported on
//!     "files_skipped": 1,              // = skipped.length
//!     "tools": 4,                      // MCP tool handlers found
//!     "findings": 3,                   // = findings.length (suppressed ones are not counted)
//!     "baselined": 2,                  // findings the --baseline knows, left out of `findings`
//!     "by_severity": {"medium": 3},    // only severities with findings; keys sorted
//!     "by_rule": {"MCP101": 3},        // only rules with findings; keys sorted
//!     "rules_run": ["MCP101"],         // ids of the rules that ran, in id order
//!     "grades": {                      // see the `grade` module for the formula
//!       "maintenance": {"score": 76, "grade": "C"},   // score 0..=100, grade A|B|C|D|F
//!       "security": {"score": null, "grade": null},   // null: not graded (no rule that ran covers it)
//!       "overall": {"score": 76, "grade": "C"}        // the lowest graded axis; null if none is
//!     }
//!   },
//!   "warnings": [{"code": "no-files-scanned", "message": "..."}],  // about the scan itself
//!   "findings": [{
//!     "rule": "MCP101", "name": "unbounded-await",
//!     "axis": "maintenance",           // maintenance | security
//!     "severity": "medium",            // low | medium | high
//!     "path": "src/server.py",         // relative to the working directory where possible, `/`-separated
//!     "line": 12, "column": 9,         // 1-based; columns count Unicode scalar values
//!     "end": {"line": 12, "column": 40},   // exclusive end
//!     "message": "...", "help": "...",
//!     "related": [{"path": "...", "line": 8, "column": 1, "message": "reached from MCP tool `forecast`"}],
//!     "fingerprint": "9f0c...",        // line-shift-stable id, the same as SARIF's partialFingerprints
//!     "fix": {"description": "pass `timeout=30`",   // only when --fix has one (see README, Fixes)
//!             "edits": [{"start": {"line": 12, "column": 40}, "end": {"line": 12, "column": 40},
//!                        "content": ", timeout=30"}]}
//!   }],
//!   "skipped": [{"path": "big.js", "reason": "..."}]   // files not scanned, and why
//! }
//! ```

use super::{char_end, char_position};
use crate::finding::Finding;
use crate::grade::Grades;
use crate::Report;
use serde::Serialize;
use std::collections::BTreeMap;

pub const SCHEMA_VERSION: u32 = 2;

#[derive(Serialize)]
struct Out<'a> {
    version: u32,
    tool: Tool,
    summary: Summary,
    warnings: &'a [crate::Warning],
    findings: Vec<JFinding<'a>>,
    skipped: &'a [crate::finding::Skipped],
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Summary {
    files_discovered: usize,
    files_scanned: usize,
    files_parsed: usize,
    files_context: usize,
    files_skipped: usize,
    tools: usize,
    /// MCP entry points of every kind (tools, resources, prompts, request
    /// handlers, auth checks, routes).
    entry_points: usize,
    findings: usize,
    /// Findings in code no MCP server runs, by reason (`test`, `main-block`,
    /// `build-script`, `mcp-client`, `not-a-server`, `unreached`).
    left_out: BTreeMap<&'static str, usize>,
    /// `reached` (default) or `all`.
    scope: &'static str,
    baselined: usize,
    by_severity: BTreeMap<&'static str, usize>,
    by_rule: BTreeMap<&'static str, usize>,
    rules_run: Vec<&'static str>,
    grades: Grades,
}

#[derive(Serialize)]
struct Pos {
    line: u32,
    column: u32,
}

#[derive(Serialize)]
struct JRelated<'a> {
    path: &'a str,
    line: u32,
    column: u32,
    message: &'a str,
}

#[derive(Serialize)]
struct JFinding<'a> {
    rule: &'static str,
    name: &'static str,
    axis: &'static str,
    severity: &'static str,
    path: &'a str,
    line: u32,
    column: u32,
    end: Pos,
    message: &'a str,
    help: &'a str,
    related: Vec<JRelated<'a>>,
    /// With `--scope all`: why no MCP server runs this code.
    #[serde(skip_serializing_if = "Option::is_none")]
    left_out: Option<&'static str>,
    fingerprint: &'a str,
    /// The mechanical fix `--fix` would make, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<JFix<'a>>,
}

#[derive(Serialize)]
struct JFix<'a> {
    description: &'a str,
    edits: Vec<JEdit<'a>>,
}

/// Replace the text from `start` to `end` (exclusive; equal for an
/// insertion) with `content`.
#[derive(Serialize)]
struct JEdit<'a> {
    start: Pos,
    end: Pos,
    content: &'a str,
}

pub fn render(report: &Report) -> String {
    let src = |p: &str| report.sources.get(p).map(|s| s.as_ref());
    let findings: Vec<JFinding> = report
        .findings
        .iter()
        .map(|f: &Finding| {
            let (line, column) = char_position(src(&f.location.path), &f.location.span);
            let (el, ec) = char_end(src(&f.location.path), &f.location.span);
            JFinding {
                rule: f.rule_id,
                name: f.rule_name,
                axis: f.axis.as_str(),
                severity: f.severity.as_str(),
                path: &f.location.path,
                line,
                column,
                end: Pos {
                    line: el,
                    column: ec,
                },
                message: &f.message,
                help: &f.help,
                related: f
                    .related
                    .iter()
                    .map(|r| {
                        let (line, column) = char_position(src(&r.location.path), &r.location.span);
                        JRelated {
                            path: &r.location.path,
                            line,
                            column,
                            message: &r.message,
                        }
                    })
                    .collect(),
                left_out: f.left_out.map(|w| w.key()),
                fingerprint: &f.fingerprint,
                fix: f.fix.as_ref().map(|x| JFix {
                    description: &x.description,
                    edits: x
                        .edits
                        .iter()
                        .map(|e| {
                            let (line, column) = char_position(src(&f.location.path), &e.span);
                            let (el, ec) = char_end(src(&f.location.path), &e.span);
                            JEdit {
                                start: Pos { line, column },
                                end: Pos {
                                    line: el,
                                    column: ec,
                                },
                                content: &e.replacement,
                            }
                        })
                        .collect(),
                }),
            }
        })
        .collect();
    let mut by_severity = BTreeMap::new();
    let mut by_rule = BTreeMap::new();
    for f in &report.findings {
        *by_severity.entry(f.severity.as_str()).or_insert(0) += 1;
        *by_rule.entry(f.rule_id).or_insert(0) += 1;
    }
    let out = Out {
        version: SCHEMA_VERSION,
        tool: Tool {
            name: "mcp-audit",
            version: env!("CARGO_PKG_VERSION"),
        },
        summary: Summary {
            files_discovered: report.files_discovered,
            files_scanned: report.files_scanned,
            files_parsed: report.files_parsed,
            files_context: report.files_context,
            files_skipped: report.skipped.len(),
            tools: report.tools,
            entry_points: report.entry_points,
            findings: report.findings.len(),
            left_out: report.left_out.iter().map(|(w, n)| (w.key(), *n)).collect(),
            scope: if report.scope_all { "all" } else { "reached" },
            baselined: report.baselined.len(),
            by_severity,
            by_rule,
            rules_run: report.rules_run.clone(),
            grades: report.grades,
        },
        warnings: &report.warnings,
        findings,
        skipped: &report.skipped,
    };
    let mut s = serde_json::to_string_pretty(&out).expect("report serializes");
    s.push('\n');
    s
}
