//! Concise output: one line per finding, `path:line:col: ID [severity]
//! message` (ruff's `concise`, and the form editors' problem matchers and
//! `grep` read), then one summary line.

use super::char_position;
use crate::finding::Severity;
use crate::Report;
use owo_colors::{OwoColorize, Style as Paint};
use std::fmt::Write;

pub struct Style {
    pub color: bool,
    /// The summary line after the findings (off with `--quiet`).
    pub summary: bool,
}

pub fn render(report: &Report, style: &Style) -> String {
    let mut out = String::new();
    let paint = |p: Paint| if style.color { p } else { Paint::new() };
    for f in &report.findings {
        let src = report.sources.get(&f.location.path).map(|s| &**s);
        let (line, col) = char_position(src, &f.location.span);
        let sev = paint(match f.severity {
            Severity::High => Paint::new().red().bold(),
            Severity::Medium => Paint::new().yellow().bold(),
            Severity::Low => Paint::new().cyan().bold(),
        });
        let _ = writeln!(
            out,
            "{}:{line}:{col}: {} {} {}",
            f.location.path.style(paint(Paint::new().bold())),
            f.rule_id.style(sev),
            format_args!("[{}]", f.severity).style(sev),
            f.message
        );
    }
    if style.summary {
        out.push_str(&summary_line(report));
        if let Some(note) = super::fixable_note(report) {
            out.push_str(&note);
            out.push('\n');
        }
        if let Some(note) = report.scope_note() {
            out.push_str(&note);
            out.push('\n');
        }
    }
    out
}

/// One line: the totals and the grades.
pub fn summary_line(report: &Report) -> String {
    let n = report.findings.len();
    let files: std::collections::BTreeSet<&str> = report
        .findings
        .iter()
        .map(|f| f.location.path.as_str())
        .collect();
    let found = if n == 0 {
        "No findings".to_string()
    } else {
        format!(
            "Found {n} finding{} in {} file{}",
            plural(n),
            files.len(),
            plural(files.len())
        )
    };
    let skipped = if report.skipped.is_empty() {
        String::new()
    } else {
        format!(", {} skipped", report.skipped.len())
    };
    let g = &report.grades;
    // An axis no rule that ran covers is not graded: `n/a`.
    let show = |x: Option<crate::grade::Grade>| match x {
        Some(x) => format!("{} ({})", x.grade, x.score),
        None => "n/a".to_string(),
    };
    format!(
        "{found} ({} file{} scanned{}{skipped}). Grades: maintenance {}, security {}, overall {}.\n",
        report.files_scanned,
        plural(report.files_scanned),
        super::context_note(report),
        show(g.maintenance),
        show(g.security),
        show(g.overall),
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
