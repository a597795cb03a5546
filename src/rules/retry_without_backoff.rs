//! MCP102 retry-without-backoff
//!
//! ## What it finds
//! A retry that hammers a failing upstream: it tries again at once, after
//! the same fixed wait every time, or after an exponential wait with no
//! random part (jitter), or it never stops trying. Never stopping is
//! reported at medium severity, the rest at low.
//!
//! Two kinds of retry are judged:
//!
//! - Hand-written loops that count attempts (`for attempt in range(n)`,
//!   `for (let i = 0; i < n; i++)`, `for attempt in 0..n`) or run until
//!   they succeed (`while True`, `while (true)`, `loop {}`), that make an
//!   upstream call (or call a project function that makes one, up to three
//!   calls deep, or call a function they are given that their callers fill
//!   with such a call: `retry(fn)` helpers) inside a `try` (Rust: a `match` / `if let` on its `Err`),
//!   stop when it succeeds, and go round again when it fails. The wait is
//!   the loop's `time.sleep` / `asyncio.sleep` / `await sleep(ms)` /
//!   `await new Promise(r => setTimeout(r, ms))` / `tokio::time::sleep` /
//!   `std::thread::sleep`, wherever it is in the loop.
//! - Retry libraries, with their documented defaults (`rules/*.toml`):
//!   Python tenacity (`@retry`, `Retrying`, `AsyncRetrying`), backoff
//!   (`on_exception`, `on_predicate`), stamina, urllib3 `Retry`; TS/JS
//!   p-retry, async-retry, cockatiel `retry(..)`, axios-retry; Rust backon
//!   builders, tokio-retry strategies, the backoff crate.
//!
//! ## Why it matters
//! When an upstream fails, every tool call that touches it fails at the same
//! moment. Retries with no wait, or with the same wait everywhere, arrive
//! together again, at machine speed, and keep a struggling service down; a
//! retry that never gives up holds the tool call (and the model's turn) for
//! as long as the outage lasts. Exponential backoff spaces the attempts out;
//! jitter spreads the clients that failed together; a cap ends the call.
//!
//! ## Flagged
//! ```python
//! for attempt in range(3):
//!     try:
//!         return (await client.get(url)).json()
//!     except httpx.HTTPError:
//!         await asyncio.sleep(1)          # the same wait every time
//!
//! @retry(wait=wait_exponential(multiplier=1, max=10))   # no jitter, no stop
//! async def fetch(url): ...
//! ```
//! ```ts
//! while (true) {                          // never gives up: medium
//!   try { return await fetch(url, { signal }); } catch { await sleep(1000); }
//! }
//! await pRetry(run, { retries: 5 });      // p-retry: `randomize` is false by default
//! ```
//! ```rust
//! let policy = ExponentialBuilder::default();   // backon: jitter is opt-in
//! ```
//!
//! ## Fixed
//! ```python
//! for attempt in range(3):
//!     try:
//!         return (await client.get(url)).json()
//!     except httpx.HTTPError:
//!         await asyncio.sleep(0.5 * 2 ** attempt + random.uniform(0, 0.5))
//!
//! @retry(wait=wait_random_exponential(multiplier=1, max=10), stop=stop_after_attempt(5))
//! async def fetch(url): ...
//! ```
//! ```ts
//! await pRetry(run, { retries: 5, randomize: true });
//! ```
//! ```rust
//! let policy = ExponentialBuilder::default().with_jitter();
//! ```
//!
//! ## Limits
//! - A loop is a retry only when it counts attempts or runs until success,
//!   makes the upstream call inside a `try` / `match` on `Err`, goes round
//!   again from at least one error path, and leaves the loop unconditionally
//!   when the call succeeds. Loops over items or pages that skip or stop on
//!   failure, and polling loops that wait for a state (their exit is
//!   conditional), are not retries and are never reported.
//! - A `while True` / `loop` is capped when an error path leaves the loop
//!   under a condition (`if attempt >= 5: raise`) or a `raise` sits
//!   anywhere in the loop outside the `try`; `while attempt < n` is capped.
//! - A wait that grows linearly (`attempt * 1.0`), or whose duration comes
//!   from a call we do not know (`next_delay()`), is not judged. A wait
//!   reached through a project helper not named like a sleep (`backoff_wait(i)`)
//!   makes the loop's wait unknown: the loop is not reported unless it has
//!   no cap. A wait given by a name or attribute that the loop does not
//!   change (`self.retry_delay`) is a fixed wait.
//! - Status-code retries with no `try` (`if r.status_code == 429: sleep;
//!   continue`) are not seen, nor `.catch()` chains in a loop.
//! - A library's settings given through `**kwargs`, a spread, or an options
//!   object we cannot follow are not judged. A strategy of the user's own
//!   (`wait=my_wait`) is not judged; its cap still is.
//! - Policy: a missing cap is reported for every library but one:
//!   `backoff.on_exception(backoff.expo, E)` with no `max_tries` or
//!   `max_time` retries forever, yet its full jitter spreads the retries,
//!   and the rule's contract calls it fine; it is reported only when
//!   `jitter=None` takes the jitter away. backoff's `constant` is jittered
//!   too (every wait goes through `jitter`, `full_jitter` by default).
//! - urllib3 `Retry(..)` with no `backoff_factor` retries at once and is
//!   reported; `Retry(0)`/`Retry(total=0)` turns retrying off. requests'
//!   `HTTPAdapter(max_retries=3)` is not judged.
//! - A module-level construction (`const policy = retry(..)`) is judged in
//!   scope of the first function of its file that uses it.

