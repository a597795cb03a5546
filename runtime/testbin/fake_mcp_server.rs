//! A tiny MCP server over stdio for the driver's tests: newline-delimited
//! JSON-RPC, tools that answer, fail, hang, sleep, ask the client, or exit.
//!
//! Flags: `--silent` (read everything, answer nothing), `--protocol V`
//! (answer this protocol version instead of the client's), `--noisy` (print
//! a line of non-JSON on stdout first, as a careless server does).

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

type Out = Arc<Mutex<std::io::Stdout>>;

fn send(out: &Out, msg: &Value) {
    let mut out = out.lock().unwrap();
    let _ = writeln!(out, "{msg}");
    let _ = out.flush();
}

fn text(s: &str) -> Value {
    json!({"content": [{"type": "text", "text": s}]})
}

const TOOLS: [&str; 11] = [
    "echo",
    "fail",
    "rpc_error",
    "hang",
    "sleep",
    "multi",
    "env",
    "cwd",
    "ping_client",
    "cancellations",
    "exit",
];

struct Server {
    out: Out,
    /// Answers from the client to our own requests, by id.
    waiting: Mutex<HashMap<String, mpsc::Sender<Value>>>,
    cancelled: Mutex<Vec<Value>>,
}

impl Server {
    fn call(&self, id: Value, params: &Value) {
        let args = &params["arguments"];
        let result = match params["name"].as_str().unwrap_or_default() {
            "echo" => text(args["text"].as_str().unwrap_or_default()),
            "fail" => json!({"content": [{"type": "text", "text": "it failed"}], "isError": true}),
            "rpc_error" => {
                send(
                    &self.out,
                    &json!({"jsonrpc": "2.0", "id": id,
                            "error": {"code": -32000, "message": "tool exploded"}}),
                );
                return;
            }
            "hang" => return,
            "sleep" => {
                let ms = args["ms"].as_u64().unwrap_or(0);
                std::thread::sleep(Duration::from_millis(ms));
                text("slept")
            }
            "multi" => json!({"content": [
                {"type": "text", "text": "first"},
                {"type": "image", "data": "AAAA", "mimeType": "image/png"},
                {"type": "text", "text": "second"},
            ]}),
            "env" => {
                text(&std::env::var(args["name"].as_str().unwrap_or_default()).unwrap_or_default())
            }
            "cwd" => text(&std::env::current_dir().unwrap().display().to_string()),
            "ping_client" => {
                let (tx, rx) = mpsc::channel();
                self.waiting.lock().unwrap().insert("srv-1".into(), tx);
                send(
                    &self.out,
                    &json!({"jsonrpc": "2.0", "id": "srv-1", "method": "ping"}),
                );
                match rx.recv_timeout(Duration::from_secs(10)) {
                    Ok(answer) if answer.get("result").is_some() => text("pong received"),
                    _ => text("no pong"),
                }
            }
            "cancellations" => {
                text(&Value::Array(self.cancelled.lock().unwrap().clone()).to_string())
            }
            "exit" => std::process::exit(3),
            other => {
                send(
                    &self.out,
                    &json!({"jsonrpc": "2.0", "id": id,
                            "error": {"code": -32602, "message": format!("unknown tool {other}")}}),
                );
                return;
            }
        };
        send(
            &self.out,
            &json!({"jsonrpc": "2.0", "id": id, "result": result}),
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let silent = args.iter().any(|a| a == "--silent");
    let protocol = args
        .iter()
        .position(|a| a == "--protocol")
        .and_then(|i| args.get(i + 1).cloned());
    let server = Arc::new(Server {
        out: Arc::new(Mutex::new(std::io::stdout())),
        waiting: Mutex::new(HashMap::new()),
        cancelled: Mutex::new(Vec::new()),
    });
    if args.iter().any(|a| a == "--noisy") {
        let mut out = server.out.lock().unwrap();
        let _ = writeln!(out, "starting fake server (this line is not JSON)");
        let _ = out.flush();
    }
    eprintln!("fake server: up");
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let Ok(msg) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if silent {
            continue;
        }
        let id = msg.get("id").cloned();
        let Some(method) = msg["method"].as_str() else {
            // An answer to one of our requests.
            let key = match &msg["id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if let Some(tx) = server.waiting.lock().unwrap().remove(&key) {
                let _ = tx.send(msg);
            }
            continue;
        };
        let reply = |result: Value| {
            send(
                &server.out,
                &json!({"jsonrpc": "2.0", "id": id, "result": result}),
            );
        };
        match method {
            "initialize" => {
                let version = protocol.clone().unwrap_or_else(|| {
                    msg["params"]["protocolVersion"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned()
                });
                reply(json!({
                    "protocolVersion": version,
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "fake", "version": "0.0.1"},
                }));
            }
            "notifications/initialized" => {
                send(
                    &server.out,
                    &json!({"jsonrpc": "2.0", "method": "notifications/message",
                            "params": {"level": "info", "data": "initialized"}}),
                );
            }
            "notifications/cancelled" => {
                server
                    .cancelled
                    .lock()
                    .unwrap()
                    .push(msg["params"]["requestId"].clone());
            }
            "ping" => reply(json!({})),
            "tools/list" => {
                // Pages of four, so the driver must follow nextCursor.
                let start: usize = msg["params"]["cursor"]
                    .as_str()
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(0);
                let page: Vec<Value> = TOOLS
                    .iter()
                    .skip(start)
                    .take(4)
                    .map(|t| {
                        json!({"name": t, "description": format!("the {t} tool"),
                                    "inputSchema": {"type": "object"}})
                    })
                    .collect();
                let mut result = json!({"tools": page});
                if start + 4 < TOOLS.len() {
                    result["nextCursor"] = json!((start + 4).to_string());
                }
                reply(result);
            }
            "tools/call" => {
                let server = server.clone();
                let params = msg["params"].clone();
                let id = id.unwrap_or(Value::Null);
                std::thread::spawn(move || server.call(id, &params));
            }
            _ if id.is_some() => send(
                &server.out,
                &json!({"jsonrpc": "2.0", "id": id,
                        "error": {"code": -32601, "message": "method not found"}}),
            ),
            _ => {}
        }
    }
}
