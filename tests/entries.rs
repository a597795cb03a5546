//! MCP entry points: every SDK idiom of DESIGN.md "Entry points" is
//! recognised as a tool handler, per language, and look-alikes are not.

use mcp_audit::facts::Lang;
use mcp_audit::knowledge::Knowledge;
use mcp_audit::lang::lower;
use mcp_audit::link::Project;

/// (tool name or `*` for a dispatcher, handler function name) of each tool.
fn tools(lang: Lang, path: &str, src: &str) -> Vec<(String, String)> {
    let kb = Knowledge::builtin();
    let m = lower(lang, path, src).unwrap();
    let p = Project::new(vec![m], &kb);
    p.entries()
        .iter()
        .filter(|e| e.role == mcp_audit::knowledge::Role::Tool)
        .map(|t| {
            let name = if t.dispatcher {
                "*".to_string()
            } else {
                t.name.clone().unwrap_or_default()
            };
            (name, p.modules[0].func(t.func.func).name.clone())
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn python_fastmcp_decorators_add_tool_and_the_lowlevel_dispatcher() {
    let src = r#"
from mcp.server.fastmcp import FastMCP
from mcp.server.lowlevel import Server
mcp = FastMCP("x")
server = Server("y")

@mcp.tool
def bare(a: int) -> int:
    return a

@mcp.tool()
def called(a: int) -> int:
    return a

@mcp.tool(name="renamed", description="d")
async def original(a: int) -> int:
    return a

def plain(a: int) -> int:
    return a

mcp.add_tool(plain, name="added")

@server.call_tool()
async def dispatch(name: str, arguments: dict):
    return []

@app.route("/tool")
def not_a_tool():
    pass

@mcp.resource("res://x")
def a_resource():
    pass
"#;
    assert_eq!(
        tools(Lang::Python, "s.py", src),
        pairs(&[
            ("bare", "bare"),
            ("called", "called"),
            ("renamed", "original"),
            ("added", "plain"),
            ("*", "dispatch"),
        ])
    );
}

#[test]
fn python_mcpserver_successor_api() {
    let src = r#"
from mcp.server.mcpserver import MCPServer
app = MCPServer("z")

@app.tool()
def lookup(q: str) -> str:
    return q
"#;
    assert_eq!(
        tools(Lang::Python, "s.py", src),
        pairs(&[("lookup", "lookup")])
    );
}

#[test]
fn typescript_sdk_registrations() {
    let src = r#"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
const server = new McpServer({ name: "x", version: "1" });
server.tool("one", async () => ({ content: [] }));
server.tool("two", "described", { a: z.string() }, async ({ a }) => ({ content: [] }));
server.registerTool("three", { inputSchema: {} }, async (args, extra) => ({ content: [] }));
async function fourHandler(args) { return { content: [] }; }
server.registerTool("four", { inputSchema: {} }, fourHandler);
const low = new Server({ name: "y", version: "1" }, { capabilities: { tools: {} } });
low.setRequestHandler(CallToolRequestSchema, async (request) => ({ content: [] }));
low.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [] }));
router.tool(someVariable, () => 1);
"#;
    let got = tools(Lang::TypeScript, "s.ts", src);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, vec!["one", "two", "three", "four", "*"], "{got:?}");
    assert_eq!(got[3].1, "fourHandler");
}

#[test]
fn fastmcp_typescript_add_tool() {
    let src = r#"
import { FastMCP } from "fastmcp";
const server = new FastMCP({ name: "x", version: "1.0.0" });
server.addTool({ name: "add", description: "Add", parameters: schema, execute: async (args) => String(args.a + args.b) });
server.addResource({ uri: "x", name: "r", load: async () => ({ text: "" }) });
"#;
    let got = tools(Lang::TypeScript, "s.ts", src);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "add");
}

#[test]
fn javascript_commonjs() {
    let src = r#"
const { McpServer } = require("@modelcontextprotocol/sdk/server/mcp.js");
const server = new McpServer({ name: "x", version: "1" });
server.tool("echo", { text: z.string() }, async ({ text }) => ({ content: [{ type: "text", text }] }));
"#;
    assert_eq!(tools(Lang::JavaScript, "s.js", src).len(), 1);
}

