//! An MCP client driver over stdio.
//!
//! Guarantees:
//! - It speaks the MCP stdio transport: one JSON-RPC message per line of
//!   UTF-8 JSON on the server's stdin and stdout.
//! - [`Driver::launch`] starts the server (program, arguments, environment,
//!   working directory), sends `initialize` with protocol version
//!   [`PROTOCOL_VERSION`], accepts whatever version the server answers (it is
//!   in [`ServerInfo`]), then sends `notifications/initialized`.
//! - Every wait is bounded: each request by its timeout, each write to the
//!   server by the same timeout (a server that stops reading cannot block
//!   the driver), shutdown by a grace period. When a tool call's deadline
//!   passes, the call is recorded as timed out and `notifications/cancelled`
//!   is sent for it.
//! - A JSON-RPC error answer to `tools/call` is recorded as an error result
//!   (`is_error`, with the code and message), like a result with `isError`.
//! - Requests from the server are answered (`ping` with an empty result,
//!   anything else with "method not found"), so a server that asks is never
//!   left waiting.
//! - Lines on stdout that are not JSON-RPC (a server logging to stdout) are
//!   kept (the last 100) and are not fatal; stderr is drained into a tail of
//!   its last 64 KiB, so the server never blocks on a full pipe.
//! - The server process is killed when the [`Driver`] is dropped.
//!
//! Hand-written on tokio's process and I/O: the MCP SDK for Rust would bring
//! its own runtime stack and hide exactly the wire behaviour (stray output,
//! late answers, cancellations) this is meant to observe.

use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The protocol version the driver asks for.
pub const PROTOCOL_VERSION: &str = "2025-06-18";

/// The longest line read from the server; a longer one is kept as stray.
const MAX_LINE: u64 = 16 << 20;
const STRAY_KEPT: usize = 100;
const STDERR_KEPT: usize = 64 << 10;
/// Pages of `tools/list` followed at most.
const MAX_PAGES: usize = 100;
/// How long shutdown waits for the server to exit after its stdin closes.
const EXIT_GRACE: Duration = Duration::from_secs(5);
/// How long a cancellation notice may take to write.
const NOTICE_TIMEOUT: Duration = Duration::from_secs(1);

/// How to start a server.
#[derive(Debug, Clone)]
pub struct ServerCommand {
    program: OsString,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    cwd: Option<PathBuf>,
}

impl ServerCommand {
    /// Runs `program` (looked up on `PATH` like a shell would).
    pub fn new(program: impl Into<OsString>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<I: IntoIterator<Item = A>, A: Into<OsString>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable (on top of the inherited environment).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets the working directory.
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }
}

/// What went wrong talking to the server.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The process could not be started.
    #[error("could not start the server: {0}")]
    Spawn(#[source] std::io::Error),
    /// No answer in time.
    #[error("{method}: no answer within {after:?}")]
    Timeout { method: String, after: Duration },
    /// The server closed its stdout (it exited or crashed).
    #[error("the server closed the connection; its stderr ends with: {stderr}")]
    Closed { stderr: String },
    /// The server answered a JSON-RPC error to something other than a tool
    /// call.
    #[error("{method} failed: {code} {message}")]
    Rpc {
        method: String,
        code: i64,
        message: String,
    },
    /// The answer was not what the protocol says.
    #[error("unexpected answer to {method}: {detail}")]
    Protocol { method: String, detail: String },
    /// Writing to the server failed.
    #[error("writing to the server: {0}")]
    Io(#[source] std::io::Error),
}

/// What the server said about itself in answer to `initialize`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerInfo {
    /// The protocol version it chose.
    pub protocol_version: String,
    /// `serverInfo.name`.
    pub name: Option<String>,
    /// `serverInfo.version`.
    pub version: Option<String>,
    /// Its capabilities object.
    pub capabilities: Value,
    /// Its instructions, if any.
    pub instructions: Option<String>,
    /// The whole `initialize` result.
    pub raw: Value,
}

/// One tool from `tools/list`.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolInfo {
    pub name: String,
    pub description: Option<String>,
    pub input_schema: Value,
    /// The whole tool object.
    pub raw: Value,
}

/// How a tool call ended.
#[derive(Debug, Clone, PartialEq)]
pub enum CallOutcome {
    /// A result (which may have `isError`); the whole result object.
    Result(Value),
    /// A JSON-RPC error.
    RpcError {
        code: i64,
        message: String,
        data: Option<Value>,
    },
    /// No answer before the deadline.
    TimedOut,
}