use super::Rule;
use crate::facts::{Ctx, ExitKind, Expr, FuncId, LoopKind, Module, Span};
use crate::finding::{Axis, Finding, Severity};
use crate::knowledge::{any_matches, last_segment, Backoff, LangKnowledge, RetryLib};
use crate::link::{CallRef, Given, Origin, Project};
use std::collections::HashSet;

pub static RULE: Rule = Rule {
    id: "MCP102",
    name: "retry-without-backoff",
    axis: Axis::Maintenance,
    severity: Severity::Low,
    // No CWE names a retry storm; CWE-400 fits its effect on the upstream.
    cwe: &["CWE-400"],
    precision: "medium",
    source: include_str!("retry_without_backoff.rs"),
    check,
};

fn check(p: &Project, m: u32, out: &mut Vec<Finding>) {
    check_loops(p, m, out);
    check_libraries(p, m, out);
}

/// A retry's verdict: its wait and whether it stops.
fn verdict_text(wait: Backoff, capped: bool) -> Option<(String, Severity)> {
    let what = match wait {
        Backoff::None => Some("retries at once, with no wait between attempts"),
        Backoff::Fixed => Some("waits the same time before every attempt, so clients that failed together retry together"),
        Backoff::Exponential => Some("backs off exponentially with no jitter, so clients that failed together retry together"),
        Backoff::Jittered | Backoff::Other => None,
    };
    match (what, capped) {
        (None, true) => None,
        (None, false) => Some((
            "never stops retrying: no cap on attempts or time".into(),
            Severity::Medium,
        )),
        (Some(w), true) => Some((w.to_string(), Severity::Low)),
        (Some(w), false) => Some((
            format!("{w}, and never stops: no cap on attempts or time"),
            Severity::Medium,
        )),
    }
}

// ------------------------------------------------------------ hand-written loops

fn check_loops(p: &Project, m: u32, out: &mut Vec<Finding>) {
    let module = p.module(m);
    let lk = p.lk(m);
    for (li, l) in module.loops.iter().enumerate() {
        let li = li as u32;
        let Some(func) = l.func else { continue };
        // Cheap first: a retry loop holds a try.
        if !module
            .tries
            .iter()
            .any(|t| t.func == l.func && t.ctx.contains(&Ctx::Loop(li)))
        {
            continue;
        }
        let Some(counted) = counts_attempts(module, lk, l) else {
            continue;
        };
        let Some(t) = retried_try(p, m, li, func) else {
            continue;
        };
        let try_span = module.tries[t as usize].span;
        if !fails_round(module, li, t, try_span) || !succeeds_out(module, li, t, l.span) {
            continue;
        }
        let capped = counted || has_cap_exit(module, li, t, try_span);
        let wait = loop_wait(p, m, li, func, l.span);
        let Some((why, severity)) = verdict_text(wait, capped) else {
            continue;
        };
        out.push(
            RULE.finding(
                p,
                m,
                Some(func),
                l.span,
                format!("this retry loop {why}"),
                "wait between attempts with exponential backoff and jitter (`base * 2 ** attempt + random.uniform(0, base)`), and cap the attempts".into(),
            )
            .with_severity(severity),
        );
    }
}

