//! The link step: joins the facts of all files into a [`Project`] and answers
//! the semantic questions rules share — which project function a call
//! reaches, where a value came from, which functions are MCP tool handlers,
//! and whether a call runs under a deadline. Works on facts only; no tree is
//! alive here.

use crate::facts::{
    BindScope, CallId, Ctx, ExitKind, Expr, FuncId, FuncKind, Lang, Module, Span, ToolEntry,
};
use crate::knowledge::{any_matches, Knowledge, LangKnowledge};
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

/// How far value tracing follows bindings, returns and receivers.
const TRACE_DEPTH: u8 = 12;
/// How many functions the walk from a finding back to its tool handlers visits.
const REACH_LIMIT: usize = 2_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FuncRef {
    pub module: u32,
    pub func: FuncId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallRef {
    pub module: u32,
    pub call: CallId,
}

/// Where a traced value may come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    /// A call we did not see into (a library call, usually).
    Call(CallRef),
    /// A literal or other expression, with the module and function it is in.
    Lit(u32, Option<FuncId>, Expr),
    /// A parameter, an attribute set elsewhere, anything we cannot follow.
    Unknown,
}

/// A client object traced back to where it was built.
#[derive(Clone, Debug)]
pub struct ClientOrigin {
    /// The constructor call.
    pub ctor: CallRef,
    /// Method calls between the constructor and the receiver (builder
    /// methods, `acquire()`, `cursor()`), outermost first.
    pub chain: Vec<CallRef>,
    /// Reached through attributes of the client (`client.chat.completions`).
    pub via_attr: bool,
}

pub struct Project<'k> {
    pub modules: Vec<Module>,
    pub kb: &'k Knowledge,
    /// Per module: file-path keys other modules import it by.
    module_keys: HashMap<String, Vec<u32>>,
    /// Per module, per call: the project function it reaches.
    targets: Vec<Vec<Option<FuncRef>>>,
    callers: HashMap<FuncRef, Vec<CallRef>>,
    /// Functions every known caller of which runs them under a deadline.
    covered: HashSet<FuncRef>,
    /// Tool handlers: (module, index into `modules[m].tools`) by function.
    tool_of: HashMap<FuncRef, usize>,
}

impl<'k> Project<'k> {
    pub fn new(mut modules: Vec<Module>, kb: &'k Knowledge) -> Project<'k> {
        for m in &mut modules {
            add_offloaded_calls(m, kb.for_lang(m.lang()));
        }
        let mut p = Project {
            modules,
            kb,
            module_keys: HashMap::new(),
            targets: Vec::new(),
            callers: HashMap::new(),
            covered: HashSet::new(),
            tool_of: HashMap::new(),
        };
        for (i, m) in p.modules.iter().enumerate() {
            for key in module_keys(&m.path, m.lang()) {
                p.module_keys.entry(key).or_default().push(i as u32);
            }
        }
        p.targets = (0..p.modules.len() as u32)
            .map(|m| {
                (0..p.modules[m as usize].calls.len() as CallId)
                    .map(|c| p.resolve_target(m, c))
                    .collect()
            })
            .collect();
        for (m, calls) in p.targets.iter().enumerate() {
            for (c, t) in calls.iter().enumerate() {
                if let Some(t) = t {
                    p.callers.entry(*t).or_default().push(CallRef {
                        module: m as u32,
                        call: c as CallId,
                    });
                }
            }
        }
        for m in 0..p.modules.len() {
            let tools = p.find_tools(m as u32);
            for (i, t) in tools.iter().enumerate() {
                p.tool_of
                    .entry(FuncRef {
                        module: m as u32,
                        func: t.func,
                    })
                    .or_insert(i);
            }
            p.modules[m].tools = tools;
        }
        p.covered = p.compute_covered();
        p
    }

    pub fn module(&self, m: u32) -> &Module {
        &self.modules[m as usize]
    }

    pub fn lk(&self, m: u32) -> &'k LangKnowledge {
        self.kb.for_lang(self.module(m).lang())
    }

    /// The project function a call reaches, if it is one of ours.
    pub fn target(&self, c: CallRef) -> Option<FuncRef> {
        self.targets[c.module as usize][c.call as usize]
    }

    pub fn callers(&self, f: FuncRef) -> &[CallRef] {
        self.callers.get(&f).map(|v| v.as_slice()).unwrap_or(&[])
    }

    pub fn tool(&self, f: FuncRef) -> Option<&ToolEntry> {
        self.tool_of
            .get(&f)
            .map(|i| &self.module(f.module).tools[*i])
    }

    /// Every known caller of `f` runs it under a deadline.
    pub fn is_covered(&self, f: FuncRef) -> bool {
        self.covered.contains(&f)
    }

