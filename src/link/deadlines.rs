//! Deadlines: whether code runs under a deadline, and helpers every caller
//! of which runs them under one.

use super::*;
use crate::knowledge::DeadlineForm;

impl Project<'_> {
    /// The deadline that bounds call `c`, if any, described for messages:
    /// one around it (see [`Project::deadline_around`]), or one its result
    /// is handed to later — `task = client.get(u)` … `wait_for(task, 5)`,
    /// `task = asyncio.create_task(fetch(u))` … `wait_for(task, 5)`,
    /// `let fut = async move { .. }; timeout(d, fut).await`.
    pub fn deadline_over(&self, c: CallRef) -> Option<String> {
        let module = self.module(c.module);
        let call = module.call(c.call);
        if let Some(d) = self.deadline_around(c.module, call.func, &call.ctx) {
            return Some(d);
        }
        let mut held = vec![c.call];
        held.extend(chained_after(module, c.call));
        // A call whose argument holds this one (`create_task(fetch(u))`).
        for x in call.ctx.iter().rev() {
            match x {
                Ctx::Arg { call: outer, .. } => held.push(*outer),
                _ => break,
            }
        }
        self.bound_then_deadlined(c.module, call.func, Held::Calls(&held))
    }

    /// A value that `holds` accepts, bound to a name in `func`, and that
    /// name later handed to a deadline in the same function.
    fn bound_then_deadlined(&self, m: u32, func: Option<FuncId>, held: Held) -> Option<String> {
        let module = self.module(m);
        let bindings: Vec<u32> = match held {
            Held::Calls(ids) => ids
                .iter()
                .flat_map(|c| module.call_bindings.get(c).into_iter().flatten().copied())
                .collect(),
            Held::Func(f) => module.func_bindings.get(&f).cloned().unwrap_or_default(),
        };
        for b in bindings {
            let b = &module.bindings[b as usize];
            if b.func != func {
                continue;
            }
            for &ci in module.calls_in(func) {
                let c = module.call(ci);
                if c.span.start_byte < b.span.start_byte {
                    continue;
                }
                for (i, a) in c.args.iter().enumerate() {
                    if a.value.root_name() != Some(b.name.as_str()) {
                        continue;
                    }
                    let ctx = [Ctx::Arg {
                        call: ci,
                        index: i as u32,
                    }];
                    if let Some(d) = self.deadline_around(m, func, &ctx) {
                        return Some(d);
                    }
                }
            }
        }
        None
    }

    /// Describes the deadline that bounds code at `ctx` inside `func`, if
    /// any: an enclosing deadline call or `with`, walking out through
    /// lambdas (a closure handed to `withTimeout(..)` runs under it, and so
    /// does an async block bound to a name that is handed to one later).
    pub fn deadline_around(&self, m: u32, func: Option<FuncId>, ctx: &[Ctx]) -> Option<String> {
        let module = self.module(m);
        let mut ctxs: Vec<Ctx> = ctx.to_vec();
        let mut f = func;
        loop {
            for c in ctxs.iter().rev() {
                match c {
                    Ctx::Arg { call, index } => {
                        if let Some(d) = self.deadline_call(m, *call, Some(*index)) {
                            return Some(d);
                        }
                    }
                    Ctx::With { items, .. } => {
                        for i in items {
                            if let Some(d) = self.deadline_call(m, *i, None) {
                                return Some(d);
                            }
                        }
                    }
                    _ => {}
                }
            }
            match f {
                Some(id) if module.func(id).kind == FuncKind::Lambda => {
                    let parent = module.func(id).parent;
                    if let Some(d) = self.bound_then_deadlined(m, parent, Held::Func(id)) {
                        return Some(d);
                    }
                    ctxs = module.func(id).ctx.clone();
                    f = parent;
                }
                _ => return None,
            }
        }
    }

    /// Is call `id` a deadline for what sits in its argument `arg` (or, for
    /// `arg == None`, in the body of a `with` on it)?
    pub(super) fn deadline_call(&self, m: u32, id: CallId, arg: Option<u32>) -> Option<String> {
        let module = self.module(m);
        let lk = self.lk(m);
        let c = module.call(id);
        let name = c.path.clone().or_else(|| c.name().map(str::to_string))?;
        for d in &lk.deadlines {
            let path = c.path.as_deref().unwrap_or("");
            if !any_matches(&d.callee, path) {
                continue;
            }
            let wants = match d.form {
                DeadlineForm::Call => arg.is_some() && arg != d.duration_arg.map(|a| a as u32),
                DeadlineForm::Context => arg.is_none(),
                DeadlineForm::Race => arg.is_some(),
                DeadlineForm::Signal => false,
            };
            if !wants {
                continue;
            }
            if d.form == DeadlineForm::Race {
                return self
                    .race_has_timer(m, id)
                    .then(|| format!("`{name}` against a timer"));
            }
            let duration = d
                .duration_kwarg
                .as_deref()
                .and_then(|k| c.kwarg(k))
                .or_else(|| d.duration_arg.and_then(|i| c.positional(i)));
            if matches!(duration, Some(Expr::Null)) {
                return None;
            }
            return Some(format!("`{name}`"));
        }
        if arg.is_some() && c.method.is_none() {
            // A project helper that applies a deadline to what it is given
            // (`withTimeout(() => call(), ms)`), or one from a library whose
            // name says so.
            if let Some(t) = self.target(CallRef {
                module: m,
                call: id,
            }) {
                if self.applies_deadline(t) {
                    return Some(format!("`{name}`"));
                }
                return None;
            }
            let last = crate::knowledge::last_segment(&name).to_ascii_lowercase();
            if last.contains("timeout") || last.contains("deadline") {
                return Some(format!("`{name}`"));
            }
        }
        None
    }

    /// Does function `f` (or a lambda inside it) call a deadline primitive
    /// or a timer?
    pub fn applies_deadline(&self, f: FuncRef) -> bool {
        let module = self.module(f.module);
        let lk = self.lk(f.module);
        module.calls.iter().any(|c| {
            let inside = module.func_chain(c.func).any(|x| x == f.func);
            inside
                && c.path.as_deref().is_some_and(|p| {
                    lk.deadlines.iter().any(|d| any_matches(&d.callee, p))
                        || any_matches(&lk.timers, p)
                })
        })
    }

    pub(super) fn race_has_timer(&self, m: u32, race: CallId) -> bool {
        let module = self.module(m);
        let lk = self.lk(m);
        // Any call inside the race's arguments (or in a lambda there) that is
        // a timer, or a promise-returning helper named like one.
        module.calls.iter().enumerate().any(|(i, c)| {
            if i as CallId == race {
                return false;
            }
            let in_race = |ctx: &[Ctx]| {
                ctx.iter()
                    .any(|x| matches!(x, Ctx::Arg { call, .. } if *call == race))
            };
            let mut inside = in_race(&c.ctx);
            let mut f = c.func;
            while !inside {
                match f {
                    Some(id) if module.func(id).kind == FuncKind::Lambda => {
                        inside = in_race(&module.func(id).ctx);
                        f = module.func(id).parent;
                    }
                    _ => break,
                }
            }
            if !inside {
                return false;
            }
            let timerish = c
                .path
                .as_deref()
                .is_some_and(|p| any_matches(&lk.timers, p))
                || c.name().is_some_and(|n| {
                    let n = n.to_ascii_lowercase();
                    n.contains("timeout")
                        || n.contains("delay")
                        || n.contains("sleep")
                        || n.contains("deadline")
                });
            timerish
        })
    }

    pub(super) fn compute_covered(&self) -> HashSet<FuncRef> {
        // Per function: for each call site, whether a deadline bounds it
        // there, and the named function the site is in. Computed once: the
        // fixpoint below only grows `covered`.
        let sites: Vec<(FuncRef, Vec<SiteJudged>)> = self
            .callers
            .iter()
            .map(|(f, calls)| {
                let judged = calls
                    .iter()
                    .map(|s| {
                        let call = self.module(s.module).call(s.call);
                        let around = self.enclosing_named(s.module, call.func).map(|g| FuncRef {
                            module: s.module,
                            func: g,
                        });
                        (self.deadline_over(*s).is_some(), around)
                    })
                    .collect();
                (*f, judged)
            })
            .collect();
        let mut covered: HashSet<FuncRef> = HashSet::new();
        loop {
            let mut changed = false;
            for (f, judged) in &sites {
                if covered.contains(f) {
                    continue;
                }
                let all = !judged.is_empty()
                    && judged.iter().all(|(bounded, around)| {
                        *bounded || around.is_some_and(|g| covered.contains(&g))
                    });
                if all {
                    covered.insert(*f);
                    changed = true;
                }
            }
            if !changed {
                return covered;
            }
        }
    }

    /// The innermost function around `func` that is not a lambda.
    pub fn enclosing_named(&self, m: u32, func: Option<FuncId>) -> Option<FuncId> {
        let module = self.module(m);
        module
            .func_chain(func)
            .find(|f| module.func(*f).kind != FuncKind::Lambda)
            .or(func)
    }
}