/// A tool call, as observed.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    /// The tool called.
    pub tool: String,
    /// From sending the request to its answer (or the deadline).
    pub latency: Duration,
    /// The text content items joined with newlines; for a JSON-RPC error,
    /// its message; empty when timed out.
    pub text: String,
    /// `isError` of the result; true for a JSON-RPC error or a timeout.
    pub is_error: bool,
    pub outcome: CallOutcome,
}

impl CallRecord {
    /// Whether the deadline passed with no answer.
    pub fn timed_out(&self) -> bool {
        self.outcome == CallOutcome::TimedOut
    }
}

struct Io {
    stdin: tokio::sync::Mutex<Option<ChildStdin>>,
    pending: Mutex<HashMap<u64, oneshot::Sender<Value>>>,
    closed: AtomicBool,
    stray: Mutex<VecDeque<String>>,
    notifications: Mutex<VecDeque<Value>>,
    stderr: Mutex<VecDeque<u8>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Each holder leaves the data whole; a panic elsewhere changes nothing.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn push_bounded<T>(q: &Mutex<VecDeque<T>>, item: T) {
    let mut q = lock(q);
    if q.len() == STRAY_KEPT {
        q.pop_front();
    }
    q.push_back(item);
}

impl Io {
    async fn write(&self, msg: &Value, timeout: Duration) -> Result<(), DriverError> {
        let mut line = msg.to_string();
        line.push('\n');
        let write = async {
            let mut stdin = self.stdin.lock().await;
            let Some(stdin) = stdin.as_mut() else {
                return Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
            };
            stdin.write_all(line.as_bytes()).await?;
            stdin.flush().await
        };
        match tokio::time::timeout(timeout, write).await {
            Ok(r) => r.map_err(DriverError::Io),
            Err(_) => Err(DriverError::Timeout {
                method: msg["method"].as_str().unwrap_or("write").to_owned(),
                after: timeout,
            }),
        }
    }

    fn stderr_tail(&self) -> String {
        let tail = lock(&self.stderr);
        let (a, b) = tail.as_slices();
        let mut bytes = a.to_vec();
        bytes.extend_from_slice(b);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    async fn handle_line(&self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        let msg: Value = match serde_json::from_str(text) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                push_bounded(&self.stray, text.chars().take(1000).collect());
                return;
            }
        };
        let has_id = msg.get("id").is_some_and(|id| !id.is_null());
        match (msg.get("method").and_then(Value::as_str), has_id) {
            (Some(method), true) => {
                let reply = if method == "ping" {
                    json!({"jsonrpc": "2.0", "id": msg["id"], "result": {}})
                } else {
                    json!({"jsonrpc": "2.0", "id": msg["id"],
                           "error": {"code": -32601, "message": "method not found"}})
                };
                let _ = self.write(&reply, NOTICE_TIMEOUT).await;
            }
            (Some(_), false) => push_bounded(&self.notifications, msg),
            (None, true) => {
                let id = match &msg["id"] {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.parse().ok(),
                    _ => None,
                };
                let waiter = id.and_then(|id| lock(&self.pending).remove(&id));
                match waiter {
                    Some(tx) => {
                        let _ = tx.send(msg);
                    }
                    // A late answer to a call that timed out, or a stray id.
                    None => push_bounded(&self.stray, text.chars().take(1000).collect()),
                }
            }
            (None, false) => push_bounded(&self.stray, text.chars().take(1000).collect()),
        }
    }
}

async fn read_stdout(stdout: impl AsyncRead + Unpin, io: Arc<Io>) {
    let mut reader = BufReader::new(stdout);
    let mut line = Vec::new();
    loop {
        line.clear();
        match (&mut reader)
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)
            .await
        {
            Ok(0) | Err(_) => break,
            Ok(_) => io.handle_line(&line).await,
        }
    }
    io.closed.store(true, Ordering::SeqCst);
    // Dropping the senders wakes every waiting request with "closed".
    lock(&io.pending).clear();
}

async fn read_stderr(mut stderr: impl AsyncRead + Unpin, io: Arc<Io>) {
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = stderr.read(&mut buf).await {
        let mut tail = lock(&io.stderr);
        tail.extend(&buf[..n]);
        let excess = tail.len().saturating_sub(STDERR_KEPT);
        tail.drain(..excess);
    }
}

