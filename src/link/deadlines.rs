//! Deadlines: whether code runs under a deadline, and helpers every caller
//! of which runs them under one.

use super::*;

impl Project<'_> {
    /// Describes the deadline that bounds code at `ctx` inside `func`, if
    /// any: an enclosing deadline call or `with`, walking out through
    /// lambdas (a closure handed to `withTimeout(..)` runs under it).
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
                    Ctx::With { items } => {
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
                    ctxs = module.func(id).ctx.clone();
                    f = module.func(id).parent;
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
            let wants = match d.form.as_str() {
                "call" => arg.is_some() && arg != d.duration_arg.map(|a| a as u32),
                "context" => arg.is_none(),
                "race" => arg.is_some(),
                _ => false,
            };
            if !wants {
                continue;
            }
            if d.form == "race" {
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
        let mut covered: HashSet<FuncRef> = HashSet::new();
        let candidates: Vec<FuncRef> = self.callers.keys().copied().collect();
        loop {
            let mut changed = false;
            for f in &candidates {
                if covered.contains(f) {
                    continue;
                }
                let sites = self.callers(*f);
                let all = !sites.is_empty()
                    && sites.iter().all(|s| {
                        let call = self.module(s.module).call(s.call);
                        self.deadline_around(s.module, call.func, &call.ctx)
                            .is_some()
                            || self.enclosing_named(s.module, call.func).is_some_and(|g| {
                                covered.contains(&FuncRef {
                                    module: s.module,
                                    func: g,
                                })
                            })
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
