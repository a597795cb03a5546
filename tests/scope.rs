//! The server scope: by default only code an MCP entry point runs is
//! reported, each finding naming the handler that reaches it; scripts, MCP
//! clients, `__main__` blocks, tests and build scripts are left out and
//! counted; `--scope all` reports them too, marked.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn scan(dir: &Path, extra: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-audit"))
        .current_dir(dir)
        .args(["--format", "json", "--select", "MCP101"])
        .args(extra)
        .arg(".")
        .output()
        .unwrap();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (path:line, left_out reason or "", first related message) per finding.
fn sites(v: &Value) -> Vec<(String, String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                format!("{}:{}", f["path"].as_str().unwrap(), f["line"]),
                f["left_out"].as_str().unwrap_or("").to_string(),
                f["related"][0]["message"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect()
}

fn probe() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A Python server, with a helper in another module, a sync script, an
    // MCP client and a `__main__` block.
    write(d, "py/pyproject.toml", "[project]\nname = \"weather\"\n");
    write(
        d,
        "py/weather/server.py",
        r#"import requests
from mcp.server.fastmcp import FastMCP
from .api import forecast

mcp = FastMCP("weather")


@mcp.tool()
def get_forecast(city: str) -> str:
    return forecast(city)


if __name__ == "__main__":
    requests.get("https://seed.example/warmup")
    mcp.run()
"#,
    );
    write(
        d,
        "py/weather/api.py",
        r#"import requests


def forecast(city: str) -> str:
    return requests.get(f"https://api.example/{city}").text


def unused(city: str) -> str:
    return requests.get(f"https://api.example/old/{city}").text
"#,
    );
    write(
        d,
        "py/scripts/sync.py",
        "import requests\n\n\ndef sync():\n    requests.post('https://api.example/sync')\n",
    );
    write(
        d,
        "py/weather/client.py",
        r#"import requests
from mcp import ClientSession


async def demo(read, write):
    requests.get("https://api.example/ping")
    async with ClientSession(read, write) as s:
        await s.initialize()
"#,
    );
    // A TypeScript server, with a seeding script that is its own package.
    write(d, "ts/package.json", "{\"name\": \"crm\"}\n");
    write(
        d,
        "ts/src/index.ts",
        r#"import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { lookup } from "./api.js";

const server = new McpServer({ name: "crm", version: "1" });
server.tool("find_company", { q: z.string() }, async ({ q }) => {
  return { content: [{ type: "text", text: await lookup(q) }] };
});
"#,
    );
    write(
        d,
        "ts/src/api.ts",
        r#"export async function lookup(q: string): Promise<string> {
  const r = await fetch(`https://crm.example/search?q=${q}`);
  return r.text();
}
"#,
    );
    write(d, "ts/tools/seed/package.json", "{\"name\": \"seed\"}\n");
    write(
        d,
        "ts/tools/seed/seed.ts",
        "export async function seed() {\n  await fetch(\"https://crm.example/seed\");\n}\n",
    );
    // A Rust server with inline tests and a build script.
    write(d, "rs/Cargo.toml", "[package]\nname = \"status\"\n");
    write(
        d,
        "rs/src/main.rs",
        r#"use rmcp::{model::CallToolResult, tool, tool_router, ErrorData as McpError};

pub struct Status;

async fn probe(url: &str) -> String {
    let client = reqwest::Client::new();
    client.get(url).send().await.unwrap().text().await.unwrap()
}

#[tool_router]
impl Status {
    #[tool(description = "Check a URL")]
    async fn check(&self, url: String) -> Result<CallToolResult, McpError> {
        Ok(CallToolResult::success(vec![rmcp::model::Content::text(probe(&url).await)]))
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn live() {
        reqwest::get("https://status.example").await.unwrap();
    }
}
"#,
    );
    write(
        d,
        "rs/build.rs",
        "fn main() {\n    let c = reqwest::Client::new();\n    let _ = c.get(\"https://x.example\").send();\n}\n",
    );
    dir
}

