//! Suppressions, config and baseline, end to end through the CLI.

use std::path::Path;
use std::process::Command;

const SERVER: &str = r#"import requests
from mcp.server.fastmcp import FastMCP

mcp = FastMCP("s")


@mcp.tool()
def a(u: str) -> str:
    return requests.get(u).text  # mcp-audit: ignore[MCP101] sidecar on localhost


@mcp.tool()
def b(u: str) -> str:
    # mcp-audit: ignore[unbounded-await] same sidecar
    return requests.get(u).text


@mcp.tool()
def c(u: str) -> str:
    return requests.get(u).text


@mcp.tool()
def d(u: str) -> str:
    return requests.get(u, timeout=5).text  # mcp-audit: ignore[MCP101] stale
"#;

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-audit"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut a = vec!["--format", "json"];
    a.extend_from_slice(args);
    serde_json::from_str(&run(dir, &a).1).unwrap()
}

fn lines_of(v: &serde_json::Value, rule: &str) -> Vec<u64> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| f["line"].as_u64().unwrap())
        .collect()
}

fn server_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.py"), SERVER).unwrap();
    dir
}

#[test]
fn inline_suppressions_silence_every_format_and_unused_ones_are_reported() {
    let dir = server_dir();
    let v = json(dir.path(), &["server.py"]);
    assert_eq!(lines_of(&v, "MCP101"), vec![20]);
    assert_eq!(lines_of(&v, "MCP001"), vec![25]);
    let (_, sarif, _) = run(dir.path(), &["--format", "sarif", "server.py"]);
    assert_eq!(
        sarif.matches("\"ruleId\": \"MCP101\"").count(),
        1,
        "{sarif}"
    );
    let (_, gh, _) = run(dir.path(), &["--format", "github", "server.py"]);
    assert!(
        gh.contains("line=20") && !gh.contains("line=9,") && !gh.contains("line=15,"),
        "{gh}"
    );
    let (_, term, _) = run(dir.path(), &["server.py"]);
    assert!(
        term.contains("server.py:20") && !term.contains("server.py:9:"),
        "{term}"
    );
    // Unused-suppression reports can be turned off like a rule.
    let v = json(dir.path(), &["--ignore", "unused-suppression", "server.py"]);
    assert!(lines_of(&v, "MCP001").is_empty());
}

#[test]
fn a_file_level_suppression_covers_the_file() {
    let dir = server_dir();
    let text = format!("# mcp-audit: ignore-file[MCP101]\n{SERVER}");
    std::fs::write(dir.path().join("server.py"), text).unwrap();
    let v = json(dir.path(), &["--ignore", "MCP001", "server.py"]);
    assert!(lines_of(&v, "MCP101").is_empty(), "{v:#}");
}

#[test]
fn config_file_selects_ignores_and_ignores_per_path() {
    let dir = server_dir();
    std::fs::create_dir(dir.path().join("scripts")).unwrap();
    std::fs::write(
        dir.path().join("scripts/sync.py"),
        "import requests\nrequests.get('https://x.example')\n",
    )
    .unwrap();
    // The script runs in no MCP handler: only `--scope all` reports it.
    let v = json(dir.path(), &["--scope", "all", "."]);
    assert_eq!(v["summary"]["by_rule"]["MCP101"], 2);
    std::fs::write(
        dir.path().join("mcp-audit.toml"),
        "fail-on = \"high\"\n[per-path-ignores]\n\"scripts/*.py\" = [\"unbounded-await\"]\n",
    )
    .unwrap();
    let (code, out, _) = run(dir.path(), &["--format", "json", "--scope", "all", "."]);
    assert_eq!(code, 0, "fail-on from the config");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["by_rule"]["MCP101"], 1);
    // The command line wins over the config.
    assert_eq!(run(dir.path(), &["--fail-on", "low", "."]).0, 1);
    // pyproject.toml's [tool.mcp-audit], found from a subdirectory.
    std::fs::remove_file(dir.path().join("mcp-audit.toml")).unwrap();
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.mcp-audit]\nignore = [\"MCP101\"]\n",
    )
    .unwrap();
    let v = json(dir.path(), &["--scope", "all", "scripts"]);
    assert!(lines_of(&v, "MCP101").is_empty(), "{v:#}");
}

