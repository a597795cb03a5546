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
    /// The summary after the findings (off with `--quiet`).
    pub summary: bool,
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
        let src = report
            .sources
            .get(&f.location.path)
            .map(|s| s.to_string())
            .unwrap_or_default();
        let diag = diagnostic(f, &src);
        let rep =
            miette::Report::new(diag).with_source_code(NamedSource::new(&f.location.path, src));
        let _ = handler.render_report(&mut out, rep.as_ref());
        if let Some(why) = f.left_out {
            let _ = writeln!(
                out,
                "  = note: not in code an MCP server runs: {} (reported with --scope all)",
                why.describe()
            );
        }
        for r in &f.related {
            let _ = writeln!(
                out,
                "  = note: {} ({}:{})",
                r.message, r.location.path, r.location.span.start_line
            );
        }
        out.push('\n');
    }
    if style.summary {
        out.push_str(&summary(report));
    }
    out
}

/// Spans over more lines than this are cut after the line where the call's
/// arguments open (Semgrep's `--max-lines-per-finding` is 10 too).
const MAX_LABEL_LINES: usize = 10;

/// The bytes of `source` to mark for `span`: all of it, unless it runs over
/// [`MAX_LABEL_LINES`] lines; then through the line where its last
/// argument list opens, which holds the call's name (`self.client\n.get(`),
/// so that a long argument list does not fill the screen.
fn label_range(source: &str, span: &crate::facts::Span) -> std::ops::Range<usize> {
    let start = (span.start_byte as usize).min(source.len());
    let end = (span.end_byte as usize).clamp(start, source.len());
    let text = source.get(start..end).unwrap_or("");
    if text.lines().count() <= MAX_LABEL_LINES {
        return start..end;
    }
    let cut = args_open(text)
        .map(|open| open + text[open..].find('\n').unwrap_or(text.len() - open))
        .unwrap_or_else(|| {
            let lines: usize = text
                .split_inclusive('\n')
                .take(MAX_LABEL_LINES)
                .map(str::len)
                .sum();
            lines.saturating_sub(1)
        });
    start..start + cut.min(text.len())
}

/// The byte offset in a call's `text` of the `(` that opens its last
/// argument list: the bracket matching the final `)`, counted backwards.
/// Brackets inside string literals can mislead it; that only moves where a
/// long call's marker stops.
fn args_open(text: &str) -> Option<usize> {
    let trimmed = text.trim_end();
    if !trimmed.ends_with(')') {
        return None;
    }
    let mut depth = 0usize;
    for (i, b) in trimmed.bytes().enumerate().rev() {
        match b {
            b')' | b']' | b'}' => depth += 1,
            b'(' | b'[' | b'{' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return (b == b'(').then_some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn diagnostic(f: &Finding, source: &str) -> MietteDiagnostic {
    let range = label_range(source, &f.location.span);
    let severity = match f.severity {
        Severity::High => miette::Severity::Error,
        _ => miette::Severity::Warning,
    };
    MietteDiagnostic::new(f.message.clone())
        .with_code(format!("{}({})", f.rule_id, f.rule_name))
        .with_severity(severity)
        .with_help(f.help.clone())
        .with_label(LabeledSpan::at(range, format!("{} severity", f.severity)))
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
        "{} finding{} in {} file{}; {} file{} scanned{}, {} MCP tool handler{} found{}",
        report.findings.len(),
        plural(report.findings.len()),
        files_with.len(),
        plural(files_with.len()),
        report.files_scanned,
        plural(report.files_scanned),
        super::context_note(report),
        report.tools,
        plural(report.tools),
        if report.skipped.is_empty() {
            String::new()
        } else {
            format!(", {} skipped", report.skipped.len())
        }
    );
    if let Some(note) = super::fixable_note(report) {
        let _ = writeln!(out, "  {note}");
    }
    if let Some(note) = report.scope_note() {
        let _ = writeln!(out, "  {note}");
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Span;

    /// The span of `needle`'s first occurrence in `src`, from `from` to the
    /// end of `to` (both searched from the start of `src`).
    fn span_of(src: &str, from: &str, to: &str) -> Span {
        let start = src.find(from).unwrap();
        let end = src.find(to).unwrap() + to.len();
        let line = |b: usize| src[..b].matches('\n').count() as u32 + 1;
        Span {
            start_byte: start as u32,
            end_byte: end as u32,
            start_line: line(start),
            end_line: line(end),
            ..Span::default()
        }
    }

    #[test]
    fn a_short_multi_line_call_is_marked_whole() {
        let src = "let r = self\n    .client\n    .get(&url);\n";
        let s = span_of(src, "self", "get(&url)");
        assert_eq!(
            &src[label_range(src, &s)],
            "self\n    .client\n    .get(&url)"
        );
    }

    #[test]
    fn a_long_call_is_marked_through_the_line_where_its_arguments_open() {
        let args: String = (0..20).map(|i| format!("    a{i}=v{i},\n")).collect();
        let src = format!("x = client\n  .session\n  .post(\n{args})\n");
        let s = span_of(&src, "client", ")\n");
        let marked = &src[label_range(&src, &s)];
        assert_eq!(marked, "client\n  .session\n  .post(");
        // Without an argument list to find, the first ten lines.
        let src = format!("x = [\n{args}]\n");
        let s = span_of(&src, "[", "]");
        assert_eq!(src[label_range(&src, &s)].lines().count(), MAX_LABEL_LINES);
    }

    #[test]
    fn a_span_past_the_source_is_clamped() {
        let s = Span {
            start_byte: 3,
            end_byte: 99,
            ..Span::default()
        };
        assert_eq!(label_range("abcdef", &s), 3..6);
    }
}
