use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use mcp_audit_runtime::harness::upstream::{Mode, Upstream, LEAK_MARKERS};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::{bounded, eventually};

/// One request on a fresh connection: the status and body, or the
/// transport error as text.
async fn send(
    up: &Upstream,
    method: Method,
    path: &str,
    key: Option<&str>,
) -> Result<(u16, String), String> {
    let exchange = async {
        let stream = TcpStream::connect(up.addr())
            .await
            .map_err(|e| e.to_string())?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", up.addr().to_string());
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        let req = req.body(Full::new(Bytes::from_static(b"{}"))).unwrap();
        let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?;
        Ok((
            status,
            String::from_utf8_lossy(&body.to_bytes()).into_owned(),
        ))
    };
    bounded(path, exchange).await
}

async fn get(up: &Upstream, path: &str) -> Result<(u16, String), String> {
    send(up, Method::GET, path, None).await
}

#[tokio::test]
async fn answers_ok_and_counts_requests_and_mutations() {
    let up = Upstream::start().await.unwrap();
    assert!(up.addr().ip().is_loopback());
    assert!(up.url("/x").starts_with("http://127.0.0.1:"));

    let (status, body) = get(&up, "/weather?city=Oslo").await.unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("\"route\":\"/weather\""), "{body}");
    get(&up, "/weather").await.unwrap();

    for key in [Some("k1"), Some("k1"), None, Some("k2")] {
        send(&up, Method::POST, "/charge", key).await.unwrap();
    }
    send(&up, Method::DELETE, "/charge", None).await.unwrap();
    send(&up, Method::GET, "/charge", Some("k3")).await.unwrap();

    let w = up.stats("/weather");
    assert_eq!((w.requests, w.mutations), (2, 0));
    let c = up.stats("/charge");
    assert_eq!(c.requests, 6);
    assert_eq!(c.mutations, 5);
    assert_eq!(c.distinct_mutations, 4, "the second k1 is a replay");
    assert_eq!(c.in_flight, 0);
    assert_eq!(up.total_requests(), 8);
    assert_eq!(up.total_mutations(), 5);
    assert_eq!(up.requests("/nowhere"), 0);

    up.set_body("/weather", serde_json::json!({"temp": 21}));
    assert_eq!(get(&up, "/weather").await.unwrap().1, r#"{"temp":21}"#);

    up.reset_stats();
    assert_eq!(up.total_requests(), 0);
    up.shutdown().await;
}

#[tokio::test]
async fn status_mode_leaks_unless_told_not_to() {
    let up = Upstream::start().await.unwrap();
    up.set_mode("/db", Mode::Status(500));
    let (status, body) = get(&up, "/db").await.unwrap();
    assert_eq!(status, 500);
    for marker in LEAK_MARKERS {
        assert!(body.contains(marker), "{marker} missing from {body}");
    }
    assert_eq!(
        get(&up, "/other").await.unwrap().0,
        200,
        "modes are per route"
    );

    let quiet = Upstream::builder()
        .leaky_errors(false)
        .start()
        .await
        .unwrap();
    quiet.set_mode("/db", Mode::Status(503));
    let (status, body) = get(&quiet, "/db").await.unwrap();
    assert_eq!(status, 503);
    assert!(LEAK_MARKERS.iter().all(|m| !body.contains(m)), "{body}");
}