/// `Some(true)` for a loop that counts its attempts, `Some(false)` for one
/// that runs until something ends it, `None` for a loop over items.
fn counts_attempts(module: &Module, lk: &LangKnowledge, l: &crate::facts::Loop) -> Option<bool> {
    match l.kind {
        LoopKind::ForEach => {
            let iter = l.iter.as_ref()?;
            let range = match iter {
                Expr::Binary { op, .. } => op.starts_with(".."),
                Expr::Call(c) => {
                    let call = module.call(*c);
                    call.path
                        .as_deref()
                        .is_some_and(|p| any_matches(&lk.retry_loops.ranges, p))
                }
                _ => false,
            };
            range.then_some(true)
        }
        LoopKind::ForC => Some(l.cond.is_some()),
        LoopKind::While | LoopKind::DoWhile => match &l.cond {
            None | Some(Expr::Bool(true)) => Some(false),
            Some(c) if compares(c) => Some(true),
            // `while not done`, `while (!ok)`: a flag, no count.
            Some(Expr::Name(_) | Expr::Attr(..) | Expr::Unary { .. }) => Some(false),
            Some(Expr::Num(n)) if n != "0" => Some(false),
            // `while let Some(url) = it.next()`, `while queue:` over a call:
            // a loop over items.
            Some(_) => None,
        },
        LoopKind::Loop => Some(false),
    }
}

/// `attempt < n`, `retries > 0`: a condition that counts.
fn compares(e: &Expr) -> bool {
    let mut hit = false;
    e.walk(&mut |x| {
        if let Expr::Binary { op, .. } = x {
            hit |= matches!(op.as_str(), "<" | "<=" | ">" | ">=");
        }
    });
    hit
}

/// The try of loop `li` whose protected body makes an upstream call.
fn retried_try(p: &Project, m: u32, li: u32, func: FuncId) -> Option<u32> {
    let module = p.module(m);
    for (id, _) in module.calls.iter().enumerate() {
        let Some(ctx) = p.ctx_in(module, id as u32, func) else {
            continue;
        };
        let Some(t) = try_in_loop(ctx, li) else {
            continue;
        };
        let c = CallRef {
            module: m,
            call: id as u32,
        };
        // A retry helper calls what it is given (`await fn()`): judged by
        // what its callers give it.
        let given = match &module.call(id as u32).callee {
            Expr::Name(n) if module.is_param(Some(func), n) => {
                p.param_reaches_upstream(crate::link::FuncRef { module: m, func }, n, 2)
            }
            _ => false,
        };
        if given || p.call_reaches_upstream(c) {
            return Some(t);
        }
    }
    None
}

/// The innermost try body, directly in loop `li` (no other loop between),
/// that `ctx` sits in.
fn try_in_loop(ctx: &[Ctx], li: u32) -> Option<u32> {
    let at = ctx.iter().position(|c| *c == Ctx::Loop(li))?;
    let mut found = None;
    for c in &ctx[at + 1..] {
        match c {
            Ctx::Loop(_) | Ctx::Catch { .. } | Ctx::Finally(_) => return None,
            Ctx::Try(t) => found = Some(*t),
            _ => {}
        }
    }
    found
}

/// The innermost loop an exit sits in.
fn innermost_loop(ctx: &[Ctx]) -> Option<u32> {
    ctx.iter().rev().find_map(|c| match c {
        Ctx::Loop(l) => Some(*l),
        _ => None,
    })
}

/// Does this exit leave loop `li`?
fn leaves(x: &crate::facts::Exit, li: u32) -> bool {
    match x.kind {
        ExitKind::Return | ExitKind::Raise => true,
        ExitKind::Break => innermost_loop(&x.ctx) == Some(li),
        _ => false,
    }
}

/// Is the exit under a condition that starts inside `span`?
fn guarded_within(x: &crate::facts::Exit, span: Span) -> bool {
    x.guard
        .is_some_and(|g| g.start_byte > span.start_byte && g.end_byte <= span.end_byte)
}

