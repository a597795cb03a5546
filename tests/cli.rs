//! What users see: the CLI contract, exit codes, and snapshots of the
//! terminal and JSON output for a fixture folder.

use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mcp-audit"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR");
    c
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn json_is_identical_for_any_jobs() {
    let (c1, one, _) = run(&["--format", "json", "--jobs", "1", "fixtures"]);
    let (c2, two, _) = run(&["--format", "json", "--jobs", "2", "fixtures"]);
    assert_eq!(c1, 1);
    assert_eq!(c2, 1);
    assert_eq!(one, two);
}

#[test]
fn exit_codes_follow_fail_on() {
    let dir = "fixtures/unbounded-await/python/http_clients.py";
    assert_eq!(run(&[dir]).0, 1);
    assert_eq!(run(&["--fail-on", "medium", dir]).0, 1);
    assert_eq!(run(&["--fail-on", "high", dir]).0, 0);
    assert_eq!(run(&["--fail-on", "never", dir]).0, 0);
    assert_eq!(run(&["--fail-on", "sometimes", dir]).0, 2);
}

#[test]
fn select_and_ignore_take_ids_and_names() {
    let f = "fixtures/unbounded-await/python/http_clients.py";
    let (_, all, _) = run(&["--format", "json", f]);
    let (code, ignored, _) = run(&["--format", "json", "--ignore", "unbounded-await", f]);
    assert_eq!(code, 0);
    assert!(all.contains("\"MCP101\""));
    assert!(!ignored.contains("\"rule\": \"MCP101\""));
    let (code, selected, _) = run(&["--format", "json", "--select", "mcp101", f]);
    assert_eq!(code, 1);
    let findings =
        |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap()["findings"].clone();
    assert_eq!(findings(&selected), findings(&all));
    assert!(findings(&all).as_array().is_some_and(|a| !a.is_empty()));
    let (code, _, err) = run(&["--select", "MCP999", f]);
    assert_eq!(code, 2);
    assert!(err.contains("MCP999"), "{err}");
}

#[test]
fn output_file_gets_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let (code, stdout, _) = run(&[
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
        "fixtures/unbounded-await/python/http_clients.py",
    ]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    assert_eq!(v["version"], 2);
}

#[test]
fn rules_and_explain() {
    let (code, out, _) = run(&["rules"]);
    assert_eq!(code, 0);
    assert!(out.contains("MCP101") && out.contains("unbounded-await"));
    assert!(
        out.lines()
            .any(|l| l.starts_with("MCP001") && l.contains("unused-suppression")),
        "{out}"
    );
    for key in ["unbounded-await", "MCP001", "unused-suppression", "mcp001"] {
        let (code, out, err) = run(&["explain", key]);
        assert_eq!(code, 0, "{key}: {err}");
        for s in [
            "## What it finds",
            "## Why it matters",
            "## Flagged",
            "## Fixed",
            "## Limits",
        ] {
            assert!(out.contains(s), "{key}: {s}");
        }
    }
    let (code, _, err) = run(&["explain", "MCP999"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown rule"));
}

#[test]
fn terminal_has_no_colour_when_piped_or_with_no_color() {
    let f = "fixtures/unbounded-await/python/lowlevel_server.py";
    let coloured = |envs: &[(&str, &str)]| {
        let out = bin().arg(f).envs(envs.iter().copied()).output().unwrap();
        String::from_utf8(out.stdout).unwrap().contains('\u{1b}')
    };
    assert!(!coloured(&[]), "escape codes in piped output");
    // FORCE_COLOR colours even a pipe, so NO_COLOR has colour to remove.
    assert!(
        coloured(&[("FORCE_COLOR", "1")]),
        "FORCE_COLOR gave no colour"
    );
    assert!(!coloured(&[("FORCE_COLOR", "1"), ("NO_COLOR", "1")]));
    // Empty values do not count (no-color.org, force-color.org).
    assert!(coloured(&[("FORCE_COLOR", "1"), ("NO_COLOR", "")]));
    assert!(!coloured(&[("FORCE_COLOR", "")]));
}

fn redact(s: &str) -> String {
    s.replace(env!("CARGO_PKG_VERSION"), "[version]")
}

/// The output for one fixture file, scanned where it is alone: a file
/// named on its own is judged with the rest of its package, which here
/// would be this whole repository, so the snapshot would change with every
/// file added to it.
fn run_alone(fixture: &str, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join(fixture);
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture),
        &copy,
    )
    .unwrap();
    let out = bin()
        .current_dir(dir.path())
        .args(args)
        .arg(fixture)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn terminal_output_snapshot() {
    let out = run_alone("fixtures/unbounded-await/python/lowlevel_server.py", &[]);
    insta::assert_snapshot!("terminal_lowlevel_server", redact(&out));
}

#[test]
fn json_output_snapshot() {
    let out = run_alone(
        "fixtures/unbounded-await/typescript/lowlevel.js",
        &["--format", "json"],
    );
    insta::assert_snapshot!("json_lowlevel_js", redact(&out));
}
