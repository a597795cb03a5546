//! MCP101 unbounded-await
//!
//! ## What it finds
//! An outbound HTTP or database call that nothing bounds in time: no timeout
//! on the call, none on the client, session or pool that makes it, no library
//! default of 120 s or less, and no enclosing deadline.
//!
//! Which calls reach an upstream, what bounds them and each library's default
//! come from the knowledge packs (`rules/python.toml`, `rules/typescript.toml`,
//! `rules/rust.toml`, and your own with `--knowledge`): requests, urllib,
//! httpx (`timeout=None` only), aiohttp (300 s default), the OpenAI and
//! Anthropic SDKs (600 s default), asyncpg, psycopg, PyMySQL, aiomysql,
//! asyncmy; fetch (global, undici, node-fetch, cross-fetch), undici
//! `request`, axios, got, ky (`timeout: false` only), the OpenAI and
//! Anthropic SDKs, node-postgres; reqwest.
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
use crate::knowledge::{
    any_matches, last_segment, parse_default, Client, MAX_BOUNDED_DEFAULT_SECS,
};
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
        let what = describe(call, client, matches!(via, Via::Method(..)));
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
    if !lk
        .clients
        .iter()
        .any(|cl| cl.methods.iter().any(|m| m == method))
    {
        return None;
    }
    let origins = p.client_origins(c)?;
    let mut found: Option<&Client> = None;
    for o in &origins {
        let ctor = p.module(o.ctor.module).call(o.ctor.call);
        let ctor_path = ctor.path.as_deref()?;
        let cl = lk
            .clients
            .iter()
            .find(|cl| any_matches(&cl.constructors, ctor_path))?;
        if !cl.methods.iter().any(|m| m == method) || o.via_attr && !cl.resource_attributes {
            return None;
        }
        // Outside Rust's builders, only methods that hand on the client's
        // settings may stand between it and the call.
        if module.lang() != Lang::Rust {
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
    let client = found?;
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
    Some(Via::Method(client, origins))
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
    for o in origins {
        match client_setting(p, o, client) {
            Verdict::Unknown => return Verdict::Unknown,
            Verdict::Bounded => client_verdict = client_verdict.or(Some(Verdict::Bounded)),
            Verdict::Unbounded(why) if !why.is_empty() => {
                client_verdict = Some(Verdict::Unbounded(why))
            }
            Verdict::Unbounded(_) => {}
        }
    }
    if let Some(v) = client_verdict {
        return v;
    }
    // Set once for the whole library (`axios.defaults.timeout = ..`,
    // `socket.setdefaulttimeout(..)`).
    if matches!(via, Via::Function(_)) && library_default_set(p, c.module, call, client) {
        return Verdict::Bounded;
    }
    // The library's own default.
    match parse_default(&client.default).flatten() {
        Some(secs) if secs <= MAX_BOUNDED_DEFAULT_SECS => Verdict::Bounded,
        Some(secs) => Verdict::Unbounded(format!(
            "{}'s default of {} s is longer than a tool call should wait (at most {} s)",
            client.name, secs, MAX_BOUNDED_DEFAULT_SECS
        )),
        None => Verdict::Unbounded(format!("{} waits forever by default", client.name)),
    }
}

/// The timeout set on the call itself. `Unbounded("")` means "not set here".
fn call_setting(p: &Project, c: CallRef, client: &Client) -> Verdict {
    let module = p.module(c.module);
    let call = module.call(c.call);
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
            if call.method.as_deref() == Some("execute") {
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
        let mentions = |args: &[crate::facts::Arg]| {
            let mut hit = false;
            for a in args {
                a.value.walk(&mut |e| match e {
                    Expr::Str(s) => {
                        hit |= client
                            .client_timeout_text
                            .iter()
                            .any(|t| s.contains(t.as_str()))
                    }
                    Expr::Object(o) => {
                        hit |= o.entries.iter().any(|(k, _)| {
                            client
                                .client_timeout_text
                                .iter()
                                .any(|t| k.contains(t.as_str()))
                        })
                    }
                    _ => {}
                });
            }
            hit
        };
        let mut hit = mentions(&ctor.args);
        if !hit {
            let m = o.ctor.module;
            hit = cm.calls.iter().enumerate().any(|(i, c)| {
                c.method
                    .as_deref()
                    .is_some_and(|mm| client.methods.iter().any(|x| x == mm))
                    && mentions(&c.args)
                    && p.client_origins(CallRef {
                        module: m,
                        call: i as CallId,
                    })
                    .is_some_and(|os| os.iter().any(|x| x.ctor == o.ctor))
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
        Lang::TypeScript | Lang::JavaScript => {
            let cands: Vec<(&Expr, bool)> =
                ctor.positional(0).map(|a| (a, true)).into_iter().collect();
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

/// `axios.defaults.timeout = ..` for a library function, or a process-wide
/// setter (`socket.setdefaulttimeout`) called in the module.
fn library_default_set(p: &Project, m: u32, call: &Call, client: &Client) -> bool {
    let module = p.module(m);
    let lk = p.lk(m);
    let setter = lk.global_setters.iter().any(|g| {
        g.bounds.contains(&client.name)
            && module
                .calls
                .iter()
                .any(|c| c.path.as_deref().is_some_and(|p| any_matches(&g.callee, p)))
    });
    if setter {
        return true;
    }
    let Some(root) = call.callee.root_name() else {
        return false;
    };
    client.client_assign.iter().any(|a| {
        let name = format!("{root}.{a}");
        module.bindings.iter().any(|b| b.name == name)
    })
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
                        let bounded = t
                            .positional
                            .iter()
                            .any(|i| cc.positional(*i).is_some_and(|a| !matches!(a, Expr::Null)))
                            || t.bounding
                                .iter()
                                .any(|k| cc.kwarg(k).is_some_and(|a| !matches!(a, Expr::Null)))
                            || cc.has_spread_arg();
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
fn describe(call: &Call, client: &Client, method: bool) -> String {
    let callee = call
        .callee
        .dotted()
        .unwrap_or_else(|| format!("this {} call", client.name));
    let callee = if callee.len() > 60 {
        format!("this {} call", client.name)
    } else {
        format!("`{callee}`")
    };
    if !method {
        callee
    } else {
        format!("{callee} ({})", client.name)
    }
}
