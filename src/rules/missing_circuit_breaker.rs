//! MCP103 missing-circuit-breaker
//!
//! ## What it finds
//! An external HTTP service that tool handlers call, where no call to that
//! service goes through a circuit breaker. Reported once per service, at
//! its first call site.
//!
//! A service is a URL host, read statically: from a string literal, an
//! f-string / template / `format!` that starts with a literal scheme and
//! host, a module-level constant, or a constant joined with a path
//! (`f"{API}/users"`, `` `${BASE}/x` ``, `BASE + "/x"`). A call with a
//! relative URL (or one we cannot read) made through a client object that
//! has its own base URL (httpx `base_url=`, aiohttp `base_url`, axios
//! `baseURL`, got and ky `prefixUrl`) talks to that base URL's host; an SDK
//! client with a fixed host (OpenAI, Anthropic, Stripe, exa-js,
//! async-openai) talks to its SDK's host unless given another base URL.
//! Where each library takes its URL and its base URL is in the knowledge
//! packs (`[[endpoint]]`).
//!
//! Breakers come from the packs (`[[breaker]]`): pybreaker, aiobreaker,
//! purgatory, circuitbreaker (`@circuit`), opossum, cockatiel, failsafe;
//! and any project class or struct whose name ends in `CircuitBreaker` or
//! `Breaker`. A call is guarded when it runs through one: `breaker.call(fn,
//! ..)`, `await breaker.call_async(fn)`, `@breaker` on the function that
//! makes it, `with breaker:` / `with breaker.calling():` around it,
//! `breaker.execute(() => ..)`, `new CircuitBreaker(fn)` (opossum runs
//! `fn`), `breaker.call(|| ..)`; also in project functions the guarded code
//! calls, a few levels deep.
//!
//! ## Why it matters
//! An LLM orchestrator calls tools at machine speed. When an upstream goes
//! down, every tool call still waits on it (up to its timeout), retries pile
//! on, and the server's workers fill with calls that cannot succeed. A
//! breaker fails fast while the service is down, so the tool can answer at
//! once ("weather service unavailable") and the upstream gets room to
//! recover.
//!
//! ## Flagged
//! ```python
//! API = "https://api.weather.example"
//!
//! @mcp.tool()
//! async def forecast(city: str) -> str:
//!     r = await client.get(f"{API}/forecast/{city}")
//!     return r.text
//! ```
//! ```ts
//! server.tool("forecast", schema, async ({ city }) => {
//!   const r = await fetch(`https://api.weather.example/forecast/${city}`, { signal });
//!   return { content: [{ type: "text", text: await r.text() }] };
//! });
//! ```
//!
//! ## Fixed
//! ```python
//! # aiobreaker for coroutines: pybreaker's decorator hands the coroutine back
//! # unawaited, so no failure ever reaches it and it never opens.
//! weather_breaker = aiobreaker.CircuitBreaker(fail_max=5, timeout_duration=timedelta(seconds=30))
//!
//! @weather_breaker
//! async def fetch_forecast(city: str) -> str:
//!     return (await client.get(f"{API}/forecast/{city}")).text
//! ```
//! ```ts
//! const breaker = new CircuitBreaker((city) => fetch(`${API}/forecast/${city}`, { signal }));
//! server.tool("forecast", schema, async ({ city }) => breaker.fire(city));
//! ```
//!
//! ## Limits
//! - An address read from the environment names its service through the
//!   default it falls back to (`os.getenv("API", "https://api.example")`,
//!   `process.env.API ?? "https://api.example"`, `url or DEFAULT`): that is
//!   the service the code was written against. Rust's
//!   `env::var(..).unwrap_or(..)` is not read yet.
//! - A host that cannot be read statically (from the environment with no
//!   default, a parameter, a config object) is left alone, and so is the local machine
//!   (`localhost`, `127.*`, `::1`, `0.0.0.0`). One breaker anywhere on a
//!   host's calls counts for all of them: the rule asks whether the service
//!   has a breaker, not whether each call does.
//! - Dependencies are counted per package (the directory of the nearest
//!   manifest): each server has its own. "First call site in source order"
//!   is within the package: file paths in order, then the position in the
//!   file. Call sites that an MCP entry point reaches come first; a host
//!   only called from code no entry reaches is reported there and left out
//!   by the scope.
//! - "Called from tool handlers" uses the scan's scope: any MCP entry point
//!   counts, per-request auth checks included (a token check against
//!   `api.github.com` runs on every request). Reach falls back to
//!   same-named methods when a receiver is unknown, so a call made only at
//!   start-up can, rarely, be taken as reached.
//! - An SDK's default host stands even though an environment variable
//!   (`OPENAI_BASE_URL`) may redirect it.
//! - Database and cache drivers are not HTTP dependencies here.
//! - A breaker handed in from another package, or one built by code we
//!   cannot follow, is not seen: calls through it are reported.

use super::Rule;
use crate::finding::{Axis, Finding, Severity};
use crate::link::{Project, Scope};

pub static RULE: Rule = Rule {
    id: "MCP103",
    name: "missing-circuit-breaker",
    axis: Axis::Maintenance,
    severity: Severity::Low,
    cwe: &[],
    precision: "medium",
    source: include_str!("missing_circuit_breaker.rs"),
    check,
};

fn check(p: &Project, m: u32, out: &mut Vec<Finding>) {
    // Cheap exit: a module with no upstream call holds no first call site.
    if p.upstream_calls(m).is_empty() {
        return;
    }
    let guarded = &p.breakers().guarded;
    for dep in p.dependencies() {
        if dep.calls.iter().any(|(c, _)| guarded.contains(c)) {
            continue;
        }
        let reached = |c: &crate::link::CallRef| {
            let call = p.module(c.module).call(c.call);
            matches!(
                p.scope_at(c.module, call.func, call.span),
                Scope::Reached { .. }
            )
        };
        let Some((first, d)) = dep
            .calls
            .iter()
            .find(|(c, _)| reached(c))
            .or_else(|| dep.calls.first())
        else {
            continue;
        };
        if first.module != m {
            continue;
        }
        let call = p.module(m).call(first.call);
        let through = match d.client {
            Some(ctor) => {
                let cm = p.module(ctor.module);
                format!(
                    " (through the client built at {}:{})",
                    cm.path,
                    cm.call(ctor.call).span.start_line
                )
            }
            None => String::new(),
        };
        let n = dep.calls.len();
        let calls = if n == 1 {
            "its one call".to_string()
        } else {
            format!("any of its {n} calls")
        };
        out.push(RULE.finding(
            p,
            m,
            call.func,
            call.span,
            format!(
                "`{}`{through} is called with no circuit breaker on {calls}: while it is down, every tool call still waits on it",
                dep.host
            ),
            format!(
                "run the calls to `{}` through one circuit breaker for that service (pybreaker / opossum / cockatiel / failsafe, or a project `CircuitBreaker`), and answer fast while it is open",
                dep.host
            ),
        ));
    }
}
