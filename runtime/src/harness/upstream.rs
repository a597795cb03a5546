//! A fault-injecting HTTP upstream on 127.0.0.1.
//!
//! Guarantees:
//! - It listens on 127.0.0.1 only, on a free port chosen by the system.
//! - Each route (a request path, without its query) answers in the [`Mode`]
//!   set for it, changeable at any time through the [`Upstream`] handle;
//!   routes with no mode of their own use the default mode ([`Mode::Ok`]
//!   unless set).
//! - It counts, per route: requests, mutations (POST, PUT, PATCH, DELETE),
//!   mutations with an `Idempotency-Key` it had not seen on that route
//!   ([`RouteStats::distinct_mutations`], what a real payment API would
//!   apply), requests in flight and the most ever in flight at once. A request
//!   is counted when its head arrives, whatever its mode does next.
//! - Error answers carry internal-looking detail (the [`LEAK_MARKERS`]: a
//!   file path, an internal host and SQL) unless built with
//!   `leaky_errors(false)`, so a server that passes them on is caught.
//! - Every wait inside it is bounded: a `hang` or `slow` answer ends at the
//!   hang cap (60 s unless set), on [`Upstream::release_hangs`], or on
//!   shutdown; a request's head must arrive within 5 s and its body within
//!   the hang cap; shutdown waits at most 5 s for connections to close, then
//!   drops them.
//! - [`Mode::Flaky`] draws from a per-route RNG seeded from the builder's
//!   seed and the route, reseeded when the mode is set: the same requests in
//!   the same order fail the same way.
//! - Dropping the handle shuts the server down: it stops accepting, ends
//!   hanging requests and closes connections.
//!
//! Built on hyper 1 (HTTP/1.1 server connections) rather than axum: a
//! handful of routes chosen at run time need no router, and hyper is what
//! axum runs on anyway, so the tree stays small.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Text that error answers carry so a leak is easy to see: a file path, an
/// internal host and a SQL statement.
pub const LEAK_MARKERS: [&str; 3] = [
    "/var/lib/app/db.sqlite",
    "db.internal:5432",
    "SELECT * FROM users WHERE",
];

/// The largest request body read; more fails the request with 413.
const MAX_BODY: usize = 1 << 20;
/// How long shutdown waits for connections to close before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Idempotency keys remembered per route, so a long test cannot grow it
/// without end; past this every keyed mutation counts as distinct.
const MAX_KEYS: usize = 100_000;
/// Arrival times remembered per route; later arrivals are counted but not
/// timed.
const MAX_ARRIVALS: usize = 100_000;

/// How a route answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// 200 with a JSON body (the route's body if set, else one naming the
    /// route and the request's number).
    Ok,
    /// No answer until the hang cap, a release or shutdown (then 504).
    Hang,
    /// The `Ok` answer, after this delay (at most the hang cap).
    Slow(Duration),
    /// This status, with an error body (leaky unless disabled).
    Status(u16),
    /// The connection is closed at once, with no response (a TCP reset).
    Reset,
    /// With probability `p`, 503 with an error body; else the `Ok` answer.
    Flaky(f64),
    /// An authorization service that is down: 503, with a leaky body naming
    /// the auth backend. [`Upstream::auth_down`] sets it on the auth route.
    AuthDown,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Ok => f.write_str("ok"),
            Mode::Hang => f.write_str("hang"),
            Mode::Slow(d) => write!(f, "slow({})", d.as_millis()),
            Mode::Status(c) => write!(f, "status({c})"),
            Mode::Reset => f.write_str("reset"),
            Mode::Flaky(p) => write!(f, "flaky({p})"),
            Mode::AuthDown => f.write_str("auth-down"),
        }
    }
}

/// A mode string that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown mode {0:?}: expected ok, hang, slow(MS), status(CODE), reset, flaky(P) or auth-down"
)]
pub struct BadMode(String);

impl FromStr for Mode {
    type Err = BadMode;

    /// `ok`, `hang`, `slow(250)`, `status(503)`, `reset`, `flaky(0.3)`,
    /// `auth-down`.
    fn from_str(s: &str) -> Result<Self, BadMode> {
        let bad = || BadMode(s.to_owned());
        let s = s.trim();
        let arg = |name: &str| {
            s.strip_prefix(name)
                .and_then(|r| r.strip_prefix('('))
                .and_then(|r| r.strip_suffix(')'))
                .map(str::trim)
        };
        Ok(match s {
            "ok" => Mode::Ok,
            "hang" => Mode::Hang,
            "reset" => Mode::Reset,
            "auth-down" => Mode::AuthDown,
            _ => {
                if let Some(a) = arg("slow") {
                    Mode::Slow(Duration::from_millis(a.parse().map_err(|_| bad())?))
                } else if let Some(a) = arg("status") {
                    let code: u16 = a.parse().map_err(|_| bad())?;
                    StatusCode::from_u16(code).map_err(|_| bad())?;
                    Mode::Status(code)
                } else if let Some(a) = arg("flaky") {
                    let p: f64 = a.parse().map_err(|_| bad())?;
                    if !(0.0..=1.0).contains(&p) {
                        return Err(bad());
                    }
                    Mode::Flaky(p)
                } else {
                    return Err(bad());
                }
            }
        })
    }
}