/// Calls chained on the result of `id`, and for a result bound to a name
/// (`let req = client.get(u);`), calls made on that name in the same function.
pub fn chained_after(module: &Module, id: CallId) -> Vec<CallId> {
    let mut out = Vec::new();
    let mut frontier = vec![id];
    while let Some(c) = frontier.pop() {
        for (n, _) in module.calls_on(c) {
            out.push(n);
            frontier.push(n);
        }
    }
    let func = module.call(id).func;
    let held: Vec<CallId> = std::iter::once(id).chain(out.iter().copied()).collect();
    for h in held {
        for &b in module.call_bindings.get(&h).into_iter().flatten() {
            let b = &module.bindings[b as usize];
            if b.func != func {
                continue;
            }
            for &i in module.calls_in(func) {
                let c = module.call(i);
                if c.receiver.as_ref().and_then(|r| r.root_name()) == Some(b.name.as_str()) {
                    out.push(i);
                    for (n, _) in module.calls_on(i) {
                        out.push(n);
                    }
                }
            }
        }
    }
    out
}

/// A call site of a helper: whether a deadline bounds it there, and the
/// named function it is in.
type SiteJudged = (bool, Option<FuncRef>);

/// What a binding must hold to count for [`Project::bound_then_deadlined`].
#[derive(Clone, Copy)]
enum Held<'a> {
    /// One of these calls' results.
    Calls(&'a [CallId]),
    /// This function (a lambda, an async block).
    Func(FuncId),
}