/// A running MCP server, initialized, driven over its stdio.
pub struct Driver {
    child: Child,
    io: Arc<Io>,
    next_id: AtomicU64,
    tasks: Vec<JoinHandle<()>>,
    server: ServerInfo,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("pid", &self.child.id())
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Driver {
    /// Starts the server and initializes it, waiting at most `timeout` for
    /// its answer to `initialize`.
    pub async fn launch(cmd: ServerCommand, timeout: Duration) -> Result<Driver, DriverError> {
        let mut command = Command::new(&cmd.program);
        command
            .args(&cmd.args)
            .envs(cmd.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(dir) = &cmd.cwd {
            command.current_dir(dir);
        }
        let mut child = command.spawn().map_err(DriverError::Spawn)?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            unreachable!("all three were piped");
        };
        let io = Arc::new(Io {
            stdin: tokio::sync::Mutex::new(Some(stdin)),
            pending: Mutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
            stray: Mutex::new(VecDeque::new()),
            notifications: Mutex::new(VecDeque::new()),
            stderr: Mutex::new(VecDeque::new()),
        });
        let tasks = vec![
            tokio::spawn(read_stdout(stdout, io.clone())),
            tokio::spawn(read_stderr(stderr, io.clone())),
        ];
        let mut driver = Driver {
            child,
            io,
            next_id: AtomicU64::new(1),
            tasks,
            server: ServerInfo {
                protocol_version: String::new(),
                name: None,
                version: None,
                capabilities: Value::Null,
                instructions: None,
                raw: Value::Null,
            },
        };
        let params = json!({
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "mcp-audit-driver", "version": env!("CARGO_PKG_VERSION")},
        });
        let result = driver.request_ok("initialize", params, timeout).await?;
        let Some(version) = result["protocolVersion"].as_str() else {
            return Err(DriverError::Protocol {
                method: "initialize".into(),
                detail: "no protocolVersion in the result".into(),
            });
        };
        driver.server = ServerInfo {
            protocol_version: version.to_owned(),
            name: result["serverInfo"]["name"].as_str().map(str::to_owned),
            version: result["serverInfo"]["version"].as_str().map(str::to_owned),
            capabilities: result["capabilities"].clone(),
            instructions: result["instructions"].as_str().map(str::to_owned),
            raw: result,
        };
        driver
            .notify("notifications/initialized", None, timeout)
            .await?;
        Ok(driver)
    }

