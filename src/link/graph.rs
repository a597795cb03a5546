//! The call graph and reach: which functions the MCP entry points run, by
//! which shortest path, and why the rest is left out.
//!
//! Edges over-approximate: a call whose target is not resolved, made on a
//! receiver of unknown type, goes to every method of that name in the same
//! package; a function reaches the functions nested in it, the project
//! functions it hands to other calls, and the constructors of the classes it
//! instantiates. What keeps the scope precise is code that nothing reaches
//! at all — scripts, MCP clients, `__main__` blocks, tests — and reach never
//! crosses from one package to another by a name alone.

use super::*;
use crate::facts::RegionKind;
use crate::knowledge::Role;

pub use crate::finding::LeftOut;

/// One hop of the path from an entry point to a site: `func` is entered
/// through call `via` (none for the entry itself and for nested functions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hop {
    pub func: FuncRef,
    pub via: Option<CallRef>,
}

/// Is a site in code an MCP server runs?
#[derive(Clone, Debug, PartialEq)]
pub enum Scope {
    /// Reached from `entry` (an index into [`Project::entries`]) along
    /// `path`, entry first, the site's function last.
    Reached {
        entry: usize,
        path: Vec<Hop>,
    },
    LeftOut(LeftOut),
}

/// The outcome of the walk from every entry point.
#[derive(Debug, Default)]
pub(super) struct Reach {
    /// Per reached function: the function and call it was first reached
    /// through (none for an entry), and the entry it came from.
    pub pred: HashMap<FuncRef, (Option<Hop>, usize)>,
    /// Packages (manifest directories) with an MCP server in them.
    pub server_packages: HashSet<String>,
    /// Modules that create an MCP client and register no handler.
    pub client_modules: HashSet<u32>,
}

