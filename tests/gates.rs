//! The gates give no false assurance: a scan of nothing says so in every
//! format, a failing gate says why, an axis no rule covers is not graded,
//! `--jobs` is capped, and the command line and the config merge as
//! documented.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// One tool whose upstream call has no timeout: one medium MCP101 finding,
/// Maintenance B (88).
const SERVER: &str = r#"import requests
from mcp.server.fastmcp import FastMCP

mcp = FastMCP("s")


@mcp.tool()
def fetch(u: str) -> str:
    return requests.get(u).text
"#;

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-audit"))
        .current_dir(dir)
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn json(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let mut a = vec!["--format", "json"];
    a.extend_from_slice(args);
    let (code, out, err) = run(dir, &a);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, v, err)
}

fn server_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.py"), SERVER).unwrap();
    dir
}

#[test]
fn scanning_nothing_warns_in_every_format_and_grades_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    std::fs::write(dir.path().join("docs/index.md"), "# docs\n").unwrap();
    for path in [".", "docs"] {
        let (code, v, err) = json(dir.path(), &[path]);
        assert_eq!(code, 0, "an empty scan is not itself a failure: {err}");
        assert!(
            err.contains("mcp-audit: warning: no file was scanned"),
            "{err}"
        );
        assert_eq!(v["summary"]["files_scanned"], 0);
        assert_eq!(v["warnings"][0]["code"], "no-files-scanned");
        assert!(v["warnings"][0]["message"].as_str().unwrap().contains(path));
        for axis in ["maintenance", "security", "overall"] {
            assert_eq!(
                v["summary"]["grades"][axis],
                serde_json::json!({"score": null, "grade": null}),
                "{axis}"
            );
        }
    }
    let (code, out, err) = run(dir.path(), &["docs"]);
    assert_eq!(code, 0);
    assert!(out.contains("\nwarning: no file was scanned"), "{out}");
    assert!(out.contains("overall          –  –"), "{out}");
    assert!(!out.contains("  A\n"), "no A for nothing: {out}");
    assert!(err.contains("no file was scanned"), "{err}");
    let (_, out, _) = run(dir.path(), &["--format", "github", "docs"]);
    assert!(
        out.starts_with("::warning title=mcp-audit::no file was scanned"),
        "{out}"
    );
    assert!(out.contains("overall n/a"), "{out}");
    // Nothing graded is below no --min-grade; the gate says it could not
    // check, and the warning says what happened.
    let (code, _, err) = run(dir.path(), &["--min-grade", "A", "docs"]);
    assert_eq!(code, 0);
    assert!(
        err.contains("mcp-audit: note: --min-grade A not checked: nothing was graded"),
        "{err}"
    );
}

#[test]
fn a_tree_whose_every_file_is_skipped_scanned_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("blob.py"), b"x = 1\0\0").unwrap();
    std::fs::write(dir.path().join("big.py"), "x = 1\n".repeat(100)).unwrap();
    let (code, v, err) = json(dir.path(), &["--max-file-size", "10", "."]);
    assert_eq!(code, 0);
    assert_eq!(v["summary"]["files_discovered"], 2);
    assert_eq!(v["summary"]["files_skipped"], 2);
    assert_eq!(v["summary"]["files_scanned"], 0);
    assert!(
        err.contains("no file was scanned: all 2 files found were skipped"),
        "{err}"
    );
    let (_, out, _) = run(
        dir.path(),
        &["--format", "github", "--max-file-size", "10", "."],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("::warning title=mcp-audit::no file was scanned"));
    assert!(
        lines[1].starts_with("::warning file=big.py,title=mcp-audit skipped a file::"),
        "{out}"
    );
    assert!(lines[2].starts_with("::warning file=blob.py,"), "{out}");
    // One file scanned is a scan: no warning, graded.
    let (_, v, err) = json(dir.path(), &["."]);
    assert_eq!(v["summary"]["files_scanned"], 1);
    assert_eq!(v["warnings"], serde_json::json!([]));
    assert_eq!(v["summary"]["grades"]["maintenance"]["grade"], "A");
    assert!(!err.contains("warning"), "{err}");
}