/// What one route has seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouteStats {
    /// Requests whose head arrived.
    pub requests: u64,
    /// POST, PUT, PATCH and DELETE requests.
    pub mutations: u64,
    /// Mutations without an `Idempotency-Key`, or with one not seen before
    /// on this route: the side effects a real API would have applied.
    pub distinct_mutations: u64,
    /// Requests being answered now.
    pub in_flight: u64,
    /// The most requests ever in flight at once.
    pub max_in_flight: u64,
}

#[derive(Default)]
struct Route {
    mode: Option<Mode>,
    body: Option<Value>,
    rng: Option<Xoshiro256PlusPlus>,
    stats: RouteStats,
    keys: HashSet<String>,
    /// When each request's head arrived, since the upstream started.
    arrivals: Vec<Duration>,
}

struct State {
    default_mode: Mode,
    routes: HashMap<String, Route>,
}

struct Shared {
    seed: u64,
    hang_cap: Duration,
    leaky: bool,
    auth_route: String,
    started: Instant,
    state: Mutex<State>,
    /// Bumped to end every hanging and slow request.
    release: watch::Sender<u64>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Plain counters and settings, consistent between statements.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn rng_for(&self, route: &str) -> Xoshiro256PlusPlus {
        // FNV-1a: a stable hash, so a route's draws do not change between
        // builds the way std's hasher may.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in route.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Xoshiro256PlusPlus::seed_from_u64(self.seed ^ h)
    }
}

/// Settings for an [`Upstream`].
#[derive(Debug, Clone)]
pub struct UpstreamBuilder {
    seed: u64,
    hang_cap: Duration,
    leaky: bool,
    auth_route: String,
    default_mode: Mode,
}

impl Default for UpstreamBuilder {
    fn default() -> Self {
        Self {
            seed: 0,
            hang_cap: Duration::from_secs(60),
            leaky: true,
            auth_route: "/auth".to_owned(),
            default_mode: Mode::Ok,
        }
    }
}

impl UpstreamBuilder {
    /// The seed of [`Mode::Flaky`]'s draws (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The longest any request is kept waiting (default 60 s).
    pub fn hang_cap(mut self, cap: Duration) -> Self {
        self.hang_cap = cap;
        self
    }

    /// Whether error bodies carry the [`LEAK_MARKERS`] (default true).
    pub fn leaky_errors(mut self, leaky: bool) -> Self {
        self.leaky = leaky;
        self
    }

    /// The route [`Upstream::auth_down`] affects (default `/auth`).
    pub fn auth_route(mut self, route: impl Into<String>) -> Self {
        self.auth_route = route.into();
        self
    }

    /// The mode of routes that have none of their own (default `Ok`).
    pub fn default_mode(mut self, mode: Mode) -> Self {
        self.default_mode = mode;
        self
    }

    /// Binds 127.0.0.1 on a free port and starts serving. Needs a tokio
    /// runtime with I/O and time enabled.
    pub async fn start(self) -> std::io::Result<Upstream> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let (release, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            seed: self.seed,
            hang_cap: self.hang_cap,
            leaky: self.leaky,
            auth_route: self.auth_route,
            started: Instant::now(),
            state: Mutex::new(State {
                default_mode: self.default_mode,
                routes: HashMap::new(),
            }),
            release,
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(serve(listener, shared.clone(), shutdown_rx));
        Ok(Upstream {
            addr,
            shared,
            shutdown,
            task: Some(task),
        })
    }
}

