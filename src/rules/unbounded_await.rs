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
//!   are not followed, nor databases and collections reached by subscript
//!   (`client["shop"]["orders"]`) or bound to a name (`db = client.shop`).
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

use super::Rule;
use crate::facts::{Call, CallId, Expr, FuncId, Lang, Module};
use crate::finding::{Axis, Finding, Severity};
use crate::knowledge::{any_matches, last_segment, Client, Limit, MAX_BOUNDED_DEFAULT_SECS};
use crate::link::{chained_after, CallRef, ClientOrigin, FuncRef, Origin, Project};

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

/// How a call reaches its upstream.
enum Via<'a> {
    /// A library function (`requests.get`, `fetch`).
    Function(&'a Client),
    /// A method of client objects built by these constructors.
    Method(&'a Client, Vec<ClientOrigin>),
}

fn check(p: &Project, m: u32, out: &mut Vec<Finding>) {
    let module = p.module(m);
    for (id, call) in module.calls.iter().enumerate() {
        let id = id as CallId;
        let cref = CallRef {
            module: m,
            call: id,
        };
        let Some(via) = upstream(p, cref) else {
            continue;
        };
        if runs_elsewhere(p, m, call.func) {
            continue;
        }
        let client = match &via {
            Via::Function(c) | Via::Method(c, _) => *c,
        };
        let Verdict::Unbounded(why) = judge(p, cref, &via) else {
            continue;
        };
        if p.deadline_over(cref).is_some()
            || p.enclosing_named(m, call.func)
                .is_some_and(|f| p.is_covered(FuncRef { module: m, func: f }))
        {
            continue;
        }
        let what = describe(module, call, client, matches!(via, Via::Method(..)));
        out.push(RULE.finding(
            p,
            m,
            call.func,
            call.span,
            format!("{what} has no timeout: {why}"),
            client.fix.clone(),
        ));
    }
}

/// The library call this is, if it reaches an upstream.
fn upstream<'k>(p: &Project<'k>, c: CallRef) -> Option<Via<'k>> {
    let lk = p.lk(c.module);
    let module = p.module(c.module);
    let call = module.call(c.call);
    if let Some(path) = &call.path {
        if let Some(cl) = lk
            .clients
            .iter()
            .find(|cl| any_matches(&cl.functions, path))
        {
            return Some(Via::Function(cl));
        }
        // Otherwise it may still be a method of a client imported from
        // another project module (`from .clients import session`).
    }
    let method = call.method.as_deref()?;
    if !lk.clients.iter().any(|cl| cl.has_method(method)) {
        return None;
    }
    if let Some(via) = executed_statement(p, c, method) {
        return via;
    }
    let origins = p.client_origins(c)?;
    let client = client_of(p, module.lang(), &origins, |cl, o| {
        cl.has_method(method) && (!o.via_attr || cl.resource_attributes)
    })?;
    if !client.deferred.is_empty() && method != "execute" {
        let deferred = chained_after(module, c.call).iter().any(|s| {
            module
                .call(*s)
                .method
                .as_deref()
                .is_some_and(|m| client.deferred.iter().any(|d| d == m))
        });
        if deferred {
            return None;
        }
    }
    // A request builder that is never sent reaches nothing.
    if !client.sent_by.is_empty() && !client.sent_by.iter().any(|s| s == method) {
        let sent = chained_after(module, c.call).iter().any(|s| {
            module
                .call(*s)
                .method
                .as_deref()
                .is_some_and(|m| client.sent_by.iter().any(|d| d == m))
        });
        if !sent {
            return None;
        }
    }
    Some(Via::Method(client, origins))
}

