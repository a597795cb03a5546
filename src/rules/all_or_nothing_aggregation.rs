//! MCP107 all-or-nothing-aggregation
//!
//! ## What it finds
//! A tool that calls two or more different upstreams at once and combines
//! them so that one failing source fails the whole tool:
//! `asyncio.gather(a(), b())` without `return_exceptions=True`,
//! `Promise.all([a(), b()])`, `tokio::try_join!(a(), b())` /
//! `futures::try_join!`.
//!
//! An awaitable counts when it is an upstream call (from the knowledge
//! packs), a call to a project function that makes or reaches one (through
//! any depth of resolved project calls), a lambda or async block that does,
//! a task spawned from one of these, or a name bound to one in the same
//! function. The awaitables must be different: different callees, or the
//! same callee given two different literal hosts
//! (`get("https://a.example/x")`, `get("https://b.example/y")`).
//!
//! ## Why it matters
//! A tool that merges several sources is worth most when one of them is
//! down: the model can still answer with the rest. With an all-or-nothing
//! aggregation, one flaky dependency turns every call of the tool into an
//! error, the results of the healthy sources are thrown away, and the
//! orchestrator retries the whole fan of calls at machine speed.
//!
//! ## Flagged
//! ```python
//! @mcp.tool()
//! async def city_report(city: str) -> dict:
//!     weather, news = await asyncio.gather(fetch_weather(city), fetch_news(city))
//!     return {"weather": weather, "news": news}
//! ```
//! ```ts
//! const [weather, news] = await Promise.all([getWeather(city), getNews(city)]);
//! ```
//! ```rust
//! let (weather, news) = tokio::try_join!(self.weather(&city), self.news(&city))?;
//! ```
//!
//! ## Fixed
//! ```python
//! weather, news = await asyncio.gather(
//!     fetch_weather(city), fetch_news(city), return_exceptions=True
//! )
//! ```
//! ```ts
//! const [weather, news] = await Promise.allSettled([getWeather(city), getNews(city)]);
//! ```
//! ```rust
//! let (weather, news) = tokio::join!(self.weather(&city), self.news(&city));
//! ```
//! An awaitable that cannot fail does not fail the rest either: one with
//! `.catch(..)` chained (`getNews(city).catch(() => null)`), or a project
//! function whose upstream calls all sit in a `try` whose catch-all clause
//! does not raise again.
//!
//! ## Fix
//! Settling changes what the aggregation returns: `return_exceptions=True`
//! hands back exception objects among the results, `Promise.allSettled`
//! `{ status, value | reason }` objects. So `--fix` settles only an
//! aggregation whose result nothing reads — `await asyncio.gather(a(),
//! b())` or `await Promise.all([a(), b()])` as a statement of its own —
//! by adding `return_exceptions=True` (over a literal `False`) or renaming
//! `all` to `allSettled`. Where the results are unpacked, returned or
//! passed on, the code that reads them must learn to tell a failure from a
//! value: no automatic fix, the help says what to do. `tokio::try_join!`
//! has no mechanical fix either: `join!` returns a tuple of `Result`s that
//! the code around it must read differently.
//!
//! ## Limits
//! - Reported at the aggregation call's first line, once per call.
//! - The same callee twice with arguments we cannot read
//!   (`gather(get(a), get(b))`) is one source, not two: not reported. Hosts
//!   are read from URL literals only (`https://host/..`, or a template
//!   that starts with one).
//! - A list built from a collection (`gather(*[f(x) for x in xs])`,
//!   `Promise.all(items.map(..))`) is a fan-out: MCP108 judges it. A list
//!   whose making we cannot see (a parameter, a spread mixed with items) is
//!   not reported.
//! - Task groups (`asyncio.TaskGroup`, anyio / trio nurseries, tokio
//!   `JoinSet`) also cancel the rest when one task fails, but RULES.md does
//!   not name them: they are left alone.
//! - Reaching an upstream is followed through calls resolved to a project
//!   function, through functions nested in one, and through a method
//!   called on a value of unknown type when every method of that name in
//!   the package reaches an upstream (a same-named mock, or a method that
//!   loads its code with a dynamic `import()`, stops it): a missed finding,
//!   never a false one.

use super::edits::{self, append, replace};
use super::Rule;
use crate::facts::{Call, Ctx, ExitKind, Expr, FuncId, Module, TryKind};
use crate::finding::{Axis, Finding, Fix, Severity};
use crate::knowledge::Aggregator;
use crate::link::{CallRef, FuncRef, Items, Project, WorkKey};

pub static RULE: Rule = Rule {
    id: "MCP107",
    name: "all-or-nothing-aggregation",
    axis: Axis::Maintenance,
    severity: Severity::Low,
    cwe: &[],
    precision: "high",
    source: include_str!("all_or_nothing_aggregation.rs"),
    check,
};

