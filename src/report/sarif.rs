//! SARIF 2.1.0 output, in hand-written serde structs (the `serde-sarif`
//! crate lets invalid logs through), shaped for GitHub code scanning:
//!
//! - `$schema`, `version: "2.1.0"` and exactly one run;
//! - `tool.driver` declares every rule of the registry, in registry order,
//!   with `shortDescription` (the rule's summary), `fullDescription` (its
//!   "What it finds"), `help.text` / `help.markdown` (its documentation; links
//!   live in the markdown, GitHub does not show `helpUri`),
//!   `defaultConfiguration.level` and `properties` (`tags` with CWE ids as
//!   `external/cwe/cwe-400`, `precision`, `problem.severity`, and for
//!   security-axis rules only `security-severity` as a string: GitHub files
//!   a rule with one as a security alert, which a maintenance rule is not);
//! - `columnKind: "utf16CodeUnits"`: tree-sitter's byte columns are converted
//!   with [`utf16_col`] against the scanned text;
//! - every result has `ruleId`, `ruleIndex`, `level`, `message.text`, one
//!   location with a repo-relative `/` URI under `uriBaseId: "%SRCROOT%"`
//!   (a path outside the working directory becomes an absolute `file://` URI
//!   without a base), `relatedLocations` for the MCP tool handlers that reach
//!   it (linked from the message, which is how GitHub shows them),
//!   `partialFingerprints["mcpAudit/v1"]` (our line-shift-stable id, the one
//!   the baseline uses; no `primaryLocationLineHash`: upload-sarif computes
//!   it, and keeps a wrong one), and `fixes` where a fix is mechanical;
//! - the run's `properties.grades` holds the grades, `null` for an axis
//!   that is not graded, as in the JSON output;
//! - `invocations[0].toolExecutionNotifications` carries what the user must
//!   know about the scan itself: a warning when no file was scanned, one
//!   per skipped file (with its location and reason), and a note counting
//!   skipped empty files.
//!
//! Suppressed findings are not in the report, so not in the log (GitHub
//! ignores SARIF `suppressions`).

use super::utf16_col;
use crate::facts::Span;
use crate::finding::{Axis, Finding, Severity};
use crate::grade::Grades;
use crate::rules::{Rule, REGISTRY};
use crate::Report;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const VERSION: &str = "2.1.0";
/// The `partialFingerprints` key of our own fingerprint.
pub const FINGERPRINT_KEY: &str = "mcpAudit/v1";
/// The base every relative URI is resolved against: the repository root
/// (GitHub's checkout path) when the scan runs there.
pub const SRCROOT: &str = "%SRCROOT%";

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    invocations: [Invocation; 1],
    results: Vec<SarifResult>,
    column_kind: &'static str,
    properties: RunProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Message,
    descriptor: DescriptorReference,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<FileLocation>,
}

#[derive(Serialize)]
struct DescriptorReference {
    id: &'static str,
}