/// The one client entry every origin was built by, if `fits` it and, outside
/// Rust's builders, only methods that hand on its settings stand between
/// the constructor and the use.
fn client_of<'k>(
    p: &Project<'k>,
    lang: Lang,
    origins: &[ClientOrigin],
    fits: impl Fn(&Client, &ClientOrigin) -> bool,
) -> Option<&'k Client> {
    let mut found: Option<&'k Client> = None;
    for o in origins {
        let ctor = p.module(o.ctor.module).call(o.ctor.call);
        let ctor_path = ctor.path.as_deref()?;
        let cl = p
            .lk(o.ctor.module)
            .clients
            .iter()
            .find(|cl| any_matches(&cl.constructors, ctor_path))?;
        if !fits(cl, o) || !mentions_upstream(p, o.ctor, cl) {
            return None;
        }
        if lang != Lang::Rust {
            let derived_only = o.chain.iter().all(|s| {
                p.module(s.module)
                    .call(s.call)
                    .method
                    .as_deref()
                    .is_some_and(|m| cl.derive.iter().any(|d| d == m))
            });
            if !derived_only {
                return None;
            }
        }
        match found {
            Some(prev) if prev.name != cl.name => return None,
            _ => found = Some(cl),
        }
    }
    found
}

/// A client that is an upstream only for some targets (a SQLAlchemy
/// engine on a network database, not on SQLite): does its constructor say
/// so? Its arguments are followed to the strings they hold, and into one
/// call (`os.getenv("DATABASE_URL", "postgresql://..")`).
fn mentions_upstream(p: &Project, ctor: CallRef, client: &Client) -> bool {
    if client.upstream_text.is_empty() {
        return true;
    }
    let module = p.module(ctor.module);
    let call = module.call(ctor.call);
    let mut hit = false;
    let mut look = |e: &Expr| {
        e.walk(&mut |x| {
            let text = match x {
                Expr::Str(s) => s.as_str(),
                Expr::Template(parts) => match parts.first() {
                    Some(crate::facts::TemplatePart::Lit(s)) => s.as_str(),
                    _ => "",
                },
                _ => "",
            };
            hit |= client
                .upstream_text
                .iter()
                .any(|t| text.contains(t.as_str()));
        })
    };
    for a in &call.args {
        look(&a.value);
        for o in p.trace(ctor.module, call.func, &a.value, call.span.start_byte) {
            match o {
                Origin::Lit(_, _, e) => look(&e),
                Origin::Call(c) => {
                    for ca in &p.module(c.module).call(c.call).args {
                        look(&ca.value);
                    }
                }
                Origin::Unknown => {}
            }
        }
    }
    hit
}

/// `sqlx::query(sql).fetch_all(&pool)`: a statement built by a library
/// function, run on the client handed to `method`. `Some(None)` when the
/// call is such a statement but its client cannot be followed.
fn executed_statement<'k>(p: &Project<'k>, c: CallRef, method: &str) -> Option<Option<Via<'k>>> {
    let lk = p.lk(c.module);
    let module = p.module(c.module);
    let call = module.call(c.call);
    let recv = call.receiver.as_ref()?;
    let client = lk.clients.iter().find(|cl| {
        !cl.statements.is_empty()
            && cl.has_method(method)
            && statement_root(p, c.module, call.func, recv, call.span.start_byte)
                .is_some_and(|path| any_matches(&cl.statements, &path))
    })?;
    let Some(exec) = call.positional(client.executor_arg) else {
        return Some(None);
    };
    let origins = value_origins(p, c.module, call.func, exec, call.span.start_byte);
    let via = origins.and_then(|os| {
        let cl = client_of(p, module.lang(), &os, |cl, _| cl.name == client.name)?;
        Some(Via::Method(cl, os))
    });
    Some(via)
}

/// The library path of the call a builder chain starts from
/// (`sqlx::query` for `sqlx::query(sql).bind(x)`), through names bound to it.
fn statement_root(p: &Project, m: u32, func: Option<FuncId>, e: &Expr, pos: u32) -> Option<String> {
    let origins = p.trace(m, func, e, pos);
    let [Origin::Call(first)] = origins.as_slice() else {
        return None;
    };
    let mut cur = *first;
    for _ in 0..64 {
        let c = p.module(cur.module).call(cur.call);
        if let Some(path) = &c.path {
            return Some(path.clone());
        }
        match &c.receiver {
            Some(Expr::Call(id)) => {
                cur = CallRef {
                    module: cur.module,
                    call: *id,
                }
            }
            _ => return None,
        }
    }
    None
}

