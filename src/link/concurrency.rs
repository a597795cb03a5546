//! Concurrency: calls that run several awaitables at once and combine their
//! results (`asyncio.gather`, `Promise.all`, `tokio::try_join!`,
//! `join_all`), what each awaitable runs and whether that reaches an
//! upstream, the collection a fan-out runs over and whether the caller sizes
//! it, and whether a concurrency limiter caps the work. Which calls
//! aggregate, settle, spawn, map or limit is knowledge (`[[aggregator]]`,
//! `[[concurrency_limiter]]`, `task_spawners`, `map_methods`,
//! `append_methods`).

use super::*;
use crate::knowledge::{AggregateFailure, AggregateInput, Aggregator, ConcurrencyLimiter};

/// How far the work of an item is followed into project functions when
/// looking for a limiter it takes.
const LIMITER_DEPTH: u8 = 3;
/// How far a collection's value is followed back through bindings.
const SIZE_DEPTH: u8 = 8;

/// A call to a known aggregator.
#[derive(Clone, Debug)]
pub struct Aggregation<'k> {
    pub call: CallRef,
    pub aggregator: &'k Aggregator,
    /// Every result is kept, failed or not: a settling aggregator, or its
    /// settle keyword given `True`. `None` when that keyword is given a
    /// value we cannot read.
    pub settles: Option<bool>,
    pub items: Items,
}

/// What an aggregation is given.
#[derive(Clone, Debug)]
pub enum Items {
    /// A list of awaitables written out, one expression each, in the
    /// aggregation's own function.
    Fixed(Vec<Expr>),
    /// A collection built from items one by one.
    FanOut(FanOut),
    /// Anything else: a collection whose making we cannot see.
    Unknown,
}

/// A collection of awaitables made from another collection: each item of
/// `over` runs `work`.
#[derive(Clone, Debug)]
pub struct FanOut {
    /// The work per item: a call (`fetch(x)`), a function value or a lambda
    /// (`x => fetch(x)`), written in `func`.
    pub work: Expr,
    pub func: Option<FuncId>,
    /// The collection iterated, written in `over_func` at byte `over_pos`.
    pub over: Expr,
    pub over_func: Option<FuncId>,
    pub over_pos: u32,
}

/// What tells two awaitables' sources apart: the callee (as written, or the
/// project function), and the host of a literal URL argument.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WorkKey {
    pub callee: String,
    /// For messages: the callee as a reader knows it.
    pub name: String,
    pub host: Option<String>,
}

impl WorkKey {
    /// Different callees, or the same callee on two literal hosts.
    pub fn differs(&self, other: &WorkKey) -> bool {
        self.callee != other.callee
            || matches!((&self.host, &other.host), (Some(a), Some(b)) if a != b)
    }
}

impl<'k> Project<'k> {
    /// Every call of module `m` to a known aggregator, with what it combines.
    pub fn aggregations(&self, m: u32) -> impl Iterator<Item = Aggregation<'k>> + '_ {
        let none = self.lk(m).aggregators.is_empty();
        let calls = if none {
            0
        } else {
            self.module(m).calls.len() as u32
        };
        (0..calls).filter_map(move |call| self.aggregation(CallRef { module: m, call }))
    }

