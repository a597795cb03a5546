//! Terminal output: a miette diagnostic per finding (the source snippet,
//! the message at the flagged expression, the fix as help), then a summary.

use crate::finding::{Finding, Severity};
use crate::grade::Grades;
use crate::Report;
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};
use std::collections::BTreeMap;
use std::fmt::Write;

pub struct Style {
    pub color: bool,
    /// Wrap width for diagnostics.
    pub width: usize,
}

pub fn render(report: &Report, style: &Style) -> String {
    let mut out = String::new();
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false)
        .with_context_lines(1);
    for f in &report.findings {
        let diag = diagnostic(f);
        let src = report
            .sources
            .get(&f.location.path)
            .map(|s| s.to_string())
            .unwrap_or_default();
        let rep =
            miette::Report::new(diag).with_source_code(NamedSource::new(&f.location.path, src));
        let _ = handler.render_report(&mut out, rep.as_ref());
        for r in &f.related {
            let _ = writeln!(
                out,
                "  = note: {} ({}:{})",
                r.message, r.location.path, r.location.span.start_line
            );
        }
        out.push('\n');
    }
    out.push_str(&summary(report));
    out
}

fn diagnostic(f: &Finding) -> MietteDiagnostic {
    let span = f.location.span;
    let len = if span.end_line == span.start_line {
        (span.end_byte - span.start_byte) as usize
    } else {
        // Underline the first line only: long calls would fill the screen.
        0
    };
    let severity = match f.severity {
        Severity::High => miette::Severity::Error,
        _ => miette::Severity::Warning,
    };
    MietteDiagnostic::new(f.message.clone())
        .with_code(format!("{}({})", f.rule_id, f.rule_name))
        .with_severity(severity)
        .with_help(f.help.clone())
        .with_label(LabeledSpan::at(
            span.start_byte as usize..span.start_byte as usize + len,
            format!("{} severity", f.severity),
        ))
}

/// The per-rule table, the grades and the totals.
pub fn summary(report: &Report) -> String {
    let mut out = String::new();
    let mut rows: BTreeMap<(&str, &str), (Severity, usize)> = BTreeMap::new();
    for f in &report.findings {
        let e = rows
            .entry((f.rule_id, f.rule_name))
            .or_insert((f.severity, 0));
        e.1 += 1;
    }
    if !rows.is_empty() {
        let _ = writeln!(
            out,
            "{:<8} {:<28} {:<9} {:>8}",
            "rule", "name", "severity", "findings"
        );
        for ((id, name), (sev, n)) in &rows {
            let _ = writeln!(out, "{id:<8} {name:<28} {:<9} {n:>8}", sev.as_str());
        }
        out.push('\n');
    }
    out.push_str(&grade_table(&report.grades));
    out.push('\n');
    let files_with: std::collections::BTreeSet<&str> = report
        .findings
        .iter()
        .map(|f| f.location.path.as_str())
        .collect();
    let _ = writeln!(
        out,
        "{} finding{} in {} file{}; {} file{} scanned, {} MCP tool handler{} found{}",
        report.findings.len(),
        plural(report.findings.len()),
        files_with.len(),
        plural(files_with.len()),
        report.files_scanned,
        plural(report.files_scanned),
        report.tools,
        plural(report.tools),
        if report.skipped.is_empty() {
            String::new()
        } else {
            format!(", {} skipped", report.skipped.len())
        }
    );
    // Empty files (`__init__.py`) are common and harmless: counted, not listed.
    let empty = report
        .skipped
        .iter()
        .filter(|s| s.reason == "empty file")
        .count();
    for s in report.skipped.iter().filter(|s| s.reason != "empty file") {
        let _ = writeln!(out, "  skipped {}: {}", s.path, s.reason);
    }
    if empty > 0 {
        let _ = writeln!(out, "  skipped {empty} empty file{}", plural(empty));
    }
    for w in &report.warnings {
        let _ = writeln!(out, "warning: {}", w.message);
    }
    out
}

/// The grades, one row per axis and the overall grade last; `–` for an
/// axis that is not graded.
pub fn grade_table(g: &Grades) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{:<12} {:>5}  grade", "axis", "score");
    for (axis, grade) in [
        ("maintenance", g.maintenance),
        ("security", g.security),
        ("overall", g.overall),
    ] {
        let (score, letter) = match grade {
            Some(x) => (x.score.to_string(), x.grade.to_string()),
            None => ("–".to_string(), "–".to_string()),
        };
        let _ = writeln!(out, "{axis:<12} {score:>5}  {letter}");
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
