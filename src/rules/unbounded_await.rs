//! MCP101 unbounded-await
//!
//! ## What it finds
//! An outbound HTTP or database call that nothing bounds in time: no timeout
//! on the call, none on the client, session or pool that makes it, no library
//! default of 120 s or less, and no enclosing deadline.
//!
//! Which calls reach an upstream, what bounds them and each library's default
//! come from the knowledge packs (`rules/python.toml`, `rules/typescript.toml`,
//! `rules/rust.toml`, and your own with `--knowledge`): HTTP clients, LLM
//! and cloud SDKs, and database and cache drivers, listed below.
//!
//! - Python: requests, urllib, httpx (`timeout=None` only), aiohttp (300 s
//!   default), the OpenAI and Anthropic SDKs (600 s default), asyncpg,
//!   psycopg, PyMySQL, aiomysql, asyncmy, redis-py (no `socket_timeout`),
//!   pymongo and motor (no `socketTimeoutMS`/`timeoutMS`), SQLAlchemy
//!   engines on a network database, and, bounded by their defaults unless a
//!   setting turns the limit off: Stripe (80 s), atlassian-python-api (75 s),
//!   boto3/aioboto3 (60 s; `Config(read_timeout=None)` is reported),
//!   Elasticsearch (10 s).
//! - TS/JS: fetch (global, undici, node-fetch, cross-fetch), undici
//!   `request`, axios, got, ky (`timeout: false` only), the OpenAI and
//!   Anthropic SDKs, exa-js (the global fetch's 300 s), node-postgres,
//!   mysql2, ioredis (no `commandTimeout`), the mongodb driver (no
//!   `timeoutMS`/`socketTimeoutMS`/`maxTimeMS`), and Stripe (80 s, bounded).
//!   `setGlobalDispatcher(new Agent({ headersTimeout, bodyTimeout }))`
//!   anywhere in the project bounds fetch, undici `request` and exa-js when
//!   both are set, finite and at most 120 s (it replaces a default, and is
//!   held to the same ceiling).
//! - Rust: reqwest, reqwest-middleware and async-openai (bounded exactly
//!   when the reqwest client they wrap is), sqlx (queries on Postgres and
//!   MySQL pools: the pool's 30 s acquire timeout bounds getting a
//!   connection, not the query), tokio-postgres, redis-rs.
//!
//! ## Why it matters
//! An LLM orchestrator calls tools at machine speed and retries at once. A
//! call with no ceiling holds its worker, its connection and the model's
//! turn for as long as the upstream stays silent; a few hung upstreams and
//! every tool of the server stops answering. A default of minutes is not a
//! bound either: Node's fetch (undici) waits 300 s for headers, aiohttp 300 s
//! in total.
//!
//! ## Flagged
//! ```python
//! @mcp.tool()
//! async def forecast(city: str) -> str:
//!     r = requests.get(f"{API}/forecast/{city}")
//!     return r.text
//! ```
//! ```ts
//! server.tool("forecast", { city: z.string() }, async ({ city }) => {
//!   const r = await fetch(`${API}/forecast/${city}`);
//!   return { content: [{ type: "text", text: await r.text() }] };
//! });
//! ```
//! ```rust
//! let client = reqwest::Client::new();
//! let body = client.get(url).send().await?.text().await?;
//! ```
//!
//! ## Fixed
//! ```python
//! r = requests.get(f"{API}/forecast/{city}", timeout=10)
//! ```
//! ```ts
//! const r = await fetch(url, { signal: AbortSignal.timeout(10_000) });
//! // or pass the tool call's own signal: the client's request timeout aborts it
//! server.tool("forecast", schema, async ({ city }, extra) => fetch(url, { signal: extra.signal }));
//! ```
//! ```rust
//! let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
//! ```
//! A deadline around the call also bounds it: `asyncio.wait_for(..)`,
//! `async with asyncio.timeout(..)`, `anyio.fail_after(..)`,
//! `tokio::time::timeout(..)`, `Promise.race` against a timer, an
//! `AbortController` aborted by `setTimeout`, or a project helper that
//! applies one of these to what it is given (`withTimeout(() => call(), ms)`).
//! A helper whose every caller runs it under such a deadline is bounded too.
//! For databases, a statement timeout in the DSN or `options`, in
//! `server_settings`, or a `SET statement_timeout` run on the same
//! connection or pool bounds its queries.
//!
//! ## Fix
//! `--fix` (and SARIF `fixes`) gives the call itself a timeout, which each
//! of these libraries reads before its client's, so one edit in the
//! finding's own file bounds exactly the call reported — judged, like the
//! rule, call site by call site. The values sit well inside the 120 s a
//! tool call should wait at most, and are the pack's `fix_timeout`:
//! - requests, urllib, httpx: `timeout=30` (seconds), added as a keyword,
//!   or written over a literal `timeout=None` (`(3.05, None)`,
//!   `httpx.Timeout(None)`, a positional `None` to `urlopen`); aiohttp:
//!   `timeout=aiohttp.ClientTimeout(total=30)`, only where the file imports
//!   `aiohttp` by that name;
//! - fetch, node-fetch, undici `request`: `signal: AbortSignal.timeout(30_000)`;
//!   axios and ky: `timeout: 30_000`; got: `timeout: { request: 30_000 }`.
//!   Added to the options literal (`fetch(url, { method: "POST" })`), as a
//!   new options argument (`fetch(url)`; `axios.post(url)` gets
//!   `undefined` for the data it left out), into `axios({ url })`'s config,
//!   or over a literal `signal: null` / `timeout: 0` / `timeout: false`.
//!   Options in a variable become a copy made at the call,
//!   `{ ...init, signal: AbortSignal.timeout(30_000) }`: a signal stored in
//!   a shared object would expire once and abort every later call;
//! - reqwest: `.timeout(std::time::Duration::from_secs(30))` right after
//!   the request method (`client.get(url).timeout(..).send()`), whatever
//!   built the client (`Client::new()` included); `reqwest::get(url)`,
//!   which builds a default client, becomes `async {
//!   reqwest::Client::builder().timeout(..).build()?.get(url).send().await }`
//!   — the same request, with the builder's error still a value. Paths are
//!   written in full, so no `use` is needed.
//!
//! No fix where an edit is not sure: a spread or `**kwargs` in the call, a
//! timeout given by a name (its value may be read elsewhere), a request
//! sent by `client.execute(req)`, an `AbortController` no timer aborts
//! (which timer is a choice), a call written as arguments of another
//! (`asyncio.to_thread(requests.get, url)`) or inside a macro, and the
//! database drivers and SDKs, whose bounds are settings of their own.
//!
//! ## Limits
//! - Precision first: when the call's options come from somewhere we cannot
//!   see — `**kwargs` or `...spread`, an options object built in another
//!   file, a client passed in as a parameter or built by code we cannot
//!   follow — the call is not reported.
//! - A timeout given by a named constant or a config value counts as a bound,
//!   whatever its value; an explicit `None`/`null` (and `0` where the library
//!   reads it as "no limit") does not.
//! - A signal whose origin we cannot see (`extra.signal`, a parameter) counts
//!   as a bound; a local `AbortController` that no timer aborts does not.
//! - Library names with a `timeout`/`deadline` in them (`pTimeout`,
//!   `withTimeout` from a package) are trusted to apply one.
//! - Calls inside Rust macros other than those the adapter re-parses are not
//!   seen; DB drivers other than those listed are not known.
//! - A SQLAlchemy engine is judged only when its URL shows a network
//!   database (`postgresql://`, `mysql://`, ..): one read from the
//!   environment may be SQLite. Sessions (`Session(engine)`, `sessionmaker`)
//!   are not followed.
//! - Databases, collections and SDK resources are followed through
//!   attributes, subscripts (`client["shop"]["orders"]`) and names bound in
//!   the same file (`db = client.shop`), not through a name imported from
//!   another file.
//! - redis-rs 1.0 gives async connections a default response timeout; the
//!   pack describes 0.x, which has none. Pipelines and transactions
//!   (`pipe.set(..)`, `multi()`) are not followed in any language.
//! - A tokio-postgres client destructured from `connect(..)`'s tuple is not
//!   followed yet.
//! - `setGlobalDispatcher` counts for the whole scan, not only the package
//!   that calls it.
//! - Code handed to a browser page (`page.evaluate(() => fetch(..))`) runs
//!   there, not in the server, and is not judged.
//! - A reqwest `Request` built elsewhere and sent with `client.execute(req)`
//!   is not judged; one built in view is judged where it is sent.
//! - The call is reported at each call site, not at the client's
//!   construction: one client can be bounded by a deadline in one tool and
//!   bare in the next.