fn exits_in_loop(module: &Module, li: u32) -> impl Iterator<Item = &crate::facts::Exit> {
    let func = module.loops[li as usize].func;
    module
        .exits
        .iter()
        .filter(move |x| x.func == func && x.ctx.contains(&Ctx::Loop(li)))
}

/// At least one error path of try `t` goes round the loop again: a
/// `continue` in it, or no exit in it that leaves the loop unconditionally.
fn fails_round(module: &Module, li: u32, t: u32, try_span: Span) -> bool {
    let clauses = module.tries[t as usize].clauses.len() as u32;
    (0..clauses).any(|k| {
        let clause = Ctx::Catch {
            try_id: t,
            clause: k,
        };
        let mut exits = exits_in_loop(module, li).filter(|x| x.ctx.contains(&clause));
        let continues = exits_in_loop(module, li).any(|x| {
            x.ctx.contains(&clause)
                && x.kind == ExitKind::Continue
                && innermost_loop(&x.ctx) == Some(li)
        });
        continues || !exits.any(|x| leaves(x, li) && !guarded_within(x, try_span))
    })
}

/// Success ends the loop: a `return`/`break` outside the error paths of
/// try `t`, under no condition inside the loop. A loop whose exit waits for
/// a state (`if status == "done": return`) polls; it does not retry.
fn succeeds_out(module: &Module, li: u32, t: u32, loop_span: Span) -> bool {
    exits_in_loop(module, li).any(|x| {
        matches!(x.kind, ExitKind::Return | ExitKind::Break)
            && leaves(x, li)
            && !x
                .ctx
                .iter()
                .any(|c| matches!(c, Ctx::Catch { try_id, .. } if *try_id == t))
            && !guarded_within(x, loop_span)
    })
}

/// An error path that leaves the loop under a condition, or a `raise`
/// outside the try body: the loop gives up at some point.
fn has_cap_exit(module: &Module, li: u32, t: u32, try_span: Span) -> bool {
    exits_in_loop(module, li).any(|x| {
        let in_catch = x
            .ctx
            .iter()
            .any(|c| matches!(c, Ctx::Catch { try_id, .. } if *try_id == t));
        let in_body = x.ctx.contains(&Ctx::Try(t));
        leaves(x, li)
            && ((in_catch && guarded_within(x, try_span))
                || (x.kind == ExitKind::Raise && !in_body))
    })
}

/// What the loop waits between attempts.
fn loop_wait(p: &Project, m: u32, li: u32, func: FuncId, loop_span: Span) -> Backoff {
    let module = p.module(m);
    let lk = p.lk(m);
    let rl = &lk.retry_loops;
    let mut kinds = Vec::new();
    for (id, call) in module.calls.iter().enumerate() {
        let Some(ctx) = p.ctx_in(module, id as u32, func) else {
            continue;
        };
        if !ctx.contains(&Ctx::Loop(li)) {
            continue;
        }
        let path = call.path.as_deref().unwrap_or("");
        let name = call.name().unwrap_or("");
        let duration = if any_matches(&rl.sleeps, path)
            || rl
                .sleep_names
                .iter()
                .any(|n| n == name || n == last_segment(path))
        {
            Some(call.positional(0))
        } else if call.func != Some(func) && any_matches(&lk.timers, path) {
            // `new Promise(r => setTimeout(r, ms))`
            Some(call.positional(1))
        } else {
            None
        };
        match duration {
            Some(Some(d)) => kinds.push(duration_kind(p, m, func, d, loop_span, li, 0)),
            Some(None) => kinds.push(Backoff::Other),
            None => {
                let lower = name.to_ascii_lowercase();
                let waits_by_name = ["sleep", "delay", "backoff", "wait"]
                    .iter()
                    .any(|w| lower.contains(w));
                let target_sleeps = p
                    .target(CallRef {
                        module: m,
                        call: id as u32,
                    })
                    .is_some_and(|t| function_sleeps(p, t.module, t.func));
                if waits_by_name || target_sleeps {
                    kinds.push(Backoff::Other);
                }
            }
        }
    }
    if kinds.is_empty() {
        return Backoff::None;
    }
    for k in [Backoff::Jittered, Backoff::Other, Backoff::Exponential] {
        if kinds.contains(&k) {
            return k;
        }
    }
    Backoff::Fixed
}

