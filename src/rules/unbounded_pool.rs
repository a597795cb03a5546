//! MCP105 unbounded-pool
//!
//! ## What it finds
//! A connection pool with no bound on its size, or whose acquire can wait
//! forever, built in code an MCP server runs or used by it (a module-level
//! pool that a tool queries counts).
//!
//! Which constructors build a pool, what bounds each and its default come
//! from the knowledge packs (`[[pool]]` in `rules/*.toml`):
//!
//! - Python: redis-py `ConnectionPool(..)`, `redis.Redis(..)`,
//!   `redis.asyncio.Redis(..)` and `from_url(..)` without `max_connections`
//!   (redis-py's default is 2**31; a client handed `connection_pool=` is
//!   judged by that pool); `httpx.Limits(..)` whose `max_connections` is
//!   `None` or left out (the `Limits` class defaults it to `None`; only a
//!   client built without `limits=` gets httpx's 100); `aiohttp.TCPConnector(limit=0)`.
//! - TS/JS: node-postgres `new Pool({..})` without `connectionTimeoutMillis`
//!   or with it 0 (acquiring waits forever); mysql2 `createPool(..)` without
//!   a positive `queueLimit` (an unlimited waiting queue), unless
//!   `waitForConnections: false`.
//! - Rust: deadpool pools whose builder or config sets no wait timeout
//!   (`Timeouts::wait` defaults to none), reported at `builder(..).build()`
//!   or `cfg.create_pool(..)`.
//!
//! ## Why it matters
//! An LLM orchestrator fans tool calls out at machine speed. A pool with no
//! size limit opens a connection per concurrent call until the database or
//! the file-descriptor limit gives out; a pool whose acquire has no timeout
//! parks every call behind the slowest one, forever, once it is exhausted.
//! Either way one burst takes every tool of the server down with it.
//!
//! ## Flagged
//! ```python
//! pool = redis.ConnectionPool(host="cache", port=6379, socket_timeout=5)
//! ```
//! ```ts
//! const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
//! ```
//! ```rust
//! let pool = Pool::builder(mgr).max_size(16).build()?;
//! ```
//!
//! ## Fixed
//! ```python
//! pool = redis.ConnectionPool(host="cache", port=6379, socket_timeout=5, max_connections=20)
//! ```
//! ```ts
//! const pool = new Pool({ connectionString, max: 10, connectionTimeoutMillis: 5_000 });
//! ```
//! ```rust
//! let pool = Pool::builder(mgr)
//!     .max_size(16)
//!     .wait_timeout(Some(Duration::from_secs(5)))
//!     .runtime(Runtime::Tokio1)
//!     .build()?;
//! ```
//!
//! ## Limits
//! - A bound given by a named constant or a config value counts, whatever
//!   its value; options passed through `**kwargs` or a spread, or an
//!   options object we cannot follow, are not reported.
//! - A URL argument is read for the setting only when it is written in
//!   view (`?max_connections=20`); one read from the environment is taken
//!   not to set it.
//! - asyncpg's `create_pool` (10 connections) and SQLAlchemy's `QueuePool`
//!   (5 + 10 overflow, 30 s `pool_timeout`) are bounded by default, as are
//!   sqlx (`acquire_timeout` 30 s), bb8 and r2d2 (`connection_timeout`
//!   30 s): none is reported. asyncpg's `acquire()` has no timeout by
//!   default, but the pool's size is bounded; RULES.md does not ask for it.
//! - ioredis has no pool (one pipelined connection per client): nothing to
//!   report.
//! - A deadpool config read from the environment or a file
//!   (`Config::from_env`, serde) is not seen through; for a config built in
//!   view, any `wait`/`timeouts` setting in its file counts.
//! - A pool built outside the code an entry point reaches (a Rust `main`)
//!   counts only when an upstream call in reached code is traced back to
//!   it; a deadpool object (`pool.get().await`) is not traced, so such a
//!   pool is left out of scope.