#[test]
fn an_axis_no_selected_rule_covers_is_not_graded() {
    let dir = server_dir();
    let (_, v, _) = json(dir.path(), &["--select", "MCP001,MCP101", "."]);
    let g = &v["summary"]["grades"];
    assert_eq!(
        g["maintenance"],
        serde_json::json!({"score": 88, "grade": "B"})
    );
    // No security rule ran: not graded, and not part of the overall grade.
    assert_eq!(
        g["security"],
        serde_json::json!({"score": null, "grade": null})
    );
    assert_eq!(g["overall"], g["maintenance"]);
    let (_, out, _) = run(dir.path(), &["--select", "MCP001,MCP101", "."]);
    assert!(out.contains("security         –  –"), "{out}");
    // With only security rules selected, no rule covers maintenance.
    let (_, v, _) = json(
        dir.path(),
        &["--select", "MCP201,MCP202,MCP203,MCP204", "."],
    );
    assert_eq!(v["summary"]["grades"]["maintenance"]["grade"], Value::Null);
    assert_eq!(
        v["summary"]["grades"]["overall"],
        v["summary"]["grades"]["security"]
    );
}

#[test]
fn a_failing_gate_says_why() {
    let dir = server_dir();
    let (code, _, err) = run(dir.path(), &["--fail-on", "never", "--min-grade", "A", "."]);
    assert_eq!(code, 1);
    assert_eq!(
        err.trim_end(),
        "mcp-audit: failing: overall grade B (88) is below --min-grade A"
    );
    let (code, _, err) = run(dir.path(), &["--fail-on", "medium", "."]);
    assert_eq!(code, 1);
    assert_eq!(
        err.trim_end(),
        "mcp-audit: failing: 1 finding at or above --fail-on medium"
    );
    let (code, _, err) = run(dir.path(), &["."]);
    assert_eq!(code, 1);
    assert!(
        err.contains("at or above --fail-on low (the default)"),
        "{err}"
    );
    let (code, _, err) = run(dir.path(), &["--fail-on", "high", "--min-grade", "B", "."]);
    assert_eq!(code, 0);
    assert!(err.is_empty(), "{err}");
}

#[test]
fn config_values_take_any_case_and_a_failure_names_the_file() {
    let dir = server_dir();
    std::fs::write(
        dir.path().join("mcp-audit.toml"),
        "fail-on = \"HIGH\"\nmin-grade = \"a\"\n",
    )
    .unwrap();
    let (code, _, err) = run(dir.path(), &["."]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("overall grade B (88) is below min-grade = \"A\" in")
            && err.contains("mcp-audit.toml"),
        "{err}"
    );
    assert!(!err.contains("fail-on"), "fail-on HIGH passes: {err}");
    std::fs::write(dir.path().join("mcp-audit.toml"), "fail-on = \"Medium\"\n").unwrap();
    let (code, _, err) = run(dir.path(), &["."]);
    assert_eq!(code, 1);
    assert!(err.contains("at or above fail-on = \"medium\" in"), "{err}");
    std::fs::write(
        dir.path().join("mcp-audit.toml"),
        "fail-on = \"sometimes\"\n",
    )
    .unwrap();
    let (code, _, err) = run(dir.path(), &["."]);
    assert_eq!(code, 2);
    assert!(err.contains("fail-on"), "{err}");
}

#[test]
fn select_on_the_command_line_wins_over_ignore_in_the_config() {
    let dir = server_dir();
    std::fs::write(dir.path().join("mcp-audit.toml"), "ignore = [\"MCP101\"]\n").unwrap();
    let (_, v, _) = json(dir.path(), &["."]);
    assert_eq!(v["summary"]["findings"], 0);
    for sel in ["MCP101", "unbounded-await", "mcp101"] {
        let (_, v, _) = json(dir.path(), &["--select", sel, "."]);
        assert_eq!(v["summary"]["by_rule"]["MCP101"], 1, "--select {sel}");
    }
    // At the same level, an ignore still wins.
    let (_, v, _) = json(
        dir.path(),
        &["--select", "MCP101", "--ignore", "MCP101", "."],
    );
    assert_eq!(v["summary"]["findings"], 0);
}

#[test]
fn a_huge_jobs_is_capped_and_changes_nothing() {
    let dir = server_dir();
    let (c1, one, _) = run(dir.path(), &["--format", "json", "--jobs", "1", "."]);
    let (c2, many, err) = run(dir.path(), &["--format", "json", "--jobs", "999999", "."]);
    assert_eq!((c1, c2), (1, 1), "{err}");
    assert_eq!(one, many);
    assert!(err.contains("--jobs 999999 is more than"), "{err}");
    let cap = mcp_audit::config::max_jobs();
    assert!((1..=256).contains(&cap));
    assert!(
        err.contains(&format!("running {cap} worker threads")),
        "{err}"
    );
    let (_, help, _) = run(dir.path(), &["--help"]);
    assert!(help.contains("at most four per core and 256"), "{help}");
}
