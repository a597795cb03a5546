//! Files named on their own (pre-commit's staged files, an editor's
//! `--stdin-filename`) are judged within the package around them, and only
//! their findings are reported.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const SERVER_PY: &str = r#"import requests
from mcp.server.fastmcp import FastMCP

from api import fetch_forecast

mcp = FastMCP("weather")


@mcp.tool()
def forecast(city: str) -> str:
    return fetch_forecast(city)


@mcp.tool()
def alerts(city: str) -> str:
    return requests.get(f"https://alerts.example/{city}").text  # mcp-audit: ignore[MCP999]
"#;

const API_PY: &str = r#"import requests


def fetch_forecast(city: str) -> str:
    return requests.get(f"https://api.example/{city}").text
"#;

const API_PY_FIXED: &str = r#"import requests


def fetch_forecast(city: str) -> str:
    return requests.get(f"https://api.example/{city}", timeout=10).text
"#;

const INDEX_TS: &str = r#"import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { getUser } from "./api.js";

const server = new McpServer({ name: "crm", version: "1.0.0" });

server.tool("get_user", {}, async () => {
  const user = await getUser("1");
  return { content: [{ type: "text", text: JSON.stringify(user) }] };
});
"#;

const API_TS: &str = r#"export async function getUser(id: string) {
  const r = await fetch(`https://crm.example/users/${id}`);
  return r.json();
}
"#;

const API_TS_FIXED: &str = r#"export async function getUser(id: string) {
  const r = await fetch(`https://crm.example/users/${id}`, { signal: AbortSignal.timeout(5000) });
  return r.json();
}
"#;

fn write(root: &Path, rel: &str, text: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A Python package and a TypeScript one, side by side.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "weather/pyproject.toml",
        b"[project]\nname = \"weather\"\n",
    );
    write(d, "weather/server.py", SERVER_PY.as_bytes());
    write(d, "weather/api.py", API_PY.as_bytes());
    // Not UTF-8: listed as skipped when asked about, not otherwise.
    write(d, "weather/blob.py", b"x = '\xff'\n");
    write(d, "crm/package.json", b"{\"name\": \"crm\"}\n");
    write(d, "crm/src/index.ts", INDEX_TS.as_bytes());
    write(d, "crm/src/api.ts", API_TS.as_bytes());
    dir
}