    // ------------------------------------------------------------ call targets

    fn resolve_target(&self, m: u32, id: CallId) -> Option<FuncRef> {
        let module = self.module(m);
        let c = module.call(id);
        let lang = module.lang();
        match &c.callee {
            Expr::Name(n) if lang == Lang::Rust && n.contains("::") => {
                let (head, sym) = n.rsplit_once("::")?;
                if head == "Self" || !head.contains("::") && self.class_named(m, head) {
                    let class = if head == "Self" {
                        module.class_of(c.func)?.name.clone()
                    } else {
                        head.to_string()
                    };
                    return self.method_in(m, &class, sym);
                }
                let path = c.path.as_deref().unwrap_or(n);
                self.resolve_rust_path(m, path)
            }
            Expr::Name(n) => {
                if module.is_param(c.func, n) {
                    return None;
                }
                let bound = module.bindings_of(c.func, n);
                if !bound.is_empty() {
                    return bound.iter().find_map(|b| match b.value {
                        Expr::Func(f) => Some(FuncRef { module: m, func: f }),
                        _ => None,
                    });
                }
                if let Some(f) = self.local_function(m, c.func, n) {
                    return Some(f);
                }
                let imp = module.import(n)?;
                self.resolve_import(m, &imp.path)
            }
            Expr::Attr(obj, meth) => match obj.as_ref() {
                Expr::Name(s) if matches!(s.as_str(), "self" | "this" | "cls") => {
                    let class = module.class_of(c.func)?.name.clone();
                    self.method_in(m, &class, meth)
                }
                _ => {
                    if let Some((cm, class)) =
                        self.instance_class(m, c.func, obj, c.span.start_byte)
                    {
                        return self.method_in(cm, &class, meth);
                    }
                    let path = c.path.as_deref()?;
                    if lang == Lang::Rust {
                        return None;
                    }
                    // `util.helper()` where `util` is an imported project module.
                    let root = obj.root_name()?;
                    module.import(root)?;
                    self.resolve_import(m, path)
                }
            },
            _ => None,
        }
    }

    /// The project class `obj` is an instance of, when it is bound to a
    /// constructor call in this module (`api = Api(..)`, `this.crm = new
    /// Crm()`): the module that defines the class, and its name. Done on the
    /// facts directly: it runs while call targets are still being resolved.
    fn instance_class(
        &self,
        m: u32,
        func: Option<FuncId>,
        obj: &Expr,
        pos: u32,
    ) -> Option<(u32, String)> {
        let module = self.module(m);
        let values: Vec<&Expr> = match obj {
            Expr::Name(n) if !module.is_param(func, n) => module
                .bindings_at(func, n, pos)
                .into_iter()
                .map(|b| &b.value)
                .collect(),
            Expr::Attr(o, field) if matches!(o.as_ref(), Expr::Name(s) if s == "self" || s == "this") =>
            {
                let class = module.class_of(func)?;
                module
                    .class_bindings(&class.name, field)
                    .into_iter()
                    .map(|b| &b.value)
                    .collect()
            }
            _ => return None,
        };
        let mut found: Option<(u32, String)> = None;
        for v in values {
            let Expr::Call(k) = v else { return None };
            let Expr::Name(cls) = &module.call(*k).callee else {
                return None;
            };
            let at = if self.class_named(m, cls) {
                (m, cls.clone())
            } else {
                let imp = module.import(cls)?;
                let (module_part, sym) = imp.path.rsplit_once('.')?;
                let keys = import_keys(module.lang(), &module.path, module_part)?;
                let om = keys
                    .iter()
                    .filter_map(|k| self.module_keys.get(k))
                    .flatten()
                    .copied()
                    .find(|&om| self.class_named(om, sym))?;
                (om, sym.to_string())
            };
            match &found {
                Some(f) if *f != at => return None,
                _ => found = Some(at),
            }
        }
        found
    }

    fn class_named(&self, m: u32, name: &str) -> bool {
        self.module(m).classes.iter().any(|c| c.name == name)
    }

    /// A function visible by name from `func` in module `m`: nested in an
    /// enclosing function, or at module level.
    fn local_function(&self, m: u32, func: Option<FuncId>, name: &str) -> Option<FuncRef> {
        let module = self.module(m);
        let scopes: Vec<Option<FuncId>> = module
            .func_chain(func)
            .map(Some)
            .chain(std::iter::once(None))
            .collect();
        for scope in scopes {
            if let Some(i) = module.functions.iter().position(|f| {
                f.name == name
                    && f.parent == scope
                    && f.class.is_none()
                    && f.kind != FuncKind::Lambda
            }) {
                return Some(FuncRef {
                    module: m,
                    func: i as FuncId,
                });
            }
        }
        None
    }

