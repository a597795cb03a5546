use std::time::Duration;

use mcp_audit_runtime::harness::driver::{
    CallOutcome, Driver, DriverError, ServerCommand, PROTOCOL_VERSION,
};
use serde_json::json;
use tokio::time::Instant;

use crate::{bounded, eventually};

const FAKE: &str = env!("CARGO_BIN_EXE_fake-mcp-server");
const T: Duration = Duration::from_secs(20);

async fn launch(args: &[&str]) -> Driver {
    Driver::launch(ServerCommand::new(FAKE).args(args), T)
        .await
        .expect("the fake server starts")
}

#[tokio::test]
async fn initializes_lists_and_calls() {
    let d = launch(&[]).await;
    assert_eq!(d.server().protocol_version, PROTOCOL_VERSION);
    assert_eq!(d.server().name.as_deref(), Some("fake"));
    assert!(d.server().capabilities.get("tools").is_some());

    let tools = d.list_tools(T).await.unwrap();
    let names: Vec<_> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names.len(), 11, "all pages followed: {names:?}");
    assert!(names.contains(&"echo") && names.contains(&"exit"));
    assert_eq!(tools[0].description.as_deref(), Some("the echo tool"));

    let r = d.call_tool("echo", json!({"text": "hi"}), T).await.unwrap();
    assert_eq!(
        (r.tool.as_str(), r.text.as_str(), r.is_error),
        ("echo", "hi", false)
    );
    assert!(matches!(r.outcome, CallOutcome::Result(_)));

    let r = d.call_tool("multi", json!({}), T).await.unwrap();
    assert_eq!(r.text, "first\nsecond", "text items only, joined");

    // The server's notifications/message after `initialized` was kept.
    eventually("a log notification", || !d.notifications().is_empty()).await;
    assert_eq!(d.notifications()[0]["method"], "notifications/message");
    assert!(d.stray_lines().is_empty(), "{:?}", d.stray_lines());

    let status = bounded("shutdown", d.shutdown()).await;
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
}

#[tokio::test]
async fn accepts_the_version_the_server_answers() {
    let d = launch(&["--protocol", "2025-03-26"]).await;
    assert_eq!(d.server().protocol_version, "2025-03-26");
}

#[tokio::test]
async fn error_results_and_rpc_errors_are_both_errors() {
    let d = launch(&[]).await;
    let r = d.call_tool("fail", json!({}), T).await.unwrap();
    assert!(r.is_error);
    assert_eq!(r.text, "it failed");

    let r = d.call_tool("rpc_error", json!({}), T).await.unwrap();
    assert!(r.is_error);
    assert_eq!(r.text, "tool exploded");
    assert!(
        matches!(r.outcome, CallOutcome::RpcError { code: -32000, .. }),
        "{r:?}"
    );
}

#[tokio::test]
async fn the_deadline_fires_on_a_call_that_never_answers() {
    let d = launch(&[]).await;
    let deadline = Duration::from_millis(300);
    let r = bounded("hang", d.call_tool("hang", json!({}), deadline))
        .await
        .unwrap();
    assert!(r.timed_out());
    assert!(r.is_error);
    assert!(r.latency >= deadline, "{:?}", r.latency);

    // The server was told, and the session still works.
    let r = d.call_tool("cancellations", json!({}), T).await.unwrap();
    let cancelled: Vec<u64> = serde_json::from_str(&r.text).unwrap();
    assert_eq!(cancelled.len(), 1, "{}", r.text);
    assert_eq!(
        d.call_tool("echo", json!({"text": "still here"}), T)
            .await
            .unwrap()
            .text,
        "still here"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_initialize_times_out() {
    let start = Instant::now();
    let r = Driver::launch(
        ServerCommand::new(FAKE).arg("--silent"),
        Duration::from_millis(300),
    )
    .await;
    match r {
        Err(DriverError::Timeout { method, .. }) => assert_eq!(method, "initialize"),
        other => panic!("{other:?}"),
    }
    assert!(start.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn concurrent_calls_are_matched_to_their_answers() {
    let d = launch(&[]).await;
    let calls = (0..4).map(|i| {
        let d = &d;
        async move {
            let text = format!("call {i}");
            let slow = d.call_tool("sleep", json!({"ms": 50 * (4 - i)}), T);
            let echo = d.call_tool("echo", json!({"text": text}), T);
            let (slow, echo) = tokio::join!(slow, echo);
            (slow.unwrap().text, echo.unwrap().text == text)
        }
    });
    for (slow, echoed) in bounded("calls", futures_util::future::join_all(calls)).await {
        assert_eq!(slow, "slept");
        assert!(echoed);
    }
}

#[tokio::test]
async fn answers_the_servers_ping() {
    let d = launch(&[]).await;
    let r = d.call_tool("ping_client", json!({}), T).await.unwrap();
    assert_eq!(r.text, "pong received");
}

#[tokio::test]
async fn passes_env_and_working_directory() {
    let dir = std::env::temp_dir().canonicalize().unwrap();
    let cmd = ServerCommand::new(FAKE)
        .env("FAKE_SECRET_SETTING", "42")
        .current_dir(&dir);
    let d = Driver::launch(cmd, T).await.unwrap();
    let r = d
        .call_tool("env", json!({"name": "FAKE_SECRET_SETTING"}), T)
        .await
        .unwrap();
    assert_eq!(r.text, "42");
    let r = d.call_tool("cwd", json!({}), T).await.unwrap();
    assert_eq!(std::path::Path::new(&r.text).canonicalize().unwrap(), dir);
}

#[tokio::test]
async fn stdout_noise_is_kept_aside() {
    let d = launch(&["--noisy"]).await;
    assert_eq!(
        d.call_tool("echo", json!({"text": "ok"}), T)
            .await
            .unwrap()
            .text,
        "ok"
    );
    assert_eq!(
        d.stray_lines(),
        ["starting fake server (this line is not JSON)"]
    );
}

#[tokio::test]
async fn a_server_that_exits_mid_call_is_an_error_with_its_stderr() {
    let d = launch(&[]).await;
    match bounded("exit", d.call_tool("exit", json!({}), T)).await {
        Err(DriverError::Closed { stderr }) => {
            assert!(stderr.contains("fake server: up"), "{stderr}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        d.call_tool("echo", json!({}), T).await,
        Err(DriverError::Closed { .. })
    ));
}

#[tokio::test]
async fn a_missing_program_is_a_spawn_error() {
    let r = Driver::launch(ServerCommand::new("/nonexistent/mcp-server"), T).await;
    assert!(matches!(r, Err(DriverError::Spawn(_))), "{r:?}");
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn dropping_the_driver_kills_the_server() {
    let d = launch(&[]).await;
    let pid = d.pid().unwrap();
    let status = format!("/proc/{pid}/status");
    assert!(std::path::Path::new(&status).exists());
    drop(d);
    // Gone, or a zombie awaiting its reaper: either way not running.
    eventually("the server killed", || {
        match std::fs::read_to_string(&status) {
            Err(_) => true,
            Ok(s) => s
                .lines()
                .any(|l| l.starts_with("State:") && l.contains('Z')),
        }
    })
    .await;
}