#[test]
fn by_default_only_what_a_handler_runs_is_reported_naming_the_handler() {
    let dir = probe();
    let v = scan(dir.path(), &[]);
    let got = sites(&v);
    assert_eq!(
        got,
        vec![
            (
                "py/weather/api.py:5".to_string(),
                String::new(),
                "reached from MCP tool `get_forecast`".to_string()
            ),
            (
                "rs/src/main.rs:7".to_string(),
                String::new(),
                "reached from MCP tool `check`".to_string()
            ),
            (
                "ts/src/api.ts:2".to_string(),
                String::new(),
                "reached from MCP tool `find_company`".to_string()
            ),
        ],
        "{v:#}"
    );
    // The path from the tool to the helper is shown, one call per hop.
    let py = &v["findings"][0]["related"];
    assert_eq!(py[1]["message"], "which calls `forecast`", "{py:#}");
    assert_eq!(py[1]["path"], "py/weather/server.py");
    let left = &v["summary"]["left_out"];
    assert_eq!(left["main-block"], 1, "{left:#}");
    assert_eq!(left["mcp-client"], 1, "{left:#}");
    assert_eq!(left["test"], 1, "{left:#}");
    assert_eq!(left["build-script"], 1, "{left:#}");
    assert_eq!(
        left["not-a-server"], 1,
        "tools/seed, its own package: {left:#}"
    );
    assert_eq!(
        left["unreached"], 2,
        "api.unused, and scripts/sync.py in the server's package: {left:#}"
    );
    assert_eq!(v["summary"]["scope"], "reached");
}

#[test]
fn scope_all_reports_every_site_marked_with_why_it_is_left_out() {
    let dir = probe();
    let v = scan(dir.path(), &["--scope", "all"]);
    let got = sites(&v);
    let reasons: Vec<(&str, &str)> = got
        .iter()
        .map(|(site, why, _)| (site.as_str(), why.as_str()))
        .collect();
    for want in [
        ("py/weather/api.py:5", ""),
        ("py/weather/api.py:9", "unreached"),
        ("py/weather/server.py:14", "main-block"),
        ("py/weather/client.py:6", "mcp-client"),
        ("py/scripts/sync.py:5", "unreached"),
        ("rs/src/main.rs:7", ""),
        ("rs/src/main.rs:22", "test"),
        ("rs/build.rs:3", "build-script"),
        ("ts/src/api.ts:2", ""),
        ("ts/tools/seed/seed.ts:2", "not-a-server"),
    ] {
        assert!(reasons.contains(&want), "{want:?} in {reasons:#?}");
    }
    assert_eq!(got.len(), 10, "{reasons:#?}");
    // SARIF carries the path from the tool as a code flow.
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-audit"))
        .current_dir(dir.path())
        .args(["--format", "sarif", "--select", "MCP101", "py"])
        .output()
        .unwrap();
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &s["runs"][0]["results"][0];
    let steps = r["codeFlows"][0]["threadFlows"][0]["locations"]
        .as_array()
        .unwrap();
    assert_eq!(steps.len(), 3, "{r:#}");
    assert_eq!(
        steps[0]["location"]["message"]["text"],
        "reached from MCP tool `get_forecast`"
    );
    assert_eq!(s["runs"][0]["properties"]["leftOut"]["main-block"], 1);
}

