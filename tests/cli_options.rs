//! The conveniences ruff and Semgrep users reach for: `--format concise`,
//! `--quiet` / `--silent`, `--color` with FORCE_COLOR and NO_COLOR,
//! `--statistics`, standard input with `--stdin-filename`, case-insensitive
//! values; and MCP001 as a rule like any other.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const FIXTURE: &str = "fixtures/unbounded-await/python/http_clients.py";

const SERVER: &str = r#"import requests
from mcp.server.fastmcp import FastMCP

mcp = FastMCP("s")


@mcp.tool()
def forecast(city: str) -> str:
    return requests.get(f"https://api.example/{city}").text


@mcp.tool()
def alerts(city: str) -> str:
    return requests.get(f"https://api.example/{city}/alerts", timeout=5).text  # mcp-audit: ignore[MCP101]
"#;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn cmd(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mcp-audit"));
    c.current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .stdin(Stdio::null());
    c
}

fn finish(out: std::process::Output) -> Out {
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn run_in(dir: &Path, args: &[&str]) -> Out {
    finish(cmd(dir).args(args).output().unwrap())
}

fn run(args: &[&str]) -> Out {
    run_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

fn run_stdin(dir: &Path, args: &[&str], input: &str) -> Out {
    let mut child = cmd(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A usage error exits before reading: a broken pipe here is expected.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    finish(child.wait_with_output().unwrap())
}

fn server_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.py"), SERVER).unwrap();
    dir
}

#[test]
fn concise_is_one_line_per_finding_then_a_summary() {
    let dir = server_dir();
    let o = run_in(dir.path(), &["--format", "concise", "server.py"]);
    assert_eq!(o.code, 1);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "server.py:9:12: MCP101 [medium] `requests.get` has no timeout: requests waits forever by default",
            "server.py:9:12: MCP103 [low] `api.example` is called with no circuit breaker on any of its 2 calls: while it is down, every tool call still waits on it",
            "server.py:14:80: MCP001 [low] suppression of MCP101 matches no finding",
            "Found 3 findings in 1 file (1 file scanned). Grades: maintenance B (83), security A (100), overall B (83).",
            "1 fixable with `--fix` (`--diff` shows the edits first).",
        ],
        "{}",
        o.stdout
    );
    // The same findings as the JSON report, in the same order.
    let v: serde_json::Value =
        serde_json::from_str(&run_in(dir.path(), &["--format", "json", "server.py"]).stdout)
            .unwrap();
    for (line, f) in lines.iter().zip(v["findings"].as_array().unwrap()) {
        let head = format!(
            "{}:{}:{}: {}",
            f["path"].as_str().unwrap(),
            f["line"],
            f["column"],
            f["rule"].as_str().unwrap()
        );
        assert!(line.starts_with(&head), "{line} vs {head}");
    }
}

#[test]
fn quiet_prints_the_findings_only_and_silent_nothing() {
    let full = run(&[FIXTURE]);
    assert!(full.stdout.contains("overall"), "{}", full.stdout);
    let quiet = run(&["-q", FIXTURE]);
    assert_eq!(quiet.code, 1);
    assert!(quiet.stdout.contains("MCP101(unbounded-await)"));
    assert!(!quiet.stdout.contains("overall") && !quiet.stdout.contains("findings in"));
    assert!(full.stdout.starts_with(&quiet.stdout));
    let concise = run(&["--quiet", "--format", "concise", FIXTURE]);
    assert!(
        concise.stdout.lines().all(|l| l.contains(": MCP101 [")),
        "{}",
        concise.stdout
    );
    for args in [
        &["-qq", FIXTURE][..],
        &["--silent", FIXTURE],
        &["-s", "--format", "json", FIXTURE],
    ] {
        let o = run(args);
        assert_eq!(o.code, 1, "{args:?}: the exit code still tells");
        assert!(o.stdout.is_empty(), "{args:?}: {}", o.stdout);
    }
    // Files asked for are still written.
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("r.sarif");
    let o = run(&[
        "--silent",
        "--sarif-output",
        sarif.to_str().unwrap(),
        FIXTURE,
    ]);
    assert!(o.stdout.is_empty());
    assert!(std::fs::read_to_string(&sarif)
        .unwrap()
        .contains("\"MCP101\""));
    // -q drops the baseline note; without it, it is there.
    let b = dir.path().join("b.json");
    let o = run(&["--write-baseline", b.to_str().unwrap(), FIXTURE]);
    assert!(o.stderr.contains("wrote a baseline"), "{}", o.stderr);
    let o = run(&["-q", "--write-baseline", b.to_str().unwrap(), FIXTURE]);
    assert!(o.stderr.is_empty(), "{}", o.stderr);
}