    /// What the server answered to `initialize`.
    pub fn server(&self) -> &ServerInfo {
        &self.server
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// The last 64 KiB the server wrote to stderr.
    pub fn stderr(&self) -> String {
        self.io.stderr_tail()
    }

    /// Lines on stdout that were not JSON-RPC messages for the driver (the
    /// last 100), including late answers to calls that timed out.
    pub fn stray_lines(&self) -> Vec<String> {
        lock(&self.io.stray).iter().cloned().collect()
    }

    /// Notifications the server sent (the last 100).
    pub fn notifications(&self) -> Vec<Value> {
        lock(&self.io.notifications).iter().cloned().collect()
    }

    /// Sends a notification.
    pub async fn notify(
        &self,
        method: &str,
        params: Option<Value>,
        timeout: Duration,
    ) -> Result<(), DriverError> {
        let mut msg = json!({"jsonrpc": "2.0", "method": method});
        if let Some(p) = params {
            msg["params"] = p;
        }
        self.io.write(&msg, timeout).await
    }

    /// Sends a request and waits at most `timeout` (the write included) for
    /// the answer: the whole response message, `result` or `error`.
    pub async fn request(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, DriverError> {
        self.send_request(method, params, timeout).await.1
    }

    async fn send_request(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> (u64, Result<Value, DriverError>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.io.pending).insert(id, tx);
        // Checked after registering: the reader clears `pending` after
        // setting `closed`, so one of the two is always seen.
        if self.io.closed.load(Ordering::SeqCst) {
            lock(&self.io.pending).remove(&id);
            return (id, Err(self.closed()));
        }
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let exchange = async {
            self.io.write(&msg, timeout).await?;
            rx.await.map_err(|_| self.closed())
        };
        let r = match tokio::time::timeout(timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(DriverError::Timeout {
                method: method.to_owned(),
                after: timeout,
            }),
        };
        if r.is_err() {
            lock(&self.io.pending).remove(&id);
        }
        (id, r)
    }

    fn closed(&self) -> DriverError {
        DriverError::Closed {
            stderr: self.stderr(),
        }
    }

    /// A request whose JSON-RPC error is an error; returns `result`.
    async fn request_ok(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, DriverError> {
        let msg = self.request(method, params, timeout).await?;
        if let Some(e) = msg.get("error") {
            return Err(DriverError::Rpc {
                method: method.to_owned(),
                code: e["code"].as_i64().unwrap_or(0),
                message: e["message"].as_str().unwrap_or("").to_owned(),
            });
        }
        match msg.get("result") {
            Some(r) => Ok(r.clone()),
            None => Err(DriverError::Protocol {
                method: method.to_owned(),
                detail: "neither result nor error".into(),
            }),
        }
    }

    /// Every tool, following `nextCursor` (at most 100 pages); `timeout`
    /// bounds each page.
    pub async fn list_tools(&self, timeout: Duration) -> Result<Vec<ToolInfo>, DriverError> {
        let mut tools = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let params = match &cursor {
                Some(c) => json!({"cursor": c}),
                None => json!({}),
            };
            let result = self.request_ok("tools/list", params, timeout).await?;
            let Some(page) = result["tools"].as_array() else {
                return Err(DriverError::Protocol {
                    method: "tools/list".into(),
                    detail: "no tools array".into(),
                });
            };
            for t in page {
                tools.push(ToolInfo {
                    name: t["name"].as_str().unwrap_or_default().to_owned(),
                    description: t["description"].as_str().map(str::to_owned),
                    input_schema: t["inputSchema"].clone(),
                    raw: t.clone(),
                });
            }
            cursor = result["nextCursor"].as_str().map(str::to_owned);
            if cursor.is_none() {
                break;
            }
        }
        Ok(tools)
    }

    /// Calls a tool and records how it went. Only transport failures (the
    /// server gone, a write failing) are errors: an error result, a JSON-RPC
    /// error and the deadline passing are all records.
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: Value,
        deadline: Duration,
    ) -> Result<CallRecord, DriverError> {
        let start = Instant::now();
        let params = json!({"name": name, "arguments": arguments});
        let (id, answer) = self.send_request("tools/call", params, deadline).await;
        let latency = start.elapsed();
        let record = |text: String, is_error: bool, outcome: CallOutcome| CallRecord {
            tool: name.to_owned(),
            latency,
            text,
            is_error,
            outcome,
        };
        match answer {
            Ok(msg) => {
                if let Some(e) = msg.get("error") {
                    let message = e["message"].as_str().unwrap_or_default().to_owned();
                    let outcome = CallOutcome::RpcError {
                        code: e["code"].as_i64().unwrap_or(0),
                        message: message.clone(),
                        data: e.get("data").cloned(),
                    };
                    return Ok(record(message, true, outcome));
                }
                let result = msg.get("result").cloned().unwrap_or(Value::Null);
                let text = result["content"]
                    .as_array()
                    .map(|items| {
                        items
                            .iter()
                            .filter(|c| c["type"] == "text")
                            .filter_map(|c| c["text"].as_str())
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default();
                let is_error = result["isError"].as_bool().unwrap_or(false);
                Ok(record(text, is_error, CallOutcome::Result(result)))
            }
            Err(DriverError::Timeout { .. }) => {
                let params = json!({"requestId": id, "reason": "deadline exceeded"});
                let _ = self
                    .notify("notifications/cancelled", Some(params), NOTICE_TIMEOUT)
                    .await;
                Ok(record(String::new(), true, CallOutcome::TimedOut))
            }
            Err(e) => Err(e),
        }
    }

    /// Closes the server's stdin (the transport's way to ask it to exit),
    /// waits up to 5 s for it to exit, then kills it.
    pub async fn shutdown(mut self) -> Option<ExitStatus> {
        if let Ok(mut stdin) = tokio::time::timeout(NOTICE_TIMEOUT, self.io.stdin.lock()).await {
            stdin.take();
        }
        match tokio::time::timeout(EXIT_GRACE, self.child.wait()).await {
            Ok(Ok(status)) => Some(status),
            _ => {
                let _ = self.child.kill().await;
                None
            }
        }
    }
}