#[test]
fn a_tree_with_no_server_says_so_and_points_to_scope_all() {
    let dir = probe();
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-audit"))
        .current_dir(dir.path())
        .args(["--select", "MCP101", "py/scripts"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("no MCP server found in these paths"),
        "{text}"
    );
    assert!(text.contains("--scope all"), "{text}");
    assert_eq!(out.status.code(), Some(0), "nothing reported: {text}");
}

#[test]
fn reach_follows_handler_factories_decorators_and_no_library_or_super_lookalikes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // TS: tools built by factories as `{ name, handler }` objects, called
    // through `tool.handler(args)` in the dispatcher.
    write(d, "ts/package.json", "{\"name\": \"gmail\"}\n");
    write(
        d,
        "ts/src/index.ts",
        r#"import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { listTool } from "./tools.js";

const server = new Server({ name: "gmail", version: "1" }, { capabilities: { tools: {} } });
const tools = [listTool(server)];
server.setRequestHandler(CallToolRequestSchema, async (request) => {
  const tool = tools.find((t) => t.name === request.params.name);
  return await tool.handler(request.params.arguments);
});
"#,
    );
    write(
        d,
        "ts/src/tools.ts",
        r#"export function listTool(server: unknown) {
  return {
    name: "list_messages",
    handler: async (args: { q: string }) => {
      const r = await fetch(`https://gmail.example/messages?q=${args.q}`);
      return { content: [{ type: "text", text: await r.text() }] };
    },
  };
}
"#,
    );
    // Python: a project decorator around every tool, a tool named test_*,
    // a library object's method and super().__init__ that must not reach
    // the project's methods of the same names.
    write(d, "py/pyproject.toml", "[project]\nname = \"kb\"\n");
    write(
        d,
        "py/kb/server.py",
        r#"import functools

import requests
from mcp.server.fastmcp import FastMCP
from pydantic_ai import Agent

mcp = FastMCP("kb")


def tool_errors():
    def decorator(fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            requests.post("https://events.example/tool-called")
            return fn(*args, **kwargs)
        return wrapped
    return decorator


class Base:
    def __init__(self):
        self.ready = True


class Child(Base):
    def __init__(self):
        super().__init__()


class Unrelated:
    def __init__(self):
        requests.get("https://unrelated.example/init")


class Script:
    def run(self):
        requests.get("https://script.example/run")


@mcp.tool()
@tool_errors()
def search(q: str) -> str:
    Child()
    return Agent("model").run(q)


@mcp.tool()
def test_connection() -> str:
    return requests.get("https://kb.example/ping").text
"#,
    );
    let v = scan(d, &[]);
    let got = sites(&v);
    let lines: Vec<&str> = got.iter().map(|(s, _, _)| s.as_str()).collect();
    assert_eq!(
        lines,
        vec![
            "py/kb/server.py:14",
            "py/kb/server.py:49",
            "ts/src/tools.ts:5"
        ],
        "{v:#}"
    );
    assert_eq!(v["summary"]["left_out"]["unreached"], 2, "{v:#}");
}

#[test]
fn the_mcp_apps_own_routes_are_server_code() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "ts/package.json", "{\"name\": \"http-server\"}\n");
    write(
        d,
        "ts/src/index.ts",
        r#"import express from "express";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";

const server = new McpServer({ name: "x", version: "1" });
server.tool("ping", {}, async () => ({ content: [] }));
const app = express();
const transport = new StreamableHTTPServerTransport({});

async function checkToken(req: any, res: any, next: any) {
  const r = await fetch("https://auth.example/introspect");
  next();
}

app.use(checkToken);
app.post("/mcp", async (req: any, res: any) => {
  await transport.handleRequest(req, res, req.body);
});

const other = express();
other.get("/status", async (req: any, res: any) => {
  res.send(await (await fetch("https://status.example")).text());
});
"#,
    );
    write(d, "rs/Cargo.toml", "[package]\nname = \"axum-server\"\n");
    write(
        d,
        "rs/src/main.rs",
        r#"use axum::{routing::get, Router};
use rmcp::{model::CallToolResult, tool, tool_router, ErrorData as McpError};

pub struct S;

#[tool_router]
impl S {
    #[tool(description = "x")]
    async fn x(&self) -> Result<CallToolResult, McpError> {
        Ok(CallToolResult::success(vec![]))
    }
}

async fn authorize() -> String {
    let client = reqwest::Client::new();
    client.get("https://idp.example/authorize").send().await.unwrap().text().await.unwrap()
}

pub fn app(service: rmcp::transport::StreamableHttpService<S>) -> Router {
    Router::new()
        .route("/authorize", get(authorize))
        .nest_service("/mcp", service)
}
"#,
    );
    let v = scan(d, &[]);
    let got = sites(&v);
    assert_eq!(
        got,
        vec![
            (
                "rs/src/main.rs:16".to_string(),
                String::new(),
                "reached from MCP server route `/authorize`".to_string()
            ),
            (
                "ts/src/index.ts:11".to_string(),
                String::new(),
                "reached from MCP server route `checkToken`".to_string()
            ),
        ],
        "{v:#}"
    );
    assert_eq!(
        v["summary"]["left_out"]["unreached"], 1,
        "the other app's route"
    );
}