/// A running fault-injecting upstream; shuts down when dropped.
pub struct Upstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl fmt::Debug for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upstream")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Upstream {
    /// An upstream with the default settings.
    pub async fn start() -> std::io::Result<Upstream> {
        UpstreamBuilder::default().start().await
    }

    /// Settings to start one with.
    pub fn builder() -> UpstreamBuilder {
        UpstreamBuilder::default()
    }

    /// The address it listens on (127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Sets how `route` answers from the next request on.
    pub fn set_mode(&self, route: &str, mode: Mode) {
        let rng = matches!(mode, Mode::Flaky(_)).then(|| self.shared.rng_for(route));
        let mut state = self.shared.lock();
        let r = state.routes.entry(route.to_owned()).or_default();
        r.mode = Some(mode);
        r.rng = rng;
    }

    /// Sets the mode of every route without its own.
    pub fn set_default_mode(&self, mode: Mode) {
        self.shared.lock().default_mode = mode;
    }

    /// Clears every route's own mode (the default mode stays).
    pub fn clear_modes(&self) {
        for r in self.shared.lock().routes.values_mut() {
            r.mode = None;
            r.rng = None;
        }
    }

    /// The JSON body of `route`'s 200 answers.
    pub fn set_body(&self, route: &str, body: Value) {
        self.shared
            .lock()
            .routes
            .entry(route.to_owned())
            .or_default()
            .body = Some(body);
    }

    /// Takes the auth route down ([`Mode::AuthDown`]).
    pub fn auth_down(&self) {
        let route = self.shared.auth_route.clone();
        self.set_mode(&route, Mode::AuthDown);
    }

    /// Ends every request now hanging or slow (each gets its answer: 504 for
    /// `hang`, the `Ok` answer for `slow`).
    pub fn release_hangs(&self) {
        self.shared.release.send_modify(|n| *n += 1);
    }

    /// What `route` has seen.
    pub fn stats(&self, route: &str) -> RouteStats {
        self.shared
            .lock()
            .routes
            .get(route)
            .map(|r| r.stats)
            .unwrap_or_default()
    }

    /// When each request to `route` arrived (its head), as time since the
    /// upstream started, in order; the first 100 000 since the last reset.
    /// For telling a burst from requests spread out in time.
    pub fn arrivals(&self, route: &str) -> Vec<Duration> {
        self.shared
            .lock()
            .routes
            .get(route)
            .map(|r| r.arrivals.clone())
            .unwrap_or_default()
    }

    /// Requests to `route`.
    pub fn requests(&self, route: &str) -> u64 {
        self.stats(route).requests
    }

    /// Mutations sent to `route`.
    pub fn mutations(&self, route: &str) -> u64 {
        self.stats(route).mutations
    }

    /// Every route's stats, by route.
    pub fn all_stats(&self) -> BTreeMap<String, RouteStats> {
        self.shared
            .lock()
            .routes
            .iter()
            .filter(|(_, r)| r.stats.requests > 0)
            .map(|(k, r)| (k.clone(), r.stats))
            .collect()
    }

    /// Requests to all routes.
    pub fn total_requests(&self) -> u64 {
        self.all_stats().values().map(|s| s.requests).sum()
    }

    /// Mutations sent to all routes.
    pub fn total_mutations(&self) -> u64 {
        self.all_stats().values().map(|s| s.mutations).sum()
    }

    /// Zeroes the counters and forgets idempotency keys (requests in flight
    /// stay counted as in flight).
    pub fn reset_stats(&self) {
        for r in self.shared.lock().routes.values_mut() {
            r.stats = RouteStats {
                in_flight: r.stats.in_flight,
                max_in_flight: r.stats.in_flight,
                ..RouteStats::default()
            };
            r.keys.clear();
            r.arrivals.clear();
        }
    }

    /// Stops accepting, ends hanging requests and waits (at most 5 s) for
    /// connections to close.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        // The server task sees this and winds down by itself.
        let _ = self.shutdown.send(true);
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    let for_conns = shutdown.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                conns.spawn(connection(stream, shared.clone(), for_conns.clone()));
            }
            _ = shutdown.wait_for(|s| *s) => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let drain = async { while conns.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
        conns.abort_all();
    }
}

/// The TCP stream, able to end in a reset: hyper closes a connection whose
/// service failed, and a zero linger makes that close an RST.
struct Conn {
    stream: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// A service error that tells hyper to drop the connection unanswered.
#[derive(Debug)]
struct ResetConnection;

impl fmt::Display for ResetConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("reset by fault injection")
    }
}

impl std::error::Error for ResetConnection {}