#[test]
fn a_malformed_config_is_exit_2_naming_the_key() {
    let dir = server_dir();
    std::fs::write(dir.path().join("mcp-audit.toml"), "fail_on = \"high\"\n").unwrap();
    let (code, _, err) = run(dir.path(), &["."]);
    assert_eq!(code, 2);
    assert!(err.contains("fail_on") && err.lines().count() == 1, "{err}");
    let (code, _, err) = run(dir.path(), &["--config", "missing.toml", "."]);
    assert_eq!(code, 2);
    assert!(err.contains("missing.toml"), "{err}");
}

#[test]
fn the_baseline_round_trips_and_survives_unrelated_edits() {
    let dir = server_dir();
    let (code, _, err) = run(
        dir.path(),
        &["--write-baseline", "baseline.json", "server.py"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("wrote a baseline of 2 findings"), "{err}");
    let (code, out, _) = run(
        dir.path(),
        &[
            "--format",
            "json",
            "--baseline",
            "baseline.json",
            "server.py",
        ],
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["findings"], 0);
    // Lines inserted above move the findings; they stay known. A new one is reported.
    let edited = format!(
        "\"\"\"Docs.\"\"\"\n\n\n{SERVER}\n\n@mcp.tool()\ndef e(u: str) -> str:\n    return requests.post(u).text\n"
    );
    std::fs::write(dir.path().join("server.py"), edited).unwrap();
    let v = json(dir.path(), &["--baseline", "baseline.json", "server.py"]);
    assert_eq!(lines_of(&v, "MCP101"), vec![33], "{v:#}");
    assert!(lines_of(&v, "MCP001").is_empty());
}

#[test]
fn an_unknown_rule_in_a_suppression_hides_nothing_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let text = SERVER
        .replace(
            "# mcp-audit: ignore[MCP101] sidecar on localhost",
            "# mcp-audit: ignore[MCP999] a typo",
        )
        .replace(
            "# mcp-audit: ignore[unbounded-await] same sidecar",
            "# mcp-audit: ignore[unbounded-await, future-rule] known and unknown",
        );
    std::fs::write(dir.path().join("server.py"), text).unwrap();
    let (code, out, _) = run(dir.path(), &["--format", "json", "server.py"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // Line 9 is no longer hidden; line 15 still is, by its known key.
    assert_eq!(lines_of(&v, "MCP101"), vec![9, 20], "{v:#}");
    assert_eq!(lines_of(&v, "MCP001"), vec![9, 14, 25], "{v:#}");
    let messages: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "MCP001")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages[0].contains("MCP999") && messages[0].contains("hides nothing"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("future-rule") && messages[1].contains("hides MCP101 only"),
        "{messages:?}"
    );
    // Even with MCP001 off, the typo hides nothing.
    let v = json(dir.path(), &["--ignore", "MCP001", "server.py"]);
    assert_eq!(lines_of(&v, "MCP101"), vec![9, 20]);
}

#[test]
fn a_bare_ignore_hides_every_rule_on_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = SERVER.replace(
        "return requests.get(u).text\n\n\n@mcp.tool()\ndef d",
        "return requests.get(u).text  # mcp-audit: ignore\n\n\n@mcp.tool()\ndef d",
    );
    assert_ne!(text, SERVER);
    std::fs::write(dir.path().join("server.py"), text).unwrap();
    let v = json(dir.path(), &["server.py"]);
    assert!(lines_of(&v, "MCP101").is_empty(), "{v:#}");
    assert_eq!(lines_of(&v, "MCP001"), vec![25]);
}