    fn method_in(&self, m: u32, class: &str, name: &str) -> Option<FuncRef> {
        let module = self.module(m);
        module
            .functions
            .iter()
            .position(|f| {
                f.name == name
                    && f.class
                        .is_some_and(|c| module.classes[c as usize].name == class)
            })
            .map(|i| FuncRef {
                module: m,
                func: i as FuncId,
            })
    }

    /// A module-level function named `sym` in module `m` (a `def`/`fn`, or a
    /// name bound to a lambda).
    fn top_level(&self, m: u32, sym: &str) -> Option<FuncRef> {
        let module = self.module(m);
        if let Some(i) = module
            .functions
            .iter()
            .position(|f| f.name == sym && f.parent.is_none() && f.class.is_none())
        {
            return Some(FuncRef {
                module: m,
                func: i as FuncId,
            });
        }
        module
            .bindings
            .iter()
            .filter(|b| b.name == sym && b.scope == BindScope::Module)
            .find_map(|b| match b.value {
                Expr::Func(f) => Some(FuncRef { module: m, func: f }),
                _ => None,
            })
    }

    /// Resolves an import path (`.util.helper`, `pkg.util.helper`,
    /// `./util.js.helper`) to a project function.
    fn resolve_import(&self, from: u32, path: &str) -> Option<FuncRef> {
        let lang = self.module(from).lang();
        let (module_part, sym) = path.rsplit_once('.')?;
        let from_path = &self.module(from).path;
        let keys = import_keys(lang, from_path, module_part)?;
        for key in keys {
            if let Some(ms) = self.module_keys.get(&key) {
                for &m in ms {
                    if m != from || lang == Lang::Python {
                        if let Some(f) = self.top_level(m, sym) {
                            return Some(f);
                        }
                    }
                }
            }
        }
        None
    }

    /// The last module-level binding named by an import path, in another
    /// project module.
    fn imported_binding(&self, from: u32, path: &str) -> Option<(u32, usize)> {
        let lang = self.module(from).lang();
        let (module_part, sym) = path.rsplit_once('.')?;
        let from_path = &self.module(from).path;
        let keys = import_keys(lang, from_path, module_part)?;
        keys.iter()
            .filter_map(|k| self.module_keys.get(k))
            .flatten()
            .filter(|&&m| m != from)
            .find_map(|&m| {
                self.module(m)
                    .bindings
                    .iter()
                    .rposition(|b| b.name == sym && b.scope == BindScope::Module)
                    .map(|b| (m, b))
            })
    }

    fn resolve_rust_path(&self, from: u32, path: &str) -> Option<FuncRef> {
        let (crate_root, own) = rust_module_path(&self.module(from).path);
        let (head, sym) = path.rsplit_once("::")?;
        let mut candidates = Vec::new();
        if let Some(rest) = head.strip_prefix("crate") {
            candidates.push(format!("crate{rest}"));
        } else if head == "self" || head.starts_with("self::") {
            candidates.push(format!("{own}{}", &head[4..]));
        } else if head == "super" || head.starts_with("super::") {
            let parent = own.rsplit_once("::").map(|(p, _)| p).unwrap_or("crate");
            candidates.push(format!("{parent}{}", &head[5..]));
        } else {
            candidates.push(format!("{own}::{head}"));
            candidates.push(format!("crate::{head}"));
        }
        for cand in candidates {
            let key = format!("rs:{crate_root}#{cand}");
            if let Some(ms) = self.module_keys.get(&key) {
                for &m in ms {
                    if let Some(f) = self.top_level(m, sym) {
                        return Some(f);
                    }
                }
            }
        }
        None
    }

    // ------------------------------------------------------------ tracing