/// Does project function `f` call a sleep itself?
fn function_sleeps(p: &Project, m: u32, f: FuncId) -> bool {
    let module = p.module(m);
    let rl = &p.lk(m).retry_loops;
    module.calls_in(Some(f)).iter().any(|&c| {
        let call = module.call(c);
        call.path
            .as_deref()
            .is_some_and(|path| any_matches(&rl.sleeps, path))
    })
}

/// The kind of a wait's duration: random, growing, or the same each time.
fn duration_kind(
    p: &Project,
    m: u32,
    func: FuncId,
    d: &Expr,
    loop_span: Span,
    li: u32,
    depth: u8,
) -> Backoff {
    let module = p.module(m);
    let rl = &p.lk(m).retry_loops;
    let loop_vars: &[String] = &module.loops[li as usize].vars;
    let mut random = false;
    let mut grows = false;
    let mut unknown = false;
    let mut linear = false;
    let mut names: Vec<String> = Vec::new();
    let mut calls = Vec::new();
    d.walk(&mut |x| match x {
        Expr::Binary { op, .. } if op == "**" || op == "<<" => grows = true,
        Expr::Call(c) => calls.push(*c),
        Expr::Func(_) => unknown = true,
        Expr::Name(n) => names.push(n.clone()),
        Expr::Attr(..) => {
            if let Some(n) = x.dotted() {
                names.push(n);
            }
        }
        _ => {}
    });
    // Calls inside the duration, and their receivers and arguments.
    let mut seen = HashSet::new();
    while let Some(c) = calls.pop() {
        if !seen.insert(c) {
            continue;
        }
        let call = module.call(c);
        let path = call.path.as_deref().unwrap_or("");
        let name = call.name().unwrap_or("");
        if any_matches(&rl.random, path) || any_matches(&rl.random, name) {
            random = true;
        } else if any_matches(&rl.power, path) || rl.power.iter().any(|w| w == name) {
            grows = true;
        } else if !rl.pure.iter().any(|w| w == name || w == last_segment(path)) {
            unknown = true;
        }
        let mut parts: Vec<&Expr> = call.args.iter().map(|a| &a.value).collect();
        parts.extend(call.receiver.as_ref());
        for e in parts {
            e.walk(&mut |x| match x {
                Expr::Call(k) => calls.push(*k),
                Expr::Name(n) => names.push(n.clone()),
                _ => {}
            });
        }
    }
    for n in &names {
        // Changed in the loop: `delay *= 2`, `delay = delay * 2`.
        for u in module.updates.iter().filter(|u| {
            &u.name == n
                && u.func == Some(func)
                && loop_span.start_byte <= u.span.start_byte
                && u.span.end_byte <= loop_span.end_byte
        }) {
            if matches!(u.op.as_str(), "*" | "<<" | "**") {
                grows = true;
            } else {
                unknown = true;
            }
        }
        if loop_vars.contains(n) {
            // The attempt number used as it is: a linear wait, unless it is
            // an exponent (`2 ** attempt`).
            linear = true;
        }
        if depth < 2 {
            for b in module.bindings_of(Some(func), n) {
                if b.func != Some(func) {
                    continue;
                }
                let inside = loop_span.start_byte <= b.span.start_byte
                    && b.span.end_byte <= loop_span.end_byte;
                let self_ref = {
                    let mut hit = false;
                    b.value
                        .walk(&mut |x| hit |= matches!(x, Expr::Name(k) if k == n));
                    hit
                };
                match duration_kind(p, m, func, &b.value, loop_span, li, depth + 1) {
                    Backoff::Jittered => random = true,
                    Backoff::Exponential => grows = true,
                    Backoff::Other => unknown = true,
                    Backoff::Fixed | Backoff::None => {
                        if inside && self_ref {
                            // `delay = delay * 2` grows; `+` is linear.
                            let mut doubles = false;
                            b.value.walk(&mut |x| {
                                doubles |= matches!(x, Expr::Binary { op, .. } if op == "*");
                            });
                            if doubles {
                                grows = true;
                            } else {
                                unknown = true;
                            }
                        } else if inside && mentions_any(&b.value, loop_vars) {
                            linear = true;
                        }
                    }
                }
            }
        }
    }
    if random {
        Backoff::Jittered
    } else if unknown {
        Backoff::Other
    } else if grows {
        Backoff::Exponential
    } else if linear {
        Backoff::Other
    } else {
        Backoff::Fixed
    }
}

