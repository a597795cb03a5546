//! MCP106 blocking-call-in-async
//!
//! ## What it finds
//! A blocking call inside an `async` function (or a handler the SDK runs on
//! its event loop), where it stalls every concurrent tool call until it
//! returns.
//!
//! Which calls block comes from the knowledge packs (`[[blocking]]` in
//! `rules/*.toml`):
//!
//! - Python, in `async def`: `time.sleep`, `requests.*` and
//!   `requests.Session` methods, `urllib.request.urlopen`,
//!   `subprocess.run` / `check_output` / `call` / `check_call`, and blocking
//!   `socket` calls (`create_connection`, `recv`, `sendall`, ..).
//! - TS/JS, in `async` functions and in tool callbacks (Node runs every
//!   callback on its one thread): `fs.*Sync` and `child_process`
//!   `execSync` / `spawnSync` / `execFileSync`.
//! - Rust, in `async fn` and `async` blocks: `std::thread::sleep`,
//!   `reqwest::blocking::*`, `std::process::Command::output()` /
//!   `status()`, and `std::fs::*` reads and writes.
//!
//! A blocking call in a sync helper is reported at the call into the
//! helper from the async function, naming the blocking call.
//!
//! Plain `def` tools of `mcp.server.fastmcp.FastMCP` are reported too when
//! the project pins `mcp` below 2 (pyproject.toml, requirements*.txt,
//! setup.py): `mcp` 1.x calls a sync tool on the event loop
//! (`mcp/server/fastmcp/utilities/func_metadata.py`, `return
//! fn(**arguments_parsed_dict)`), while its 2.x `MCPServer` runs it with
//! `anyio.to_thread.run_sync`.
//!
//! ## Why it matters
//! An async server runs every tool call on one event loop. One `time.sleep`,
//! one `requests.get` to a slow upstream, one `readFileSync` of a large
//! file, and every other call in flight — the model's next tool call, the
//! client's ping, the cancellation — waits behind it. An orchestrator
//! calling tools in parallel turns one slow call into a stalled server.
//!
//! ## Flagged
//! ```python
//! @mcp.tool()
//! async def forecast(city: str) -> str:
//!     r = requests.get(f"{API}/forecast/{city}", timeout=10)
//!     return r.text
//! ```
//! ```ts
//! server.tool("read", { path: z.string() }, async ({ path }) => {
//!   const text = fs.readFileSync(path, "utf8");
//!   return { content: [{ type: "text", text }] };
//! });
//! ```
//! ```rust
//! #[tool(description = "Read a file")]
//! async fn read(&self, Parameters(p): Parameters<ReadArgs>) -> Result<String, String> {
//!     std::fs::read_to_string(&p.path).map_err(|e| e.to_string())
//! }
//! ```
//!
//! ## Fixed
//! ```python
//! r = await asyncio.to_thread(requests.get, f"{API}/forecast/{city}", timeout=10)
//! # or an async client: await client.get(..) with httpx.AsyncClient
//! ```
//! ```ts
//! const text = await fs.promises.readFile(path, "utf8");
//! ```
//! ```rust
//! tokio::fs::read_to_string(&p.path).await
//! // or: tokio::task::spawn_blocking(move || std::fs::read_to_string(path)).await
//! ```
//! Handed off to a thread, the call blocks that thread only:
//! `asyncio.to_thread(..)`, `loop.run_in_executor(..)`,
//! `anyio.to_thread.run_sync(..)`, `tokio::task::spawn_blocking(..)`,
//! `tokio::task::block_in_place(..)`.
//!
//! ## Limits
//! - Code at module level or in `main` before the server runs (reading a
//!   config file at startup) is not in scope: only code an MCP entry point
//!   reaches is reported.
//! - TS/JS: a tool callback that is not `async` is judged like an async
//!   one, since Node runs it on the event loop too. The metadata probes
//!   `existsSync`, `statSync`, `lstatSync`, `accessSync`, `realpathSync`
//!   and `mkdtempSync` are one quick system call and are not reported.
//! - Rust: `std::fs::metadata`, `canonicalize`, `exists`, and `File` /
//!   `OpenOptions` methods are not reported; reads and writes through a
//!   `File` are not followed.
//! - Python `def` tools are reported only under `mcp.server.fastmcp` with
//!   `mcp` pinned below 2 (`==1.9.4`, `<2`, `~=1.9`, `^1.2`). An unpinned
//!   `mcp`, or a range that allows 2 (`>=1.2`), is given the benefit of
//!   the doubt; lock files are not read. The `fastmcp` package's own
//!   servers are not judged this way: RULES.md says its 2.x runs sync
//!   tools in a worker thread, but fastmcp 2.12.0 still calls them on the
//!   loop (`fastmcp/tools/tool.py`: `type_adapter.validate_python(arguments)`);
//!   its current source hands them to `call_sync_fn_in_threadpool`. A
//!   version-aware check for it is left for later.
//! - A sync lambda or closure inside an async function (`items.map(x =>
//!   fs.readFileSync(x))`) is not judged: it may run anywhere it is handed.
//! - A blocking call reached through more than one sync helper is
//!   reported at the call from the async function, naming the innermost
//!   blocking call.