use super::edits::{self, after, append, between, insert, replace};
use super::Rule;
use crate::facts::{Call, Expr, FuncId, Module};
use crate::finding::{Axis, Finding, Fix, Severity};
use crate::knowledge::{any_matches, Client, Limit, SettingForm, MAX_BOUNDED_DEFAULT_SECS};
use crate::link::{
    options_index, CallRef, ClientOrigin, Found, FuncRef, InnerClient, Origin, Place, Project,
    SetterCall, Setting, Upstream, Via,
};

pub static RULE: Rule = Rule {
    id: "MCP101",
    name: "unbounded-await",
    axis: Axis::Maintenance,
    severity: Severity::Medium,
    cwe: &["CWE-400", "CWE-1088"],
    precision: "high",
    source: include_str!("unbounded_await.rs"),
    check,
};

/// What we can say about a timeout setting.
#[derive(Debug, PartialEq)]
enum Verdict {
    Bounded,
    Unbounded(String),
    /// We cannot see enough to say: never reported.
    Unknown,
}

fn check(p: &Project, m: u32, out: &mut Vec<Finding>) {
    let module = p.module(m);
    for up in p.upstream_calls(m) {
        let call = module.call(up.call.call);
        let Verdict::Unbounded(why) = judge(p, up) else {
            continue;
        };
        if p.deadline_over(up.call).is_some()
            || p.enclosing_named(m, call.func)
                .is_some_and(|f| p.is_covered(FuncRef { module: m, func: f }))
        {
            continue;
        }
        let what = describe(module, call, up.client, up.is_method());
        let mut f = RULE.finding(
            p,
            m,
            call.func,
            call.span,
            format!("{what} has no timeout: {why}"),
            up.client.fix.clone(),
        );
        f.fix = timeout_fix(p, up);
        out.push(f);
    }
}

