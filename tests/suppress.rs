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

/// A project: `mcp-audit.toml` at its root, servers in `src/app`,
/// `src/legacy` and `src/scripts`.
fn project(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["src/app", "src/legacy", "src/scripts"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        std::fs::write(dir.path().join(sub).join("server.py"), SERVER).unwrap();
    }
    std::fs::write(dir.path().join("mcp-audit.toml"), config).unwrap();
    dir
}

fn files_with(v: &serde_json::Value, rule: &str) -> Vec<String> {
    let mut out: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    out.dedup();
    out
}

#[test]
fn config_paths_are_relative_to_the_config_file_whatever_is_scanned() {
    let dir = project(
        "exclude = [\"src/legacy/**\"]\n\
         [per-path-ignores]\n\"src/scripts/*.py\" = [\"MCP101\"]\n",
    );
    let root = dir.path();
    let src = root.join("src");
    for (cwd, path, want) in [
        (root, ".", "src/app/server.py"),
        (root, "src", "src/app/server.py"),
        (root, "src/app", "src/app/server.py"),
        (src.as_path(), ".", "app/server.py"),
        (src.as_path(), "../src", "../src/app/server.py"),
    ] {
        let v = json(cwd, &[path]);
        assert_eq!(files_with(&v, "MCP101"), vec![want], "{path} from {cwd:?}");
    }
    // Files named explicitly, as pre-commit names them: the config's
    // excludes apply too.
    let v = json(
        root,
        &[
            "src/legacy/server.py",
            "src/app/server.py",
            "src/scripts/server.py",
        ],
    );
    assert_eq!(files_with(&v, "MCP101"), vec!["src/app/server.py"]);
    assert_eq!(v["summary"]["files_scanned"], 2);
    let (code, _, err) = run(&src, &["legacy/server.py"]);
    assert_eq!(code, 0);
    assert!(err.contains("no file was scanned"), "{err}");
    // --exclude is relative to the working directory, and also applies to
    // named files.
    let v = json(&src, &["--exclude", "app/**", "."]);
    assert!(files_with(&v, "MCP101").is_empty(), "{v:#}");
    let v = json(&src, &["--exclude", "app/", "app/server.py"]);
    assert_eq!(v["summary"]["files_scanned"], 0);
    // A bad glob is a usage error that names it.
    let (code, _, err) = run(root, &["--exclude", "a/{b", "."]);
    assert_eq!(code, 2);
    assert!(err.contains("--exclude") && err.contains("a/{b"), "{err}");
}

#[test]
fn a_baseline_written_at_the_root_holds_from_a_subdirectory() {
    // The project root is the config file's directory, else the repository
    // root: fingerprints must not depend on where the scan starts.
    for marker in ["mcp-audit.toml", ".git"] {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src/app")).unwrap();
        std::fs::write(root.join("src/app/server.py"), SERVER).unwrap();
        if marker == ".git" {
            std::fs::create_dir(root.join(".git")).unwrap();
        } else {
            std::fs::write(root.join(marker), "").unwrap();
        }
        let (code, _, err) = run(root, &["--write-baseline", "baseline.json", "src"]);
        assert_eq!(code, 0, "{err}");
        let b: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root.join("baseline.json")).unwrap())
                .unwrap();
        assert_eq!(b["findings"][0]["path"], "src/app/server.py", "{b:#}");
        let at_root = json(root, &["src"]);
        for (cwd, path, baseline) in [
            (root.join("src"), ".", "../baseline.json"),
            (root.join("src/app"), "server.py", "../../baseline.json"),
        ] {
            let v = json(&cwd, &[path]);
            let fps = |v: &serde_json::Value| -> Vec<String> {
                v["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["fingerprint"].as_str().unwrap().to_string())
                    .collect()
            };
            assert_eq!(fps(&v), fps(&at_root), "{marker}: from {cwd:?}");
            let v = json(&cwd, &["--baseline", baseline, path]);
            assert_eq!(v["summary"]["findings"], 0, "{marker}: from {cwd:?}: {v:#}");
            assert_eq!(v["summary"]["baselined"], 2);
        }
    }
}

#[test]
fn rewriting_a_baseline_keeps_what_is_still_there() {
    let dir = server_dir();
    let d = dir.path();
    // A second server module (a `fastmcp` one, so MCP202 also reports its
    // constructor): its findings are in code a tool runs.
    let other = "import requests\nfrom fastmcp import FastMCP\n\nmcp = FastMCP('o')\n\n\n@mcp.tool()\ndef o():\n    return requests.get('u')\n";
    std::fs::write(d.join("other.py"), other).unwrap();
    assert_eq!(run(d, &["--write-baseline", "old.json", "."]).0, 0);
    // A new finding appears; the baseline is rewritten from the old one.
    let grown = format!(
        "{SERVER}\n\n@mcp.tool()\ndef e(u: str) -> str:\n    return requests.post(u).text\n"
    );
    std::fs::write(d.join("server.py"), grown).unwrap();
    let (code, _, err) = run(
        d,
        &[
            "--baseline",
            "old.json",
            "--write-baseline",
            "new.json",
            ".",
        ],
    );
    assert_eq!(code, 0);
    assert!(err.contains("wrote a baseline of 5 findings"), "{err}");
    // Nothing comes back: neither the old findings nor the new one.
    let v = json(d, &["--baseline", "new.json", "."]);
    assert_eq!(v["summary"]["findings"], 0, "{v:#}");
    assert_eq!(v["summary"]["baselined"], 5);
    // Rewriting from a scan of one file keeps the other file's entries;
    // with one rule selected, the other rule's entries.
    let (_, _, err) = run(
        d,
        &[
            "--baseline",
            "new.json",
            "--write-baseline",
            "part.json",
            "other.py",
        ],
    );
    assert!(err.contains("wrote a baseline of 5 findings"), "{err}");
    let (_, _, err) = run(
        d,
        &[
            "--baseline",
            "part.json",
            "--write-baseline",
            "sel.json",
            "--select",
            "MCP101",
            ".",
        ],
    );
    assert!(err.contains("wrote a baseline of 5 findings"), "{err}");
    let v = json(d, &["--baseline", "sel.json", "."]);
    assert_eq!(v["summary"]["findings"], 0, "{v:#}");
    // A fixed finding leaves the baseline when it is rewritten.
    std::fs::write(
        d.join("other.py"),
        other.replace("get('u')", "get('u', timeout=5)"),
    )
    .unwrap();
    let (_, _, err) = run(
        d,
        &[
            "--baseline",
            "sel.json",
            "--write-baseline",
            "fixed.json",
            ".",
        ],
    );
    // MCP202 on the fastmcp constructor stays.
    assert!(err.contains("wrote a baseline of 4 findings"), "{err}");
}

#[test]
fn a_baseline_of_another_version_is_refused() {
    let dir = server_dir();
    std::fs::write(
        dir.path().join("b.json"),
        "{\"version\": 9, \"findings\": []}",
    )
    .unwrap();
    let (code, _, err) = run(dir.path(), &["--baseline", "b.json", "."]);
    assert_eq!(code, 2);
    assert!(err.contains("b.json") && err.contains("version 9"), "{err}");
}