use super::Rule;
use crate::facts::Call;
use crate::finding::{Axis, Finding, Location, Related, Severity};
use crate::knowledge::Blocking;
use crate::link::{head_span, CallRef, FuncRef, Project};

pub static RULE: Rule = Rule {
    id: "MCP106",
    name: "blocking-call-in-async",
    axis: Axis::Maintenance,
    severity: Severity::Medium,
    cwe: &["CWE-400"],
    precision: "high",
    source: include_str!("blocking_call_in_async.rs"),
    check,
};

fn check(p: &Project, m: u32, out: &mut Vec<Finding>) {
    let module = p.module(m);
    if p.lk(m).blocking.is_empty() {
        return;
    }
    for (ci, call) in module.calls.iter().enumerate() {
        let Some(f) = call.func else { continue };
        if call.via.is_some() {
            continue;
        }
        let c = CallRef {
            module: m,
            call: ci as u32,
        };
        let fr = FuncRef { module: m, func: f };
        let fun = module.func(f);
        let (kind, leaf) = match p.blocking_call(c) {
            Some(k) => (k, None),
            None => match p.target(c).and_then(|t| {
                let callee = p.module(t.module).func(t.func);
                (!callee.is_async).then(|| p.sync_blocker(t)).flatten()
            }) {
                Some(b) => (b.kind, Some(b.at)),
                None => continue,
            },
        };
        let context = if fun.is_async {
            "an async function"
        } else if p.sync_tool_on_loop(fr, kind) {
            "a tool the SDK runs on its event loop"
        } else {
            continue;
        };
        let what = describe(module, call, kind);
        let message = match leaf {
            None => format!("{what} blocks the event loop in {context}"),
            Some(at) => {
                let lm = p.module(at.module);
                let lc = lm.call(at.call);
                let place = if at.module == m {
                    format!("line {}", lc.span.start_line)
                } else {
                    format!("{}:{}", lm.path, lc.span.start_line)
                };
                format!(
                    "{what} makes a blocking call ({}, {place}) that stalls the event loop in {context}",
                    describe(lm, lc, kind)
                )
            }
        };
        let mut finding = RULE.finding(p, m, call.func, call.span, message, kind.fix.clone());
        if let Some(at) = leaf {
            let lm = p.module(at.module);
            finding.related.push(Related {
                location: Location {
                    path: lm.path.clone(),
                    span: head_span(lm.call(at.call).span),
                },
                message: "the blocking call".into(),
            });
        }
        out.push(finding);
    }
}

/// `time.sleep`, `requests.get`, `helper`: the call as written.
fn describe(module: &crate::facts::Module, call: &Call, kind: &Blocking) -> String {
    let text = call
        .callee
        .dotted()
        .or_else(|| call.method.clone())
        .or_else(|| call.path.clone());
    match text {
        Some(t) if t.len() <= 60 => format!("`{t}`"),
        _ => {
            let _ = module;
            format!("this {} call", kind.name)
        }
    }
}