/// The timeout on the call, else on its client, else set process-wide,
/// else the library's default.
fn judge<'k>(p: &Project<'k>, up: &Upstream<'k>) -> Verdict {
    let keys = up.client.timeout_keys(p.lk(up.call.module));
    match p.call_setting(up, &keys) {
        Found::Hidden => return Verdict::Unknown,
        Found::Set(s) => return judge_setting(p, &s, up.client),
        Found::Absent => {}
    }
    // On the client, for every place it may have been built.
    let mut client_verdict = None;
    let mut defaults: Vec<&Client> = Vec::new();
    for o in up.origins() {
        let v = match p.client_setting(up.client, o, &keys) {
            Found::Hidden => Verdict::Unknown,
            Found::Set(s) => judge_setting(p, &s, up.client),
            // A wrapper keeps the settings of the client it was given.
            Found::Absent => match inner_verdict(p, o, up.client, 0) {
                Some(InnerVerdict::Judged(v)) => v,
                Some(InnerVerdict::Default(inner)) => {
                    defaults.push(inner);
                    continue;
                }
                None => {
                    defaults.push(up.client);
                    continue;
                }
            },
        };
        match v {
            Verdict::Unknown => return Verdict::Unknown,
            Verdict::Bounded => client_verdict = client_verdict.or(Some(Verdict::Bounded)),
            v => client_verdict = Some(v),
        }
    }
    if let Some(v) = client_verdict {
        return v;
    }
    // Set once for the whole library or process (`axios.defaults.timeout = ..`,
    // `socket.setdefaulttimeout(..)`, `setGlobalDispatcher(..)`).
    let process = p.process_settings(up, &keys);
    if !process.assigned.is_empty() || process.setters.iter().any(|s| setter_bounds(p, s)) {
        return Verdict::Bounded;
    }
    // The library's own default (for a wrapper, the wrapped client's).
    if defaults.is_empty() {
        defaults.push(up.client);
    }
    let mut verdict = Verdict::Bounded;
    for d in defaults {
        if let v @ Verdict::Unbounded(_) = default_verdict(d) {
            verdict = v;
        }
    }
    verdict
}

