//! Terminal output of findings whose call spans several lines: the snippet
//! shows every line of the call up to its argument list, so the offending
//! method (`.get(..)`) is on screen, not only the chain's first line.

use std::path::Path;
use std::process::Command;

const RUST_CHAIN: &str = r#"use rmcp::{tool, tool_router};

pub struct Api {
    client: reqwest::Client,
}

impl Api {
    pub fn new() -> Self {
        Api { client: reqwest::Client::new() }
    }
}

#[tool_router]
impl Api {
    #[tool(description = "Fetch a page")]
    async fn fetch(&self, url: String) -> String {
        let resp = self
            .client
            .get(&url)
            .header("accept", "text/plain")
            .send()
            .await
            .unwrap();
        resp.text().await.unwrap()
    }
}
"#;

const TS_CHAIN: &str = r#"import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import axios from "axios";

const server = new McpServer({ name: "crm", version: "1.0.0" });

server.tool("contacts", {}, async () => {
  const res = await axios
    .create({ baseURL: "https://crm.example" })
    .get("/contacts", {
      headers: { accept: "application/json" },
    });
  return { content: [{ type: "text", text: JSON.stringify(res.data) }] };
});
"#;

fn terminal(dir: &Path, file: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-audit"))
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .env_remove("COLUMNS")
        .args(["-q", file])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a finding is expected in {file}"
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_rust_method_chain_shows_the_line_of_the_call() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.rs"), RUST_CHAIN).unwrap();
    let out = terminal(dir.path(), "server.rs");
    assert!(
        out.contains("let resp = self") && out.contains(".get(&url)"),
        "{out}"
    );
    insta::assert_snapshot!("rust_method_chain", out);
}

#[test]
fn a_typescript_method_chain_shows_the_line_of_the_call() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tool.ts"), TS_CHAIN).unwrap();
    let out = terminal(dir.path(), "tool.ts");
    assert!(
        out.contains("await axios") && out.contains(".get(\"/contacts\""),
        "{out}"
    );
    insta::assert_snapshot!("typescript_method_chain", out);
}