    /// The aggregation call `c` is, if it calls a known aggregator.
    pub fn aggregation(&self, c: CallRef) -> Option<Aggregation<'k>> {
        let module = self.module(c.module);
        let call = module.call(c.call);
        let path = call.path.as_deref()?;
        let lk = self.lk(c.module);
        let aggregator = lk
            .aggregators
            .iter()
            .find(|a| any_matches(&a.callee, path))?;
        let settles = match aggregator.failure {
            AggregateFailure::Settled => Some(true),
            AggregateFailure::AllOrNothing => match aggregator
                .settle_kwarg
                .as_deref()
                .and_then(|k| call.kwarg(k))
            {
                None | Some(Expr::Bool(false)) => Some(false),
                Some(Expr::Bool(true)) => Some(true),
                Some(_) => None,
            },
        };
        let pos = call.span.start_byte;
        let items = match aggregator.input {
            AggregateInput::Args => {
                let positional: Vec<&Expr> = call
                    .args
                    .iter()
                    .filter(|a| a.name.is_none())
                    .map(|a| &a.value)
                    .collect();
                match positional.as_slice() {
                    [Expr::Spread(inner)] => self.items_of(c.module, call.func, inner, pos, 0),
                    ps if ps.iter().any(|e| matches!(e, Expr::Spread(_))) => Items::Unknown,
                    ps => Items::Fixed(ps.iter().map(|e| (*e).clone()).collect()),
                }
            }
            AggregateInput::Collection => match call.positional(0) {
                Some(e) => self.items_of(c.module, call.func, e, pos, 0),
                None => Items::Unknown,
            },
        };
        Some(Aggregation {
            call: c,
            aggregator,
            settles,
            items,
        })
    }

    /// What a collection of awaitables written as `e` holds.
    fn items_of(&self, m: u32, func: Option<FuncId>, e: &Expr, pos: u32, depth: u8) -> Items {
        if depth > 4 {
            return Items::Unknown;
        }
        let module = self.module(m);
        let lk = self.lk(m);
        match e {
            Expr::Comprehension { elt, iter } => Items::FanOut(FanOut {
                work: (**elt).clone(),
                func,
                over: (**iter).clone(),
                over_func: func,
                over_pos: pos,
            }),
            Expr::Array(items) => match items.as_slice() {
                [Expr::Spread(inner)] => self.items_of(m, func, inner, pos, depth + 1),
                xs if xs.iter().any(|x| matches!(x, Expr::Spread(_))) => Items::Unknown,
                xs => Items::Fixed(xs.to_vec()),
            },
            Expr::Call(id) => {
                let call = module.call(*id);
                // `items.map(f)`, `items.iter().map(f).collect()`: the first
                // mapping call down the receiver chain.
                let mut cur = *id;
                for _ in 0..8 {
                    let c = module.call(cur);
                    if c.method
                        .as_deref()
                        .is_some_and(|mm| lk.map_methods.iter().any(|x| x == mm))
                    {
                        let work = c
                            .args
                            .iter()
                            .rev()
                            .find(|a| a.name.is_none())
                            .map(|a| a.value.clone());
                        return match (work, &c.receiver) {
                            (Some(work), Some(recv)) => Items::FanOut(FanOut {
                                work,
                                func: c.func,
                                over: recv.clone(),
                                over_func: c.func,
                                over_pos: c.span.start_byte,
                            }),
                            _ => Items::Unknown,
                        };
                    }
                    match &c.receiver {
                        Some(Expr::Call(r)) => cur = *r,
                        _ => break,
                    }
                }
                // `list(f(x) for x in xs)`: a generator handed to a constructor.
                if call.args.len() == 1 && call.receiver.is_none() {
                    if let Some(inner @ Expr::Comprehension { .. }) = call.positional(0) {
                        return self.items_of(m, func, inner, pos, depth + 1);
                    }
                }
                Items::Unknown
            }
            Expr::Name(n) => {
                // Filled in a loop (`tasks = []` .. `tasks.append(f(x))`).
                if let Some(fo) = self.appended_in_loop(m, func, n) {
                    return Items::FanOut(fo);
                }
                for b in module.bindings_at(func, n, pos) {
                    if b.func != func {
                        continue;
                    }
                    match self.items_of(m, b.func, &b.value, b.span.start_byte, depth + 1) {
                        Items::Unknown => {}
                        found => return found,
                    }
                }
                Items::Unknown
            }
            _ => Items::Unknown,
        }
    }

    /// `tasks.append(fetch(u))` inside `for u in urls:` in `func`: the list
    /// `name` is built one item per element of the loop's collection.
    fn appended_in_loop(&self, m: u32, func: Option<FuncId>, name: &str) -> Option<FanOut> {
        let module = self.module(m);
        let lk = self.lk(m);
        for &ci in module.calls_in(func) {
            let c = module.call(ci);
            let appends = c
                .method
                .as_deref()
                .is_some_and(|mm| lk.append_methods.iter().any(|x| x == mm))
                && matches!(&c.receiver, Some(Expr::Name(r)) if r == name);
            if !appends {
                continue;
            }
            let Some(work) = c.positional(0) else {
                continue;
            };
            // The innermost loop the append sits in.
            let Some(l) = c.ctx.iter().rev().find_map(|x| match x {
                Ctx::Loop(l) => Some(*l),
                _ => None,
            }) else {
                continue;
            };
            let lp = &module.loops[l as usize];
            let Some(over) = &lp.iter else { continue };
            return Some(FanOut {
                work: work.clone(),
                func,
                over: over.clone(),
                over_func: lp.func,
                over_pos: lp.span.start_byte,
            });
        }
        None
    }

    /// Does the awaitable written as `e` in `func` reach an upstream? Its
    /// key when it does: an upstream call, a call to a project function
    /// that makes or reaches one, a lambda or async block that does, a task
    /// spawned from one, or a name bound to one of these in `func`.
    pub fn upstream_work(&self, m: u32, func: Option<FuncId>, e: &Expr) -> Option<WorkKey> {
        self.work_key(m, func, e, 0)
    }

    fn work_key(&self, m: u32, func: Option<FuncId>, e: &Expr, depth: u8) -> Option<WorkKey> {
        if depth > 6 {
            return None;
        }
        let module = self.module(m);
        match e {
            Expr::Call(id) => {
                let call = module.call(*id);
                if self.is_task_spawner(m, call) {
                    let inner = call.positional(0)?;
                    return self.work_key(m, func, inner, depth + 1);
                }
                // Down the receiver chain (`fetch(u).then(..)`,
                // `client.get(u).send()`): the first call that reaches out.
                let mut cur = *id;
                for _ in 0..12 {
                    let cref = CallRef {
                        module: m,
                        call: cur,
                    };
                    let c = module.call(cur);
                    if self.upstream(cref).is_some() {
                        return Some(WorkKey {
                            callee: callee_text(module, &c.callee),
                            name: callee_text(module, &c.callee),
                            host: first_host(c),
                        });
                    }
                    if let Some(t) = self.target(cref) {
                        if self.reaches_upstream(t) {
                            let f = self.module(t.module).func(t.func);
                            return Some(WorkKey {
                                callee: format!("{}:{}", t.module, t.func),
                                name: f.name.clone(),
                                host: first_host(c),
                            });
                        }
                        return None;
                    }
                    // A method on a value of unknown type: what an awaitable
                    // handed to an aggregator calls is async work, so the
                    // package's methods of that name decide, when every one
                    // of them reaches an upstream.
                    if c.method.is_some() {
                        let cands = self.fallback_targets(m, c);
                        if !cands.is_empty() && cands.iter().all(|t| self.reaches_upstream(*t)) {
                            return Some(WorkKey {
                                callee: callee_text(module, &c.callee),
                                name: callee_text(module, &c.callee),
                                host: first_host(c),
                            });
                        }
                    }
                    match &c.receiver {
                        Some(Expr::Call(r)) => cur = *r,
                        _ => return None,
                    }
                }
                None
            }
            // A lambda or async block: what it reaches first.
            Expr::Func(f) => {
                let fr = FuncRef {
                    module: m,
                    func: *f,
                };
                if !self.reaches_upstream(fr) {
                    return None;
                }
                let inner = self.first_work_in(fr, depth);
                Some(inner.unwrap_or_else(|| WorkKey {
                    callee: format!("{m}:{f}"),
                    name: "an async block".into(),
                    host: None,
                }))
            }
            Expr::Name(n) => {
                for b in module.bindings_at(func, n, u32::MAX) {
                    if b.func == func {
                        if let Some(k) = self.work_key(m, func, &b.value, depth + 1) {
                            return Some(k);
                        }
                    }
                }
                None
            }
            _ => None,
        }
    }

    /// The key of the first call in `f` (or a function nested in it) that
    /// reaches an upstream.
    fn first_work_in(&self, f: FuncRef, depth: u8) -> Option<WorkKey> {
        let module = self.module(f.module);
        let mut funcs = vec![f.func];
        let mut i = 0;
        while i < funcs.len() && i < 32 {
            let g = funcs[i];
            for &c in module.calls_in(Some(g)) {
                // Only outermost calls of a chain: the chain walk sees the rest.
                if module.calls_on(c).next().is_some() {
                    continue;
                }
                if let Some(k) = self.work_key(f.module, Some(g), &Expr::Call(c), depth + 1) {
                    return Some(k);
                }
            }
            funcs.extend(module.func_children[g as usize].iter().copied());
            i += 1;
        }
        None
    }

    fn is_task_spawner(&self, m: u32, call: &crate::facts::Call) -> bool {
        let lk = self.lk(m);
        lk.task_spawners.iter().any(|s| {
            if s.contains('.') || s.contains("::") {
                call.path.as_deref().is_some_and(|p| path_matches_one(s, p))
            } else {
                call.method.as_deref() == Some(s.as_str())
                    || call.path.as_deref() == Some(s.as_str())
            }
        })
    }

    /// Does project function `f` make an upstream call, or reach one
    /// through the project functions it calls or the functions nested in it?
    pub fn reaches_upstream(&self, f: FuncRef) -> bool {
        self.reaches_upstream
            .get_or_init(|| self.closure_back(|c| self.upstream(c).is_some()))
            .contains(&f)
    }

    /// Does call `c` reach an upstream: is it one, or a call into a project
    /// function that reaches one?
    pub fn call_reaches_upstream(&self, c: CallRef) -> bool {
        self.upstream(c).is_some() || self.target(c).is_some_and(|t| self.reaches_upstream(t))
    }

    /// The project function or lambda a fan-out's work runs, when it is a
    /// function value or a lambda rather than a call.
    fn work_function(&self, m: u32, func: Option<FuncId>, work: &Expr) -> Option<FuncRef> {
        match work {
            Expr::Func(f) => Some(FuncRef {
                module: m,
                func: *f,
            }),
            _ => self.function_value(m, func, work),
        }
    }

    /// Does the fan-out's work reach an upstream?
    pub fn fan_out_reaches_upstream(&self, m: u32, fo: &FanOut) -> Option<WorkKey> {
        if let Some(f) = self.work_function(m, fo.func, &fo.work) {
            if !self.reaches_upstream(f) {
                return None;
            }
            let name = self.module(f.module).func(f.func).name.clone();
            return Some(self.first_work_in(f, 0).unwrap_or(WorkKey {
                callee: format!("{}:{}", f.module, f.func),
                name,
                host: None,
            }));
        }
        self.upstream_work(m, fo.func, &fo.work)
    }

    /// Does the fan-out's work take a concurrency limiter (a semaphore
    /// entered or acquired, a p-limit wrapper called), in itself or in the
    /// project functions it runs, a few calls deep?
    pub fn fan_out_limited(&self, m: u32, fo: &FanOut) -> bool {
        let module = self.module(m);
        let mut funcs: Vec<FuncRef> = Vec::new();
        if let Some(f) = self.work_function(m, fo.func, &fo.work) {
            funcs.push(f);
        } else if let Expr::Call(id) = &fo.work {
            if self.call_takes_limiter(m, *id) {
                return true;
            }
            let mut cur = Some(*id);
            while let Some(c) = cur {
                let cref = CallRef { module: m, call: c };
                funcs.extend(self.target(cref));
                let call = module.call(c);
                if self.is_task_spawner(m, call) {
                    if let Some(Expr::Call(inner)) = call.positional(0) {
                        if self.call_takes_limiter(m, *inner) {
                            return true;
                        }
                        funcs.extend(self.target(CallRef {
                            module: m,
                            call: *inner,
                        }));
                    }
                }
                // Lambdas handed to the work call (`limit(() => f(x))`).
                for a in &call.args {
                    if let Expr::Func(f) = a.value {
                        funcs.push(FuncRef { module: m, func: f });
                    }
                }
                cur = match &call.receiver {
                    Some(Expr::Call(r)) => Some(*r),
                    _ => None,
                };
            }
        } else {
            return false;
        }
        let mut seen: HashSet<FuncRef> = HashSet::new();
        let mut level = funcs;
        for _ in 0..LIMITER_DEPTH {
            let mut next = Vec::new();
            for f in level {
                if !seen.insert(f) {
                    continue;
                }
                if self.function_takes_limiter(f) {
                    return true;
                }
                let fm = self.module(f.module);
                next.extend(fm.func_children[f.func as usize].iter().map(|&g| FuncRef {
                    module: f.module,
                    func: g,
                }));
                for &c in fm.calls_in(Some(f.func)) {
                    next.extend(self.target(CallRef {
                        module: f.module,
                        call: c,
                    }));
                }
            }
            level = next;
        }
        false
    }

    /// Calls or `with` blocks in `f` itself that take a limiter.
    fn function_takes_limiter(&self, f: FuncRef) -> bool {
        let module = self.module(f.module);
        let lk = self.lk(f.module);
        if module
            .calls_in(Some(f.func))
            .iter()
            .any(|&c| self.call_takes_limiter(f.module, c))
        {
            return true;
        }
        let context_limiters: Vec<&ConcurrencyLimiter> = lk
            .concurrency_limiters
            .iter()
            .filter(|l| l.context)
            .collect();
        if context_limiters.is_empty() {
            return false;
        }
        // `async with sem:`: a limiter, or an object we cannot see (a lock
        // or a semaphore handed in): either caps the work it guards.
        module
            .with_values
            .iter()
            .filter(|w| w.func == Some(f.func))
            .any(|w| {
                let origins = self.trace(f.module, w.func, &w.value, w.span.start_byte);
                origins.is_empty()
                    || origins.iter().any(|o| match o {
                        Origin::Call(c) => context_limiters
                            .iter()
                            .any(|l| self.call_path_matches(*c, &l.constructors)),
                        _ => true,
                    })
            })
    }

    /// Is call `id` a limiter taken: `sem.acquire()` on a limiter (or on
    /// something we cannot see), or a p-limit wrapper called?
    fn call_takes_limiter(&self, m: u32, id: CallId) -> bool {
        let module = self.module(m);
        let lk = self.lk(m);
        let call = module.call(id);
        for l in &lk.concurrency_limiters {
            let target = if l.called && call.receiver.is_none() {
                Some(&call.callee)
            } else if call
                .method
                .as_deref()
                .is_some_and(|mm| l.methods.iter().any(|x| x == mm))
            {
                call.receiver.as_ref()
            } else {
                None
            };
            let Some(target) = target else { continue };
            if !matches!(target, Expr::Name(_) | Expr::Attr(..) | Expr::Call(_)) {
                continue;
            }
            let origins = self.trace(m, call.func, target, call.span.start_byte);
            let by_limiter = origins.iter().any(|o| match o {
                Origin::Call(c) => self.call_path_matches(*c, &l.constructors),
                _ => false,
            });
            // A method of a limiter's on an object we cannot see counts;
            // a function we cannot see called with the work does not.
            let hidden_receiver = !l.called
                && origins.iter().all(|o| matches!(o, Origin::Unknown))
                && !origins.is_empty();
            if by_limiter || hidden_receiver {
                return true;
            }
        }
        false
    }

    /// Is the size of collection `e` (written in `func` at `pos`) up to the
    /// caller: read from a parameter (a tool's argument, or a helper's,
    /// which its caller passes on) or from an upstream's response, or
    /// derived from one? A literal list, a `range` of a literal, a module
    /// constant, an attribute of `self` or a loop variable (a batch) is not.
    /// Returns what decides it, for the message.
    pub fn caller_sized(&self, m: u32, func: Option<FuncId>, e: &Expr, pos: u32) -> Option<String> {
        self.sized_by(m, func, e, pos, SIZE_DEPTH)
    }

    fn sized_by(
        &self,
        m: u32,
        func: Option<FuncId>,
        e: &Expr,
        pos: u32,
        depth: u8,
    ) -> Option<String> {
        if depth == 0 {
            return None;
        }
        let module = self.module(m);
        match e {
            Expr::Name(n) => {
                if matches!(n.as_str(), "self" | "this" | "cls" | "Self") {
                    return None;
                }
                let bindings = module.bindings_at(func, n, pos);
                if !bindings.is_empty() {
                    return bindings.iter().find_map(|b| {
                        self.sized_by(m, b.func, &b.value, b.span.start_byte, depth - 1)
                    });
                }
                if module.is_param(func, n) {
                    return Some(format!("`{n}`, a parameter"));
                }
                None
            }
            // A slice (`urls[:10]`, `&urls[..10]`) is taken to be bounded by
            // its width.
            Expr::Index(_, key) if matches!(key.as_ref(), Expr::Unknown(k) if k.contains(':') || k.contains("..")) => {
                None
            }
            Expr::Attr(o, _) | Expr::Index(o, _) => self.sized_by(m, func, o, pos, depth - 1),
            Expr::Spread(o) | Expr::Unary { operand: o, .. } => {
                self.sized_by(m, func, o, pos, depth - 1)
            }
            Expr::Comprehension { iter, .. } => self.sized_by(m, func, iter, pos, depth - 1),
            Expr::Binary { lhs, rhs, .. } => self
                .sized_by(m, func, lhs, pos, depth - 1)
                .or_else(|| self.sized_by(m, func, rhs, pos, depth - 1)),
            Expr::Conditional {
                then, otherwise, ..
            } => self
                .sized_by(m, func, then, pos, depth - 1)
                .or_else(|| self.sized_by(m, func, otherwise, pos, depth - 1)),
            Expr::Array(items) => items.iter().find_map(|x| match x {
                Expr::Spread(inner) => self.sized_by(m, func, inner, pos, depth - 1),
                _ => None,
            }),
            Expr::Call(id) => {
                let cref = CallRef {
                    module: m,
                    call: *id,
                };
                let call = module.call(*id);
                if self.upstream(cref).is_some() {
                    return Some("an upstream's response".into());
                }
                if let Some(t) = self.target(cref) {
                    if self.reaches_upstream(t) {
                        return Some(format!(
                            "what `{}` fetches",
                            self.module(t.module).func(t.func).name
                        ));
                    }
                }
                if let Some(r) = &call.receiver {
                    if let Some(w) = self.sized_by(m, func, r, pos, depth - 1) {
                        return Some(w);
                    }
                }
                call.args.iter().find_map(|a| match &a.value {
                    Expr::Func(_) => None,
                    v => self.sized_by(m, func, v, pos, depth - 1),
                })
            }
            _ => None,
        }
    }
}