fn check(p: &Project, m: u32, out: &mut Vec<Finding>) {
    let module = p.module(m);
    for agg in p.aggregations(m) {
        let call = module.call(agg.call.call);
        let path = call.path.as_deref().unwrap_or_default();
        if agg.settles != Some(false) {
            continue;
        }
        let Items::Fixed(items) = &agg.items else {
            continue;
        };
        let keys: Vec<WorkKey> = items
            .iter()
            .filter(|e| !recovers(p, m, call.func, e))
            .filter_map(|e| p.upstream_work(m, call.func, e))
            .collect();
        let Some(other) = keys.iter().skip(1).find(|k| k.differs(&keys[0])) else {
            continue;
        };
        let names = if other.name == keys[0].name {
            format!(
                "`{}` on two hosts ({} and {})",
                keys[0].name,
                keys[0].host.as_deref().unwrap_or("?"),
                other.host.as_deref().unwrap_or("?")
            )
        } else {
            format!("`{}` and `{}`", keys[0].name, other.name)
        };
        let help = if agg.aggregator.fix.is_empty() {
            "keep each source's result on its own, so one failing source degrades the answer instead of failing the tool".to_string()
        } else {
            agg.aggregator.fix.clone()
        };
        let mut f = RULE.finding(
            p,
            m,
            call.func,
            call.span,
            format!(
                "`{path}` fails as a whole when one of its {} upstream calls fails ({names}): one source down fails the tool",
                keys.len()
            ),
            help,
        );
        f.fix = settle_fix(module, call, agg.aggregator);
        out.push(f);
    }
}

/// Settles an aggregation whose result is thrown away (see "Fix"): no code
/// reads the results, so none can be surprised by a failure kept as a value.
fn settle_fix(module: &Module, call: &Call, ag: &Aggregator) -> Option<Fix> {
    if !call.discarded || call.is_macro || call.has_spread_arg() {
        return None;
    }
    if let (Some(kw), Some(v)) = (&ag.settle_kwarg, &ag.settle_value) {
        let item = format!("{kw}={v}");
        let says = format!(
            "pass `{item}`: nothing reads the results, so one failure no longer cancels the rest"
        );
        // `return_exceptions=False` written out: overwrite it.
        if let Some(i) = call.args.iter().position(|a| a.name.as_deref() == Some(kw)) {
            let literal = edits::literal(&call.args[i].value, &|id| {
                Some(
                    module
                        .call(id)
                        .args
                        .iter()
                        .map(|a| a.value.clone())
                        .collect(),
                )
            });
            return literal
                .then(|| edits::fix(says, vec![replace(call.arg_span_at(i)?, item.clone())]))
                .flatten();
        }
        return edits::fix(says, vec![append(call.arg_list.as_ref()?, &item, false)]);
    }
    let name = ag.settled_name.as_deref()?;
    edits::fix(
        format!(
            "use `{name}`: nothing reads the results, so one failure no longer rejects the rest"
        ),
        vec![replace(call.name_span?, name)],
    )
}

/// An awaitable that cannot fail: `.catch(..)` chained on it, or a call to
/// a project function whose every upstream-reaching call sits in a `try`
/// with a clause that catches everything and does not raise again.
fn recovers(p: &Project, m: u32, func: Option<FuncId>, e: &Expr) -> bool {
    let module = p.module(m);
    let lk = p.lk(m);
    let mut e = e.clone();
    // A name bound in this function: its value.
    if let Expr::Name(n) = &e {
        if let Some(b) = module
            .bindings_at(func, n, u32::MAX)
            .into_iter()
            .find(|b| b.func == func)
        {
            e = b.value.clone();
        }
    }
    let Expr::Call(id) = e else { return false };
    let call = module.call(id);
    if call
        .method
        .as_deref()
        .is_some_and(|mm| lk.recover_methods.iter().any(|r| r == mm))
    {
        return true;
    }
    let Some(t) = p.target(CallRef {
        module: m,
        call: id,
    }) else {
        return false;
    };
    catches_all(p, t)
}

/// Every call in `f` that reaches an upstream sits in a `try` of `f` one
/// of whose clauses catches everything (`except Exception`, `catch (e)`)
/// and does not raise.
fn catches_all(p: &Project, f: FuncRef) -> bool {
    let module = p.module(f.module);
    let lk = p.lk(f.module);
    let mut any = false;
    for &c in module.calls_in(Some(f.func)) {
        let cref = CallRef {
            module: f.module,
            call: c,
        };
        let reaches = p.call_reaches_upstream(cref);
        if !reaches {
            continue;
        }
        any = true;
        let caught = module.call(c).ctx.iter().any(|x| {
            let Ctx::Try(t) = x else { return false };
            let tr = &module.tries[*t as usize];
            // A Rust `match` on a `Result` may hand the error on in a
            // value we do not read: only try/catch counts.
            if tr.kind != TryKind::Try {
                return false;
            }
            tr.clauses.iter().enumerate().any(|(i, cl)| {
                let broad = cl.types.is_empty()
                    || cl
                        .types
                        .iter()
                        .any(|ty| lk.catch_all_types.iter().any(|b| b == ty));
                broad
                    && !module.exits.iter().any(|x| {
                        x.kind == ExitKind::Raise
                            && x.func == Some(f.func)
                            && x.ctx.contains(&Ctx::Catch {
                                try_id: *t,
                                clause: i as u32,
                            })
                    })
            })
        });
        if !caught {
            return false;
        }
    }
    any
}