fn run(dir: &Path, args: &[&str], stdin: Option<&str>) -> (i32, serde_json::Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcp-audit"))
        .current_dir(dir)
        // Which files a partial scan judges, and how, shows in MCP101's
        // findings; the other rules would only lengthen what is compared.
        .args(["--format", "json", "--select", "MCP001,MCP101"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    assert!(
        matches!(code, 0 | 1),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (code, serde_json::from_slice(&out.stdout).unwrap())
}

/// (path, line, rule) of every finding.
fn sites(v: &serde_json::Value) -> Vec<(String, u64, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn site(path: &str, line: u64, rule: &str) -> (String, u64, String) {
    (path.to_string(), line, rule.to_string())
}

#[test]
fn a_python_helper_named_alone_is_reached_from_the_tool_in_its_package() {
    let dir = project();
    let d = dir.path();
    let (code, v) = run(d, &["weather/api.py"], None);
    assert_eq!(code, 1);
    assert_eq!(sites(&v), [site("weather/api.py", 5, "MCP101")], "{v:#}");
    let related = &v["findings"][0]["related"][0];
    assert_eq!(related["message"], "reached from MCP tool `forecast`");
    assert_eq!(related["path"], "weather/server.py");
    // Counted: the file asked about; apart, the package's other readable
    // file. The unreadable one is not what was asked about.
    let s = &v["summary"];
    assert_eq!(
        (
            &s["files_discovered"],
            &s["files_scanned"],
            &s["files_context"]
        ),
        (&1.into(), &1.into(), &1.into()),
        "{s:#}"
    );
    assert_eq!(s["tools"], 2);
    assert_eq!(v["skipped"], serde_json::json!([]));
    assert_eq!(s["left_out"], serde_json::json!({}));

    // The prefilter changes nothing here either.
    let (_, off) = run(d, &["weather/api.py", "--no-prefilter"], None);
    assert_eq!(off["findings"], v["findings"]);

    // The tool's file: its own finding and unused suppression, nothing of
    // api.py's.
    let (_, v) = run(d, &["weather/server.py"], None);
    assert_eq!(
        sites(&v),
        [
            site("weather/server.py", 16, "MCP101"),
            site("weather/server.py", 16, "MCP001")
        ],
        "{v:#}"
    );

    // Named whole, the directory reports everything, as always.
    let (_, v) = run(d, &["weather"], None);
    assert_eq!(sites(&v).len(), 3, "{v:#}");
    assert_eq!(v["summary"]["files_context"], 0);
    assert_eq!(v["skipped"][0]["path"], "weather/blob.py");

    // What discovery leaves out is no context either.
    let (_, v) = run(d, &["weather/api.py", "--exclude", "server.py"], None);
    assert_eq!(sites(&v), []);
    assert_eq!(v["summary"]["left_out"]["not-a-server"], 1, "{v:#}");
}

#[test]
fn stdin_stands_in_for_its_file_within_the_package() {
    let dir = project();
    let d = dir.path();
    let stdin = |text: &str, name: &str| run(d, &["-", "--stdin-filename", name], Some(text));
    let (code, v) = stdin(API_PY, "weather/api.py");
    assert_eq!(code, 1);
    assert_eq!(sites(&v), [site("weather/api.py", 5, "MCP101")], "{v:#}");
    let (code, v) = stdin(API_PY_FIXED, "weather/api.py");
    assert_eq!((code, sites(&v)), (0, vec![]), "{v:#}");
    assert_eq!(v["summary"]["files_scanned"], 1);
    // A file not saved yet is judged in the package it would be in.
    let (_, v) = stdin(API_PY, "weather/new/api2.py");
    assert_eq!(
        sites(&v),
        [],
        "nothing calls the new file's helper yet: {v:#}"
    );
    assert_eq!(v["summary"]["tools"], 2);
    assert_eq!(v["summary"]["left_out"]["unreached"], 1, "{v:#}");
}

#[test]
fn a_typescript_helper_named_alone_is_reached_from_the_tool_in_its_package() {
    let dir = project();
    let d = dir.path();
    let (_, v) = run(d, &["crm/src/api.ts"], None);
    assert_eq!(sites(&v), [site("crm/src/api.ts", 2, "MCP101")], "{v:#}");
    assert_eq!(
        v["findings"][0]["related"][0]["message"],
        "reached from MCP tool `get_user`"
    );
    let (_, off) = run(d, &["crm/src/api.ts", "--no-prefilter"], None);
    assert_eq!(off["findings"], v["findings"]);
    let (code, v) = run(d, &["crm/src/index.ts"], None);
    assert_eq!((code, sites(&v)), (0, vec![]), "{v:#}");
    assert_eq!(v["summary"]["files_context"], 1);
    let (code, v) = run(
        d,
        &["-", "--stdin-filename", "crm/src/api.ts"],
        Some(API_TS_FIXED),
    );
    assert_eq!((code, sites(&v)), (0, vec![]), "{v:#}");
}

#[test]
fn a_file_in_no_package_is_judged_with_its_own_folder() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Only meaningful where the temporary directory is in no project.
    if mcp_audit::package::context_root(&std::fs::canonicalize(d).unwrap())
        != std::fs::canonicalize(d).unwrap()
    {
        return;
    }
    write(d, "loose/server.py", SERVER_PY.as_bytes());
    write(d, "loose/api.py", API_PY.as_bytes());
    let (_, v) = run(d, &["loose/api.py"], None);
    assert_eq!(sites(&v), [site("loose/api.py", 5, "MCP101")], "{v:#}");
    // Its folder, not the working directory above it: a tool there that
    // calls a helper here is not seen.
    write(
        d,
        "tool.py",
        SERVER_PY.replace("from api", "from lib.api").as_bytes(),
    );
    write(d, "lib/api.py", API_PY.as_bytes());
    let (_, v) = run(d, &["lib/api.py"], None);
    assert_eq!(sites(&v), [], "{v:#}");
    assert_eq!(v["summary"]["files_context"], 0);
    assert_eq!(v["summary"]["left_out"]["not-a-server"], 1, "{v:#}");
}

/// Pre-commit's way: several files in one run, of two packages.
#[test]
fn several_files_named_are_each_judged_in_their_package() {
    let dir = project();
    let (_, v) = run(
        dir.path(),
        &["weather/api.py", "crm/src/api.ts", "crm/src/index.ts"],
        None,
    );
    assert_eq!(
        sites(&v),
        [
            site("crm/src/api.ts", 2, "MCP101"),
            site("weather/api.py", 5, "MCP101")
        ],
        "{v:#}"
    );
    let s = &v["summary"];
    assert_eq!(
        (&s["files_scanned"], &s["files_context"]),
        (&3.into(), &1.into())
    );
}