#[tokio::test]
async fn slow_answers_after_its_delay() {
    let up = Upstream::start().await.unwrap();
    up.set_mode("/slow", Mode::Slow(Duration::from_millis(150)));
    let start = Instant::now();
    assert_eq!(get(&up, "/slow").await.unwrap().0, 200);
    assert!(start.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn reset_closes_without_a_response() {
    let up = Upstream::start().await.unwrap();
    up.set_mode("/boom", Mode::Reset);
    assert!(get(&up, "/boom").await.is_err());

    // On the wire: not one byte of a response.
    let mut s = TcpStream::connect(up.addr()).await.unwrap();
    s.write_all(b"GET /boom HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let r = bounded("read", s.read_to_end(&mut buf)).await;
    assert!(buf.is_empty(), "got {:?}", String::from_utf8_lossy(&buf));
    assert_eq!(
        r.map_err(|e| e.kind()),
        Err(std::io::ErrorKind::ConnectionReset),
        "a reset, not an orderly close"
    );
    assert_eq!(up.requests("/boom"), 2);
    assert_eq!(up.stats("/boom").in_flight, 0);
}

#[tokio::test]
async fn flaky_is_deterministic_for_a_seed() {
    async fn statuses(seed: u64) -> Vec<u16> {
        let up = Upstream::builder().seed(seed).start().await.unwrap();
        up.set_mode("/f", Mode::Flaky(0.5));
        let mut out = Vec::new();
        for _ in 0..24 {
            out.push(get(&up, "/f").await.unwrap().0);
        }
        out
    }
    let a = statuses(42).await;
    assert_eq!(a, statuses(42).await);
    assert!(a.contains(&200) && a.contains(&503), "{a:?}");

    let up = Upstream::start().await.unwrap();
    up.set_mode("/never", Mode::Flaky(0.0));
    up.set_mode("/always", Mode::Flaky(1.0));
    for _ in 0..5 {
        assert_eq!(get(&up, "/never").await.unwrap().0, 200);
        assert_eq!(get(&up, "/always").await.unwrap().0, 503);
    }
}

#[tokio::test]
async fn auth_down_fails_the_auth_route() {
    let up = Upstream::builder()
        .auth_route("/v1/authorize")
        .start()
        .await
        .unwrap();
    assert_eq!(get(&up, "/v1/authorize").await.unwrap().0, 200);
    up.auth_down();
    let (status, body) = get(&up, "/v1/authorize").await.unwrap();
    assert_eq!(status, 503);
    assert!(body.contains("auth service unavailable"), "{body}");
    assert_eq!(get(&up, "/data").await.unwrap().0, 200);
    up.clear_modes();
    assert_eq!(get(&up, "/v1/authorize").await.unwrap().0, 200);
}

#[tokio::test]
async fn a_hang_ends_at_its_cap() {
    let up = Upstream::builder()
        .hang_cap(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    up.set_mode("/h", Mode::Hang);
    let start = Instant::now();
    assert_eq!(get(&up, "/h").await.unwrap().0, 504);
    assert!(start.elapsed() >= Duration::from_millis(200));
    // A slow answer longer than the cap is cut to it too.
    up.set_mode("/s", Mode::Slow(Duration::from_secs(3600)));
    assert_eq!(get(&up, "/s").await.unwrap().0, 200);
}

#[tokio::test]
async fn counts_the_most_requests_in_flight_and_releases_hangs() {
    let up = Upstream::start().await.unwrap();
    up.set_default_mode(Mode::Hang);
    let calls = futures_util::future::join_all((0..5).map(|_| get(&up, "/fanout")));
    let watch = async {
        eventually("5 in flight", || up.stats("/fanout").in_flight == 5).await;
        up.release_hangs();
    };
    let (results, ()) = tokio::join!(calls, watch);
    assert!(
        results.iter().all(|r| matches!(r, Ok((504, _)))),
        "{results:?}"
    );
    let s = up.stats("/fanout");
    assert_eq!((s.requests, s.max_in_flight), (5, 5));
    eventually("none in flight", || up.stats("/fanout").in_flight == 0).await;
}

/// A raw request whose answer (possibly none) is read to the end.
fn raw_hanging_request(addr: std::net::SocketAddr) -> tokio::task::JoinHandle<String> {
    tokio::spawn(async move {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /h HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf).await;
        String::from_utf8_lossy(&buf).into_owned()
    })
}

#[tokio::test]
async fn shutdown_ends_a_hanging_request() {
    let up = Upstream::start().await.unwrap();
    up.set_mode("/h", Mode::Hang);
    let addr = up.addr();
    let client = raw_hanging_request(addr);
    eventually("hanging", || up.stats("/h").in_flight == 1).await;
    // Well inside the 60 s hang cap.
    bounded("shutdown", up.shutdown()).await;
    let answer = bounded("the hanging request", client).await.unwrap();
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 504"),
        "{answer}"
    );
    assert!(TcpStream::connect(addr).await.is_err(), "still listening");
}

#[tokio::test]
async fn dropping_the_handle_ends_hangs_and_stops_listening() {
    let up = Upstream::start().await.unwrap();
    up.set_mode("/h", Mode::Hang);
    let addr = up.addr();
    let client = raw_hanging_request(addr);
    eventually("hanging", || up.stats("/h").in_flight == 1).await;
    drop(up);
    let answer = bounded("the hanging request", client).await.unwrap();
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 504"),
        "{answer}"
    );
    for _ in 0..3000 {
        if TcpStream::connect(addr).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("still listening after drop");
}

#[test]
fn modes_parse_and_print() {
    for s in [
        "ok",
        "hang",
        "slow(250)",
        "status(503)",
        "reset",
        "flaky(0.3)",
        "auth-down",
    ] {
        let m: Mode = s.parse().unwrap();
        assert_eq!(m.to_string(), s);
    }
    assert_eq!(
        "slow( 5 )".parse::<Mode>(),
        Ok(Mode::Slow(Duration::from_millis(5)))
    );
    for bad in [
        "",
        "slow",
        "slow(x)",
        "status(99)",
        "status(1000)",
        "flaky(1.5)",
        "later",
    ] {
        assert!(bad.parse::<Mode>().is_err(), "{bad}");
    }
}