#[test]
fn color_flag_beats_no_color_which_beats_force_color() {
    let esc = |args: &[&str], envs: &[(&str, &str)]| {
        let out = cmd(Path::new(env!("CARGO_MANIFEST_DIR")))
            .args(args)
            .arg(FIXTURE)
            .envs(envs.iter().copied())
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().contains('\u{1b}')
    };
    for format in ["terminal", "concise"] {
        let f = ["--format", format];
        assert!(!esc(&f, &[]), "{format}: piped output is plain");
        assert!(
            esc(&[&f[..], &["--color", "always"]].concat(), &[]),
            "{format}"
        );
        assert!(esc(&f, &[("FORCE_COLOR", "1")]), "{format}");
        assert!(
            !esc(&f, &[("FORCE_COLOR", "1"), ("NO_COLOR", "1")]),
            "{format}"
        );
        assert!(
            esc(
                &[&f[..], &["--color", "always"]].concat(),
                &[("NO_COLOR", "1")]
            ),
            "{format}: the flag wins"
        );
        assert!(
            !esc(
                &[&f[..], &["--color", "never"]].concat(),
                &[("FORCE_COLOR", "1")]
            ),
            "{format}: the flag wins"
        );
    }
    // Machine formats never carry colour.
    assert!(!esc(&["--format", "json", "--color", "always"], &[]));
}

#[test]
fn statistics_count_findings_per_rule() {
    let dir = server_dir();
    let o = run_in(dir.path(), &["--statistics", "server.py"]);
    assert_eq!(o.code, 1);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["count", "rule", "name", "severity"]
    );
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["1", "MCP001", "unused-suppression", "low"]
    );
    assert_eq!(
        lines[2].split_whitespace().collect::<Vec<_>>(),
        ["1", "MCP101", "unbounded-await", "medium"]
    );
    assert_eq!(
        lines[3].split_whitespace().collect::<Vec<_>>(),
        ["1", "MCP103", "missing-circuit-breaker", "low"]
    );
    assert!(
        !o.stdout.contains("requests.get"),
        "no findings listed: {}",
        o.stdout
    );
    assert!(o.stdout.contains("Grades:"));
    let q = run_in(dir.path(), &["--statistics", "-q", "server.py"]);
    assert_eq!(q.stdout.lines().count(), 4, "{}", q.stdout);
    let j = run_in(
        dir.path(),
        &["--statistics", "--format", "json", "server.py"],
    );
    let v: serde_json::Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!([
            { "rule": "MCP001", "name": "unused-suppression", "severity": "low", "count": 1 },
            { "rule": "MCP101", "name": "unbounded-await", "severity": "medium", "count": 1 },
            { "rule": "MCP103", "name": "missing-circuit-breaker", "severity": "low", "count": 1 }
        ])
    );
    let s = run_in(
        dir.path(),
        &["--statistics", "--format", "sarif", "server.py"],
    );
    assert_eq!(s.code, 2);
    assert!(s.stderr.contains("--statistics"), "{}", s.stderr);
}

#[test]
fn stdin_is_reported_under_its_stdin_filename() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_stdin(
        dir.path(),
        &[
            "-",
            "--stdin-filename",
            "src/server.py",
            "--format",
            "concise",
            "-q",
        ],
        SERVER,
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stdout.starts_with("src/server.py:9:12: MCP101 [medium]"),
        "{}",
        o.stdout
    );
    // With no paths, --stdin-filename alone reads standard input too.
    let o = run_stdin(
        dir.path(),
        &["--stdin-filename", "src/server.py", "--format", "json"],
        SERVER,
    );
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["findings"][0]["path"], "src/server.py");
    // The language comes from the extension.
    let ts = "import { McpServer } from \"@modelcontextprotocol/sdk/server/mcp.js\";\n\
              const s = new McpServer({ name: \"s\", version: \"1\" });\n\
              s.tool(\"t\", {}, async () => {\n  const r = await fetch(\"https://x.example\");\n  return { content: [] };\n});\n";
    let o = run_stdin(
        dir.path(),
        &[
            "-",
            "--stdin-filename",
            "tool.ts",
            "--format",
            "concise",
            "-q",
        ],
        ts,
    );
    assert!(o.stdout.starts_with("tool.ts:4:19: MCP101"), "{}", o.stdout);
    // The config is found from where the file would be, saved or not.
    std::fs::create_dir(dir.path().join("svc")).unwrap();
    std::fs::write(
        dir.path().join("svc/mcp-audit.toml"),
        "ignore = [\"MCP101\", \"MCP103\"]\n",
    )
    .unwrap();
    let o = run_stdin(
        dir.path(),
        &[
            "-",
            "--stdin-filename",
            "svc/new/server.py",
            "--format",
            "concise",
        ],
        SERVER,
    );
    assert_eq!(o.code, 0, "{}", o.stdout);
    assert!(
        o.stdout.starts_with("No findings (1 file scanned)"),
        "{}",
        o.stdout
    );
    // The text stands in for the file of that name on disk.
    std::fs::write(dir.path().join("server.py"), SERVER).unwrap();
    let o = run_stdin(
        dir.path(),
        &[
            ".",
            "-",
            "--stdin-filename",
            "server.py",
            "--format",
            "json",
        ],
        "x = 1\n",
    );
    assert_eq!(o.code, 0, "{}", o.stdout);
}