/// A location that is a whole file.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FileLocation {
    physical_location: FileOnly,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FileOnly {
    artifact_location: ArtifactLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunProperties {
    grades: Grades,
    /// Findings in code no MCP server runs, by reason (not in `results`
    /// unless the scan ran with `--scope all`).
    left_out: BTreeMap<&'static str, usize>,
    scope: &'static str,
}

/// The path from the MCP entry point to the result, which GitHub shows as
/// the alert's "paths".
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CodeFlow {
    thread_flows: Vec<ThreadFlow>,
}

#[derive(Serialize)]
struct ThreadFlow {
    locations: Vec<ThreadFlowLocation>,
}

#[derive(Serialize)]
struct ThreadFlowLocation {
    location: FlowLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FlowLocation {
    physical_location: PhysicalLocation,
    message: Message,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    information_uri: Option<&'static str>,
    rules: Vec<ReportingDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor {
    id: &'static str,
    name: &'static str,
    short_description: Message,
    full_description: Message,
    help: MultiformatMessage,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
struct MultiformatMessage {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<String>,
    precision: &'static str,
    #[serde(rename = "security-severity", skip_serializing_if = "Option::is_none")]
    security_severity: Option<&'static str>,
    #[serde(rename = "problem.severity")]
    problem_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Message,
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<RelatedLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    code_flows: Vec<CodeFlow>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<Fix>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RelatedLocation {
    id: usize,
    physical_location: PhysicalLocation,
    message: Message,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactLocation {
    pub uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri_base_id: Option<&'static str>,
}

/// A text region. Without columns it is the whole of its lines.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
    end_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Fix {
    description: Message,
    artifact_changes: Vec<ArtifactChange>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement {
    deleted_region: Region,
    inserted_content: ArtifactContent,
}

#[derive(Serialize)]
struct ArtifactContent {
    text: String,
}

/// The SARIF log of `report`, pretty-printed, ending in a newline.
pub fn render(report: &Report) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let log = Log {
        schema: SCHEMA,
        version: VERSION,
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "mcp-audit",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: information_uri(),
                    rules: REGISTRY.iter().map(|r| descriptor(r)).collect(),
                },
            },
            invocations: [Invocation {
                execution_successful: true,
                tool_execution_notifications: notifications(report, &cwd),
            }],
            results: report
                .findings
                .iter()
                .map(|f| result(report, f, &cwd))
                .collect(),
            column_kind: "utf16CodeUnits",
            properties: RunProperties {
                grades: report.grades,
                left_out: report.left_out.iter().map(|(w, n)| (w.key(), *n)).collect(),
                scope: if report.scope_all { "all" } else { "reached" },
            },
        }],
    };
    let mut s = serde_json::to_string_pretty(&log).expect("SARIF serializes");
    s.push('\n');
    s
}

/// The report's warnings, then its skipped files: one warning each, and
/// one note for all the empty ones (an `__init__.py` is not news).
fn notifications(report: &Report, cwd: &Path) -> Vec<Notification> {
    let mut out: Vec<Notification> = report
        .warnings
        .iter()
        .map(|w| Notification {
            level: "warning",
            message: Message {
                text: sentence(&escape_message(&w.message)),
            },
            descriptor: DescriptorReference { id: w.code },
            locations: Vec::new(),
        })
        .collect();
    let mut empty = 0;
    for s in &report.skipped {
        if s.reason == crate::finding::EMPTY_FILE {
            empty += 1;
            continue;
        }
        out.push(Notification {
            level: "warning",
            message: Message {
                text: sentence(&escape_message(&format!(
                    "skipped {}: {}",
                    s.path, s.reason
                ))),
            },
            descriptor: DescriptorReference { id: "skipped-file" },
            locations: if s.path.is_empty() {
                Vec::new()
            } else {
                vec![FileLocation {
                    physical_location: FileOnly {
                        artifact_location: artifact_location(&s.path, cwd),
                    },
                }]
            },
        });
    }
    if empty > 0 {
        out.push(Notification {
            level: "note",
            message: Message {
                text: format!(
                    "Skipped {empty} empty file{}.",
                    if empty == 1 { "" } else { "s" }
                ),
            },
            descriptor: DescriptorReference {
                id: "skipped-empty-files",
            },
            locations: Vec::new(),
        });
    }
    out
}

/// Where to learn about the tool: the package's `homepage` or `repository`
/// (Cargo.toml), when set.
fn information_uri() -> Option<&'static str> {
    [env!("CARGO_PKG_HOMEPAGE"), env!("CARGO_PKG_REPOSITORY")]
        .into_iter()
        .find(|u| !u.is_empty())
}

/// SARIF `level` for a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub's `problem.severity` for a severity.
fn problem_severity(s: Severity) -> &'static str {
    match s {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "recommendation",
    }
}

/// `CWE-400` → `external/cwe/cwe-400`, the tag GitHub recognises; other
/// tags unchanged.
pub fn sarif_tag(tag: &str) -> String {
    match tag.strip_prefix("CWE-") {
        Some(n) => format!("external/cwe/cwe-{n}"),
        None => tag.to_string(),
    }
}

fn cwe_url(cwe: &str) -> Option<String> {
    let n = cwe.strip_prefix("CWE-")?;
    Some(format!("https://cwe.mitre.org/data/definitions/{n}.html"))
}