impl Project<'_> {
    /// Is code in `func` of module `m` run by an MCP entry point?
    pub fn scope(&self, m: u32, func: Option<FuncId>) -> Scope {
        if let Some(f) = func {
            let site = FuncRef { module: m, func: f };
            if let Some(&(_, entry)) = self.reach.pred.get(&site) {
                // Back from the site to its entry: one predecessor per
                // function, so this ends; the bound is for safety only.
                let mut path = Vec::new();
                let mut at = Some(site);
                while let Some(g) = at {
                    let prev = self.reach.pred.get(&g).and_then(|(p, _)| *p);
                    path.push(Hop {
                        func: g,
                        via: prev.and_then(|p| p.via),
                    });
                    at = prev.map(|p| p.func);
                    if path.len() > self.reach.pred.len() {
                        break;
                    }
                }
                path.reverse();
                return Scope::Reached { entry, path };
            }
        }
        Scope::LeftOut(self.left_out_reason(m, func))
    }

    fn left_out_reason(&self, m: u32, func: Option<FuncId>) -> LeftOut {
        let module = self.module(m);
        let file = module.path.rsplit('/').next().unwrap_or(&module.path);
        if module.lang() == Lang::Rust && file == "build.rs" {
            return LeftOut::BuildScript;
        }
        let span = match func {
            Some(f) => module.func(f).span,
            None => Span::default(),
        };
        if func.is_some() {
            match module.region_of(span) {
                Some(RegionKind::Test) => return LeftOut::Test,
                Some(RegionKind::MainBlock) => return LeftOut::MainBlock,
                None => {}
            }
            if self.is_test_function(m, func) {
                return LeftOut::Test;
            }
        }
        if self.reach.client_modules.contains(&m) || self.makes_mcp_client(m, func) {
            return LeftOut::McpClient;
        }
        if !self.reach.server_packages.contains(&module.package) {
            return LeftOut::NotAServer;
        }
        LeftOut::Unreached
    }

    /// Where a module-level site sits: `__main__` blocks and test regions
    /// count for code outside any function too.
    pub fn scope_at(&self, m: u32, func: Option<FuncId>, span: Span) -> Scope {
        if func.is_none() {
            match self.module(m).region_of(span) {
                Some(RegionKind::Test) => return Scope::LeftOut(LeftOut::Test),
                Some(RegionKind::MainBlock) => return Scope::LeftOut(LeftOut::MainBlock),
                None => {}
            }
        }
        self.scope(m, func)
    }

    /// A test function, or code inside one: `test_*` in Python, a callback
    /// handed to `describe`/`it`/`test` in JS.
    fn is_test_function(&self, m: u32, func: Option<FuncId>) -> bool {
        let module = self.module(m);
        module.func_chain(func).any(|f| {
            let fun = module.func(f);
            if module.region_of(fun.span) == Some(RegionKind::Test) {
                return true;
            }
            // A registered handler is server code whatever its name.
            if self.entry_of(FuncRef { module: m, func: f }).is_some() {
                return false;
            }
            match module.lang() {
                Lang::Python => fun.name.starts_with("test_") && fun.class.is_none(),
                Lang::TypeScript | Lang::JavaScript => fun.ctx.iter().any(|c| match c {
                    Ctx::Arg { call, .. } => {
                        let c = module.call(*call);
                        c.method.is_none()
                            && matches!(
                                c.name(),
                                Some(
                                    "describe"
                                        | "it"
                                        | "test"
                                        | "beforeEach"
                                        | "afterEach"
                                        | "beforeAll"
                                        | "afterAll"
                                )
                            )
                    }
                    _ => false,
                }),
                Lang::Rust => false,
            }
        })
    }

    /// Does code in `func` (or the module, for `None`) create an MCP client?
    fn makes_mcp_client(&self, m: u32, func: Option<FuncId>) -> bool {
        let module = self.module(m);
        let lk = self.lk(m);
        let ids: &[CallId] = match func {
            Some(f) => &module.func_calls[f as usize],
            None => &module.module_calls,
        };
        ids.iter().any(|&c| is_mcp_client(module.call(c), lk))
    }

    /// Every entry point, in a stable order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry point registered for function `f`, if it is one.
    pub fn entry_of(&self, f: FuncRef) -> Option<&Entry> {
        self.entry_of.get(&f).map(|&i| &self.entries[i])
    }

    /// The functions `f` may run directly, with the call that runs each
    /// (none for nested functions).
    pub(super) fn callees(&self, f: FuncRef) -> Vec<(FuncRef, Option<CallRef>)> {
        self.callee_groups(f)
            .into_iter()
            .flat_map(|(group, via)| group.into_iter().map(move |g| (g, via)))
            .collect()
    }

    /// The functions that make a call `seed` accepts, or run one through
    /// the project functions they run (resolved calls, nested functions,
    /// decorators, callbacks handed on, constructors). A method called on a
    /// value of unknown type counts only when every same-named method of
    /// the package does: one namesake that does is no evidence, and in a
    /// large package some namesake always does.
    pub(super) fn closure_back(&self, seed: impl Fn(CallRef) -> bool) -> HashSet<FuncRef> {
        let mut out: HashSet<FuncRef> = HashSet::new();
        let mut groups: Vec<(FuncRef, Vec<FuncRef>)> = Vec::new();
        let mut waiting: HashMap<FuncRef, Vec<usize>> = HashMap::new();
        for (mi, module) in self.modules.iter().enumerate() {
            let m = mi as u32;
            for fi in 0..module.functions.len() {
                let f = FuncRef {
                    module: m,
                    func: fi as FuncId,
                };
                if module.func_calls[fi]
                    .iter()
                    .any(|&c| seed(CallRef { module: m, call: c }))
                {
                    out.insert(f);
                }
                for (group, _) in self.callee_groups(f) {
                    for g in &group {
                        waiting.entry(*g).or_default().push(groups.len());
                    }
                    groups.push((f, group));
                }
            }
        }
        let mut queue: VecDeque<FuncRef> = out.iter().copied().collect();
        while let Some(g) = queue.pop_front() {
            for &i in waiting.get(&g).map(Vec::as_slice).unwrap_or(&[]) {
                let (user, group) = &groups[i];
                if !out.contains(user) && group.iter().all(|t| out.contains(t)) {
                    out.insert(*user);
                    queue.push_back(*user);
                }
            }
        }
        out
    }

    /// What `f` may run, one group per way: a group of one for what is
    /// known, the candidates of a method call on a value of unknown type.
    fn callee_groups(&self, f: FuncRef) -> Vec<(Vec<FuncRef>, Option<CallRef>)> {
        let module = self.module(f.module);
        let mut out: Vec<(Vec<FuncRef>, Option<CallRef>)> = Vec::new();
        // The project's decorators run around the function (`@tool_errors()`
        // wraps every call; `@require_scopes(..)` checks each one).
        let fun = module.func(f.func);
        for d in &fun.decorators {
            let target = match &d.expr {
                Expr::Call(id) => {
                    self.target(CallRef {
                        module: f.module,
                        call: *id,
                    })
                    .or_else(|| self.function_value(f.module, fun.parent, &module.call(*id).callee))
                }
                e => self.function_value(f.module, fun.parent, e),
            };
            out.extend(target.map(|t| (vec![t], None)));
        }
        for &child in &module.func_children[f.func as usize] {
            out.push((
                vec![FuncRef {
                    module: f.module,
                    func: child,
                }],
                None,
            ));
        }
        for &c in &module.func_calls[f.func as usize] {
            let cref = CallRef {
                module: f.module,
                call: c,
            };
            let call = module.call(c);
            match self.target(cref) {
                Some(t) => out.push((vec![t], Some(cref))),
                None => {
                    // A method handing on to a namesake of another object
                    // (`def get(..): return self.raw.get(..)`) is not
                    // calling itself.
                    let cands: Vec<FuncRef> = self
                        .fallback_targets(f.module, call)
                        .into_iter()
                        .filter(|t| *t != f)
                        .collect();
                    if !cands.is_empty() {
                        out.push((cands, Some(cref)));
                    }
                }
            }
            // Project functions handed to the call: callbacks, tasks, threads.
            for a in &call.args {
                if let Some(t) = self.function_value(f.module, call.func, &a.value) {
                    out.push((vec![t], Some(cref)));
                }
            }
            // `Api(..)` / `new Api()`: the class's constructor.
            if let Some(t) = self.constructor_of(f.module, call) {
                out.push((vec![t], Some(cref)));
            }
        }
        out
    }

    /// A project function an argument names (`handler`, `self.on_done`,
    /// `this.handle`), not a call or a literal.
    pub(super) fn function_value(&self, m: u32, func: Option<FuncId>, e: &Expr) -> Option<FuncRef> {
        let module = self.module(m);
        match e {
            Expr::Name(n) => {
                if module.is_param(func, n) || !module.bindings_of(func, n).is_empty() {
                    return None;
                }
                self.local_function(m, func, n).or_else(|| {
                    let imp = module.import(n)?;
                    self.resolve_import(m, &imp.path)
                })
            }
            Expr::Attr(o, meth) if matches!(o.as_ref(), Expr::Name(s) if s == "self" || s == "this") =>
            {
                let cl = module.class_of(func)?;
                self.method_in(m, &cl.name, meth)
            }
            _ => None,
        }
    }

    /// For a call that builds an instance of a project class: its
    /// constructor.
    pub(super) fn constructor_of(&self, m: u32, call: &crate::facts::Call) -> Option<FuncRef> {
        let module = self.module(m);
        let Expr::Name(n) = &call.callee else {
            return None;
        };
        // Most calls build no project class: decide that without a lookup.
        let last = n.rsplit(['.', ':']).next().unwrap_or(n);
        if !self.class_names.contains(last)
            && module.import(n).is_none_or(|i| {
                !self
                    .class_names
                    .contains(i.path.rsplit(['.', ':']).next().unwrap_or(""))
            })
        {
            return None;
        }
        let (cm, class) = self.class_at(m, n)?;
        ["__init__", "__post_init__", "constructor"]
            .iter()
            .find_map(|ctor| self.method_in(cm, &class, ctor))
    }

    /// Where an unresolved call may go: a method call on a receiver of
    /// unknown type goes to every method of that name in the package; a
    /// plain name not imported from a library, to the package's top-level
    /// functions of that name.
    pub(super) fn fallback_targets(&self, m: u32, call: &crate::facts::Call) -> Vec<FuncRef> {
        let module = self.module(m);
        let Some(name) = call.name() else {
            return Vec::new();
        };
        let method = call.method.is_some();
        if let Some(root) = call.callee.root_name() {
            if let Some(imp) = module.import(root) {
                // A library's function or a library object's method.
                if !self.is_project_import(m, &imp.path) {
                    return Vec::new();
                }
            }
        }
        if let Some(Expr::Call(id)) = &call.receiver {
            // `super().__init__(..)`: the base classes' method, not every
            // method of that name.
            if module.call(*id).name() == Some("super") {
                return self.base_methods(m, call.func, name);
            }
        }
        let Some(cands) = self.by_name.get(name) else {
            return Vec::new();
        };
        let found: Vec<FuncRef> = cands
            .iter()
            .copied()
            .filter(|f| {
                let fm = self.module(f.module);
                let fun = fm.func(f.func);
                // A method call may land on a method or on a function kept
                // in an object's property (`{ handler: async (args) => .. }`);
                // a plain call, on a function that is no method.
                let fits = if method {
                    fun.class.is_some() || fun.kind == FuncKind::Lambda
                } else {
                    fun.class.is_none()
                };
                // Its own package, or a workspace package it imports by name
                // (`use client::Client` … `self.client.get_issue(..)`).
                let near = self.package_of[f.module as usize] == self.package_of[m as usize]
                    || method && self.imports_package(m, &fm.package);
                // A Rust call never lands in a Python method: a package
                // holding servers in several languages (a repository's root,
                // examples side by side) links each only within its own.
                let same_runtime = fm.lang.map(|l| l.pack()) == module.lang.map(|l| l.pack());
                near && fits && same_runtime && !is_declaration(fm, fun)
            })
            .collect();
        // Only now, with candidates to rule out, trace the receiver: a
        // library's object has the library's methods.
        if let Some(recv) = &call.receiver {
            if !found.is_empty() && self.library_value(m, call.func, recv, call.span.start_byte) {
                return Vec::new();
            }
        }
        found
    }

    /// Does module `m` import the workspace package in directory `dir` by
    /// its name?
    fn imports_package(&self, m: u32, dir: &str) -> bool {
        self.imported_packages[m as usize].iter().any(|d| d == dir)
    }

    /// The methods named `name` of the project classes the class around
    /// `func` derives from.
    fn base_methods(&self, m: u32, func: Option<FuncId>, name: &str) -> Vec<FuncRef> {
        let module = self.module(m);
        let Some(class) = module.class_of(func) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for b in &class.bases {
            let base = base_class_name(b);
            if let Some(cands) = self.by_name.get(name) {
                for f in cands {
                    let fm = self.module(f.module);
                    if fm.package != module.package {
                        continue;
                    }
                    if let Some(c) = fm.func(f.func).class {
                        if fm.classes[c as usize].name == base {
                            out.push(*f);
                        }
                    }
                }
            }
        }
        out
    }

    /// Is `e` a library's object: every value it may hold is built by a
    /// call into an imported library (`Agent(..)`, `httpx.AsyncClient()`),
    /// or it is a parameter whose annotation names a library type (`ctx:
    /// Context`)? Its methods are the library's, not the project's.
    fn library_value(&self, m: u32, func: Option<FuncId>, e: &Expr, pos: u32) -> bool {
        let module = self.module(m);
        if let Expr::Name(n) = e {
            if module.is_param(func, n) {
                let ann = module
                    .func_chain(func)
                    .flat_map(|f| module.func(f).params.iter())
                    .find(|p| &p.name == n)
                    .and_then(|p| p.annotation.clone());
                return ann.is_some_and(|a| {
                    let root = a
                        .trim_start_matches(['&', ' '])
                        .split(['.', '[', '<', ':', ' '])
                        .next()
                        .unwrap_or("");
                    module
                        .import(root)
                        .is_some_and(|i| !self.is_project_import(m, &i.path))
                });
            }
        }
        if !matches!(e, Expr::Name(_) | Expr::Call(_)) {
            return false;
        }
        let origins = self.trace(m, func, e, pos);
        !origins.is_empty()
            && origins.iter().all(|o| match o {
                Origin::Call(c) => {
                    let cm = self.module(c.module);
                    let call = cm.call(c.call);
                    call.path.is_some()
                        && call
                            .callee
                            .root_name()
                            .and_then(|r| cm.import(r))
                            .is_some_and(|i| !self.is_project_import(c.module, &i.path))
                }
                _ => false,
            })
    }

    /// Does an import path name a module of this project?
    pub(super) fn is_project_import(&self, m: u32, path: &str) -> bool {
        let module = self.module(m);
        match module.lang() {
            Lang::Rust => {
                let head = path.split("::").next().unwrap_or(path);
                matches!(head, "crate" | "self" | "super")
                    || self.packages_by_name.contains_key(head)
            }
            lang => {
                let module_part = path.rsplit_once('.').map(|(a, _)| a).unwrap_or(path);
                if path.starts_with('.') {
                    return true;
                }
                [path, module_part].iter().any(|p| {
                    self.import_keys_of(lang, &module.path, p)
                        .unwrap_or_default()
                        .iter()
                        .any(|k| self.module_keys.contains_key(k))
                })
            }
        }
    }

    /// Walks from every entry point, breadth first, so each reached function
    /// keeps one shortest path back to an entry.
    pub(super) fn compute_reach(&self) -> Reach {
        let mut r = Reach::default();
        for (i, m) in self.modules.iter().enumerate() {
            let lk = self.lk(i as u32);
            let has_entry = self
                .entries
                .iter()
                .any(|e| e.func.module == i as u32 || e.module == i as u32);
            if !has_entry && m.calls.iter().any(|c| is_mcp_client(c, lk)) {
                r.client_modules.insert(i as u32);
            }
        }
        for e in &self.entries {
            if !matches!(e.role, Role::Auth | Role::Route) {
                r.server_packages
                    .insert(self.module(e.func.module).package.clone());
            }
        }
        let mut queue: VecDeque<FuncRef> = VecDeque::new();
        for (i, e) in self.entries.iter().enumerate() {
            // Auth checks and routes serve an MCP server only where there is one.
            if matches!(e.role, Role::Auth | Role::Route)
                && !r
                    .server_packages
                    .contains(&self.module(e.func.module).package)
            {
                continue;
            }
            if !self.never_server(e.func) && !r.pred.contains_key(&e.func) {
                r.pred.insert(e.func, (None, i));
                queue.push_back(e.func);
            }
        }
        while let Some(f) = queue.pop_front() {
            let entry = r.pred[&f].1;
            for (g, via) in self.callees(f) {
                if r.pred.contains_key(&g) || self.never_server(g) {
                    continue;
                }
                r.pred.insert(g, (Some(Hop { func: f, via }), entry));
                queue.push_back(g);
            }
        }
        r
    }

    /// Tests, `__main__` blocks, build scripts and MCP client code: never
    /// server code, whatever calls them.
    fn never_server(&self, f: FuncRef) -> bool {
        let module = self.module(f.module);
        let file = module.path.rsplit('/').next().unwrap_or(&module.path);
        (module.lang() == Lang::Rust && file == "build.rs")
            || module.region_of(module.func(f.func).span).is_some()
            || self.is_test_function(f.module, Some(f.func))
            || self.makes_mcp_client(f.module, Some(f.func))
    }
}

fn is_mcp_client(c: &crate::facts::Call, lk: &LangKnowledge) -> bool {
    c.path
        .as_deref()
        .is_some_and(|p| any_matches(&lk.mcp_clients, p))
}

/// A method that only declares a signature for others to implement: an
/// `@abstractmethod`, or a member of a `typing.Protocol`. A call never runs
/// its body, so it is no candidate for where the call goes.
fn is_declaration(module: &crate::facts::Module, fun: &crate::facts::Function) -> bool {
    let abstract_ = fun.decorators.iter().any(|d| {
        d.expr
            .dotted()
            .is_some_and(|p| p == "abstractmethod" || p.ends_with(".abstractmethod"))
    });
    abstract_
        || fun.class.is_some_and(|c| {
            module.classes[c as usize]
                .bases
                .iter()
                .any(|b| b == "Protocol" || b.ends_with(".Protocol") || b.starts_with("Protocol["))
        })
}

/// The class a base written as `pkg.Base[T]` / `Base<T>` / `Base(..)` names.
pub(super) fn base_class_name(written: &str) -> &str {
    let base = written
        .split(['[', '<', '('])
        .next()
        .unwrap_or(written)
        .trim();
    base.rsplit('.').next().unwrap_or(base)
}