/// A timeout found on the call or its client. Any value that bounds is
/// enough (`timeout: false, totalTimeout: ms`); one given without a value
/// to read (`.maxTimeMS()`, DSN text) bounds; an assignment after the
/// client is built counts whatever it holds.
fn judge_setting(p: &Project, s: &Setting, client: &Client) -> Verdict {
    if s.place == Place::Assigned {
        return Verdict::Bounded;
    }
    let mut first_unbounded = None;
    for v in &s.values {
        match eval_value(p, v.module, v.func, &v.expr, client) {
            Verdict::Unbounded(w) => {
                first_unbounded.get_or_insert(Verdict::Unbounded(w));
            }
            other => return other,
        }
    }
    first_unbounded.unwrap_or(Verdict::Bounded)
}

fn default_verdict(client: &Client) -> Verdict {
    match client.default {
        d if d.bounds() => Verdict::Bounded,
        Limit::Secs(secs) => Verdict::Unbounded(format!(
            "{}'s default of {} s is longer than a tool call should wait (at most {} s)",
            client.name, secs, MAX_BOUNDED_DEFAULT_SECS
        )),
        Limit::Unlimited => Verdict::Unbounded(format!("{} waits forever by default", client.name)),
    }
}

/// What a wrapper's inner client decides.
enum InnerVerdict<'k> {
    /// Its settings (or what hides them) decide.
    Judged(Verdict),
    /// Nothing is set on it: its library default applies.
    Default(&'k Client),
}

/// The client a wrapper was built around (`ClientBuilder::new(client)`,
/// `.with_http_client(client)`, `Redis(connection_pool=pool)`), judged like
/// the wrapper's own settings. `None` when the wrapper was given none.
fn inner_verdict<'k>(
    p: &Project<'k>,
    o: &ClientOrigin,
    client: &Client,
    depth: u8,
) -> Option<InnerVerdict<'k>> {
    if depth > 4 {
        return None;
    }
    let (inner, inner_origins) = match p.inner_client(o, client)? {
        InnerClient::Hidden => return Some(InnerVerdict::Judged(Verdict::Unknown)),
        InnerClient::Client(inner, origins) => (inner, origins),
    };
    let keys = inner.timeout_keys(p.lk(o.ctor.module));
    let mut verdict = None;
    for io in &inner_origins {
        let v = match p.client_setting(inner, io, &keys) {
            Found::Absent => {
                inner_verdict(p, io, inner, depth + 1).unwrap_or(InnerVerdict::Default(inner))
            }
            Found::Hidden => InnerVerdict::Judged(Verdict::Unknown),
            Found::Set(s) => InnerVerdict::Judged(judge_setting(p, &s, inner)),
        };
        match v {
            InnerVerdict::Judged(Verdict::Unknown) => {
                return Some(InnerVerdict::Judged(Verdict::Unknown))
            }
            InnerVerdict::Judged(Verdict::Bounded) => {
                verdict = verdict.or(Some(InnerVerdict::Judged(Verdict::Bounded)))
            }
            other => verdict = Some(other),
        }
    }
    verdict
}

