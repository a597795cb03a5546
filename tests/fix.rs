//! `--fix` and `--diff` as users run them: over a copy of every fixture
//! folder, the fixed files still parse, every finding that carried a fix is
//! gone, every other finding is still there, and a second run changes
//! nothing. Plus what they print, as snapshots.

use mcp_audit::discover::language_of;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The rules that offer fixes.
const FIXING: &[&str] = &["MCP101", "MCP107", "MCP201", "MCP202"];

fn bin(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mcp-audit"));
    c.current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR");
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

/// Copies `from` into `to`, recursively.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// Every file under `dir`, by path relative to it, with its text.
fn texts(dir: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if let Ok(t) = std::fs::read_to_string(&p) {
                out.insert(p.strip_prefix(root).unwrap().to_path_buf(), t);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The folders the fixture test scans one by one: `fixtures/<rule>/<lang>`.
fn fixture_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for rule in std::fs::read_dir(root.join("fixtures")).unwrap() {
        let rule = rule.unwrap().path();
        if !rule.is_dir() {
            continue;
        }
        for lang in std::fs::read_dir(&rule).unwrap() {
            let lang = lang.unwrap().path();
            if lang.is_dir() {
                dirs.push(lang.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    dirs.sort();
    dirs
}

/// A result as the comparison sees it: where (file and line), which rule,
/// what it says, whether it carries a fix.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Res {
    uri: String,
    line: u64,
    rule: String,
    message: String,
    fixed: bool,
}

fn sarif_results(dir: &Path, target: &Path) -> Vec<Res> {
    let (code, out, err) = run_in(dir, &["--format", "sarif", target.to_str().unwrap()]);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Res {
            uri: r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_string(),
            line: r["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap(),
            rule: r["ruleId"].as_str().unwrap().to_string(),
            message: r["message"]["text"].as_str().unwrap().to_string(),
            fixed: r["fixes"].as_array().is_some_and(|f| !f.is_empty()),
        })
        .collect()
}

/// (uri, rule, message): what a finding is, wherever its line moved.
fn key(r: &Res) -> (String, String, String) {
    (r.uri.clone(), r.rule.clone(), r.message.clone())
}

#[test]
fn fix_every_fixture_folder_then_nothing_fixed_remains_and_nothing_else_changes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&root.join("fixtures"), &tmp.path().join("fixtures"));
    let (mut fixable, mut flagged) = (0usize, 0usize);
    let mut failures = Vec::new();
    for dir in fixture_dirs(root) {
        let before_texts = texts(&tmp.path().join(&dir));
        let before = sarif_results(tmp.path(), &dir);
        for r in before.iter().filter(|r| FIXING.contains(&r.rule.as_str())) {
            flagged += 1;
            fixable += usize::from(r.fixed);
        }
        let (code, _, err) = run_in(tmp.path(), &["--fix", dir.to_str().unwrap()]);
        assert!(
            code == 0 || code == 1,
            "{}: exit {code}: {err}",
            dir.display()
        );
        let after_texts = texts(&tmp.path().join(&dir));
        // The fixed files parse without errors or missing nodes.
        for (p, t) in &after_texts {
            if before_texts.get(p) == Some(t) {
                continue;
            }
            let lang = language_of(p).unwrap();
            let tree = mcp_audit::lang::parse(lang, &p.display().to_string(), t).unwrap();
            if tree.root_node().has_error() {
                failures.push(format!(
                    "{}/{}: does not parse after --fix",
                    dir.display(),
                    p.display()
                ));
            }
        }
        // No finding that carried a fix remains; the others all do.
        let after = sarif_results(tmp.path(), &dir);
        let mut want: Vec<_> = before.iter().filter(|r| !r.fixed).map(key).collect();
        let mut got: Vec<_> = after.iter().map(key).collect();
        want.sort();
        got.sort();
        if want != got {
            failures.push(format!(
                "{}: after --fix\n  expected {want:#?}\n  got {got:#?}",
                dir.display()
            ));
        }
        // A second run has nothing to fix.
        let (_, _, err) = run_in(tmp.path(), &["--fix", dir.to_str().unwrap()]);
        if err.contains("fixed") || texts(&tmp.path().join(&dir)) != after_texts {
            failures.push(format!(
                "{}: a second --fix changed something: {err}",
                dir.display()
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
    let share = fixable as f64 / flagged as f64;
    println!(
        "fixable: {fixable} of {flagged} findings of {} in the fixtures ({:.0}%)",
        FIXING.join(", "),
        share * 100.0
    );
    // The look-alikes that must not get a fix (`nofix` fixtures) hold the
    // share down; it should not fall further without a reason.
    assert!(
        share >= 0.5,
        "only {fixable} of {flagged} findings are fixable"
    );
}

/// A finding on a line whose annotation says `nofix` carries no fix: the
/// look-alikes where an edit would not be safe.
#[test]
fn findings_marked_nofix_carry_no_fix() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut marked = 0;
    let mut failures = Vec::new();
    for dir in fixture_dirs(root) {
        let results = sarif_results(root, &dir);
        for (p, text) in texts(&root.join(&dir)) {
            let uri = dir.join(&p).display().to_string();
            for (i, line) in text.lines().enumerate() {
                let Some(at) = line.find("nofix") else {
                    continue;
                };
                // The annotation is on the flagged line, or alone above it.
                let own_line =
                    line.trim_start().starts_with('#') || line.trim_start().starts_with("//");
                let target = i as u64 + if own_line { 2 } else { 1 };
                let rules: Vec<&str> = line[..at]
                    .split(|c: char| c == ',' || c.is_whitespace() || c == ':' || c == '(')
                    .filter(|w| w.starts_with("MCP"))
                    .collect();
                assert!(!rules.is_empty(), "{uri}:{}: `nofix` names no rule", i + 1);
                for r in &rules {
                    marked += 1;
                    let hit = results
                        .iter()
                        .find(|x| x.uri == uri && x.line == target && x.rule == *r);
                    match hit {
                        None => failures.push(format!("{uri}:{target}: no {r} finding")),
                        Some(x) if x.fixed => {
                            failures.push(format!("{uri}:{target}: {r} has a fix"))
                        }
                        Some(_) => {}
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
    assert!(marked >= 8, "only {marked} nofix look-alikes");
}

/// A small server to fix, in a folder of its own.
fn sample(dir: &Path) {
    std::fs::write(
        dir.join("server.py"),
        r#""""A FastMCP server with unbounded calls."""
import asyncio

import httpx
import requests
from fastmcp import FastMCP

API = "https://api.example"

mcp = FastMCP("sample")
http = httpx.AsyncClient()


async def notify_a(msg: str) -> None:
    await http.post("https://a.example/notify", json={"m": msg})


async def notify_b(msg: str) -> None:
    await http.post("https://b.example/notify", json={"m": msg})


@mcp.tool()
def forecast(city: str) -> str:
    r = requests.get(
        f"{API}/forecast/{city}",
        headers={"accept": "text/plain"},
    )
    return r.text


@mcp.tool()
async def broadcast(msg: str) -> str:
    await asyncio.gather(notify_a(msg), notify_b(msg))
    return "sent"
"#,
    )
    .unwrap();
}

#[test]
fn diff_shows_the_fixes_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    sample(tmp.path());
    let before = std::fs::read_to_string(tmp.path().join("server.py")).unwrap();
    let (code, out, err) = run_in(tmp.path(), &["--diff", "."]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("server.py")).unwrap(),
        before
    );
    insta::assert_snapshot!("diff_sample", out);
    insta::assert_snapshot!("diff_sample_stderr", err);
    // Nothing left to fix: exit 0, no diff.
    let (code, _, _) = run_in(tmp.path(), &["--fix", "-q", "."]);
    assert_eq!(code, 1, "findings without fixes remain");
    let (code, out, _) = run_in(tmp.path(), &["--diff", "."]);
    assert_eq!((code, out.as_str()), (0, ""));
}

#[test]
fn fix_says_what_it_changed_and_reports_what_remains() {
    let tmp = tempfile::tempdir().unwrap();
    sample(tmp.path());
    let (code, out, err) = run_in(tmp.path(), &["--fix", "--format", "concise", "."]);
    // MCP103 (no circuit breaker) has no mechanical fix: it remains.
    assert_eq!(code, 1, "{err}");
    insta::assert_snapshot!("fix_sample_stderr", err);
    insta::assert_snapshot!("fix_sample_remaining", out);
    let fixed = std::fs::read_to_string(tmp.path().join("server.py")).unwrap();
    assert!(
        fixed.contains("        headers={\"accept\": \"text/plain\"},\n        timeout=30,\n    )")
    );
    assert!(fixed.contains("FastMCP(\"sample\", mask_error_details=True)"));
    assert!(fixed.contains("asyncio.gather(notify_a(msg), notify_b(msg), return_exceptions=True)"));
}

#[test]
fn fix_refuses_standard_input_and_diff_takes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let src = "import requests\nfrom mcp.server.fastmcp import FastMCP\nmcp = FastMCP('s')\n\n@mcp.tool()\ndef f(u: str) -> str:\n    return requests.get(u).text\n";
    let run = |args: &[&str]| {
        use std::io::Write;
        let mut child = bin(tmp.path())
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(src.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, _, err) = run(&["--fix", "-", "--stdin-filename", "s.py"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--fix cannot write the text read from standard input"),
        "{err}"
    );
    let (code, out, _) = run(&["--diff", "-", "--stdin-filename", "s.py"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("+    return requests.get(u, timeout=30).text"),
        "{out}"
    );
}

#[cfg(unix)]
#[test]
fn fix_never_writes_through_a_link_out_of_the_scanned_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let inside = tmp.path().join("project");
    let outside = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&inside).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    sample(&outside);
    std::os::unix::fs::symlink(outside.join("server.py"), inside.join("server.py")).unwrap();
    let before = std::fs::read_to_string(outside.join("server.py")).unwrap();
    let (code, _, err) = run_in(&inside, &["--fix", "."]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("outside the paths scanned"), "{err}");
    assert_eq!(
        std::fs::read_to_string(outside.join("server.py")).unwrap(),
        before
    );
    // A link to a file inside the scanned paths is followed: the target is
    // fixed and the link stays a link.
    let real = inside.join("real");
    std::fs::create_dir_all(&real).unwrap();
    std::fs::remove_file(inside.join("server.py")).unwrap();
    sample(&real);
    std::os::unix::fs::symlink(real.join("server.py"), inside.join("link.py")).unwrap();
    let (code, _, err) = run_in(&inside, &["--fix", "."]);
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains("mcp-audit: error"), "{err}");
    assert!(std::fs::symlink_metadata(inside.join("link.py"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(real.join("server.py"))
        .unwrap()
        .contains("timeout=30"));
}