fn mentions_any(e: &Expr, names: &[String]) -> bool {
    let mut hit = false;
    e.walk(&mut |x| {
        if let Expr::Name(n) = x {
            hit |= names.contains(n);
        }
    });
    hit
}

// ------------------------------------------------------------ retry libraries

fn check_libraries(p: &Project, m: u32, out: &mut Vec<Finding>) {
    let module = p.module(m);
    let lk = p.lk(m);
    if lk.retries.is_empty() {
        return;
    }
    let mut decorator_calls = HashSet::new();
    // `@retry` written bare: every default applies.
    for (fi, f) in module.functions.iter().enumerate() {
        for d in &f.decorators {
            if let Expr::Call(c) = d.expr {
                decorator_calls.insert(c);
                if let Some(lib) = library_of(module, lk, c) {
                    judge_construct(p, m, Some(fi as FuncId), c, lib, d.span, out);
                }
                continue;
            }
            let Some(path) = module.resolve_path(&d.expr, f.parent, module.lang()) else {
                continue;
            };
            if let Some(lib) = lk.retries.iter().find(|r| any_matches(&r.callee, &path)) {
                let wait = lib_default_wait(lib);
                if let Some((why, severity)) = verdict_text(wait, lib.capped) {
                    out.push(
                        RULE.finding(
                            p,
                            m,
                            Some(fi as FuncId),
                            d.span,
                            message(lib, &why),
                            help(lib),
                        )
                        .with_severity(severity),
                    );
                }
            }
        }
    }
    for (id, call) in module.calls.iter().enumerate() {
        let id = id as u32;
        if decorator_calls.contains(&id) {
            continue;
        }
        let Some(lib) = library_of(module, lk, id) else {
            continue;
        };
        // A builder step on a construct already judged (`ExponentialBuilder::default().with_jitter()`
        // has one construct, the first call).
        if let Some(Expr::Call(r)) = &call.receiver {
            if library_of(module, lk, *r).is_some() {
                continue;
            }
        }
        let func = call.func.or_else(|| {
            p.user_of_binding(CallRef {
                module: m,
                call: id,
            })
        });
        judge_construct(p, m, func, id, lib, call.span, out);
    }
}

fn library_of<'k>(module: &Module, lk: &'k LangKnowledge, c: u32) -> Option<&'k RetryLib> {
    let path = module.call(c).path.as_deref()?;
    lk.retries.iter().find(|r| any_matches(&r.callee, path))
}

fn lib_default_wait(lib: &RetryLib) -> Backoff {
    if lib.jitter_by_default {
        Backoff::Jittered
    } else {
        lib.backoff
    }
}

#[allow(clippy::too_many_arguments)]
fn judge_construct(
    p: &Project,
    m: u32,
    func: Option<FuncId>,
    id: u32,
    lib: &RetryLib,
    span: Span,
    out: &mut Vec<Finding>,
) {
    let module = p.module(m);
    let c = CallRef {
        module: m,
        call: id,
    };
    let call = module.call(id);
    let setting = |keys: &[String]| p.construct_setting(c, keys, lib.options_arg);
    // Retrying turned off: nothing to judge.
    if let Given::Value(Some(v)) = setting(&lib.off) {
        if is_zero(&v) {
            return;
        }
    }
    if lib.options_arg.is_none() && call.positional(0).is_some_and(is_zero) && !lib.off.is_empty() {
        return;
    }
    // The wait.
    let mut base = lib.backoff;
    let strategy = match setting(&lib.strategy) {
        Given::Hidden => return,
        Given::Value(v) => v,
        Given::Absent => lib.strategy_arg.and_then(|i| call.positional(i)).cloned(),
    };
    if let Some(s) = &strategy {
        base = strategy_kind(p, m, call.func, s, span.start_byte);
    }
    match setting(&lib.growth) {
        Given::Hidden => return,
        Given::Value(Some(v)) if !is_zero(&v) => base = Backoff::Exponential,
        _ => {}
    }
    let jitter_on = match setting(&lib.jitter) {
        Given::Hidden => return,
        Given::Value(None) => true,
        Given::Value(Some(v)) => !is_off(&v),
        Given::Absent => lib.jitter_by_default,
    };
    // A random part in a chained step (`.map(jitter)`).
    let chained_random = crate::link::chained_after(module, id).iter().any(|s| {
        module.call(*s).args.iter().any(|a| {
            let mut hit = false;
            a.value.walk(&mut |x| {
                if let Some(path) = module.resolve_path(x, call.func, module.lang()) {
                    hit |= any_matches(&p.lk(m).retry_loops.random, &path);
                }
            });
            hit
        })
    });
    let wait = if (jitter_on && base != Backoff::None) || chained_random {
        Backoff::Jittered
    } else {
        base
    };
    // The cap.
    let capped = match setting(&lib.cap) {
        _ if !lib.cap_judged => true,
        Given::Hidden => return,
        Given::Value(Some(Expr::Null)) if lib.null_uncaps => false,
        Given::Value(Some(Expr::Null)) => lib.capped && !uncapped(p, c, lib),
        Given::Value(Some(v)) => !is_infinite(&v),
        Given::Value(None) => true,
        Given::Absent => lib.capped && !uncapped(p, c, lib),
    };
    let Some((why, severity)) = verdict_text(wait, capped) else {
        return;
    };
    out.push(
        RULE.finding(p, m, func, span, message(lib, &why), help(lib))
            .with_severity(severity),
    );
}