use super::Rule;
use crate::facts::Expr;
use crate::finding::{Axis, Finding, Severity};
use crate::link::{CallRef, Found, Origin, PoolSite, Project, Scope};

pub static RULE: Rule = Rule {
    id: "MCP105",
    name: "unbounded-pool",
    axis: Axis::Maintenance,
    severity: Severity::Low,
    cwe: &["CWE-400"],
    precision: "high",
    source: include_str!("unbounded_pool.rs"),
    check,
};

fn check(p: &Project, m: u32, out: &mut Vec<Finding>) {
    let module = p.module(m);
    if p.lk(m).pools.is_empty() {
        return;
    }
    for (ci, call) in module.calls.iter().enumerate() {
        let c = CallRef {
            module: m,
            call: ci as u32,
        };
        if call.via.is_some() {
            continue;
        }
        let Some(site) = p.pool_site(c) else { continue };
        let Some(why) = judge(p, &site) else { continue };
        let message = format!("{}: {why}", site.pool.name);
        let help = site.pool.fix.clone();
        let reached = matches!(p.scope_at(m, call.func, call.span), Scope::Reached { .. });
        let used = if reached {
            None
        } else {
            // The pool, or the client built around it, may be what reached code uses.
            p.used_by_reached(c)
                .or_else(|| p.used_by_reached(site.ctor))
        };
        let finding = RULE.finding(p, m, call.func, call.span, message, help);
        out.push(match used {
            Some(user) => super::used_by(p, finding, user),
            None => finding,
        });
    }
}

/// Why the pool is unbounded, or `None` when it is bounded or we cannot
/// see enough to say.
fn judge(p: &Project, site: &PoolSite) -> Option<String> {
    let pool = site.pool;
    for kv in &pool.also_bounded_by {
        if let Found::Set(s) = p.pool_setting(site, std::slice::from_ref(&kv.key)) {
            if s.values
                .iter()
                .any(|v| literal_is(p, v.module, v.func, &v.expr, &kv.value))
            {
                return None;
            }
        }
    }
    match p.pool_setting(site, &pool.keys) {
        Found::Hidden => None,
        Found::Absent => pool.absent_unbounded.then(|| pool.what.clone()),
        Found::Set(s) => {
            let unbounded = !s.values.is_empty()
                && s.values.iter().all(|v| {
                    pool.unbounded_values
                        .iter()
                        .any(|u| literal_is(p, v.module, v.func, &v.expr, u))
                });
            unbounded.then(|| {
                let v = &s.values[0];
                format!(
                    "`{}` is {}, which puts no bound on it",
                    v.key,
                    shown(&v.expr)
                )
            })
        }
    }
}

/// Does every value `e` may hold equal the literal `want` (`None`, `0`,
/// `false`)? A name or call we cannot read is not.
fn literal_is(p: &Project, m: u32, func: Option<u32>, e: &Expr, want: &str) -> bool {
    // Rust's `None` is a name no binding holds.
    if matches!(e, Expr::Name(n) if n == "None") || matches!(e, Expr::Null) {
        return matches!(want, "None" | "null");
    }
    let origins = p.trace(m, func, e, u32::MAX);
    !origins.is_empty()
        && origins.iter().all(|o| match o {
            Origin::Lit(_, _, Expr::Null) => matches!(want, "None" | "null"),
            Origin::Lit(_, _, Expr::Num(n)) => {
                n.replace('_', "").parse::<f64>().ok() == want.parse::<f64>().ok()
                    && want.parse::<f64>().is_ok()
            }
            Origin::Lit(_, _, Expr::Bool(b)) => want == if *b { "true" } else { "false" },
            // Rust `None`.
            Origin::Lit(_, _, Expr::Name(n)) => n == want,
            _ => false,
        })
}

fn shown(e: &Expr) -> String {
    match e {
        Expr::Null => "None".into(),
        Expr::Num(n) => n.clone(),
        Expr::Name(n) => n.clone(),
        _ => "unbounded".into(),
    }
}
