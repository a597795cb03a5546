//! A knowledge pack of the user's own (`--knowledge`) teaches MCP101 a
//! library mcp-audit does not know: the pack in the README, used as
//! written.

use std::path::Path;
use std::process::{Command, Stdio};

const SERVER: &str = r#"import corp.http
from mcp.server.fastmcp import FastMCP

mcp = FastMCP("corp")
bounded_client = corp.http.Client(deadline=10)
client = corp.http.Client()


@mcp.tool()
def report(url: str) -> str:
    return corp.http.fetch(url)


@mcp.tool()
def bounded(url: str) -> str:
    return corp.http.fetch(url, deadline=5)


@mcp.tool()
def through_clients(url: str) -> str:
    return bounded_client.get(url) + client.post(url)
"#;

/// The first ```toml block of the README's "Knowledge packs" section.
fn readme_pack() -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = &readme[readme.find("## Knowledge packs").expect("section")..];
    let start = section.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = start + section[start..].find("```").unwrap();
    section[start..end].to_string()
}

fn scan(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-audit"))
        .current_dir(dir)
        .args(["--format", "json", "server.py"])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_user_pack_makes_mcp101_report_calls_of_its_library() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.py"), SERVER).unwrap();
    std::fs::write(dir.path().join("my.toml"), readme_pack()).unwrap();

    // Without the pack, corp.http is no upstream mcp-audit knows.
    assert_eq!(scan(dir.path(), &[])["findings"], serde_json::json!([]));

    let v = scan(dir.path(), &["--knowledge", "my.toml"]);
    let found: Vec<(u64, &str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["rule"].as_str().unwrap(),
                f["message"].as_str().unwrap(),
            )
        })
        .collect();
    // `deadline=` on the call or on the client bounds it; nothing else does.
    assert_eq!(
        found,
        [
            (
                11,
                "MCP101",
                "`corp.http.fetch` has no timeout: corp-http waits forever by default"
            ),
            (
                21,
                "MCP101",
                "`client.post` (corp-http) has no timeout: corp-http waits forever by default"
            ),
        ],
        "{v:#}"
    );
    let f = &v["findings"][0];
    assert_eq!(f["column"], 12);
    assert_eq!(f["help"], "pass `deadline=` (seconds)");
    assert_eq!(f["related"][0]["message"], "reached from MCP tool `report`");
    assert_eq!(f["related"][0]["line"], 10);
    assert_eq!(
        v["findings"][1]["related"][0]["message"],
        "reached from MCP tool `through_clients`"
    );
}