fn uncapped(p: &Project, c: CallRef, lib: &RetryLib) -> bool {
    matches!(p.construct_setting(c, &lib.uncap, None), Given::Value(_))
}

/// What a strategy value waits: a known strategy call or name, or a sum of
/// them (`wait_exponential(..) + wait_random(0, 1)`).
fn strategy_kind(p: &Project, m: u32, func: Option<FuncId>, e: &Expr, pos: u32) -> Backoff {
    let module = p.module(m);
    let lk = p.lk(m);
    let known = |path: &str| {
        lk.backoff_strategies
            .iter()
            .find(|s| any_matches(&s.callee, path))
            .map(|s| s.backoff)
    };
    match e {
        Expr::Binary { lhs, rhs, .. } => {
            let a = strategy_kind(p, m, func, lhs, pos);
            let b = strategy_kind(p, m, func, rhs, pos);
            for k in [
                Backoff::Jittered,
                Backoff::Other,
                Backoff::Exponential,
                Backoff::Fixed,
            ] {
                if a == k || b == k {
                    return k;
                }
            }
            Backoff::None
        }
        Expr::Call(c) => {
            let call = module.call(*c);
            call.path
                .as_deref()
                .and_then(known)
                .unwrap_or(Backoff::Other)
        }
        Expr::Name(_) | Expr::Attr(..) => {
            if let Some(k) = module
                .resolve_path(e, func, module.lang())
                .as_deref()
                .and_then(known)
            {
                return k;
            }
            let origins = p.trace(m, func, e, pos);
            let mut kind = None;
            for o in origins {
                let k = match o {
                    Origin::Call(cr) if cr.module == m => {
                        strategy_kind(p, m, func, &Expr::Call(cr.call), pos)
                    }
                    _ => Backoff::Other,
                };
                if kind.is_some_and(|x| x != k) {
                    return Backoff::Other;
                }
                kind = Some(k);
            }
            kind.unwrap_or(Backoff::Other)
        }
        _ => Backoff::Other,
    }
}

fn num(e: &Expr) -> Option<f64> {
    match e {
        Expr::Num(n) => n
            .trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '_')
            .replace('_', "")
            .parse()
            .ok(),
        _ => None,
    }
}

fn is_zero(e: &Expr) -> bool {
    num(e) == Some(0.0) || matches!(e, Expr::Bool(false))
}

/// `None`, `null`, `0`, `false`: a jitter setting that takes the jitter away.
fn is_off(e: &Expr) -> bool {
    is_zero(e) || matches!(e, Expr::Null)
}

fn is_infinite(e: &Expr) -> bool {
    match e {
        Expr::Name(n) => n == "Infinity",
        Expr::Attr(_, f) => f == "POSITIVE_INFINITY",
        _ => false,
    }
}

fn message(lib: &RetryLib, why: &str) -> String {
    format!("this {} retry {why}", lib.name)
}

fn help(lib: &RetryLib) -> String {
    format!(
        "give the {} retry an exponential backoff with jitter and a cap on attempts ({})",
        lib.name,
        lib.source.split(':').next().unwrap_or("")
    )
}