    /// Where the value of `e` (written in function `func` of module `m`) may
    /// come from.
    /// `pos` is the byte offset of the use, so that a later re-binding of
    /// the same name does not count (`u32::MAX` when it does not matter).
    pub fn trace(&self, m: u32, func: Option<FuncId>, e: &Expr, pos: u32) -> Vec<Origin> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        self.trace_into(m, func, e, pos, TRACE_DEPTH, &mut out, &mut seen);
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn trace_into(
        &self,
        m: u32,
        func: Option<FuncId>,
        e: &Expr,
        pos: u32,
        depth: u8,
        out: &mut Vec<Origin>,
        seen: &mut HashSet<(u32, Option<FuncId>, String)>,
    ) {
        if depth == 0 {
            out.push(Origin::Unknown);
            return;
        }
        let module = self.module(m);
        let lk = self.lk(m);
        match e {
            Expr::Call(id) => {
                let c = module.call(*id);
                if let (Some(meth), Some(recv)) = (&c.method, &c.receiver) {
                    if lk.transparent_methods.iter().any(|t| t == meth) {
                        return self.trace_into(
                            m,
                            c.func,
                            recv,
                            c.span.start_byte,
                            depth - 1,
                            out,
                            seen,
                        );
                    }
                }
                if let Some(p) = &c.path {
                    if any_matches(&lk.transparent_functions, p)
                        || lk
                            .transparent_functions
                            .iter()
                            .any(|t| p.ends_with(&format!("::{t}")))
                    {
                        if let Some(Expr::Func(f)) = c.positional(0) {
                            // `Lazy::new(|| Client::builder()..build())`
                            let f = FuncRef {
                                module: m,
                                func: *f,
                            };
                            for (fm, ff, v) in self.returns_of(f) {
                                self.trace_into(fm, Some(ff), &v, u32::MAX, depth - 1, out, seen);
                            }
                            return;
                        }
                        if let Some(a) = c.positional(0) {
                            return self.trace_into(
                                m,
                                c.func,
                                a,
                                c.span.start_byte,
                                depth - 1,
                                out,
                                seen,
                            );
                        }
                    }
                }
                let cref = CallRef {
                    module: m,
                    call: *id,
                };
                if let Some(t) = self.target(cref) {
                    let before = out.len();
                    for (fm, ff, v) in self.returns_of(t) {
                        self.trace_into(fm, Some(ff), &v, u32::MAX, depth - 1, out, seen);
                    }
                    if out.len() > before {
                        return;
                    }
                    out.push(Origin::Unknown);
                    return;
                }
                out.push(Origin::Call(cref));
            }
            Expr::Name(n) => {
                if !seen.insert((m, func, n.clone())) {
                    return;
                }
                if module.is_param(func, n) {
                    out.push(Origin::Unknown);
                    return;
                }
                let bs = module.bindings_at(func, n, pos);
                if bs.is_empty() {
                    // `from .clients import http` / `import { api } from "./client"`:
                    // a module-level binding of another project module.
                    if let Some((om, b)) = module
                        .import(n)
                        .and_then(|i| self.imported_binding(m, &i.path))
                    {
                        let b = self.module(om).bindings[b].clone();
                        self.trace_into(
                            om,
                            b.func,
                            &b.value,
                            b.span.start_byte,
                            depth - 1,
                            out,
                            seen,
                        );
                        return;
                    }
                    out.push(Origin::Unknown);
                    return;
                }
                self.trace_bindings(m, bs, depth, out, seen);
            }
            Expr::Attr(obj, field) => {
                if let Expr::Name(s) = obj.as_ref() {
                    if matches!(s.as_str(), "self" | "this") {
                        let Some(class) = module.class_of(func) else {
                            out.push(Origin::Unknown);
                            return;
                        };
                        if !seen.insert((m, None, format!("{}.{field}", class.name))) {
                            return;
                        }
                        let bs = module.class_bindings(&class.name, field);
                        if bs.is_empty() {
                            out.push(Origin::Unknown);
                        }
                        self.trace_bindings(m, bs, depth, out, seen);
                        return;
                    }
                }
                match e.dotted() {
                    Some(d) if !module.bindings_of(func, &d).is_empty() => {
                        if !seen.insert((m, func, d.clone())) {
                            return;
                        }
                        self.trace_bindings(m, module.bindings_at(func, &d, pos), depth, out, seen);
                    }
                    _ => out.push(Origin::Unknown),
                }
            }
            Expr::Conditional {
                then, otherwise, ..
            } => {
                self.trace_into(m, func, then, pos, depth - 1, out, seen);
                self.trace_into(m, func, otherwise, pos, depth - 1, out, seen);
            }
            other => out.push(Origin::Lit(m, func, other.clone())),
        }
    }