/// Traces a value (an argument, not a receiver) back to the constructors of
/// known clients, through builder and derive methods: what link does for a
/// call's receiver. `None` when any path leads somewhere we cannot see.
fn value_origins(
    p: &Project,
    m: u32,
    func: Option<FuncId>,
    e: &Expr,
    pos: u32,
) -> Option<Vec<ClientOrigin>> {
    let lk = p.lk(m);
    let mut out = Vec::new();
    // (module, function, value, position, builder steps walked so far)
    type Step = (u32, Option<FuncId>, Expr, u32, Vec<CallRef>);
    let mut todo: Vec<Step> = vec![(m, func, e.clone(), pos, Vec::new())];
    let mut budget = 64;
    while let Some((m, func, e, pos, chain)) = todo.pop() {
        budget -= 1;
        if budget == 0 {
            return None;
        }
        for o in p.trace(m, func, &e, pos) {
            match o {
                Origin::Call(cr) => {
                    let c = p.module(cr.module).call(cr.call);
                    let is_ctor = c.path.as_deref().is_some_and(|path| {
                        lk.clients
                            .iter()
                            .any(|cl| any_matches(&cl.constructors, path))
                    });
                    if is_ctor {
                        out.push(ClientOrigin {
                            ctor: cr,
                            chain: chain.clone(),
                            via_attr: false,
                        });
                        continue;
                    }
                    let (Some(meth), Some(recv)) = (c.method.as_deref(), c.receiver.as_ref())
                    else {
                        return None;
                    };
                    if lk
                        .clients
                        .iter()
                        .any(|cl| cl.methods.iter().any(|x| x == meth))
                    {
                        return None;
                    }
                    let mut next = chain.clone();
                    next.push(cr);
                    todo.push((cr.module, c.func, recv.clone(), c.span.start_byte, next));
                }
                Origin::Lit(_, _, Expr::Null) => {}
                _ => return None,
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Is code in `func` handed to a method that runs it elsewhere (a browser
/// page's `evaluate`)?
fn runs_elsewhere(p: &Project, m: u32, func: Option<FuncId>) -> bool {
    let module = p.module(m);
    let lk = p.lk(m);
    if lk.remote_code_methods.is_empty() {
        return false;
    }
    module.func_chain(func).any(|f| {
        module.func(f).ctx.iter().any(|c| match c {
            crate::facts::Ctx::Arg { call, .. } => module
                .call(*call)
                .method
                .as_deref()
                .is_some_and(|mm| lk.remote_code_methods.iter().any(|r| r == mm)),
            _ => false,
        })
    })
}

fn judge(p: &Project, c: CallRef, via: &Via) -> Verdict {
    let module = p.module(c.module);
    let call = module.call(c.call);
    if call.has_spread_arg() {
        return Verdict::Unknown;
    }
    let (client, origins) = match via {
        Via::Function(cl) => (*cl, &[][..]),
        Via::Method(cl, o) => (*cl, o.as_slice()),
    };
    // On the call itself.
    match call_setting(p, c, client) {
        Verdict::Unknown => return Verdict::Unknown,
        Verdict::Bounded => return Verdict::Bounded,
        Verdict::Unbounded(why) if !why.is_empty() => return Verdict::Unbounded(why),
        Verdict::Unbounded(_) => {}
    }
    // On the client, for every place it may have been built.
    let mut client_verdict = None;
    let mut defaults: Vec<&Client> = Vec::new();
    for o in origins {
        let v = match client_setting(p, o, client) {
            // A wrapper keeps the settings of the client it was given.
            Verdict::Unbounded(why) if why.is_empty() => match inner_client(p, o, client, 0) {
                Some(InnerVerdict::Judged(v)) => v,
                Some(InnerVerdict::Default(inner)) => {
                    defaults.push(inner);
                    continue;
                }
                None => Verdict::Unbounded(why),
            },
            v => v,
        };
        match v {
            Verdict::Unknown => return Verdict::Unknown,
            Verdict::Bounded => client_verdict = client_verdict.or(Some(Verdict::Bounded)),
            Verdict::Unbounded(why) if !why.is_empty() => {
                client_verdict = Some(Verdict::Unbounded(why))
            }
            Verdict::Unbounded(_) => defaults.push(client),
        }
    }
    if let Some(v) = client_verdict {
        return v;
    }
    // Set once for the whole library or process (`axios.defaults.timeout = ..`,
    // `socket.setdefaulttimeout(..)`, `setGlobalDispatcher(..)`).
    if library_default_set(p, c.module, call, client, matches!(via, Via::Function(_))) {
        return Verdict::Bounded;
    }
    // The library's own default (for a wrapper, the wrapped client's).
    if defaults.is_empty() {
        defaults.push(client);
    }
    let mut verdict = Verdict::Bounded;
    for d in defaults {
        if let v @ Verdict::Unbounded(_) = default_verdict(d) {
            verdict = v;
        }
    }
    verdict
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
fn inner_client<'k>(
    p: &Project<'k>,
    o: &ClientOrigin,
    client: &Client,
    depth: u8,
) -> Option<InnerVerdict<'k>> {
    if client.inner.is_empty() || depth > 4 {
        return None;
    }
    let cm = p.module(o.ctor.module);
    let ctor = cm.call(o.ctor.call);
    let ctor_path = ctor.path.as_deref().unwrap_or("");
    let mut given: Option<(CallRef, &Expr)> = None;
    for place in &client.inner {
        if let Some(meth) = &place.method {
            for s in &o.chain {
                let sc = p.module(s.module).call(s.call);
                if sc.method.as_deref() == Some(meth.as_str()) {
                    if let Some(v) = sc.positional(place.arg.unwrap_or(0)) {
                        given = Some((*s, v));
                    }
                }
            }
        } else if place.constructors.is_empty() || any_matches(&place.constructors, ctor_path) {
            let v = place
                .kwarg
                .as_deref()
                .and_then(|k| ctor.kwarg(k))
                .or_else(|| place.arg.and_then(|i| ctor.positional(i)));
            if let Some(v) = v {
                given = given.or(Some((o.ctor, v)));
            }
        }
    }
    let (at, value) = given?;
    let at_call = p.module(at.module).call(at.call);
    let Some(inner_origins) =
        value_origins(p, at.module, at_call.func, value, at_call.span.start_byte)
    else {
        return Some(InnerVerdict::Judged(Verdict::Unknown));
    };
    let lang = cm.lang();
    let Some(inner) = client_of(p, lang, &inner_origins, |_, _| true) else {
        return Some(InnerVerdict::Judged(Verdict::Unknown));
    };
    let mut verdict = None;
    for io in &inner_origins {
        let v = match client_setting(p, io, inner) {
            Verdict::Unbounded(why) if why.is_empty() => {
                match inner_client(p, io, inner, depth + 1) {
                    Some(r) => r,
                    None => InnerVerdict::Default(inner),
                }
            }
            v => InnerVerdict::Judged(v),
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

/// The timeout set on the call itself. `Unbounded("")` means "not set here".
fn call_setting(p: &Project, c: CallRef, client: &Client) -> Verdict {
    let module = p.module(c.module);
    let call = module.call(c.call);
    // `collection.find(q).maxTimeMS(5000)`
    if !client.chain_timeout.is_empty() {
        for s in chained_after(module, c.call) {
            let sc = module.call(s);
            if sc
                .method
                .as_deref()
                .is_some_and(|m| client.chain_timeout.iter().any(|t| t == m))
            {
                return match sc.positional(0) {
                    Some(v) => eval_value(p, c.module, sc.func, v, client),
                    None => Verdict::Bounded,
                };
            }
        }
    }
    match module.lang() {
        Lang::Python => {
            let v = client
                .timeout
                .iter()
                .find_map(|k| call.kwarg(k))
                .or_else(|| client.timeout_positional.and_then(|i| call.positional(i)));
            match v {
                Some(v) => eval_value(p, c.module, call.func, v, client),
                None => Verdict::Unbounded(String::new()),
            }
        }
        Lang::TypeScript | Lang::JavaScript => {
            let method = call
                .method
                .clone()
                .or_else(|| call.path.as_deref().map(|p| last_segment(p).to_string()));
            let idx = method
                .as_deref()
                .and_then(|m| client.options_arg_by_method.get(m).copied())
                .or(client.options_arg);
            let mut candidates: Vec<(&Expr, bool)> = Vec::new();
            if let Some(i) = idx {
                if let Some(a) = call.positional(i) {
                    candidates.push((a, true));
                }
            }
            if idx != Some(0) {
                if let Some(a) = call.positional(0) {
                    candidates.push((a, false));
                    // `fetch(new Request(url, init))`: the request carries the init.
                    for o in p.trace(c.module, call.func, a, call.span.start_byte) {
                        if let Origin::Call(r) = o {
                            let rc = p.module(r.module).call(r.call);
                            if rc.is_new && rc.path.as_deref() == Some("Request") {
                                if let Some(init) = rc.positional(1) {
                                    candidates.push((init, true));
                                }
                            }
                        }
                    }
                }
            }
            options_setting(
                p,
                c.module,
                call.func,
                call.span.start_byte,
                &candidates,
                &client.timeout,
                client,
            )
        }
        Lang::Rust => {
            // `client.execute(req)`: the request carries its own timeout, set
            // where it was built; one we cannot follow is not judged.
            if !client.deferred.is_empty() && call.method.as_deref() == Some("execute") {
                let Some(req) = call.positional(0) else {
                    return Verdict::Unknown;
                };
                let mut seen_build = false;
                for o in p.trace(c.module, call.func, req, call.span.start_byte) {
                    let Origin::Call(r) = o else {
                        return Verdict::Unknown;
                    };
                    let mut cur = Some(r);
                    while let Some(cr) = cur {
                        let rc = p.module(cr.module).call(cr.call);
                        let m = rc.method.as_deref().unwrap_or("");
                        seen_build |= client.deferred.iter().any(|d| d == m);
                        if client.timeout.iter().any(|t| t == m) {
                            return Verdict::Bounded;
                        }
                        cur = match &rc.receiver {
                            Some(Expr::Call(id)) => Some(CallRef {
                                module: cr.module,
                                call: *id,
                            }),
                            _ => None,
                        };
                    }
                }
                return if seen_build {
                    Verdict::Unbounded(String::new())
                } else {
                    Verdict::Unknown
                };
            }
            for s in chained_after(module, c.call) {
                let sc = module.call(s);
                if sc
                    .method
                    .as_deref()
                    .is_some_and(|m| client.timeout.iter().any(|t| t == m))
                {
                    return match sc.positional(0) {
                        Some(v) => eval_value(p, c.module, sc.func, v, client),
                        None => Verdict::Bounded,
                    };
                }
            }
            Verdict::Unbounded(String::new())
        }
    }
}

/// Looks for `keys` in the options objects among `candidates`. A candidate
/// marked `true` is the declared options argument and must be seen through;
/// others only count when they turn out to be object literals.
#[allow(clippy::too_many_arguments)]
fn options_setting(
    p: &Project,
    m: u32,
    func: Option<FuncId>,
    pos: u32,
    candidates: &[(&Expr, bool)],
    keys: &[String],
    client: &Client,
) -> Verdict {
    for &(cand, declared) in candidates {
        for o in p.trace(m, func, cand, pos) {
            match o {
                Origin::Lit(om, of, Expr::Object(obj)) => {
                    // Any key that bounds is enough (`timeout: false, totalTimeout: ms`).
                    let mut first_unbounded = None;
                    for (_, v) in obj.entries.iter().filter(|(k, _)| keys.contains(k)) {
                        match eval_value(p, om, of, v, client) {
                            Verdict::Unbounded(w) => {
                                first_unbounded.get_or_insert(Verdict::Unbounded(w));
                            }
                            other => return other,
                        }
                    }
                    if let Some(v) = first_unbounded {
                        return v;
                    }
                    if obj.spread {
                        return Verdict::Unknown;
                    }
                }
                Origin::Lit(..) => {}
                Origin::Call(_) | Origin::Unknown if declared => return Verdict::Unknown,
                _ => {}
            }
        }
    }
    Verdict::Unbounded(String::new())
}

/// The timeout set where the client was built.
fn client_setting(p: &Project, o: &ClientOrigin, client: &Client) -> Verdict {
    let cm = p.module(o.ctor.module);
    let ctor = cm.call(o.ctor.call);
    if ctor.has_spread_arg() {
        return Verdict::Unknown;
    }
    // Settings text in a DSN or options string (`statement_timeout`), a
    // settings key (`server_settings={"statement_timeout": ..}`), or a
    // `SET statement_timeout` run on the same connection or pool.
    if !client.client_timeout_text.is_empty() {
        let texts = &client.client_timeout_text;
        let mut hit = mentions_text(p, o.ctor.module, &ctor.args, texts)
            || o.chain
                .iter()
                .any(|s| mentions_text(p, s.module, &p.module(s.module).call(s.call).args, texts));
        if !hit {
            let m = o.ctor.module;
            hit = cm.calls.iter().enumerate().any(|(i, c)| {
                let cref = CallRef {
                    module: m,
                    call: i as CallId,
                };
                if !c.method.as_deref().is_some_and(|mm| client.has_method(mm)) {
                    return false;
                }
                if mentions_text(p, m, &c.args, texts)
                    && p.client_origins(cref)
                        .is_some_and(|os| os.iter().any(|x| x.ctor == o.ctor))
                {
                    return true;
                }
                // `sqlx::query("SET statement_timeout = ..").execute(&pool)`
                statement_args(p, cref).is_some_and(|a| mentions_text(p, m, a, texts))
                    && upstream(p, cref).is_some_and(|via| match via {
                        Via::Method(_, os) => os.iter().any(|x| x.ctor == o.ctor),
                        Via::Function(_) => false,
                    })
            });
        }
        if hit {
            return Verdict::Bounded;
        }
    }
    // Settings hidden by a method we cannot see through.
    if opaque_use(p, o, client) {
        return Verdict::Unknown;
    }
    // `client.with_options(timeout=5).chat.completions.create(..)`
    if cm.lang() == Lang::Python {
        for s in &o.chain {
            let sc = p.module(s.module).call(s.call);
            if let Some(v) = client.client_timeout.iter().find_map(|k| sc.kwarg(k)) {
                return eval_value(p, s.module, sc.func, v, client);
            }
        }
    }
    match cm.lang() {
        Lang::Python => {
            let v = client.client_timeout.iter().find_map(|k| ctor.kwarg(k));
            if let Some(v) = v {
                return eval_value(p, o.ctor.module, ctor.func, v, client);
            }
        }
        Lang::TypeScript | Lang::JavaScript if !client.client_timeout.is_empty() => {
            let cands = ctor_options(p, o.ctor, client);
            let v = options_setting(
                p,
                o.ctor.module,
                ctor.func,
                ctor.span.start_byte,
                &cands,
                &client.client_timeout,
                client,
            );
            if v != Verdict::Unbounded(String::new()) {
                return v;
            }
            if assigned_on_client(p, o, client) {
                return Verdict::Bounded;
            }
        }
        Lang::TypeScript | Lang::JavaScript => {}
        Lang::Rust => {
            for s in &o.chain {
                let sc = p.module(s.module).call(s.call);
                if sc
                    .method
                    .as_deref()
                    .is_some_and(|m| client.client_timeout.iter().any(|t| t == m))
                {
                    return match sc.positional(0) {
                        Some(v) => eval_value(p, s.module, sc.func, v, client),
                        None => Verdict::Bounded,
                    };
                }
            }
        }
    }
    Verdict::Unbounded(String::new())
}

/// The constructor's options argument, as a candidate for [`options_setting`]:
/// at `client_options_arg` (default 0), or the last argument for a client
/// that takes it there. A URL, host or port there is no options object.
fn ctor_options<'a>(p: &'a Project, at: CallRef, client: &Client) -> Vec<(&'a Expr, bool)> {
    let ctor = p.module(at.module).call(at.call);
    let arg = if client.client_options_last {
        let n = (0..).take_while(|&i| ctor.positional(i).is_some()).count();
        n.checked_sub(1).and_then(|i| ctor.positional(i))
    } else {
        ctor.positional(client.client_options_arg.unwrap_or(0))
    };
    match arg {
        Some(a) if !is_string(p, at.module, ctor.func, a, ctor.span.start_byte, 3) => {
            vec![(a, true)]
        }
        _ => Vec::new(),
    }
}

/// Is `e` a string or number for sure: a literal, an environment read
/// (`process.env.REDIS_URL`, the pack's `string_sources`), or a name
/// bound only to such values?
fn is_string(p: &Project, m: u32, func: Option<FuncId>, e: &Expr, pos: u32, depth: u8) -> bool {
    let module = p.module(m);
    let lk = p.lk(m);
    match e {
        Expr::Str(_) | Expr::Template(_) | Expr::Num(_) => true,
        Expr::Binary { lhs, rhs, .. } => {
            is_string(p, m, func, lhs, pos, depth) || is_string(p, m, func, rhs, pos, depth)
        }
        Expr::Call(id) => module
            .call(*id)
            .path
            .as_deref()
            .is_some_and(|path| any_matches(&lk.string_sources, path)),
        Expr::Attr(..) | Expr::Index(..)
            if e.dotted()
                .is_some_and(|d| any_matches(&lk.string_sources, &d)) =>
        {
            true
        }
        Expr::Name(n) if depth > 0 && !module.is_param(func, n) => {
            let bs = module.bindings_at(func, n, pos);
            !bs.is_empty()
                && bs
                    .iter()
                    .all(|b| is_string(p, m, b.func, &b.value, b.span.start_byte, depth - 1))
        }
        _ => false,
    }
}

/// Settings text (`statement_timeout`) in the strings or object keys of
/// these arguments, or in what a closure among them runs
/// (`after_connect(|conn| .. conn.execute("SET statement_timeout = ..") ..)`).
fn mentions_text(p: &Project, m: u32, args: &[crate::facts::Arg], texts: &[String]) -> bool {
    let module = p.module(m);
    let mut hit = false;
    let mut funcs: Vec<FuncId> = Vec::new();
    for a in args {
        a.value.walk(&mut |e| match e {
            Expr::Str(s) => hit |= texts.iter().any(|t| s.contains(t.as_str())),
            Expr::Template(parts) => {
                hit |= parts.iter().any(|part| {
                    matches!(part, crate::facts::TemplatePart::Lit(s)
                        if texts.iter().any(|t| s.contains(t.as_str())))
                })
            }
            Expr::Object(o) => {
                hit |= o
                    .entries
                    .iter()
                    .any(|(k, _)| texts.iter().any(|t| k.contains(t.as_str())))
            }
            Expr::Func(f) => funcs.push(*f),
            _ => {}
        });
    }
    hit || funcs.iter().any(|f| {
        module.calls.iter().any(|c| {
            module.func_chain(c.func).any(|x| x == *f)
                && c.args.iter().any(|a| {
                    let mut h = false;
                    a.value.walk(&mut |e| {
                        if let Expr::Str(s) = e {
                            h |= texts.iter().any(|t| s.contains(t.as_str()));
                        }
                    });
                    h
                })
        })
    })
}

/// The arguments of the statement an executed-statement call runs
/// (`sqlx::query("SET statement_timeout = 5000")` for its `.execute(&pool)`).
fn statement_args<'a>(p: &'a Project, c: CallRef) -> Option<&'a [crate::facts::Arg]> {
    let module = p.module(c.module);
    let mut cur = module.call(c.call).receiver.as_ref()?;
    for _ in 0..64 {
        let Expr::Call(id) = cur else { return None };
        let rc = module.call(*id);
        if rc.path.is_some() {
            return Some(&rc.args);
        }
        cur = rc.receiver.as_ref()?;
    }
    None
}

/// Does what the client is bound to also have an `opaque_methods` call
/// (`session.mount(..)`)?
fn opaque_use(p: &Project, o: &ClientOrigin, client: &Client) -> bool {
    if client.opaque_methods.is_empty() {
        return false;
    }
    let m = o.ctor.module;
    let module = p.module(m);
    module.calls.iter().enumerate().any(|(i, c)| {
        c.method
            .as_deref()
            .is_some_and(|mm| client.opaque_methods.iter().any(|x| x == mm))
            && p.client_origins(CallRef {
                module: m,
                call: i as CallId,
            })
            .is_some_and(|os| os.iter().any(|x| x.ctor == o.ctor))
    })
}

/// `api.defaults.timeout = 5000` on a client bound to a name.
fn assigned_on_client(p: &Project, o: &ClientOrigin, client: &Client) -> bool {
    if client.client_assign.is_empty() {
        return false;
    }
    let module = p.module(o.ctor.module);
    module.bindings.iter().any(|b| {
        let Some((root, rest)) = b.name.split_once('.') else {
            return false;
        };
        client.client_assign.iter().any(|a| a == rest)
            && module
                .bindings
                .iter()
                .any(|x| x.name == root && matches!(x.value, Expr::Call(id) if id == o.ctor.call))
    })
}

/// A process-wide setter (`socket.setdefaulttimeout`, undici's
/// `setGlobalDispatcher`) that bounds this client, called in the module (or
/// anywhere in the project, for a setter that says so); for a library
/// function, also `axios.defaults.timeout = ..`.
fn library_default_set(p: &Project, m: u32, call: &Call, client: &Client, function: bool) -> bool {
    let module = p.module(m);
    let lk = p.lk(m);
    let setter = lk.global_setters.iter().any(|g| {
        if !g.bounds.contains(&client.name) {
            return false;
        }
        // Process-wide: within the package (one server's process), not
        // across the servers of a monorepo.
        let scope: Vec<u32> = if g.project_wide {
            (0..p.modules.len() as u32)
                .filter(|&o| {
                    p.module(o).lang().pack() == module.lang().pack()
                        && p.module(o).package == module.package
                })
                .collect()
        } else {
            vec![m]
        };
        scope.into_iter().any(|sm| {
            p.module(sm).calls.iter().enumerate().any(|(i, c)| {
                c.path
                    .as_deref()
                    .is_some_and(|path| any_matches(&g.callee, path))
                    && g.requires.as_ref().is_none_or(|r| {
                        setter_bounds(
                            p,
                            CallRef {
                                module: sm,
                                call: i as CallId,
                            },
                            r,
                        )
                    })
            })
        })
    });
    if setter {
        return true;
    }
    if !function {
        return false;
    }
    let Some(root) = call.callee.root_name() else {
        return false;
    };
    client.client_assign.iter().any(|a| {
        let name = format!("{root}.{a}");
        module.bindings.iter().any(|b| b.name == name)
    })
}

/// Does the value handed to a setter (`new Agent({ headersTimeout, bodyTimeout })`)
/// set every required key to a finite value within the ceiling? What we
/// cannot read counts as set; a dispatcher of another kind, or one whose
/// options we can read and that leaves a key out, does not bound.
fn setter_bounds(p: &Project, s: CallRef, r: &crate::knowledge::SetterRequires) -> bool {
    let sc = p.module(s.module).call(s.call);
    let Some(arg) = sc.positional(r.arg) else {
        return false;
    };
    let scale = r.unit.per_second();
    for o in p.trace(s.module, sc.func, arg, sc.span.start_byte) {
        let Origin::Call(d) = o else {
            return true;
        };
        let dc = p.module(d.module).call(d.call);
        if !dc
            .path
            .as_deref()
            .is_some_and(|path| any_matches(&r.constructors, path))
        {
            return false;
        }
        if dc.has_spread_arg() {
            return true;
        }
        let Some(opts) = dc.positional(0) else {
            return false;
        };
        // `new ProxyAgent(process.env.HTTPS_PROXY)`: a URL sets no timeout.
        if is_string(p, d.module, dc.func, opts, dc.span.start_byte, 3) {
            return false;
        }
        for oo in p.trace(d.module, dc.func, opts, dc.span.start_byte) {
            let Origin::Lit(om, of, Expr::Object(obj)) = oo else {
                // A URL string (`new ProxyAgent(url)`) sets no timeout;
                // options we cannot see may.
                if matches!(oo, Origin::Lit(_, _, Expr::Str(_) | Expr::Template(_))) {
                    return false;
                }
                return true;
            };
            if obj.spread {
                return true;
            }
            for key in &r.keys {
                let Some(v) = obj.get(key) else {
                    return false;
                };
                for vo in p.trace(om, of, v, u32::MAX) {
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
                setting_name(v, module, client),
                null_word(module.lang())
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

fn null_word(lang: Lang) -> &'static str {
    match lang {
        Lang::Python => "None",
        Lang::Rust => "None",
        _ => "null",
    }
}

fn setting_name(v: &Expr, _module: &Module, client: &Client) -> String {
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
