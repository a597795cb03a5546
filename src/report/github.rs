//! `--format github`: GitHub Actions workflow commands, which become
//! annotations on the PR's changed lines without code scanning.
//!
//! One line per finding, `::error` for high severity and `::warning` for
//! medium and low:
//!
//! ```text
//! ::warning file=src/a.py,line=12,col=9,endLine=12,endColumn=40,title=MCP101 unbounded-await::{message} — {help}
//! ```
//!
//! then a `::warning` for each warning about the scan (no file was
//! scanned) and for each skipped file (on the file, with the reason), a
//! `::notice` counting skipped empty files, and last one `::notice` with the
//! grades (`n/a` for an axis that is not graded). Findings come first:
//! GitHub shows only the first few annotations of each kind per step.
//! Columns count Unicode scalar values,
//! as in the JSON output; `col`/`endColumn` are left out of a finding that
//! spans several lines (GitHub rejects them there). Escaping follows the
//! Actions toolkit: in the message `%`, CR and LF become `%25`, `%0D`, `%0A`;
//! property values also escape `:` and `,` as `%3A` and `%2C`.

use super::{char_end, char_position};
use crate::finding::Severity;
use crate::Report;
use std::fmt::Write;

/// Escapes a workflow command's message.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let src = report.sources.get(&f.location.path).map(|s| s.as_ref());
        let (line, col) = char_position(src, &f.location.span);
        let (end_line, end_col) = char_end(src, &f.location.span);
        let command = match f.severity {
            Severity::High => "error",
            Severity::Medium | Severity::Low => "warning",
        };
        let mut props = format!("file={},line={line}", escape_property(&f.location.path));
        if end_line == line {
            let _ = write!(props, ",col={col},endLine={end_line},endColumn={end_col}");
        } else {
            let _ = write!(props, ",endLine={end_line}");
        }
        let _ = write!(
            props,
            ",title={}",
            escape_property(&format!("{} {}", f.rule_id, f.rule_name))
        );
        let message = if f.help.is_empty() {
            f.message.clone()
        } else {
            format!("{} — {}", f.message, f.help)
        };
        let _ = writeln!(out, "::{command} {props}::{}", escape_data(&message));
    }
    for w in &report.warnings {
        let _ = writeln!(
            out,
            "::warning title={}::{}",
            escape_property("mcp-audit"),
            escape_data(&w.message)
        );
    }
    let mut empty = 0;
    for s in &report.skipped {
        if s.reason == crate::finding::EMPTY_FILE {
            empty += 1;
            continue;
        }
        let file = if s.path.is_empty() {
            String::new()
        } else {
            format!("file={},", escape_property(&s.path))
        };
        let _ = writeln!(
            out,
            "::warning {file}title={}::{}",
            escape_property("mcp-audit skipped a file"),
            escape_data(&format!("skipped {}: {}", s.path, s.reason))
        );
    }
    if empty > 0 {
        let _ = writeln!(
            out,
            "::notice title=mcp-audit::skipped {empty} empty file{}",
            if empty == 1 { "" } else { "s" }
        );
    }
    // What the scope left out, so that a PR check does not read as all clear.
    if let Some(note) = report.scope_note() {
        let _ = writeln!(
            out,
            "::notice title={}::{}",
            escape_property("mcp-audit scope"),
            escape_data(&note)
        );
    }
    let n = report.findings.len();
    let summary = format!(
        "{}; {n} finding{}",
        report.grades.one_line(),
        if n == 1 { "" } else { "s" }
    );
    let _ = writeln!(
        out,
        "::notice title={}::{}",
        escape_property("mcp-audit grades"),
        escape_data(&summary)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Span;
    use crate::finding::{Axis, Finding, Location};

    fn finding(severity: Severity, span: Span) -> Finding {
        Finding {
            rule_id: "MCP101",
            rule_name: "unbounded-await",
            axis: Axis::Maintenance,
            severity,
            location: Location {
                path: "dir,x/a:b.py".into(),
                span,
            },
            message: "100% hung,\r\nreally: yes".into(),
            help: "Pass `timeout=`.".into(),
            related: Vec::new(),
            flow: Vec::new(),
            left_out: None,
            fix: None,
            fingerprint: String::new(),
        }
    }

    #[test]
    fn escapes_data_and_properties() {
        assert_eq!(escape_data("a%b\r\nc:d,e"), "a%25b%0D%0Ac:d,e");
        assert_eq!(escape_property("a%b\r\nc:d,e"), "a%25b%0D%0Ac%3Ad%2Ce");
        // `%` first, so an escape is never escaped twice.
        assert_eq!(escape_data("%0A"), "%250A");
    }

    #[test]
    fn one_command_per_finding_then_the_grades() {
        let one_line = Span {
            start_line: 3,
            start_col: 4,
            end_line: 3,
            end_col: 19,
            ..Span::default()
        };
        let multi = Span {
            start_line: 5,
            start_col: 4,
            end_line: 7,
            end_col: 1,
            ..Span::default()
        };
        let findings = vec![
            finding(Severity::High, one_line),
            finding(Severity::Low, multi),
        ];
        let report = Report {
            grades: crate::grade::grade(&findings),
            findings,
            ..Report::default()
        };
        let out = render(&report);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            "::error file=dir%2Cx/a%3Ab.py,line=3,col=5,endLine=3,endColumn=20,\
             title=MCP101 unbounded-await::100%25 hung,%0D%0Areally: yes — Pass `timeout=`."
        );
        assert!(
            lines[1].starts_with("::warning file=dir%2Cx/a%3Ab.py,line=5,endLine=7,title="),
            "{}",
            lines[1]
        );
        assert_eq!(
            lines[2],
            "::notice title=mcp-audit grades::Maintenance D (69), Security A (100), \
             overall D (69); 2 findings"
        );
    }

    #[test]
    fn warnings_and_skipped_files_are_annotated_before_the_grades() {
        let report = Report {
            warnings: vec![crate::Warning {
                code: crate::report::model::NO_FILES_SCANNED,
                message: "no file was scanned: x".into(),
            }],
            skipped: vec![
                crate::finding::Skipped {
                    path: "a,b.js".into(),
                    reason: "binary file (contains NUL bytes)".into(),
                },
                crate::finding::Skipped {
                    path: "__init__.py".into(),
                    reason: crate::finding::EMPTY_FILE.into(),
                },
            ],
            ..Report::default()
        };
        let out = render(&report);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines,
            [
                "::warning title=mcp-audit::no file was scanned: x",
                "::warning file=a%2Cb.js,title=mcp-audit skipped a file::skipped a,b.js: \
                 binary file (contains NUL bytes)",
                "::notice title=mcp-audit::skipped 1 empty file",
                "::notice title=mcp-audit grades::Maintenance n/a, Security n/a, overall n/a; \
                 0 findings",
            ]
        );
    }
}