#[test]
fn rust_rmcp_tool_router_and_call_tool() {
    let src = r#"
use rmcp::{tool, tool_router, ServerHandler};
#[derive(Clone)]
pub struct Counter;
#[tool_router]
impl Counter {
    #[tool(description = "Increment")]
    async fn increment(&self) -> Result<CallToolResult, McpError> { todo!() }
    #[tool(name = "get_value", description = "Get")]
    async fn get(&self) -> Result<CallToolResult, McpError> { todo!() }
    fn helper(&self) {}
}
pub struct Low;
impl ServerHandler for Low {
    async fn call_tool(&self, request: CallToolRequestParam, context: RequestContext<RoleServer>) -> Result<CallToolResult, McpError> { todo!() }
    async fn list_tools(&self) {}
}
"#;
    assert_eq!(
        tools(Lang::Rust, "s.rs", src),
        pairs(&[
            ("increment", "increment"),
            ("get_value", "get"),
            ("*", "call_tool")
        ])
    );
}

/// A finding reached from a tool handler names it as a related location:
/// across files, through helpers, per language.
#[test]
fn findings_name_the_tool_handlers_that_reach_them() {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let cases = [
        (
            "fixtures/unbounded-await/python/weather",
            "fixtures/unbounded-await/python/weather/upstream.py",
            12,
            "fixtures/unbounded-await/python/weather/server.py",
            12,
            "reached from MCP tool `daily`",
        ),
        (
            "fixtures/unbounded-await/typescript/deadlines.ts",
            "fixtures/unbounded-await/typescript/deadlines.ts",
            31,
            "fixtures/unbounded-await/typescript/deadlines.ts",
            44,
            "reached from MCP tool `news`",
        ),
        (
            "fixtures/unbounded-await/rust/weather.rs",
            "fixtures/unbounded-await/rust/weather.rs",
            44,
            "fixtures/unbounded-await/rust/weather.rs",
            39,
            "reached from MCP tool `forecast`",
        ),
    ];
    for (root, path, line, tool_path, tool_line, msg) in cases {
        let report = mcp_audit::scan(&mcp_audit::Config::default(), &[root.into()]).unwrap();
        let f = report
            .findings
            .iter()
            .find(|f| f.location.path == path && f.location.span.start_line == line)
            .unwrap_or_else(|| panic!("no finding at {path}:{line}"));
        assert!(
            f.related.iter().any(|r| r.location.path == tool_path
                && r.location.span.start_line == tool_line
                && r.message == msg),
            "{path}:{line}: {:?}",
            f.related
        );
    }
}

#[test]
fn names_in_constants_client_handlers_and_keyword_handlers() {
    let ts = r#"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { CreateMessageRequestSchema } from "@modelcontextprotocol/sdk/types.js";
const TOOL_NAME = "get-env";
const server = new McpServer({ name: "x", version: "1" });
server.registerTool(TOOL_NAME, { inputSchema: {} }, async () => ({ content: [] }));
const client = new Client({ name: "c", version: "1" });
client.setRequestHandler(CreateMessageRequestSchema, async () => ({}));
"#;
    let kb = Knowledge::builtin();
    let m = lower(Lang::TypeScript, "s.ts", ts).unwrap();
    let p = Project::new(vec![m], &kb);
    let names: Vec<Option<String>> = p.entries().iter().map(|e| e.name.clone()).collect();
    assert_eq!(
        names,
        vec![Some("get-env".to_string())],
        "the client's handler is no entry"
    );

    let py = r#"
from mcp.server.lowlevel import Server
from fastmcp import FastMCP
from fastmcp.tools import tool

async def handle(name, arguments):
    return []

server = Server("low", on_call_tool=handle)

@tool
def standalone(a: int) -> int:
    return a

class Audited(FastMCP):
    async def call_tool(self, name, arguments):
        return await super().call_tool(name, arguments)

mcp = FastMCP("x")

@mcp.tool()
def test_connection() -> str:
    return "ok"
"#;
    let got = tools(Lang::Python, "s.py", py);
    assert_eq!(
        got,
        pairs(&[
            ("*", "handle"),
            ("standalone", "standalone"),
            ("*", "call_tool"),
            ("test_connection", "test_connection"),
        ])
    );
}
