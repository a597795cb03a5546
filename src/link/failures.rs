//! Failures and where they go: which calls do upstream, database or
//! file-system work (whose errors carry hosts, SQL and paths), which
//! project functions do such work, and whether a function's result or the
//! error it raises reaches an MCP tool's caller.

use super::*;
use crate::knowledge::Role;

/// How a value leaves a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// As its result (`return v`, a tail expression).
    Result,
    /// As an error it raises or propagates (`raise`, `throw`, `Err(..)?`).
    Raise,
}

/// How far a result or an error is followed up through callers.
const CALLER_DEPTH: u8 = 6;

impl Project<'_> {
    /// Does call `c` itself do file-system work (per the knowledge pack)?
    pub fn is_fs_call(&self, c: CallRef) -> bool {
        let lk = self.lk(c.module);
        let call = self.module(c.module).call(c.call);
        lk.file_system.iter().any(|fs| {
            call.path
                .as_deref()
                .is_some_and(|p| any_matches(&fs.functions, p))
                || call
                    .method
                    .as_deref()
                    .is_some_and(|m| fs.methods.iter().any(|x| x == m))
        })
    }

    /// Does call `c` itself reach an upstream, a database or the file system?
    pub fn is_io_call(&self, c: CallRef) -> bool {
        self.is_fs_call(c) || self.upstream(c).is_some()
    }

    /// Does call `c` do upstream, database or file-system work: itself, or
    /// through the project functions it runs (or is handed)? With `direct`,
    /// only the call itself counts.
    pub fn call_does_io(&self, c: CallRef, direct: bool) -> bool {
        if self.is_io_call(c) {
            return true;
        }
        if direct {
            return false;
        }
        let io = self.io_functions();
        let module = self.module(c.module);
        let call = module.call(c.call);
        if let Some(t) = self.target(c) {
            return io.contains(&t);
        }
        // As in the closure: a method on a value of unknown type does I/O
        // only if every namesake does.
        let cands = self.fallback_targets(c.module, call);
        if !cands.is_empty() && cands.iter().all(|t| io.contains(t)) {
            return true;
        }
        call.args.iter().any(|a| match &a.value {
            Expr::Func(f) => io.contains(&FuncRef {
                module: c.module,
                func: *f,
            }),
            v => self
                .function_value(c.module, call.func, v)
                .is_some_and(|t| io.contains(&t)),
        })
    }

    /// The calls made in the protected part of try `t` of module `m`,
    /// including those of functions defined there (`to_thread(lambda: ..)`).
    pub fn try_body_calls(&self, m: u32, t: crate::facts::TryId) -> Vec<CallId> {
        let module = self.module(m);
        let func = module.tries[t as usize].func;
        let in_body = |ctx: &[Ctx]| ctx.contains(&Ctx::Try(t));
        let mut out: Vec<CallId> = module
            .calls_in(func)
            .iter()
            .copied()
            .filter(|&c| in_body(&module.call(c).ctx))
            .collect();
        let mut todo: Vec<FuncId> = match func {
            Some(f) => module.func_children[f as usize]
                .iter()
                .copied()
                .filter(|&g| in_body(&module.func(g).ctx))
                .collect(),
            None => Vec::new(),
        };
        while let Some(g) = todo.pop() {
            out.extend(module.calls_in(Some(g)).iter().copied());
            todo.extend(module.func_children[g as usize].iter().copied());
        }
        out
    }

    /// Is `f` run by some MCP entry point?
    pub fn is_reached(&self, f: FuncRef) -> bool {
        self.reach.pred.contains_key(&f)
    }

    /// Functions that do upstream, database or file-system work, themselves
    /// or through what they run. Computed once.
    pub fn io_functions(&self) -> &HashSet<FuncRef> {
        self.io_funcs
            .get_or_init(|| self.closure_back(|c| self.is_io_call(c)))
    }

    /// The tool handler that receives what function `f` hands on through
    /// `channel`: `f` is one, or every step up to one passes it on (a
    /// caller returns `f`'s result, or lets its error propagate).
    pub fn reaches_tool(&self, f: FuncRef, channel: Channel) -> Option<FuncRef> {
        let mut seen = HashSet::new();
        self.reaches_tool_at(f, channel, CALLER_DEPTH, &mut seen)
    }

    fn reaches_tool_at(
        &self,
        f: FuncRef,
        channel: Channel,
        depth: u8,
        seen: &mut HashSet<FuncRef>,
    ) -> Option<FuncRef> {
        if self.entry_of(f).is_some_and(|e| e.role == Role::Tool) {
            return Some(f);
        }
        if depth == 0 || !seen.insert(f) {
            return None;
        }
        for &c in self.callers(f) {
            let module = self.module(c.module);
            let call = module.call(c.call);
            let Some(g) = call.func else { continue };
            let passes = match channel {
                // An error propagates unless the caller catches around the call.
                Channel::Raise => !call.ctx.iter().any(|x| matches!(x, Ctx::Try(_))),
                Channel::Result => self.returns_call(c.module, g, c.call),
            };
            if passes {
                let up = FuncRef {
                    module: c.module,
                    func: g,
                };
                if let Some(t) = self.reaches_tool_at(up, channel, depth - 1, seen) {
                    return Some(t);
                }
            }
        }
        None
    }

    /// Does function `g` return the value of call `c` (inside its returned
    /// value, or through a name bound to it that it returns)?
    pub fn returns_call(&self, m: u32, g: FuncId, c: CallId) -> bool {
        let module = self.module(m);
        let bound: Vec<&str> = module
            .call_bindings
            .get(&c)
            .map(|bs| {
                bs.iter()
                    .map(|&b| &module.bindings[b as usize])
                    .filter(|b| b.scope == BindScope::Function(g))
                    .map(|b| b.name.as_str())
                    .collect()
            })
            .unwrap_or_default();
        let mut hit = false;
        for (_, _, v) in self.returns_of(FuncRef { module: m, func: g }) {
            walk_deep(module, &v, 0, &mut |e| match e {
                Expr::Call(id) if *id == c => hit = true,
                Expr::Name(n) if bound.contains(&n.as_str()) => hit = true,
                _ => {}
            });
        }
        hit
    }

    /// Is the exception type `t` (resolved through imports) one of a
    /// library the knowledge pack lists as an upstream or database client
    /// (`httpx.HTTPStatusError`, `redis.exceptions.RedisError`)? Catching it
    /// says the protected code does that library's work.
    pub fn is_client_error(&self, m: u32, t: &str) -> bool {
        let root = |p: &str| -> String {
            p.split(['.', ':'])
                .next()
                .unwrap_or(p)
                .trim_end_matches('*')
                .to_string()
        };
        let r = root(t);
        if r.is_empty() || r == t {
            return false;
        }
        self.lk(m).clients.iter().any(|c| {
            c.functions
                .iter()
                .chain(&c.constructors)
                .any(|p| root(p) == r)
        })
    }

    /// Is the exception type `t` (as written, resolved through imports) a
    /// class the project defines?
    pub fn is_project_class(&self, m: u32, t: &str) -> bool {
        let last = t.rsplit(['.', ':']).next().unwrap_or(t);
        if !self.class_names.contains(last) {
            return false;
        }
        if t == last {
            return true;
        }
        self.is_project_import(m, t)
    }

    /// The MCP server object tool entry `e` is registered on, as an
    /// expression to trace: the receiver of the decorator (`@mcp.tool()`)
    /// or of the registering call (`mcp.add_tool(f)`), with the module,
    /// function and position it is written at.
    pub fn tool_server(&self, e: &Entry) -> Option<(u32, Option<FuncId>, Expr, u32)> {
        let rm = self.module(e.module);
        if let Some(c) = rm.calls.iter().find(|c| c.span == e.span) {
            return Some((e.module, c.func, c.receiver.clone()?, c.span.start_byte));
        }
        let hm = self.module(e.func.module);
        let f = hm.func(e.func.func);
        for d in &f.decorators {
            let callee = match &d.expr {
                Expr::Call(id) => &hm.call(*id).callee,
                x => x,
            };
            if let Expr::Attr(recv, _) = callee {
                return Some((e.func.module, f.parent, (**recv).clone(), d.span.start_byte));
            }
        }
        None
    }
}

/// Visits `e` and every sub-expression, following the arguments and
/// receivers of the calls it holds (`json.dumps({"error": str(e)})`).
pub fn walk_deep<'a>(module: &'a Module, e: &'a Expr, depth: u8, f: &mut dyn FnMut(&'a Expr)) {
    if depth > 8 {
        return;
    }
    e.walk(&mut |x| {
        f(x);
        if let Expr::Call(id) = x {
            let c = module.call(*id);
            if let Some(r) = &c.receiver {
                walk_deep(module, r, depth + 1, f);
            }
            for a in &c.args {
                walk_deep(module, &a.value, depth + 1, f);
            }
        }
    });
}
