//! The machine outputs over real scans: SARIF's structure as GitHub code
//! scanning reads it, the GitHub annotations, the grades shown the same
//! everywhere, and several reports from one scan.

use mcp_audit::facts::Span;
use mcp_audit::finding::{Axis, Edit, Finding, Fix, Location, Related, Severity};
use mcp_audit::rules::REGISTRY;
use mcp_audit::Report;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

const FIXTURE: &str = "fixtures/unbounded-await/python/http_clients.py";

fn bin(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mcp-audit"));
    c.current_dir(dir).env_remove("NO_COLOR");
    c
}

fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = bin(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn run(args: &[&str]) -> (i32, String, String) {
    run_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

fn sarif_in(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--format", "sarif"];
    all.extend_from_slice(args);
    let (code, out, err) = run_in(dir, &all);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn sarif(args: &[&str]) -> Value {
    sarif_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

fn results(v: &Value) -> &Vec<Value> {
    v["runs"][0]["results"].as_array().unwrap()
}

#[test]
fn one_run_declaring_every_rule_once() {
    let v = sarif(&["fixtures"]);
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(
        v["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(v["runs"].as_array().unwrap().len(), 1);
    let run = &v["runs"][0];
    assert_eq!(run["columnKind"], "utf16CodeUnits");
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "mcp-audit");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate rule ids: {ids:?}");
    assert_eq!(
        ids,
        REGISTRY.iter().map(|r| r.id).collect::<Vec<_>>(),
        "every registry rule, in registry order"
    );
    for (r, rule) in rules.iter().zip(REGISTRY.iter()) {
        // GitHub files a rule with a security-severity as a security alert:
        // only security-axis rules carry one.
        match rule.axis {
            Axis::Security => {
                let sev = &r["properties"]["security-severity"];
                assert!(sev.is_string(), "{}: security-severity {sev}", rule.id);
                assert_eq!(sev.as_str().unwrap(), rule.severity.security_severity());
                sev.as_str().unwrap().parse::<f64>().unwrap();
            }
            Axis::Maintenance => assert!(
                r["properties"].get("security-severity").is_none(),
                "{}: a maintenance rule with a security-severity",
                rule.id
            ),
        }
        assert!(!r["shortDescription"]["text"].as_str().unwrap().is_empty());
        assert!(!r["fullDescription"]["text"].as_str().unwrap().is_empty());
        assert!(!r["help"]["text"].as_str().unwrap().is_empty());
        assert!(!r["help"]["markdown"].as_str().unwrap().is_empty());
        assert!(r["properties"]["precision"].is_string());
        assert!(r["defaultConfiguration"]["level"].is_string());
    }
    assert!(!results(&v).is_empty(), "the fixtures have findings");
    for r in results(&v) {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
        let fp = &r["partialFingerprints"];
        assert!(fp.get("primaryLocationLineHash").is_none());
        assert_eq!(fp.as_object().unwrap().len(), 1);
        assert!(fp["mcpAudit/v1"].is_string());
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(uri.starts_with("fixtures/") && !uri.contains('\\'), "{uri}");
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(loc["region"]["startColumn"].as_u64().unwrap() >= 1);
    }
}

#[test]
fn identical_for_any_jobs() {
    let (_, one, _) = run(&["--format", "sarif", "--jobs", "1", "fixtures"]);
    let (_, two, _) = run(&["--format", "sarif", "--jobs", "2", "fixtures"]);
    assert_eq!(one, two);
    let (_, one, _) = run(&["--format", "github", "--jobs", "1", "fixtures"]);
    let (_, two, _) = run(&["--format", "github", "--jobs", "2", "fixtures"]);
    assert_eq!(one, two);
}

const EMOJI_SERVER: &str = r#"import requests
from fastmcp import FastMCP

mcp = FastMCP("emoji")


@mcp.tool
def greet(url: str) -> str:
    """Greets."""
    label = "😀😀"; r = requests.get(url)
    return label + r.text
"#;

#[test]
fn columns_are_utf16_code_units() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.py"), EMOJI_SERVER).unwrap();
    let v = sarif_in(dir.path(), &["."]);
    let rs = results(&v);
    assert_eq!(rs.len(), 1, "{v:#}");
    let line = EMOJI_SERVER.lines().nth(9).unwrap();
    let start = line.find("requests.get").unwrap();
    let end = line.len();
    let utf16 = |b: usize| line[..b].encode_utf16().count() as u64 + 1;
    let loc = &rs[0]["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "server.py");
    let region = &loc["region"];
    assert_eq!(region["startLine"], 10);
    assert_eq!(region["startColumn"].as_u64().unwrap(), utf16(start));
    assert_eq!(region["endColumn"].as_u64().unwrap(), utf16(end));
    // Neither bytes nor characters: 😀 is 4 bytes, 1 char, 2 UTF-16 units.
    assert_ne!(utf16(start), start as u64 + 1);
    assert_ne!(utf16(start), line[..start].chars().count() as u64 + 1);

    // The tool that reaches it is a related location, linked from the message.
    let related = rs[0]["relatedLocations"].as_array().unwrap();
    assert_eq!(related.len(), 1);
    assert_eq!(related[0]["id"], 1);
    assert_eq!(
        related[0]["physicalLocation"]["artifactLocation"]["uri"],
        "server.py"
    );
    let tool_line = related[0]["physicalLocation"]["region"]["startLine"]
        .as_u64()
        .unwrap();
    assert!((7..=8).contains(&tool_line), "tool at line {tool_line}");
    assert!(related[0]["message"]["text"]
        .as_str()
        .unwrap()
        .contains("greet"));
    assert!(rs[0]["message"]["text"].as_str().unwrap().contains("](1)"));
}

#[test]
fn fingerprints_survive_lines_inserted_above() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE)).unwrap();
    let file = dir.path().join("server.py");
    std::fs::write(&file, &src).unwrap();
    let before = sarif_in(dir.path(), &["."]);
    std::fs::write(
        &file,
        format!("# A new header comment.\n\nimport os  # unrelated\n\n{src}"),
    )
    .unwrap();
    let after = sarif_in(dir.path(), &["."]);
    let key = |v: &Value| -> Vec<(String, u64)> {
        results(v)
            .iter()
            .map(|r| {
                (
                    r["partialFingerprints"]["mcpAudit/v1"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                    r["locations"][0]["physicalLocation"]["region"]["startLine"]
                        .as_u64()
                        .unwrap(),
                )
            })
            .collect()
    };
    let (b, a) = (key(&before), key(&after));
    assert!(!b.is_empty());
    assert_eq!(b.len(), a.len());
    for ((fb, lb), (fa, la)) in b.iter().zip(&a) {
        assert_eq!(fb, fa, "fingerprint changed");
        assert_eq!(lb + 4, *la, "the finding moved four lines down");
    }
    let unique: BTreeSet<_> = b.iter().map(|(f, _)| f).collect();
    assert_eq!(unique.len(), b.len(), "fingerprints are unique");
}

#[test]
fn github_annotations_escape_paths_and_end_with_the_grades() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a,b:c.py"), EMOJI_SERVER).unwrap();
    let (code, out, _) = run_in(dir.path(), &["--format", "github", "."]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    // Columns count characters, as in the JSON output.
    let line = EMOJI_SERVER.lines().nth(9).unwrap();
    let col = line[..line.find("requests.get").unwrap()].chars().count() + 1;
    let end = line.chars().count() + 1;
    let head = format!(
        "::warning file=a%2Cb%3Ac.py,line=10,col={col},endLine=10,endColumn={end},\
         title=MCP101 unbounded-await::`requests.get` has no timeout"
    );
    assert!(lines[0].starts_with(&head), "{}\n{head}", lines[0]);
    assert!(lines[0].contains(" — "), "message — help");
    assert!(!lines[0].contains('\r'));
    assert_eq!(
        lines[1],
        "::notice title=mcp-audit grades::Maintenance B (88), Security A (100), overall B (88); 1 finding"
    );
}

/// The grades from one scan of the fixtures, as every output shows them.
#[test]
fn the_same_grades_everywhere() {
    let (_, json, _) = run(&["--format", "json", "fixtures"]);
    let json: Value = serde_json::from_str(&json).unwrap();
    let grades = &json["summary"]["grades"];
    let sarif = sarif(&["fixtures"]);
    assert_eq!(&sarif["runs"][0]["properties"]["grades"], grades);
    // (score, letter) as the terminal and the one-line notice show them;
    // an axis that is not graded is `null` in JSON.
    let g = |axis: &str| match grades[axis]["score"].as_u64() {
        Some(score) => (
            Some(score),
            grades[axis]["grade"].as_str().unwrap().to_string(),
        ),
        None => {
            assert!(grades[axis]["grade"].is_null(), "{grades}");
            (None, String::new())
        }
    };
    let (ms, ml) = g("maintenance");
    let (ss, sl) = g("security");
    let (os, ol) = g("overall");
    assert!(ms.is_some(), "MCP101 grades maintenance");
    assert_eq!(os, [ms, ss].into_iter().flatten().min());
    let cell = |s: Option<u64>, l: &str| match s {
        Some(s) => (s.to_string(), l.to_string(), format!("{l} ({s})")),
        None => ("–".into(), "–".into(), "n/a".into()),
    };
    let (_, terminal, _) = run(&["fixtures"]);
    let mut line = Vec::new();
    for (axis, score, letter) in [
        ("maintenance", ms, &ml),
        ("security", ss, &sl),
        ("overall", os, &ol),
    ] {
        let (score, letter, one) = cell(score, letter);
        let row = format!("{axis:<12} {score:>5}  {letter}");
        assert!(terminal.contains(&row), "no `{row}` in\n{terminal}");
        line.push(one);
    }
    let (_, github, _) = run(&["--format", "github", "fixtures"]);
    let notice = github.lines().last().unwrap();
    let want = format!(
        "Maintenance {}, Security {}, overall {}",
        line[0], line[1], line[2]
    );
    assert!(notice.contains(&want), "{notice}\n{want}");
}

#[test]
fn min_grade_fails_below_the_given_letter() {
    let (_, json, _) = run(&["--format", "json", FIXTURE]);
    let json: Value = serde_json::from_str(&json).unwrap();
    let overall = json["summary"]["grades"]["overall"]["grade"]
        .as_str()
        .unwrap()
        .to_string();
    let order = ["F", "D", "C", "B", "A"];
    let at = order.iter().position(|l| *l == overall).unwrap();
    assert!(at < 4, "the fixture should not grade A");
    let code = |min: &str| run(&["--fail-on", "never", "--min-grade", min, FIXTURE]).0;
    // At its own grade it passes, one letter above it fails; F never fails.
    assert_eq!(code(&overall), 0);
    assert_eq!(code(order[at + 1]), 1);
    assert_eq!(code(&order[at + 1].to_lowercase()), 1);
    assert_eq!(code("F"), 0);
    assert_eq!(code("A"), 1);
    assert_eq!(code("E"), 2);
    // A clean tree grades A and passes even --min-grade A.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.py"), "x = 1\n").unwrap();
    assert_eq!(run_in(dir.path(), &["--min-grade", "A", "."]).0, 0);
}

#[test]
fn sarif_and_json_files_from_the_same_scan() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("out.sarif");
    let j = dir.path().join("out.json");
    let (code, stdout, _) = run(&[
        "--format",
        "github",
        "--sarif-output",
        s.to_str().unwrap(),
        "--json-output",
        j.to_str().unwrap(),
        FIXTURE,
    ]);
    assert_eq!(code, 1);
    let (_, github, _) = run(&["--format", "github", FIXTURE]);
    let (_, sarif, _) = run(&["--format", "sarif", FIXTURE]);
    let (_, json, _) = run(&["--format", "json", FIXTURE]);
    assert_eq!(stdout, github);
    assert_eq!(std::fs::read_to_string(&s).unwrap(), sarif);
    assert_eq!(std::fs::read_to_string(&j).unwrap(), json);
    // An unwritable extra output is an I/O error.
    let bad = dir.path().join("missing-dir/out.sarif");
    let (code, _, err) = run(&["--sarif-output", bad.to_str().unwrap(), FIXTURE]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot write"), "{err}");
}

fn redact(s: &str) -> String {
    s.replace(
        &format!("\"{}\"", env!("CARGO_PKG_VERSION")),
        "\"[version]\"",
    )
}

#[test]
fn sarif_snapshot() {
    let (_, out, _) = run(&[
        "--format",
        "sarif",
        "fixtures/unbounded-await/python/weather",
    ]);
    insta::assert_snapshot!("sarif_python_weather", redact(&out));
}

/// A hand-made report with what the fixtures do not produce yet: a fix, a
/// path outside the working directory, characters outside the BMP, a
/// message with brackets. `scripts/validate-sarif.sh` validates its SARIF
/// beside the fixtures'.
fn sample_report() -> Report {
    let src = "import requests\n\n@mcp.tool()\ndef f(u):\n    s = '😀'; return requests.get(u)\n";
    let line = src.lines().nth(4).unwrap();
    let col = line.find("requests").unwrap() as u32;
    let start = src.find("requests.get").unwrap() as u32;
    let len = "requests.get(u)".len() as u32;
    let close = col + len - 1;
    let span = |line, col, end_col, start_byte| Span {
        start_byte,
        end_byte: start_byte + (end_col - col),
        start_line: line,
        start_col: col,
        end_line: line,
        end_col,
    };
    let finding = |path: &str, severity, fingerprint: &str| Finding {
        rule_id: "MCP101",
        rule_name: "unbounded-await",
        axis: Axis::Maintenance,
        severity,
        location: Location {
            path: path.into(),
            span: span(5, col, col + len, start),
        },
        message: "`requests.get` has no timeout: args[0] is unchecked".into(),
        help: "Pass `timeout=`.".into(),
        related: vec![Related {
            location: Location {
                path: path.into(),
                span: span(3, 0, 0, 17),
            },
            message: "reached from MCP tool `f`".into(),
        }],
        flow: Vec::new(),
        left_out: None,
        fix: Some(Fix {
            description: "Add a 10 s timeout".into(),
            edits: vec![Edit {
                span: span(5, close, close, start + len - 1),
                replacement: ", timeout=10".into(),
            }],
        }),
        fingerprint: fingerprint.into(),
    };
    let findings = vec![
        finding(
            "/opt/elsewhere/server.py",
            Severity::High,
            "00000000000000a1",
        ),
        finding("srv/tools.py", Severity::Medium, "00000000000000b2"),
    ];
    Report {
        grades: mcp_audit::grade::grade(&findings),
        findings,
        sources: [
            ("/opt/elsewhere/server.py".to_string(), Arc::from(src)),
            ("srv/tools.py".to_string(), Arc::from(src)),
        ]
        .into(),
        rules_run: REGISTRY.iter().map(|r| r.id).collect(),
        // Notifications: a warning about the scan, a skipped file, empty files.
        warnings: vec![mcp_audit::Warning {
            code: mcp_audit::report::model::NO_FILES_SCANNED,
            message: "no file was scanned: a [sample] warning".into(),
        }],
        skipped: vec![
            mcp_audit::finding::Skipped {
                path: "srv/blob.py".into(),
                reason: "binary file (contains NUL bytes)".into(),
            },
            mcp_audit::finding::Skipped {
                path: "srv/__init__.py".into(),
                reason: mcp_audit::finding::EMPTY_FILE.into(),
            },
        ],
        ..Report::default()
    }
}

/// What the user must know about the scan is in the log, not only on
/// standard error: nothing scanned, and each skipped file.
#[test]
fn an_empty_scan_and_skipped_files_are_tool_notifications() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("README.md"), "# docs only\n").unwrap();
    let v = sarif_in(dir.path(), &["."]);
    let n = &v["runs"][0]["invocations"][0]["toolExecutionNotifications"];
    assert_eq!(n.as_array().unwrap().len(), 1, "{n:#}");
    assert_eq!(n[0]["level"], "warning");
    assert_eq!(n[0]["descriptor"]["id"], "no-files-scanned");
    assert!(n[0]["message"]["text"]
        .as_str()
        .unwrap()
        .starts_with("no file was scanned"));
    assert!(results(&v).is_empty());
    assert_eq!(
        v["runs"][0]["properties"]["grades"]["overall"]["grade"],
        Value::Null
    );

    std::fs::write(dir.path().join("blob.py"), b"x = 1\0\0").unwrap();
    std::fs::write(dir.path().join("__init__.py"), "").unwrap();
    let v = sarif_in(dir.path(), &["."]);
    let n = v["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap()
        .clone();
    let ids: Vec<&str> = n
        .iter()
        .map(|x| x["descriptor"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["no-files-scanned", "skipped-file", "skipped-empty-files"]
    );
    assert!(n[0]["message"]["text"]
        .as_str()
        .unwrap()
        .contains("all 2 files found were skipped"));
    assert_eq!(
        n[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "blob.py"
    );
    assert!(n[1]["message"]["text"].as_str().unwrap().contains("binary"));
    assert_eq!(n[2]["level"], "note");
}

#[test]
fn the_sample_report_renders_fixes_and_file_uris() {
    let v: Value =
        serde_json::from_str(&mcp_audit::report::sarif::render(&sample_report())).unwrap();
    let rs = results(&v);
    assert_eq!(rs[0]["level"], "error");
    let art = &rs[0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(art["uri"], "file:///opt/elsewhere/server.py");
    assert!(art.get("uriBaseId").is_none());
    let fix = &rs[1]["fixes"][0]["artifactChanges"][0];
    assert_eq!(fix["artifactLocation"]["uri"], "srv/tools.py");
    assert_eq!(
        fix["replacements"][0]["insertedContent"]["text"],
        ", timeout=10"
    );
}

/// Writes the sample's SARIF to `$MCP_AUDIT_SARIF_SAMPLE` (run by
/// `scripts/validate-sarif.sh`).
#[test]
#[ignore = "writes a file for scripts/validate-sarif.sh"]
fn write_sarif_sample() {
    let path = std::env::var_os("MCP_AUDIT_SARIF_SAMPLE").expect("MCP_AUDIT_SARIF_SAMPLE");
    std::fs::write(path, mcp_audit::report::sarif::render(&sample_report())).unwrap();
}