/// Does a process-wide setter's value (`new Agent({ headersTimeout,
/// bodyTimeout })`) set every required key to a finite value within the
/// ceiling? What we cannot read counts as set; a dispatcher of another kind,
/// or one whose options we can read and that leaves a key out, does not bound.
fn setter_bounds(p: &Project, s: &SetterCall) -> bool {
    let Some(r) = &s.setter.requires else {
        return true;
    };
    let scale = r.unit.per_second();
    for given in &s.given {
        let set = match given {
            Found::Hidden => return true,
            Found::Absent => return false,
            Found::Set(set) => set,
        };
        for v in &set.values {
            for vo in p.trace(v.module, v.func, &v.expr, u32::MAX) {
                match vo {
                    Origin::Lit(_, _, Expr::Null) => return false,
                    Origin::Lit(_, _, Expr::Num(n)) => {
                        if r.unbounded_values.iter().any(|u| num_eq(u, &n)) {
                            return false;
                        }
                        let secs = n.replace('_', "").parse::<f64>().map(|x| x / scale);
                        if secs.is_ok_and(|x| x > MAX_BOUNDED_DEFAULT_SECS) {
                            return false;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    true
}

/// Evaluates a timeout value: `None`, `0` where that means "no limit",
/// `httpx.Timeout(None)` and a never-aborted `AbortController` do not
/// bound; anything else we cannot see counts as a bound.
fn eval_value(p: &Project, m: u32, func: Option<FuncId>, v: &Expr, client: &Client) -> Verdict {
    let module = p.module(m);
    let lk = p.lk(m);
    // `controller.signal`: bounded only if a timer aborts that controller.
    if let Expr::Attr(obj, field) = v {
        if field == "signal" {
            let origins = p.trace(m, func, obj, u32::MAX);
            let controllers: Vec<CallRef> = origins
                .iter()
                .filter_map(|o| match o {
                    Origin::Call(c)
                        if p.module(c.module).call(c.call).is_new
                            && p.module(c.module).call(c.call).path.as_deref()
                                == Some("AbortController") =>
                    {
                        Some(*c)
                    }
                    _ => None,
                })
                .collect();
            if controllers.len() == origins.len() && !controllers.is_empty() {
                // The timer must be where the controller is built (or in
                // code nested there): another handler's `ac` is another
                // controller.
                let home = p
                    .module(controllers[0].module)
                    .call(controllers[0].call)
                    .func;
                return if obj
                    .root_name()
                    .is_some_and(|name| aborted_by_timer(p, m, name, home))
                {
                    Verdict::Bounded
                } else {
                    Verdict::Unbounded(
                        "its AbortController's signal is never aborted by a timer".into(),
                    )
                };
            }
            return Verdict::Bounded;
        }
    }
    let mut verdict = Verdict::Bounded;
    for o in p.trace(m, func, v, u32::MAX) {
        let why = match o {
            Origin::Lit(_, _, Expr::Null) => Some(format!(
                "`{}` is set to {}, which turns the limit off",
                setting_name(v, client),
                module.lang().null_word()
            )),
            Origin::Lit(_, _, Expr::Num(n))
                if client.unbounded_values.iter().any(|u| num_eq(u, &n)) =>
            {
                Some(format!(
                    "a timeout of {n} means no limit in {}",
                    client.name
                ))
            }
            Origin::Lit(_, _, Expr::Bool(false))
                if client.unbounded_values.iter().any(|u| u == "false") =>
            {
                Some(format!(
                    "`timeout: false` turns {}'s limit off",
                    client.name
                ))
            }
            Origin::Lit(_, _, Expr::Object(o))
                if !client.timeout_subkeys.is_empty()
                    && !o.spread
                    && !o
                        .entries
                        .iter()
                        .any(|(k, _)| client.timeout_subkeys.contains(k)) =>
            {
                Some(format!(
                    "its timeout object sets no {} limit",
                    client.timeout_subkeys.join(", ")
                ))
            }
            Origin::Lit(_, _, Expr::Array(items)) if matches!(items.last(), Some(Expr::Null)) => {
                Some("the read timeout in the tuple is None, so reads wait forever".into())
            }
            Origin::Call(c) => {
                let cc = p.module(c.module).call(c.call);
                let path = cc.path.as_deref().unwrap_or("");
                lk.timeout_types
                    .iter()
                    .find(|t| any_matches(&t.callee, path))
                    .and_then(|t| {
                        let given: Vec<&Expr> = t
                            .positional
                            .iter()
                            .filter_map(|i| cc.positional(*i))
                            .chain(t.bounding.iter().filter_map(|k| cc.kwarg(k)))
                            .collect();
                        let bounded = given.iter().any(|a| !matches!(a, Expr::Null))
                            || cc.has_spread_arg()
                            // Nothing given: the type's own default, if it has one.
                            || given.is_empty()
                                && t.default.is_some_and(Limit::bounds);
                        (!bounded).then(|| {
                            format!("`{path}(..)` sets no {} limit", t.bounding.join(" or "))
                        })
                    })
            }
            _ => None,
        };
        if let Some(w) = why {
            verdict = Verdict::Unbounded(w);
        }
    }
    verdict
}

fn num_eq(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.replace('_', "").parse::<f64>().ok();
    matches!((norm(a), norm(b)), (Some(x), Some(y)) if x == y)
}

/// The name a `None` timeout is reported by: the variable that holds it,
/// or the client's first timeout key.
fn setting_name(v: &Expr, client: &Client) -> String {
    match v {
        Expr::Name(n) => n.clone(),
        _ => client
            .timeout
            .first()
            .cloned()
            .unwrap_or_else(|| "timeout".into()),
    }
}

/// Is the controller bound to `name` aborted by a timer callback
/// (`setTimeout(() => controller.abort(), ms)`, `setTimeout(controller.abort.bind(controller), ms)`)?
fn aborted_by_timer(p: &Project, m: u32, name: &str, home: Option<FuncId>) -> bool {
    let module = p.module(m);
    let lk = p.lk(m);
    module.calls.iter().any(|t| {
        let in_home = match home {
            Some(h) => module.func_chain(t.func).any(|x| x == h),
            None => true,
        };
        if !in_home
            || !t
                .path
                .as_deref()
                .is_some_and(|p| any_matches(&lk.timers, p))
        {
            return false;
        }
        t.args.iter().any(|a| {
            let mut hit = false;
            a.value.walk(&mut |e| match e {
                Expr::Name(n) if n == name => hit = true,
                Expr::Func(f) => {
                    hit |= module.calls.iter().any(|c| {
                        c.method.as_deref() == Some("abort")
                            && c.receiver.as_ref().and_then(|r| r.root_name()) == Some(name)
                            && module.func_chain(c.func).any(|x| x == *f)
                    })
                }
                Expr::Call(id) => {
                    let c = module.call(*id);
                    hit |= c.receiver.as_ref().and_then(|r| r.root_name()) == Some(name);
                }
                _ => {}
            });
            hit
        })
    })
}

/// `requests.get`, `client.get` (httpx.AsyncClient), `fetch`.
fn describe(module: &Module, call: &Call, client: &Client, method: bool) -> String {
    // A callee through calls is written with them (`client.chat().create`,
    // `sqlx::query(..).fetch_one`); a long one is named by its method.
    let callee = match callee_text(module, &call.callee, 4).or_else(|| call.method.clone()) {
        Some(c) if c.len() <= 60 => format!("`{c}`"),
        Some(c) if c.len() > 60 && call.method.is_some() => {
            format!("`{}`", call.method.as_deref().unwrap_or_default())
        }
        _ => format!("this {} call", client.name),
    };
    if !method {
        callee
    } else {
        format!("{callee} ({})", client.name)
    }
}

/// `a.b`, `a.b().c`, `sqlx::query(..).fetch_one`: a callee as written, up to
/// `depth` calls deep.
fn callee_text(module: &Module, e: &Expr, depth: u8) -> Option<String> {
    match e {
        Expr::Name(n) => Some(n.clone()),
        Expr::Attr(obj, field) => Some(format!("{}.{field}", callee_text(module, obj, depth)?)),
        Expr::Call(id) if depth > 0 => {
            let c = module.call(*id);
            let args = if c.args.is_empty() { "()" } else { "(..)" };
            Some(format!(
                "{}{args}",
                callee_text(module, &c.callee, depth - 1)?
            ))
        }
        _ => None,
    }
}

/// The mechanical fix for an unbounded call, where one is safe (see the
/// "Fix" section above): the timeout is given on the call itself, which
/// every library listed there reads before its client's.
fn timeout_fix(p: &Project, up: &Upstream) -> Option<Fix> {
    let m = up.call.module;
    let module = p.module(m);
    let call = module.call(up.call.call);
    // Made by link (a function handed to `to_thread`), inside a macro, or
    // with options we cannot see: nowhere sure to write.
    if call.via.is_some() || call.is_macro || call.has_spread_arg() {
        return None;
    }
    let client = up.client;
    let key = client.timeout.first()?;
    // A value that names a module (`aiohttp.ClientTimeout(..)`) needs it
    // imported under that name.
    if let Some(name) = &client.fix_import {
        if module.import(name).is_none_or(|i| i.path != *name) {
            return None;
        }
    }
    let found = p.call_setting(up, &client.timeout_keys(p.lk(m)));
    let literal = |e: &Expr| {
        edits::literal(e, &|id| {
            Some(
                module
                    .call(id)
                    .args
                    .iter()
                    .map(|a| a.value.clone())
                    .collect(),
            )
        })
    };
    match client.form() {
        SettingForm::Keyword => {
            let value = client.fix_timeout.as_deref()?;
            match found {
                Found::Absent => edits::fix(
                    format!("pass `{key}={value}`"),
                    vec![append(
                        call.arg_list.as_ref()?,
                        &format!("{key}={value}"),
                        false,
                    )],
                ),
                // `timeout=None`: overwrite the literal (a name may be read
                // elsewhere: left alone).
                Found::Set(s) if s.place == Place::Call && s.values.len() == 1 => {
                    let given = &s.values[0].key;
                    let (i, keyword) = match call
                        .args
                        .iter()
                        .position(|a| a.name.as_deref() == Some(given.as_str()))
                    {
                        Some(i) => (i, true),
                        None => (call.positional_index(given.parse().ok()?)?, false),
                    };
                    if !literal(&call.args[i].value) {
                        return None;
                    }
                    let text = if keyword {
                        format!("{given}={value}")
                    } else {
                        value.to_string()
                    };
                    edits::fix(
                        format!("give `{given}` a finite value: `{value}`"),
                        vec![replace(call.arg_span_at(i)?, text)],
                    )
                }
                _ => None,
            }
        }
        SettingForm::Options => {
            let value = client.fix_timeout.as_deref()?;
            let item = format!("{key}: {value}");
            let idx = options_index(client, call)?;
            let says = format!("pass `{item}` in the options");
            let Some(arg) = call.positional(idx) else {
                // `axios({ url })`: the options are the first argument.
                if let (true, Some(Expr::Object(o)), Found::Absent) =
                    (idx > 0, call.positional(0), &found)
                {
                    return (!o.spread)
                        .then(|| {
                            edits::fix(says.clone(), vec![append(o.list.as_deref()?, &item, true)])
                        })
                        .flatten();
                }
                // `fetch(url)`, `axios.post(url)`: add the options argument,
                // after `undefined` for optional ones left out.
                let given = call.args.len();
                if given > idx || !matches!(found, Found::Absent) {
                    return None;
                }
                let text = "undefined, ".repeat(idx - given) + &format!("{{ {item} }}");
                return edits::fix(says, vec![append(call.arg_list.as_ref()?, &text, false)]);
            };
            let at = call.arg_span_at(call.positional_index(idx)?)?;
            match (arg, &found) {
                (Expr::Object(o), _) if o.spread => None,
                (Expr::Object(o), Found::Absent) => {
                    edits::fix(says, vec![append(o.list.as_deref()?, &item, true)])
                }
                // `{ timeout: 0 }` written here: that entry becomes the bound.
                (Expr::Object(o), Found::Set(s))
                    if s.place == Place::Options && s.values.len() == 1 =>
                {
                    let given = &s.values[0].key;
                    if !o.get(given).is_some_and(literal) {
                        return None;
                    }
                    edits::fix(
                        format!("give the call `{item}` instead of its `{given}`"),
                        vec![replace(o.span_of(given)?, item.clone())],
                    )
                }
                (Expr::Object(_), _) => None,
                (Expr::Null, _) => edits::fix(says, vec![replace(at, format!("{{ {item} }}"))]),
                // Options from a variable: a copy with the bound, made at
                // the call (a signal made once would expire once). Not over
                // a value that is not a literal (`signal: controller.signal`
                // may be aborted by something else than a timer).
                (Expr::Name(_) | Expr::Attr(..), found) => {
                    if let Found::Set(s) = found {
                        if !s.values.iter().all(|v| v.module == m && literal(&v.expr)) {
                            return None;
                        }
                    }
                    let name = arg.dotted()?;
                    edits::fix(
                        format!("pass a copy of `{name}` with `{item}`"),
                        vec![replace(at, format!("{{ ...{name}, {item} }}"))],
                    )
                }
                _ => None,
            }
        }
        SettingForm::Builder => {
            if !matches!(found, Found::Absent) {
                return None;
            }
            match &up.via {
                // `reqwest::get(url)` builds its own client: build one with
                // the bound instead.
                Via::Function => {
                    let [head, tail] = client.fix_function.as_slice() else {
                        return None;
                    };
                    let list = call.arg_list.as_ref()?;
                    edits::fix(
                        "build the client with a timeout".to_string(),
                        vec![
                            replace(between(call.span, list.span), head.clone()),
                            insert(after(call.span), tail.clone()),
                        ],
                    )
                }
                Via::Method(_) => {
                    let value = client.fix_timeout.as_deref()?;
                    let method = call.method.as_deref()?;
                    // `client.execute(req)`: the request was built elsewhere.
                    if client.sent_by.iter().any(|s| s == method) {
                        return None;
                    }
                    edits::fix(
                        format!("set `.{key}({value})` on the request"),
                        vec![insert(after(call.span), format!(".{key}({value})"))],
                    )
                }
            }
        }
    }
}