fn descriptor(r: &Rule) -> ReportingDescriptor {
    let docs = r.docs();
    let mut markdown = docs.trim_end().to_string();
    if !r.cwe.is_empty() {
        markdown.push_str("\n\n## References\n");
        for c in r.cwe {
            match cwe_url(c) {
                Some(u) => markdown.push_str(&format!("- [{c}]({u})\n")),
                None => markdown.push_str(&format!("- {c}\n")),
            }
        }
    }
    let mut text = plain(&docs);
    if !r.cwe.is_empty() {
        text.push_str(&format!("\n\nReferences: {}\n", r.cwe.join(", ")));
    }
    ReportingDescriptor {
        id: r.id,
        name: r.name,
        short_description: Message { text: r.summary() },
        full_description: Message {
            text: reflow(&r.section("What it finds")),
        },
        help: MultiformatMessage { text, markdown },
        default_configuration: Configuration {
            level: level(r.severity),
        },
        properties: RuleProperties {
            tags: r.tags().into_iter().map(sarif_tag).collect(),
            precision: r.precision,
            security_severity: (r.axis == Axis::Security).then(|| r.severity.security_severity()),
            problem_severity: problem_severity(r.severity),
        },
    }
}

/// The docs as plain text: code fences dropped and their lines indented,
/// headings without their `#`s.
fn plain(markdown: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            out.push_str("    ");
            out.push_str(line);
        } else if line.starts_with('#') {
            out.push_str(line.trim_start_matches('#').trim_start());
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out.trim_end().to_string() + "\n"
}

/// Paragraphs on one line each: hard-wrapped doc text reflowed for a
/// viewer that wraps itself.
fn reflow(text: &str) -> String {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn result(report: &Report, f: &Finding, cwd: &Path) -> SarifResult {
    let src = report.sources.get(&f.location.path).map(|s| s.as_ref());
    let related: Vec<RelatedLocation> = f
        .related
        .iter()
        .enumerate()
        .map(|(i, r)| RelatedLocation {
            id: i + 1,
            physical_location: PhysicalLocation {
                artifact_location: artifact_location(&r.location.path, cwd),
                region: shown_region(
                    report.sources.get(&r.location.path).map(|s| s.as_ref()),
                    &r.location.span,
                ),
            },
            message: Message {
                text: escape_message(&r.message),
            },
        })
        .collect();
    // The entry point and each call on the way, then the result itself.
    let code_flows = if f.flow.is_empty() {
        Vec::new()
    } else {
        let step = |path: &str, span: &crate::facts::Span, text: &str| ThreadFlowLocation {
            location: FlowLocation {
                physical_location: PhysicalLocation {
                    artifact_location: artifact_location(path, cwd),
                    region: shown_region(report.sources.get(path).map(|s| s.as_ref()), span),
                },
                message: Message {
                    text: escape_message(text),
                },
            },
        };
        let mut locations: Vec<ThreadFlowLocation> = f
            .flow
            .iter()
            .map(|r| step(&r.location.path, &r.location.span, &r.message))
            .collect();
        locations.push(step(&f.location.path, &f.location.span, &f.message));
        vec![CodeFlow {
            thread_flows: vec![ThreadFlow { locations }],
        }]
    };
    let fixes = f
        .fix
        .iter()
        .filter(|fix| !fix.edits.is_empty())
        .map(|fix| Fix {
            description: Message {
                text: sentence(&escape_message(&fix.description)),
            },
            artifact_changes: vec![ArtifactChange {
                artifact_location: artifact_location(&f.location.path, cwd),
                replacements: fix
                    .edits
                    .iter()
                    .map(|e| Replacement {
                        deleted_region: region(src, &e.span),
                        inserted_content: ArtifactContent {
                            text: e.replacement.clone(),
                        },
                    })
                    .collect(),
            }],
        })
        .collect();
    SarifResult {
        rule_id: f.rule_id,
        rule_index: REGISTRY.iter().position(|r| r.id == f.rule_id),
        level: level(f.severity),
        message: Message {
            text: message_text(f),
        },
        locations: vec![Location {
            physical_location: PhysicalLocation {
                artifact_location: artifact_location(&f.location.path, cwd),
                region: shown_region(src, &f.location.span),
            },
        }],
        related_locations: related,
        code_flows,
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, f.fingerprint.clone())]),
        fixes,
    }
}

/// The finding's message as a SARIF plain-text message: a sentence, with
/// the related locations linked (`[reached from MCP tool `x`](1)`), which is
/// how GitHub shows them.
fn message_text(f: &Finding) -> String {
    let mut text = escape_message(f.message.trim_end_matches('.'));
    if !f.related.is_empty() {
        let links: Vec<String> = f
            .related
            .iter()
            .enumerate()
            .map(|(i, r)| format!("[{}]({})", escape_message(&r.message), i + 1))
            .collect();
        text.push_str(&format!(" ({})", links.join(", ")));
    }
    sentence(&text)
}