/// `a.b.c`, or the method name when the receiver is not a plain chain.
fn callee_text(module: &Module, e: &Expr) -> String {
    match e {
        Expr::Name(n) => n.clone(),
        Expr::Attr(o, f) => match o.dotted() {
            Some(d) => format!("{d}.{f}"),
            None => match o.as_ref() {
                Expr::Call(id) => {
                    format!("{}().{f}", callee_text(module, &module.call(*id).callee))
                }
                _ => f.clone(),
            },
        },
        _ => "?".into(),
    }
}

/// The host of the first URL literal among a call's arguments
/// (`https://api.a.com/x` → `api.a.com`).
fn first_host(c: &crate::facts::Call) -> Option<String> {
    c.args.iter().find_map(|a| {
        let text = match &a.value {
            Expr::Str(s) => s.as_str(),
            Expr::Template(parts) => match parts.first() {
                Some(TemplatePart::Lit(s)) => s.as_str(),
                _ => return None,
            },
            _ => return None,
        };
        let rest = text
            .strip_prefix("https://")
            .or_else(|| text.strip_prefix("http://"))?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        (!host.is_empty()).then(|| host.to_string())
    })
}

fn path_matches_one(pattern: &str, path: &str) -> bool {
    crate::knowledge::path_matches(pattern, path)
}