async fn connection(stream: TcpStream, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let reset = Arc::new(AtomicBool::new(false));
    let io = TokioIo::new(Conn {
        stream,
        reset: reset.clone(),
    });
    let svc = {
        let shutdown = shutdown.clone();
        service_fn(move |req| {
            let (shared, reset, shutdown) = (shared.clone(), reset.clone(), shutdown.clone());
            async move {
                let r = handle(req, &shared, shutdown).await;
                if r.is_err() {
                    reset.store(true, Ordering::SeqCst);
                }
                r
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(SHUTDOWN_GRACE);
    let conn = builder.serve_connection(io, svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = shutdown.wait_for(|s| *s) => conn.as_mut().graceful_shutdown(),
    }
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, conn).await;
}

fn is_mutation(m: &Method) -> bool {
    matches!(
        *m,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// Decrements the route's in-flight count however the request ends.
struct InFlight<'a> {
    shared: &'a Shared,
    route: String,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(r) = self.shared.lock().routes.get_mut(&self.route) {
            r.stats.in_flight = r.stats.in_flight.saturating_sub(1);
        }
    }
}

/// What to do with one request, decided under the lock.
enum Plan {
    Answer(u64, Option<Value>),
    Wait(Duration, u64, Option<Value>),
    Hang,
    Error(u16),
    Reset,
    AuthDown,
}

async fn handle(
    req: Request<Incoming>,
    shared: &Shared,
    mut shutdown: watch::Receiver<bool>,
) -> Result<Response<Full<Bytes>>, ResetConnection> {
    let route = req.uri().path().to_owned();
    let mutation = is_mutation(req.method());
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    let plan = {
        let mut state = shared.lock();
        let default_mode = state.default_mode;
        let r = state.routes.entry(route.clone()).or_default();
        r.stats.requests += 1;
        if r.arrivals.len() < MAX_ARRIVALS {
            r.arrivals.push(shared.started.elapsed());
        }
        let s = &mut r.stats;
        s.in_flight += 1;
        s.max_in_flight = s.max_in_flight.max(s.in_flight);
        if mutation {
            s.mutations += 1;
            let new = match key {
                Some(k) if r.keys.contains(&k) => false,
                Some(k) => {
                    if r.keys.len() < MAX_KEYS {
                        r.keys.insert(k);
                    }
                    true
                }
                None => true,
            };
            if new {
                r.stats.distinct_mutations += 1;
            }
        }
        let n = r.stats.requests;
        let body = r.body.clone();
        match r.mode.unwrap_or(default_mode) {
            Mode::Ok => Plan::Answer(n, body),
            Mode::Slow(d) => Plan::Wait(d, n, body),
            Mode::Hang => Plan::Hang,
            Mode::Status(c) => Plan::Error(c),
            Mode::Reset => Plan::Reset,
            Mode::AuthDown => Plan::AuthDown,
            Mode::Flaky(p) => {
                let rng = r.rng.get_or_insert_with(|| shared.rng_for(&route));
                if rng.random_bool(p) {
                    Plan::Error(503)
                } else {
                    Plan::Answer(n, body)
                }
            }
        }
    };
    let _in_flight = InFlight {
        shared,
        route: route.clone(),
    };

    if matches!(plan, Plan::Reset) {
        return Err(ResetConnection);
    }
    // Read the body (bounded in size and time) as a real server would, so
    // the client is not left writing into a closed socket.
    let read = Limited::new(req.into_body(), MAX_BODY).collect();
    if !matches!(tokio::time::timeout(shared.hang_cap, read).await, Ok(Ok(_))) {
        return Ok(json_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"error": "request body too large or too slow"}),
        ));
    }

    let pause = match plan {
        Plan::Wait(d, ..) => Some(d.min(shared.hang_cap)),
        Plan::Hang => Some(shared.hang_cap),
        _ => None,
    };
    if let Some(d) = pause {
        let mut release = shared.release.subscribe();
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = release.changed() => {}
            _ = shutdown.wait_for(|s| *s) => {}
        }
    }
    Ok(match plan {
        Plan::Answer(n, body) | Plan::Wait(_, n, body) => ok_response(&route, n, body),
        Plan::Hang => json_response(
            StatusCode::GATEWAY_TIMEOUT,
            json!({"error": "hang ended", "route": route}),
        ),
        Plan::Error(code) => error_response(shared, code, &route, false),
        Plan::AuthDown => error_response(shared, 503, &route, true),
        Plan::Reset => unreachable!("answered above"),
    })
}

fn json_response(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

fn ok_response(route: &str, n: u64, body: Option<Value>) -> Response<Full<Bytes>> {
    json_response(
        StatusCode::OK,
        body.unwrap_or_else(|| json!({"ok": true, "route": route, "request": n})),
    )
}

fn error_response(shared: &Shared, code: u16, route: &str, auth: bool) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let what = if auth {
        "auth service unavailable"
    } else {
        "upstream failure"
    };
    let body = if shared.leaky {
        let [path, host, sql] = LEAK_MARKERS;
        json!({
            "error": what,
            "status": code,
            "route": route,
            "detail": format!(
                "OperationalError: unable to open database file {path}; \
                 fallback replica {host} refused connection while running \
                 {sql} email = 'alice@example.com'"
            ),
            "trace": "Traceback (most recent call last):\n  File \"/srv/app/handlers.py\", line 88, in lookup\n    rows = db.execute(query)",
        })
    } else {
        json!({"error": what, "status": code})
    };
    json_response(status, body)
}