/// Ends `s` with a full stop unless it ends a sentence already.
fn sentence(s: &str) -> String {
    let s = s.trim_end();
    if s.is_empty() || s.ends_with(['.', '!', '?']) {
        s.to_string()
    } else {
        format!("{s}.")
    }
}

/// SARIF plain-text messages give `[` `]` and `\` a meaning (embedded
/// links): literal ones are escaped with a backslash (§3.11.6).
pub fn escape_message(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The region of `span`, columns in UTF-16 code units.
fn region(src: Option<&str>, span: &Span) -> Region {
    Region {
        start_line: span.start_line.max(1),
        start_column: Some(utf16_col(src, span.start_line, span.start_col)),
        end_line: span.end_line.max(span.start_line).max(1),
        end_column: Some(utf16_col(src, span.end_line, span.end_col)),
    }
}

/// A location to show rather than to edit: an empty span (a tool handler's
/// head is a point) is widened to its whole line, which is what a viewer
/// can highlight.
fn shown_region(src: Option<&str>, span: &Span) -> Region {
    if span.start_line == span.end_line && span.start_col == span.end_col {
        Region {
            start_line: span.start_line.max(1),
            start_column: None,
            end_line: span.start_line.max(1),
            end_column: None,
        }
    } else {
        region(src, span)
    }
}

/// The artifact location of a report path: relative paths below the working
/// directory are `/`-separated URIs under `%SRCROOT%`; anything else (an
/// absolute path, a `..` path leading out) is an absolute `file://` URI with
/// no base.
pub fn artifact_location(path: &str, cwd: &Path) -> ArtifactLocation {
    let is_absolute = path.starts_with('/') || path.starts_with('\\') || has_drive(path);
    let leaves = path.split(['/', '\\']).any(|seg| seg == "..");
    if !is_absolute && !leaves {
        let rel: Vec<&str> = path
            .split(['/', '\\'])
            .filter(|s| !s.is_empty() && *s != ".")
            .collect();
        return ArtifactLocation {
            uri: rel
                .iter()
                .map(|s| encode_segment(s))
                .collect::<Vec<_>>()
                .join("/"),
            uri_base_id: Some(SRCROOT),
        };
    }
    let abs = if is_absolute {
        PathBuf::from(path)
    } else {
        cwd.join(path)
    };
    ArtifactLocation {
        uri: file_uri(&normalize(&abs)),
        uri_base_id: None,
    }
}

fn has_drive(path: &str) -> bool {
    let b = path.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalize(p: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut prefix = String::new();
    for c in p.components() {
        match c {
            Component::Prefix(x) => prefix = x.as_os_str().to_string_lossy().into_owned(),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
        }
    }
    // Windows paths read on another platform keep their `C:` as a segment.
    let joined = parts.join("/").replace('\\', "/");
    format!("{prefix}/{joined}").replace('\\', "/")
}

/// `file:///abs/path` (or `file:///C:/path`), each segment percent-encoded.
fn file_uri(abs: &str) -> String {
    let segs: Vec<String> = abs
        .trim_start_matches('/')
        .split('/')
        .enumerate()
        .map(|(i, s)| {
            if i == 0 && has_drive(s) && s.len() == 2 {
                s.to_string()
            } else {
                encode_segment(s)
            }
        })
        .collect();
    format!("file:///{}", segs.join("/"))
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Axis, Edit, Location as FLocation, Related};
    use std::sync::Arc;

    fn span(line: u32, col: u32, end_col: u32, start_byte: u32) -> Span {
        Span {
            start_byte,
            end_byte: start_byte + (end_col - col),
            start_line: line,
            start_col: col,
            end_line: line,
            end_col,
        }
    }

    /// A report with one finding of MCP101 on a line with a non-BMP
    /// character before it, reached from a tool, with a fix.
    fn report() -> Report {
        let src = "import requests\n\n@mcp.tool()\ndef f():\n    s = '😀'; requests.get(u)\n";
        let line5 = "    s = '😀'; requests.get(u)";
        let col = line5.find("requests").unwrap() as u32;
        let start = src.find("requests.get").unwrap() as u32;
        let call = span(5, col, col + "requests.get(u)".len() as u32, start);
        let close = col + "requests.get(u".len() as u32;
        let finding = Finding {
            rule_id: "MCP101",
            rule_name: "unbounded-await",
            axis: Axis::Maintenance,
            severity: Severity::Medium,
            location: FLocation {
                path: "srv/a b.py".into(),
                span: call,
            },
            message: "`requests.get` has no timeout: requests[0] has none".into(),
            help: "Pass `timeout=`.".into(),
            related: vec![Related {
                location: FLocation {
                    path: "srv/a b.py".into(),
                    span: span(3, 0, 11, 17),
                },
                message: "reached from MCP tool `f`".into(),
            }],
            flow: Vec::new(),
            left_out: None,
            fix: Some(crate::finding::Fix {
                description: "Add a timeout".into(),
                edits: vec![Edit {
                    span: span(5, close, close, start + 14),
                    replacement: ", timeout=10".into(),
                }],
            }),
            fingerprint: "0123456789abcdef".into(),
        };
        let findings = vec![finding];
        Report {
            grades: crate::grade::grade(&findings),
            findings,
            sources: [("srv/a b.py".to_string(), Arc::from(src))].into(),
            rules_run: vec!["MCP101"],
            ..Report::default()
        }
    }

    #[test]
    fn a_result_has_everything_github_reads() {
        let v: serde_json::Value = serde_json::from_str(&render(&report())).unwrap();
        assert_eq!(v["$schema"], SCHEMA);
        assert_eq!(v["version"], "2.1.0");
        assert_eq!(v["runs"].as_array().unwrap().len(), 1);
        let run = &v["runs"][0];
        assert_eq!(run["columnKind"], "utf16CodeUnits");
        assert_eq!(run["properties"]["grades"]["maintenance"]["score"], 88);
        let r = &run["results"][0];
        assert_eq!(r["ruleId"], "MCP101");
        let index = REGISTRY.iter().position(|r| r.id == "MCP101").unwrap();
        assert_eq!(r["ruleIndex"], index);
        assert_eq!(r["level"], "warning");
        assert_eq!(
            r["message"]["text"],
            "`requests.get` has no timeout: requests\\[0\\] has none \
             ([reached from MCP tool `f`](1))."
        );
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "srv/a%20b.py");
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        // `    s = '😀'; ` is 14 UTF-16 units: the call starts at column 15.
        assert_eq!(loc["region"]["startLine"], 5);
        assert_eq!(loc["region"]["startColumn"], 15);
        assert_eq!(loc["region"]["endColumn"], 15 + "requests.get(u)".len());
        let rel = &r["relatedLocations"][0];
        assert_eq!(rel["id"], 1);
        assert_eq!(rel["physicalLocation"]["region"]["startLine"], 3);
        assert_eq!(rel["message"]["text"], "reached from MCP tool `f`");
        assert_eq!(r["partialFingerprints"]["mcpAudit/v1"], "0123456789abcdef");
        assert!(r["partialFingerprints"]
            .get("primaryLocationLineHash")
            .is_none());
        let fix = &r["fixes"][0];
        assert_eq!(fix["description"]["text"], "Add a timeout.");
        let rep = &fix["artifactChanges"][0]["replacements"][0];
        assert_eq!(rep["deletedRegion"]["startColumn"], 15 + 14);
        assert_eq!(rep["deletedRegion"]["endColumn"], 15 + 14);
        assert_eq!(rep["insertedContent"]["text"], ", timeout=10");
    }

    #[test]
    fn warnings_and_skipped_files_are_notifications() {
        let rep = Report {
            warnings: vec![crate::Warning {
                code: crate::report::model::NO_FILES_SCANNED,
                message: "no file was scanned: x".into(),
            }],
            skipped: vec![
                crate::finding::Skipped {
                    path: "a.py".into(),
                    reason: crate::finding::EMPTY_FILE.into(),
                },
                crate::finding::Skipped {
                    path: "big[1].js".into(),
                    reason: "larger than the 2048 KiB limit".into(),
                },
                crate::finding::Skipped {
                    path: "b/__init__.py".into(),
                    reason: crate::finding::EMPTY_FILE.into(),
                },
            ],
            ..Report::default()
        };
        let v: serde_json::Value = serde_json::from_str(&render(&rep)).unwrap();
        let inv = &v["runs"][0]["invocations"][0];
        assert_eq!(inv["executionSuccessful"], true);
        let n = inv["toolExecutionNotifications"].as_array().unwrap();
        assert_eq!(n.len(), 3, "{n:#?}");
        assert_eq!(n[0]["level"], "warning");
        assert_eq!(n[0]["descriptor"]["id"], "no-files-scanned");
        assert_eq!(n[0]["message"]["text"], "no file was scanned: x.");
        assert_eq!(n[1]["level"], "warning");
        assert_eq!(
            n[1]["message"]["text"],
            "skipped big\\[1\\].js: larger than the 2048 KiB limit."
        );
        assert_eq!(
            n[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "big%5B1%5D.js"
        );
        assert_eq!(n[2]["level"], "note");
        assert_eq!(n[2]["message"]["text"], "Skipped 2 empty files.");
        // Not graded: null, as in the JSON output.
        assert_eq!(
            v["runs"][0]["properties"]["grades"]["security"],
            serde_json::json!({"score": null, "grade": null})
        );
        // A clean run has an invocation and no notifications.
        let v: serde_json::Value = serde_json::from_str(&render(&report())).unwrap();
        let inv = &v["runs"][0]["invocations"][0];
        assert_eq!(inv, &serde_json::json!({"executionSuccessful": true}));
    }

    #[test]
    fn a_point_is_shown_as_its_whole_line() {
        let mut rep = report();
        rep.findings[0].related[0].location.span = span(3, 0, 0, 17);
        let v: serde_json::Value = serde_json::from_str(&render(&rep)).unwrap();
        let region =
            &v["runs"][0]["results"][0]["relatedLocations"][0]["physicalLocation"]["region"];
        assert_eq!(region, &serde_json::json!({"startLine": 3, "endLine": 3}));
        // An insertion point in a fix keeps its columns.
        let del = &v["runs"][0]["results"][0]["fixes"][0]["artifactChanges"][0]["replacements"][0]
            ["deletedRegion"];
        assert_eq!(del["startColumn"], del["endColumn"]);
    }

    #[test]
    fn rules_carry_github_properties() {
        let v: serde_json::Value = serde_json::from_str(&render(&Report::default())).unwrap();
        let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), REGISTRY.len());
        let r = rules.iter().find(|r| r["id"] == "MCP101").unwrap();
        assert_eq!(r["name"], "unbounded-await");
        assert_eq!(r["defaultConfiguration"]["level"], "warning");
        // A maintenance rule: no security-severity, or GitHub files it as
        // a security alert.
        assert!(r["properties"].get("security-severity").is_none());
        assert_eq!(r["properties"]["problem.severity"], "warning");
        let tags: Vec<&str> = r["properties"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert!(tags.contains(&"reliability") && tags.contains(&"mcp"));
        assert!(tags.contains(&"external/cwe/cwe-400"), "{tags:?}");
        let md = r["help"]["markdown"].as_str().unwrap();
        assert!(md.contains("## What it finds"));
        assert!(md.contains("(https://cwe.mitre.org/data/definitions/400.html)"));
        let text = r["help"]["text"].as_str().unwrap();
        assert!(!text.contains("```") && !text.contains("## "));
        // Code keeps its indentation, one level in.
        assert!(text.contains("\n        r = requests.get("), "{text}");
        let full = r["fullDescription"]["text"].as_str().unwrap();
        assert!(full.starts_with("An outbound HTTP") && full.contains(" no timeout on the call"));
        assert!(v["runs"][0]["results"].as_array().unwrap().is_empty());
    }

    #[test]
    fn uris_are_relative_under_srcroot_or_absolute_file_uris() {
        let cwd = Path::new("/work/repo");
        assert_eq!(
            artifact_location("src/a.py", cwd),
            ArtifactLocation {
                uri: "src/a.py".into(),
                uri_base_id: Some(SRCROOT)
            }
        );
        assert_eq!(
            artifact_location("./src/ü #1.py", cwd).uri,
            "src/%C3%BC%20%231.py"
        );
        assert_eq!(
            artifact_location("/elsewhere/a.py", cwd),
            ArtifactLocation {
                uri: "file:///elsewhere/a.py".into(),
                uri_base_id: None
            }
        );
        assert_eq!(
            artifact_location("../other/a.py", cwd).uri,
            "file:///work/other/a.py"
        );
        assert_eq!(
            artifact_location("C:/code/a.py", cwd).uri,
            "file:///C:/code/a.py"
        );
    }

    #[test]
    fn levels_and_tags_map() {
        assert_eq!(level(Severity::High), "error");
        assert_eq!(level(Severity::Low), "note");
        assert_eq!(sarif_tag("CWE-1088"), "external/cwe/cwe-1088");
        assert_eq!(sarif_tag("mcp"), "mcp");
        assert_eq!(escape_message(r"a[0]\b"), r"a\[0\]\\b");
    }
}
