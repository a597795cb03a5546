//! MCP108 unbounded-fan-out
//!
//! ## What it finds
//! Concurrent upstream calls over a collection whose size the caller
//! controls, with nothing capping how many run at once:
//! `asyncio.gather(*[fetch(x) for x in items])`,
//! `Promise.all(items.map(x => fetch(..)))`,
//! `join_all(items.iter().map(..))` / `try_join_all(..)`.
//!
//! The collection is built one awaitable per item: a comprehension or
//! generator, a `map` over the collection (`items.map(f)`,
//! `items.iter().map(f).collect()`), or a list filled in a loop over it
//! (`tasks.append(fetch(u))`, `promises.push(fetch(u))`), directly or
//! through a name bound in the same function. Its size is the caller's when
//! the collection is read from a parameter (a tool's argument, or a
//! helper's, which its caller hands on) or from an upstream's response, or
//! derived from one (`ids.split(",")`, `resp.json()["items"]`).
//! Each item's work must reach an upstream: an upstream call, or a project
//! function or lambda that makes or reaches one.
//!
//! ## Why it matters
//! The model decides how many items a tool call carries. A list of 5,000
//! ids becomes 5,000 simultaneous requests: the upstream rate-limits or
//! bans the server, sockets and file descriptors run out, and every other
//! tool of the server stalls behind the burst. Settling the results
//! (`return_exceptions=True`, `Promise.allSettled`) does not help: every
//! request still starts at once.
//!
//! ## Flagged
//! ```python
//! @mcp.tool()
//! async def fetch_pages(urls: list[str]) -> list[str]:
//!     return await asyncio.gather(*[fetch(u) for u in urls])
//! ```
//! ```ts
//! const pages = await Promise.all(urls.map((u) => fetch(u, { signal })));
//! ```
//! ```rust
//! let pages = join_all(req.urls.iter().map(|u| self.fetch(u))).await;
//! ```
//!
//! ## Fixed
//! ```python
//! sem = asyncio.Semaphore(8)
//!
//! async def fetch_one(u: str) -> str:
//!     async with sem:
//!         return await fetch(u)
//!
//! return await asyncio.gather(*[fetch_one(u) for u in urls])
//! ```
//! ```ts
//! const limit = pLimit(8);
//! const pages = await Promise.all(urls.map((u) => limit(() => fetch(u, { signal }))));
//! ```
//! ```rust
//! let pages: Vec<_> = stream::iter(req.urls).map(|u| self.fetch(u)).buffer_unordered(8).collect().await;
//! ```
//! Also fine: `for_each_concurrent(Some(n), ..)`, p-map with
//! `{ concurrency }`, a semaphore acquired in each item's work
//! (`let _permit = sem.acquire().await?`), and a fan-out over a fixed list
//! (a literal list, `range(3)`, a module constant, an attribute of the
//! server object, a batch taken from a loop).
//!
//! ## Limits
//! - Reported at the aggregation call's first line (`asyncio.gather(`,
//!   `Promise.all(`, `join_all(`), once per call.
//! - A limiter counts when each item's work takes it, in the mapped
//!   function itself or in the project functions it calls (three calls
//!   deep). An `async with X:` on an object we cannot trace is taken to be
//!   a lock or a semaphore, and so does a limiter method (`acquire`) on
//!   one; a function we cannot see called with the work is not.
//! - The collection is followed through names bound in the same function;
//!   a loop variable (a batch of a chunked list) is taken to be bounded.
//! - Streams (`buffer_unordered(n)`, `for_each_concurrent`), task groups,
//!   `JoinSet`, `FuturesUnordered` and p-map are not aggregations here, so
//!   an unbounded one of those (`for_each_concurrent(None, ..)`, p-map
//!   without `concurrency`) is not reported yet.
//! - A list filled by a C-style `for (let i = 0; ..)` loop is not followed.
//! - Reaching an upstream is followed through calls resolved to a project
//!   function, through functions nested in one, and through a method
//!   called on a value of unknown type when every method of that name in
//!   the package reaches an upstream (a same-named mock, or a method that
//!   loads its code with a dynamic `import()`, stops it): a missed finding,
//!   never a false one.
//! - A Python slice (`urls[:10]`) is taken to be bounded by its width; a
//!   TS `.slice(..)` is not recognised and still counts as the caller's.

use super::Rule;
use crate::finding::{Axis, Finding, Severity};
use crate::link::{Items, Project};

pub static RULE: Rule = Rule {
    id: "MCP108",
    name: "unbounded-fan-out",
    axis: Axis::Maintenance,
    severity: Severity::Low,
    cwe: &["CWE-400"],
    precision: "high",
    source: include_str!("unbounded_fan_out.rs"),
    check,
};

fn check(p: &Project, m: u32, out: &mut Vec<Finding>) {
    let module = p.module(m);
    for agg in p.aggregations(m) {
        let call = module.call(agg.call.call);
        let path = call.path.as_deref().unwrap_or_default();
        let Items::FanOut(fo) = &agg.items else {
            continue;
        };
        let Some(work) = p.fan_out_reaches_upstream(m, fo) else {
            continue;
        };
        let Some(why) = p.caller_sized(m, fo.over_func, &fo.over, fo.over_pos) else {
            continue;
        };
        if p.fan_out_limited(m, fo) {
            continue;
        }
        out.push(RULE.finding(
            p,
            m,
            call.func,
            call.span,
            format!(
                "`{path}` starts a `{}` call for every item of a collection sized by {why}, all at once, with no limit on how many run together",
                work.name
            ),
            "cap the concurrency: take a semaphore inside each item's work (`async with sem:`), \
             use p-limit / p-map with `concurrency`, or `stream::iter(..).buffer_unordered(n)`; \
             or reject lists longer than a fixed maximum"
                .to_string(),
        ));
    }
}
