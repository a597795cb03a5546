//! Renders a [`Report`](crate::Report) for people and machines.

pub mod concise;
pub mod github;
pub mod json;
pub mod model;
pub mod sarif;
pub mod terminal;

use crate::facts::Span;
use crate::finding::Severity;
use crate::Report;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// `, N more read for context` after the count of files scanned, when
/// files named on their own were judged within their packages; empty
/// otherwise. Every summary line says it the same way.
pub fn context_note(report: &Report) -> String {
    match report.files_context {
        0 => String::new(),
        n => format!(", {n} more read for context"),
    }
}

/// `N fixable with --fix (--diff shows the edits).`, when any finding
/// carries a fix; the same words in every human format, as ruff says it.
pub fn fixable_note(report: &Report) -> Option<String> {
    let n = report
        .findings
        .iter()
        .filter(|f| f.fix.as_ref().is_some_and(|x| !x.edits.is_empty()))
        .count();
    (n > 0).then(|| format!("{n} fixable with `--fix` (`--diff` shows the edits first)."))
}

/// How many findings one rule has (`--statistics`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleCount {
    pub rule: &'static str,
    pub name: &'static str,
    /// The most severe of its findings.
    pub severity: Severity,
    pub count: usize,
}

/// Findings per rule, the most frequent first, then by id.
pub fn rule_counts(report: &Report) -> Vec<RuleCount> {
    let mut by_rule: BTreeMap<&str, RuleCount> = BTreeMap::new();
    for f in &report.findings {
        let e = by_rule.entry(f.rule_id).or_insert(RuleCount {
            rule: f.rule_id,
            name: f.rule_name,
            severity: f.severity,
            count: 0,
        });
        e.severity = e.severity.max(f.severity);
        e.count += 1;
    }
    let mut out: Vec<RuleCount> = by_rule.into_values().collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.rule.cmp(b.rule)));
    out
}

/// The `--statistics` table: count, rule, name, severity.
pub fn statistics_text(counts: &[RuleCount]) -> String {
    let mut out = String::new();
    if counts.is_empty() {
        return out;
    }
    let _ = writeln!(out, "{:>6}  {:<8} {:<28} severity", "count", "rule", "name");
    for c in counts {
        let _ = writeln!(
            out,
            "{:>6}  {:<8} {:<28} {}",
            c.count, c.rule, c.name, c.severity
        );
    }
    out
}

/// The `--statistics` table as JSON: an array of `{rule, name, severity,
/// count}`, the most frequent first.
pub fn statistics_json(counts: &[RuleCount]) -> String {
    serde_json::to_string_pretty(counts).expect("counts serialize") + "\n"
}

/// 1-based line and column of `span`'s start in `source`, the column counted
/// in Unicode scalar values (what editors show). Falls back to the byte
/// column when the source is not at hand.
pub fn char_position(source: Option<&str>, span: &Span) -> (u32, u32) {
    (
        span.start_line,
        char_col(source, span.start_line, span.start_col),
    )
}

pub fn char_end(source: Option<&str>, span: &Span) -> (u32, u32) {
    (span.end_line, char_col(source, span.end_line, span.end_col))
}

fn char_col(source: Option<&str>, line: u32, byte_col: u32) -> u32 {
    match line_prefix(source, line, byte_col) {
        Some(p) => p.chars().count() as u32 + 1,
        None => byte_col + 1,
    }
}

/// The same, in UTF-16 code units (SARIF's `utf16CodeUnits`).
pub fn utf16_col(source: Option<&str>, line: u32, byte_col: u32) -> u32 {
    match line_prefix(source, line, byte_col) {
        Some(p) => p.encode_utf16().count() as u32 + 1,
        None => byte_col + 1,
    }
}

/// The text of 1-based `line` before byte column `byte_col` (clamped to a
/// character boundary), when the source is at hand.
fn line_prefix(source: Option<&str>, line: u32, byte_col: u32) -> Option<&str> {
    let text = source?.split('\n').nth(line.saturating_sub(1) as usize)?;
    let b = (byte_col as usize).min(text.len());
    let b = (0..=b)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    Some(&text[..b])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_count_per_rule_most_frequent_first() {
        let f = |rule: &'static str, severity| crate::finding::Finding {
            rule_id: rule,
            rule_name: "r",
            axis: crate::finding::Axis::Maintenance,
            severity,
            location: crate::finding::Location {
                path: "a.py".into(),
                span: Span::default(),
            },
            message: String::new(),
            help: String::new(),
            related: Vec::new(),
            flow: Vec::new(),
            left_out: None,
            fix: None,
            fingerprint: String::new(),
        };
        let report = Report {
            findings: vec![
                f("MCP101", Severity::Medium),
                f("MCP001", Severity::Low),
                f("MCP102", Severity::Low),
                f("MCP102", Severity::Medium),
            ],
            ..Report::default()
        };
        let c = rule_counts(&report);
        let got: Vec<(&str, usize, Severity)> =
            c.iter().map(|c| (c.rule, c.count, c.severity)).collect();
        assert_eq!(
            got,
            [
                ("MCP102", 2, Severity::Medium),
                ("MCP001", 1, Severity::Low),
                ("MCP101", 1, Severity::Medium)
            ]
        );
        let text = statistics_text(&c);
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .trim_start()
                .starts_with("2  MCP102"),
            "{text}"
        );
        assert!(statistics_text(&[]).is_empty());
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let src = "x = 1\né = requests.get(u)\n";
        // `requests` starts at byte 5 of line 2: "é = " is 5 bytes, 4 chars.
        assert_eq!(char_col(Some(src), 2, 5), 5);
        assert_eq!(utf16_col(Some(src), 2, 5), 5);
        let emoji = "s = '😀'; requests.get(u)";
        // 😀 is 4 bytes, 1 char, 2 UTF-16 units; `requests` starts at byte
        // 12, after 9 chars (10 UTF-16 units).
        assert_eq!(emoji.find("requests"), Some(12));
        assert_eq!(char_col(Some(emoji), 1, 12), 10);
        assert_eq!(utf16_col(Some(emoji), 1, 12), 11);
        // A byte column inside a character counts from its start.
        assert_eq!(utf16_col(Some(emoji), 1, 7), 6);
        // No source: the byte column, 1-based.
        assert_eq!(utf16_col(None, 1, 12), 13);
    }
}
