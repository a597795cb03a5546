//! Retries: which parameters are handed work that reaches an upstream, where a call site sits relative to a loop, and where a retry
//! construct's settings are given (keywords, an options object, builder
//! methods), whatever the language.

use super::*;

/// A setting of a retry construct, as found.
#[derive(Clone, Debug, PartialEq)]
pub enum Given {
    /// Not given: the library's default applies.
    Absent,
    /// Given somewhere we cannot read (`**kwargs`, an options object we
    /// cannot follow).
    Hidden,
    /// Given, with this value (`None` for a builder method with no argument).
    Value(Option<Expr>),
}

impl Project<'_> {
    /// Does calling parameter `name` of `f` (`await fn()` in a retry
    /// helper) reach an upstream, by what `f`'s callers pass for it: a
    /// lambda or function that makes the call, or, `depth` times over, a
    /// parameter of their own that their callers fill?
    pub fn param_reaches_upstream(&self, f: FuncRef, name: &str, depth: u8) -> bool {
        let module = self.module(f.module);
        let Some(index) = module
            .func(f.func)
            .params
            .iter()
            .filter(|p| {
                !matches!(
                    p.name.as_str(),
                    "self" | "&self" | "&mut self" | "cls" | "this"
                )
            })
            .position(|p| p.name == name)
        else {
            return false;
        };
        self.callers(f).iter().any(|c| {
            let cm = self.module(c.module);
            let call = cm.call(c.call);
            match call.positional(index) {
                Some(Expr::Func(g)) => self.reaches_upstream(FuncRef {
                    module: c.module,
                    func: *g,
                }),
                Some(Expr::Name(n)) if depth > 0 => call.func.is_some_and(|cf| {
                    self.param_reaches_upstream(
                        FuncRef {
                            module: c.module,
                            func: cf,
                        },
                        n,
                        depth - 1,
                    )
                }),
                _ => false,
            }
        })
    }

    /// The contexts of call `id` as seen from `func`'s body: its own when it
    /// is made there, else those of the lambda nested in `func` that holds
    /// it (`await withTimeout(() => fetch(u))`). `None` when the call is in
    /// a named function of its own.
    pub fn ctx_in<'a>(&self, module: &'a Module, id: CallId, func: FuncId) -> Option<&'a [Ctx]> {
        let call = module.call(id);
        if call.func == Some(func) {
            return Some(&call.ctx);
        }
        let mut at = call.func?;
        loop {
            let f = module.func(at);
            if f.kind != FuncKind::Lambda {
                return None;
            }
            if f.parent == Some(func) {
                return Some(&f.ctx);
            }
            at = f.parent?;
        }
    }

    /// Setting `keys` of the retry construct made by call `c`: a keyword, a
    /// key of its options object (argument `options_arg`, followed through
    /// a name bound in view), or a builder method chained on it.
    pub fn construct_setting(
        &self,
        c: CallRef,
        keys: &[String],
        options_arg: Option<usize>,
    ) -> Given {
        if keys.is_empty() {
            return Given::Absent;
        }
        let module = self.module(c.module);
        let call = module.call(c.call);
        if let Some(i) = options_arg {
            let Some(arg) = call.args.get(i) else {
                return Given::Absent;
            };
            return self.options_key(c.module, call.func, &arg.value, keys, call.span.start_byte);
        }
        for k in keys {
            if let Some(v) = call.kwarg(k) {
                return Given::Value(Some(v.clone()));
            }
        }
        for id in chained_after(module, c.call) {
            let s = module.call(id);
            if s.method
                .as_deref()
                .is_some_and(|m| keys.iter().any(|k| k == m))
            {
                return Given::Value(s.positional(0).cloned());
            }
        }
        // `**kwargs` may hold any of them.
        if call
            .args
            .iter()
            .any(|a| a.name.is_none() && matches!(a.value, Expr::Spread(_)))
        {
            return Given::Hidden;
        }
        Given::Absent
    }

    fn options_key(
        &self,
        m: u32,
        func: Option<FuncId>,
        e: &Expr,
        keys: &[String],
        pos: u32,
    ) -> Given {
        let origins = match e {
            Expr::Object(_) => vec![Origin::Lit(m, func, e.clone())],
            _ => self.trace(m, func, e, pos),
        };
        let mut out = Given::Absent;
        for o in origins {
            let Origin::Lit(_, _, Expr::Object(obj)) = o else {
                return Given::Hidden;
            };
            match keys.iter().find_map(|k| obj.get(k)) {
                Some(v) => out = Given::Value(Some(v.clone())),
                None if obj.spread => return Given::Hidden,
                None => {}
            }
        }
        out
    }

    /// The function a module-level construction is used from: the first
    /// function of its module that names the binding holding it (or the
    /// object it configures). A policy
    /// built once (`const policy = retry(..)`) is judged where it runs.
    pub fn user_of_binding(&self, c: CallRef) -> Option<FuncId> {
        let module = self.module(c.module);
        // The names holding it, or, for a call that configures an object
        // (`axiosRetry(api, {..})`), the objects it is given.
        let mut names: Vec<&str> = module
            .call_bindings
            .get(&c.call)
            .into_iter()
            .flatten()
            .map(|b| module.bindings[*b as usize].name.as_str())
            .collect();
        if names.is_empty() {
            names.extend(
                module
                    .call(c.call)
                    .args
                    .iter()
                    .filter_map(|a| match &a.value {
                        Expr::Name(n) => Some(n.as_str()),
                        _ => None,
                    }),
            );
        }
        if names.is_empty() {
            return None;
        }
        let mentions = |e: &Expr| {
            let mut hit = false;
            e.walk(&mut |x| {
                if let Expr::Name(n) = x {
                    hit |= names.contains(&n.as_str());
                }
            });
            hit
        };
        module.calls.iter().find_map(|k| {
            let f = k.func?;
            let used = k.receiver.as_ref().is_some_and(mentions)
                || k.args.iter().any(|a| mentions(&a.value));
            used.then_some(f)
        })
    }
}