#[test]
fn stdin_without_a_usable_name_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (&["-"][..], "--stdin-filename"),
        (&["-", "--stdin-filename", "notes.txt"], "notes.txt"),
        (&["-", "--stdin-filename", "Makefile"], "Makefile"),
        (&[".", "--stdin-filename", "a.py"], "`-`"),
        (&["-", "-", "--stdin-filename", "a.py"], "once"),
    ] {
        let o = run_stdin(dir.path(), args, SERVER);
        assert_eq!(o.code, 2, "{args:?}");
        assert!(o.stdout.is_empty());
        assert!(
            o.stderr.contains(needle) && o.stderr.lines().count() == 1,
            "{args:?}: {}",
            o.stderr
        );
    }
}

#[test]
fn values_are_case_insensitive() {
    assert_eq!(run(&["--fail-on", "LOW", FIXTURE]).code, 1);
    assert_eq!(run(&["--fail-on", "High", FIXTURE]).code, 0);
    assert_eq!(run(&["--fail-on", "NEVER", FIXTURE]).code, 0);
    let o = run(&["--format", "JSON", FIXTURE]);
    assert!(serde_json::from_str::<serde_json::Value>(&o.stdout).is_ok());
    let o = run(&["--format", "Concise", "--color", "NEVER", FIXTURE]);
    assert!(o.stdout.contains(": MCP101 [medium]") && !o.stdout.contains('\u{1b}'));
    assert_eq!(
        run(&["--min-grade", "a", "--fail-on", "never", FIXTURE]).code,
        1
    );
    assert_eq!(
        run(&["--select", "Unbounded-Await", "--fail-on", "never", FIXTURE]).code,
        0
    );
}

#[test]
fn help_lists_every_option_the_readme_uses() {
    // The README's `mcp-audit verify ..` lines use the subcommand's options.
    let help = run(&["--help"]).stdout + &run(&["verify", "--help"]).stdout;
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    // Options in the options table, and in mcp-audit command lines.
    let mut flags: Vec<&str> = readme
        .lines()
        .filter(|l| l.starts_with("| `-") || l.contains("mcp-audit "))
        .flat_map(|l| l.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')))
        .filter(|w| w.starts_with("--") && w.len() > 2 && w.as_bytes()[2].is_ascii_lowercase())
        .collect();
    flags.sort();
    flags.dedup();
    for f in [
        "--no-prefilter",
        "--stdin-filename",
        "--statistics",
        "--color",
    ] {
        assert!(
            flags.contains(&f),
            "README does not document {f}: {flags:?}"
        );
    }
    // Cargo's own flags in install commands are not ours.
    for f in flags
        .iter()
        .filter(|f| !["--release", "--locked", "--git", "--tag"].contains(f))
    {
        let listed = help.lines().any(|l| {
            l.trim_start()
                .split([',', ' '])
                .any(|w| w.trim_end_matches("...") == *f)
        });
        assert!(listed, "--help lacks {f}:\n{help}");
    }
}

#[test]
fn unused_suppression_is_declared_in_sarif() {
    let dir = server_dir();
    let o = run_in(dir.path(), &["--format", "sarif", "server.py"]);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let result = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "MCP001")
        .expect("an MCP001 result");
    let i = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
    assert_eq!(rules[i]["id"], "MCP001");
    assert_eq!(rules[i]["name"], "unused-suppression");
    assert!(rules[i]["help"]["markdown"]
        .as_str()
        .unwrap()
        .contains("## What it finds"));
}
