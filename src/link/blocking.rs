//! Blocking calls: which calls block the thread they run on (`time.sleep`,
//! `requests.get`, `fs.readFileSync`, `std::fs::read`), which project
//! functions that are not async make one (directly or through other
//! functions that are not async), and where the SDK runs a plain function
//! on its event loop. What blocks is knowledge (`[[blocking]]`); link
//! finds it.

use super::*;
use crate::knowledge::Blocking;

/// A sync function that blocks: the blocking call it (or a sync function
/// it calls) makes, and what that call is.
#[derive(Clone, Copy, Debug)]
pub struct Blocks<'k> {
    pub at: CallRef,
    pub kind: &'k Blocking,
}

impl<'k> Project<'k> {
    /// What blocking call `c` is, if it is one. A call link made for a
    /// function handed to an offloading call (`asyncio.to_thread(f, ..)`)
    /// runs elsewhere and is none.
    pub fn blocking_call(&self, c: CallRef) -> Option<&'k Blocking> {
        let module = self.module(c.module);
        let call = module.call(c.call);
        if call.via.is_some() {
            return None;
        }
        let lk = self.lk(c.module);
        if lk.blocking.is_empty() {
            return None;
        }
        if let Some(path) = call.path.as_deref() {
            if let Some(b) = lk
                .blocking
                .iter()
                .find(|b| any_matches(&b.callee, path) && !any_matches(&b.except, path))
            {
                return Some(b);
            }
        }
        if lk.blocking.iter().any(|b| !b.clients.is_empty()) {
            if let Some(up) = self.upstream(c) {
                if let Some(b) = lk
                    .blocking
                    .iter()
                    .find(|b| b.clients.contains(&up.client.name))
                {
                    return Some(b);
                }
            }
        }
        let (Some(meth), Some(recv)) = (&call.method, &call.receiver) else {
            return None;
        };
        lk.blocking.iter().find(|b| {
            b.methods.iter().any(|m| m == meth)
                && !b.receivers.is_empty()
                && self.built_by(
                    c.module,
                    call.func,
                    recv,
                    call.span.start_byte,
                    &b.receivers,
                )
        })
    }

    /// Is every value `recv` may hold built by one of `ctors`, through
    /// builder steps (`Command::new("git").arg(x)`) and bindings?
    fn built_by(
        &self,
        m: u32,
        func: Option<FuncId>,
        recv: &Expr,
        pos: u32,
        ctors: &[String],
    ) -> bool {
        let module = self.module(m);
        // Walk down a chain of method calls to its head.
        let mut e = recv;
        for _ in 0..16 {
            let Expr::Call(id) = e else { break };
            let c = module.call(*id);
            if c.path.as_deref().is_some_and(|p| any_matches(ctors, p)) {
                return true;
            }
            match &c.receiver {
                Some(r) => e = r,
                None => return false,
            }
        }
        if matches!(e, Expr::Call(_)) {
            return false;
        }
        let origins = self.trace(m, func, e, pos);
        !origins.is_empty()
            && origins.iter().all(|o| match o {
                Origin::Call(c) => {
                    if self.call_path_matches(*c, ctors) {
                        return true;
                    }
                    let cc = self.module(c.module).call(c.call);
                    // A builder step on a constructor: `let mut cmd = Command::new(..); cmd.arg(..)`.
                    match &cc.receiver {
                        Some(r @ Expr::Call(_)) => {
                            self.built_by(c.module, cc.func, r, cc.span.start_byte, ctors)
                        }
                        _ => false,
                    }
                }
                _ => false,
            })
    }

    /// For a project function that is not async: the blocking call it
    /// makes, itself or through the sync functions it calls. Computed once
    /// for the whole project.
    pub fn sync_blocker(&self, f: FuncRef) -> Option<Blocks<'k>> {
        self.sync_blockers
            .get_or_init(|| self.compute_sync_blockers())
            .get(&f)
            .copied()
    }

    fn compute_sync_blockers(&self) -> HashMap<FuncRef, Blocks<'k>> {
        let mut out: HashMap<FuncRef, Blocks<'k>> = HashMap::new();
        let mut queue: VecDeque<FuncRef> = VecDeque::new();
        for (mi, module) in self.modules.iter().enumerate() {
            let m = mi as u32;
            if self.lk(m).blocking.is_empty() {
                continue;
            }
            for (ci, call) in module.calls.iter().enumerate() {
                let Some(f) = call.func else { continue };
                if module.func(f).is_async {
                    continue;
                }
                let at = CallRef {
                    module: m,
                    call: ci as CallId,
                };
                let fr = FuncRef { module: m, func: f };
                if out.contains_key(&fr) {
                    continue;
                }
                if let Some(kind) = self.blocking_call(at) {
                    out.insert(fr, Blocks { at, kind });
                    queue.push_back(fr);
                }
            }
        }
        while let Some(g) = queue.pop_front() {
            let b = out[&g];
            for c in self.callers(g) {
                let call = self.module(c.module).call(c.call);
                let Some(h) = call.func else { continue };
                let hr = FuncRef {
                    module: c.module,
                    func: h,
                };
                if call.via.is_some()
                    || self.module(c.module).func(h).is_async
                    || out.contains_key(&hr)
                {
                    continue;
                }
                out.insert(hr, b);
                queue.push_back(hr);
            }
        }
        out
    }

    /// Does the SDK run plain (non-async) handler `f` on its event loop?
    /// A TS tool callback always runs there; a Python `def` tool of
    /// `mcp.server.fastmcp.FastMCP` does when the package pins `mcp` below
    /// 2 (an unpinned or open range is given the benefit of the doubt).
    pub fn sync_tool_on_loop(&self, f: FuncRef, blocking: &Blocking) -> bool {
        let module = self.module(f.module);
        let fun = module.func(f.func);
        if fun.is_async || self.tool(f).is_none() {
            return false;
        }
        if blocking.in_sync_tools {
            return true;
        }
        let lk = self.lk(f.module);
        lk.sync_tools_on_loop.iter().any(|s| {
            let pinned_below = module
                .package_requires
                .iter()
                .filter(|(name, _)| *name == s.package)
                .any(|(_, spec)| {
                    crate::package::max_major(spec).is_some_and(|major| major < s.below_major)
                });
            pinned_below
                && fun.decorators.iter().any(|d| {
                    let server = match &d.expr {
                        Expr::Call(id) => module.call(*id).receiver.clone(),
                        Expr::Attr(obj, _) => Some((**obj).clone()),
                        _ => None,
                    };
                    server.is_some_and(|recv| {
                        self.trace(f.module, fun.parent, &recv, d.span.start_byte)
                            .iter()
                            .any(|o| match o {
                                Origin::Call(c) => self.call_path_matches(*c, &s.servers),
                                _ => false,
                            })
                    })
                })
        })
    }
}