#[test]
fn reach_crosses_into_a_workspace_package_through_its_name_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "libs/elicit/package.json",
        "{\"name\": \"@corp/elicit\"}\n",
    );
    write(
        d,
        "libs/elicit/src/index.ts",
        "export { confirm, unused } from \"./confirm.js\";\n",
    );
    write(
        d,
        "libs/elicit/src/confirm.ts",
        r#"export async function confirm(q: string): Promise<string> {
  const r = await fetch(`https://confirm.example/?q=${q}`);
  return r.text();
}
export async function unused(q: string): Promise<string> {
  return (await fetch(`https://confirm.example/old?q=${q}`)).text();
}
"#,
    );
    write(d, "servers/vault/package.json", "{\"name\": \"vault\"}\n");
    write(
        d,
        "servers/vault/src/index.ts",
        r#"import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { confirm } from "@corp/elicit";

const server = new McpServer({ name: "vault", version: "1" });
server.tool("delete_item", {}, async () => ({ content: [{ type: "text", text: await confirm("sure?") }] }));
"#,
    );
    write(d, "Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n");
    write(
        d,
        "crates/api-client/Cargo.toml",
        "[package]\nname = \"api-client\"\n",
    );
    write(
        d,
        "crates/api-client/src/lib.rs",
        r#"pub async fn fetch_issue(id: u32) -> String {
    let client = reqwest::Client::new();
    client.get(format!("https://tracker.example/{id}")).send().await.unwrap().text().await.unwrap()
}
"#,
    );
    write(
        d,
        "crates/server/Cargo.toml",
        "[package]\nname = \"server\"\n",
    );
    write(
        d,
        "crates/server/src/main.rs",
        r#"use api_client::fetch_issue;
use rmcp::{model::CallToolResult, tool, tool_router, ErrorData as McpError};

pub struct S;

#[tool_router]
impl S {
    #[tool(description = "Get an issue")]
    async fn get_issue(&self, id: u32) -> Result<CallToolResult, McpError> {
        Ok(CallToolResult::success(vec![rmcp::model::Content::text(fetch_issue(id).await)]))
    }
}
"#,
    );
    let v = scan(d, &[]);
    let got = sites(&v);
    assert_eq!(
        got,
        vec![
            (
                "crates/api-client/src/lib.rs:3".to_string(),
                String::new(),
                "reached from MCP tool `get_issue`".to_string()
            ),
            (
                "libs/elicit/src/confirm.ts:2".to_string(),
                String::new(),
                "reached from MCP tool `delete_item`".to_string()
            ),
        ],
        "{v:#}"
    );
    assert_eq!(
        v["summary"]["left_out"]["not-a-server"], 1,
        "`unused` in the library: {v:#}"
    );
}

#[test]
fn every_format_says_what_the_scope_left_out() {
    let dir = probe();
    for (format, want) in [
        ("terminal", "left out ("),
        ("concise", "left out ("),
        ("github", "::notice title=mcp-audit scope::"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_mcp-audit"))
            .current_dir(dir.path())
            .args(["--format", format, "--select", "MCP101", "."])
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(want), "{format}: {text}");
        assert!(text.contains("1 in test code"), "{format}: {text}");
    }
}