    /// Traces the value of each binding, in the function it is written in.
    fn trace_bindings<'a>(
        &self,
        m: u32,
        bs: impl IntoIterator<Item = &'a crate::facts::Binding>,
        depth: u8,
        out: &mut Vec<Origin>,
        seen: &mut HashSet<(u32, Option<FuncId>, String)>,
    ) {
        for b in bs {
            self.trace_into(m, b.func, &b.value, b.span.start_byte, depth - 1, out, seen);
        }
    }

    /// The values function `f` returns: `return` values, a Rust tail
    /// expression, a lambda's expression body.
    pub fn returns_of(&self, f: FuncRef) -> Vec<(u32, FuncId, Expr)> {
        let module = self.module(f.module);
        let mut out: Vec<(u32, FuncId, Expr)> = module
            .exits
            .iter()
            .filter(|x| {
                x.func == Some(f.func) && matches!(x.kind, ExitKind::Return | ExitKind::Tail)
            })
            .filter_map(|x| x.value.clone().map(|v| (f.module, f.func, v)))
            .collect();
        if let Some(e) = &module.func(f.func).expr_body {
            out.push((f.module, f.func, e.clone()));
        }
        out
    }

    /// Traces the receiver of method call `c` back to the constructor of a
    /// known client. `None` when any path leads somewhere we cannot see.
    pub fn client_origins(&self, c: CallRef) -> Option<Vec<ClientOrigin>> {
        let module = self.module(c.module);
        let call = module.call(c.call);
        let recv = call.receiver.as_ref()?;
        let mut out = Vec::new();
        self.origins_of(
            c.module,
            call.func,
            recv,
            call.span.start_byte,
            Vec::new(),
            TRACE_DEPTH,
            &mut out,
        )?;
        if out.is_empty() {
            None
        } else {
            Some(out)
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn origins_of(
        &self,
        m: u32,
        func: Option<FuncId>,
        e: &Expr,
        pos: u32,
        chain: Vec<CallRef>,
        depth: u8,
        out: &mut Vec<ClientOrigin>,
    ) -> Option<()> {
        if depth == 0 {
            return None;
        }
        let lk = self.lk(m);
        // `client.chat.completions`: a resource object of the client, not a
        // value bound anywhere: the client is what its root leads to.
        if let Expr::Attr(inner, _) = e {
            let self_field = matches!(inner.as_ref(), Expr::Name(s) if s == "self" || s == "this");
            let bound = e
                .dotted()
                .is_some_and(|d| !self.module(m).bindings_of(func, &d).is_empty());
            if !self_field && !bound {
                let before = out.len();
                self.origins_of(m, func, inner, pos, chain, depth - 1, out)?;
                for o in &mut out[before..] {
                    o.via_attr = true;
                }
                return Some(());
            }
        }
        for o in self.trace(m, func, e, pos) {
            match o {
                Origin::Call(cr) => {
                    let cm = self.module(cr.module);
                    let call = cm.call(cr.call);
                    let is_ctor = call.path.as_deref().is_some_and(|p| {
                        lk.clients.iter().any(|cl| any_matches(&cl.constructors, p))
                    });
                    if is_ctor {
                        out.push(ClientOrigin {
                            ctor: cr,
                            chain: chain.clone(),
                            via_attr: false,
                        });
                        continue;
                    }
                    // A method on something else: a builder step or a
                    // derived object (`pool.acquire()`); keep walking.
                    let recv = call.receiver.as_ref()?;
                    if call.method.is_none() || call.path.is_some() && cm.lang() != Lang::Rust {
                        return None;
                    }
                    // Past a request method (`client.get(u).send()…json()`),
                    // the value is a request or a response, not the client.
                    let meth = call.method.as_deref().unwrap_or("");
                    if lk
                        .clients
                        .iter()
                        .any(|cl| cl.methods.iter().any(|m| m == meth))
                    {
                        return None;
                    }
                    let mut next = chain.clone();
                    next.push(cr);
                    self.origins_of(
                        cr.module,
                        call.func,
                        recv,
                        call.span.start_byte,
                        next,
                        depth - 1,
                        out,
                    )?;
                }
                Origin::Lit(_, _, Expr::Null) => {}
                _ => return None,
            }
        }
        Some(())
    }

    // ------------------------------------------------------------ deadlines

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
    fn deadline_call(&self, m: u32, id: CallId, arg: Option<u32>) -> Option<String> {
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

    fn race_has_timer(&self, m: u32, race: CallId) -> bool {
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

    fn compute_covered(&self) -> HashSet<FuncRef> {
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

    // ------------------------------------------------------------ tools

    /// Tool handlers whose execution can reach code in `func` of module `m`,
    /// through enclosing functions and known callers.
    pub fn tools_reaching(&self, m: u32, func: Option<FuncId>) -> Vec<FuncRef> {
        let Some(start) = func else { return Vec::new() };
        let mut seen: HashSet<FuncRef> = HashSet::new();
        let mut queue: VecDeque<FuncRef> = VecDeque::new();
        let mut found: BTreeSet<FuncRef> = BTreeSet::new();
        queue.push_back(FuncRef {
            module: m,
            func: start,
        });
        while let Some(f) = queue.pop_front() {
            if !seen.insert(f) || seen.len() > REACH_LIMIT {
                continue;
            }
            if self.tool(f).is_some() {
                found.insert(f);
            }
            if let Some(p) = self.module(f.module).func(f.func).parent {
                queue.push_back(FuncRef {
                    module: f.module,
                    func: p,
                });
            }
            for s in self.callers(f) {
                if let Some(g) = self.module(s.module).call(s.call).func {
                    queue.push_back(FuncRef {
                        module: s.module,
                        func: g,
                    });
                }
            }
        }
        found.into_iter().collect()
    }

    fn find_tools(&self, m: u32) -> Vec<ToolEntry> {
        let module = self.module(m);
        let lk = self.lk(m);
        let mut out: Vec<ToolEntry> = Vec::new();
        for entry in &lk.entries {
            match entry.kind.as_str() {
                "decorator" | "attribute" => {
                    for (fi, f) in module.functions.iter().enumerate() {
                        for d in &f.decorators {
                            let (meth, call) = match &d.expr {
                                Expr::Attr(_, meth) if entry.kind == "decorator" => {
                                    (meth.as_str(), None)
                                }
                                Expr::Call(id) => {
                                    let c = module.call(*id);
                                    let n = match (entry.kind.as_str(), &c.callee) {
                                        ("decorator", Expr::Attr(_, meth)) => meth.as_str(),
                                        ("attribute", Expr::Name(n)) => last_path_segment(n),
                                        _ => continue,
                                    };
                                    (n, Some(c))
                                }
                                Expr::Name(n) if entry.kind == "attribute" => {
                                    (last_path_segment(n), None)
                                }
                                _ => continue,
                            };
                            if meth != entry.method {
                                continue;
                            }
                            if entry.kind == "attribute" && f.class.is_none() {
                                continue;
                            }
                            let name = call
                                .and_then(|c| {
                                    entry
                                        .name_key
                                        .as_deref()
                                        .and_then(|k| c.kwarg(k))
                                        .or_else(|| c.positional(0))
                                        .or_else(|| c.kwarg("name"))
                                })
                                .and_then(str_value)
                                .or_else(|| (!entry.dispatcher).then(|| f.name.clone()));
                            out.push(ToolEntry {
                                func: fi as FuncId,
                                name,
                                span: head_span(f.span),
                                dispatcher: entry.dispatcher,
                            });
                        }
                    }
                }
                "trait_method" => {
                    for (fi, f) in module.functions.iter().enumerate() {
                        let Some(ci) = f.class else { continue };
                        let class = &module.classes[ci as usize];
                        let trait_ok = match (&entry.r#trait, &class.trait_name) {
                            (Some(t), Some(have)) => last_path_segment(have) == t,
                            (None, _) => true,
                            _ => false,
                        };
                        if trait_ok && f.name == entry.method {
                            out.push(ToolEntry {
                                func: fi as FuncId,
                                name: None,
                                span: head_span(f.span),
                                dispatcher: entry.dispatcher,
                            });
                        }
                    }
                }
                "register" => {
                    for (ci, c) in module.calls.iter().enumerate() {
                        if c.method.as_deref() != Some(entry.method.as_str()) {
                            continue;
                        }
                        if let Some(first) = &entry.first_arg {
                            let ok = c
                                .positional(0)
                                .and_then(|a| a.dotted())
                                .is_some_and(|d| last_path_segment(&d) == first);
                            if !ok {
                                continue;
                            }
                        }
                        if entry.name_first && c.positional(0).and_then(str_value).is_none() {
                            continue;
                        }
                        let handler = if let Some(key) = &entry.handler_key {
                            c.positional(0).and_then(|a| match a {
                                Expr::Object(o) => o.get(key).cloned(),
                                _ => None,
                            })
                        } else {
                            let n = c.args.len() as i32;
                            entry
                                .handler_arg
                                .map(|i| if i < 0 { n + i } else { i })
                                .filter(|i| *i >= 0 && *i < n)
                                .map(|i| c.args[i as usize].value.clone())
                        };
                        let Some(handler) = handler else { continue };
                        let func = match handler {
                            Expr::Func(f) => Some(FuncRef { module: m, func: f }),
                            Expr::Name(_) | Expr::Attr(..) => self
                                .trace(m, c.func, &handler, c.span.start_byte)
                                .into_iter()
                                .find_map(|o| match o {
                                    Origin::Lit(om, _, Expr::Func(f)) => Some(FuncRef { module: om, func: f }),
                                    _ => None,
                                })
                                .or_else(|| match &handler {
                                    Expr::Name(n) => self.local_function(m, c.func, n),
                                    Expr::Attr(o, meth) if matches!(o.as_ref(), Expr::Name(s) if s == "this" || s == "self") => {
                                        module.class_of(c.func).and_then(|cl| self.method_in(m, &cl.name, meth))
                                    }
                                    _ => None,
                                }),
                            _ => None,
                        };
                        let Some(func) = func.filter(|f| f.module == m) else {
                            continue;
                        };
                        let name = match &entry.name_key {
                            Some(k) => c
                                .positional(0)
                                .and_then(|a| match a {
                                    Expr::Object(o) => o.get(k).and_then(str_value),
                                    _ => None,
                                })
                                .or_else(|| c.kwarg(k).and_then(str_value)),
                            None => c.positional(0).and_then(str_value),
                        };
                        let _ = ci;
                        out.push(ToolEntry {
                            func: func.func,
                            name,
                            span: c.span,
                            dispatcher: entry.dispatcher,
                        });
                    }
                }
                _ => {}
            }
        }
        out.sort_by_key(|t| (t.span, t.func));
        out.dedup_by_key(|t| t.func);
        out
    }
}

/// Adds a call for each function handed to an offloading call
/// (`asyncio.to_thread(requests.get, url, timeout=5)` → `requests.get(url,
/// timeout=5)`), so that rules judge what actually runs.
fn add_offloaded_calls(m: &mut Module, lk: &LangKnowledge) {
    if lk.offload.is_empty() {
        return;
    }
    let mut extra = Vec::new();
    for (id, c) in m.calls.iter().enumerate() {
        let Some(o) = lk.offload.iter().find(|o| {
            c.path.as_deref().is_some_and(|p| any_matches(&o.callee, p))
                || o.method.is_some() && c.method == o.method
        }) else {
            continue;
        };
        // The function argument, by position among the non-keyword arguments.
        let Some(pos) = c
            .args
            .iter()
            .enumerate()
            .filter(|(_, a)| a.name.is_none())
            .nth(o.func_arg)
            .map(|(i, _)| i)
        else {
            continue;
        };
        let f = &c.args[pos].value;
        if !matches!(f, Expr::Name(_) | Expr::Attr(..)) {
            continue;
        }
        let mut call = c.clone();
        call.callee = f.clone();
        call.method = None;
        call.receiver = None;
        if let Expr::Attr(recv, meth) = f {
            call.method = Some(meth.clone());
            call.receiver = Some((**recv).clone());
        }
        call.args = c.args[pos + 1..].to_vec();
        call.ctx.push(Ctx::Arg {
            call: id as CallId,
            index: pos as u32,
        });
        call.via = Some(id as CallId);
        call.is_new = false;
        extra.push(call);
    }
    if !extra.is_empty() {
        m.calls.extend(extra);
        m.finish();
    }
}

fn str_value(e: &Expr) -> Option<String> {
    match e {
        Expr::Str(s) => Some(s.clone()),
        _ => None,
    }
}

fn last_path_segment(s: &str) -> &str {
    s.rsplit("::")
        .next()
        .unwrap_or(s)
        .rsplit('.')
        .next()
        .unwrap_or(s)
}

/// The first line of a span (a definition's head, for pointing at `def`).
pub fn head_span(s: Span) -> Span {
    Span {
        end_byte: s.start_byte,
        end_line: s.start_line,
        end_col: s.start_col,
        ..s
    }
}

// ---------------------------------------------------------------- module keys

/// Keys a module is imported by. Python: every dotted suffix of its path
/// (`src/pkg/util.py` → `py:src.pkg.util`, `py:pkg.util`, `py:util`) plus its
/// file path; TS: its path without extension; Rust: `rs:<crate root>#crate::a::b`.
fn module_keys(path: &str, lang: Lang) -> Vec<String> {
    match lang {
        Lang::Python => {
            let stem = path.strip_suffix(".py").unwrap_or(path);
            let stem = stem.strip_suffix("/__init__").unwrap_or(stem);
            let stem = stem.trim_start_matches("./");
            let parts: Vec<&str> = stem.split('/').filter(|s| !s.is_empty()).collect();
            let mut keys: Vec<String> = (0..parts.len())
                .map(|i| format!("py:{}", parts[i..].join(".")))
                .collect();
            keys.push(format!("pyfile:{}", parts.join("/")));
            keys
        }
        Lang::TypeScript | Lang::JavaScript => {
            let p = normalize(path);
            let stem = strip_js_ext(&p);
            let mut keys = vec![format!("ts:{stem}")];
            if let Some(dir) = stem.strip_suffix("/index") {
                keys.push(format!("ts:{dir}"));
            }
            keys
        }
        Lang::Rust => {
            let (root, module) = rust_module_path(path);
            vec![format!("rs:{root}#{module}")]
        }
    }
}

/// The module keys an import of `module_part` written in file `from` may
/// name (`None` for Rust, whose paths resolve by the module tree instead).
fn import_keys(lang: Lang, from: &str, module_part: &str) -> Option<Vec<String>> {
    match lang {
        Lang::Python => Some(python_import_keys(from, module_part)),
        Lang::TypeScript | Lang::JavaScript => Some(ts_import_keys(from, module_part)),
        Lang::Rust => None,
    }
}

fn python_import_keys(from: &str, module_part: &str) -> Vec<String> {
    if module_part.starts_with('.') {
        let dots = module_part.chars().take_while(|c| *c == '.').count();
        let rest = &module_part[dots..];
        let mut dir: Vec<&str> = normalize_ref(from).split('/').collect();
        dir.pop();
        for _ in 1..dots {
            dir.pop();
        }
        let mut parts: Vec<String> = dir.iter().map(|s| s.to_string()).collect();
        parts.extend(
            rest.split('.')
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
        vec![format!("pyfile:{}", parts.join("/"))]
    } else {
        vec![format!("py:{module_part}")]
    }
}

fn ts_import_keys(from: &str, spec: &str) -> Vec<String> {
    if !spec.starts_with('.') {
        return Vec::new();
    }
    let mut dir: Vec<&str> = normalize_ref(from).split('/').collect();
    dir.pop();
    let joined = if dir.is_empty() {
        spec.to_string()
    } else {
        format!("{}/{spec}", dir.join("/"))
    };
    vec![format!("ts:{}", strip_js_ext(&normalize(&joined)))]
}

fn strip_js_ext(p: &str) -> String {
    for ext in [
        ".d.ts", ".tsx", ".ts", ".mts", ".cts", ".jsx", ".js", ".mjs", ".cjs",
    ] {
        if let Some(s) = p.strip_suffix(ext) {
            return s.to_string();
        }
    }
    p.to_string()
}

fn normalize_ref(p: &str) -> &str {
    p.trim_start_matches("./")
}

/// Resolves `.` and `..` segments of a `/`-separated path.
fn normalize(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if matches!(out.last(), Some(s) if *s != "..") {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if p.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    }
}

/// (crate root directory, module path) of a Rust file: `x/src/a/b.rs` →
/// (`x/src`, `crate::a::b`); `main.rs`, `lib.rs` and `mod.rs` name their
/// directory's module.
fn rust_module_path(path: &str) -> (String, String) {
    let p = normalize(path);
    let (root, rel) = match p.rfind("src/") {
        Some(i) if i == 0 || p.as_bytes()[i - 1] == b'/' => {
            (p[..i + 3].to_string(), p[i + 4..].to_string())
        }
        _ => match p.rsplit_once('/') {
            Some((d, f)) => (d.to_string(), f.to_string()),
            None => (String::new(), p.clone()),
        },
    };
    let rel = rel.strip_suffix(".rs").unwrap_or(&rel);
    let mut segs: Vec<&str> = rel.split('/').collect();
    if matches!(segs.last(), Some(&"mod") | Some(&"main") | Some(&"lib")) {
        segs.pop();
    }
    let mut module = String::from("crate");
    for s in segs {
        module.push_str("::");
        module.push_str(s);
    }
    (root, module)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_module_keys_cover_every_suffix() {
        let k = module_keys("src/weather/http.py", Lang::Python);
        assert!(k.contains(&"py:weather.http".to_string()));
        assert!(k.contains(&"py:http".to_string()));
        assert!(k.contains(&"pyfile:src/weather/http".to_string()));
        assert_eq!(
            python_import_keys("src/weather/server.py", ".http"),
            vec!["pyfile:src/weather/http".to_string()]
        );
        assert_eq!(
            python_import_keys("src/weather/tools/a.py", "..http"),
            vec!["pyfile:src/weather/http".to_string()]
        );
    }

    #[test]
    fn ts_specifiers_resolve_relative_to_the_importer() {
        assert_eq!(
            ts_import_keys("src/tools/a.ts", "../util.js"),
            vec!["ts:src/util".to_string()]
        );
        assert!(module_keys("src/util.ts", Lang::TypeScript).contains(&"ts:src/util".to_string()));
        assert!(
            module_keys("src/lib/index.ts", Lang::TypeScript).contains(&"ts:src/lib".to_string())
        );
    }

    #[test]
    fn rust_module_paths_follow_the_file_layout() {
        assert_eq!(
            rust_module_path("x/src/main.rs"),
            ("x/src".into(), "crate".into())
        );
        assert_eq!(
            rust_module_path("x/src/http/mod.rs"),
            ("x/src".into(), "crate::http".into())
        );
        assert_eq!(
            rust_module_path("src/a/b.rs"),
            ("src".into(), "crate::a::b".into())
        );
    }
}
